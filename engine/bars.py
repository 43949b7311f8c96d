"""Bars by clock bucket: ticks -> M1, M1 -> M30, and cluster alignment.

Every bar covers the left-closed clock bucket ``[t, t + period)`` and is labelled by ``t``
(UTC).  A bucket is closed by the first data of a later bucket *or* by the clock passing
its end, never by counting minutes: a bar builder that waits for "the 30th minute" turns one
missing minute into a double-length bar, and the TDI would then compare unequal spans.

Builders are vectorised per batch (a batch of ticks or bars is grouped into runs of equal
(symbol, bucket) with numpy) because replay pushes millions of ticks through them.

Buckets of a fixed period floor the UTC clock; the resampler and the aligner also take a
bucket function (``label``, ``end``) for buckets that do not, such as H4 and D1 on New York's
trading day (``engine.timeframes``).

Streaming (``BarBuilder``, ``BarResampler``) folds into compiled per-symbol state; a batch of
bars whose buckets are all known (``resample_bars``, the simulator's MT5 rates, the replay's
warm-up merge) goes through the one batch routine, ``aggregate_runs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine._bar_kernels import aggregate, fold_ticks
from engine.errors import DataError
from engine.ticks import BAR_DTYPE, SYMBOL_BAR_DTYPE, TICK_DTYPE

M1 = 60
M30 = 1800

_NO_BUCKET = np.iinfo(np.int64).min
#: (time, symbol) as one sort key: time x this + symbol (symbols are int16 indices >= 0).
_SYMBOL_KEY = 1 << 16
#: Shared read-only "nothing closed" answer (most batches close nothing).
_NO_BARS = np.empty(0, dtype=SYMBOL_BAR_DTYPE)
_NO_BARS.flags.writeable = False

#: Bucket labels (seconds) -> the bucket's start, or its end (``engine.timeframes.Buckets``).
BucketFn = Callable[[np.ndarray], np.ndarray]


class _BucketAggregator:
    """Running OHLC state per symbol, fed with pre-grouped runs.

    Each run is one (symbol, bucket) group of input items with its open, high, low, close,
    volume and spread-weight sums.  The aggregator merges a run into the symbol's forming bar
    when the buckets match, otherwise closes the forming bar and starts a new one.
    """

    def __init__(self, n_symbols: int, period_s: int, bucket_end: BucketFn | None = None) -> None:
        if period_s <= 0:
            raise ValueError("period_s must be positive")
        self.period_s = period_s
        #: End of a bucket from its label; None: ``label + period_s`` (fixed periods).
        self.bucket_end = bucket_end
        self.n = n_symbols
        self.bucket = np.full(n_symbols, _NO_BUCKET, dtype=np.int64)
        #: The last bucket of each symbol the clock closed (``close_until``): an item of it
        #: or an older one that comes later is late, not the start of that bar again.
        self.closed = np.full(n_symbols, _NO_BUCKET, dtype=np.int64)
        self.open = np.zeros(n_symbols)
        self.high = np.zeros(n_symbols)
        self.low = np.zeros(n_symbols)
        self.close = np.zeros(n_symbols)
        self.volume = np.zeros(n_symbols, dtype=np.int64)
        self.spread_sum = np.zeros(n_symbols)
        self.weight = np.zeros(n_symbols)
        #: Items that arrived for a bucket older than the symbol's forming bar, or for one
        #: the clock had closed (dropped).
        self.late_items = 0
        self._scratch = np.empty(0, dtype=SYMBOL_BAR_DTYPE)
        self._out = [self._scratch[name] for name in SYMBOL_BAR_DTYPE.names]

    def _out_columns(self, n: int) -> list[np.ndarray]:
        """Scratch columns for up to ``n`` closed bars (grown, never shrunk): the fields of
        one structured scratch array, which the kernels write column by column, so that
        the closed bars come out of it in one copy (a field-by-field assembly cost more
        than the kernel on a step's few bars)."""
        if len(self._scratch) < n:
            self._scratch = np.empty(2 * n, dtype=SYMBOL_BAR_DTYPE)
            self._out = [self._scratch[name] for name in SYMBOL_BAR_DTYPE.names]
        return self._out

    def _closed(self, n_out: int, late: int) -> np.ndarray:
        """The first ``n_out`` scratch rows as closed bars, in (time, symbol) order."""
        if late:
            self.late_items += int(late)
        if n_out == 0:
            return _NO_BARS
        return in_time_symbol_order(self._scratch[:n_out].copy())

    def fold(self, sym: np.ndarray, bucket: np.ndarray, o: np.ndarray, h: np.ndarray,
             lo: np.ndarray, c: np.ndarray, vol: np.ndarray, spread_sum: np.ndarray,
             weight: np.ndarray) -> np.ndarray:
        """Fold items (time-ordered per symbol) into the forming bars; return closed bars."""
        if len(sym) == 0:
            return _NO_BARS
        cols = self._out_columns(len(sym))
        return self._closed(*aggregate(
            sym, bucket, o, h, lo, c, vol, spread_sum, weight, _NO_BUCKET, self.closed,
            self.bucket,
            self.open, self.high, self.low, self.close, self.volume, self.spread_sum,
            self.weight, *cols))

    def fold_ticks(self, ticks: np.ndarray, q_bid: np.ndarray, q_ask: np.ndarray,
                   q_time: np.ndarray) -> np.ndarray:
        """Ticks into the forming bars, updating last quotes on the way; closed bars."""
        if len(ticks) == 0:
            return _NO_BARS
        cols = self._out_columns(len(ticks))
        return self._closed(*fold_ticks(
            ticks["symbol"], ticks["time_msc"], ticks["bid"], ticks["ask"], self.period_s,
            _NO_BUCKET, q_bid, q_ask, q_time, self.closed, self.bucket, self.open, self.high,
            self.low, self.close, self.volume, self.spread_sum, self.weight, *cols))

    def _bars_of(self, symbols: np.ndarray) -> np.ndarray:
        """The forming bars of ``symbols`` as closed bars (sorted by time, then symbol)."""
        out = np.empty(len(symbols), dtype=SYMBOL_BAR_DTYPE)
        if len(symbols) == 0:
            return out
        out["symbol"] = symbols
        out["time"] = self.bucket[symbols]
        out["open"] = self.open[symbols]
        out["high"] = self.high[symbols]
        out["low"] = self.low[symbols]
        out["close"] = self.close[symbols]
        out["tick_volume"] = self.volume[symbols]
        w = self.weight[symbols]
        # never a division by zero: a bar without weight divides by one (and shows 0.0)
        out["spread"] = np.where(w > 0, self.spread_sum[symbols] / np.where(w > 0, w, 1), 0.0)
        return in_time_symbol_order(out)

    def close_until(self, t_s: int) -> np.ndarray:
        """Close every forming bar whose bucket ended at or before ``t_s``."""
        if self.bucket_end is None:
            due = np.flatnonzero((self.bucket != _NO_BUCKET)
                                 & (self.bucket + self.period_s <= t_s))
        else:
            forming = np.flatnonzero(self.bucket != _NO_BUCKET)
            due = forming[self.bucket_end(self.bucket[forming]) <= t_s]
        if len(due) == 0:
            return _NO_BARS
        closed = self._bars_of(due)
        self.closed[due] = self.bucket[due]
        self.bucket[due] = _NO_BUCKET
        return closed

    def forming(self, s: int) -> np.void | None:
        if self.bucket[s] == _NO_BUCKET:
            return None
        row = self._bars_of(np.array([s]))[0]
        out = np.zeros((), dtype=BAR_DTYPE)
        for name in BAR_DTYPE.names:
            out[name] = row[name]
        return out[()]


def in_time_symbol_order(bars: np.ndarray) -> np.ndarray:
    """Closed bars (``SYMBOL_BAR_DTYPE``) sorted by time, then symbol, ties kept in order (as
    ``np.lexsort((symbol, time))``); the array itself when it is in that order already, as
    the bars of one clock boundary usually are (sorting and indexing a structured array
    costs several times the check)."""
    if len(bars) < 2:
        return bars
    key = bars["time"] * _SYMBOL_KEY + bars["symbol"]
    if (key[1:] >= key[:-1]).all():
        return bars
    return bars[np.argsort(key, kind="stable")]


def _first_flags(a: np.ndarray) -> np.ndarray:
    flags = np.empty(len(a), dtype=bool)
    if len(a):
        flags[0] = True
        np.not_equal(a[1:], a[:-1], out=flags[1:])
    return flags


def clock_buckets(times: np.ndarray, period_s: int, offset_s: int = 0) -> np.ndarray:
    """Label (open time) of the left-closed bucket ``[t, t + period)`` holding each time.

    Buckets start at multiples of ``period_s`` after ``offset_s`` (0 for every fixed period
    but MT5's W1, whose weeks start on Sunday).
    """
    return (times - offset_s) // period_s * period_s + offset_s


def bar_weights(bars: np.ndarray) -> np.ndarray:
    """Each bar's weight in a longer bar's mean spread: its tick count, at least one (a bar
    with no tick count, as in HistData files, weighs one)."""
    return np.maximum(bars["tick_volume"], 1).astype(np.float64)


class BarBuilder:
    """Ticks -> bars of one period for many symbols, by clock bucket.

    Feed it tick batches in time order (``add_ticks``) and tell it the time
    (``advance_clock``) so a bar closes when its bucket ends even if the symbol goes quiet.
    Ticks older than a symbol's forming bar are dropped and counted in ``late_ticks``.
    """

    def __init__(self, symbols: Sequence[str], period_s: int = M1) -> None:
        self.symbols = tuple(symbols)
        self.period_s = period_s
        self._agg = _BucketAggregator(len(self.symbols), period_s)

    @property
    def late_ticks(self) -> int:
        return self._agg.late_items

    def add_ticks(self, ticks: np.ndarray) -> np.ndarray:
        """Aggregate a batch of ``TICK_DTYPE`` ticks; return the bars it closed."""
        if ticks.dtype != TICK_DTYPE:
            raise TypeError(f"expected TICK_DTYPE ticks, got {ticks.dtype}")
        if len(ticks) == 0:
            return np.empty(0, dtype=SYMBOL_BAR_DTYPE)
        n = len(self.symbols)
        scratch = (np.empty(n), np.empty(n), np.empty(n, dtype=np.int64))
        return self._agg.fold_ticks(ticks, *scratch)

    def add_ticks_and_quotes(self, ticks: np.ndarray, bid: np.ndarray, ask: np.ndarray,
                             time_msc: np.ndarray) -> np.ndarray:
        """``add_ticks`` that also leaves each symbol's last quote in the given arrays."""
        return self._agg.fold_ticks(ticks, bid, ask, time_msc)

    def advance_clock(self, t_msc: int) -> np.ndarray:
        """Close every bar whose bucket has ended by ``t_msc``; return them."""
        return self._agg.close_until(t_msc // 1000)

    def forming(self, symbol_index: int) -> np.void | None:
        """The symbol's bar still being built (``BAR_DTYPE``), or None."""
        return self._agg.forming(symbol_index)


class BarResampler:
    """Closed bars of a short period -> bars of a longer period (e.g. M1 -> M30), streaming.

    The spread of the long bar is the tick-weighted mean of the short bars' spreads (a bar
    with no tick count, as in HistData files, weighs one).  ``label``/``end`` replace the
    fixed UTC grid of ``period_s`` (H1 -> H4 on New York's trading day); ``period_s`` is
    then only the nominal length.
    """

    def __init__(self, symbols: Sequence[str], period_s: int = M30, *,
                 label: BucketFn | None = None, end: BucketFn | None = None) -> None:
        self.symbols = tuple(symbols)
        self.period_s = period_s
        self._label = label
        self._agg = _BucketAggregator(len(self.symbols), period_s, end)

    def add_bars(self, bars: np.ndarray) -> np.ndarray:
        """Aggregate closed ``SYMBOL_BAR_DTYPE`` bars in time order; return closed long bars."""
        if len(bars) == 0:
            return np.empty(0, dtype=SYMBOL_BAR_DTYPE)
        bucket = clock_buckets(bars["time"], self.period_s) if self._label is None \
            else self._label(bars["time"])
        weight = bar_weights(bars)
        return self._agg.fold(bars["symbol"], bucket, bars["open"], bars["high"], bars["low"],
                              bars["close"], bars["tick_volume"], bars["spread"] * weight,
                              weight)

    def advance_clock(self, t_msc: int) -> np.ndarray:
        return self._agg.close_until(t_msc // 1000)

    def forming(self, symbol_index: int) -> np.void | None:
        return self._agg.forming(symbol_index)


# One routine for batches, compiled kernels for streaming only.  Measured against folding a
# batch through the compiled streaming kernel (``_bar_kernels.aggregate`` via
# ``_BucketAggregator.fold``, then closing every bucket): EURUSD bars of tests/data/histdata
# with random tick volumes and spreads, M1 -> M30, best of 7 x 200 calls with ``timeit``:
# 21,582 bars 0.33 ms with numpy vs 0.88 ms through the kernel; a 3,000-bar ``copy_rates``
# slice 0.049 vs 0.088 ms; 30 bars 0.019 vs 0.058 ms.  The kernel also sums spreads one by
# one where numpy sums a run pairwise, which changed the mean spread in the last bits of
# about half the M30 bars (and so every mid derived from them).
def aggregate_runs(bars: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One ``BAR_DTYPE`` bar per run of equal consecutive ``labels``, labelled by it.

    The bar has the open of the run's first bar, the close of its last, the extremes and
    the summed tick volume of all, and their tick-weighted mean spread.  This is the one
    batch aggregation: clock buckets (``resample_bars``), the simulator's calendar months,
    and the replay's merge of a minute split across batches (labels = the bar times) all
    come here, so they cannot drift apart.
    """
    if len(bars) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    starts = np.flatnonzero(_first_flags(labels))
    ends = np.append(starts[1:], len(bars))
    weight = bar_weights(bars)
    out = np.empty(len(starts), dtype=BAR_DTYPE)
    out["time"] = labels[starts]
    out["open"] = bars["open"][starts]
    out["high"] = np.maximum.reduceat(bars["high"], starts)
    out["low"] = np.minimum.reduceat(bars["low"], starts)
    out["close"] = bars["close"][ends - 1]
    out["tick_volume"] = np.add.reduceat(bars["tick_volume"], starts)
    out["spread"] = np.add.reduceat(bars["spread"] * weight, starts) / np.add.reduceat(
        weight, starts
    )
    return out


def resample_bars(bars: np.ndarray, period_s: int, offset_s: int = 0) -> np.ndarray:
    """Batch version of ``BarResampler`` for one symbol's ``BAR_DTYPE`` bars (time-ordered).

    Every bucket that has data becomes a bar, including the last one (batch data is
    complete by definition).  ``offset_s`` shifts the bucket grid (see ``clock_buckets``).
    """
    if len(bars) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    if np.any(np.diff(bars["time"]) < 0):
        raise DataError("bars must be in time order to be resampled")
    return aggregate_runs(bars, clock_buckets(bars["time"], period_s, offset_s))


def mid_close(bars: np.ndarray) -> np.ndarray:
    """The mid price the TDI uses: bid close plus half the bar's mean spread."""
    return bars["close"] + 0.5 * bars["spread"]


@dataclass
class AlignedCloses:
    """Result of aligning several symbols' bars into one cluster's bar series."""

    closes: pd.DataFrame
    #: Buckets in which some but not all members had a bar (dropped, never forward-filled).
    skipped_buckets: int


def align_closes(bars_by_symbol: Mapping[str, np.ndarray], symbols: Sequence[str]) -> AlignedCloses:
    """Batch alignment: the cluster's mid closes at buckets where every member has a bar."""
    missing = [s for s in symbols if s not in bars_by_symbol]
    if missing:
        raise DataError(f"no bars for {', '.join(missing)}")
    times = [bars_by_symbol[s]["time"] for s in symbols]
    union = np.unique(np.concatenate(times)) if times else np.empty(0, np.int64)
    common = union
    for t in times:
        common = np.intersect1d(common, t, assume_unique=True)
    data = {}
    for s, t in zip(symbols, times, strict=True):
        b = bars_by_symbol[s]
        pos = np.searchsorted(t, common)
        data[s] = mid_close(b)[pos]
    index = pd.DatetimeIndex(pd.to_datetime(common, unit="s", utc=True), name="time_utc")
    return AlignedCloses(pd.DataFrame(data, index=index), int(len(union) - len(common)))


@dataclass
class ClusterAligner:
    """Streaming alignment of closed long bars into cluster bars.

    A cluster bar for bucket ``t`` is emitted once the clock has passed the bucket's end
    (``t + period``, or ``bucket_end``) and every member has a closed bar for ``t``; a
    bucket some member lacks is skipped (no forward fill) and counted, so the TDI never sees
    a stale price as a fresh one.
    """

    symbol_index: Sequence[int]
    period_s: int = M30
    skipped_buckets: int = 0
    bucket_end: BucketFn | None = None
    _pending: dict[int, dict[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._members = frozenset(int(s) for s in self.symbol_index)

    def add_bars(self, bars: np.ndarray) -> None:
        # Plain Python values by column, the members picked in the loop: a row of a
        # structured array is a numpy object whose every field read costs more than the
        # whole loop body, and a step's few bars cost less to filter one by one than the
        # numpy calls of a vectorised pick.
        members, pending = self._members, self._pending
        for s, t, mid in zip(bars["symbol"].tolist(), bars["time"].tolist(),
                             mid_close(bars).tolist(), strict=True):
            if s in members:
                pending.setdefault(t, {})[s] = mid

    def pop_ready(self, now_s: int) -> list[tuple[int, np.ndarray]]:
        """Buckets that ended by ``now_s``: complete ones as (time, closes), others skipped."""
        ready: list[tuple[int, np.ndarray]] = []
        if self.bucket_end is None:
            due = [b for b in self._pending if b + self.period_s <= now_s]
        else:
            labels = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
            due = labels[self.bucket_end(labels) <= now_s].tolist()
        for t in sorted(due):
            got = self._pending.pop(t)
            if len(got) == len(self.symbol_index):
                ready.append((t, np.array([got[s] for s in self.symbol_index])))
            else:
                self.skipped_buckets += 1
        return ready
