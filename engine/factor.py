"""Factor removal: the TDI on residual log prices (the returns-space seed, eqs. 5-7).

A cluster whose members share one strong driver (the dollar for the USD majors) shows that
driver in every pair ratio whose members load on it differently.  The factor stage takes it
out before the TDI sees the prices.  With bar returns ``r_i(t) = log P_i(t) - log P_i(t-1)``
of the signal bars (themselves aggregated from M1) and a factor return ``f(t)``:

- ``e_i(t) = r_i(t) - beta_i(t) * f(t)``: the member's residual return;
- ``x_i(t) = x_i(t-1) + e_i(t)``: its residual log price, anchored at the member's own log
  price on the first bar that has one (the TDI only uses differences of log ratios, so the
  anchor never changes a value);
- the TDI takes ``exp(x_i)`` in place of ``P_i`` and is otherwise untouched.

``beta(t)`` is estimated from the ``window`` returns ``t-window .. t-1``: the returns up to
and including the previous bar, never the bar's own.  The first residual return is at bar
``window + 1`` (bars counted from 0), the anchor at bar ``window``: the TDI starts
``window`` bars later than without a factor, and every earlier bar has no TDI.

Two kinds of factor:
- ``pc1``: the first principal component of the members' returns.  ``u(t)`` is the top
  eigenvector of the (centred) covariance of the window's returns; ``f(t) = u(t) . r(t)``
  and the regression beta of each member on that factor is ``u_i`` itself
  (``cov(r, u.r) / var(u.r) = C u / (u'C u) = u``), so ``e(t) = r(t) - u (u . r(t))``: the
  return with its projection on the component removed.  The sign of ``u`` cancels.
- a named ``FactorSeries``: a log level ``sum_k w_k log(Q_k)`` of market symbols (a dollar
  index from the majors, a stock index for stock CFDs); ``f(t)`` is its change and
  ``beta_i = cov(r_i, f) / var(f)`` over the window (centred; the intercept is estimated
  but not removed: a drift is not a common factor).  The factor's scale does not matter:
  beta absorbs it.

Degenerate windows: when the factor (or the top eigenvalue) has a mean squared deviation
below ``MIN_FACTOR_VARIANCE`` over the window (frozen quotes), there is nothing to remove
and the loadings are zero: the residual is the raw return.

Streaming (``FactorStream``, O(window) memory, exact window sums each bar) and batch
(``residual_prices``, running sums over the whole history) are two arithmetics of the same
definition; the tests hold the TDIs they give to 1e-9.  The provisional TDI on M1 closes
(``FactorTdi.provisional``) uses the loadings estimated from the returns up to the last
closed bar: the ones the forming bar will get when it closes, all known before it.

Sizing is not touched: the basket's exposures stay per member asset, computed from the
TDI's v1 as before, and the legs' ATR uses the members' own prices.  The factor only
changes which moves the signal calls a disalignment; the residual of a member is not a
tradable asset without a hedge in the factor, which the cluster does not hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import ranges
from engine.errors import DataError
from engine.tdi import TdiParams, TdiPoint, TdiStream, tdi_batch

#: ``ClusterSpec.factor`` values that name no series: no removal, or the first principal
#: component of the members' returns.
NO_FACTOR = "none"
PC1 = "pc1"
BUILT_IN_FACTORS = (NO_FACTOR, PC1)

#: ``ClusterSpec.factor_window``: five trading days of M30 returns.  Long enough that the
#: loadings of up to six members come from forty times as many returns as members; short
#: enough to follow the dollar's share of the majors' moves, which changes within weeks.
DEFAULT_WINDOW = 240
#: The shortest configurable window: below 20 returns a beta's standard error is a large
#: fraction of the beta itself and the residual carries the estimation noise.
MIN_WINDOW = 20
#: The engine's arithmetic works from 2 returns (a variance needs two); tests use that.
MIN_WINDOW_ARITHMETIC = 2
#: Mean squared deviation of the factor (per return) below which nothing is removed: a std
#: of 1e-9 per bar is a frozen quote, real M30 returns move by about 1e-3.
MIN_FACTOR_VARIANCE = 1e-18
#: The largest weight of a factor series: the scale is absorbed by beta, so a weight beyond
#: a hundred is a typo, not an index.
MAX_FACTOR_WEIGHT = 100.0
#: The most symbols one factor series may combine (a dollar index uses six).
MAX_FACTOR_SYMBOLS = 12
MAX_SYMBOL_NAME = 31


@dataclass(frozen=True)
class FactorSeries:
    """A named factor series: log level ``sum_k weights[k] * log(price of symbols[k])``.

    - ``name``, 1..31 printable ASCII characters without spaces or commas, not ``none`` or
      ``pc1``: what a cluster's ``factor`` names;
    - ``symbols``, 1 to 12 distinct market symbols (1..31 characters each): the market must
      feed them (they join ``EngineConfig.symbols``), they need not be traded;
    - ``weights``, one per symbol, each in [-100, 100] and not all zero: e.g. the sign of
      each quote's dollar side for a dollar index (EURUSD -1, USDJPY +1).
    """

    name: str
    symbols: tuple[str, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        ranges.token("name", self.name, MAX_SYMBOL_NAME)
        if self.name in BUILT_IN_FACTORS:
            raise ranges.FieldError("name", f"{self.name!r} is a built-in factor, not a name")
        if not isinstance(self.symbols, tuple | list) or not (
                1 <= len(self.symbols) <= MAX_FACTOR_SYMBOLS):
            raise ranges.FieldError("symbols", f"expected a list of 1 to {MAX_FACTOR_SYMBOLS} "
                                               f"symbols, got {self.symbols!r}")
        for symbol in self.symbols:
            ranges.token("symbols", symbol, MAX_SYMBOL_NAME)
        if len(set(self.symbols)) != len(self.symbols):
            raise ranges.FieldError("symbols", f"duplicate symbol in {', '.join(self.symbols)}")
        if not isinstance(self.weights, tuple | list) or len(self.weights) != len(self.symbols):
            raise ranges.FieldError("weights", f"expected {len(self.symbols)} numbers, one per "
                                               f"symbol, got {self.weights!r}")
        weights = tuple(ranges.number("weights", w, -MAX_FACTOR_WEIGHT, MAX_FACTOR_WEIGHT)
                        for w in self.weights)
        if not any(weights):
            raise ranges.FieldError("weights", "all weights are zero: the factor never moves")
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "weights", weights)


def _checked_window(window: int) -> int:
    return ranges.integer("factor_window", window, MIN_WINDOW_ARITHMETIC, ranges.MAX_BARS)


def _checked_logs(values: np.ndarray, symbols: Sequence[str],
                  times: Sequence[object]) -> np.ndarray:
    """Log prices; a NaN, infinite, zero or negative price is corrupt data (as in the TDI)."""
    bad = ~((values > 0) & (values < np.inf))
    if bad.any():
        row, col = np.argwhere(np.atleast_2d(bad))[0]
        value = float(np.atleast_2d(values)[row, col])
        raise DataError(f"{symbols[col]} price {value!r} at {times[row]} is not a positive "
                        "number")
    return np.log(values)


def _pc1_residual(r: np.ndarray, u: np.ndarray) -> np.ndarray:
    return r - u * (u @ r)


def _top_component(cross: np.ndarray, window: int) -> np.ndarray:
    """The top eigenvector of a centred cross-product matrix, or zeros when it is flat."""
    values, vectors = np.linalg.eigh(cross)
    if not values[-1] / window > MIN_FACTOR_VARIANCE:
        return np.zeros(len(cross))
    return vectors[:, -1]


class FactorStream:
    """Residual prices of a cluster's members, one closed signal bar at a time.

    ``update`` takes the prices of ``feed_symbols`` (the members in the order given, then
    the factor series' symbols that are not members) and returns the members' residual
    prices, or None before bar ``window``.  Memory: the last ``window`` returns.
    """

    def __init__(self, members: Sequence[str], window: int,
                 series: FactorSeries | None = None) -> None:
        self.window = _checked_window(window)
        self.members = tuple(members)
        self.series = series
        factor_symbols = series.symbols if series is not None else ()
        self.feed_symbols = self.members + tuple(s for s in factor_symbols
                                                 if s not in self.members)
        self._n = len(self.members)
        self._factor_pos = np.array([self.feed_symbols.index(s) for s in factor_symbols],
                                    dtype=np.int64)
        self._weights = np.array(series.weights if series is not None else (), dtype=np.float64)
        width = self._n + (1 if series is not None else 0)
        self._ring = np.zeros((self.window, width))
        self._count = 0
        self._last_log: np.ndarray | None = None
        self._level: np.ndarray | None = None
        #: Loadings for the next bar (pc1: u; series: beta), from the last ``window`` returns.
        self._loadings: np.ndarray | None = None

    def _logs(self, prices: Sequence[float] | np.ndarray, time: object) -> np.ndarray:
        arr = np.asarray(prices, dtype=np.float64)
        if arr.shape != (len(self.feed_symbols),):
            raise DataError(f"expected {len(self.feed_symbols)} closes, got {arr.shape}")
        return _checked_logs(arr, self.feed_symbols, [time])

    def _returns(self, logs: np.ndarray) -> np.ndarray:
        assert self._last_log is not None
        r = logs[: self._n] - self._last_log[: self._n]
        if self.series is None:
            return r
        step = logs[self._factor_pos] - self._last_log[self._factor_pos]
        return np.append(r, step @ self._weights)

    def _residual(self, ret: np.ndarray) -> np.ndarray:
        assert self._loadings is not None
        if self.series is None:
            return _pc1_residual(ret, self._loadings)
        return ret[: self._n] - self._loadings * ret[self._n]

    def _estimate(self) -> np.ndarray:
        centred = self._ring - self._ring.mean(axis=0)
        if self.series is None:
            return _top_component(centred.T @ centred, self.window)
        factor = centred[:, self._n]
        variance = float(factor @ factor)
        if not variance / self.window > MIN_FACTOR_VARIANCE:
            return np.zeros(self._n)
        return (centred[:, : self._n].T @ factor) / variance

    def update(self, prices: Sequence[float] | np.ndarray,
               time: object = None) -> np.ndarray | None:
        """Add one closed bar; the members' residual prices at it (None in the warm-up)."""
        logs = self._logs(prices, time)
        if self._last_log is not None:
            ret = self._returns(logs)
            if self._level is not None:
                self._level = self._level + self._residual(ret)
            self._ring[self._count % self.window] = ret
            self._count += 1
            if self._count >= self.window:
                if self._level is None:
                    self._level = logs[: self._n].copy()
                self._loadings = self._estimate()
        self._last_log = logs
        return None if self._level is None else np.exp(self._level)

    def provisional(self, prices: Sequence[float] | np.ndarray) -> np.ndarray | None:
        """Residual prices of the forming bar at these prices (loadings known at the last
        close); None in the warm-up."""
        if self._level is None or self._loadings is None:
            return None
        return np.exp(self._level + self._residual(self._returns(self._logs(prices,
                                                                            "provisional"))))


class FactorTdi:
    """The TDI of a cluster's residual prices: ``TdiStream``'s interface on feed prices.

    ``update`` and ``provisional`` take the prices of ``feed_symbols`` (the stream's
    symbols, then the factor's other symbols); before the factor's warm-up ends each bar's
    point has no TDI.
    """

    def __init__(self, stream: TdiStream, window: int, series: FactorSeries | None = None) -> None:
        self.stream = stream
        self.factor = FactorStream(stream.input_symbols, window, series)
        self.feed_symbols = self.factor.feed_symbols

    def update(self, closes: Sequence[float] | np.ndarray, time: object = None) -> TdiPoint:
        residual = self.factor.update(closes, time)
        if residual is None:
            k = len(self.stream.pairs)
            return TdiPoint(time, math.nan, math.nan, math.nan, math.nan, np.full(k, np.nan),
                            np.full(k, np.nan), self.stream.pairs)
        return self.stream.update(residual, time)

    def provisional(self, closes: Sequence[float] | np.ndarray) -> float:
        residual = self.factor.provisional(closes)
        return math.nan if residual is None else self.stream.provisional(residual)


def factor_tdi(stream: TdiStream, factor: str, window: int,
               series: FactorSeries | None = None) -> FactorTdi | None:
    """The factor stage a cluster's ``factor`` asks for around its TDI stream: None for
    ``none``; a named factor needs its series (the engine config resolves it)."""
    if factor == NO_FACTOR:
        return None
    if factor == PC1:
        return FactorTdi(stream, window)
    if series is None or series.name != factor:
        raise ValueError(f"factor {factor!r} needs its series, got "
                         f"{series.name if series is not None else None!r}")
    return FactorTdi(stream, window, series)


def residual_prices(closes: pd.DataFrame, window: int, series: FactorSeries | None = None,
                    factor_closes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The members' residual prices over a whole history (NaN rows before bar ``window``).

    ``closes``: one column per member, aligned signal-bar closes.  ``factor_closes``: the
    series' symbols on the same index (members may be among them), needed for a named
    series and ignored for pc1.  Equal to ``FactorStream`` bar by bar.
    """
    w = _checked_window(window)
    members = [str(c) for c in closes.columns]
    logs = _checked_logs(closes.to_numpy(dtype=np.float64), members, closes.index)
    n_bars, n = logs.shape
    data = np.zeros((n_bars, n))
    data[1:] = logs[1:] - logs[:-1]
    if series is not None:
        data = np.column_stack([data, _factor_returns(series, factor_closes, closes.index)])
    out = np.full((n_bars, n), np.nan)
    if n_bars > w:
        residual = _batch_residuals(data, n, w, series is not None)
        out[w:] = np.exp(np.cumsum(np.vstack([logs[w], residual]), axis=0))
    return pd.DataFrame(out, index=closes.index, columns=closes.columns)


def factor_tdi_batch(closes: pd.DataFrame, params: TdiParams, window: int,
                     series: FactorSeries | None = None,
                     factor_closes: pd.DataFrame | None = None) -> pd.DataFrame:
    """``tdi_batch`` of the residual prices: the same table, no TDI before the factor's
    warm-up ends (bar ``window``) and the TDI's own warm-up after it."""
    residual = residual_prices(closes, window, series, factor_closes)
    ready = residual.notna().all(axis=1).to_numpy()
    table = tdi_batch(residual[ready], params)
    return table.reindex(closes.index)


def _factor_returns(series: FactorSeries, factor_closes: pd.DataFrame | None,
                    index: pd.Index) -> np.ndarray:
    if factor_closes is None:
        raise ValueError(f"factor {series.name!r} needs the closes of "
                         f"{', '.join(series.symbols)}")
    missing = [s for s in series.symbols if s not in factor_closes.columns]
    if missing:
        raise ValueError(f"factor {series.name!r}: no closes for {', '.join(missing)}")
    frame = factor_closes[list(series.symbols)]
    if not frame.index.equals(index):
        raise ValueError(f"factor {series.name!r}: closes not on the members' bars")
    q = _checked_logs(frame.to_numpy(dtype=np.float64), series.symbols, index)
    f = np.zeros(len(q))
    weights = np.array(series.weights)
    for t in range(1, len(q)):  # row by row: the streaming arithmetic, exactly
        f[t] = (q[t] - q[t - 1]) @ weights
    return f


def _batch_residuals(data: np.ndarray, n: int, w: int, named: bool) -> np.ndarray:
    """Residual returns of bars ``w+1 ..`` from window sums of ``data`` (returns [, f])."""
    first = np.cumsum(data, axis=0)
    second = np.cumsum(data[:, :, None] * data[:, None, :], axis=0)
    t = np.arange(w + 1, len(data))
    s1 = first[t - 1] - first[t - 1 - w]
    cross = (second[t - 1] - second[t - 1 - w]) - s1[:, :, None] * s1[:, None, :] / w
    r = data[t, :n]
    if not named:
        values, vectors = np.linalg.eigh(cross)
        u = np.where((values[:, -1] / w > MIN_FACTOR_VARIANCE)[:, None], vectors[:, :, -1], 0.0)
        return r - u * np.einsum("ti,ti->t", u, r)[:, None]
    variance = cross[:, n, n]
    flat = ~(variance / w > MIN_FACTOR_VARIANCE)
    beta = cross[:, :n, n] / np.where(flat, 1.0, variance)[:, None]
    beta[flat] = 0.0
    return r - beta * data[t, n][:, None]
