"""The simulated account's money model: records, currency conversion, P&L, margin, costs.

One model serves demo, replay and backtest so that a backtest's P&L is the P&L the same
trades would have shown in demo.  Conventions (those of a typical MT5 FX broker):

- Profit is in the symbol's quote currency, ``(close - open) * volume * contract_size`` for
  a buy and the opposite for a sell; buys close at bid, sells at ask.
- Converting an amount of currency C into the account currency uses the symbol that links
  them (``CUSD`` or ``USDC`` for a USD account), else a one-hop cross through another
  currency, else the reference value table (a last resort before the linking symbol's
  first quote, counted in ``reference_conversions``).  **Side:** a positive amount
  converts at the side that gives the account less (sell C: bid of ``CUSD``, ``1/ask`` of
  ``USDC``) and a negative amount at the side that costs more (ask of ``CUSD``, ``1/bid``
  of ``USDC``), the split MT5 shows as ``trade_tick_value_profit`` and ``_loss``.
- Margin is ``volume * contract_size / leverage`` in the margin (base) currency, converted as
  a cost (the negative-amount side) when the position opens and then kept with the position;
  hedged positions are not netted against each other.  A CFD's (``SymbolSpec.priced_margin``)
  is ``volume * contract_size * margin_rate`` of its asset, i.e. that share of the notional
  at the price, whatever the account's leverage.
- Commission is charged per lot on every deal (in and out; a stock CFD's per share with a
  minimum, ``SymbolSpec``), swap at each rollover in points per lot, or for
  ``SYMBOL_SWAP_MODE_INTEREST_CURRENT`` as the annual rate (percent, 360-day year) on the
  position's notional at the price it would close at; both are in the account currency
  rounded to the cent when booked.
- Money that reaches the balance is held in integer cents, so the balance always equals the
  deposit plus the sum of the deals' profit, commission, swap and fee to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import DataError
from mt5bridge.constants import SYMBOL_SWAP_MODE_INTEREST_CURRENT
from mt5bridge.sim.symbols import REFERENCE_USD_VALUE, SymbolSpec

__all__ = [
    "CurrencyConverter",
    "Deal",
    "Order",
    "Position",
    "cents",
    "from_cents",
]


#: The "standard bank year" of MT5's interest swap modes.
DAYS_PER_SWAP_YEAR = 360.0


def cents(amount: float) -> int:
    """Round money to whole cents, halves away from zero (``round`` would go to even)."""
    return int(math.copysign(math.floor(abs(amount) * 100.0 + 0.5 + 1e-9), amount))


def from_cents(value: int) -> float:
    return value / 100.0


@dataclass(slots=True)
class Position:
    """An open position; times are UTC milliseconds (converted to server time on output)."""

    ticket: int
    identifier: int
    symbol_index: int
    symbol: str
    type: int
    volume: float
    price_open: float
    sl: float
    tp: float
    time_msc: int
    time_update_msc: int
    magic: int
    reason: int
    comment: str
    margin: float
    swap_cents: int = 0
    external_id: str = ""


@dataclass(slots=True)
class Order:
    """A pending order, or a history order once ``state`` is final.

    ``time_expiration`` is server-time seconds as the request gave it (0 = none);
    ``expires_utc_ms`` is when the simulator cancels it.
    """

    ticket: int
    symbol_index: int
    symbol: str
    type: int
    type_time: int
    type_filling: int
    state: int
    magic: int
    position_id: int
    position_by_id: int
    reason: int
    volume_initial: float
    volume_current: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    price_stoplimit: float
    comment: str
    time_setup_msc: int
    time_done_msc: int = 0
    time_expiration: int = 0
    expires_utc_ms: int | None = None
    external_id: str = ""


@dataclass(slots=True, frozen=True)
class Deal:
    """A booked deal; money in integer cents of the account currency, time UTC ms."""

    ticket: int
    order: int
    time_msc: int
    type: int
    entry: int
    magic: int
    position_id: int
    reason: int
    volume: float
    price: float
    commission_cents: int
    swap_cents: int
    profit_cents: int
    fee_cents: int
    symbol: str
    comment: str
    external_id: str = ""


@dataclass
class CurrencyConverter:
    """Converts amounts into the account currency at the terminal's current quotes.

    ``bid``/``ask``/``has_quote`` are the terminal's live quote arrays (indexed like
    ``specs``); they are read at call time, never copied.
    """

    specs: Sequence[SymbolSpec]
    account_currency: str
    bid: np.ndarray
    ask: np.ndarray
    has_quote: np.ndarray
    reference_values: Mapping[str, float] = field(default_factory=lambda: REFERENCE_USD_VALUE)
    #: How many conversions fell back to the reference table (no linking quote).
    reference_conversions: int = 0
    _direct: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, spec in enumerate(self.specs):
            # (index, True) converts base -> quote by multiplying by the price.
            self._direct.setdefault((spec.base, spec.quote), (i, True))
            self._direct.setdefault((spec.quote, spec.base), (i, False))

    def direct_link(self, src: str, dst: str) -> tuple[int, bool] | None:
        """(symbol index, True if src is the base) of the symbol quoting src against dst."""
        return self._direct.get((src, dst))

    def _rate(self, src: str, dst: str, positive: bool) -> float | None:
        link = self._direct.get((src, dst))
        if link is None:
            return None
        i, multiply = link
        if not self.has_quote[i]:
            return None
        if multiply:  # src is the base: selling src at bid, buying it at ask
            return float(self.bid[i] if positive else self.ask[i])
        return 1.0 / float(self.ask[i] if positive else self.bid[i])

    def rate(self, currency: str, positive: bool = True) -> float:
        """Account-currency value of one unit of ``currency`` (side as in the module note)."""
        target = self.account_currency
        if currency == target:
            return 1.0
        direct = self._rate(currency, target, positive)
        if direct is not None:
            return direct
        for (src, via), _ in self._direct.items():
            if src != currency:
                continue
            first = self._rate(currency, via, positive)
            second = self._rate(via, target, positive) if first is not None else None
            if first is not None and second is not None:
                return first * second
        if currency not in self.reference_values or target not in self.reference_values:
            raise DataError(f"no quote converts {currency} into {target} yet")
        self.reference_conversions += 1
        return self.reference_values[currency] / self.reference_values[target]

    def convertible(self, currency: str) -> bool:
        """Whether ``currency`` can ever be converted: by a quoted link or a reference value."""
        target = self.account_currency
        if currency == target or (currency in self.reference_values
                                  and target in self.reference_values):
            return True
        if (currency, target) in self._direct:
            return True
        return any(src == currency and (via, target) in self._direct
                   for (src, via) in self._direct)

    def to_account(self, amount: float, currency: str) -> float:
        if amount == 0.0:
            return 0.0
        return amount * self.rate(currency, positive=amount > 0)

    # -- the formulas ----------------------------------------------------------------------

    def profit(self, spec: SymbolSpec, is_buy: bool, volume: float, price_open: float,
               price_close: float) -> float:
        """P&L in the account currency (unrounded) of closing at ``price_close``."""
        move = (price_close - price_open) if is_buy else (price_open - price_close)
        return self.to_account(move * volume * spec.contract_size, spec.profit_currency)

    def margin(self, spec: SymbolSpec, volume: float, leverage: float) -> float:
        """Margin in the account currency for ``volume`` lots (a cost: the dearer side)."""
        if spec.priced_margin:
            base_units = volume * spec.contract_size * spec.margin_rate
        else:
            base_units = volume * spec.contract_size / leverage
        return -self.to_account(-base_units, spec.margin_currency)

    def swap(self, spec: SymbolSpec, is_buy: bool, volume: float, nights: int,
             price: float = math.nan) -> float:
        """Swap in the account currency for ``nights`` rollovers: points per lot, or the
        annual interest rate on the notional at ``price`` (interest mode)."""
        rate = spec.swap_long if is_buy else spec.swap_short
        if spec.swap_mode == SYMBOL_SWAP_MODE_INTEREST_CURRENT:
            amount = (price * spec.contract_size * volume * rate / 100.0 / DAYS_PER_SWAP_YEAR
                      * nights)
        else:
            amount = rate * spec.point * spec.contract_size * volume * nights
        return self.to_account(amount, spec.profit_currency)
