"""Bars by clock bucket: ticks -> M1, M1 -> M30, cluster alignment."""

from __future__ import annotations

import numpy as np
import pytest

from engine.bars import (
    M1,
    M30,
    BarBuilder,
    BarResampler,
    ClusterAligner,
    align_closes,
    resample_bars,
)
from engine.errors import DataError
from engine.ticks import BAR_DTYPE, TICK_DTYPE


def ticks(rows: list[tuple[int, int, float, float]]) -> np.ndarray:
    """(time_msc, symbol, bid, ask) rows as a tick batch."""
    out = np.zeros(len(rows), dtype=TICK_DTYPE)
    for i, (t, s, b, a) in enumerate(rows):
        out[i] = (t, s, b, a, 6)
    return out


def m1_bars(times_min: list[int], closes: list[float]) -> np.ndarray:
    out = np.zeros(len(times_min), dtype=BAR_DTYPE)
    out["time"] = np.array(times_min) * 60
    out["open"] = out["high"] = out["low"] = out["close"] = closes
    out["tick_volume"] = 1
    return out


def test_ticks_make_ohlc_count_and_mean_spread_per_minute():
    builder = BarBuilder(["EURUSD"], M1)
    closed = builder.add_ticks(ticks([(0, 0, 1.10, 1.1002), (20_000, 0, 1.12, 1.1201),
                                      (59_999, 0, 1.09, 1.0903), (60_000, 0, 1.11, 1.1101)]))
    assert len(closed) == 1
    bar = closed[0]
    assert (bar["time"], bar["open"], bar["high"], bar["low"], bar["close"]) == (
        0, 1.10, 1.12, 1.09, 1.09)
    assert bar["tick_volume"] == 3
    assert bar["spread"] == pytest.approx((0.0002 + 0.0001 + 0.0003) / 3)
    assert builder.forming(0)["time"] == 60


def test_a_missing_minute_never_makes_a_longer_bar():
    builder = BarBuilder(["EURUSD"], M1)
    closed = builder.add_ticks(ticks([(0, 0, 1.0, 1.0), (180_000, 0, 2.0, 2.0)]))
    assert list(closed["time"]) == [0]
    assert builder.forming(0)["time"] == 180  # minutes 1 and 2 simply have no bar


def test_a_bucket_closes_when_the_clock_passes_its_end():
    builder = BarBuilder(["EURUSD", "GBPUSD"], M1)
    assert len(builder.add_ticks(ticks([(1_000, 0, 1.0, 1.0), (2_000, 1, 2.0, 2.0)]))) == 0
    assert len(builder.advance_clock(59_999)) == 0
    closed = builder.advance_clock(60_000)
    assert list(closed["symbol"]) == [0, 1]
    assert builder.forming(0) is None


def test_ticks_split_across_batches_give_the_same_bars():
    rng = np.random.default_rng(0)
    t = np.sort(rng.integers(0, 3_600_000, 2000))
    rows = [(int(x), int(rng.integers(0, 3)), 1 + rng.random(), 2.5) for x in t]
    whole = BarBuilder(["A", "B", "C"], M1)
    parts = BarBuilder(["A", "B", "C"], M1)
    all_ticks = ticks(rows)
    a = np.concatenate([whole.add_ticks(all_ticks), whole.advance_clock(4_000_000)])
    b = np.concatenate([parts.add_ticks(all_ticks[i:i + 37]) for i in range(0, 2000, 37)]
                       + [parts.advance_clock(4_000_000)])
    a = a[np.lexsort((a["symbol"], a["time"]))]
    b = b[np.lexsort((b["symbol"], b["time"]))]
    for name in ("symbol", "time", "open", "high", "low", "close", "tick_volume"):
        np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_allclose(a["spread"], b["spread"], rtol=1e-14)  # summation order


def test_backwards_ticks_are_dropped_and_counted():
    builder = BarBuilder(["EURUSD"], M1)
    builder.add_ticks(ticks([(120_000, 0, 1.0, 1.0)]))
    closed = builder.add_ticks(ticks([(30_000, 0, 9.0, 9.0), (121_000, 0, 1.5, 1.5)]))
    assert len(closed) == 0
    assert builder.late_ticks == 1
    assert builder.forming(0)["high"] == 1.5


def test_m1_to_m30_by_clock_bucket_streaming_equals_batch():
    minutes = [0, 1, 29, 30, 31, 95, 100]  # 60..89 missing: no bar, not a long one
    bars = m1_bars(minutes, [1, 2, 3, 4, 5, 6, 7])
    batch = resample_bars(bars, M30)
    assert list(batch["time"]) == [0, 1800, 5400]
    assert list(batch["close"]) == [3, 5, 7]
    assert list(batch["high"]) == [3, 5, 7]
    res = BarResampler(["X"], M30)
    sym = np.zeros(len(bars), dtype=[("symbol", "<i2"), *BAR_DTYPE.descr])
    for name in BAR_DTYPE.names:
        sym[name] = bars[name]
    closed = np.concatenate([res.add_bars(sym), res.advance_clock(7200 * 1000)])
    assert list(closed["time"]) == [0, 1800, 5400]
    assert list(closed["close"]) == [3, 5, 7]


def test_resample_rejects_unordered_bars():
    with pytest.raises(DataError, match="time order"):
        resample_bars(m1_bars([5, 3], [1, 2]), M30)


def test_cluster_bucket_is_skipped_unless_every_member_has_data():
    a = resample_bars(m1_bars([0, 30, 60], [1.0, 1.1, 1.2]), M30)
    b = resample_bars(m1_bars([0, 60], [2.0, 2.2]), M30)  # nothing in the second bucket
    out = align_closes({"A": a, "B": b}, ["A", "B"])
    assert list(out.closes.index.as_unit("s").asi8) == [0, 3600]
    assert out.skipped_buckets == 1
    assert list(out.closes["A"]) == [1.0, 1.2]  # no forward fill of B into bucket 1800


def test_streaming_cluster_aligner_agrees_with_batch():
    aligner = ClusterAligner([0, 1], M30)
    bars = np.zeros(3, dtype=[("symbol", "<i2"), *BAR_DTYPE.descr])
    bars["symbol"] = [0, 1, 0]
    bars["time"] = [0, 0, 1800]
    bars["close"] = [1.0, 2.0, 1.1]
    aligner.add_bars(bars)
    ready = aligner.pop_ready(3600)
    assert [t for t, _ in ready] == [0]
    np.testing.assert_array_equal(ready[0][1], [1.0, 2.0])
    assert aligner.skipped_buckets == 1
