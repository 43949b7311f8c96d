"""The ``pair`` kind: a cointegrated pair, or an N-leg spread, traded on its z-score.

Per closed signal bar ``t`` of the legs (docs/architecture.md, Strategy kinds: pair):

1. ``X`` is the legs' log prices (``space = "returns"``) or prices (``"price"``); with a
   factor (``engine.factor``) the legs' residual log prices;
2. weights ``w`` (``w[0] = 1``) from the trailing ``hedge_window`` bars up to and
   including ``t`` (the bar is closed) by the ``hedge`` estimator (``pair_stats``);
3. the spread ``s_j = X_j . w`` at the ``z_window`` bars ending at ``t``, their mean and
   standard deviation (ddof=1); the score is ``z = (s_t - mean) / std``;
4. half-life and Hurst exponent of the spread over the hedge window (the same weights),
   crossings of its mean in the z window; the cointegration test every ``test_every`` bars
   and the lock (``pair_lock``).

A LONG basket buys the spread (the z-score is low: long leg 1, short ``gamma_i`` of leg i):
in returns space each leg's dollar exposure is proportional to ``w_i``, in price space to
``w_i P_i`` (``w_i`` units of each leg: the legs are assumed quoted in one currency).

``PairModel`` is the streaming side; ``pair_batch`` computes a whole history with the
window arithmetic of ``pair_windows``.  The Engle-Granger p-values come from the same
statsmodels call in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import ranges
from engine.errors import DataError
from engine.factor import DEFAULT_WINDOW, NO_FACTOR, PC1, FactorSeries, FactorStream
from engine.kinds import pair_fast as fast
from engine.kinds import pair_stats as stats
from engine.kinds.base import KindPoint, SignalModel, invalid_point, unit_gross
from engine.kinds.pair_history import history_table
from engine.kinds.pair_lock import CointLock, eg_fails, half_life_message, trace_fails
from engine.kinds.pair_params import (
    DIAGNOSTICS,
    JOHANSEN,
    KALMAN,
    OLS,
    PRICE,
    RETURNS,
    TLS,
    PairParams,
)
from engine.model import Direction

#: ``provisional_estimates``' bound, relative to the magnitudes it is computed from.
_ESTIMATE_SLACK = 1e-12


@dataclass(frozen=True)
class PairState:
    """What a point's basket and the provisional score need: the weights, the members'
    closes at the bar (as quoted), the spread's z-window mean and std, the half-life."""

    weights: np.ndarray
    closes: np.ndarray
    mean: float
    std: float
    half_life: float


def check_legs(symbols: Sequence[str], params: PairParams, factor: str) -> tuple[str, ...]:
    """The legs as a tuple; ValueError for a count, a hedge or a factor that cannot be."""
    legs = tuple(symbols)
    params.check_symbols(legs)
    if factor != NO_FACTOR and params.space != RETURNS:
        raise ValueError(f"factor {factor!r} needs space = \"returns\": the factor stage "
                         "removes it from log returns")
    return legs


def weights_of(X: np.ndarray, params: PairParams) -> tuple[np.ndarray, float, float]:
    """``(weights, trace, critical)`` of one hedge window (trace NaN but for Johansen)."""
    if params.hedge == OLS:
        return stats.ols_weights(X), math.nan, math.nan
    if params.hedge == TLS:
        return stats.tls_weights(X), math.nan, math.nan
    if params.hedge == KALMAN:
        return stats.kalman_weights(X, params.kalman_delta, params.kalman_obs_var), \
            math.nan, math.nan
    return stats.johansen(X)


def time_stop(params: PairParams, half_life: float) -> int | None:
    """ceil(``time_stop_half_lives`` x half-life) bars, or None for the cluster's."""
    if params.time_stop_half_lives == 0 or not math.isfinite(half_life):
        return None
    bars = math.ceil(params.time_stop_half_lives * half_life)
    return min(max(bars, 1), ranges.MAX_ANY_BARS)


class PairModel(SignalModel):
    """The streaming pair model (module docstring).  Memory: the last window of values."""

    kind = "pair"
    diagnostic_names = DIAGNOSTICS

    def __init__(self, symbols: Sequence[str], params: PairParams, factor: str = NO_FACTOR,
                 factor_window: int = DEFAULT_WINDOW,
                 factor_series: FactorSeries | None = None) -> None:
        self.symbols = check_legs(symbols, params, factor)
        self.params = params
        self.factor = _factor_stream(self.symbols, factor, factor_window, factor_series)
        self.feed_symbols = self.factor.feed_symbols if self.factor else self.symbols
        self._length = params.window
        self.warmup_bars = (factor_window if self.factor else 0) + params.warmup_bars
        n = len(self.symbols)
        self._buffer = np.zeros((2 * self._length, n))
        self._rows = 0
        self._since_warm = -1
        self._lock = CointLock(params)
        self._tested = (math.nan, math.nan, math.nan)
        self._last: PairState | None = None
        #: ``fast.two_leg_point``'s estimator for this model, None where it does not apply.
        self._fast_mode = {OLS: fast.OLS_MODE, TLS: fast.TLS_MODE,
                           KALMAN: fast.KALMAN_MODE}.get(params.hedge) if n == 2 else None

    def _values(self, closes: np.ndarray, provisional: bool = False) -> np.ndarray | None:
        """The legs' values X of one bar (None in the factor's warm-up)."""
        if self.factor is None:
            members = closes[: len(self.symbols)]
            for symbol, price in zip(self.symbols, members.tolist(), strict=True):
                if not 0 < price < math.inf:
                    raise DataError(f"{symbol} price {price!r} is not a positive number")
        elif provisional:
            members = self.factor.provisional(closes)
        else:
            members = self.factor.update(closes)
        if members is None:
            return None
        return np.log(members) if self.params.space == RETURNS else np.asarray(members, float)

    def _push(self, row: np.ndarray) -> np.ndarray | None:
        """Append a row; the last ``window`` rows (oldest first) once there are enough."""
        slot = self._rows % self._length
        self._buffer[slot] = row
        self._buffer[slot + self._length] = row
        self._rows += 1
        if self._rows < self._length:
            return None
        start = self._rows % self._length
        return self._buffer[start: start + self._length]

    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        closes = np.asarray(closes, dtype=np.float64)
        row = self._values(closes)
        window = None if row is None else self._push(row)
        if window is None:
            return invalid_point(len(DIAGNOSTICS))
        self._since_warm += 1
        return self._point(window, closes[: len(self.symbols)])

    def _point(self, window: np.ndarray, closes: np.ndarray) -> KindPoint:
        p = self.params
        X = window[-p.hedge_window:]
        figures = self._two_leg_figures(window)
        if figures is not None:
            w1, z, mean, std, slope, crossings, hurst, last = figures
            weights = np.array((1.0, w1))
            trace = critical = math.nan
        else:
            weights, trace, critical = weights_of(X, p)
        if self._since_warm % p.test_every == 0:
            self._test(X, trace, critical)
        if not all(math.isfinite(w) for w in weights.tolist()):
            self._last = None
            return invalid_point(len(DIAGNOSTICS), self._lock.message)
        if figures is None:
            # One product over the longer window: each bar's spread is its own row's dot
            # product, the same figure as the separate products over each window.
            values = window @ weights
            recent = values[-p.z_window:]
            z, mean, std, slope, crossings, hurst = fast.spread_figures(
                values[-p.hedge_window:], recent)
            last = float(recent[-1])
        half_life = stats.half_life_of(slope)
        lock = self._lock.message or half_life_message(p, half_life)
        if not math.isfinite(z):
            self._last = None
            return invalid_point(len(DIAGNOSTICS), lock)
        self._last = PairState(weights, closes.copy(), mean, std, half_life)
        p_eg, p_rev, tested_trace = self._tested
        diagnostics = (z, -weights[1], p_eg, p_rev, tested_trace, half_life, hurst,
                       float(crossings), last - mean)
        return KindPoint(z, True, lock, diagnostics, self._last)

    def _two_leg_figures(self, window: np.ndarray) -> tuple | None:
        """``fast.two_leg_point`` of a two-leg OLS, TLS or Kalman window, or None: more
        legs, Johansen, or an OLS or TLS window the closed form cannot decide
        (``weights_of`` then decides it, as for any window)."""
        mode = self._fast_mode
        if mode is None:
            return None
        p = self.params
        figures = fast.two_leg_point(window, p.hedge_window, p.z_window, mode,
                                     p.kalman_delta, p.kalman_obs_var)
        if math.isfinite(figures[0]) or mode == fast.KALMAN_MODE:
            return figures
        return None

    def _test(self, X: np.ndarray, trace: float, critical: float) -> None:
        if self.params.hedge == JOHANSEN:
            self._tested = (math.nan, math.nan, trace)
            fails = trace_fails(trace, critical)
        else:
            p, p_rev = stats.engle_granger(X)
            self._tested = (p, p_rev, math.nan)
            fails = eg_fails(p, p_rev, self.params.coint_p_max)
        self._lock.record(fails, *self._tested, critical)

    def provisional(self, prices: np.ndarray) -> float:
        last = self._last
        if last is None:
            return math.nan
        row = self._values(np.asarray(prices, dtype=np.float64), provisional=True)
        if row is None:
            return math.nan
        return (float(row @ last.weights) - last.mean) / last.std

    def provisional_estimates(self, prices: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows' spreads as one matrix product (``provisional`` takes each row's own
        dot product: the two may differ in the last bits).  The bound is 1e-12 of the
        figures' magnitudes in z units, thousands of times the rounding of a few legs'
        products, sums and one division.  None with a factor (its own stream decides)."""
        if self.factor is not None:
            return None
        rows = len(prices)
        last = self._last
        if last is None:
            return np.full(rows, math.nan), np.zeros(rows)
        members = prices[:, : len(self.symbols)]
        with np.errstate(all="ignore"):  # rows that are not prices: NaN, never clear
            values = np.log(members) if self.params.space == RETURNS else members
            estimates = (values @ last.weights - last.mean) / last.std
            scale = (np.abs(values) @ np.abs(last.weights) + abs(last.mean)) / last.std
            bound = _ESTIMATE_SLACK * (scale + np.abs(estimates) + 1.0)
        return estimates, bound

    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        state = point.state
        if not point.valid or not isinstance(state, PairState):
            raise ValueError("the point has no hedge to build a basket from")
        values = state.weights * state.closes if self.params.space == PRICE else state.weights
        sign = 1.0 if direction == Direction.LONG else -1.0
        return unit_gross(dict(zip(self.symbols, sign * values, strict=True)))

    def time_stop_bars(self, point: KindPoint) -> int | None:
        state = point.state
        return time_stop(self.params, state.half_life) if isinstance(state, PairState) \
            else None


def _factor_stream(symbols: tuple[str, ...], factor: str, window: int,
                   series: FactorSeries | None) -> FactorStream | None:
    if factor == NO_FACTOR:
        return None
    if factor == PC1:
        return FactorStream(symbols, window)
    if series is None or series.name != factor:
        raise ValueError(f"factor {factor!r} needs its series, got "
                         f"{series.name if series is not None else None!r}")
    return FactorStream(symbols, window, series)


def pair_batch(closes: pd.DataFrame, params: PairParams, factor: str = NO_FACTOR,
               factor_window: int = DEFAULT_WINDOW, factor_series: FactorSeries | None = None,
               factor_closes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pair model over a whole history: columns ``score``, ``valid``, ``lock`` and the
    diagnostics, one row per bar of ``closes`` (one column per leg, aligned closes).
    Equal to ``PairModel`` bar by bar; ``factor_closes`` as in
    ``engine.factor.residual_prices``."""
    check_legs([str(c) for c in closes.columns], params, factor)
    return history_table(closes, params, factor, factor_window, factor_series, factor_closes)
