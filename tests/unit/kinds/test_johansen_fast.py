"""The compiled Johansen test equals statsmodels' ``coint_johansen(X, 0, 1)`` (the first
cointegrating vector, normalised, and the trace statistic with its 95% critical value) on
real daily closes and on seeded windows, and leaves to statsmodels the windows where the
two arithmetics could part."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from helpers.pair_points import as_table, assert_same, cointegrated, stream
from helpers.paths import TEST_DATA
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from engine.kinds import pair_stats
from engine.kinds.johansen_fast import johansen_critical_95, johansen_point
from engine.kinds.pair import pair_batch
from engine.kinds.pair_params import PairParams
from engine.kinds.pair_stats import normalised

DAILY = TEST_DATA / "equity_daily_ko_pep_sp500_2019_2022.csv.gz"


def statsmodels_figures(X: np.ndarray) -> tuple[np.ndarray, float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = coint_johansen(X, 0, 1)
    return normalised(result.evec[:, 0]), float(result.lr1[0]), float(result.cvt[0, 1])


def assert_close_to_statsmodels(X: np.ndarray) -> None:
    weights, trace, critical = statsmodels_figures(X)
    fast = johansen_point(X)
    assert fast is not None  # the compiled path is the one checked
    np.testing.assert_allclose(normalised(fast[0]), weights, rtol=1e-9, atol=1e-12)
    assert fast[1] == pytest.approx(trace, rel=1e-9)
    assert johansen_critical_95(X.shape[1]) == critical


@pytest.mark.parametrize("space", ["returns", "price"])
@pytest.mark.parametrize("end", ["2020-06-30", "2021-12-31", "2022-12-30"])
def test_real_windows_equal_statsmodels(space, end):
    # Arrange: 250 trading days of KO, PEP and the S&P 500 ending at ``end``
    daily = pd.read_csv(DAILY, index_col="Date", parse_dates=True)
    window = daily.loc[:end, ["KO", "PEP", "SP500"]].iloc[-250:].to_numpy()
    X = np.log(window) if space == "returns" else window

    # Act / Assert
    assert_close_to_statsmodels(X)


@pytest.mark.parametrize("seed", range(24))
def test_seeded_windows_of_two_to_five_legs_equal_statsmodels(seed):
    # Arrange: legs sharing one random walk, some with stationary noise on top
    rng = np.random.default_rng(seed)
    bars, legs = (60, 120, 250, 480)[seed % 4], 2 + seed % 4
    common = np.cumsum(rng.normal(0, 1e-2, bars))
    X = (np.log(50.0) + common[:, None] * rng.uniform(0.5, 1.5, legs)
         + np.cumsum(rng.normal(0, 6e-3, (bars, legs)), axis=0))
    if seed % 3 == 0:
        X += rng.normal(0, 3e-3, (bars, legs))

    # Act / Assert
    assert_close_to_statsmodels(X)


def degenerate_windows() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(0, 1e-3, (120, 3)), axis=0)
    flat, twice, nearly, missing = X.copy(), X.copy(), X.copy(), X.copy()
    flat[:, 2] = 1.0
    twice[:, 2] = 2.0 * X[:, 0]
    nearly[:, 2] = X[:, 0] + 1e-12 * rng.normal(size=120)
    missing[5, 1] = np.nan
    return {"a flat leg": flat, "a leg twice another": twice,
            "a leg within 1e-12 of another": nearly, "a missing value": missing,
            "three rows": X[:3]}


@pytest.mark.parametrize("name", list(degenerate_windows()))
def test_degenerate_windows_are_left_to_statsmodels(name):
    # Arrange
    X = degenerate_windows()[name]

    # Act
    fast = johansen_point(X)

    # Assert: declined
    assert fast is None


def test_a_window_statsmodels_can_solve_gets_its_figures_when_declined():
    # Arrange: a leg within 1e-12 of another (statsmodels' pseudo-inverses still answer)
    X = degenerate_windows()["a leg within 1e-12 of another"]

    # Act
    weights, trace, critical = pair_stats.johansen(X)

    # Assert
    ref_weights, ref_trace, ref_critical = statsmodels_figures(X)
    np.testing.assert_array_equal(weights, ref_weights)
    assert (trace, critical) == (ref_trace, ref_critical)


@pytest.mark.parametrize("name", ["a flat leg", "a leg twice another"])
def test_a_window_without_an_eigenproblem_has_no_vector(name):
    # Arrange: statsmodels' own inverse fails on these
    X = degenerate_windows()[name]
    with pytest.raises(np.linalg.LinAlgError):
        statsmodels_figures(X)

    # Act
    weights, trace, critical = pair_stats.johansen(X)

    # Assert
    assert np.isnan(weights).all() and np.isnan(trace)
    assert critical == johansen_critical_95(3)


def test_a_leg_flat_for_longer_than_the_window_invalidates_the_same_bars_in_both():
    # Arrange: three cointegrated legs; the third quoted flat for 80 bars (a suspended
    # CFD), longer than the 60-bar hedge window
    closes = cointegrated(260, seed=3, legs=3)
    closes.iloc[100:180, 2] = closes.iloc[100, 2]
    params = PairParams(hedge="johansen", hedge_window=60, z_window=20, test_every=10)

    # Act
    streamed = as_table(stream(closes, params), closes.index)
    batch = pair_batch(closes, params)

    # Assert: no failure; the windows inside the flat stretch are not valid, in both; the
    # same points elsewhere.  The two windows in which the flat leg moves once or twice
    # are left out: nearly singular, each arithmetic decides them its own way.
    assert not streamed["valid"].iloc[159:180].any()
    assert not batch["valid"].iloc[159:180].any()
    kept = np.r_[0:180, 182:len(closes)]
    assert_same(streamed.iloc[kept], batch.iloc[kept])
    assert batch["valid"].iloc[-20:].all()


def test_pair_stats_johansen_takes_the_compiled_figures():
    # Arrange
    rng = np.random.default_rng(7)
    X = np.cumsum(rng.normal(0, 1e-3, (250, 3)), axis=0) + np.log([50.0, 60.0, 70.0])

    # Act
    weights, trace, critical = pair_stats.johansen(X)

    # Assert
    fast = johansen_point(X)
    assert fast is not None
    np.testing.assert_array_equal(weights, normalised(fast[0]))
    assert (trace, critical) == (fast[1], johansen_critical_95(3))
