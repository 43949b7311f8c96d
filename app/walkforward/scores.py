"""What one walk-forward backtest scored, and the choice each cluster makes from its trials.

A trial is one cluster ALONE with one configuration on one fold's in-sample span: the cluster
is the whole account, so its score is the run's own daily mark-to-market Sharpe and nothing
of another cluster (shared caps, cooldowns, the currency limit) is in it.  The frozen mix of
the choices is then run in-sample too, so the difference the interaction makes is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.backtest import BacktestResult
from engine.metrics.selection import SelectionSignificance, deflated_selection

#: How a trial is scored and the winner chosen (written into every output).
SELECTION_BASIS = (
    "per cluster, each configuration backtested with that cluster ALONE on the in-sample span; "
    "the winner is the highest annualised Sharpe of that run's daily mark-to-market returns "
    "among configurations with at least min_baskets closed baskets (ties: the first in grid "
    "order); none qualifying keeps the cluster's configured parameters"
)


@dataclass(frozen=True)
class RunScore:
    """A backtest's headline figures, from its metrics (NaN where undefined)."""

    sharpe: float
    sharpe_per_period: float
    observations: int
    skewness: float
    kurtosis: float
    psr: float
    baskets: int
    pnl: float
    total_return: float
    max_drawdown: float

    @classmethod
    def of(cls, result: BacktestResult) -> RunScore:
        m: dict[str, Any] = result.metrics.to_dict() if result.metrics is not None else {}
        ret, sig, bas = (m.get(k, {}) for k in ("returns", "significance", "baskets"))
        return cls(sharpe=_num(ret.get("sharpe")),
                   sharpe_per_period=_num(sig.get("sharpe_per_period")),
                   observations=int(sig.get("observations") or 0),
                   skewness=_num(sig.get("skewness")), kurtosis=_num(sig.get("kurtosis")),
                   psr=_num(sig.get("psr")), baskets=int(bas.get("baskets") or 0),
                   pnl=_num(bas.get("net_pnl"), 0.0),
                   total_return=_num(ret.get("total_return")),
                   max_drawdown=_num(ret.get("max_drawdown")))


def _num(value: Any, missing: float = math.nan) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else missing


@dataclass(frozen=True)
class Trial:
    """One cluster alone with one configuration (``config`` is its 1-based grid number)."""

    fold: int
    cluster: str
    config: int
    params: dict[str, Any]
    score: RunScore
    equity: pd.Series = field(repr=False, compare=False)


@dataclass(frozen=True)
class Choice:
    """A cluster's choice in one fold: the winning trial (None: no configuration had enough
    baskets, the configured parameters are kept) and the DSR of that selection."""

    cluster: str
    trial: Trial | None
    significance: SelectionSignificance | None
    note: str = ""

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.trial.params) if self.trial is not None else {}


def choose(cluster: str, trials: list[Trial], min_baskets: int) -> Choice:
    """The best qualifying trial of ``cluster`` and the DSR of picking it among all its
    trials (N = every configuration tried, V from their Sharpes)."""
    best: Trial | None = None
    for trial in trials:
        s = trial.score
        if s.baskets < min_baskets or not math.isfinite(s.sharpe):
            continue
        if best is None or s.sharpe > best.score.sharpe:
            best = trial
    if best is None:
        return Choice(cluster, None, None,
                      f"no configuration reached {min_baskets} closed baskets with a defined "
                      "Sharpe in-sample: the configured parameters are kept, nothing selected")
    s = best.score
    significance = deflated_selection(s.sharpe_per_period, s.observations, s.skewness,
                                      s.kurtosis, [t.score.sharpe_per_period for t in trials])
    return Choice(cluster, best, significance, significance.note)
