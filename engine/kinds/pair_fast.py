"""The streaming pair model's per-bar arithmetic, compiled: one call per figure group.

``PairModel`` once called a numpy function per figure (``pair_stats``): a least-squares
solve or an SVD for the hedge, a mean and a standard deviation, the AR(1) slope, 19 lagged
variances, the crossings.  On two legs and a few hundred bars each of those is dominated
by numpy's per-call overhead, not by the arithmetic.  Here the same figures come from
numba kernels (``cache=True``: compiled once per machine, like ``pair_stats``):

- ``two_leg_weights``: OLS and TLS on two legs in closed form from centred sums.  They
  differ from ``numpy.linalg.lstsq`` and ``numpy.linalg.svd`` by LAPACK's rounding, about
  1e-14 relative (the closed form is the closer to an exact answer); the degenerate cases
  (a flat leg, uncorrelated legs for TLS) return NaN and the caller falls back to
  ``pair_stats``, which decides them as before;
- ``kalman_two_legs``: ``pair_stats``' Kalman filter on two legs with the covariance in
  scalars, the same operations in the same order (bit for bit);
- ``spread_figures``: the z-window mean, standard deviation (ddof=1) and z-score, the mean
  crossings, the AR(1) slope, the lagged variances of the hedge-window spread and the
  Hurst exponent in one call.  The mean and the standard deviation repeat numpy's pairwise
  summation step for step and the other sums run in the order ``pair_stats`` runs them, so
  these figures are bit for bit those of the numpy path given the same spread (Hurst to
  about 1e-14: its log and dot product are the compiler's); the lagged variances run the
  19 lags side by side, each lag's sum still in bar order.

The spread itself (``X @ w``) stays a numpy product: BLAS fuses multiply-adds, a plain
loop would not, and the spread would move in its last bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine.kinds.engle_granger import centred_sums
from engine.kinds.pair_stats import HURST_LAGS, MIN_LEAD_WEIGHT, ar1_slope

#: numpy's pairwise summation block (``PW_BLOCKSIZE`` in numpy's loops_utils).
_PW_BLOCK = 128
#: The Hurst lags are the contiguous run ``_K_MIN .. _K_MAX`` (2..20).
_K_MIN, _K_MAX = int(HURST_LAGS[0]), int(HURST_LAGS[-1])
if not np.array_equal(HURST_LAGS, np.arange(_K_MIN, _K_MAX + 1)):
    raise ImportError("pair_fast runs the Hurst lags as one contiguous run")


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of at most ``_PW_BLOCK`` values: eight running sums."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    end = n - n % 8
    while i < end:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``numpy.add.reduce`` of ``a[lo: lo + n]`` (contiguous float64), in numpy's order:
    halves (cut at a multiple of 8) summed apart down to blocks of ``_PW_BLOCK``.  The
    recursion runs on an explicit stack (a cached numba function may not call itself)."""
    if n <= _PW_BLOCK:
        return _block_sum(a, lo, n)
    starts = np.empty(64, np.int64)
    sizes = np.empty(64, np.int64)
    split = np.zeros(64, np.bool_)
    values = np.empty(64)
    frames = 1
    stacked = 0
    starts[0], sizes[0], split[0] = lo, n, False
    while frames:
        frames -= 1
        start, size = starts[frames], sizes[frames]
        if size <= _PW_BLOCK:
            values[stacked] = _block_sum(a, start, size)
            stacked += 1
        elif split[frames]:
            stacked -= 1
            values[stacked - 1] = values[stacked - 1] + values[stacked]
        else:
            half = size // 2
            half -= half % 8
            split[frames] = True
            starts[frames + 1], sizes[frames + 1], split[frames + 1] = start + half, \
                size - half, False
            starts[frames + 2], sizes[frames + 2], split[frames + 2] = start, half, False
            frames += 3
    return values[0]


@njit(cache=True)
def _mean_std(values: np.ndarray, squares: np.ndarray) -> tuple[float, float]:
    """``(values.mean(), values.std(ddof=1))`` as numpy computes them; ``squares`` is
    scratch of the same length."""
    n = len(values)
    mean = _pairwise_sum(values, 0, n) / n
    for i in range(n):
        d = values[i] - mean
        squares[i] = d * d
    return mean, math.sqrt(_pairwise_sum(squares, 0, n) / max(n - 1, 0))


@njit(cache=True)
def _lagged_variances(spread: np.ndarray, out: np.ndarray) -> None:
    """``pair_stats._lagged_variances`` for the lags ``_K_MIN.._K_MAX`` into ``out``: the
    lags' sums advance together over the bars all of them have (independent sums the
    compiler runs side by side), then each finishes its own tail; every lag's sum still
    adds its terms in bar order, so the figures are the same bit for bit."""
    lags = _K_MAX - _K_MIN + 1
    length = len(spread)
    common = length - _K_MAX
    totals = np.zeros(lags)
    for t in range(common):
        base = spread[t]
        for i in range(lags):
            totals[i] += spread[t + _K_MIN + i] - base
    for i in range(lags):
        for t in range(common, length - _K_MIN - i):
            totals[i] += spread[t + _K_MIN + i] - spread[t]
        totals[i] /= length - _K_MIN - i
    squares = np.zeros(lags)
    for t in range(common):
        base = spread[t]
        for i in range(lags):
            d = spread[t + _K_MIN + i] - base - totals[i]
            squares[i] += d * d
    for i in range(lags):
        for t in range(common, length - _K_MIN - i):
            d = spread[t + _K_MIN + i] - spread[t] - totals[i]
            squares[i] += d * d
        out[i] = squares[i] / (length - _K_MIN - i)


#: ``pair_stats.hurst``'s regressor: the centred log lags and their sum of squares (module
#: constants: the compiled kernels read them without being passed them).
_LOG_LAGS_CENTRED = np.log(HURST_LAGS) - np.log(HURST_LAGS).mean()
_LOG_LAGS_NORM = float(_LOG_LAGS_CENTRED @ _LOG_LAGS_CENTRED)


@njit(cache=True)
def _hurst(variances: np.ndarray) -> float:
    """``pair_stats.hurst`` from its lagged variances: the log and the dot product here
    are the compiler's, not numpy's (equal to about 1e-14)."""
    slope = 0.0
    for i in range(len(variances)):
        if not variances[i] > 0:
            return np.nan
        slope += math.log(variances[i]) * _LOG_LAGS_CENTRED[i]
    return slope / _LOG_LAGS_NORM / 2.0


@njit(cache=True)
def spread_figures(spread: np.ndarray,
                   recent: np.ndarray) -> tuple[float, float, float, float, int, float]:
    """``(z, mean, std, ar1_slope, crossings, hurst)`` of a point: ``recent`` is the z
    window's spread, ``spread`` the hedge window's."""
    mean, std = _mean_std(recent, np.empty(len(recent)))
    z = (recent[-1] - mean) / std if std > 0 else np.nan
    crossings = 0
    for i in range(1, len(recent)):
        if (recent[i] >= mean) != (recent[i - 1] >= mean):
            crossings += 1
    variances = np.empty(_K_MAX - _K_MIN + 1)
    _lagged_variances(spread, variances)
    return z, mean, std, ar1_slope(spread), crossings, _hurst(variances)


@njit(cache=True)
def _centred_moments(X: np.ndarray) -> tuple[float, float, float]:
    """``(S00, S01, S11)``: sums of centred squares and cross products of two columns."""
    _, _, s00, s01, s11 = centred_sums(X[:, 0], X[:, 1])
    return s00, s01, s11


@njit(cache=True)
def two_leg_weights(X: np.ndarray, tls: bool) -> float:
    """``w[1]`` of a two-leg hedge window (``w[0] = 1``): OLS of leg 1 on leg 2 with an
    intercept, or with ``tls`` the least-variance direction of the centred window.  NaN
    where the closed form cannot decide (the caller then asks ``pair_stats``)."""
    s00, s01, s11 = _centred_moments(X)
    if not tls:
        return -s01 / s11 if s11 > 0 else np.nan
    if s01 == 0.0:
        return np.nan
    # The smallest eigenvalue's eigenvector of [[s00, s01], [s01, s11]], as v1 / v0, from
    # whichever row has no cancellation.
    h = 0.5 * (s00 - s11)
    r = math.hypot(h, s01)
    ratio = -(h + r) / s01 if h > 0 else -s01 / (r - h)
    if not math.isfinite(ratio) or abs(ratio) * MIN_LEAD_WEIGHT >= 1.0:
        return np.nan
    return ratio


@njit(cache=True)
def kalman_two_legs(X: np.ndarray, delta: float, obs_var: float) -> float:
    """``b_2`` of ``pair_stats._kalman_coefficients`` on two legs: the same operations in
    the same order with the 2x2 covariance in scalars (the same figure, bit for bit)."""
    state_var = delta / (1.0 - delta)
    b0 = 0.0
    b1 = 0.0
    p00 = 1.0
    p01 = 0.0
    p11 = 1.0
    first0 = X[0, 0]
    first1 = X[0, 1]
    for t in range(X.shape[0]):
        x1 = X[t, 1] - first1
        y = X[t, 0] - first0
        p00 += state_var
        p11 += state_var
        error = y - 1.0 * b0
        rx0 = 0.0 + p00 * 1.0
        rx0 += p01 * x1
        error -= x1 * b1
        rx1 = 0.0 + p01 * 1.0
        rx1 += p11 * x1
        q = obs_var + 1.0 * rx0
        q += x1 * rx1
        b0 += rx0 / q * error
        b1 += rx1 / q * error
        p00 -= rx0 * rx0 / q
        p01 -= rx0 * rx1 / q
        p11 -= rx1 * rx1 / q
    return b1


#: ``two_leg_point``'s hedge estimators.
OLS_MODE, TLS_MODE, KALMAN_MODE = 0, 1, 2


@njit(cache=True)
def two_leg_point(window: np.ndarray, hedge_window: int, z_window: int, mode: int,
                  delta: float, obs_var: float
                  ) -> tuple[float, float, float, float, float, int, float, float]:
    """A two-leg point in one call: ``(w1, z, mean, std, ar1_slope, crossings, hurst,
    spread at the bar)`` of ``window`` (the model's trailing rows, oldest first), the hedge
    from its last ``hedge_window`` rows by ``mode`` (``w0 = 1``; Kalman's ``w1`` is
    ``-b_2``), the spread over the whole window and ``spread_figures`` of it.  A streaming
    bar otherwise made a numpy call or a kernel call per step, whose overheads outweighed
    the arithmetic.  The spread here is ``x0 + w1 x1`` in the compiler's rounding, not a
    BLAS product: the figures agree with the separate calls to about 1e-14 relative.  When
    the hedge is not finite every other figure is NaN (the caller decides: another
    estimator for OLS and TLS, an invalid point for Kalman)."""
    rows = window.shape[0]
    X = window[rows - hedge_window:]
    if mode == KALMAN_MODE:
        w1 = -kalman_two_legs(X, delta, obs_var)
    else:
        w1 = two_leg_weights(X, mode == TLS_MODE)
    if not math.isfinite(w1):
        return w1, np.nan, np.nan, np.nan, np.nan, 0, np.nan, np.nan
    values = np.empty(rows)
    for i in range(rows):
        values[i] = window[i, 0] + w1 * window[i, 1]
    z, mean, std, slope, crossings, hurst = spread_figures(values[rows - hedge_window:],
                                                          values[rows - z_window:])
    return w1, z, mean, std, slope, crossings, hurst, values[rows - 1]
