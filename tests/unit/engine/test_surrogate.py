"""No-edge surrogates: the real timestamps, the real volatility by hour, independent symbols,
reproducible from a seed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from engine.surrogate import (
    HOURS_PER_WEEK,
    MIN_RETURNS,
    estimate_volatility,
    hour_of_week,
    price_decimals,
    surrogate_bars,
    surrogate_market,
    symbol_rng,
)
from engine.ticks import BAR_DTYPE
from storage.histdata import read_histdata_m1

MONDAY = 1_546_819_200  # 2019-01-07 00:00 UTC, a Monday


@pytest.fixture(scope="module")
def real() -> dict[str, np.ndarray]:
    """Three weeks of HistData M1 bars of four symbols (tests/data/histdata)."""
    return {s: read_histdata_m1(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz",
                                s).to_bar_array()
            for s in ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")}


def walk(times: np.ndarray, sigma: np.ndarray, seed: int = 7) -> np.ndarray:
    """M1 bars of a walk whose 1-minute log-return std is ``sigma`` per bar."""
    rng = np.random.default_rng(seed)
    bars = np.zeros(len(times), dtype=BAR_DTYPE)
    close = 1.1 * np.exp(np.cumsum(sigma * rng.standard_normal(len(times))))
    bars["time"] = times
    bars["open"] = np.concatenate([[1.1], close[:-1]])
    bars["close"] = close
    bars["high"] = np.maximum(bars["open"], close)
    bars["low"] = np.minimum(bars["open"], close)
    bars["spread"] = np.nan
    return bars


def test_hour_of_week_starts_monday_midnight_utc():
    stamps = np.array([MONDAY, MONDAY + 3599, MONDAY + 3600, MONDAY + 7 * 86_400 - 1])

    assert hour_of_week(stamps).tolist() == [0, 0, 1, HOURS_PER_WEEK - 1]


def test_estimate_recovers_a_known_volatility_by_hour():
    # eight weeks of minutes, volatility 1e-4 at 08:00-16:59 UTC and 2e-5 otherwise
    times = MONDAY + 60 * np.arange(8 * 7 * 1440, dtype=np.int64)
    busy = (times // 3600 % 24 >= 8) & (times // 3600 % 24 < 17)
    sigma = np.where(busy, 1e-4, 2e-5)

    profile = estimate_volatility(walk(times, sigma))

    hours = hour_of_week(times)
    expected = np.array([sigma[hours == h][0] for h in range(HOURS_PER_WEEK)])
    # 480 returns an hour: a standard error of 3.2%, so every hour within 15%
    assert np.allclose(profile.sigma, expected, rtol=0.15)
    assert abs(np.median(profile.sigma / expected) - 1) < 0.02
    assert set(profile.source) == {"week"}


def test_sparse_hours_fall_back_to_the_hour_of_day_then_to_all_returns():
    # one week; Sunday 10:00 UTC holds only 10 minutes, and 03:00 is missing every day
    times = MONDAY + 60 * np.arange(7 * 1440, dtype=np.int64)
    hours = hour_of_week(times)
    keep = (hours % 24 != 3) & ((hours != 6 * 24 + 10) | (times % 3600 < 600))
    bars = walk(times[keep], np.full(int(keep.sum()), 1e-4))

    profile = estimate_volatility(bars)

    assert profile.counts[6 * 24 + 10] < MIN_RETURNS
    assert profile.source[6 * 24 + 10] == "day"
    assert profile.source[3] == "all" and profile.source[0] == "week"


def test_too_few_returns_are_refused():
    with pytest.raises(ValueError, match="one-minute returns"):
        estimate_volatility(walk(MONDAY + 60 * np.arange(10, dtype=np.int64), np.full(10, 1e-4)))


def test_surrogate_keeps_timestamps_first_price_spread_and_precision(real):
    bars = real["USDJPY"]

    out = surrogate_bars(bars, estimate_volatility(bars), symbol_rng(0, "USDJPY"))

    assert np.array_equal(out["time"], bars["time"])
    assert out["open"][0] == bars["open"][0]
    assert np.isnan(out["spread"]).all() and np.isnan(bars["spread"]).all()
    assert price_decimals(out["close"]) <= price_decimals(bars["close"]) == 3
    assert np.array_equal(out["open"][1:], out["close"][:-1])
    assert (out["high"] >= np.maximum(out["open"], out["close"])).all()
    assert (out["low"] <= np.minimum(out["open"], out["close"])).all()


@pytest.mark.parametrize("symbol", ["EURUSD", "XAUUSD"])
def test_surrogate_volatility_by_hour_matches_the_source(real, symbol):
    bars = real[symbol]
    source = estimate_volatility(bars)

    again = estimate_volatility(surrogate_bars(bars, source, symbol_rng(3, symbol)))

    # three weeks give each hour of the week about 180 returns (a std error near 5%);
    # the quietest hours move a point or two a minute, where rounding to the quote's
    # precision shows
    measured = source.counts >= MIN_RETURNS
    ratio = again.sigma[measured] / source.sigma[measured]
    assert abs(np.median(ratio) - 1) < 0.03
    assert ratio.min() > 0.7 and ratio.max() < 1.4


def test_symbols_are_independent_though_the_sources_are_correlated(real):
    def minute_returns(bars: np.ndarray) -> np.ndarray:
        return np.diff(np.log(bars["close"]))

    both = np.intersect1d(real["EURUSD"]["time"], real["GBPUSD"]["time"])
    pick = {s: np.isin(real[s]["time"], both) for s in ("EURUSD", "GBPUSD")}
    source_corr = np.corrcoef(minute_returns(real["EURUSD"][pick["EURUSD"]]),
                              minute_returns(real["GBPUSD"][pick["GBPUSD"]]))[0, 1]

    market = surrogate_market(real, seed=0)
    surrogate_corr = np.corrcoef(minute_returns(market["EURUSD"][pick["EURUSD"]]),
                                 minute_returns(market["GBPUSD"][pick["GBPUSD"]]))[0, 1]

    assert source_corr > 0.3
    assert abs(surrogate_corr) < 0.03  # ~21,000 returns: 0 within about 2 std errors


def test_surrogates_are_reproducible_per_seed_and_per_symbol(real):
    a = surrogate_market(real, seed=4)
    b = surrogate_market(real, seed=4)
    other_seed = surrogate_market(real, seed=5)
    fewer_symbols = surrogate_market({"EURUSD": real["EURUSD"]}, seed=4)

    def same(x: np.ndarray, y: np.ndarray) -> bool:
        return all(np.array_equal(x[f], y[f], equal_nan=f == "spread") for f in BAR_DTYPE.names)

    assert all(same(a[s], b[s]) for s in real)
    assert not np.array_equal(a["EURUSD"]["close"], other_seed["EURUSD"]["close"])
    assert same(a["EURUSD"], fewer_symbols["EURUSD"])
    assert a["EURUSD"]["close"][-1] == 1.13201  # pinned: seed 4 of the slice
