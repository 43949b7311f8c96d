"""Spread models of a replay: fixed or the time-of-day profile for bars without an ask, the
scaled profiles of the other symbols, and a scale on every quoted spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.replay_feed import ReplayConfig, ReplayFeed, bars_to_ticks
from app.spreads import DEFAULT_SPREAD_MODEL, scaled_profile
from engine.errors import UserError
from engine.spread_profile import SpreadProfile, cell_index
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge.sim.symbols import SYMBOL_SPECS
from storage.importers import import_file
from storage.marketdata import MarketDataStore

OCT_EURUSD = Path("histdata", "DAT_ASCII_EURUSD_M1_2019.csv.gz")
TICK_SLICE = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_2100_2300_UTC.csv.gz")


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def drain(feed: ReplayFeed) -> np.ndarray:
    batches = []
    while (next_time := feed.next_time()) is not None:
        batches.append(feed.ticks_until((next_time // 60_000 + 1) * 60_000 - 1))
    return np.concatenate(batches) if batches else np.empty(0, dtype=TICK_DTYPE)


def bars_at(times: list[str], spread: float = np.nan) -> np.ndarray:
    bars = np.zeros(len(times), dtype=BAR_DTYPE)
    bars["time"] = [msc(t) // 1000 for t in times]
    bars["open"] = bars["high"] = bars["low"] = bars["close"] = 1.1
    bars["spread"] = spread
    return bars


def test_the_profile_model_fills_a_bar_from_its_weekday_and_hour():
    # Arrange: EURUSD bars on Monday 21:59, Monday 22:00 and Wednesday 22:00 UTC
    bars = bars_at(["2019-10-14 21:59", "2019-10-14 22:00", "2019-10-16 22:00"])
    fill = ReplayConfig(spread_model="profile").symbol_spread("EURUSD").fill

    # Act
    ticks = bars_to_ticks(bars, fill)

    # Assert: 4 points before the rollover, 13 on a Monday's rollover, 12 on Wednesday's
    points = np.round((ticks["ask"] - ticks["bid"]) / 1e-5, 6).reshape(3, 4)[:, 0]
    assert points.tolist() == [4.0, 13.0, 12.0]


def test_a_bars_own_spread_is_kept_whatever_the_model():
    bars = bars_at(["2019-10-14 22:00"], spread=0.0001)
    fill = ReplayConfig(spread_model="profile").symbol_spread("EURUSD").fill

    ticks = bars_to_ticks(bars, fill)

    np.testing.assert_allclose(ticks["ask"] - ticks["bid"], 0.0001)


def test_other_symbols_get_eurusds_shape_times_the_ratio_of_typical_spreads():
    # Arrange
    eurusd = scaled_profile("EURUSD")
    reference = SYMBOL_SPECS["EURUSD"].typical_spread_points

    # Act / Assert: every listed symbol, in its own points
    for name, spec in SYMBOL_SPECS.items():
        profile = scaled_profile(name)
        assert profile is not None and profile.point == spec.point
        factor = spec.typical_spread_points / reference
        np.testing.assert_allclose(profile.points, eurusd.points * factor)
    assert scaled_profile("GBPUSD").median_points == 7.5  # 3.0 x 5/2
    assert scaled_profile("XAUUSD").points[2, 22] == 90.0  # 12 x 15/2, in gold's cents
    assert scaled_profile("ABCXYZ") is None


def test_a_users_profile_comes_before_the_shipped_one():
    own = SpreadProfile("EURUSD", 1e-5, np.full((7, 24), 1.5), source="mine")
    config = ReplayConfig(spread_model="profile", spread_profiles={"EURUSD": own})

    spread = config.symbol_spread("EURUSD")

    # 1.5 points quotes as 2: a quote's spread is a whole number of points (halves to even)
    np.testing.assert_allclose(spread.fill(np.array([0, 86_400 * 3 + 22 * 3600])), 2e-5)
    assert "mine" in spread.description


def test_the_fixed_model_is_the_typical_spread():
    config = ReplayConfig(spread_model="fixed")

    spread = config.symbol_spread("GBPUSD")

    assert ReplayConfig().spread_model == DEFAULT_SPREAD_MODEL
    np.testing.assert_allclose(spread.fill(np.arange(3)), 5e-5)
    assert spread.description == "fixed 5 points (typical spread)"
    assert config.symbol_spread("EURUSD").fill(np.zeros(1))[0] == pytest.approx(2e-5)


def test_a_spread_configured_for_a_symbol_wins_over_the_shipped_profile():
    config = ReplayConfig(spread_model="profile", spread_points={"ABCXYZ": 7, "EURUSD": 1})

    unlisted, eurusd = config.symbol_spread("ABCXYZ"), config.symbol_spread("EURUSD")

    assert unlisted.model == eurusd.model == "fixed"
    assert eurusd.description == "fixed 1 points (configured), not a profile"
    np.testing.assert_allclose(eurusd.fill(np.array([22 * 3600])), 1e-5)
    with pytest.raises(UserError, match="ABCXYZ: bars without a spread and no spread profile"):
        ReplayConfig(spread_model="profile").symbol_spread("ABCXYZ")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"spread_model": "median"}, "spread model 'median'"),
     ({"spread_scale": -1.0}, "spread_scale"),
     ({"spread_scale": float("nan")}, "spread_scale")],
)
def test_a_bad_spread_setting_is_one_clear_error(kwargs, message):
    with pytest.raises(UserError, match=message):
        ReplayConfig(**kwargs)


def test_a_replay_of_histdata_bars_is_quoted_from_the_profile(test_data):
    # Arrange: three weeks of EURUSD HistData bars (no ask), October 2019
    start = msc("2019-10-21")
    config = ReplayConfig(spread_model="profile")

    # Act
    feed = ReplayFeed.from_files([test_data / OCT_EURUSD], start_msc=start, config=config)
    ticks = drain(feed)
    warmup = feed.warmup_bars()["EURUSD"]

    # Assert: every tick's spread is the profile's at its bar's weekday and hour
    profile = scaled_profile("EURUSD")
    expected = profile.points.ravel()[cell_index(ticks["time_msc"] // 1000)]
    np.testing.assert_allclose((ticks["ask"] - ticks["bid"]) / 1e-5, expected, atol=1e-6)
    np.testing.assert_allclose(warmup["spread"], profile.spread_at(warmup["time"]))
    assert feed.spread_models()["EURUSD"].startswith("bars without a spread: profile by UTC")


@pytest.mark.parametrize("scale", [0.0, 2.0])
def test_the_scale_multiplies_recorded_and_modelled_spreads_and_keeps_the_bid(
        tmp_path, test_data, scale):
    # Arrange: recorded EURUSD ticks (a store), and EURUSD HistData bars (no ask)
    ticks_store = MarketDataStore(tmp_path / "ticks")
    import_file(test_data / TICK_SLICE, ticks_store)
    plain = drain(ReplayFeed.from_store(ticks_store))
    bars_file = test_data / OCT_EURUSD
    start = msc("2019-10-30")
    fixed = ReplayConfig(spread_model="fixed")
    plain_bars = drain(ReplayFeed.from_files([bars_file], start_msc=start, config=fixed))
    config = ReplayConfig(spread_model="fixed", spread_scale=scale)

    # Act
    scaled = drain(ReplayFeed.from_store(ticks_store, config=config))
    scaled_feed = ReplayFeed.from_files([bars_file], start_msc=start, config=config)
    scaled_bars = drain(scaled_feed)

    # Assert
    for before, after in ((plain, scaled), (plain_bars, scaled_bars)):
        np.testing.assert_array_equal(after["bid"], before["bid"])
        np.testing.assert_allclose(after["ask"] - after["bid"],
                                   scale * (before["ask"] - before["bid"]), atol=1e-12)
    warm = scaled_feed.warmup_bars()["EURUSD"]["spread"]
    np.testing.assert_allclose(warm, scale * 2e-5)
    assert scaled_feed.spread_models()["EURUSD"].endswith(f"x {scale:g}")
