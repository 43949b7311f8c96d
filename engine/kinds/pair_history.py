"""``pair_batch``'s table: the pair model over a whole history, window by window at once.

The figures come from ``engine.kinds.pair_windows`` (the batch arithmetic); the
cointegration tests from the same statsmodels call the streaming model makes, at the same
bars (every ``test_every`` bars from the first valid one), and the lock from their
verdicts by ``pair_lock.locked_runs``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.factor import NO_FACTOR, PC1, FactorSeries, residual_prices
from engine.kinds import pair_stats as stats
from engine.kinds import pair_windows as batch
from engine.kinds.pair_lock import (
    coint_message,
    eg_fails,
    half_life_message,
    locked_runs,
    trace_fails,
)
from engine.kinds.pair_params import (
    DIAGNOSTICS,
    JOHANSEN,
    KALMAN,
    OLS,
    RETURNS,
    TLS,
    PairParams,
)


def _values(closes: pd.DataFrame, params: PairParams, factor: str, factor_window: int,
            series: FactorSeries | None, factor_closes: pd.DataFrame | None
            ) -> tuple[np.ndarray, int]:
    """The legs' values X from the first bar that has them, and that bar's index."""
    if factor == NO_FACTOR:
        prices = closes.to_numpy(dtype=np.float64)
        bad = ~((prices > 0) & (prices < np.inf))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DataError(f"{closes.columns[col]} price {prices[row, col]!r} at "
                            f"{closes.index[row]} is not a positive number")
        return (np.log(prices) if params.space == RETURNS else prices), 0
    if factor != PC1 and (series is None or series.name != factor):
        raise ValueError(f"factor {factor!r} needs its series")
    residual = residual_prices(closes, factor_window, series if factor != PC1 else None,
                               factor_closes)
    return np.log(residual.to_numpy()[factor_window:]), factor_window


def _weights(W: np.ndarray, params: PairParams) -> tuple[np.ndarray, np.ndarray, float]:
    if params.hedge == OLS:
        return batch.ols(W), np.full(len(W), np.nan), math.nan
    if params.hedge == TLS:
        return batch.tls(W), np.full(len(W), np.nan), math.nan
    if params.hedge == KALMAN:
        return batch.kalman(W, params.kalman_delta, params.kalman_obs_var), \
            np.full(len(W), np.nan), math.nan
    return batch.johansen(W)


def _tests(W: np.ndarray, trace: np.ndarray, critical: float, params: PairParams
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """At the test rows: ``(p, p_rev, trace, fails)``."""
    rows = np.arange(0, len(W), params.test_every)
    if params.hedge == JOHANSEN:
        tested = trace[rows]
        nan = np.full(len(rows), np.nan)
        return nan, nan, tested, np.array([trace_fails(t, critical) for t in tested], bool)
    pairs = np.array([stats.engle_granger(W[k]) for k in rows]).reshape(len(rows), 2)
    fails = np.array([eg_fails(p, q, params.coint_p_max) for p, q in pairs], bool)
    return pairs[:, 0], pairs[:, 1], np.full(len(rows), np.nan), fails


def _locks(params: PairParams, n_rows: int, p: np.ndarray, p_rev: np.ndarray,
           trace: np.ndarray, fails: np.ndarray, critical: float) -> list[str]:
    """Each row's cointegration lock text (the latest test's verdict)."""
    locked = locked_runs(fails, params.coint_lost_tests)
    per_test = [coint_message(params, min(params.coint_lost_tests, i + 1), p[i], p_rev[i],
                              trace[i], critical) if locked[i] else ""
                for i in range(len(fails))]
    return [per_test[k // params.test_every] for k in range(n_rows)]


def history_table(closes: pd.DataFrame, params: PairParams, factor: str, factor_window: int,
                  series: FactorSeries | None, factor_closes: pd.DataFrame | None
                  ) -> pd.DataFrame:
    table = pd.DataFrame(index=closes.index)
    table["score"] = np.nan
    table["valid"] = False
    table["lock"] = ""
    for name in DIAGNOSTICS:
        table[name] = np.nan
    X, offset = _values(closes, params, factor, factor_window, series, factor_closes)
    length = params.window
    if len(X) < length:
        return table
    hedge = batch.windows(X, params.hedge_window)[length - params.hedge_window:]
    recent = batch.windows(X, params.z_window)[length - params.z_window:]
    weights, trace, critical = _weights(hedge, params)
    p, p_rev, tested_trace, fails = _tests(hedge, trace, critical, params)
    coint_locks = _locks(params, len(hedge), p, p_rev, tested_trace, fails, critical)
    spread = np.einsum("mkn,mn->mk", hedge, weights)
    recent_spread = np.einsum("mkn,mn->mk", recent, weights)
    mean = recent_spread.mean(axis=1)
    std = recent_spread.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (recent_spread[:, -1] - mean) / std
    half_life = batch.half_lives(spread)
    tests = np.arange(len(hedge)) // params.test_every
    figures = np.column_stack([
        z, -weights[:, 1], p[tests], p_rev[tests], tested_trace[tests], half_life,
        batch.hursts(spread), batch.crossing_counts(recent_spread, mean).astype(float),
        recent_spread[:, -1] - mean])
    finite_weights = np.all(np.isfinite(weights), axis=1)
    valid = finite_weights & np.isfinite(z) & (std > 0)
    locks = [lock if not finite_weights[k] else lock or half_life_message(params, half_life[k])
             for k, lock in enumerate(coint_locks)]
    rows = slice(offset + length - 1, None)
    figures[~valid] = np.nan
    table.iloc[rows, table.columns.get_loc("score")] = np.where(valid, z, np.nan)
    table.iloc[rows, table.columns.get_loc("valid")] = valid
    table.iloc[rows, table.columns.get_loc("lock")] = locks
    for i, name in enumerate(DIAGNOSTICS):
        table.iloc[rows, table.columns.get_loc(name)] = figures[:, i]
    return table
