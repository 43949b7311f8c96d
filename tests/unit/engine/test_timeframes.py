"""Signal timeframes: the bucket function (UTC floors; H4 and D1 on New York's trading day,
across the 2019 US DST changes and the weekend), the streaming bars the market builds from
ticks, and the TDI on them against the batch TDI on resampled bars."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from engine.bars import align_closes
from engine.market import MarketState
from engine.tdi import TdiParams, TdiStream, tdi_batch
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from engine.timeframes import buckets, calendar_days, ny_time, resample_to


def s(y: int, mo: int, d: int, h: int, mi: int = 0) -> int:
    """A UTC instant in seconds."""
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp())


def label(tf: str, t_s: int) -> int:
    return int(buckets(tf).label(np.array([t_s]))[0])


def end(tf: str, t_s: int) -> int:
    return int(buckets(tf).end(np.array([label(tf, t_s)]))[0])


@pytest.mark.parametrize(("tf", "t", "start"), [
    ("M15", s(2019, 3, 11, 14, 44), s(2019, 3, 11, 14, 30)),
    ("M30", s(2019, 3, 11, 14, 44), s(2019, 3, 11, 14, 30)),
    ("H1", s(2019, 3, 11, 14, 44), s(2019, 3, 11, 14, 0)),
])
def test_short_timeframes_floor_the_utc_clock(tf, t, start):
    assert label(tf, t) == start


def test_h4_bars_start_at_17_21_01_05_09_13_new_york_in_winter_and_summer():
    # Arrange: every minute of a winter Tuesday and a summer Tuesday (UTC).
    for day in (datetime(2019, 1, 15, tzinfo=UTC), datetime(2019, 7, 16, tzinfo=UTC)):
        t0 = int(day.timestamp())
        minutes = np.arange(t0, t0 + 86_400, 60)

        # Act
        labels = np.unique(buckets("H4").label(minutes))

        # Assert: New York hours, on the hour; 22:00 UTC in winter, 21:00 in summer.
        hours = {ny_time(int(x)).hour for x in labels}
        assert hours == {1, 5, 9, 13, 17, 21}
        assert all(ny_time(int(x)).minute == 0 for x in labels)
    assert label("H4", s(2019, 1, 15, 22, 30)) == s(2019, 1, 15, 22)
    assert label("H4", s(2019, 7, 16, 21, 30)) == s(2019, 7, 16, 21)


@pytest.mark.parametrize(("sunday_open", "monday_noon", "friday_close"), [
    # 2019-03-10: US DST starts at 02:00 New York, inside the weekend closure
    (s(2019, 3, 10, 21), s(2019, 3, 11, 16), s(2019, 3, 8, 22)),
    # 2019-11-03: US DST ends at 02:00 New York, inside the weekend closure
    (s(2019, 11, 3, 22), s(2019, 11, 4, 17), s(2019, 11, 1, 21)),
])
def test_dst_changes_fall_inside_the_weekend_bucket(sunday_open, monday_noon, friday_close):
    for tf in ("H4", "D1"):
        # Assert: the weekend is one bucket from Friday 17:00 to Sunday 17:00 New York ...
        weekend = label(tf, sunday_open - 3600)
        assert weekend == friday_close
        assert end(tf, weekend) == sunday_open
        assert (sunday_open - friday_close) / 3600 in (47, 49)
        # ... and the trading-day buckets after it are exactly 4 h / 24 h long in UTC.
        assert label(tf, sunday_open) == sunday_open
        assert end(tf, monday_noon) - label(tf, monday_noon) == (4 if tf == "H4" else 24) * 3600


def test_the_sunday_evening_open_belongs_to_mondays_d1_labelled_by_its_start():
    # Sunday 2019-10-13 17:00 New York (21:00 UTC) to Monday 17:00 New York.
    assert label("D1", s(2019, 10, 13, 22)) == s(2019, 10, 13, 21)
    assert label("D1", s(2019, 10, 14, 20, 59)) == s(2019, 10, 13, 21)
    assert label("D1", s(2019, 10, 14, 21)) == s(2019, 10, 14, 21)
    assert ny_time(s(2019, 10, 13, 21)).strftime("%a %H:%M") == "Sun 17:00"


def test_a_year_of_h4_and_d1_buckets_has_six_and_one_per_trading_day():
    # Sunday 6 January 17:00 New York .. Friday 20 December 17:00 New York: 50 weeks.
    t0, t1 = s(2019, 1, 6, 22), s(2019, 12, 20, 22)
    minutes = np.arange(t0, t1, 60)
    for tf, per_day in (("H4", 6), ("D1", 1)):
        labels = np.unique(buckets(tf).label(minutes))
        lengths = buckets(tf).end(labels) - labels
        trading = lengths[lengths < 40 * 3600]
        assert set(trading.tolist()) == {(4 if tf == "H4" else 24) * 3600}
        assert len(trading) == per_day * 5 * 50
        assert len(labels) - len(trading) == 49  # the weekends between


def test_calendar_days_follow_bars_per_trading_day():
    assert calendar_days(694, "M30") == 25  # the default clusters, as before
    assert calendar_days(694 // 8, "H4") == 25
    assert calendar_days(902, "H4") == 211 + 4 + 2


# --------------------------------------------------------------------------- streaming

def _ticks(symbols: int, start_s: int, minutes: int, seed: int = 3) -> np.ndarray:
    """One tick per symbol at the start of every minute, a random walk per symbol."""
    rng = np.random.default_rng(seed)
    t = np.repeat(start_s + 60 * np.arange(minutes), symbols)
    sym = np.tile(np.arange(symbols), minutes)
    steps = rng.normal(0, 2e-4, size=(minutes, symbols)).cumsum(axis=0).ravel()
    ticks = np.empty(len(t), dtype=TICK_DTYPE)
    ticks["symbol"] = sym
    ticks["time_msc"] = t * 1000
    ticks["bid"] = np.exp(steps) * (1.0 + 0.1 * sym)
    ticks["ask"] = ticks["bid"] + 1e-4
    if "flags" in TICK_DTYPE.names:
        ticks["flags"] = 0
    return ticks


def _stream(market: MarketState, ticks: np.ndarray, step_s: int = 60) -> dict[str, list]:
    """Feed the ticks minute by minute and run the clock: closed bars by timeframe."""
    out: dict[str, list] = {}
    times = ticks["time_msc"] // 1000
    t = int(times[0])
    last = int(times[-1]) + 3 * 86_400
    while t <= last:
        batch = ticks[(times >= t - step_s) & (times < t)]
        market.on_ticks(batch)
        _, closed = market.advance_clock(t * 1000)
        for tf, bars in closed.items():
            out.setdefault(tf, []).append(bars)
        t += step_s
    return {tf: np.concatenate(parts) for tf, parts in out.items()}


def _m1_bars(ticks: np.ndarray, symbol: int) -> np.ndarray:
    mine = ticks[ticks["symbol"] == symbol]
    bars = np.zeros(len(mine), dtype=BAR_DTYPE)
    bars["time"] = mine["time_msc"] // 1000
    for name in ("open", "high", "low", "close"):
        bars[name] = mine["bid"]
    bars["tick_volume"] = 1
    bars["spread"] = mine["ask"] - mine["bid"]
    return bars


def test_streaming_h4_and_d1_bars_close_by_the_clock_at_new_york_labels_and_equal_batch():
    # Arrange: three symbols, two weeks of minutes across the November 2019 DST change.
    start = s(2019, 10, 27, 21)  # Sunday 17:00 New York (EDT)
    ticks = _ticks(3, start, 14 * 1440)
    weekday = pd.to_datetime(ticks["time_msc"], unit="ms", utc=True).tz_convert(
        "America/New_York")
    trading = ~(((weekday.day_of_week == 4) & (weekday.hour >= 17)) | (weekday.day_of_week == 5)
                | ((weekday.day_of_week == 6) & (weekday.hour < 17)))
    ticks = ticks[np.asarray(trading)]
    market = MarketState(("A", "B", "C"), {"H4", "D1"})

    # Act
    closed = _stream(market, ticks)

    # Assert: only the clusters' timeframes come out (H1 is built, not reported) ...
    assert set(closed) == {"H4", "D1"}
    for tf in ("H4", "D1"):
        for sym in range(3):
            streamed = closed[tf][closed[tf]["symbol"] == sym]
            batch = resample_to(_m1_bars(ticks, sym), tf)
            # ... at the batch labels, with the batch's values.
            np.testing.assert_array_equal(streamed["time"], batch["time"])
            for name in ("open", "high", "low", "close", "tick_volume"):
                np.testing.assert_array_equal(streamed[name], batch[name])
            np.testing.assert_allclose(streamed["spread"], batch["spread"], rtol=1e-12)
    h4_hours = {ny_time(int(t)).hour for t in closed["H4"]["time"]}
    assert h4_hours == {17, 21, 1, 5, 9, 13}
    d1 = np.unique(closed["D1"]["time"])
    assert len(d1) == 10 and all(ny_time(int(t)).hour == 17 for t in d1)


def test_the_streaming_tdi_on_h4_bars_equals_the_batch_tdi_on_resampled_bars():
    # Arrange: three weeks of minutes, H4 bars streamed by the market.
    start = s(2019, 3, 3, 22)
    ticks = _ticks(3, start, 21 * 1440, seed=11)
    market = MarketState(("A", "B", "C"), {"H4"})
    closed = _stream(market, ticks)["H4"]
    params = TdiParams(tau_f=2, tau_s=12, tau_q=20)

    # Act: streaming over the market's bars, batch over M1 resampled to H4.
    aligned = align_closes({n: resample_to(_m1_bars(ticks, i), "H4")
                            for i, n in enumerate("ABC")}, list("ABC")).closes
    batch = tdi_batch(aligned, params)
    stream = TdiStream(list("ABC"), params)
    streamed = []
    for t in np.unique(closed["time"]):
        rows = closed[closed["time"] == t]
        mids = rows["close"] + 0.5 * rows["spread"]
        streamed.append(stream.update(mids[np.argsort(rows["symbol"])], int(t)).tdi)

    # Assert
    assert len(streamed) == len(batch) and np.isfinite(batch["tdi"]).sum() > 20
    np.testing.assert_allclose(np.array(streamed), batch["tdi"].to_numpy(), atol=1e-9)
