"""Account-currency value of every currency, from the quotes the engine already has.

Sizing and marking need "what is one unit of X worth in the account currency": for the
base of a leg (dollar exposure -> units) and for its quote currency (price move -> money).
Each currency is resolved once to the symbol that links it to the account currency,
directly (EURUSD, USDJPY) or through one intermediate (EURGBP needs GBPUSD), and valued at
the current mid.  A universe that cannot value a currency is a configuration error, found
at start rather than at the first trade.

What a symbol links is its instrument (``engine.instruments``): asset and quote currency.
An asset that is not a currency (``KO``, ``SPX``) is valued by its own symbol's price
times the value of its quote currency, as XAU is.  The converter is built from the symbol
names (the name rule covers FX and metals); non-FX names are valued once ``learn`` has the
broker's instruments (``engine.startup.load_symbols`` reads them from ``symbol_info``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.errors import ConfigError
from engine.instruments import Instrument, instruments_by_name


def split_symbol(symbol: str) -> tuple[str, str]:
    """Base and quote currency of a six-letter FX or metal symbol by its name alone (suffixes
    ignored).  Code that may see a stock or index CFD asks ``CurrencyConverter.parts``."""
    return symbol[:3], symbol[3:6]


class CurrencyConverter:
    """Values currencies and assets in the account currency from a vector of mid prices.

    ``instruments`` (symbol -> ``Instrument``) says what each symbol is; symbols missing
    from it follow the name rule, and a non-FX name missing from it is not valued until
    ``learn`` is told its instrument (asking for it before raises ``KeyError``).
    """

    def __init__(self, symbols: Sequence[str], account_currency: str = "USD",
                 instruments: Mapping[str, Instrument] | None = None) -> None:
        self.symbols = tuple(symbols)
        self.account = account_currency
        self.instruments: dict[str, Instrument] = {}
        self._routes: dict[str, list[tuple[int, int]]] = {}  # ccy -> [(symbol index, +1|-1)]
        self.learn(instruments or {})

    def learn(self, instruments: Mapping[str, Instrument]) -> None:
        """Take the broker's instruments (``engine.startup.load_symbols``) and rebuild the
        routes; a currency or asset nothing can value is a ``ConfigError`` here."""
        known = instruments_by_name(self.symbols)
        known.update({s: inst for s, inst in instruments.items() if s in self.symbols})
        self.instruments = known
        # One symbol per (asset, quote): the shortest name, the first of equals, so a cash
        # CFD (XAUUSD) values its asset and not a dated future on it (XAUUSD_H24), whose
        # price carries the basis and which stops quoting at its expiry.
        pairs: dict[tuple[str, str], int] = {}
        for i, s in enumerate(self.symbols):
            if s in known and (known[s].parts not in pairs or
                               len(s) < len(self.symbols[pairs[known[s].parts]])):
                pairs[known[s].parts] = i
        currencies = {c for inst in known.values() for c in inst.parts} | {self.account}
        self._routes = {}
        for ccy in sorted(currencies):
            route = self._route(ccy, pairs)
            if route is None:
                raise ConfigError("symbols", ccy, f"no quoted symbol converts {ccy} to "
                                  f"{self.account}; add e.g. {ccy}{self.account}")
            self._routes[ccy] = route

    def _route(self, ccy: str, pairs: dict[tuple[str, str], int]) -> list[tuple[int, int]] | None:
        target = self.account
        if ccy == target:
            return []
        if (ccy, target) in pairs:
            return [(pairs[(ccy, target)], 1)]
        if (target, ccy) in pairs:
            return [(pairs[(target, ccy)], -1)]
        for hop in sorted({c for pair in pairs for c in pair}):
            if hop in (ccy, target):
                continue
            first = (pairs.get((ccy, hop)), 1) if (ccy, hop) in pairs else (
                (pairs.get((hop, ccy)), -1) if (hop, ccy) in pairs else None)
            if first is None:
                continue
            rest = self._direct(hop, pairs)
            if rest is not None:
                return [first, *rest]  # type: ignore[list-item]
        return None

    def _direct(self, ccy: str, pairs: dict[tuple[str, str], int]) -> list[tuple[int, int]] | None:
        if (ccy, self.account) in pairs:
            return [(pairs[(ccy, self.account)], 1)]
        if (self.account, ccy) in pairs:
            return [(pairs[(self.account, ccy)], -1)]
        return None

    def parts(self, symbol: str) -> tuple[str, str]:
        """(asset, quote currency) of a symbol (``KeyError``: not known yet)."""
        return self.instruments[symbol].parts

    def value(self, ccy: str, mids: np.ndarray) -> float:
        """Account-currency value of one unit of ``ccy`` at the given mids (NaN if unquoted)."""
        out = 1.0
        for idx, sign in self._routes[ccy]:
            px = float(mids[idx])
            out *= px if sign > 0 else 1.0 / px
        return out

    def booked_value(self, ccy: str, bids: np.ndarray, asks: np.ndarray, gain: bool) -> float:
        """The account-currency value of one unit of ``ccy`` at which MetaTrader books an
        amount of it (a closing deal's profit): along ``value``'s route, each conversion
        quote's side that gives the account less, the bid for a gain and the ask for a loss
        (``mt5bridge.sim.account``'s rule; NaN if unquoted)."""
        out = 1.0
        for idx, sign in self._routes[ccy]:
            if sign > 0:  # ccy is the symbol's asset: sold at the bid, bought at the ask
                out *= float(bids[idx] if gain else asks[idx])
            else:
                out *= 1.0 / float(asks[idx] if gain else bids[idx])
        return out

    def value_rows(self, ccy: str, mids: np.ndarray) -> np.ndarray:
        """``value`` at each row of ``mids`` (rows: minutes), operation for operation."""
        out = np.ones(len(mids))
        for idx, sign in self._routes[ccy]:
            px = mids[:, idx]
            out = out * px if sign > 0 else out * (1.0 / px)
        return out
