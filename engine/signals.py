"""One cluster's signal state: aligned closes of its signal timeframe (M30 by default), its
kind's streaming model (``engine.kinds``: the TDI, a pair's z-score, a correlation regime),
and the basket ATR.  Windows, the ATR and the time stop count these bars."""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.bars import ClusterAligner
from engine.cluster import ClusterSpec, Direction
from engine.factor import FactorSeries
from engine.kinds import KIND_DEFAULTS
from engine.kinds.base import KindPoint, SignalModel
from engine.kinds.factory import make_model
from engine.space import Orienter
from engine.timeframes import TIMEFRAME_SECONDS, UtcBuckets, buckets

#: Bars of history kept for display (about three months of M30 bars, more in longer ones).
HISTORY_BARS = 4_000


class ClusterSignal:
    """Everything the engine derives from one cluster's prices.

    Closes are held in the model's symbol order (the TDI's canonical order: sorted); ``index``
    maps them to the market's symbol indices.
    """

    def __init__(self, spec: ClusterSpec, market_index: Mapping[str, int],
                 factor_series: FactorSeries | None = None) -> None:
        self.spec = spec
        orientation = spec.orientation
        factor_series = _on_oriented_members(factor_series, orientation)
        # The kind's model (engine.kinds); with a factor stage (engine.factor) it takes the
        # members' residual prices: the bars carry the members, then the factor series'
        # other symbols (``feed_symbols``).
        self.model = make_model(spec, factor_series)
        self.symbols = tuple(self.model.symbols)
        self.index = [market_index[s] for s in self.symbols]
        #: +1/-1 per symbol in the model's order: the model and the ATR see oriented prices
        #: (``engine.space``; all +1 in symbol space and for the kinds other than ``tdi``).
        self.orientation = np.array([orientation[s] for s in self.symbols])
        self._orient = Orienter(self.orientation)
        self.feed_symbols = tuple(self.model.feed_symbols)
        #: What the score is called (TDI, z, ...): the console's label.
        self.score_name = KIND_DEFAULTS[spec.kind].score_name
        self.feed_index = [market_index[s] for s in self.feed_symbols]
        #: The signal timeframe (``ClusterSpec.timeframe``): the bars this cluster sees.
        self.timeframe = spec.timeframe
        clock = buckets(self.timeframe)
        self.aligner = ClusterAligner(
            self.feed_index, TIMEFRAME_SECONDS[self.timeframe],
            bucket_end=None if isinstance(clock, UtcBuckets) else clock.end)
        self.closes: deque[np.ndarray] = deque(maxlen=spec.stops.atr_bars + 1)
        self.last_point: KindPoint | None = None
        self.last_bar_s: int | None = None
        #: Cluster bars seen (the time stop counts these).
        self.bars = 0
        #: Recent bars for the console's chart: (bar time s, score, closes), bounded.
        self.history: deque[tuple[int, float, np.ndarray]] = deque(maxlen=HISTORY_BARS)
        self._history_lock = threading.Lock()
        #: E and X in force (the trader can change them while running).
        self.entry = spec.entry
        self.exit_band = spec.exit_band

    @property
    def overshoot_level(self) -> float:
        """The far-side TDI level of the OS exit: E or X in force (``spec.overshoot``)."""
        return self.entry if self.spec.overshoot == "E" else self.exit_band

    def add_bar(self, bar_s: int, closes: np.ndarray) -> KindPoint:
        """``closes``: of ``feed_symbols`` (the members first, as quoted).  The members are
        oriented (``engine.space``) before the model; the chart keeps the quotes."""
        n = len(self.symbols)
        quotes = closes[:n]
        oriented = self._orient(quotes)
        feed = oriented if len(closes) == n else np.concatenate([oriented, closes[n:]])
        point = self.model.update(feed, bar_s)
        self.closes.append(oriented)
        with self._history_lock:
            self.history.append((bar_s, point.score, quotes))
        self.last_point = point
        self.last_bar_s = bar_s
        self.bars += 1
        return point

    def history_arrays(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(times ms, tdi, closes per symbol) of the recent bars, copied (any thread)."""
        with self._history_lock:
            rows = list(self.history)
        times = np.array([r[0] * 1000 for r in rows], dtype=np.int64)
        tdi = np.array([r[1] for r in rows], dtype=np.float64)
        closes = np.array([r[2] for r in rows]) if rows else np.empty((0, len(self.symbols)))
        return times, tdi, {s: closes[:, i] for i, s in enumerate(self.symbols)}

    def on_bars(self, closed: np.ndarray, now_s: int) -> list[tuple[int, KindPoint]]:
        """Closed bars of the market in this cluster's timeframe -> its new points (in time
        order); the clock alone also releases complete buckets."""
        if len(closed):
            self.aligner.add_bars(closed)
        return [(t, self.add_bar(t, c)) for t, c in self.aligner.pop_ready(now_s)]

    def provisional(self, mids: np.ndarray) -> float:
        """The score re-evaluated at the current prices with the last signal bar's
        statistics."""
        prices = mids[self.feed_index]
        if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
            return math.nan
        n = len(self.symbols)
        oriented = self._orient(prices[:n])
        feed = oriented if len(prices) == n else np.concatenate([oriented, prices[n:]])
        return self.model.provisional(feed)

    def provisional_rows(self, mids: np.ndarray) -> ProvisionalRows:
        """``provisional`` for each row of ``mids`` (rows: coming minutes), the checks and
        the orientation done once for the block; each row's score is computed when asked,
        by the model's own ``provisional`` on a fresh copy of the row, so that it is the
        number ``provisional`` gives (``engine.held_minutes``)."""
        prices = mids[:, self.feed_index]
        ok = np.isfinite(prices).all(axis=1) & ~(prices <= 0).any(axis=1)
        n = len(self.symbols)
        with np.errstate(divide="ignore", invalid="ignore"):  # rows that are not ok
            oriented = self._orient(prices[:, :n])
        feed = oriented if prices.shape[1] == n else \
            np.concatenate([oriented, prices[:, n:]], axis=1)
        return ProvisionalRows(self.model, feed, ok)

    def unit_exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        """The basket of ``point`` (gross exposure 1), per member (``SignalModel.exposures``)."""
        return self.model.exposures(point, direction)

    def unit_atr(self, exposures: Mapping[str, float]) -> float:
        """Mean absolute change per signal bar of a basket of gross exposure 1 (a fraction),
        over ``atr_bars`` bars, or NaN."""
        if len(self.closes) < self.closes.maxlen:  # type: ignore[operator]
            return math.nan
        closes = np.array(self.closes)
        returns = closes[1:] / closes[:-1] - 1.0
        weights = np.array([exposures[s] for s in self.symbols])
        return float(np.mean(np.abs(returns @ weights)))


def _on_oriented_members(series: FactorSeries | None,
                         orientation: Mapping[str, int]) -> FactorSeries | None:
    """The named factor as it reads the oriented member columns: ``w log P`` is
    ``(-w) log(1/P)``, so a member priced inverted carries its weight negated and the
    factor's level is the one the config defines."""
    if series is None or all(orientation.get(s, 1) == 1 for s in series.symbols):
        return series
    weights = tuple(w * orientation.get(s, 1)
                    for s, w in zip(series.symbols, series.weights, strict=True))
    return dataclasses.replace(series, weights=weights)


class ProvisionalRows:
    """``ClusterSignal.provisional_rows``: row ``k``'s provisional score, on demand."""

    def __init__(self, model: SignalModel, feed: np.ndarray, ok: np.ndarray) -> None:
        self._model, self._feed, self._ok = model, feed, ok.tolist()

    def __getitem__(self, k: int) -> float:
        if not self._ok[k]:
            return math.nan
        return self._model.provisional(np.array(self._feed[k], dtype=np.float64))

    def estimates(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Every row's score as ``SignalModel.provisional_estimates`` gives it (estimate,
        bound), rows without prices exactly NaN with a bound of 0; None where the model
        has no block form."""
        block = self._model.provisional_estimates(self._feed)
        if block is None:
            return None
        estimates, bound = block
        ok = np.asarray(self._ok, dtype=bool)
        return np.where(ok, estimates, math.nan), np.where(ok, bound, 0.0)


def tdi_diagnostics(sig: ClusterSignal, point: KindPoint | None) -> tuple[float, float, float]:
    """phi, eigengap and explained variance of a ``tdi`` point (NaN for the other kinds: the
    journal's and the events' TDI columns hold only the TDI's own figures)."""
    if point is None or sig.spec.kind != "tdi":
        return math.nan, math.nan, math.nan
    d = sig.model.diagnostics_of(point)
    return d["phi"], d["eigengap"], d["explained"]


def kind_view(sig: ClusterSignal, point: KindPoint | None) -> dict[str, Any]:
    """The kind's part of a ``ClusterView``: its name, diagnostics, lock and regime."""
    if point is None:
        return {"kind": sig.spec.kind, "trades": sig.model.trades}
    d = sig.model.diagnostics_of(point)
    return {"kind": sig.spec.kind, "trades": sig.model.trades, "diagnostics": tuple(d.items()),
            "signal_lock": point.lock, "regime": point.regime,
            "regime_bars": int(d.get("regime_bars", 0) or 0) if point.regime else 0}
