"""Bars for ``copy_rates_*``: M1 history per symbol, aggregated to any MT5 timeframe.

The terminal keeps one series of M1 bars per symbol (the feed's warm-up bars, then the bars
built from the ticks it consumed, by ``engine.bars.BarBuilder``) and derives every other
timeframe on request by clock bucket **in server time**, as MT5 does: a D1 bar starts at
server midnight, an H4 bar at server 00/04/08..., a W1 bar on Sunday, an MN1 bar on the 1st
(bucketed here, aggregated by the engine's one batch routine, ``engine.bars.aggregate_runs``).
Bars are built lazily (when rates are asked for, or before the ticks they come from leave
the tick window) so a backtest that never asks for rates pays nothing for them.

Conversions to the package's rates rows: OHLC are bid prices, ``spread`` is the bar's mean
spread rounded to points, ``real_volume`` is 0 (FX has no exchange volume).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.bars import BarBuilder, aggregate_runs, clock_buckets, resample_bars
from engine.ticks import BAR_DTYPE
from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.structs import MT5_RATES_DTYPE

__all__ = ["TIMEFRAME_MINUTES", "RatesBook", "bucket_end", "bucket_start", "to_mt5_rates"]

_WEEK_S = 7 * 86_400
_SUNDAY_OFFSET_S = 3 * 86_400  # 1970-01-04, the first Sunday after the epoch

#: Minutes per bar of every MT5 timeframe (W1 and MN1: the longest such bar).
TIMEFRAME_MINUTES: dict[int, int] = {
    c.TIMEFRAME_M1: 1, c.TIMEFRAME_M2: 2, c.TIMEFRAME_M3: 3, c.TIMEFRAME_M4: 4,
    c.TIMEFRAME_M5: 5, c.TIMEFRAME_M6: 6, c.TIMEFRAME_M10: 10, c.TIMEFRAME_M12: 12,
    c.TIMEFRAME_M15: 15, c.TIMEFRAME_M20: 20, c.TIMEFRAME_M30: 30,
    c.TIMEFRAME_H1: 60, c.TIMEFRAME_H2: 120, c.TIMEFRAME_H3: 180, c.TIMEFRAME_H4: 240,
    c.TIMEFRAME_H6: 360, c.TIMEFRAME_H8: 480, c.TIMEFRAME_H12: 720,
    c.TIMEFRAME_D1: 1440, c.TIMEFRAME_W1: 10_080, c.TIMEFRAME_MN1: 31 * 1440,
}


def _month_start(t_s: np.ndarray) -> np.ndarray:
    months = np.asarray(t_s, dtype="datetime64[s]").astype("datetime64[M]")
    return months.astype("datetime64[s]").astype(np.int64)


def _grid(timeframe: int) -> tuple[int, int]:
    """(period, offset) in seconds of a fixed-length timeframe's buckets (all but MN1)."""
    if timeframe == c.TIMEFRAME_W1:
        return _WEEK_S, _SUNDAY_OFFSET_S
    return TIMEFRAME_MINUTES[timeframe] * 60, 0


def bucket_start(t_s: np.ndarray | int, timeframe: int) -> np.ndarray:
    """Label (open time) of the bucket holding each server time ``t_s``."""
    t = np.asarray(t_s, dtype=np.int64)
    if timeframe == c.TIMEFRAME_MN1:
        return _month_start(t)
    return clock_buckets(t, *_grid(timeframe))


def bucket_end(label_s: np.ndarray | int, timeframe: int) -> np.ndarray:
    """Open time of the bucket after the one labelled ``label_s``."""
    t = np.asarray(label_s, dtype=np.int64)
    if timeframe == c.TIMEFRAME_MN1:
        months = t.astype("datetime64[s]").astype("datetime64[M]") + np.timedelta64(1, "M")
        return months.astype("datetime64[s]").astype(np.int64)
    return t + _grid(timeframe)[0]


def _aggregate(m1: np.ndarray, timeframe: int) -> np.ndarray:
    """M1 bars (server-time labels, time-ordered) -> bars of ``timeframe``."""
    if timeframe == c.TIMEFRAME_M1 or len(m1) == 0:
        return m1
    if timeframe == c.TIMEFRAME_MN1:  # months differ in length: labelled by the calendar
        return aggregate_runs(m1, _month_start(m1["time"]))
    return resample_bars(m1, *_grid(timeframe))


def to_mt5_rates(bars: np.ndarray, point: float) -> np.ndarray:
    """``BAR_DTYPE`` bars (server-time labels) -> the package's packed rates rows."""
    out = np.zeros(len(bars), dtype=MT5_RATES_DTYPE)
    for name in ("time", "open", "high", "low", "close"):
        out[name] = bars[name]
    out["tick_volume"] = np.maximum(bars["tick_volume"], 0)
    out["spread"] = np.rint(bars["spread"] / point).astype(np.int32)
    return out


class _Series:
    """A growing array of one symbol's closed M1 bars (UTC labels), at least ``max_bars``.

    Old bars are dropped in bulk when the buffer is a quarter over ``max_bars``, so
    appending is amortised O(1) and the history never falls below ``max_bars``.
    """

    def __init__(self, initial: np.ndarray, max_bars: int) -> None:
        self.max_bars = max_bars
        initial = initial[-max_bars:] if max_bars > 0 else initial[:0]
        # Room for as many bars again as the warm-up holds (up to the limit of ``extend``):
        # the run's first bars then do not copy the whole warm-up into a grown array.
        limit = max_bars + max(max_bars // 4, 64)
        size = max(min(2 * len(initial), limit), len(initial), min(1024, max_bars))
        self._buf = np.empty(size, dtype=BAR_DTYPE)
        self._buf[: len(initial)] = initial
        self._n = len(initial)

    @property
    def bars(self) -> np.ndarray:
        return self._buf[: self._n]

    def extend(self, bars: np.ndarray) -> None:
        if self._n and len(bars) and bars["time"][0] <= self._buf["time"][self._n - 1]:
            # A minute the history already holds (a feed starting mid-minute after its
            # warm-up bars): the stored bar stands.
            bars = bars[bars["time"] > self._buf["time"][self._n - 1]]
        bars = bars[-self.max_bars:]
        k = len(bars)
        limit = self.max_bars + max(self.max_bars // 4, 64)
        if self._n + k > len(self._buf) and len(self._buf) < limit:
            grown = np.empty(min(limit, max(2 * len(self._buf), self._n + k)), dtype=BAR_DTYPE)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        if self._n + k > len(self._buf):
            keep = min(self._n, self.max_bars - k)
            self._buf[:keep] = self._buf[self._n - keep:self._n]
            self._n = keep
        self._buf[self._n:self._n + k] = bars
        self._n += k


class RatesBook:
    """M1 history of every symbol plus the bar being formed; any timeframe on request."""

    def __init__(
        self,
        symbols: Sequence[str],
        warmup: Mapping[str, np.ndarray],
        max_bars: int,
        server_tz: ServerTimeZone,
    ) -> None:
        self.symbols = tuple(symbols)
        self.server_tz = server_tz
        self._builder = BarBuilder(self.symbols, 60)
        empty = np.empty(0, dtype=BAR_DTYPE)
        self._series = [_Series(warmup.get(name, empty), max_bars) for name in self.symbols]

    def add_ticks(self, ticks: np.ndarray, now_msc: int) -> None:
        """Fold consumed ticks into M1 bars and close the bars the clock has passed."""
        if len(ticks):
            self._store(self._builder.add_ticks(ticks))
        self._store(self._builder.advance_clock(now_msc))

    def _store(self, closed: np.ndarray) -> None:
        if len(closed) == 0:
            return
        order = np.argsort(closed["symbol"], kind="stable")
        closed = closed[order]
        bars = np.empty(len(closed), dtype=BAR_DTYPE)
        for name in BAR_DTYPE.names:
            bars[name] = closed[name]
        symbols = closed["symbol"]
        cuts = (np.flatnonzero(symbols[1:] != symbols[:-1]) + 1).tolist()
        for a, b in zip([0, *cuts], [*cuts, len(bars)], strict=True):
            self._series[int(symbols[a])].extend(bars[a:b])

    # -- the M1 rows: closed bars, then the forming bar when there is one ------------------

    def _parts(self, index: int) -> tuple[np.ndarray, np.void | None]:
        closed = self._series[index].bars
        forming = self._builder.forming(index)
        if forming is not None and len(closed) and forming["time"] <= closed["time"][-1]:
            forming = None
        return closed, forming

    @staticmethod
    def _rows(closed: np.ndarray, forming: np.void | None, lo: int, hi: int) -> np.ndarray:
        n_closed = len(closed)
        body = closed[lo:min(hi, n_closed)]
        if forming is None or hi <= n_closed:
            return body.copy()
        out = np.empty(len(body) + 1, dtype=BAR_DTYPE)
        out[:-1] = body
        out[-1] = forming
        return out

    def m1(self, index: int) -> np.ndarray:
        """All M1 bars (UTC labels), the forming one last; a fresh array."""
        closed, forming = self._parts(index)
        return self._rows(closed, forming, 0, len(closed) + 1)

    def last_close(self, index: int) -> tuple[float, float, int] | None:
        """(close, spread, bar time) of the newest M1 bar, or None without history."""
        closed, forming = self._parts(index)
        row = forming if forming is not None else (closed[-1] if len(closed) else None)
        if row is None:
            return None
        return float(row["close"]), float(row["spread"]), int(row["time"])

    def _search(self, index: int, utc_s: int) -> tuple[np.ndarray, np.void | None, int]:
        """Rows and the number of M1 rows with open time < ``utc_s``."""
        closed, forming = self._parts(index)
        pos = int(np.searchsorted(closed["time"], utc_s, side="left"))
        if pos == len(closed) and forming is not None and forming["time"] < utc_s:
            pos += 1
        return closed, forming, pos

    def _server_bars(self, closed: np.ndarray, forming: np.void | None, lo: int, hi: int,
                     timeframe: int) -> np.ndarray:
        """Bars of ``timeframe`` from M1 rows ``[lo, hi)``; a first bucket cut by ``lo``
        (its earlier minutes not in the slice) is dropped."""
        part = self._rows(closed, forming, max(lo - 1, 0), hi)
        part["time"] = self.server_tz.to_server_s_array(part["time"])
        if lo > 0 and len(part) > 1:
            cut = bucket_start(part["time"][:2], timeframe)
            part = part[1:]
            if cut[0] == cut[1]:
                out = _aggregate(part, timeframe)
                return out[1:]
        return _aggregate(part, timeframe)

    def last(self, index: int, timeframe: int, start_pos: int, count: int) -> np.ndarray:
        """``copy_rates_from_pos``: ``count`` bars ending ``start_pos`` bars before the newest."""
        closed, forming = self._parts(index)
        n = len(closed) + (forming is not None)
        need = (start_pos + count + 1) * TIMEFRAME_MINUTES[timeframe]
        out = self._server_bars(closed, forming, max(0, n - need), n, timeframe)
        stop = len(out) - start_pos
        return out[max(0, stop - count):max(0, stop)]

    def upto(self, index: int, timeframe: int, date_from_s: int, count: int) -> np.ndarray:
        """``copy_rates_from``: the ``count`` bars whose open time is <= ``date_from_s``."""
        label = int(bucket_start(date_from_s, timeframe))
        end_utc = int(self.server_tz.to_utc_s_array(bucket_end(label, timeframe)))
        closed, forming, hi = self._search(index, end_utc)
        need = (count + 1) * TIMEFRAME_MINUTES[timeframe]
        out = self._server_bars(closed, forming, max(0, hi - need), hi, timeframe)
        return out[-count:] if count > 0 else out[:0]

    def between(self, index: int, timeframe: int, from_s: int, to_s: int) -> np.ndarray:
        """``copy_rates_range``: bars whose open time is within ``[from_s, to_s]``."""
        if to_s < from_s:
            return np.empty(0, dtype=BAR_DTYPE)
        first = int(bucket_start(from_s, timeframe))
        if first < from_s:
            first = int(bucket_end(first, timeframe))
        stop = int(bucket_end(bucket_start(to_s, timeframe), timeframe))
        lo_utc, hi_utc = (int(x) for x in self.server_tz.to_utc_s_array(np.array([first, stop])))
        closed, forming, lo = self._search(index, lo_utc)
        _, _, hi = self._search(index, hi_utc)
        part = self._rows(closed, forming, lo, hi)
        part["time"] = self.server_tz.to_server_s_array(part["time"])
        out = _aggregate(part, timeframe)
        return out[(out["time"] >= from_s) & (out["time"] <= to_s)]
