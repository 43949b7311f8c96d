"""The engine's view of the market: last quotes and M1/M30 bars per symbol.

Bars are built by the engine itself from the ticks of each step (clock buckets, see
``engine.bars``) rather than polled from the terminal: polling rates every step costs far
more than aggregating the ticks, and building them here keeps replay, backtest and live on
the same bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.bars import M1, M30, BarBuilder, BarResampler, concat_symbol_bars
from engine.ticks import SYMBOL_BAR_DTYPE


class MarketState:
    def __init__(self, symbols: Sequence[str]) -> None:
        self.symbols = tuple(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        n = len(self.symbols)
        self.bid = np.full(n, np.nan)
        self.ask = np.full(n, np.nan)
        self.last_tick_msc = np.zeros(n, dtype=np.int64)
        self._m1 = BarBuilder(self.symbols, M1)
        self._m30 = BarResampler(self.symbols, M30)
        self._pending_m1: list[np.ndarray] = []

    def seed_quote(self, symbol: str, bid: float, ask: float, time_msc: int) -> None:
        i = self.index[symbol]
        self.bid[i], self.ask[i], self.last_tick_msc[i] = bid, ask, time_msc

    def seed_m1(self, bars: np.ndarray) -> None:
        """Closed M1 bars of the M30 bucket in progress at start (``SYMBOL_BAR_DTYPE``)."""
        if len(bars):
            self._m30.add_bars(bars)

    def on_ticks(self, ticks: np.ndarray) -> None:
        if len(ticks) == 0:
            return
        sym = ticks["symbol"]
        # last quote per symbol: the last occurrence in time order
        order = np.arange(len(ticks))
        last = np.full(len(self.symbols), -1)
        np.maximum.at(last, sym, order)
        hit = last >= 0
        rows = ticks[last[hit]]
        self.bid[hit] = rows["bid"]
        self.ask[hit] = rows["ask"]
        self.last_tick_msc[hit] = rows["time_msc"]
        closed = self._m1.add_ticks(ticks)
        if len(closed):
            self._pending_m1.append(closed)

    def advance_clock(self, t_msc: int) -> tuple[np.ndarray, np.ndarray]:
        """Close every bar that ended by ``t_msc``: (closed M1 bars, closed M30 bars)."""
        closed_m1 = concat_symbol_bars([*self._pending_m1, self._m1.advance_clock(t_msc)])
        self._pending_m1 = []
        if len(closed_m1):
            m30_a = self._m30.add_bars(closed_m1)
        else:
            m30_a = np.empty(0, dtype=SYMBOL_BAR_DTYPE)
        closed_m30 = concat_symbol_bars([m30_a, self._m30.advance_clock(t_msc)])
        return closed_m1, closed_m30

    def quiet(self) -> bool:
        """No M1 bar is forming: nothing can close before the next tick or M30 boundary."""
        return self._m1.forming_count() == 0 and not self._pending_m1

    def mids(self) -> np.ndarray:
        return 0.5 * (self.bid + self.ask)
