"""The futures CFD's price process (mt5bridge/sim/futures_price.py): convergence to the cash
price at expiry, the mispricing's half-life and sigma recovered from a long seeded path,
the contract's own spread, and determinism."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge.sim.futures_price import (
    Mispricing,
    MispricingPath,
    futures_bars,
    futures_ticks,
)
from mt5bridge.sim.symbols import BROKER_SPECS, FUTURES_SPECS

SPX = BROKER_SPECS["SPXUSD"]
Z19 = FUTURES_SPECS["SPXUSD_Z19"]
MINUTE = 60_000


def cash_ticks(times: np.ndarray, bid: float = 3000.0, spread: float = 0.5) -> np.ndarray:
    ticks = np.zeros(len(times), dtype=TICK_DTYPE)
    ticks["time_msc"] = times
    ticks["bid"] = bid
    ticks["ask"] = bid + spread
    return ticks


def log_basis(futures: np.ndarray, cash: np.ndarray) -> np.ndarray:
    return np.log((futures["bid"] + futures["ask"]) / (cash["bid"] + cash["ask"]))


def test_the_price_converges_to_the_cash_price_at_expiry() -> None:
    # Arrange: a cash tick every minute over the contract's last 20 days, big dislocations
    expiry = Z19.expiration_time * 1000
    times = np.arange(expiry - 20 * 86_400_000, expiry, MINUTE, dtype=np.int64)
    cash = cash_ticks(times)
    path = MispricingPath(Z19, Mispricing(sigma_bp=50.0, jump_rate_per_day=2.0), seed=7)

    # Act
    fut = futures_ticks(cash, path, SPX, symbol_index=1)
    gap = np.abs(log_basis(fut, cash))

    # Assert: wide before the last days, within half a point at the last minute
    assert len(fut) == len(cash)
    assert gap[: 5 * 1440].max() > 20e-4
    assert gap[-1] < 0.5 * 0.01 / 3000.25 + 1e-12
    # |ln(F/S)| shrinks with the taper: over the last day at most a fifth of its peak
    assert gap[-1440:].max() < gap[: 5 * 1440].max() / 4


def test_no_quote_before_listing_or_from_expiry_on() -> None:
    # Arrange
    start, expiry = Z19.start_time * 1000, Z19.expiration_time * 1000
    cash = cash_ticks(np.array([start - 1, start, expiry - 1, expiry, expiry + 1]))
    path = MispricingPath(Z19, Mispricing(), seed=1)

    # Act
    fut = futures_ticks(cash, path, SPX, symbol_index=3)

    # Assert
    assert fut["time_msc"].tolist() == [start, expiry - 1]
    assert fut["symbol"].tolist() == [3, 3]


def test_mispricing_sigma_and_half_life_are_recovered_from_a_long_path() -> None:
    # Arrange: 4 h half-life, 10 bp, no jumps and no noise: ~1,600 half-lives of data
    settings = Mispricing(half_life_hours=4.0, sigma_bp=10.0, jump_rate_per_day=0.0,
                          noise_bp=0.0, converge_days=1.0)
    path = MispricingPath(Z19, settings, seed=11)
    start, expiry = Z19.start_time * 1000, Z19.expiration_time * 1000
    times = np.arange(start, expiry - 2 * 86_400_000, MINUTE, dtype=np.int64)
    cash = cash_ticks(times)

    # Act: the mispricing read back from the quotes: ln(F/S) minus the carry
    fut = futures_ticks(cash, path, SPX, symbol_index=1)
    tau = (expiry - times) / (365 * 86_400_000)
    assert Z19.futures is not None
    m = log_basis(fut, cash) - Z19.futures.carry * tau
    slope = float(np.dot(m[1:], m[:-1]) / np.dot(m[:-1], m[:-1]))
    half_life_hours = -math.log(2.0) / math.log(slope) / 60.0

    # Assert
    assert np.std(m) == pytest.approx(10e-4, rel=0.08)
    assert half_life_hours == pytest.approx(4.0, rel=0.10)


def test_the_spread_is_the_contracts_own_scaled_from_the_cash_spread() -> None:
    # Arrange: cash spread 0.50 (50 points); SPXUSD_Z19 quotes 60 where SPXUSD quotes 50
    times = np.arange(0, 30, dtype=np.int64) * MINUTE + Z19.start_time * 1000 + 86_400_000
    path = MispricingPath(Z19, Mispricing(), seed=2)

    # Act
    normal = futures_ticks(cash_ticks(times), path, SPX, symbol_index=1)
    wide = futures_ticks(cash_ticks(times, spread=1.0), path, SPX, symbol_index=1)

    # Assert: on the contract's 2-digit grid
    assert np.allclose(normal["ask"] - normal["bid"], 0.60)
    assert np.allclose(wide["ask"] - wide["bid"], 1.20)
    assert np.allclose(np.round(normal["bid"] * 100), normal["bid"] * 100)


def test_bars_follow_the_same_factor_and_keep_ohlc_order() -> None:
    # Arrange
    t0 = Z19.start_time + 86_400
    bars = np.zeros(3, dtype=BAR_DTYPE)
    bars["time"] = [t0, t0 + 60, t0 + 120]
    bars["open"], bars["high"], bars["low"], bars["close"] = 3000.0, 3002.0, 2999.0, 3001.0
    bars["tick_volume"] = 5
    bars["spread"] = 0.5
    path = MispricingPath(Z19, Mispricing(), seed=3)

    # Act
    out = futures_bars(bars, path, SPX)
    factor = np.exp(path.log_factor(bars["time"] * 1000 + 30_000))

    # Assert
    assert out["time"].tolist() == bars["time"].tolist()
    assert np.all(out["high"] >= np.maximum(out["open"], out["close"]))
    assert np.all(out["low"] <= np.minimum(out["open"], out["close"]))
    assert np.allclose(out["close"], np.round((3001.25 * factor - 0.30) * 100) / 100)
    assert np.allclose(out["spread"], 0.60)


def test_same_seed_same_path_other_seed_other_path() -> None:
    # Arrange
    times = np.arange(0, 2000, dtype=np.int64) * MINUTE + Z19.start_time * 1000

    # Act
    a = MispricingPath(Z19, Mispricing(), seed=5).log_factor(times)
    b = MispricingPath(Z19, Mispricing(), seed=5).log_factor(times)
    c = MispricingPath(Z19, Mispricing(), seed=6).log_factor(times)
    other = MispricingPath(FUTURES_SPECS["SPXUSD_H20"], Mispricing(), seed=5)

    # Assert
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[:10], other.log_mispricing(times[:10]))


def test_quote_noise_is_a_function_of_time_not_of_how_ticks_are_batched() -> None:
    # Arrange
    times = np.sort(np.random.default_rng(0).integers(0, 86_400_000, 500)) \
        + Z19.start_time * 1000
    cash = cash_ticks(times)
    path = MispricingPath(Z19, Mispricing(noise_bp=5.0), seed=9)

    # Act
    whole = futures_ticks(cash, path, SPX, symbol_index=1)
    parts = np.concatenate([futures_ticks(cash[i:i + 37], path, SPX, symbol_index=1)
                            for i in range(0, len(cash), 37)])

    # Assert
    assert np.array_equal(whole["bid"], parts["bid"])
    assert np.array_equal(whole["ask"], parts["ask"])


@pytest.mark.parametrize(("key", "value"), [
    ("half_life_hours", 0.0), ("sigma_bp", -1.0), ("noise_bp", float("inf")),
    ("converge_days", 0), ("jump_rate_per_day", 5000.0),
])
def test_bad_mispricing_settings_name_their_field(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key):
        dataclasses.replace(Mispricing(), **{key: value})
