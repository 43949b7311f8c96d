"""Bid bars per symbol for the console's symbol charts and Market Watch's day figures.

The simulated terminal is not thread-safe (the engine's thread moves its clock), so the
console never reads its rates while the engine runs.  Instead this store is seeded once
from the terminal's M1 history before the engine's thread starts, and then fed, on the
engine's thread, with exactly the ticks the engine consumes: ``attach`` wraps the engine's
market driver so each step's ticks also go through one ``engine.bars.BarBuilder`` of M1 bars
(the builder the simulator's own rates use: OHLC of the bid, the minute's tick count, the
tick-weighted mean spread).  Readers on any thread get copies under a lock.

The tap must cost the engine next to nothing: it runs on every engine step, and at max
speed a step is a fraction of a millisecond.  Folding each step's ticks into bars and
splitting them per symbol there cost about as much as the rest of the step's market work
(``bench/README.md``, console section), so the tap only keeps a copy of the step's ticks;
they are folded in one batch when a reader asks (a chart, Market Watch's day figures) or
when ``FOLD_TICKS`` have piled up, whichever comes first.  The bars are the same either
way: within a step the ticks arrive in time order, and a minute closes when a later tick
or the clock passes its end, as it would step by step.

Every longer timeframe is aggregated from the M1 bars on request, **bucketed on the
broker's server clock** as MT5 does (an H4 bar starts at server 00/04/08..., a D1 bar at
server midnight: on the usual GMT+2/+3 server that is 17:00 New York, so a week has five
daily bars), and labelled with the bucket's start in UTC, the console's one clock.  The
history is what the terminal held at start (the simulator's "Max bars in chart") plus what
the session has played since, at most ``MAX_M1_BARS`` minutes a symbol.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.bars import BarBuilder, aggregate_runs, clock_buckets
from engine.ticks import BAR_DTYPE

#: The chart's timeframes and their length in seconds (MT5's standard chart set).
TIMEFRAME_SECONDS: dict[str, int] = {
    "M1": 60, "M5": 300, "M15": 900, "M30": 1800, "H1": 3600, "H4": 14_400, "D1": 86_400,
}
TIMEFRAMES = tuple(TIMEFRAME_SECONDS)
#: M1 bars kept per symbol: ten trading weeks (5 x 24 x 60 x 10), 3.4 MB a symbol.
MAX_M1_BARS = 72_000
#: MT5's TIMEFRAME_M1 (the rates call the seed makes; the module's constant is 1).
_MT5_M1 = 1
_DAY_S = 86_400
#: Ticks the tap keeps before the engine's thread folds them itself (nobody read them):
#: about three hours of the demo market, 600 kB.
FOLD_TICKS = 20_000


class ServerClock:
    """UTC <-> the broker's server time (whole-second arrays); identity when unknown."""

    def __init__(self, tz: Any = None) -> None:
        self._tz = tz

    def to_server(self, utc_s: np.ndarray) -> np.ndarray:
        return utc_s if self._tz is None else self._tz.to_server_s_array(utc_s)

    def to_utc(self, server_s: np.ndarray) -> np.ndarray:
        return server_s if self._tz is None else self._tz.to_utc_s_array(server_s)


def aggregate(m1: np.ndarray, timeframe: str, clock: ServerClock | None = None) -> np.ndarray:
    """M1 bid bars (UTC labels, time order) -> bars of ``timeframe`` (UTC labels).

    Buckets are taken on the server clock (see the module docstring) and every bucket with
    data makes a bar, the forming one included.  M1 comes back as given (not a copy).
    """
    if timeframe not in TIMEFRAME_SECONDS:
        raise ValueError(f"unknown timeframe {timeframe!r}; one of {', '.join(TIMEFRAMES)}")
    if timeframe == "M1" or len(m1) == 0:
        return m1
    clock = clock or ServerClock()
    server = clock.to_server(m1["time"].astype(np.int64))
    labels = clock_buckets(server, TIMEFRAME_SECONDS[timeframe])
    out = aggregate_runs(m1, labels)
    out["time"] = clock.to_utc(out["time"])
    return out


@dataclass(frozen=True)
class DayStats:
    """A symbol's server day so far, from its bid bars (``prev_close`` NaN when the data
    holds no earlier day)."""

    day_start_s: int  # the server day's start, UTC seconds
    open: float
    high: float
    low: float
    prev_close: float

    def change_pct(self, bid: float) -> float:
        """MT5's daily change: the bid against the previous day's close, in percent."""
        if not (math.isfinite(self.prev_close) and self.prev_close > 0 and math.isfinite(bid)):
            return math.nan
        return (bid / self.prev_close - 1.0) * 100.0


class _M1Series:
    """One symbol's closed M1 bars in a growable array, trimmed in bulk past ``max_bars``."""

    def __init__(self, max_bars: int) -> None:
        self.max_bars = max_bars
        self._buf = np.empty(1024, dtype=BAR_DTYPE)
        self._n = 0

    @property
    def bars(self) -> np.ndarray:
        return self._buf[: self._n]

    def extend(self, bars: np.ndarray) -> None:
        if len(bars) == 0:
            return
        if self._n and bars["time"][0] <= self._buf["time"][self._n - 1]:
            last = self._buf[self._n - 1]
            same = bars["time"] == last["time"]
            if same.any():  # the minute the seed caught forming: fold the rest into it
                self._buf[self._n - 1] = merge(last, bars[same][0])
            bars = bars[bars["time"] > last["time"]]
        bars = bars[-self.max_bars:]
        k = len(bars)
        if self._n + k > self.max_bars + self.max_bars // 4:  # drop the oldest in bulk
            keep = min(self._n, self.max_bars - k)
            self._buf[:keep] = self._buf[self._n - keep:self._n]
            self._n = keep
        if self._n + k > len(self._buf):
            grown = np.empty(max(2 * len(self._buf), self._n + k), dtype=BAR_DTYPE)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n:self._n + k] = bars
        self._n += k


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """Tick arrays end to end (``np.concatenate`` of structured arrays promotes their
    dtypes pair by pair, which cost more than the copy itself)."""
    if len(parts) == 1:
        return parts[0]
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype)
    at = 0
    for part in parts:
        out[at:at + len(part)] = part
        at += len(part)
    return out


def merge(first: np.void, later: np.void) -> np.void:
    """Two pieces of one minute as one bar: the first's open, the later close, the extremes,
    the ticks summed and the spread weighted by them."""
    out = np.zeros((), dtype=BAR_DTYPE)[()]
    w1, w2 = max(int(first["tick_volume"]), 1), max(int(later["tick_volume"]), 1)
    out["time"] = first["time"]
    out["open"] = first["open"]
    out["high"] = max(first["high"], later["high"])
    out["low"] = min(first["low"], later["low"])
    out["close"] = later["close"]
    out["tick_volume"] = int(first["tick_volume"]) + int(later["tick_volume"])
    out["spread"] = (first["spread"] * w1 + later["spread"] * w2) / (w1 + w2)
    return out


class SymbolBars:
    """Every symbol's M1 bid bars: seeded from the terminal, then from the engine's ticks.

    ``on_ticks`` runs on the engine's thread; every other method may run on any thread.
    ``version(symbol)`` grows with each change of that symbol's bars, so a chart redraws
    only when something moved.
    """

    def __init__(self, symbols: Sequence[str], server_tz: Any = None,
                 max_bars: int = MAX_M1_BARS) -> None:
        self.symbols = tuple(symbols)
        self.clock = ServerClock(server_tz)
        self._index = {s: i for i, s in enumerate(self.symbols)}
        self._series = [_M1Series(max_bars) for _ in self.symbols]
        self._builder = BarBuilder(self.symbols, 60)
        self._versions = [0] * len(self.symbols)
        self._lock = threading.Lock()  # the builder, the series, the versions
        # what the engine played since the last fold: its steps' ticks in order and the
        # clock of its last step, under their own lock so a step never waits for a fold
        self._pending: list[np.ndarray] = []
        self._pending_ticks = 0
        self._pending_clock: int | None = None
        self._pending_lock = threading.Lock()
        #: Ticks kept before the engine's thread folds them itself (``FOLD_TICKS``).
        self.fold_ticks = FOLD_TICKS
        #: Folds so far (the tests count them: the tap itself must not fold every step).
        self.folds = 0

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._index

    def seed(self, symbol: str, m1: np.ndarray) -> None:
        """History before the first tick (``BAR_DTYPE``, UTC labels, time order)."""
        i = self._index[symbol]
        with self._lock:
            self._series[i].extend(np.asarray(m1, dtype=BAR_DTYPE))
            self._versions[i] += 1

    def on_ticks(self, ticks: np.ndarray, now_msc: int) -> None:
        """Keep one step's ticks (``TICK_DTYPE``, the engine's symbol indices) and the
        clock they were stepped to, for the next fold (engine thread).  Only when
        ``fold_ticks`` are waiting does the engine's thread fold them itself."""
        with self._pending_lock:
            if len(ticks):
                self._pending.append(ticks.copy())
                self._pending_ticks += len(ticks)
            self._pending_clock = int(now_msc)
            due = self._pending_ticks >= self.fold_ticks
        if due:
            with self._lock:
                self._fold()

    def _fold(self) -> None:
        """Fold every kept step into the M1 series (call under ``_lock``).

        All the kept ticks go through the builder in one batch, then the clock moves to
        the last step's time: a minute closes when a later tick of its symbol arrives or
        when the clock passes its end, exactly as stepping would have closed it.
        """
        with self._pending_lock:
            ticks, clock = self._pending, self._pending_clock
            self._pending, self._pending_ticks, self._pending_clock = [], 0, None
        if clock is None:
            return
        self.folds += 1
        closed = []
        touched: set[int] = set()
        if ticks:
            batch = _joined(ticks)
            closed.append(self._builder.add_ticks(batch))
            touched.update(np.unique(batch["symbol"]).tolist())
        closed.append(self._builder.advance_clock(clock))
        for part in closed:
            touched.update(self._extend_series(part))
        for s in touched:
            self._versions[s] += 1

    def _extend_series(self, closed: np.ndarray) -> list[int]:
        """Closed bars of many symbols (``SYMBOL_BAR_DTYPE``) onto each symbol's series, in
        time order; the symbols touched."""
        if len(closed) == 0:
            return []
        order = np.argsort(closed["symbol"], kind="stable")  # time order within a symbol
        closed = closed[order]
        bars = np.empty(len(closed), dtype=BAR_DTYPE)
        for name in BAR_DTYPE.names:
            bars[name] = closed[name]
        symbols, starts = np.unique(closed["symbol"], return_index=True)
        ends = [*starts[1:].tolist(), len(closed)]
        for s, a, b in zip(symbols.tolist(), starts.tolist(), ends, strict=True):
            self._series[s].extend(bars[a:b])
        return symbols.tolist()

    def version(self, symbol: str) -> int:
        """Grows with every change of ``symbol``'s bars (folds what the engine played)."""
        with self._lock:
            self._fold()
            return self._versions[self._index[symbol]]

    def _rows(self, i: int, start: int = 0) -> np.ndarray:
        """M1 rows from ``start`` plus the forming minute (a copy; call under the lock)."""
        closed = self._series[i].bars[start:]
        forming = self._builder.forming(i)
        if forming is None:
            return closed.copy()
        if len(closed) and forming["time"] <= closed["time"][-1]:
            out = closed.copy()
            if forming["time"] == out["time"][-1]:
                out[-1] = merge(out[-1], forming)
            return out
        out = np.empty(len(closed) + 1, dtype=BAR_DTYPE)
        out[:-1] = closed
        out[-1] = forming
        return out

    def m1(self, symbol: str) -> np.ndarray:
        """All M1 bars of ``symbol`` (UTC labels), the forming minute last; a copy."""
        with self._lock:
            self._fold()
            return self._rows(self._index[symbol])

    def bars(self, symbol: str, timeframe: str) -> np.ndarray:
        """Bars of ``timeframe`` (``BAR_DTYPE``, OHLC of the bid, UTC open times)."""
        return aggregate(self.m1(symbol), timeframe, self.clock)

    def day_stats(self, symbol: str) -> DayStats | None:
        """The server day of the newest bar so far (None before any bar)."""
        i = self._index[symbol]
        with self._lock:
            self._fold()
            times = self._series[i].bars["time"]
            forming = self._builder.forming(i)
            newest = int(forming["time"]) if forming is not None else \
                (int(times[-1]) if len(times) else None)
            if newest is None:
                return None
            day_server = int(self.clock.to_server(np.array([newest]))[0]) // _DAY_S * _DAY_S
            day_start = int(self.clock.to_utc(np.array([day_server]))[0])
            first = int(np.searchsorted(times, day_start, side="left"))
            prev_close = float(self._series[i].bars["close"][first - 1]) if first else math.nan
            today = self._rows(i, first)
        return DayStats(day_start, float(today["open"][0]), float(today["high"].max()),
                        float(today["low"].min()), prev_close)


class TickTap:
    """A market driver that hands each step's ticks to ``sink`` as well as to the engine."""

    def __init__(self, driver: Any, sink: Callable[[np.ndarray, int], None]) -> None:
        self._driver = driver
        self._sink = sink

    def __getattr__(self, name: str) -> Any:
        """Everything else is the wrapped driver's (``now_msc``, ``next_time``, ...)."""
        if name.startswith("_"):  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self._driver, name)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._driver.symbols)

    def step_to(self, t_msc: int) -> np.ndarray:
        ticks = self._driver.step_to(t_msc)
        self._sink(ticks, int(t_msc))
        return ticks


def seed_from_terminal(store: SymbolBars, terminal: Any, count: int) -> None:
    """Each symbol's last ``count`` M1 bars as the terminal has them (a symbol it has none
    of starts empty); call before the engine's thread runs."""
    for symbol in store.symbols:
        try:
            rates = terminal.copy_rates_from_pos(symbol, _MT5_M1, 0, count)
        except Exception:  # a live terminal that went away: the chart starts empty
            rates = None
        if rates is not None and len(rates):
            store.seed(symbol, terminal.rates_to_bars(symbol, rates))


def attach(session: Any, max_bars: int = MAX_M1_BARS) -> SymbolBars:
    """A store for ``session``'s symbols, seeded and tapped into its engine's driver.

    Must run before the engine's thread starts: the seed reads the terminal, and the tap
    replaces ``engine.driver`` (same symbols, same ticks, same clock).
    """
    engine = session.engine
    terminal = session.terminal
    store = SymbolBars(engine.driver.symbols, getattr(terminal, "server_tz", None), max_bars)
    if hasattr(terminal, "copy_rates_from_pos") and hasattr(terminal, "rates_to_bars"):
        seed_from_terminal(store, terminal, max_bars)
    engine.driver = TickTap(engine.driver, store.on_ticks)
    return store


def day_stats_all(store: SymbolBars, symbols: Sequence[str]) -> Mapping[str, DayStats]:
    """Day figures of each of ``symbols`` the store holds bars of."""
    out: dict[str, DayStats] = {}
    for symbol in symbols:
        if symbol in store:
            stats = store.day_stats(symbol)
            if stats is not None:
                out[symbol] = stats
    return out
