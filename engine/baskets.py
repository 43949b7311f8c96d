"""Open baskets: their legs at the broker, their P&L at current quotes, and the exit rules.

The exit rules are those of docs/architecture.md (Exit codes), checked in the table's order
(first match wins): MR, OS, TP, HS, TS, TO.  MR/OS/TS/TO use the TDI at the close of a bar
of the cluster's signal timeframe (M30 by default); on M1 closes MR/OS use the provisional
TDI (current prices, the last signal bar's statistics) and TP/HS use the marked P&L.
NEWS, MANUAL and RISK exits come from the clock, the trader and the risk manager.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.cluster import Direction
from engine.fx import CurrencyConverter, split_symbol
from engine.instruments import Instrument
from engine.model import ExitCode
from engine.space import gross_notional, net_numeraire_exposure


@dataclass
class Leg:
    symbol: str
    #: Signed lots: positive bought, negative sold.
    lots: float
    contract_size: float
    position: int = 0
    open_price: float = 0.0
    commission: float = 0.0
    swap: float = 0.0
    closed: bool = False
    realised: float = 0.0
    #: MT5 ``DEAL_REASON_*`` of the closing deal when the broker closed it (restart only).
    close_reason: int = 0

    @property
    def volume(self) -> float:
        return abs(self.lots)


@dataclass
class Basket:
    basket_id: str
    cluster: str
    direction: Direction
    opened_at: datetime
    entry_tdi: float
    risk_budget: float
    take_profit: float
    entry_bar: int
    legs: list[Leg] = field(default_factory=list)
    magic: int = 0
    #: The basket's own time stop in signal bars, when its kind sets one at entry (a pair's
    #: multiple of the half-life, ``SignalModel.time_stop_bars``); None: the cluster's.  A
    #: restart reads it back from the journal (``BasketOpen.time_stop_bars``).
    time_stop_bars: int | None = None

    def unrealised(self, market_index: dict[str, int], bid: np.ndarray, ask: np.ndarray,
                   fx: CurrencyConverter) -> float:
        """Price P&L of the open legs at the price a close would get (bid/ask)."""
        mids = 0.5 * (bid + ask)
        total = 0.0
        for leg in self.legs:
            if leg.closed:
                continue
            i = market_index[leg.symbol]
            exit_px = bid[i] if leg.lots > 0 else ask[i]
            quote_value = fx.value(fx.parts(leg.symbol)[1], mids)
            total += leg.lots * leg.contract_size * (exit_px - leg.open_price) * quote_value
        return total

    def unrealised_rows(self, market_index: dict[str, int], bids: np.ndarray, asks: np.ndarray,
                        fx: CurrencyConverter) -> np.ndarray:
        """``unrealised`` at each row of quotes (rows: minutes), operation for operation:
        the same numbers, for the minutes a backtest looks ahead at (``engine.held_minutes``)."""
        mids = 0.5 * (bids + asks)
        total = np.zeros(len(bids))
        for leg in self.legs:
            if leg.closed:
                continue
            i = market_index[leg.symbol]
            exit_px = bids[:, i] if leg.lots > 0 else asks[:, i]
            quote_value = fx.value_rows(fx.parts(leg.symbol)[1], mids)
            total = total + leg.lots * leg.contract_size * (exit_px - leg.open_price) * quote_value
        return total

    def currency_exposure(self, market_index: dict[str, int], mids: np.ndarray,
                          fx: CurrencyConverter) -> dict[str, float]:
        """Signed account-currency exposure per currency of the open legs, valued now."""
        out: dict[str, float] = {}
        for leg in self.open_legs:
            add_exposure(out, leg.symbol, leg.lots * leg.contract_size,
                         fx.value(fx.parts(leg.symbol)[0], mids), fx.instruments.get(leg.symbol))
        return out

    def numeraire_balance(self, numeraire: str, market_index: dict[str, int],
                          mids: np.ndarray, fx: CurrencyConverter) -> tuple[float, float]:
        """(net exposure to ``numeraire``, gross base notional) of the open legs valued now,
        in the account currency (NaN, NaN without a numeraire or open legs)."""
        notionals: dict[str, float] = {}
        for leg in self.open_legs:
            value = fx.value(fx.parts(leg.symbol)[0], mids)
            notionals[leg.symbol] = notionals.get(leg.symbol, 0.0) + (
                leg.lots * leg.contract_size * value)
        if not numeraire or not notionals:
            return math.nan, math.nan
        return net_numeraire_exposure(notionals, numeraire), gross_notional(notionals)

    def costs(self) -> float:
        """Commissions and swaps booked so far, plus the exit commission still to pay."""
        paid = sum(leg.commission + leg.swap for leg in self.legs)
        exit_commission = sum(leg.commission for leg in self.legs if not leg.closed)
        return paid + exit_commission

    def net_pnl(self, market_index: dict[str, int], bid: np.ndarray, ask: np.ndarray,
                fx: CurrencyConverter) -> float:
        realised = sum(leg.realised for leg in self.legs if leg.closed)
        return realised + self.unrealised(market_index, bid, ask, fx) + self.costs()

    def bars_open(self, cluster_bars: int) -> int:
        return cluster_bars - self.entry_bar

    @property
    def open_legs(self) -> list[Leg]:
        return [leg for leg in self.legs if not leg.closed]


def add_exposure(out: dict[str, float], symbol: str, units: float, usd_per_base: float,
                 instrument: Instrument | None = None) -> None:
    """A position of ``units`` of the base is long the base and short the quote currency.

    The base of a stock or index CFD is the asset itself (``KO``): the caps count it as its
    own currency of exposure (``engine.instruments``).  Without ``instrument``, the name.
    """
    base, quote = instrument.parts if instrument is not None else split_symbol(symbol)
    value = units * usd_per_base
    out[base] = out.get(base, 0.0) + value
    out[quote] = out.get(quote, 0.0) - value


def mean_reversion_exit(direction: Direction, tdi: float, band: float,
                        overshoot_level: float | None = None) -> ExitCode | None:
    """MR when the TDI is back inside the band X; OS when it went through to the other side.

    ``overshoot_level`` is the far-side level OS is keyed to (``ClusterSpec.overshoot``):
    the entry threshold E (the paper: "TDI crosses ... E") or the band X (None: X).  A LONG
    basket overshoots at TDI >= +level, a SHORT one at TDI <= -level.  MR is checked first,
    so with level E a TDI between X and E on the far side keeps the basket open.
    """
    if math.isnan(tdi):
        return None
    if abs(tdi) < band:
        return ExitCode.MR
    level = band if overshoot_level is None else overshoot_level
    if direction is Direction.LONG and tdi >= level:
        return ExitCode.OS
    if direction is Direction.SHORT and tdi <= -level:
        return ExitCode.OS
    return None


def m30_exit(basket: Basket, tdi: float, band: float, tdi_stop: float, time_stop_bars: int,
             cluster_bars: int, pnl: float, *,
             overshoot_level: float | None = None, hard_stop: bool = True) -> ExitCode | None:
    """Exit at a signal-bar close (M30 by default): MR, OS, TP, HS, TS, TO in the table's
    order.  TS fires when the TDI reached ``tdi_stop`` against the position (``>=``, as in
    the paper); TO when the basket has been open ``time_stop_bars`` signal bars."""
    code = mean_reversion_exit(basket.direction, tdi, band, overshoot_level)
    if code is not None:
        return code
    code = fast_exit(basket, pnl, hard_stop)
    if code is not None:
        return code
    if not math.isnan(tdi):
        against = -tdi if basket.direction is Direction.LONG else tdi
        if against >= tdi_stop:
            return ExitCode.TS
    limit = basket.time_stop_bars if basket.time_stop_bars is not None else time_stop_bars
    if basket.bars_open(cluster_bars) >= limit:
        return ExitCode.TO
    return None


def fast_exit(basket: Basket, pnl: float, hard_stop: bool = True) -> ExitCode | None:
    """TP and HS on the marked net P&L (no HS for a kind without one: ``hard_stop`` False,
    ``SignalModel.hard_stop``)."""
    if pnl >= basket.take_profit:
        return ExitCode.TP
    if hard_stop and pnl <= -basket.risk_budget:
        return ExitCode.HS
    return None


def m1_exit(basket: Basket, provisional_tdi: float, band: float, pnl: float, *,
            overshoot_level: float | None = None, hard_stop: bool = True) -> ExitCode | None:
    """Exit at an M1 close: MR/OS on the provisional TDI, then TP, HS."""
    code = mean_reversion_exit(basket.direction, provisional_tdi, band, overshoot_level)
    if code is not None:
        return code
    return fast_exit(basket, pnl, hard_stop)
