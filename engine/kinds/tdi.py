"""The ``tdi`` kind: the Temporary Disalignment Index of an FX cluster (``engine.tdi``).

The score is the TDI; the basket is the common-factor deviation made tradable
(``engine.cluster.basket_exposures`` from the pinned v1 and the pairs' RC stds); automatic
entries are locked while the eigengap is below the cluster's floor (the first component no
longer dominates: "the common factor" is not defined well enough to trade against).  The
optional factor stage (``engine.factor``) feeds the TDI residual prices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.cluster import basket_exposures
from engine.factor import FactorSeries, factor_tdi
from engine.kinds.base import KindPoint, SignalModel
from engine.model import Direction
from engine.tdi import TdiParams, TdiPoint, TdiStream


class TdiModel(SignalModel):
    """``TdiStream`` (behind the factor stage when there is one) as a signal model."""

    kind = "tdi"
    diagnostic_names = ("phi", "eigengap", "explained")

    def __init__(self, symbols: Sequence[str], params: TdiParams, min_eigengap: float,
                 factor: str, factor_window: int,
                 factor_series: FactorSeries | None = None) -> None:
        self.stream = TdiStream(symbols, params)
        self.factor = factor_tdi(self.stream, factor, factor_window, factor_series)
        self.symbols = self.stream.symbols
        self.feed_symbols = (tuple(self.factor.feed_symbols) if self.factor
                             else self.symbols)
        self.warmup_bars = params.warmup_bars + (factor_window if self.factor else 0)
        self.min_eigengap = min_eigengap

    def _point(self, p: TdiPoint) -> KindPoint:
        lock = "" if p.eigengap >= self.min_eigengap else (
            f"EIGENGAP: eigengap {p.eigengap:.2f} < {self.min_eigengap}")
        return KindPoint(p.tdi, p.valid, lock, (p.phi, p.eigengap, p.explained), p)

    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        return self._point((self.factor or self.stream).update(closes, bar_s))

    def provisional(self, prices: np.ndarray) -> float:
        return float((self.factor or self.stream).provisional(prices))

    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        p: TdiPoint = point.state
        if p is None or not math.isfinite(point.score):
            raise ValueError("the TDI is not valid: no basket")
        return basket_exposures(p.v1, p.rc_std, self.symbols, direction)
