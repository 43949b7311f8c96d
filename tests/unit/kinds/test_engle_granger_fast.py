"""The fast Engle-Granger test gives statsmodels' ``coint`` numbers (t-statistic and
p-value to 1e-9) on random windows of every shape the pair kind meets and on real daily
closes, and hands the windows it cannot promise that for to statsmodels itself."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers.paths import TEST_DATA
from statsmodels.tsa.stattools import coint

from engine.kinds import engle_granger as engle_granger_module
from engine.kinds.engle_granger import (
    COLLINEAR_R2,
    adf_maxlag,
    adf_r,
    coint_pvalue,
    fast_coint,
    householder_r,
    lag_design,
    statsmodels_pvalue,
)
from engine.kinds.pair_stats import engle_granger

DAILY = TEST_DATA / "equity_daily_ko_pep_sp500_2019_2022.csv.gz"
TOLERANCE = 1e-9


def statsmodels_coint(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, p, _ = coint(y, x)
    return float(t), float(p)


def window(family: str, rng: np.random.Generator) -> np.ndarray:
    """One window of 60..1000 bars and 2..4 legs from a family of shapes."""
    n, legs = int(rng.integers(60, 1001)), int(rng.integers(2, 5))
    walks = np.cumsum(rng.normal(0, 1, (n, legs)), axis=0)
    common = np.cumsum(rng.normal(0, 1, n))
    loadings = rng.uniform(0.5, 1.5, legs)
    if family == "random walks":
        return walks
    if family == "cointegrated":
        return common[:, None] * loadings + rng.normal(0, 0.5, (n, legs))
    if family == "near-collinear":
        # noise from 1e-4 to 1e-1 of the common steps: R^2 on both sides of coint's
        # collinearity threshold
        return common[:, None] * loadings + rng.normal(0, 10 ** rng.uniform(-4, -1), (n, legs))
    if family == "trending":
        return walks + np.arange(n)[:, None] * rng.uniform(-0.2, 0.2, legs)
    # log prices of FX-like legs: small steps around a level
    return np.log(1.2) + common[:, None] * 1e-3 * loadings + walks * 4e-4


FAMILIES = ["random walks", "cointegrated", "near-collinear", "trending", "log prices"]


def assert_equal_to_statsmodels(y: np.ndarray, x: np.ndarray) -> None:
    fast = fast_coint(y, x)
    assert fast is not None, "the fast path declined an ordinary window"
    t, p = statsmodels_coint(y, x)
    if math.isinf(t):
        assert fast == (t, p)
    else:
        assert fast == pytest.approx((t, p), abs=TOLERANCE)


@pytest.mark.parametrize("family", FAMILIES)
def test_fast_path_equals_coint_on_random_windows(family):
    # Arrange: 16 seeded windows of the family, both leg orders each
    rng = np.random.default_rng(FAMILIES.index(family))
    windows = [window(family, rng) for _ in range(16)]

    # Act / Assert
    for X in windows:
        assert_equal_to_statsmodels(X[:, 0], X[:, 1:])
        assert_equal_to_statsmodels(X[:, -1], X[:, :-1])


@pytest.mark.parametrize("space", ["returns", "price"])
@pytest.mark.parametrize("legs", [["KO", "PEP"], ["PEP", "KO", "SP500"]])
def test_fast_path_equals_coint_on_ko_pep_daily_windows(space, legs):
    # Arrange: 250-day windows of real closes, one every 60 days over 2019-2022
    daily = pd.read_csv(DAILY, index_col="Date", parse_dates=True)[legs].to_numpy()
    values = np.log(daily) if space == "returns" else daily
    starts = range(0, len(values) - 250, 60)

    # Act / Assert
    for start in starts:
        X = values[start:start + 250]
        assert_equal_to_statsmodels(X[:, 0], X[:, 1:])
        assert_equal_to_statsmodels(X[:, -1], X[:, :-1])


def test_engle_granger_gives_both_orders_of_coint():
    # Arrange
    X = window("cointegrated", np.random.default_rng(7))[:480, :2]

    # Act
    p, p_rev = engle_granger(X)

    # Assert
    expected = statsmodels_coint(X[:, 0], X[:, 1:])[1], statsmodels_coint(X[:, 1], X[:, :1])[1]
    assert (p, p_rev) == pytest.approx(expected, abs=TOLERANCE)


def test_perfectly_collinear_legs_are_coints_collinear_branch():
    # Arrange: y an exact affine function of x (R^2 = 1)
    x = np.cumsum(np.random.default_rng(3).normal(0, 1, 300))
    y = 2.0 * x + 1.0

    # Act
    fast = fast_coint(y, x[:, None])

    # Assert: coint's answer for this case, a statistic of -inf and a p-value of 0
    assert fast == statsmodels_coint(y, x[:, None]) == (-math.inf, 0.0)


def test_duplicated_leg_gives_statsmodels_numbers():
    # Arrange: three legs, two of them identical (a rank-deficient first stage)
    X = window("cointegrated", np.random.default_rng(11))[:400, :2]
    X = np.column_stack([X, X[:, 1]])

    # Act / Assert: the pseudo-inverse resolves it as statsmodels does
    assert_equal_to_statsmodels(X[:, 0], X[:, 1:])


@pytest.mark.parametrize("case", ["constant leg", "constant target", "too short"])
def test_windows_the_fast_path_declines_get_statsmodels_answer(case):
    # Arrange
    rng = np.random.default_rng(5)
    X = np.cumsum(rng.normal(0, 1, (200, 2)), axis=0)
    if case == "constant leg":
        X[:, 1] = 1.5
    elif case == "constant target":
        X[:, 0] = 1.5
    else:
        X = X[:12]

    # Act
    declined = fast_coint(X[:, 0], X[:, 1:]) is None
    p = coint_pvalue(X[:, 0], X[:, 1:])

    # Assert: statsmodels decides (NaN when it cannot test the window)
    assert declined
    expected = statsmodels_pvalue(X[:, 0], X[:, 1:])
    assert p == expected or (math.isnan(p) and math.isnan(expected))


@pytest.mark.parametrize("margin", ["AIC_TIE", "R2_MARGIN", "MIN_PIVOT"])
def test_a_declined_window_gets_statsmodels_own_p_value(monkeypatch, margin):
    # Arrange: a margin so wide that every window falls inside it (an AIC tie, an R^2 at
    # the collinear threshold, a rank-deficient lag regression)
    X = window("cointegrated", np.random.default_rng(9))[:300, :2]
    monkeypatch.setattr(engle_granger_module, margin, 1e9 if margin != "MIN_PIVOT" else 1.0)

    # Act
    declined = fast_coint(X[:, 0], X[:, 1:]) is None
    p = coint_pvalue(X[:, 0], X[:, 1:])

    # Assert
    assert declined
    assert p == statsmodels_coint(X[:, 0], X[:, 1:])[1]


def test_householder_r_is_numpys_r_up_to_row_signs():
    # Arrange
    A = np.random.default_rng(2).normal(size=(461, 20))

    # Act
    R = householder_r(A)

    # Assert
    assert np.abs(R) == pytest.approx(np.abs(np.linalg.qr(A, mode="r")), abs=1e-12)
    assert np.allclose(np.tril(R, -1), 0.0)


@pytest.mark.parametrize("lags", [0, 1, 5, 18])
def test_adf_r_is_the_qr_of_the_stacked_lag_design_bit_for_bit(lags):
    # Arrange: a residual series of 480 bars, as the fast path meets it
    resid = np.cumsum(np.random.default_rng(lags).normal(0, 1e-3, 480))
    design, target = lag_design(resid, lags)

    # Act
    level_first = adf_r(resid, lags, True)
    level_last = adf_r(resid, lags, False)

    # Assert: the very figures of the stacked matrices' QR (the search's and the t-statistic's)
    stacked_first = np.column_stack([design[:, -1], design[:, :-1], target])
    assert np.array_equal(level_first, householder_r(stacked_first))
    assert np.array_equal(level_last, householder_r(np.column_stack([design, target])))


def test_defaults_are_statsmodels():
    # Assert: adfuller's maxlag rule and coint's collinearity threshold
    assert adf_maxlag(480) == 18 and adf_maxlag(250) == 16 and adf_maxlag(12) == 5
    threshold = 1 - 100 * np.sqrt(np.finfo(np.double).eps)
    assert threshold == COLLINEAR_R2
