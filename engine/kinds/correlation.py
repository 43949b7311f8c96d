"""The ``correlation`` kind: the correlation regime between two assets' returns.

Why a kind of its own: an index and gold, or Brent and the Canadian dollar, move together
in one regime and apart (or against each other) in another, and a cluster whose spread
assumes the first (an FX cluster whose legs were correlated) should not open trades while
the second holds.  This kind measures the regime, says when it is broken and for how long,
and either locks other clusters (``action = "lock"``) or trades a directional basket of its
two symbols (``action = "trade"``).

Definitions (docs/architecture.md, Strategy kinds: correlation).  r_i(t) = log(P_i(t) /
P_i(t-1)) is the log return of symbol i's signal-bar close; a window of n returns ending at
bar t holds r(t-n+1) .. r(t), so it reads the closes t-n .. t and nothing later.

- rho_f(t), rho_s(t): the Pearson correlation of the two return series over the fast
  (n_f) and the slow (n_s) window ending at t;
- the Fisher-z interval of rho_f at confidence c: tanh(atanh(rho_f) -/+ q / sqrt(n_f - 3)),
  q the standard normal quantile of (1 + c) / 2;
- the score: ``crossing``: (atanh rho_f - atanh rho_s) / sqrt(1/(n_f - 3) + 1/(n_s - 3)),
  the z statistic of the difference of two independent correlations; the windows overlap
  (the fast one lies inside the slow one), so it is a guide in standard-error units, not a
  test with a false-alarm rate; ``sign_flip``: sign(rho_s) x atanh(rho_f) x sqrt(n_f - 3),
  the z statistic of rho_f against zero signed so that positive means "the same sign as
  the slow regime";
- the regime: ``broken`` when the score passes E (``crossing``: |score| > E; ``sign_flip``:
  score < -E, the fast correlation significantly of the opposite sign), back to ``normal``
  only inside the exit band (``crossing``: |score| < X; ``sign_flip``: score > -X, as its
  break is one-sided); ``regime_bars`` is how many signal bars the current regime has held,
  1 at the bar it began.  The regime starts at the first valid bar (``normal``, or
  ``broken`` if that bar's score already breaks) and a later bar without a score (a
  flat price, a missing close) holds it and counts;
- a ``trade`` basket: ``weights`` scaled by the inverse of each leg's return volatility
  over the slow window (ddof 1), so that each leg carries the same risk per unit weight,
  then to a gross of 1; the shared risk sizing sets the basket's size.

A window holding a non-finite return (a missing or non-positive close) or a leg with a
return variance below ``MIN_VARIANCE`` has no correlation: the point is invalid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from engine import ranges
from engine.kinds.base import KindPoint, SignalModel, unit_gross
from engine.kinds.correlation_params import RULES, CorrelationParams
from engine.model import Direction

__all__ = ["CorrelationModel", "CorrelationParams", "RegimeTracker", "correlation_batch"]

#: The shared thresholds' kind defaults: a break is two standard errors out, and the
#: regime is normal again within half of one.
DEFAULT_ENTRY = 2.0
DEFAULT_EXIT = 0.5
#: The highest entry threshold (``engine.cluster.MAX_TDI_LEVEL``'s bound, repeated here to
#: keep the kind free of the cluster spec).
MAX_THRESHOLD = 100.0
NORMAL, BROKEN = "normal", "broken"
DIAGNOSTICS = ("rho_fast", "rho_fast_lo", "rho_fast_hi", "rho_slow", "regime_bars")
#: Below this variance per return (a standard deviation of 1e-9, a ten-thousandth of a
#: EURUSD point per bar) a leg did not move and its correlation is not defined.
MIN_VARIANCE = 1e-18
#: |rho| is held below this before atanh: two identical series have rho = 1 and an
#: infinite z, which no threshold can compare with.
RHO_LIMIT = 1.0 - 1e-12
#: The return buffer holds this many slow windows before it is compacted.
BUFFER_WINDOWS = 8


# ------------------------------------------------------------------- shared formulas
# Each takes a float (the streaming model, through ``math``: a numpy call on one number
# costs microseconds, and ``provisional`` runs at every M1 close) or an array (the batch).
def fisher_z(rho: np.ndarray | float) -> np.ndarray | float:
    if isinstance(rho, float):
        return math.atanh(min(max(rho, -RHO_LIMIT), RHO_LIMIT)) if rho == rho else math.nan
    return np.arctanh(np.clip(rho, -RHO_LIMIT, RHO_LIMIT))


def _tanh(z: np.ndarray | float) -> np.ndarray | float:
    return math.tanh(z) if isinstance(z, float) else np.tanh(z)


def _sign(v: np.ndarray | float) -> np.ndarray | float:
    if isinstance(v, float):
        return math.nan if v != v else float((v > 0) - (v < 0))
    return np.sign(v)


@lru_cache(maxsize=16)
def _normal_quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


def fisher_interval(rho: np.ndarray | float, n: int, confidence: float
                    ) -> tuple[np.ndarray | float, np.ndarray | float]:
    """The Fisher-z interval of a correlation of ``n`` pairs at ``confidence``."""
    half = _normal_quantile((1.0 + confidence) / 2.0) / math.sqrt(n - 3)
    z = fisher_z(rho)
    return _tanh(z - half), _tanh(z + half)


def regime_score(rule: str, rho_fast: np.ndarray | float, rho_slow: np.ndarray | float,
                 n_fast: int, n_slow: int) -> np.ndarray | float:
    """The score of ``rule`` from the two correlations (module docstring)."""
    if rule == "crossing":
        scale = math.sqrt(1.0 / (n_fast - 3) + 1.0 / (n_slow - 3))
        return (fisher_z(rho_fast) - fisher_z(rho_slow)) / scale
    return _sign(rho_slow) * fisher_z(rho_fast) * math.sqrt(n_fast - 3)


class RegimeTracker:
    """The regime's hysteresis: a state that only the sequence of scores decides.

    Shared by the streaming model and the batch (whose loop over the scores is the one
    sequential step of the batch: a state that depends on the previous state cannot be a
    sliding-window sum).  ``set_thresholds`` applies from the next ``step``.
    """

    def __init__(self, rule: str, entry: float, exit_band: float) -> None:
        ranges.choice("rule", rule, RULES)
        self.rule = rule
        self.entry, self.exit_band = checked_thresholds(entry, exit_band)
        self.regime = ""
        self.bars = 0

    def set_thresholds(self, entry: float, exit_band: float) -> None:
        self.entry, self.exit_band = checked_thresholds(entry, exit_band)

    def _breaks(self, score: float) -> bool:
        return abs(score) > self.entry if self.rule == "crossing" else score < -self.entry

    def _recovers(self, score: float) -> bool:
        return abs(score) < self.exit_band if self.rule == "crossing" else score > -self.exit_band

    def step(self, score: float, valid: bool) -> tuple[str, int]:
        """The regime and its age after one more signal bar."""
        if not self.regime:
            if valid:
                self.regime, self.bars = (BROKEN if self._breaks(score) else NORMAL), 1
            return self.regime, self.bars
        turned = valid and (self._breaks(score) if self.regime == NORMAL
                            else self._recovers(score))
        if turned:
            self.regime, self.bars = (NORMAL if self.regime == BROKEN else BROKEN), 1
        else:
            self.bars += 1
        return self.regime, self.bars


def checked_thresholds(entry: float, exit_band: float) -> tuple[float, float]:
    """E in (0, 100) and X in (0, E), as a cluster's own thresholds are checked."""
    e = ranges.number("entry", entry, 0, MAX_THRESHOLD, low_open=True, high_open=True)
    x = ranges.number("exit_band", exit_band, 0, e, low_open=True, high_open=True)
    return e, x


def _returns(closes: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Log returns; a non-positive or missing close gives NaN (the window is invalid)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(closes / previous)


def _scalar_return(price: float, previous: float) -> float:
    """``_returns`` of one number (``provisional``'s hot path)."""
    ratio = price / previous if previous != 0 else math.nan
    return math.log(ratio) if ratio > 0 and math.isfinite(ratio) else math.nan


# ------------------------------------------------------------------- streaming model
class CorrelationModel(SignalModel):
    """The streaming regime watch of two symbols (module docstring).

    ``trades`` is True only for ``action = "trade"``: a ``lock`` cluster's points keep
    ``lock`` empty, and the engine locks the clusters in ``params.targets`` while
    ``point.regime`` is ``broken``.  A ``trade`` basket is directional, not market-neutral:
    it holds the two assets' own risk (the risk manager counts it fully).
    """

    kind = "correlation"
    diagnostic_names = DIAGNOSTICS

    def __init__(self, symbols: Sequence[str], params: CorrelationParams, *,
                 entry: float = DEFAULT_ENTRY, exit_band: float = DEFAULT_EXIT) -> None:
        if len(symbols) != 2 or symbols[0] == symbols[1]:
            raise ValueError(f"a correlation cluster watches exactly two distinct symbols, "
                             f"got {', '.join(symbols) or 'none'}")
        if not isinstance(params, CorrelationParams):
            raise TypeError(f"expected CorrelationParams, got {params!r}")
        self.symbols = tuple(symbols)
        self.feed_symbols = self.symbols
        self.params = params
        self.warmup_bars = params.warmup_bars
        self.trades = params.action == "trade"
        self._regime = RegimeTracker(params.rule, entry, exit_band)
        self._buffer = np.empty((2, BUFFER_WINDOWS * params.slow_window), dtype=np.float64)
        self._count = 0
        self._last: np.ndarray | None = None
        #: (fast, slow) moments of the last n - 1 closed returns, for ``provisional``.
        self._closed_moments: tuple[Moments, Moments] | None = None

    @property
    def entry(self) -> float:
        return self._regime.entry

    @property
    def exit_band(self) -> float:
        return self._regime.exit_band

    def set_thresholds(self, entry: float, exit_band: float) -> None:
        """The trader changed E or X: the regime reads them from the next bar on (a bar
        already closed keeps the regime it had)."""
        self._regime.set_thresholds(entry, exit_band)

    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        prices = np.asarray(closes, dtype=np.float64)[:2]
        if self._last is None:
            self._last = prices.copy()
            return self._point(math.nan, math.nan, None)
        self._push(_returns(prices, self._last))
        self._last = prices.copy()
        self._closed_moments = None
        if self._count < self.params.slow_window:
            return self._point(math.nan, math.nan, None)
        rho_s, sigmas = _pearson(_moments(self._window(self.params.slow_window)))
        rho_f, _ = _pearson(_moments(self._window(self.params.fast_window)))
        return self._point(rho_f, rho_s, sigmas)

    def provisional(self, prices: np.ndarray) -> float:
        """The score the forming bar would have if it closed at ``prices``: its return is
        log(prices / the last close), and each window holds it with the window's other
        n - 1 returns, the last closed ones.  NaN before the model can fill the slow
        window so (fewer than ``slow_window - 1`` closed returns).

        It runs at every M1 close, so the closed returns' moments are computed once per
        signal bar (at the first call after it) and the forming return is added to them
        by the one-point update of centred sums (exact algebra, no cancellation)."""
        p = self.params
        if self._last is None or self._count < p.slow_window - 1:
            return math.nan
        if self._closed_moments is None:
            self._closed_moments = (_moments(self._window(p.fast_window - 1)),
                                    _moments(self._window(p.slow_window - 1)))
        fx = _scalar_return(float(prices[0]), float(self._last[0]))
        fy = _scalar_return(float(prices[1]), float(self._last[1]))
        rho_f = _correlation_with(self._closed_moments[0], fx, fy)
        rho_s = _correlation_with(self._closed_moments[1], fx, fy)
        if not (math.isfinite(rho_f) and math.isfinite(rho_s)):
            return math.nan
        return float(regime_score(p.rule, rho_f, rho_s, p.fast_window, p.slow_window))

    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        """The ``trade`` basket: ``weights`` over each leg's slow-window return volatility,
        LONG with the weights' signs, SHORT the opposite, gross 1 (module docstring)."""
        if not self.trades:
            raise ValueError('a correlation cluster with action = "lock" holds no basket')
        if not point.valid or point.state is None:
            raise ValueError("the correlation point has no volatility to size a basket")
        sign = 1.0 if direction == Direction.LONG else -1.0
        raw = {s: sign * w / vol for s, w, vol in
               zip(self.symbols, self.params.weights, point.state, strict=True)}
        return unit_gross(raw)

    # ---------------------------------------------------------------- internals
    def _window(self, n: int) -> np.ndarray:
        """The last ``n`` closed returns, one row per symbol (a view)."""
        return self._buffer[:, self._count - n:self._count]

    def _push(self, r: np.ndarray) -> None:
        if self._count == self._buffer.shape[1]:
            keep = self.params.slow_window
            self._buffer[:, :keep] = self._buffer[:, self._count - keep:self._count]
            self._count = keep
        self._buffer[:, self._count] = r
        self._count += 1

    def _point(self, rho_f: float, rho_s: float,
               sigmas: tuple[float, float] | None) -> KindPoint:
        p = self.params
        valid = math.isfinite(rho_f) and math.isfinite(rho_s)
        score = float(regime_score(p.rule, rho_f, rho_s, p.fast_window, p.slow_window)) \
            if valid else math.nan
        regime, bars = self._regime.step(score, valid)
        if not valid:
            undefined = (math.nan,) * (len(DIAGNOSTICS) - 1)
            return KindPoint(math.nan, False, "", (*undefined, float(bars)), regime=regime)
        lo, hi = fisher_interval(rho_f, p.fast_window, p.confidence)
        return KindPoint(score, True, "", (rho_f, float(lo), float(hi), rho_s, float(bars)),
                         state=sigmas, regime=regime)


#: Means and centred sums of two return windows: (mean x, mean y, Sxx, Syy, Sxy, n).
Moments = tuple[float, float, float, float, float, int]


def _moments(window: np.ndarray) -> Moments:
    """Means and centred sums (two passes) of a (2, n) window of returns."""
    means = window.mean(axis=1)
    centred = window - means[:, None]
    gram = centred @ centred.T
    return (float(means[0]), float(means[1]), float(gram[0, 0]), float(gram[1, 1]),
            float(gram[0, 1]), window.shape[1])


def _correlation_with(moments: Moments, x: float, y: float) -> float:
    """The correlation of a window's returns with one more pair (x, y) added: the centred
    sums grow by (x - mean x)(y - mean y) k/(k + 1), k the returns already there."""
    mx, my, sxx, syy, sxy, k = moments
    n = k + 1
    dx, dy, share = x - mx, y - my, k / n
    sxx, syy, sxy = sxx + dx * dx * share, syy + dy * dy * share, sxy + dx * dy * share
    if not (sxx / n >= MIN_VARIANCE and syy / n >= MIN_VARIANCE):  # also False for NaN
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def _pearson(moments: Moments) -> tuple[float, tuple[float, float] | None]:
    """The correlation of a window's returns, and each leg's standard deviation (ddof 1);
    NaN and None when a return is missing or a leg did not move."""
    _, _, sxx, syy, sxy, n = moments
    if not (sxx / n >= MIN_VARIANCE and syy / n >= MIN_VARIANCE):  # also False for NaN
        return math.nan, None
    return sxy / math.sqrt(sxx * syy), (math.sqrt(sxx / (n - 1)), math.sqrt(syy / (n - 1)))


# ------------------------------------------------------------------- batch
def correlation_batch(closes: pd.DataFrame, params: CorrelationParams,
                      entry: float = DEFAULT_ENTRY, exit_band: float = DEFAULT_EXIT
                      ) -> pd.DataFrame:
    """The kind over a whole history of two symbols' aligned closes (two columns, in the
    cluster's symbol order), one row per bar: ``score``, ``valid``, ``regime``,
    ``regime_bars`` and the diagnostics.

    The rolling correlations come from differences of cumulative sums of the returns,
    their squares and their product (a separate arithmetic from the streaming model's
    centred windows: the tests hold the two to 1e-9); only the regime's hysteresis loops
    over the scores (``RegimeTracker``).
    """
    if closes.shape[1] != 2:
        raise ValueError(f"expected the closes of two symbols, got {closes.shape[1]} columns")
    c = closes.to_numpy(dtype=np.float64)
    r = np.full_like(c, np.nan)
    if len(c) > 1:
        r[1:] = _returns(c[1:], c[:-1])
    rho_f = _rolling_correlation(r, params.fast_window)
    rho_s = _rolling_correlation(r, params.slow_window)
    valid = np.isfinite(rho_f) & np.isfinite(rho_s)
    with np.errstate(invalid="ignore"):
        score = np.where(valid, regime_score(params.rule, rho_f, rho_s, params.fast_window,
                                             params.slow_window), np.nan)
    lo, hi = fisher_interval(rho_f, params.fast_window, params.confidence)
    tracker = RegimeTracker(params.rule, entry, exit_band)
    steps = [tracker.step(s, v) for s, v in zip(score.tolist(), valid.tolist(), strict=True)]
    regimes = [s[0] for s in steps]
    bars = np.array([s[1] for s in steps], dtype=np.int64)
    nan_unless_valid = np.where(valid, 1.0, np.nan)
    return pd.DataFrame({
        "score": score, "valid": valid, "regime": regimes, "regime_bars": bars,
        "rho_fast": rho_f * nan_unless_valid, "rho_fast_lo": lo * nan_unless_valid,
        "rho_fast_hi": hi * nan_unless_valid, "rho_slow": rho_s * nan_unless_valid,
    }, index=closes.index)


def _rolling_correlation(r: np.ndarray, n: int) -> np.ndarray:
    """Pearson correlation of the two columns of ``r`` over the trailing ``n`` rows, from
    windowed sums (cumulative sums differenced); NaN where the window is not full, holds
    a missing return or a leg without variance."""
    bad = ~np.isfinite(r).all(axis=1)
    x = np.where(bad, 0.0, r[:, 0])
    y = np.where(bad, 0.0, r[:, 1])
    sx, sy = _window_sum(x, n), _window_sum(y, n)
    vx = _window_sum(x * x, n) - sx * sx / n
    vy = _window_sum(y * y, n) - sy * sy / n
    cxy = _window_sum(x * y, n) - sx * sy / n
    ok = (_window_sum(bad.astype(np.float64), n) == 0) & (vx / n >= MIN_VARIANCE) \
        & (vy / n >= MIN_VARIANCE)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, cxy / np.sqrt(np.abs(vx * vy)), np.nan)


def _window_sum(v: np.ndarray, n: int) -> np.ndarray:
    """The sum of ``v`` over the trailing ``n`` rows (NaN until the window is full)."""
    out = np.full(len(v), np.nan)
    if len(v) >= n:
        cumulative = np.concatenate(([0.0], np.cumsum(v)))
        out[n - 1:] = cumulative[n:] - cumulative[:-n]
    return out
