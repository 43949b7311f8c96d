"""What each traded symbol is: the asset a position holds and the currency its price is in.

Sizing, P&L and the currency exposure caps need, per symbol, "one unit of what, priced in
which currency".  For a six-letter FX or metal name the name says it (EURUSD: one EUR priced
in USD; XAUUSD: one ounce of XAU in USD).  Any other name (``KO``, ``PEP``, ``#KO``,
``US500``) says nothing: its asset is the symbol itself and its price currency is what the
broker reports as ``symbol_info().currency_profit``.

Index and commodity CFDs named like FX (``SPXUSD``, ``NSXUSD``, ``BCOUSD``) keep the name rule
when the broker's profit currency agrees with letters 4-6: the asset ``SPX`` priced in
``USD``, which the ``engine.fx.CurrencyConverter`` values by the symbol's own price exactly
as it values XAU.  When the broker says another profit currency, the broker wins.

Exposure of a non-FX asset: a long position in ``KO`` is long the asset ``KO`` and short its
price currency, so the currency exposure caps count ``KO`` as its own "currency" of
exposure (docs/architecture.md, Instruments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "Instrument",
    "fx_instrument",
    "instrument_for",
    "instruments_by_name",
    "is_fx_name",
    "news_currencies",
]


@dataclass(frozen=True)
class Instrument:
    """A symbol's asset (what one unit of volume x contract size holds) and the currency
    its price and profit are in."""

    symbol: str
    asset: str
    quote: str

    @property
    def parts(self) -> tuple[str, str]:
        """(asset, quote): long the asset and short the quote currency when bought."""
        return self.asset, self.quote


def is_fx_name(symbol: str) -> bool:
    """A six-letter FX/metal name, a broker suffix allowed (``EURUSD``, ``EURUSD.a``,
    ``EURUSDm``): six capital letters not followed by a seventh."""
    core = symbol[:6]
    return (len(core) == 6 and core.isascii() and core.isalpha() and core.isupper()
            and (len(symbol) == 6 or not (symbol[6].isascii() and symbol[6].isupper())))


def fx_instrument(symbol: str) -> Instrument | None:
    """The name rule: letters 1-3 the base, 4-6 the quote (None for a non-FX name)."""
    if not is_fx_name(symbol):
        return None
    return Instrument(symbol, symbol[:3], symbol[3:6])


def instrument_for(symbol: str, currency_profit: str | None = None) -> Instrument | None:
    """The instrument of ``symbol`` given the broker's profit currency (None: not known).

    The name rule for FX-shaped names the broker does not contradict; else the symbol itself
    priced in ``currency_profit``.  None when neither says anything (a non-FX name whose
    broker was not asked yet).
    """
    by_name = fx_instrument(symbol)
    profit = (currency_profit or "").strip().upper()
    if by_name is not None and (not profit or profit == by_name.quote):
        return by_name
    if not profit:
        return None
    return Instrument(symbol, symbol, profit)


def instruments_by_name(symbols: Iterable[str]) -> dict[str, Instrument]:
    """The instruments the names alone give (FX-shaped names only)."""
    out: dict[str, Instrument] = {}
    for symbol in symbols:
        inst = fx_instrument(symbol)
        if inst is not None:
            out[symbol] = inst
    return out


def news_currencies(symbols: Iterable[str],
                    instruments: Mapping[str, Instrument]) -> frozenset[str]:
    """The calendar currencies whose releases concern these symbols.

    FX: both currencies.  A non-FX instrument (a stock or index CFD): its quote currency
    only, since US data moves US stocks and indices and no calendar lists ``KO``.  A symbol
    not in ``instruments`` contributes what its name says (nothing for a non-FX name).
    """
    out: set[str] = set()
    for symbol in symbols:
        inst = instruments.get(symbol) or fx_instrument(symbol)
        if inst is None:
            continue
        if is_fx_name(symbol) and inst.asset == symbol[:3]:
            out.update(inst.parts)
        else:
            out.add(inst.quote)
    return frozenset(out)
