"""The audit's backtests: each run on the user's bars (or a surrogate of them), with its own
scratch journal, summed up in the figures the audit reports.

Every figure comes from the run's own metrics (``engine.metrics``): the Sharpe with its
stated basis, the final equity (open baskets marked to market) minus the start capital as
the P&L, and the closed baskets.  The truncation check also needs each closed basket's legs
and fills, which only the journal holds: they are read back from it as fingerprints.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from app.audit.compare import Fingerprint
from app.backtest import BacktestResult, BacktestSpec, run_backtest
from engine.errors import UserError

#: Reports a run's progress: its label and the fraction of it done.
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class RunFigures:
    """What the audit keeps of one backtest."""

    label: str
    sharpe: float
    pnl: float
    baskets: int
    final_equity: float
    start_capital: float
    period: tuple[str, str]
    sharpe_basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "sharpe": _finite(self.sharpe), "pnl": _finite(self.pnl),
                "baskets": self.baskets, "final_equity": _finite(self.final_equity),
                "start_capital": self.start_capital,
                "period": {"from": self.period[0], "to": self.period[1]}}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass
class Runner:
    """Runs the audit's backtests: each in ``work`` with its own journal, its progress
    reported as a share of ``total`` (the weight of every run planned)."""

    work: Path
    total: float = 1.0
    progress: Progress | None = None
    done: float = 0.0
    count: int = field(default=0)

    def run(self, spec: BacktestSpec, label: str, weight: float = 1.0,
            fingerprints: bool = False) -> tuple[BacktestResult, dict[str, Fingerprint]]:
        """One backtest; a run that failed or stopped early stops the audit (a check on
        part of the period would be reported as if made on all of it)."""
        self.count += 1
        journal = self.work / f"run-{self.count}.sqlite"

        def on_progress(fraction: float) -> None:
            if self.progress is not None:
                self.progress(label, (self.done + weight * fraction) / self.total)

        on_progress(0.0)
        result = run_backtest(spec, journal_path=journal, progress=on_progress)
        if result.interrupted is not None:  # the audit stops, not this run alone
            raise result.interrupted
        self.done += weight
        on_progress(0.0)
        if result.failure is not None:
            raise result.failure
        if not result.complete:
            raise UserError(f"{label}: the backtest did not complete: "
                            + "; ".join(result.notes))
        prints = basket_fingerprints(journal) if fingerprints else {}
        return result, prints


def figures(label: str, result: BacktestResult) -> RunFigures:
    """The run's Sharpe, P&L and closed baskets, from its own metrics."""
    metrics = result.metrics.to_dict() if result.metrics is not None else {}
    returns = metrics.get("returns", {})
    start = float(result.params.get("start_capital", math.nan))
    final = _number(returns.get("final_equity"))
    closed = int(result.trades["exit_code"].astype(bool).sum()) if len(result.trades) else 0
    period = result.params.get("period", {})
    return RunFigures(label, _number(returns.get("sharpe")), final - start, closed, final, start,
                      (str(period.get("from", "")), str(period.get("to", ""))),
                      str(returns.get("sharpe_basis", "")))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def with_costs(spec: BacktestSpec, spread: float, commission: float) -> BacktestSpec:
    return dataclasses.replace(spec, spread_scale=spread, commission_scale=commission)


def basket_fingerprints(journal_path: Path) -> dict[str, Fingerprint]:
    """Every basket of the journal: its opening, its close, its legs and its deals."""
    from engine.records import HistoryFilter
    from storage.journal import SqliteJournal

    journal = SqliteJournal.open_reader(journal_path)
    try:
        out: dict[str, Fingerprint] = {}
        for record in journal.basket_history(HistoryFilter()):
            opening, closing = record.opening, record.closing
            deals = tuple(
                (d.ticket, d.symbol, d.type, d.entry, d.volume, d.price, d.commission, d.swap,
                 d.profit, d.fee, pd.Timestamp(d.time).isoformat())
                for d in journal.deals_for_basket(record.basket_id))
            out[record.basket_id] = {
                "cluster": opening.cluster, "direction": opening.direction.value,
                "opened_at": pd.Timestamp(opening.opened_at).isoformat(),
                "entry_tdi": opening.entry_tdi, "risk_budget": opening.risk_budget,
                "legs": tuple((leg.symbol, leg.side.value, leg.volume, leg.exposure)
                              for leg in opening.legs),
                "closed_at": pd.Timestamp(closing.closed_at).isoformat() if closing else None,
                "exit_code": closing.exit_code.value if closing else None,
                "exit_tdi": closing.exit_tdi if closing else None,
                "pnl": closing.pnl if closing else None,
                "costs": closing.costs if closing else None,
                "deals": deals,
            }
        return out
    finally:
        journal.close()
