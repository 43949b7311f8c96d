"""A study's figures, pure functions of its rows: what the report and the console show.

Everything here is computed from the trials store's rows (``storage.trials``, as dicts) and
nothing else, so ``sweep.json``, the report's page and the console's Research tab show the
same numbers, and a reader can recompute each one from ``trials.csv`` and
``trials_returns.csv``.  No I/O, no Qt.

The figures and their rules (each also stated in the result, as its ``basis``):

- **Counts**: N tried = done + failed (a failed trial was tried: it counts, as the DSR
  counts it).
- **Sharpe distribution**: the annualised Sharpe (the run's ``metrics.json`` figure) of the
  trials a choice is made on: in-sample spans, or the whole period when the study has no
  folds.  Out-of-sample trials judge a choice and are not in it.
- **Selections**: per fold and per group (all clusters together, or one cluster alone when
  the trial ran it alone: the row's ``cluster``, missing or NULL meaning together), the
  configuration with the highest in-sample annualised Sharpe among the done trials with one
  (a tie: the lowest configuration number), its in-sample figures and the same
  configuration's out-of-sample trial of that fold and group; a choice on fewer closed
  baskets than the walk-forward's ``--min-baskets`` default says so in its note (the
  walk-forward would not make it; the sweep chooses by Sharpe alone).
- **DSR of a selection** (``deflated_sharpe_over_trials``): N = that fold and group's
  in-sample trials (done + failed), V = the sample variance of their non-annualised Sharpes
  (:func:`per_period_sharpe` of each trial's stored daily returns), the selected trial's own
  daily returns for its Sharpe, T, skewness and kurtosis.
- **PBO by CSCV** (``probability_of_backtest_overfitting``), per group, on a T x N matrix:
  one column per configuration, its out-of-sample daily returns with the folds chained (rows
  keyed by fold and date, so two folds never share a row), or its whole-period returns when
  the study has no folds; only configurations whose every needed trial is done with returns
  enter, and only the rows every one of them has.  S = the largest even number at most 16
  and at most T / 2; fewer than 4 blocks or fewer than 2 configurations is "not enough",
  said as the result.
- **Heatmaps**: a metric of the in-sample (or whole-period) trials by two parameters,
  the median over each cell's done trials whose metric is defined (over the other
  parameters, the folds and the groups), with the count of those trials per cell.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.report.svg.histogram import histogram_counts, histogram_edges
from app.walkforward.grid import DEFAULT_MIN_BASKETS
from engine.metrics.overfitting import (
    DEFAULT_BLOCKS,
    MIN_ROWS_PER_BLOCK,
    deflated_sharpe_over_trials,
    probability_of_backtest_overfitting,
)
from engine.metrics.returns import ZERO_DISPERSION
from engine.metrics.selection import TRIALS_VARIANCE_BASIS

Row = Mapping[str, Any]

#: A trial that ran every study cluster together (its ``cluster`` missing or NULL).
TOGETHER = "together"
#: The samples a choice is made on: in-sample spans, or the whole period without folds.
CHOICE_SAMPLES = ("is", "all")
#: The fewest blocks the PBO is computed with: C(4, 2) = 6 splits.
MIN_BLOCKS = 4

#: The metrics a heatmap can show: key -> how it is measured.
HEATMAP_METRICS: dict[str, str] = {
    "sharpe": "annualised Sharpe of the trial's daily returns",
    "total_return": "total return of the trial",
    "max_drawdown": "maximum drawdown of the trial's daily equity",
    "baskets": "closed baskets of the trial",
}
#: The samples a heatmap can be drawn on.
HEATMAP_SAMPLES: dict[str, tuple[str, ...]] = {"in-sample": CHOICE_SAMPLES,
                                               "out-of-sample": ("oos",)}

COUNTS_BASIS = ("N tried = done + failed: a failed trial was tried and counts toward the "
                "number of trials")
DISTRIBUTION_BASIS = ("annualised Sharpe of each done trial's daily returns (its metrics), "
                      "over the in-sample trials (the whole-period trials without folds): "
                      "the trials a choice is made on; a trial without a defined Sharpe (no "
                      "variation in its returns) is counted but not drawn")
SELECTION_BASIS = ("per fold and group, the configuration with the highest in-sample "
                   "annualised Sharpe among the done trials that have one (a tie: the lowest "
                   "configuration number); its out-of-sample figures are that "
                   "configuration's out-of-sample trial of the same fold and group")
DSR_BASIS = ("DSR = PSR(SR0) of the selected trial's daily returns (Bailey and Lopez de Prado "
             "2014); N = the fold and group's in-sample trials, done + failed; V = "
             + TRIALS_VARIANCE_BASIS + ", each the mean / std (ddof=1) of the trial's "
             "stored daily returns, risk-free 0; SR0 and the Sharpe per day")
PBO_BASIS = ("PBO by CSCV (Bailey, Borwein, Lopez de Prado and Zhu 2015) on a T x N matrix: "
             "one column per configuration, its out-of-sample daily returns with the folds "
             "chained (rows keyed by fold and date), or its whole-period daily returns "
             "without folds; configurations with a failed or missing trial are left out; "
             "the rows every column has; S = the largest even number <= 16 and <= T / "
             f"{MIN_ROWS_PER_BLOCK}, at least {MIN_BLOCKS}")
HEATMAP_RULE = ("median of the metric over each cell's done trials whose metric is defined "
                "(over the other parameters, the folds and the groups); count: those "
                "trials")


def group_of(row: Row) -> str:
    """The row's group: its cluster when it ran alone, :data:`TOGETHER` otherwise."""
    return row.get("cluster") or TOGETHER


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def returns_of(row: Row) -> list[float]:
    """The trial's stored daily returns (values only, in date order)."""
    return [float(r) for _, r in (row.get("daily_returns") or [])]


def per_period_sharpe(returns: Sequence[float]) -> float:
    """Mean / std (ddof=1) of daily returns, not annualised, risk-free 0; NaN for fewer than
    two returns or no dispersion (as the metrics' Sharpe)."""
    values = np.asarray(returns, dtype=float)
    if values.size < 2:
        return math.nan
    std = float(np.std(values, ddof=1))
    return float(values.mean()) / std if std > ZERO_DISPERSION else math.nan


def _stats(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "median": None, "std": None, "min": None, "max": None}
    return {"mean": statistics.fmean(values), "median": statistics.median(values),
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values), "max": max(values)}


# -- counts and the distribution -----------------------------------------------------------


def counts(rows: Sequence[Row]) -> dict[str, Any]:
    """How many trials were tried, done and failed, over how many configurations and spans."""
    done = sum(1 for r in rows if r["status"] == "done")
    return {"tried": len(rows), "done": done, "failed": len(rows) - done,
            "configurations": len({r["config"] for r in rows}),
            "spans": len({(r["fold"], r["sample"]) for r in rows}),
            "groups": sorted({group_of(r) for r in rows}),
            "folds": sorted({r["fold"] for r in rows if r["sample"] != "all"}),
            "basis": COUNTS_BASIS}


def sharpe_distribution(rows: Sequence[Row]) -> dict[str, Any]:
    """The annualised Sharpes of the trials a choice is made on, their statistics and a
    histogram (edges of a round width with 0 an edge; a value on an edge counts above)."""
    chosen = [r for r in rows if r["status"] == "done" and r["sample"] in CHOICE_SAMPLES]
    values = [v for r in chosen if (v := _finite(r.get("sharpe"))) is not None]
    histogram: dict[str, Any] = {"edges": [], "counts": []}
    if values:
        edges = histogram_edges(np.asarray(values))
        histogram = {"edges": [float(e) for e in edges],
                     "counts": [int(c) for c in histogram_counts(np.asarray(values), edges)]}
    return {"trials": len(chosen), "defined": len(values), "values": values,
            **_stats(values), "histogram": histogram, "basis": DISTRIBUTION_BASIS}


# -- selections and their DSR --------------------------------------------------------------


def _figures(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row["id"], "status": row["status"], "sharpe": _finite(row.get("sharpe")),
            "sharpe_per_period": _finite(per_period_sharpe(returns_of(row))),
            "total_return": _finite(row.get("total_return")),
            "max_drawdown": _finite(row.get("max_drawdown")), "baskets": row.get("baskets"),
            "days": len(row.get("daily_returns") or [])}


def _best(candidates: Iterable[Row]) -> Row | None:
    scored = [(r["sharpe"], -r["config"], r) for r in candidates
              if r["status"] == "done" and _finite(r.get("sharpe")) is not None]
    return max(scored, key=lambda t: (t[0], t[1]))[2] if scored else None


def _dsr(pool: Sequence[Row], chosen: Row) -> dict[str, Any]:
    done = [r for r in pool if r["status"] == "done"]
    significance = deflated_sharpe_over_trials(
        [per_period_sharpe(returns_of(r)) for r in done], returns_of(chosen),
        failed_trials=len(pool) - len(done))
    return {"dsr": _finite(significance.dsr), "trials": significance.trials,
            "failed_trials": len(pool) - len(done),
            "defined_trials": significance.defined_trials,
            "trials_sharpe_variance": _finite(significance.trials_sharpe_variance),
            "expected_max_sharpe": _finite(significance.expected_max_sharpe),
            "sharpe_per_period": _finite(significance.sharpe_per_period),
            "observations": significance.observations,
            "skewness": _finite(significance.skewness),
            "kurtosis": _finite(significance.kurtosis), "note": significance.note}


def selections(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Per fold and group: the in-sample choice, its figures, its out-of-sample trial and
    the DSR of making it among the fold and group's trials (see the module docstring)."""
    pools: dict[tuple[int, str], list[Row]] = defaultdict(list)
    judged: dict[tuple[int, str, int], Row] = {}
    for r in rows:
        if r["sample"] in CHOICE_SAMPLES:
            pools[(r["fold"], group_of(r))].append(r)
        elif r["sample"] == "oos":
            judged[(r["fold"], group_of(r), r["config"])] = r
    out = []
    for (fold, group), pool in sorted(pools.items()):
        chosen = _best(pool)
        entry: dict[str, Any] = {
            "fold": fold, "group": group, "sample": pool[0]["sample"], "trials": len(pool),
            "config": None, "params": None, "in_sample": None, "out_of_sample": None,
            "dsr": None, "note": ""}
        if chosen is None:
            entry["note"] = "no in-sample trial has a defined Sharpe: nothing to select"
        else:
            entry.update(config=chosen["config"], params=chosen["params"],
                         in_sample=_figures(chosen),
                         out_of_sample=_figures(judged.get((fold, group, chosen["config"]))),
                         dsr=_dsr(pool, chosen), note=_few_baskets(chosen))
        out.append(entry)
    return out


def _few_baskets(chosen: Row) -> str:
    """A choice made on fewer closed baskets than the walk-forward asks for: its Sharpe
    rests on a handful of trades (one trade's Sharpe is +-sqrt(periods / T) whatever its
    P&L), and the walk-forward would not have made it."""
    baskets = chosen.get("baskets")
    if not isinstance(baskets, int) or baskets >= DEFAULT_MIN_BASKETS:
        return ""
    return (f"chosen on {baskets} closed basket{'' if baskets == 1 else 's'} in-sample: the "
            f"walk-forward (--min-baskets {DEFAULT_MIN_BASKETS}) would not choose it")


# -- PBO -----------------------------------------------------------------------------------


def pbo_blocks(periods: int) -> int:
    """S: the largest even number at most 16 (the paper's) and at most T / 2 (at least two
    rows per block); below :data:`MIN_BLOCKS` the PBO is not computed."""
    most = min(DEFAULT_BLOCKS, periods // MIN_ROWS_PER_BLOCK)
    return most - most % 2


def _columns(rows: Sequence[Row], group: str) -> tuple[dict[int, dict[Any, float]], int]:
    """Per configuration its returns keyed by (fold, date); configurations with a failed,
    missing or empty trial are left out (and counted)."""
    samples = ("oos",) if any(r["sample"] == "oos" for r in rows) else ("all",)
    by_config: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        if group_of(r) == group and r["sample"] in samples:
            by_config[r["config"]].append(r)
    folds = {r["fold"] for rs in by_config.values() for r in rs}
    columns: dict[int, dict[Any, float]] = {}
    for config, trials in sorted(by_config.items()):
        if ({r["fold"] for r in trials} != folds
                or any(r["status"] != "done" or not r.get("daily_returns") for r in trials)):
            continue
        columns[config] = {(r["fold"], d): float(v) for r in trials
                           for d, v in r["daily_returns"]}
    return columns, len(by_config) - len(columns)


def pbo(rows: Sequence[Row], group: str = TOGETHER) -> dict[str, Any]:
    """The PBO of choosing the best configuration of ``group`` (see the module docstring);
    ``computed`` False with the reason in ``note`` when there is not enough to compute it."""
    columns, left_out = _columns(rows, group)
    keys = sorted(set.intersection(*(set(c) for c in columns.values()))) if columns else []
    configs = sorted(columns)
    out: dict[str, Any] = {"group": group, "configurations": configs, "left_out": left_out,
                           "periods": len(keys), "blocks": None, "computed": False,
                           "pbo": None, "note": "", "basis": PBO_BASIS}
    blocks = pbo_blocks(len(keys))
    if len(configs) < 2:
        out["note"] = (f"not enough configurations: {len(configs)} with every trial done "
                       "(the PBO compares at least 2)")
        return out
    if blocks < MIN_BLOCKS:
        out["note"] = (f"not enough periods: {len(keys)} common daily returns; the PBO needs "
                       f"{MIN_BLOCKS} blocks of at least {MIN_ROWS_PER_BLOCK} "
                       f"({MIN_BLOCKS * MIN_ROWS_PER_BLOCK})")
        return out
    matrix = np.array([[columns[c][k] for c in configs] for k in keys])
    result = probability_of_backtest_overfitting(matrix, blocks)
    out.update(blocks=blocks, computed=result.computed, pbo=_finite(result.pbo),
               combinations=result.combinations, rows_used=result.rows_used,
               probability_of_loss=_finite(result.probability_of_loss),
               degradation_slope=_finite(result.degradation_slope), note=result.note,
               sharpe_basis=result.sharpe_basis, rank_convention=result.rank_convention)
    return out


# -- heatmaps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatmapSpec:
    """One heatmap: ``metric`` (default the Sharpe) by parameters ``x`` and ``y`` (None:
    one row), on the in-sample (default) or out-of-sample trials."""

    x: str
    y: str | None = None
    metric: str = "sharpe"
    sample: str = "in-sample"

    def __post_init__(self) -> None:
        if self.metric not in HEATMAP_METRICS:
            raise ValueError(f"heatmap metric must be one of {', '.join(HEATMAP_METRICS)}, "
                             f"got {self.metric!r}")
        if self.sample not in HEATMAP_SAMPLES:
            raise ValueError(f"heatmap sample must be one of {', '.join(HEATMAP_SAMPLES)}, "
                             f"got {self.sample!r}")
        if self.x == self.y:
            raise ValueError(f"a heatmap needs two different parameters, got {self.x} twice")


def parameters(rows: Sequence[Row]) -> list[str]:
    """The grid's parameter names, in the order the configurations give them."""
    names: dict[str, None] = {}
    for r in sorted(rows, key=lambda r: r["config"]):
        names.update(dict.fromkeys(r["params"] or {}))
    return list(names)


def varying_parameters(rows: Sequence[Row]) -> list[str]:
    """The parameters that take more than one value in the study, in grid order."""
    return [p for p in parameters(rows) if len(_axis(rows, p)) > 1]


def default_heatmap(rows: Sequence[Row]) -> HeatmapSpec | None:
    """The Sharpe by the first two parameters that vary (one when only one varies); None
    when none varies."""
    varying = varying_parameters(rows)
    if not varying:
        return None
    return HeatmapSpec(varying[0], varying[1] if len(varying) > 1 else None)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _order(value: Any) -> tuple[int, float, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, _key(value))


def _axis(rows: Sequence[Row], name: str | None) -> list[Any]:
    if name is None:
        return [None]
    values = {_key(v): v for r in rows if (v := (r["params"] or {}).get(name)) is not None}
    return sorted(values.values(), key=_order)


def heatmap(rows: Sequence[Row], spec: HeatmapSpec) -> dict[str, Any]:
    """``spec.metric`` by the two parameters: the median and the count per cell (rows: the
    values of ``y``, columns: those of ``x``, both sorted); an empty cell has median None and
    count 0."""
    names = parameters(rows)
    for name in (spec.x, spec.y):
        if name is not None and name not in names:
            raise ValueError(f"heatmap: no parameter {name!r} in the study "
                             f"(its parameters: {', '.join(names) or 'none'})")
    pool = [r for r in rows if r["sample"] in HEATMAP_SAMPLES[spec.sample]]
    xs, ys = _axis(pool, spec.x), _axis(pool, spec.y)
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in pool:
        value = _finite(r.get(spec.metric))
        if r["status"] != "done" or value is None:
            continue
        params = r["params"] or {}
        y = params.get(spec.y) if spec.y is not None else None
        cells[(_key(params.get(spec.x)), _key(y))].append(value)
    medians = [[_median(cells.get((_key(x), _key(y)), [])) for x in xs] for y in ys]
    count = [[len(cells.get((_key(x), _key(y)), [])) for x in xs] for y in ys]
    return {"x": spec.x, "y": spec.y, "metric": spec.metric, "sample": spec.sample,
            "metric_basis": HEATMAP_METRICS[spec.metric], "x_values": xs, "y_values": ys,
            "median": medians, "count": count, "rule": HEATMAP_RULE}


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


# -- the whole study -----------------------------------------------------------------------


def returns_basis(rows: Sequence[Row]) -> dict[str, Any]:
    """The basis of the trials' daily returns and Sharpes (``metrics.json``'s ``basis``:
    its name, label and definition), the one the study's done trials share; when they do
    not (a study written before one file was held to one set of settings), the names
    found, and the label says so."""
    found = {}
    for r in rows:
        basis = (r.get("metrics") or {}).get("basis") if r.get("status") == "done" else None
        if isinstance(basis, Mapping) and basis.get("name"):
            found.setdefault(basis["name"], basis)
    if len(found) == 1:
        (basis,) = found.values()
        return {"name": basis["name"], "label": basis.get("label", ""),
                "definition": basis.get("definition", "")}
    names = sorted(found)
    label = ("no done trial states one" if not names else
             f"mixed: trials on the {' and '.join(names)} bases; their Sharpes are not "
             "comparable")
    return {"name": None, "names": names, "label": label, "definition": ""}


def study_summary(rows: Sequence[Row], settings: Mapping[str, Any] | None = None,
                  heatmaps: Sequence[HeatmapSpec] | None = None) -> dict[str, Any]:
    """Every figure of the study as one JSON-ready document (``sweep.json``'s body):
    ``heatmaps`` None draws :func:`default_heatmap`."""
    specs = list(heatmaps) if heatmaps is not None else [
        s for s in (default_heatmap(rows),) if s is not None]
    groups = sorted({group_of(r) for r in rows}) or [TOGETHER]
    return {"settings": dict(settings or {}), "returns_basis": returns_basis(rows),
            "counts": counts(rows),
            "parameters": parameters(rows), "varying_parameters": varying_parameters(rows),
            "sharpe_distribution": sharpe_distribution(rows),
            "selection_basis": SELECTION_BASIS, "dsr_basis": DSR_BASIS,
            "selections": selections(rows), "pbo": [pbo(rows, g) for g in groups],
            "heatmaps": [heatmap(rows, s) for s in specs]}
