"""The engine's view of the market: last quotes, signal bars, and which minutes closed.

Bars are built by the engine itself from the ticks of each step (clock buckets, see
``engine.bars``) rather than polled from the terminal: polling rates every step costs far
more than aggregating the ticks, and building them here keeps replay, backtest and live on
the same bars.  Only the signal timeframes the clusters use are built
(``engine.timeframes``): M15, M30 and H1 straight from the ticks (identical to aggregating
M1 bars: first, max, min, last, count, and the tick-weighted mean spread), H4 and D1 from
the closed H1 bars on New York's trading day.  An all-M30 configuration runs exactly one
builder, the M30 one, as before timeframes existed.  Of the M1 timeframe the engine only
needs to know *when* a minute with ticks has ended (the fast exits are checked then, at the
current quotes), so it keeps a flag, not bars.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from engine.bars import M1, M30, BarBuilder, BarResampler, in_time_symbol_order
from engine.ticks import SYMBOL_BAR_DTYPE
from engine.timeframes import (
    H1,
    TICK_TIMEFRAMES,
    TIMEFRAME_NAMES,
    TIMEFRAME_SECONDS,
    buckets,
    source_timeframe,
)

M1_MS = M1 * 1000
M30_MS = M30 * 1000
_NONE = np.empty(0, dtype=SYMBOL_BAR_DTYPE)
#: Closed bars of one clock step, by timeframe (only timeframes that closed a bar).
ClosedBars = dict[str, np.ndarray]


def utc(ms: int) -> datetime:
    """The UTC moment of a millisecond timestamp (the engine's clock runs in UTC ms)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _sorted(parts: list[np.ndarray]) -> np.ndarray:
    """Closed bars of several batches as one array in (time, symbol) order."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _NONE
    if len(parts) == 1:
        return parts[0]
    return in_time_symbol_order(np.concatenate(parts))


class MarketState:
    """Quotes and the bars of ``timeframes`` (the clusters' signal timeframes; M30 when
    none is named) for every symbol."""

    def __init__(self, symbols: Sequence[str], timeframes: Iterable[str] = ("M30",)) -> None:
        self.symbols = tuple(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        n = len(self.symbols)
        self.bid = np.full(n, np.nan)
        self.ask = np.full(n, np.nan)
        self.last_tick_msc = np.zeros(n, dtype=np.int64)
        wanted = set(timeframes) or {"M30"}
        unknown = wanted - set(TIMEFRAME_NAMES)
        if unknown:
            raise ValueError(f"unknown timeframe {sorted(unknown)[0]!r}")
        #: The signal timeframes built, shortest first.
        self.timeframes = tuple(tf for tf in TIMEFRAME_NAMES if tf in wanted)
        built = {source_timeframe(tf) for tf in wanted}
        #: Tick builders, shortest first: the first also keeps the last quotes.
        self._builders = {tf: BarBuilder(self.symbols, TIMEFRAME_SECONDS[tf])
                          for tf in TICK_TIMEFRAMES if tf in built}
        #: H4/D1 from the closed H1 bars (New York buckets).
        self._resamplers = {tf: BarResampler(self.symbols, TIMEFRAME_SECONDS[tf],
                                             label=buckets(tf).label, end=buckets(tf).end)
                            for tf in self.timeframes if tf not in TICK_TIMEFRAMES}
        #: The clock closes bars on multiples of the shortest built period (every H4/D1
        #: boundary is on the hour).
        self.clock_step_ms = min(TIMEFRAME_SECONDS[tf] for tf in self._builders) * 1000
        self._closed: dict[str, list[np.ndarray]] = {tf: [] for tf in self._builders}
        #: Some builder closed bars on data that the clock has not handed out yet.
        self._closed_waiting = False
        tick_builders = list(self._builders.items())
        #: The builder that also keeps the last quotes, and the others (usually none).
        self._quote_tf, self._quote_builder = tick_builders[0]
        self._other_builders = tick_builders[1:]
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
        closed = self._quote_builder.add_ticks_and_quotes(ticks, self.bid, self.ask,
                                                          self.last_tick_msc)
        if len(closed):
            self._closed[self._quote_tf].append(closed)
            self._closed_waiting = True
        for tf, builder in self._other_builders:
            closed = builder.add_ticks(ticks)
            if len(closed):
                self._closed[tf].append(closed)
                self._closed_waiting = True

    def advance_clock(self, t_msc: int) -> tuple[bool, ClosedBars]:
        """Close what ended by ``t_msc``: (a minute with ticks ended, closed bars by
        timeframe, only those of the clusters' timeframes that closed any)."""
        minute_closed = self._oldest_minute is not None and self._oldest_minute + M1_MS <= t_msc
        if minute_closed:
            newest = self._newest_minute
            self._oldest_minute = newest if newest is not None and newest + M1_MS > t_msc \
                else None
        if t_msc % self.clock_step_ms != 0 and not self._closed_waiting:
            return minute_closed, {}
        self._closed_waiting = False
        out: ClosedBars = {}
        for tf, builder in self._builders.items():
            closed = _sorted([*self._closed[tf], builder.advance_clock(t_msc)])
            self._closed[tf] = []
            if len(closed):
                out[tf] = closed
        if self._resamplers:
            h1 = out.get(H1, _NONE)
            for tf, resampler in self._resamplers.items():
                closed = _sorted([resampler.add_bars(h1), resampler.advance_clock(t_msc)])
                if len(closed):
                    out[tf] = closed
        if H1 in out and H1 not in self.timeframes:
            del out[H1]
        return minute_closed, out

    def seed_forming(self, timeframe: str, bars: np.ndarray) -> None:
        """Start the forming H4/D1 bars with the closed H1 bars of their bucket so far
        (start-up, mid-bucket): the first live bar then covers its whole bucket."""
        resampler = self._resamplers.get(timeframe)
        if resampler is not None and len(bars):
            resampler.add_bars(bars)

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

    def minute_closes(self, tick_times: np.ndarray, steps: Sequence[int]) -> list[bool]:
        """Whether stepping to each of ``steps`` in turn (UTC ms, ascending), with these
        coming ticks, would close a minute there (``advance_clock``'s flag); nothing
        changes.  ``engine.held_minutes`` needs it to know which minutes have an M1 close."""
        oldest, newest = self._oldest_minute, self._newest_minute
        ends = np.searchsorted(tick_times, np.asarray(steps, dtype=np.int64), "right").tolist()
        out = []
        lo = 0
        for t, hi in zip(steps, ends, strict=True):
            if hi > lo:
                if oldest is None:
                    oldest = int(tick_times[lo]) // M1_MS * M1_MS
                newest = int(tick_times[hi - 1]) // M1_MS * M1_MS
                lo = hi
            closed = oldest is not None and oldest + M1_MS <= t
            if closed:
                oldest = newest if newest is not None and newest + M1_MS > t else None
            out.append(closed)
        return out

    def batch_closes(self, tick_times: np.ndarray, t_msc: int) -> bool:
        """Whether one step to ``t_msc`` taking all these coming ticks would close a minute."""
        oldest = self._oldest_minute
        if oldest is None and len(tick_times):
            oldest = int(tick_times[0]) // M1_MS * M1_MS
        return oldest is not None and oldest + M1_MS <= t_msc

    @property
    def late_ticks(self) -> int:
        """Ticks dropped because they came after the clock had closed their minute (a live
        terminal's ticks that arrived after the step that closed it)."""
        return self._quote_builder.late_ticks

    def quiet(self) -> bool:
        """No minute with ticks is waiting to end and no bar closed unseen."""
        return self._oldest_minute is None and not self._closed_waiting

    def mids(self) -> np.ndarray:
        return 0.5 * (self.bid + self.ask)
