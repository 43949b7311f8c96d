"""One trial in a worker: a task (plain data) in, a row (plain data) out.

The backtest is rebuilt from the task's builtins (the configuration file is read, the grid's
values applied, the span set) and run by the ordinary backtest (``app.backtest``), so a
trial's figures are those ``main.py backtest`` gives for the same inputs.  A trial that
raises, or whose run stops midway, is returned as ``failed`` with its error in one line:
the study goes on, and the failure counts as a trial tried.

This module is part of the code version (``app.sweep.plan.CODE_INCLUDED``): what it
computes is in every row.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.backtest import BacktestSpec, failure_text, run_backtest
from app.backtest.collect import NO_METRICS
from app.sweep.trial_log import captured_log
from app.walkforward.grid import alone, with_params
from app.walkforward.study import END_MARGIN
from engine.jsonform import json_ready
from engine.metrics.returns import daily_returns
from storage.migrations import utc_text

if TYPE_CHECKING:
    from engine.config import EngineConfig


def trial_config(task: dict[str, Any]) -> EngineConfig:
    """The engine configuration of ``task``: the configuration file's clusters that the
    study trades, each with the configuration's values; only the task's ``cluster`` when
    it runs one alone (``app.sweep.plan``), as ``backtest --clusters`` that one would."""
    from engine.config import load_engine_config

    run = task["run"]
    config = load_engine_config(run["config_path"])
    if run["clusters"] is not None:
        config = config.with_clusters(run["clusters"])
    if task.get("cluster") is not None:
        return alone(config, task["cluster"], task["params"])
    return with_params(config, {c.name: task["params"] for c in config.clusters})


def build_spec(task: dict[str, Any]) -> BacktestSpec:
    """The backtest of ``task``: its clusters (:func:`trial_config`) on its span."""
    from app.backtest import calendar_snapshot
    from app.spreads import load_profiles

    run, span = task["run"], task["span"]
    config = trial_config(task)
    start = datetime.fromisoformat(span["from"]) if span["from"] else None
    end = datetime.fromisoformat(span["to"]) - END_MARGIN if span["to"] else None
    calendar = (calendar_snapshot(Path(run["calendar"]), start, end)
                if run.get("calendar") else None)
    return BacktestSpec(config=config, source=run["source"],
                        paths=tuple(Path(p) for p in run["paths"]),
                        store=Path(run["store"]) if run["store"] else None, seed=run["seed"],
                        latency=run["latency"], start=start, end=end,
                        tick_mode=run["tick_mode"], metrics_basis=run["metrics_basis"],
                        calendar=calendar,
                        spread_model=run["spread_model"],
                        spread_profiles=load_profiles([Path(p) for p in run["spread_profiles"]]))


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _figures(result: Any, basis: str) -> dict[str, Any]:
    """The run's metrics (JSON-ready), the key ones as columns, and its daily returns."""
    metrics = json_ready(result.metrics.to_dict()) if result.metrics is not None else None
    returns: list[list[Any]] = []
    if len(result.equity):
        capital = float(result.params.get("start_capital") or 100_000.0)
        series = daily_returns(result.equity["equity"], capital, basis)
        returns = [[f"{d:%Y-%m-%d}", float(r)] for d, r in series.items()]
    m = metrics or {}
    ret, bas = m.get("returns", {}), m.get("baskets", {})
    return {"metrics": metrics, "daily_returns": returns,
            "sharpe": _finite(ret.get("sharpe")),
            "total_return": _finite(ret.get("total_return")),
            "max_drawdown": _finite(ret.get("max_drawdown")),
            "baskets": int(bas.get("baskets") or 0) if m else None}


def run_trial(task: dict[str, Any]) -> dict[str, Any]:
    """The row of ``task``'s trial (``storage.trials.COLUMNS``); never raises for a failing
    backtest: the error is the row's."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    row: dict[str, Any] = {
        "id": task["id"], "config": task["config"], "params": task["params"],
        "cluster": task.get("cluster"),
        "fold": task["span"]["fold"], "sample": task["span"]["sample"],
        "span_from": task["span"]["from"], "span_to": task["span"]["to"],
        "data_fingerprint": task["data_fingerprint"], "code_version": task["code_version"],
        "status": "done", "error": None, "metrics": None, "daily_returns": None,
        "sharpe": None, "total_return": None, "max_drawdown": None, "baskets": None,
    }
    with captured_log() as log:
        try:
            result = run_backtest(build_spec(task))
            if result.interrupted is not None:  # the study stops; this trial is not a row
                raise result.interrupted
            if result.failure is not None:
                raise result.failure
            if result.complete and result.metrics is None:  # a span inside one day
                row.update(status="failed", error=f"no figures: {NO_METRICS}")
            elif result.complete:
                row.update(_figures(result, task["run"]["metrics_basis"]))
            else:  # as `backtest` says it (exit 1): no figures of a run that is not whole
                row.update(status="failed", error="INCOMPLETE: " + (
                    result.incomplete_reason or "; ".join(result.notes)))
        except Exception as exc:  # a trial's failure is data: the study goes on
            row.update(status="failed", error=failure_text(exc))
    if log.result() is not None:  # the row has the key only when the trial logged
        row["log"] = log.result()
    row.update(started_at=utc_text(started), finished_at=utc_text(datetime.now(UTC)),
               seconds=time.perf_counter() - t0)
    return row
