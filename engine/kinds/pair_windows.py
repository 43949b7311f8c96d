"""The statistics of every trailing window of a history at once: the batch side.

The same definitions as ``engine.kinds.pair_stats`` (read its docstring), computed with a
different arithmetic so that the tests comparing the two check the definitions and not
one code path twice: windows are views (``sliding_window_view``), regressions come from
centred cross-product matrices solved in batches, the orthogonal regression from batched
``eigh``, the Kalman filter steps every window in lockstep, and Johansen's eigenproblem is
written out (the reduced-rank regression, batched, made symmetric with a Cholesky factor)
rather than calling statsmodels.  Only the critical values of the trace statistic come
from statsmodels' tables, as in the streaming side.

Arrays: ``W`` is a stack of windows, shape ``(M, bars, legs)``; results have one row per
window.
"""

from __future__ import annotations

import contextlib

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.kinds.pair_stats import HURST_LAGS, MIN_LEAD_WEIGHT


def windows(X: np.ndarray, length: int) -> np.ndarray:
    """Every window of ``length`` rows of ``X``, shape ``(len(X) - length + 1, length, N)``."""
    return np.swapaxes(sliding_window_view(X, length, axis=0), 1, 2)


def _cross(W: np.ndarray) -> np.ndarray:
    centred = W - W.mean(axis=1, keepdims=True)
    return np.einsum("mki,mkj->mij", centred, centred)


def normalised(V: np.ndarray) -> np.ndarray:
    """Each row divided by its first entry; NaN rows where leg 1 takes no part."""
    lead = V[:, :1]
    scale = np.max(np.abs(V), axis=1, keepdims=True)
    ok = (scale > 0) & (np.abs(lead) > MIN_LEAD_WEIGHT * scale)
    return np.where(ok, V / np.where(ok, lead, 1.0), np.nan)


def ols(W: np.ndarray) -> np.ndarray:
    """OLS weights ``[1, -beta]`` of leg 1 on the others, from centred cross products."""
    C = _cross(W)
    beta = np.linalg.solve(C[:, 1:, 1:], C[:, 1:, :1])[:, :, 0]
    return np.concatenate([np.ones((len(W), 1)), -beta], axis=1)


def tls(W: np.ndarray) -> np.ndarray:
    """The least-variance direction of each centred window."""
    vectors = np.linalg.eigh(_cross(W))[1]
    return normalised(vectors[:, :, 0])


def kalman(W: np.ndarray, delta: float, obs_var: float) -> np.ndarray:
    """The Kalman hedge at each window's last bar, every window filtered in lockstep."""
    m, n_bars, n = W.shape
    rel = W - W[:, :1, :]
    beta = np.zeros((m, n))
    P = np.broadcast_to(np.eye(n), (m, n, n)).copy()
    x = np.ones((m, n))
    noise = delta / (1.0 - delta) * np.eye(n)
    for t in range(n_bars):
        x[:, 1:] = rel[:, t, 1:]
        P += noise
        error = rel[:, t, 0] - np.einsum("mi,mi->m", x, beta)
        Rx = np.einsum("mij,mj->mi", P, x)
        q = np.einsum("mi,mi->m", x, Rx) + obs_var
        gain = Rx / q[:, None]
        beta += gain * error[:, None]
        P -= gain[:, :, None] * Rx[:, None, :]
    return np.concatenate([np.ones((m, 1)), -beta[:, 1:]], axis=1)


def _residual(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``y`` less its least-squares projection on ``z`` (both centred), per window."""
    coef = np.linalg.solve(np.einsum("mki,mkj->mij", z, z), np.einsum("mki,mkj->mij", z, y))
    return y - np.einsum("mki,mij->mkj", z, coef)


def johansen(W: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(weights, trace, critical_95)``: Johansen with a constant and one lagged
    difference, the first cointegrating vector and the trace statistic for rank 0.  A
    window whose eigenproblem cannot be formed (a singular cross-product matrix: a flat
    leg, one leg a multiple of another) has NaN weights and trace, the others their own."""
    from statsmodels.tsa.coint_tables import c_sjt

    critical = float(c_sjt(W.shape[2], 0)[1])
    try:
        weights, trace = _johansen_windows(W)
    except np.linalg.LinAlgError:  # one window at a time, so the others keep theirs
        weights = np.full((len(W), W.shape[2]), np.nan)
        trace = np.full(len(W), np.nan)
        for i in range(len(W)):
            with contextlib.suppress(np.linalg.LinAlgError):  # that window: NaN
                weights[i], trace[i] = (a[0] for a in _johansen_windows(W[i:i + 1]))
    return weights, trace, critical


def _johansen_windows(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``johansen``'s weights and trace of every window; LinAlgError if any window's
    matrices are singular."""

    def centred(a: np.ndarray) -> np.ndarray:
        return a - a.mean(axis=1, keepdims=True)

    diff = np.diff(W, axis=1)
    lagged_diff, now_diff, level = centred(diff[:, :-1]), centred(diff[:, 1:]), \
        centred(W[:, 1:-1])
    r0 = _residual(now_diff, lagged_diff)
    rk = _residual(level, lagged_diff)
    n_obs = r0.shape[1]
    s00 = np.einsum("mki,mkj->mij", r0, r0) / n_obs
    sk0 = np.einsum("mki,mkj->mij", rk, r0) / n_obs
    skk = np.einsum("mki,mkj->mij", rk, rk) / n_obs
    chol = np.linalg.cholesky(skk)
    left = np.linalg.solve(chol, sk0)  # L^-1 S_k0
    sym = left @ np.linalg.solve(s00, np.swapaxes(left, 1, 2))
    values, vectors = np.linalg.eigh(sym)
    top = np.linalg.solve(np.swapaxes(chol, 1, 2), vectors[:, :, -1:])[:, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):  # a degenerate window: no trace
        trace = -n_obs * np.log1p(-values).sum(axis=1)
    return normalised(top), trace


def half_lives(S: np.ndarray) -> np.ndarray:
    """The AR(1) half-life of each row of spreads (``pair_stats.half_life``)."""
    lagged = S[:, :-1] - S[:, :-1].mean(axis=1, keepdims=True)
    step = np.diff(S, axis=1)
    step = step - step.mean(axis=1, keepdims=True)
    b = (lagged * step).sum(axis=1) / (lagged * lagged).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.log(2.0) / np.log1p(np.where((b > -1) & (b < 0), b, -0.5))
    out = np.where(b >= 0, np.inf, np.where(b <= -1, 0.0, out))
    return np.where(np.isnan(b), np.nan, out)


def hursts(S: np.ndarray) -> np.ndarray:
    """The Hurst exponent of each row (``pair_stats.hurst``)."""
    variances = np.column_stack([(S[:, k:] - S[:, :-k]).var(axis=1) for k in HURST_LAGS])
    x = np.log(HURST_LAGS) - np.log(HURST_LAGS).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(variances)
        slope = (logs * x).sum(axis=1) / (x * x).sum()
    return np.where(np.all(variances > 0, axis=1), slope / 2.0, np.nan)


def crossing_counts(S: np.ndarray, mean: np.ndarray) -> np.ndarray:
    above = mean[:, None] <= S
    return np.count_nonzero(above[:, 1:] != above[:, :-1], axis=1)
