"""Strategy kinds: the signal models one engine trades (``engine.kinds.base``).

``tdi`` (the FX cluster's Temporary Disalignment Index, the default), ``pair``
(cointegrated pairs and N-leg returns-space spreads), ``correlation`` (regimes between
two assets) and ``deal`` (a merger-arbitrage deal, ``engine.kinds.deal``).  A cluster's
``kind`` picks the model; its ``[cluster.<kind>]`` table holds the model's own parameters
(``params_class``); ``engine.kinds.factory.make_model`` builds it.
Everything else the engine does is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The kinds a cluster may name, the default first.
KINDS = ("tdi", "pair", "correlation", "basis", "deal")
DEFAULT_KIND = "tdi"


@dataclass(frozen=True)
class KindDefaults:
    """A kind's defaults for the shared score thresholds: entry E, exit X and the score
    stop (TS).  The TDI's are in its own units (tails of its percentile normalisation); a
    z-score's are the classic 2 / 0.5 with a stop at 4 standard deviations."""

    entry: float
    exit_band: float
    score_stop: float
    #: What the score is called in the console and the journal's reading of it.
    score_name: str


KIND_DEFAULTS: dict[str, KindDefaults] = {
    "tdi": KindDefaults(1.2, 0.25, 2.5, "TDI"),
    "pair": KindDefaults(2.0, 0.5, 4.0, "z"),
    "correlation": KindDefaults(2.0, 0.5, 4.0, "corr z"),
    # basis: the mispricing in basis points (engine.kinds.basis): enter 10 bp off fair,
    # out within 2 bp, stopped 60 bp against.
    "basis": KindDefaults(10.0, 2.0, 60.0, "bp"),
    # deal: the score is minus the annualised net spread in % a year (engine.kinds.deal):
    # enter above 10 % a year net of financing, leave below 2 %, and the score stop at the
    # highest level a cluster takes (a spread priced at 100 % a year is a break priced in)
    "deal": KindDefaults(10.0, 2.0, 100.0, "net %/yr"),
}


def params_class(kind: str) -> type | None:
    """The dataclass of a kind's ``[cluster.<kind>]`` table (None: the kind has none)."""
    if kind == "pair":
        from engine.kinds.pair_params import PairParams
        return PairParams
    if kind == "correlation":
        from engine.kinds.correlation_params import CorrelationParams
        return CorrelationParams
    if kind == "basis":
        from engine.kinds.basis_params import BasisParams
        return BasisParams
    if kind == "deal":
        from engine.kinds.deal_params import DealParams
        return DealParams
    return None


def model_warmup_bars(spec: Any) -> int:
    """Bars a cluster's model needs before its first valid point (``spec``: its
    ``engine.cluster.ClusterSpec``, untyped here: the spec reads this module)."""
    params: Any = spec.params
    if spec.kind == "tdi":
        return spec.factor_bars + spec.tdi.warmup_bars
    return int(params.warmup_bars) + (spec.factor_bars if spec.kind == "pair" else 0)
