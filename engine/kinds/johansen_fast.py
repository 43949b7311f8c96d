"""statsmodels' ``coint_johansen(X, 0, 1)`` (a constant, one lagged difference) on one
window, compiled: the first cointegrating vector and the trace statistic for rank 0.

Why: ``coint_johansen`` detrends with statsmodels ``OLS`` models, projects with
pseudo-inverses by SVD and solves a non-symmetric eigenproblem; on a 250-bar window of
three legs that is about 0.6 ms, fifty times a four-symbol TDI bar, and the streaming pair
asks it at every bar.  The arithmetic underneath is a few small cross-product matrices.

The steps are statsmodels' own (``det_order = 0``, ``k_ar_diff = 1``):

1. the levels less their mean (``detrend(endog, 0)``), their differences ``dx``; the
   lagged differences ``z`` (``dx`` less its last row), the differences ``d`` (``dx``
   less its first) and the lagged levels ``l`` (rows ``1 .. n - 2``), each less its mean;
2. ``r0`` and ``rk``: ``d`` and ``l`` less their least-squares projection on ``z``
   (statsmodels: ``pinv``; here the normal equations, equal to rounding for a ``z`` of
   full rank);
3. ``S00``, ``Sk0``, ``Skk`` (divided by the ``m = n - 2`` rows); statsmodels takes the
   eigenvalues and vectors of ``Skk^-1 Sk0 S00^-1 S0k``; here the same problem made
   symmetric with ``Skk``'s Cholesky factor ``L`` (``eigh`` of
   ``L^-1 Sk0 S00^-1 S0k L^-T``, the vectors mapped back by ``L^-T``): the same
   eigenvalues, and the same vectors up to scale, which the caller normalises away;
4. the trace statistic ``-m sum(log(1 - lambda_i))``.

The numbers equal statsmodels' to rounding (the tests hold them to 1e-9).  Where rounding
could decide differently, :func:`johansen_point` declines (None) and the caller asks
statsmodels: non-finite data, a matrix whose Cholesky factor has a pivot below
``MIN_PIVOT`` of its largest (a rank-deficient or nearly collinear window, where the
pseudo-inverse and the normal equations part), eigenvalues outside ``[0, 1)``, and two
largest eigenvalues closer than ``EIGEN_GAP`` (relative): their vectors are then not
determined to more than a few digits by either arithmetic.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

__all__ = ["EIGEN_GAP", "MIN_PIVOT", "johansen_critical_95", "johansen_point"]

#: A Cholesky pivot this small against the largest: the matrix is (nearly) singular.
MIN_PIVOT = 1e-7
#: The two largest eigenvalues this close (relative to the largest): the top vector is
#: ill-determined, statsmodels decides.
EIGEN_GAP = 1e-6


@njit(cache=True)
def _less_mean(a: np.ndarray) -> np.ndarray:
    """``a`` less its column means (a new C-contiguous array)."""
    rows, cols = a.shape
    out = np.empty((rows, cols))
    for j in range(cols):
        total = 0.0
        for i in range(rows):
            total += a[i, j]
        mean = total / rows
        for i in range(rows):
            out[i, j] = a[i, j] - mean
    return out


@njit(cache=True)
def _pivots_ok(factor: np.ndarray, min_pivot: float) -> bool:
    largest = 0.0
    smallest = np.inf
    for i in range(factor.shape[0]):
        pivot = abs(factor[i, i])
        largest = max(largest, pivot)
        smallest = min(smallest, pivot)
    return largest > 0 and smallest > min_pivot * largest


@njit(cache=True)
def _johansen(X: np.ndarray, min_pivot: float
              ) -> tuple[int, np.ndarray, np.ndarray, float]:
    """``(status, top vector, eigenvalues ascending, trace)``; status 0 is a result, 1 a
    window the caller must give to statsmodels."""
    n, k = X.shape
    empty = np.empty(0)
    for i in range(n):
        for j in range(k):
            if not np.isfinite(X[i, j]):
                return 1, empty, empty, np.nan
    levels = _less_mean(X)
    dx = levels[1:] - levels[:-1]
    z = _less_mean(dx[:-1])
    d = _less_mean(dx[1:])
    lagged = _less_mean(levels[1:n - 1])
    zz = z.T @ z
    zz_factor = np.linalg.cholesky(zz)
    if not _pivots_ok(zz_factor, min_pivot):
        return 1, empty, empty, np.nan
    r0 = d - z @ np.linalg.solve(zz, z.T @ d)
    rk = lagged - z @ np.linalg.solve(zz, z.T @ lagged)
    m = r0.shape[0]
    s00 = r0.T @ r0 / m
    sk0 = rk.T @ r0 / m
    skk = rk.T @ rk / m
    if not _pivots_ok(np.linalg.cholesky(s00), min_pivot):
        return 1, empty, empty, np.nan
    factor = np.linalg.cholesky(skk)
    if not _pivots_ok(factor, min_pivot):
        return 1, empty, empty, np.nan
    left = np.linalg.solve(factor, sk0)  # L^-1 Sk0
    product = left @ np.linalg.solve(s00, np.ascontiguousarray(left.T))
    symmetric = 0.5 * (product + product.T)
    values, vectors = np.linalg.eigh(symmetric)
    top = np.linalg.solve(np.ascontiguousarray(factor.T),
                          np.ascontiguousarray(vectors[:, k - 1]))
    trace = 0.0
    for i in range(k):
        trace += np.log1p(-values[i])
    return 0, top, values, -m * trace


def johansen_point(X: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``(top vector, trace)`` of one window (rows: bars, columns: legs), or None where the
    caller must ask statsmodels (the module docstring says when)."""
    window = np.ascontiguousarray(X, dtype=np.float64)
    if window.ndim != 2 or window.shape[1] < 2 or window.shape[0] <= window.shape[1] + 3:
        return None
    try:
        status, top, values, trace = _johansen(window, MIN_PIVOT)
    except np.linalg.LinAlgError:  # a Cholesky factor that does not exist: not positive
        return None
    if status != 0:
        return None
    largest, second = float(values[-1]), float(values[-2])
    if not (values[0] >= 0.0 and largest < 1.0 and np.isfinite(trace)):
        return None
    if largest - second <= EIGEN_GAP * largest:
        return None
    return top, float(trace)


@functools.cache
def johansen_critical_95(legs: int) -> float:
    """The 95% critical value of the trace statistic for rank 0 (statsmodels' table for a
    constant, ``c_sjt(legs, 0)``)."""
    from statsmodels.tsa.coint_tables import c_sjt

    return float(c_sjt(legs, 0)[1])
