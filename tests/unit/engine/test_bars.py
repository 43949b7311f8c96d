"""Bars by clock bucket: ticks -> M1, M1 -> M30, cluster alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.replay_feed import merge_m1
from engine.bars import (
    M1,
    M30,
    BarBuilder,
    BarResampler,
    ClusterAligner,
    align_closes,
    in_time_symbol_order,
    resample_bars,
)
from engine.errors import DataError
from engine.ticks import BAR_DTYPE, SYMBOL_BAR_DTYPE, TICK_DTYPE
from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.rates import TIMEFRAME_MINUTES, RatesBook
from storage.histdata import read_histdata_m1


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


def test_a_tick_of_a_minute_the_clock_closed_is_late_not_a_second_bar_of_it():
    # Arrange: EURUSD's minute 0 closed by the clock (a live step at its end)
    builder = BarBuilder(["EURUSD", "GBPUSD"], M1)
    builder.add_ticks(ticks([(1_000, 0, 1.0, 1.1), (30_000, 0, 1.2, 1.3)]))
    [first] = builder.advance_clock(60_000)
    # Act: a tick of that minute that reached the terminal after the step, then the next
    late = builder.add_ticks(ticks([(59_500, 0, 1.4, 1.5)]))
    at_next_clock = builder.advance_clock(120_000)
    builder.add_ticks(ticks([(61_000, 0, 1.6, 1.7), (62_000, 1, 2.0, 2.1)]))
    # Assert: counted late, and minute 0 had one bar only (before: a second
    # bar of minute 0, of that tick alone, closed at the next clock)
    assert (first["time"], first["close"], first["tick_volume"]) == (0, 1.2, 2)
    assert len(late) == 0 and len(at_next_clock) == 0
    assert builder.late_ticks == 1
    assert [builder.forming(0)["time"], builder.forming(1)["time"]] == [60, 60]


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


# -- the one batch routine against the three paths it replaced ------------------------------
#
# The functions below are the former batch aggregations, kept verbatim as oracles: the
# engine's ``resample_bars``, the simulator's MN1 months and W1 weeks, and the replay's
# ``merge_m1``.  The shared routine must give byte-identical bars on real data.

SAMPLES = (Path("histdata", "DAT_ASCII_EURUSD_M1_2019.csv.gz"),
           Path("histdata", "edges", "DAT_ASCII_EURUSD_M1_2019.csv.gz"))


def _former_resample_bars(bars: np.ndarray, period_s: int) -> np.ndarray:
    if len(bars) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    if np.any(np.diff(bars["time"]) < 0):
        raise DataError("bars must be in time order to be resampled")
    bucket = bars["time"] // period_s * period_s
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.append(starts[1:], len(bars))
    weight = np.maximum(bars["tick_volume"], 1).astype(np.float64)
    out = np.empty(len(starts), dtype=BAR_DTYPE)
    out["time"] = bucket[starts]
    out["open"] = bars["open"][starts]
    out["high"] = np.maximum.reduceat(bars["high"], starts)
    out["low"] = np.minimum.reduceat(bars["low"], starts)
    out["close"] = bars["close"][ends - 1]
    out["tick_volume"] = np.add.reduceat(bars["tick_volume"], starts)
    out["spread"] = np.add.reduceat(bars["spread"] * weight, starts) / np.add.reduceat(
        weight, starts
    )
    return out


def _former_rates_aggregate(m1: np.ndarray, timeframe: int) -> np.ndarray:
    sunday, week = 3 * 86_400, 7 * 86_400
    if timeframe == c.TIMEFRAME_M1 or len(m1) == 0:
        return m1
    if timeframe == c.TIMEFRAME_W1:
        shifted = m1.copy()
        shifted["time"] -= sunday
        out = _former_resample_bars(shifted, week)
        out["time"] += sunday
        return out
    if timeframe != c.TIMEFRAME_MN1:
        return _former_resample_bars(m1, TIMEFRAME_MINUTES[timeframe] * 60)
    labels = np.asarray(m1["time"], dtype="datetime64[s]").astype("datetime64[M]")
    labels = labels.astype("datetime64[s]").astype(np.int64)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(m1)]
    weight = np.maximum(m1["tick_volume"], 1).astype(np.float64)
    out = np.empty(len(starts), dtype=BAR_DTYPE)
    out["time"] = labels[starts]
    out["open"] = m1["open"][starts]
    out["high"] = np.maximum.reduceat(m1["high"], starts)
    out["low"] = np.minimum.reduceat(m1["low"], starts)
    out["close"] = m1["close"][ends - 1]
    out["tick_volume"] = np.add.reduceat(m1["tick_volume"], starts)
    out["spread"] = np.add.reduceat(m1["spread"] * weight, starts) / np.add.reduceat(
        weight, starts
    )
    return out


def _former_merge_m1(parts: list[np.ndarray]) -> np.ndarray:
    pieces = [p for p in parts if len(p)]
    if not pieces:
        return np.empty(0, dtype=BAR_DTYPE)
    bars = np.concatenate(pieces)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bars["time"])) + 1))
    if len(starts) == len(bars):
        return bars
    ends = np.concatenate((starts[1:], [len(bars)]))
    out = np.empty(len(starts), dtype=BAR_DTYPE)
    out["time"] = bars["time"][starts]
    out["open"] = bars["open"][starts]
    out["close"] = bars["close"][ends - 1]
    out["high"] = np.maximum.reduceat(bars["high"], starts)
    out["low"] = np.minimum.reduceat(bars["low"], starts)
    volume = np.add.reduceat(bars["tick_volume"], starts)
    out["tick_volume"] = volume
    weights = np.maximum(bars["tick_volume"], 1).astype(np.float64)
    out["spread"] = np.add.reduceat(bars["spread"] * weights, starts) / np.add.reduceat(
        weights, starts
    )
    return out


def _assert_same_bars(got: np.ndarray, expected: np.ndarray) -> None:
    """Byte-identical bars (NaN spreads included)."""
    assert got.dtype == expected.dtype
    assert len(got) == len(expected)
    assert got.tobytes() == expected.tobytes()


@pytest.fixture(params=["histdata", "with_ticks_and_spreads"])
def real_m1(request, test_data) -> np.ndarray:
    """Four weeks of real EURUSD M1 (three in October, the first and last days of 2019):
    missing minutes, weekend gaps, year ends.  As read (no tick volume, no spread), or with
    random tick volumes (zeros included) and spreads so the weighted mean spread matters."""
    bars = np.concatenate([read_histdata_m1(test_data / p).to_bar_array() for p in SAMPLES])
    bars = bars[np.argsort(bars["time"], kind="stable")]
    gaps = np.diff(bars["time"])
    assert np.any((gaps > M1) & (gaps < 3600))  # a missing minute
    assert np.any(gaps > 2 * 86_400)  # a weekend
    if request.param == "with_ticks_and_spreads":
        rng = np.random.default_rng(6)
        bars["tick_volume"] = rng.integers(0, 40, len(bars))
        bars["spread"] = rng.random(len(bars)) * 3e-4
    return bars


@pytest.mark.parametrize("period_s", [M1, 300, M30, 3600, 14_400, 86_400])
def test_resample_bars_gives_the_former_bars_on_real_data(real_m1, period_s):
    _assert_same_bars(resample_bars(real_m1, period_s), _former_resample_bars(real_m1, period_s))


def test_simulator_rates_give_the_former_bars_on_real_data(real_m1):
    tz = ServerTimeZone.us_dst()
    book = RatesBook(["EURUSD"], {"EURUSD": real_m1}, len(real_m1), tz)
    server = real_m1.copy()
    server["time"] = tz.to_server_s_array(server["time"])
    for timeframe in TIMEFRAME_MINUTES:
        got = book.between(0, timeframe, 0, 2**31 - 1)
        expected = _former_rates_aggregate(server, timeframe)
        _assert_same_bars(got, expected[expected["time"] >= 0])
        assert len(got) >= 4  # January, October, November, December at least


def test_merge_m1_gives_the_former_bars_on_real_data(real_m1):
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, len(real_m1)), 60, replace=False))
    parts = np.split(real_m1, cuts)
    _assert_same_bars(merge_m1(parts), _former_merge_m1(parts))  # nothing to merge
    for k in range(0, len(parts) - 1, 2):  # split the first minute of every other part
        head = parts[k + 1][:1].copy()
        head["high"] += 0.0001
        head["tick_volume"] += 3
        parts[k] = np.concatenate([parts[k], head])
    merged = merge_m1(parts)
    _assert_same_bars(merged, _former_merge_m1(parts))
    assert len(merged) == len(real_m1)


def test_closed_bars_are_ordered_by_time_then_symbol_like_a_lexsort():
    # Arrange: shuffled bars with repeated times and repeated (time, symbol) pairs
    rng = np.random.default_rng(11)
    bars = np.zeros(500, dtype=SYMBOL_BAR_DTYPE)
    bars["time"] = rng.integers(0, 20, 500) * 1800 + 1_549_238_400
    bars["symbol"] = rng.integers(0, 7, 500)
    bars["close"] = np.arange(500)  # tells equal keys apart
    in_order = bars[np.lexsort((bars["symbol"], bars["time"]))]

    # Act
    shuffled, ordered = in_time_symbol_order(bars), in_time_symbol_order(in_order)

    # Assert
    np.testing.assert_array_equal(shuffled, in_order)
    assert ordered is in_order  # already in order: no copy
