"""The engine's view of the market: last quotes, M30 bars, and which minutes closed.

Bars are built by the engine itself from the ticks of each step (clock buckets, see
``engine.bars``) rather than polled from the terminal: polling rates every step costs far
more than aggregating the ticks, and building them here keeps replay, backtest and live on
the same bars.  M30 bars are aggregated straight from the ticks (identical to aggregating
M1 bars: first, max, min, last, count, and the tick-weighted mean spread).  Of the M1
timeframe the engine only needs to know *when* a minute with ticks has ended (the fast
exits are checked then, at the current quotes), so it keeps a flag, not bars.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from engine.bars import M1, M30, BarBuilder
from engine.ticks import SYMBOL_BAR_DTYPE

M1_MS = M1 * 1000
M30_MS = M30 * 1000
_NONE = np.empty(0, dtype=SYMBOL_BAR_DTYPE)


def utc(ms: int) -> datetime:
    """The UTC moment of a millisecond timestamp (the engine's clock runs in UTC ms)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class MarketState:
    def __init__(self, symbols: Sequence[str]) -> None:
        self.symbols = tuple(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        n = len(self.symbols)
        self.bid = np.full(n, np.nan)
        self.ask = np.full(n, np.nan)
        self.last_tick_msc = np.zeros(n, dtype=np.int64)
        self._m30 = BarBuilder(self.symbols, M30)
        self._closed: list[np.ndarray] = []
        #: Mids at each closed minute for the console's M1 view (one day).
        self.m1_mids: deque[tuple[int, np.ndarray]] = deque(maxlen=1440)
        self._m1_lock = threading.Lock()
        #: Oldest and newest minute (bucket start, ms) holding ticks not yet reported closed.
        self._oldest_minute: int | None = None
        self._newest_minute: int | None = None

    def seed_quote(self, symbol: str, bid: float, ask: float, time_msc: int) -> None:
        i = self.index[symbol]
        self.bid[i], self.ask[i], self.last_tick_msc[i] = bid, ask, time_msc

    def on_ticks(self, ticks: np.ndarray) -> None:
        if len(ticks) == 0:
            return
        if self._oldest_minute is None:
            self._oldest_minute = int(ticks["time_msc"][0]) // M1_MS * M1_MS
        self._newest_minute = int(ticks["time_msc"][-1]) // M1_MS * M1_MS
        closed = self._m30.add_ticks_and_quotes(ticks, self.bid, self.ask, self.last_tick_msc)
        if len(closed):
            self._closed.append(closed)

    def advance_clock(self, t_msc: int) -> tuple[bool, np.ndarray]:
        """Close what ended by ``t_msc``: (a minute with ticks ended, closed M30 bars)."""
        minute_closed = self._oldest_minute is not None and self._oldest_minute + M1_MS <= t_msc
        if minute_closed:
            newest = self._newest_minute
            self._oldest_minute = newest if newest is not None and newest + M1_MS > t_msc \
                else None
        if t_msc % M30_MS == 0 or self._closed:
            parts = [*self._closed, self._m30.advance_clock(t_msc)]
            self._closed = []
            parts = [p for p in parts if len(p)]
            if not parts:
                return minute_closed, _NONE
            closed = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if len(parts) > 1:
                closed = closed[np.lexsort((closed["symbol"], closed["time"]))]
            return minute_closed, closed
        return minute_closed, _NONE

    def record_minute(self, t_msc: int) -> None:
        with self._m1_lock:
            self.m1_mids.append((t_msc, self.mids()))

    def m1_history(self, symbols: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(times ms, mids per symbol) at the recent minute closes (any thread)."""
        with self._m1_lock:
            rows = list(self.m1_mids)
        times = np.array([t for t, _ in rows], dtype=np.int64)
        mids = np.array([m for _, m in rows]) if rows else np.empty((0, len(self.symbols)))
        return times, {s: mids[:, self.index[s]] for s in symbols}

    def quiet(self) -> bool:
        """No minute with ticks is waiting to end and no M30 bar closed unseen."""
        return self._oldest_minute is None and not self._closed

    def mids(self) -> np.ndarray:
        return 0.5 * (self.bid + self.ask)
