"""The Engle-Granger test of statsmodels' ``coint(y, x)`` (its defaults), without its model
objects.

Why: ``coint`` fits about twenty ``OLS`` models per call (one per lag of the AIC search),
and each one checks its constant, ranks its design and takes a pseudo-inverse by SVD; on
480 bars that is ~30 ms a call, most of a pair backtest.  The arithmetic underneath is two
small least-squares problems, and this module does exactly that arithmetic:

1. the cointegrating regression of ``y`` on ``[x, 1]`` (``add_trend(x, "c")``: the
   constant appended): with one regressor (a pair) in closed form from the centred cross
   products, equal to statsmodels' residuals to rounding (about 1e-13 of the p-value);
   with more, solved like statsmodels' ``OLS.fit`` (``pinv_extended``: an SVD, singular
   values below 1e-15 of the largest dropped), so the residuals and the R^2 are
   statsmodels' own; an R^2 of at least ``1 - 100 sqrt(eps)`` is coint's "collinear"
   branch: the statistic is -inf and the p-value 0;
2. the ADF of the residuals ``r`` without constant or trend (``regression="n"``):
   ``maxlag = min(n // 2 - 1, ceil(12 (n / 100) ** 0.25))``; on the common sample (the
   last ``n - 1 - maxlag`` differences) ``dr_t`` is regressed on ``r_{t-1}`` and the first
   ``k`` lagged differences for ``k = 0..maxlag``, each fit's AIC is
   ``n log(2 pi) + n log(ssr / n) + n + 2 (k + 1)`` (statsmodels' profile likelihood, as
   many parameters as columns), and the smallest wins (the shorter lag on a tie);
   all these nested fits come from one (Householder) QR of ``[r_{t-1}, lags, dr_t]``:
   the residual sum of squares of the first ``j`` columns is the sum of squares of the
   last column of R from row ``j`` down;
3. the chosen lag re-fitted on its full sample (the last ``n - 1 - k`` differences), with
   ``r_{t-1}`` ordered last so that its t-statistic is read off R:
   ``sign(R_ll) R_ly / sqrt(ssr / (m - k - 1))``;
4. the p-value from statsmodels' ``mackinnonp(t, regression="c", N=legs)``, its tables and
   formula read without importing ``scipy.stats`` (``pair_mackinnon``: the same numbers).

For a pair, steps 1 to 3 run as one compiled call (``_two_leg_statistic``): about 0.1 ms
a test on 480 bars where the same steps as numpy calls took 0.17 ms.

The numbers equal statsmodels' to rounding (the tests hold them to 1e-9).  Where rounding
could change a discrete choice, the fast path declines and :func:`coint_pvalue` asks
statsmodels itself: two AICs closer than ``AIC_TIE``, an R^2 within ``R2_MARGIN`` of the
collinear threshold, a (nearly) rank-deficient regression, non-finite or constant data,
and windows shorter than ``MIN_BARS`` (where statsmodels raises or divides by zero).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from numba import njit

from engine.kinds.pair_mackinnon import mackinnon_p

#: coint's collinearity threshold on the cointegrating regression's R^2.
COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(float(np.finfo(np.double).eps))
#: An R^2 this close to the threshold could fall on either side after rounding.
R2_MARGIN = 1e-12
#: Two AICs this close (in AIC units, where one lag costs 2) could swap after rounding.
AIC_TIE = 1e-6
#: A diagonal of R this small against its largest: the design is (nearly) rank-deficient
#: and statsmodels' pseudo-inverse may treat it differently from a QR.
MIN_PIVOT = 1e-8
#: Windows shorter than this go to statsmodels (tiny samples raise or leave no degrees of
#: freedom there; no strategy tests on them).
MIN_BARS = 20
#: statsmodels' pseudo-inverse cut-off (``pinv_extended``'s default ``rcond``).
PINV_RCOND = 1e-15


def pinv_extended(x: np.ndarray) -> np.ndarray:
    """statsmodels' ``tools.pinv_extended`` (the pseudo-inverse ``OLS.fit`` uses), same
    operations in the same order, so the cointegrating residuals are its own."""
    u, s, vt = np.linalg.svd(x, False)
    cutoff = PINV_RCOND * np.maximum.reduce(s)
    inverse = np.zeros_like(s)
    kept = s > cutoff
    inverse[kept] = 1.0 / s[kept]
    return np.dot(np.transpose(vt), np.multiply(inverse[:, np.newaxis], np.transpose(u)))


def cointegrating_residuals(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """``(residuals, R^2)`` of ``y`` on ``[x, 1]``, as coint's first stage."""
    design = np.column_stack([x, np.ones(len(y))])
    beta = np.dot(pinv_extended(design), y)
    resid = y - np.dot(design, beta)
    centred = y - y.mean()
    return resid, 1.0 - np.dot(resid, resid) / np.dot(centred, centred)


@functools.cache
def adf_maxlag(n: int) -> int:
    """adfuller's default ``maxlag`` for ``n`` values and no deterministic terms (cached:
    numpy's scalar power and ceiling cost more than the rest of the rule, and a pair
    cluster asks for the same window length at every test)."""
    return min(n // 2 - 1, int(np.ceil(12.0 * np.power(n / 100.0, 1 / 4.0))))


@njit(cache=True)
def householder_r(A: np.ndarray) -> np.ndarray:
    """The R of a QR of ``A`` (m x k, m >= k) by Householder reflections, in one thread.

    Why not ``numpy.linalg.qr``: on a few hundred rows OpenBLAS splits the work over
    threads, and on a busy machine that costs ten times the arithmetic (a 461 x 20 QR
    measured 48 us in one thread and 270 us to 8 ms threaded).  Row ``j`` of R is
    determined up to its sign; callers read only sign-free figures."""
    return _householder_rows(np.ascontiguousarray(A.T))


@njit(cache=True)
def _householder_rows(columns: np.ndarray) -> np.ndarray:
    """``householder_r`` of the matrix whose columns are the rows of ``columns`` (one
    contiguous row per column: the loops run along rows); ``columns`` is overwritten."""
    k = columns.shape[0]
    m = columns.shape[1]
    R = np.zeros((k, k))
    v = np.empty(m)
    for j in range(k):
        norm2 = 0.0
        for i in range(j, m):
            norm2 += columns[j, i] * columns[j, i]
        norm = np.sqrt(norm2)
        head = columns[j, j]
        alpha = -norm if head >= 0 else norm
        R[j, j] = alpha
        if norm == 0.0:
            continue
        v[j] = head - alpha
        for i in range(j + 1, m):
            v[i] = columns[j, i]
        v_norm2 = norm2 - head * head + v[j] * v[j]
        head_v = v[j:]
        for c in range(j + 1, k):
            column = columns[c, j:]
            f = 2.0 * np.dot(head_v, column) / v_norm2
            for i in range(m - j):
                column[i] -= f * head_v[i]
            R[j, c] = column[0]
    return R


@njit(cache=True)
def adf_r(resid: np.ndarray, lags: int, level_first: bool) -> np.ndarray:
    """``householder_r`` of the ADF regression with ``lags`` lagged differences on its own
    sample, the target ``dr_t`` last: the lags ``dr_{t-1} .. dr_{t-lags}`` then the level
    ``r_{t-1}``, or with ``level_first`` the level first.  The same values as
    ``lag_design`` (each difference ``r_{i+1} - r_i``, as ``numpy.diff``) written straight
    into the QR's layout, without numpy's stacking and transposing calls."""
    m = len(resid) - 1 - lags
    columns = np.empty((lags + 2, m))
    level = 0 if level_first else lags
    first_lag = 1 if level_first else 0
    for t in range(m):
        row = lags + t  # the bar of r_{t-1} in resid: the sample starts after the lags
        columns[level, t] = resid[row]
        for i in range(1, lags + 1):
            columns[first_lag + i - 1, t] = resid[row - i + 1] - resid[row - i]
        columns[lags + 1, t] = resid[row + 1] - resid[row]
    return _householder_rows(columns)


def lag_design(resid: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """``(design, target)`` of the ADF with ``lags`` lagged differences on its own sample:
    columns ``[dr_{t-1}, ..., dr_{t-lags}, r_{t-1}]``, target ``dr_t``."""
    diff = np.diff(resid)
    m = len(diff) - lags
    columns = [diff[lags - i:lags - i + m] for i in range(1, lags + 1)]
    columns.append(resid[lags:lags + m])
    return np.column_stack(columns), diff[lags:]


#: ``_two_leg_statistic``'s outcomes.
_DECLINED, _TESTED, _COLLINEAR = 0, 1, 2


@njit(cache=True)
def _two_leg_statistic(y: np.ndarray, x: np.ndarray, maxlag: int, collinear_r2: float,
                       r2_margin: float, aic_tie: float,
                       min_pivot: float) -> tuple[int, float]:
    """``(outcome, t)`` of steps 1-3 of the module docstring for one regressor, in one
    compiled call, with the same declines as the general path.  The margins are arguments,
    not globals, so that changing them takes effect."""
    if not _varied_and_finite(y, x):
        return _DECLINED, np.nan
    resid, r2 = _one_regressor_residuals(y, x)
    if not np.isfinite(r2) or abs(r2 - collinear_r2) < r2_margin:
        return _DECLINED, np.nan
    if r2 >= collinear_r2:
        return _COLLINEAR, -np.inf
    if resid.max() == resid.min():
        return _DECLINED, np.nan
    t = adf_t(resid, maxlag, aic_tie, min_pivot)
    return (_TESTED, t) if np.isfinite(t) else (_DECLINED, np.nan)


@njit(cache=True)
def _varied_and_finite(y: np.ndarray, x: np.ndarray) -> bool:
    """Both series finite, neither constant (``fast_coint``'s checks)."""
    y_lo = y_hi = y[0]
    x_lo = x_hi = x[0]
    for i in range(len(y)):
        if not (np.isfinite(y[i]) and np.isfinite(x[i])):
            return False
        y_lo, y_hi = min(y_lo, y[i]), max(y_hi, y[i])
        x_lo, x_hi = min(x_lo, x[i]), max(x_hi, x[i])
    return y_hi != y_lo and x_hi != x_lo


@njit(cache=True)
def centred_sums(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, float]:
    """``(mean a, mean b, Saa, Sab, Sbb)``: the means and the sums of centred squares and
    cross products of two series, in bar order (the pair's closed-form hedges use them
    too, ``pair_fast``)."""
    n = len(a)
    a_mean = 0.0
    b_mean = 0.0
    for i in range(n):
        a_mean += a[i]
        b_mean += b[i]
    a_mean /= n
    b_mean /= n
    saa = 0.0
    sab = 0.0
    sbb = 0.0
    for i in range(n):
        da = a[i] - a_mean
        db = b[i] - b_mean
        saa += da * da
        sab += da * db
        sbb += db * db
    return a_mean, b_mean, saa, sab, sbb


@njit(cache=True)
def _one_regressor_residuals(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Step 1 for one regressor: the residuals of ``y`` on ``[x, 1]`` and the centred R^2,
    from the centred sums (the slope ``Sxy / Sxx``, the intercept through the means)."""
    x_mean, y_mean, sxx, sxy, syy = centred_sums(x, y)
    beta = sxy / sxx
    resid = np.empty(len(y))
    ssr = 0.0
    for i in range(len(y)):
        resid[i] = (y[i] - y_mean) - beta * (x[i] - x_mean)
        ssr += resid[i] * resid[i]
    return resid, 1.0 - ssr / syy


@njit(cache=True)
def adf_t(resid: np.ndarray, maxlag: int, aic_tie: float, min_pivot: float) -> float:
    """Steps 2 and 3 of the module docstring on the cointegrating residuals: the ADF
    statistic at the AIC lag, or NaN where the fast path declines."""
    lags = aic_lag(resid, maxlag, aic_tie, min_pivot)
    return np.nan if lags < 0 else adf_statistic(resid, lags, min_pivot)


@njit(cache=True)
def aic_lag(resid: np.ndarray, maxlag: int, aic_tie: float, min_pivot: float) -> int:
    """The AIC lag over the common sample (the level first, then lags 1..maxlag: nested
    prefixes of one QR are the candidate models), or -1 where rounding could change it
    (two AICs closer than ``aic_tie``, a pivot below ``min_pivot`` of the largest)."""
    columns = maxlag + 1
    m = len(resid) - 1 - maxlag
    if m <= columns:
        return -1
    R = adf_r(resid, maxlag, True)
    if not _pivots_ok(R, columns, min_pivot):
        return -1
    aic = np.empty(columns)
    ssr = 0.0
    for j in range(columns, 0, -1):  # numpy's reversed cumsum: the last row first
        ssr += R[j, columns] * R[j, columns]
        if not ssr > 0:
            return -1
        aic[j - 1] = m * np.log(2 * np.pi) + m * np.log(ssr / m) + m + 2.0 * j
    best = 0
    for j in range(1, columns):
        if aic[j] < aic[best]:  # the first of equal AICs: the shorter lag
            best = j
    for j in range(columns):
        if j != best and aic[j] - aic[best] < aic_tie:
            return -1
    return best


@njit(cache=True)
def adf_statistic(resid: np.ndarray, lags: int, min_pivot: float) -> float:
    """The t-statistic of ``r_{t-1}`` with ``lags`` lagged differences, on its full
    sample, read off R (``r_{t-1}`` ordered last); NaN where it declines."""
    columns = lags + 1
    dof = len(resid) - 1 - lags - columns
    if dof < 1:
        return np.nan
    R = adf_r(resid, lags, False)
    if not _pivots_ok(R, columns, min_pivot):
        return np.nan
    scale = R[columns, columns] ** 2 / dof
    pivot = R[lags, lags]
    if not scale > 0 or pivot == 0.0:
        return np.nan
    return np.sign(pivot) * R[lags, columns] / np.sqrt(scale)


@njit(cache=True)
def _pivots_ok(R: np.ndarray, columns: int, min_pivot: float) -> bool:
    """No pivot of R's first ``columns`` below ``min_pivot`` of the largest (a (nearly)
    rank-deficient design is left to statsmodels)."""
    lo = abs(R[0, 0])
    hi = lo
    for j in range(1, columns):
        lo, hi = min(lo, abs(R[j, j])), max(hi, abs(R[j, j]))
    return lo > min_pivot * hi


def fast_coint(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """``(t, p)`` of ``coint(y, x)`` with its defaults, or None where only statsmodels can
    promise its own numbers (module docstring)."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    if len(y) < MIN_BARS:
        return None
    if x.shape[1] == 1:
        outcome, t = _two_leg_statistic(y, x[:, 0], adf_maxlag(len(y)), COLLINEAR_R2,
                                        R2_MARGIN, AIC_TIE, MIN_PIVOT)
        return None if outcome == _DECLINED else (float(t), mackinnon_p(t, 2))
    if not (np.isfinite(y).all() and np.isfinite(x).all()):
        return None
    if np.ptp(y) == 0 or np.any(np.ptp(x, axis=0) == 0):
        return None
    legs = x.shape[1] + 1
    resid, r2 = cointegrating_residuals(y, x)
    if not math.isfinite(r2) or abs(r2 - COLLINEAR_R2) < R2_MARGIN:
        return None
    if r2 >= COLLINEAR_R2:
        return -math.inf, mackinnon_p(-math.inf, legs)
    if np.ptp(resid) == 0:
        return None
    t = adf_t(resid, adf_maxlag(len(resid)), AIC_TIE, MIN_PIVOT)
    return (float(t), mackinnon_p(t, legs)) if math.isfinite(t) else None


def statsmodels_pvalue(y: np.ndarray, x: np.ndarray) -> float:
    """statsmodels' own ``coint(y, x)`` p-value; NaN when it cannot test the window."""
    from statsmodels.tsa.stattools import coint

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(coint(y, x)[1])
    except (ValueError, np.linalg.LinAlgError):
        return math.nan


def coint_pvalue(y: np.ndarray, x: np.ndarray) -> float:
    """The p-value of ``coint(y, x)``: the fast path, or statsmodels where it declines."""
    fast = fast_coint(y, x)
    return statsmodels_pvalue(y, x) if fast is None else fast[1]
