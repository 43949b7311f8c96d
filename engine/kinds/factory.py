"""A cluster's streaming model, built from its spec (``engine.kinds``)."""

from __future__ import annotations

from engine.cluster import ClusterSpec
from engine.factor import FactorSeries
from engine.kinds.base import SignalModel


def make_model(spec: ClusterSpec, factor_series: FactorSeries | None = None) -> SignalModel:
    """The streaming model of a cluster (``factor_series``: the named factor it reads, with
    the members' weights as the oriented prices see them)."""
    kind = spec.kind
    if kind == "tdi":
        from engine.kinds.tdi import TdiModel
        return TdiModel(spec.canonical_symbols, spec.tdi, spec.min_eigengap, spec.factor,
                        spec.factor_window, factor_series)
    if kind == "pair":
        from engine.kinds.pair import PairModel
        return PairModel(spec.symbols, spec.params, spec.factor, spec.factor_window,
                         factor_series)
    if kind == "correlation":
        from engine.kinds.correlation import CorrelationModel
        return CorrelationModel(spec.symbols, spec.params, entry=spec.entry,
                                exit_band=spec.exit_band)
    if kind == "basis":
        from engine.kinds.basis import BasisModel
        from engine.timeframes import TIMEFRAME_SECONDS
        return BasisModel(spec.symbols, spec.params, TIMEFRAME_SECONDS[spec.timeframe],
                          entry=spec.entry, cluster=spec.name)
    if kind == "deal":
        from engine.kinds.deal import DealModel
        return DealModel(spec.symbols, spec.params, score_stop=spec.stops.tdi_stop)
    raise ValueError(f"unknown kind {kind!r}")
