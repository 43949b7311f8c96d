"""``run_audit``: the three honesty checks on the user's configuration and data.

    data -> M1 bars in memory -> the real run (the traded period fixed from it)
         -> (a) runs to D and D + k    -> first difference before D, if any
         -> (b) one run per surrogate  -> Sharpe distribution beside the real Sharpe
         -> (c) five cost variants     -> final P&L and Sharpe per cost level

D is ``cut_share`` (60%) of the way through the real run's traded period, at a UTC midnight,
unless given; k is ``weeks`` (4) weeks, cut at the period's end.  Every run replays the same
bars through ``BacktestSpec(source="bars")`` with the same traded period and calendar; all
scratch files live in one temporary folder removed at the end.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.audit.checks import (
    COST_GRID,
    CostCheck,
    SurrogateCheck,
    TruncationCheck,
    costs,
    surrogates,
    truncation,
)
from app.audit.data import load_bars
from app.audit.runs import Progress, RunFigures, Runner, figures
from app.backtest import BacktestSpec
from engine.config import EngineConfig
from engine.errors import UserError
from engine.ports import EventCalendar

#: Where D falls in the traded period by default, as a share of it.
CUT_SHARE = 0.6
DEFAULT_WEEKS = 4
DEFAULT_SEEDS = 5
MAX_SEEDS = 100


@dataclass(frozen=True)
class AuditSpec:
    """What to audit: the configuration, the data files, the period and the checks' knobs.

    - ``cut``: D, where the truncated run ends (default: ``CUT_SHARE`` of the period, at
      the UTC midnight before); ``weeks``: k, how much longer the other run goes (1..52);
    - ``seeds``: how many surrogate markets (1..``MAX_SEEDS``), seeds 0 .. seeds - 1.
    """

    config: EngineConfig
    paths: tuple[Path, ...]
    start: datetime | None = None
    end: datetime | None = None
    calendar: EventCalendar | None = None
    seeds: int = DEFAULT_SEEDS
    cut: datetime | None = None
    weeks: int = DEFAULT_WEEKS

    def __post_init__(self) -> None:
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise UserError(f"--seeds: {self.seeds} is not a number of surrogates in "
                            f"1..{MAX_SEEDS}")
        if not 1 <= self.weeks <= 52:
            raise UserError(f"--weeks: {self.weeks} is not a number of weeks in 1..52")


@dataclass
class AuditResult:
    real: RunFigures
    truncation: TruncationCheck
    surrogates: SurrogateCheck
    costs: CostCheck
    data: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    runs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"real": self.real.to_dict(), "sharpe_basis": self.real.sharpe_basis,
                "pnl_basis": "final equity (open baskets marked to market) - start capital",
                "truncation": self.truncation.to_dict(),
                "surrogates": self.surrogates.to_dict(), "costs": self.costs.to_dict(),
                "data": self.data, "notes": self.notes, "backtests": self.runs}


def cut_points(start: pd.Timestamp, end: pd.Timestamp, cut: datetime | None,
               weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """D and D + k inside the traded period [start, end)."""
    if cut is None:
        d = (start + (end - start) * CUT_SHARE).floor("D")
    else:
        d = pd.Timestamp(cut)
        d = d.tz_localize("UTC") if d.tzinfo is None else d.tz_convert("UTC")
    if not start < d < end:
        raise UserError(f"--cut {d:%Y-%m-%d %H:%M} is outside the traded period "
                        f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}")
    return d, min(d + pd.Timedelta(weeks=weeks), end)


def run_audit(spec: AuditSpec, progress: Progress | None = None) -> AuditResult:
    with tempfile.TemporaryDirectory(prefix="audit-") as scratch:
        work = Path(scratch)
        bars, notes = load_bars(spec.paths, work)
        base = BacktestSpec(config=spec.config, source="bars", bars=bars, start=spec.start,
                            end=spec.end, calendar=spec.calendar)
        extra_costs = sum(1 for c in COST_GRID if c != (1.0, 1.0))
        runner = Runner(work, total=1 + 2 + spec.seeds + extra_costs, progress=progress)
        result, _ = runner.run(base, "real run")
        real = figures("real", result)
        start, end = (pd.Timestamp(t) for t in real.period)
        fixed = dataclasses.replace(base, start=start.to_pydatetime(), end=end.to_pydatetime())
        cut, later = cut_points(start, end, spec.cut, spec.weeks)
        span_days = (end - start).total_seconds() / 86_400
        trunc = truncation(runner, fixed, cut, later, span_days)
        surr = surrogates(runner, fixed, bars, real, range(spec.seeds))
        cost = costs(runner, fixed, real)
        return AuditResult(real, trunc, surr, cost, _data_summary(bars),
                           [*notes, *result.notes], runner.count)


def _data_summary(bars: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {s: {"first": pd.Timestamp(int(b["time"][0]), unit="s", tz="UTC").isoformat(),
                "last": pd.Timestamp(int(b["time"][-1]), unit="s", tz="UTC").isoformat(),
                "bars": len(b)} for s, b in bars.items()}
