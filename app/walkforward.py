"""Walk-forward: choose each cluster's parameters in-sample, freeze them, trade out-of-sample.

The grid is a small TOML file whose keys are cluster parameters and whose values are lists;
the configurations are their product:

    tau_f = [4, 8]
    tau_s = [96]
    tau_q = [480]
    entry = [1.0, 1.2, 1.5]
    exit = [0.25]

Every configuration is backtested once on the in-sample span with all clusters (each cluster
with that configuration); each cluster then keeps the configuration under which *it* did
best in-sample (highest Sharpe of its daily P&L on the pool, at least ``min_baskets``
baskets; otherwise its default).  The frozen choice is run once on the out-of-sample span,
and its metrics are reported with the Deflated Sharpe Ratio for the number of
configurations tried: a Sharpe picked as the best of N looks better than it is, and the DSR
says how much of it survives.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.backtest import BacktestResult, BacktestSpec, run_backtest, write_outputs
from engine.cluster import ClusterSpec
from engine.config import EngineConfig
from engine.errors import ConfigError, UserError
from engine.jsonform import json_ready
from engine.ranges import FieldError
from engine.tdi import TdiParams

GRID_KEYS = {"tau_f": int, "tau_s": int, "tau_q": int, "entry": float, "exit": float,
             "hard_stop_atr": float, "time_stop_bars": int, "take_profit_r": float}


def load_grid(path: Path) -> list[dict[str, Any]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    if not raw:
        raise ConfigError(path, "", "the grid is empty")
    axes = []
    for key, values in raw.items():
        if key not in GRID_KEYS:
            raise ConfigError(path, key, f"unknown grid key (use {', '.join(GRID_KEYS)})")
        if not isinstance(values, list) or not values:
            raise ConfigError(path, key, "expected a non-empty list of values")
        kind = GRID_KEYS[key]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or \
                    (kind is int and not isinstance(v, int)):
                raise ConfigError(path, key, f"expected {kind.__name__} values, got {v!r}")
        axes.append([(key, kind(v)) for v in values])
    return [dict(combo) for combo in itertools.product(*axes)]


def apply_params(spec: ClusterSpec, params: dict[str, Any]) -> ClusterSpec:
    tdi = TdiParams(params.get("tau_f", spec.tdi.tau_f), params.get("tau_s", spec.tdi.tau_s),
                    params.get("tau_q", spec.tdi.tau_q))
    stops = dataclasses.replace(spec.stops, **{k: params[k] for k in
                                               ("hard_stop_atr", "time_stop_bars",
                                                "take_profit_r") if k in params})
    return dataclasses.replace(spec, tdi=tdi, entry=params.get("entry", spec.entry),
                               exit_band=params.get("exit", spec.exit_band), stops=stops)


def with_params(config: EngineConfig, chosen: dict[str, dict[str, Any]]) -> EngineConfig:
    return dataclasses.replace(config, clusters=tuple(
        apply_params(c, chosen.get(c.name, {})) for c in config.clusters))


@dataclass
class WalkForwardResult:
    grid: list[dict[str, Any]]
    in_sample: list[dict[str, Any]]  # per configuration: per-cluster Sharpe, pnl, baskets
    chosen: dict[str, dict[str, Any]]
    out_of_sample: BacktestResult


def _cluster_scores(result: BacktestResult) -> dict[str, dict[str, float]]:
    if result.metrics is None:
        return {}
    return {name: {"sharpe": cm.sharpe, "pnl": cm.pnl, "baskets": cm.baskets.baskets}
            for name, cm in result.metrics.clusters.items()}


def _check_grid(config: EngineConfig, grid: list[dict[str, Any]]) -> None:
    """Every configuration must suit every cluster before the first backtest runs."""
    for params in grid:
        for spec in config.clusters:
            try:
                apply_params(spec, params)
            except FieldError as exc:
                key = "exit" if exc.field == "exit_band" else exc.field
                raise UserError(f"grid: {key}: {exc.reason} (configuration {params}, "
                                f"cluster {spec.name})") from None


def _in_sample(spec: BacktestSpec) -> BacktestResult:
    """An in-sample backtest; one that failed midway fails the walk-forward (a choice made
    on part of the span would be reported as if made on all of it)."""
    result = run_backtest(spec)
    if result.failure is not None:
        raise result.failure
    return result


def walk_forward(base: BacktestSpec, grid: list[dict[str, Any]], is_span: tuple[datetime,
                 datetime], oos_span: tuple[datetime, datetime], *, min_baskets: int = 5,
                 progress: Any = None) -> WalkForwardResult:
    if is_span[0] >= is_span[1] or oos_span[0] >= oos_span[1]:
        raise UserError("each span must end after it starts (FROM:TO)")
    if oos_span[0] < is_span[1]:
        raise UserError("the out-of-sample span must start after the in-sample span ends")
    _check_grid(base.config, grid)
    in_sample = []
    names = [c.name for c in base.config.clusters]
    for i, params in enumerate(grid):
        if progress is not None:
            progress(f"in-sample {i + 1}/{len(grid)}: {params}")
        cfg = with_params(base.config, dict.fromkeys(names, params))
        spec = dataclasses.replace(base, config=cfg, start=is_span[0], end=is_span[1])
        in_sample.append({"params": params, "clusters": _cluster_scores(_in_sample(spec))})
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        best, best_score = None, -math.inf
        for run in in_sample:
            score = run["clusters"].get(name)
            if not score or score["baskets"] < min_baskets or not math.isfinite(score["sharpe"]):
                continue
            if score["sharpe"] > best_score:
                best, best_score = run["params"], score["sharpe"]
        chosen[name] = dict(best) if best is not None else {}
    if progress is not None:
        progress(f"out-of-sample with the frozen choice: {chosen}")
    oos_spec = dataclasses.replace(base, config=with_params(base.config, chosen),
                                   start=oos_span[0], end=oos_span[1], trials=len(grid))
    return WalkForwardResult(grid, in_sample, chosen, run_backtest(oos_spec))


def write_walkforward(result: WalkForwardResult, report_dir: Path) -> list[Path]:
    """The out-of-sample report plus walkforward.json (grid, in-sample table, choice)."""
    files = write_outputs(result.out_of_sample, report_dir)
    doc = {"configurations_tried": len(result.grid), "grid": result.grid,
           "in_sample": result.in_sample, "chosen": result.chosen,
           "selection": "per cluster, the highest in-sample Sharpe of its daily P&L on the "
                        "unified pool among configurations with enough baskets"}
    path = report_dir / "walkforward.json"
    path.write_text(json.dumps(json_ready(doc), indent=2, allow_nan=False))
    return [*files, path]
