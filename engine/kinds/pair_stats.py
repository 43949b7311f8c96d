"""The statistics of a pair (or N-leg) spread on one trailing window: the streaming side.

Every function takes one window and nothing else, so a point depends on its window only
(truncation invariance) and on no later bar (no look-ahead).  ``X`` is a window of the
legs' values, one row per bar (oldest first), one column per leg: log prices in returns
space, prices in price space.  Weights ``w`` are normalised so that ``w[0] = 1``: the
spread is ``X @ w = X_1 - gamma_2 X_2 - ...``, and ``gamma_i = -w[i]`` is a hedge ratio.

The batch side (``engine.kinds.pair_windows``) computes the same figures for every window
of a history at once with a different arithmetic; the tests hold the two to 1e-9.

Estimators:
- OLS: leg 1 on the others with an intercept (``numpy.linalg.lstsq``);
- TLS: the right singular vector of the smallest singular value of the centred window:
  the direction of least variance, the same line whichever leg is listed first;
- Kalman: ``X_1 = a + sum_i b_i X_i + e``, the coefficients a random walk with variance
  ``delta / (1 - delta)`` per bar, ``e`` of variance ``obs_var``; run from the window's
  first bar (coefficients 0, covariance the identity) on the window's values minus its
  first row, so the hedge depends on the window only and not on where the prices are;
- Johansen: statsmodels ``coint_johansen``'s figures (a constant, one lagged difference),
  the eigenvector of the largest eigenvalue, computed in ``engine.kinds.johansen_fast``;
- half-life: ``ds_t = a + b s_{t-1}`` by least squares, half-life ``-ln 2 / ln(1 + b)``
  bars; infinite when ``b >= 0`` (no pull back to the mean), 0 when ``b <= -1`` (the whole
  gap closes within a bar);
- Hurst: half the slope of ``log var(s_{t+k} - s_t)`` on ``log k`` for k = 2..20 (the
  variance of lagged differences grows as ``k^(2H)``; 0.5 is a random walk, below it mean
  reversion);
- crossings: how often the spread changes side of its mean in the z window;
- Engle-Granger: statsmodels ``coint``'s figures (a constant, lags by AIC, MacKinnon
  p-values), computed in ``engine.kinds.engle_granger``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numba import njit

from engine.kinds.engle_granger import coint_pvalue
from engine.kinds.johansen_fast import johansen_critical_95, johansen_point
from engine.kinds.pair_params import HURST_MAX_LAG

#: Hurst lags, 2..20 bars.
HURST_LAGS = np.arange(2, HURST_MAX_LAG + 1)
#: A weight on leg 1 this small (relative to the largest) cannot be normalised to 1: the
#: line found does not involve the first leg.
MIN_LEAD_WEIGHT = 1e-12


def normalised(v: np.ndarray) -> np.ndarray:
    """``v / v[0]``, or NaNs when leg 1 takes no part in ``v``."""
    lead = float(v[0])
    scale = float(np.max(np.abs(v)))
    if not (scale > 0 and abs(lead) > MIN_LEAD_WEIGHT * scale):
        return np.full(len(v), np.nan)
    return v / lead


def ols_weights(X: np.ndarray) -> np.ndarray:
    """Leg 1 regressed on the others with an intercept: ``[1, -beta_2, ...]``."""
    design = np.column_stack([np.ones(len(X)), X[:, 1:]])
    beta = np.linalg.lstsq(design, X[:, 0], rcond=None)[0]
    return np.concatenate(([1.0], -beta[1:]))


def tls_weights(X: np.ndarray) -> np.ndarray:
    """The orthogonal regression: the centred window's least-variance direction."""
    centred = X - X.mean(axis=0)
    vt = np.linalg.svd(centred, full_matrices=False)[2]
    return normalised(vt[-1])


@njit(cache=True)
def _kalman_coefficients(X: np.ndarray, delta: float, obs_var: float) -> np.ndarray:
    """The filtered ``[a, b_2, ..., b_N]`` after the window's last bar (module docstring)."""
    n_bars, n = X.shape
    beta = np.zeros(n)
    P = np.eye(n)
    state_var = delta / (1.0 - delta)
    x = np.empty(n)
    Rx = np.empty(n)
    for t in range(n_bars):
        x[0] = 1.0
        for j in range(1, n):
            x[j] = X[t, j] - X[0, j]
        y = X[t, 0] - X[0, 0]
        for j in range(n):
            P[j, j] += state_var
        q = obs_var
        error = y
        for j in range(n):
            error -= x[j] * beta[j]
            acc = 0.0
            for k in range(n):
                acc += P[j, k] * x[k]
            Rx[j] = acc
        for j in range(n):
            q += x[j] * Rx[j]
        for j in range(n):
            beta[j] += Rx[j] / q * error
        for j in range(n):
            for k in range(n):
                P[j, k] -= Rx[j] * Rx[k] / q
    return beta


def kalman_weights(X: np.ndarray, delta: float, obs_var: float) -> np.ndarray:
    """The Kalman hedge at the window's last bar: ``[1, -b_2, ...]``."""
    beta = _kalman_coefficients(np.ascontiguousarray(X, dtype=np.float64), delta, obs_var)
    return np.concatenate(([1.0], -beta[1:]))


def johansen(X: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(weights, trace, critical_95)``: statsmodels' first cointegrating vector and the
    trace statistic of "no cointegrating vector" with its 95% critical value.  Computed by
    ``johansen_fast`` (the same arithmetic, compiled: equal to rounding); a window it
    declines (near-singular, two top eigenvalues too close to order) goes to statsmodels.
    A window whose eigenproblem cannot be formed (a leg flat over the window, one leg a
    multiple of another: statsmodels' inverse fails) has no vector: NaN weights and trace,
    which make the point invalid, as ``pair_windows.johansen`` makes it."""
    fast = johansen_point(X)
    critical = johansen_critical_95(X.shape[1])
    if fast is not None:
        return normalised(fast[0]), fast[1], critical
    from statsmodels.tsa.vector_ar.vecm import coint_johansen

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = coint_johansen(X, 0, 1)
    except np.linalg.LinAlgError:
        return np.full(X.shape[1], np.nan), math.nan, critical
    return normalised(result.evec[:, 0]), float(result.lr1[0]), float(result.cvt[0, 1])


def zscore(spread: np.ndarray) -> tuple[float, float, float]:
    """``(z, mean, std)`` of the last value against the whole array (std with ddof=1)."""
    mean = float(spread.mean())
    std = float(spread.std(ddof=1))
    if not std > 0:
        return math.nan, mean, std
    return (float(spread[-1]) - mean) / std, mean, std


def half_life_of(b: float) -> float:
    """Bars for half a gap to close under ``ds = a + b s``."""
    if math.isnan(b):
        return math.nan
    if b >= 0:
        return math.inf
    if b <= -1:
        return 0.0
    return -math.log(2.0) / math.log1p(b)


@njit(cache=True)
def ar1_slope(spread: np.ndarray) -> float:
    """``b`` of ``ds_t = a + b s_{t-1}`` by least squares, in one pass of sums."""
    n = len(spread) - 1
    sum_lag = 0.0
    sum_step = 0.0
    for t in range(n):
        sum_lag += spread[t]
        sum_step += spread[t + 1] - spread[t]
    mean_lag = sum_lag / n
    mean_step = sum_step / n
    cross = 0.0
    square = 0.0
    for t in range(n):
        lag = spread[t] - mean_lag
        cross += lag * (spread[t + 1] - spread[t] - mean_step)
        square += lag * lag
    return cross / square if square > 0 else np.nan


@njit(cache=True)
def _lagged_variances(spread: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """``var(s_{t+k} - s_t)`` (ddof=0) for each lag ``k``, two passes each."""
    out = np.empty(len(lags))
    for i in range(len(lags)):
        k = lags[i]
        n = len(spread) - k
        total = 0.0
        for t in range(n):
            total += spread[t + k] - spread[t]
        mean = total / n
        acc = 0.0
        for t in range(n):
            d = spread[t + k] - spread[t] - mean
            acc += d * d
        out[i] = acc / n
    return out


_LOG_LAGS = np.log(HURST_LAGS)
_LOG_LAGS_CENTRED = _LOG_LAGS - _LOG_LAGS.mean()


def half_life(spread: np.ndarray) -> float:
    """The AR(1) half-life of ``spread`` in bars (module docstring)."""
    return half_life_of(float(ar1_slope(np.ascontiguousarray(spread, dtype=np.float64))))


def hurst(spread: np.ndarray) -> float:
    """Half the slope of the log variance of lagged differences on the log lag (2..20)."""
    variances = _lagged_variances(np.ascontiguousarray(spread, dtype=np.float64), HURST_LAGS)
    if not np.all(variances > 0):
        return math.nan
    slope = float(np.log(variances) @ _LOG_LAGS_CENTRED) / float(
        _LOG_LAGS_CENTRED @ _LOG_LAGS_CENTRED)
    return slope / 2.0


def crossings(spread: np.ndarray, mean: float) -> int:
    """Changes of side of ``mean`` along ``spread`` (a value at the mean counts as above)."""
    above = spread >= mean
    return int(np.count_nonzero(above[1:] != above[:-1]))


def engle_granger(X: np.ndarray) -> tuple[float, float]:
    """Engle-Granger p-values: leg 1 on the others, and the last leg on the others (for
    two legs, the two orders).  statsmodels' ``coint`` numbers, computed by
    ``engine.kinds.engle_granger`` (the same arithmetic without statsmodels' model objects,
    about a hundred times faster; statsmodels itself where that path declines).  NaN when
    statsmodels cannot test the window."""
    return coint_pvalue(X[:, 0], X[:, 1:]), coint_pvalue(X[:, -1], X[:, :-1])
