"""The walk-forward's files, every figure of the page recomputable from them.

In the report folder:

- ``walkforward.json``: the study as one document (folds, grid, trials, choices with their
  DSR inputs, both frozen mixes, the out-of-sample curve's metrics, every basis);
- ``grid.csv``: one row per fold x cluster x configuration (each cluster alone, in-sample);
- ``selection.csv``: one row per fold x cluster: the choice, N, the trials' Sharpe variance,
  SR0 and the DSR with the selected run's own figures, then the same cluster in the
  in-sample and out-of-sample frozen mixes;
- ``mix.csv``: the frozen mixes per fold, sample (in-sample / out-of-sample) and cluster,
  with the portfolio's row;
- ``trials_equity.csv``: every trial's daily equity marks (its Sharpe recomputes from them);
- ``oos_equity.csv``: the out-of-sample windows chained end to end (``app.walkforward.concat``);
- ``fold-N/in-sample-mix/`` and ``fold-N/out-of-sample/``: each mix's full backtest files
  (metrics.json, trades.csv, equity.csv, report.html);
- ``report.html``: the page, titled "Walk-forward".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from app.backtest import BacktestResult, write_outputs
from app.staged import staged_folder
from app.walkforward.scores import SELECTION_BASIS, Choice, RunScore
from app.walkforward.study import FoldResult, WalkForwardResult, trials_frame
from engine.jsonform import json_ready
from engine.metrics.basis import basis_definition, basis_label
from engine.metrics.selection import TRIALS_VARIANCE_BASIS
from storage.csv_export import write_csv

TRIALS_BASIS = (
    "N per selection: the configurations each cluster chose among in a fold (the grid's "
    "size G; a configuration that did not trade still counts); the per-cluster selections "
    "of one fold together searched G ** clusters mixes (combined), which no single DSR here "
    "deflates: the in-sample mix's figures are selection-biased and shown as such"
)
OOS_BASIS = (
    "out-of-sample windows chained end to end (each fold's growth compounded on the previous "
    "fold's last equity); PSR against a Sharpe of 0 with N = 1, since nothing is selected "
    "out-of-sample"
)

_SCORE_KEYS = ("sharpe", "sharpe_per_period", "observations", "skewness", "kurtosis", "psr",
               "baskets", "pnl", "total_return", "max_drawdown")


def _score(score: RunScore) -> dict[str, Any]:
    """The figures of a run; the P&L in cents, as the account books it."""
    out = {k: getattr(score, k) for k in _SCORE_KEYS}
    out["pnl"] = round(out["pnl"], 2)
    return out


def _mix(result: BacktestResult) -> dict[str, Any]:
    m = result.metrics.to_dict() if result.metrics is not None else {}
    by_cluster = m.get("clusters", {}).get("by_cluster", {})
    return {"period": result.params.get("period"), "complete": result.complete,
            "notes": list(result.notes), "portfolio": _score(RunScore.of(result)),
            "by_cluster": {name: {"baskets": c.get("baskets"), "pnl": _cents(c.get("pnl")),
                                  "sharpe": c.get("sharpe")} for name, c in by_cluster.items()}}


def _cents(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def _selection(choice: Choice) -> dict[str, Any]:
    row: dict[str, Any] = {"cluster": choice.cluster, "config": None, "params": choice.params,
                           "note": choice.note}
    if choice.trial is not None:
        row["config"] = choice.trial.config
        row["in_sample_alone"] = _score(choice.trial.score)
    if choice.significance is not None:
        s = choice.significance
        row.update(trials=s.trials, defined_trials=s.defined_trials,
                   trials_sharpe_variance=s.trials_sharpe_variance,
                   expected_max_sharpe=s.expected_max_sharpe,
                   sharpe_per_period=s.sharpe_per_period, observations=s.observations,
                   skewness=s.skewness, kurtosis=s.kurtosis, dsr=s.dsr)
    return row


def _fold_doc(fold: FoldResult) -> dict[str, Any]:
    chosen = {(c.cluster, c.trial.config) for c in fold.choices.values() if c.trial}
    return {
        **fold.fold.as_dict(),
        "grid": [{"cluster": t.cluster, "config": t.config, "params": t.params,
                  **_score(t.score), "chosen": (t.cluster, t.config) in chosen}
                 for t in fold.trials],
        "selection": [_selection(c) for c in fold.choices.values()],
        "in_sample_mix": _mix(fold.in_sample),
        "out_of_sample_mix": _mix(fold.out_of_sample),
    }


def study_document(result: WalkForwardResult) -> dict[str, Any]:
    """The whole study as plain JSON types (NaN as null)."""
    oos = result.oos
    period = None
    if len(oos.equity):
        period = {"from": oos.equity.index[0].date().isoformat(),
                  "to": oos.equity.index[-1].date().isoformat()}
    doc = {
        "title": "Walk-forward", "complete": result.complete, "notes": result.notes,
        "scheme": result.scheme, "min_baskets": result.min_baskets,
        "selection_basis": SELECTION_BASIS, "clusters": result.clusters,
        "returns_basis": {"name": result.metrics_basis,
                          "label": basis_label(result.metrics_basis),
                          "definition": basis_definition(result.metrics_basis)},
        "grid": [{"config": i, "params": p} for i, p in enumerate(result.grid, start=1)],
        "trials": {"per_selection": len(result.grid), "combined": result.combined_trials,
                   "basis": TRIALS_BASIS, "variance_basis": TRIALS_VARIANCE_BASIS},
        "folds": [_fold_doc(f) for f in result.folds],
        "out_of_sample": {"basis": OOS_BASIS, "period": period,
                          "start_capital": oos.start_capital,
                          "metrics": oos.metrics.to_dict() if oos.metrics else None},
    }
    return json_ready(doc)


def write_walkforward(result: WalkForwardResult, report_dir: Path) -> list[Path]:
    """Every file of the study (see the module docstring), all of them or none
    (``app.staged``); the page last."""
    from app.report.walkforward import write_walkforward_report

    doc = study_document(result)
    files = []
    with staged_folder(report_dir) as folder:
        for fold in result.folds:
            where = folder / f"fold-{fold.fold.number}"
            n = fold.fold.number
            files += write_outputs(fold.in_sample, where / "in-sample-mix",
                                   title=f"Walk-forward fold {n}: in-sample, the frozen mix")
            files += write_outputs(fold.out_of_sample, where / "out-of-sample",
                                   title=f"Walk-forward fold {n}: out-of-sample, the frozen "
                                         "mix")
        files.append(_write_json(folder / "walkforward.json", doc))
        files += _write_tables(doc, result, folder)
        files.append(write_walkforward_report(folder / "report.html", doc, result.oos.equity))
    return [report_dir / path.relative_to(folder) for path in files]


def _write_json(path: Path, doc: dict[str, Any]) -> Path:
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def _csv(path: Path, header: list[str], rows: Any) -> Path:
    write_csv(path, header, rows)
    return path


def _selection_rows(fold: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for s in fold["selection"]:
        is_c = fold["in_sample_mix"]["by_cluster"].get(s["cluster"], {})
        oos_c = fold["out_of_sample_mix"]["by_cluster"].get(s["cluster"], {})
        rows.append([fold["fold"], s["cluster"], s["config"], _params_text(s["params"]),
                     *(s.get(k) for k in _SELECTION_KEYS), s["note"],
                     *(is_c.get(k) for k in ("baskets", "pnl", "sharpe")),
                     *(oos_c.get(k) for k in ("baskets", "pnl", "sharpe"))])
    return rows


def _mix_rows(fold: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for sample, label in (("in_sample_mix", "in-sample"), ("out_of_sample_mix", "out-of-sample")):
        mix = fold[sample]
        p = mix["portfolio"]
        rows.append([fold["fold"], label, "portfolio", p["baskets"], p["pnl"], p["sharpe"],
                     p["psr"], p["total_return"], p["max_drawdown"]])
        rows += [[fold["fold"], label, name, c["baskets"], c["pnl"], c["sharpe"], None, None,
                  None] for name, c in mix["by_cluster"].items()]
    return rows


def _write_tables(doc: dict[str, Any], result: WalkForwardResult, folder: Path) -> list[Path]:
    folds = doc["folds"]
    grid_rows = [[f["fold"], r["cluster"], r["config"], _params_text(r["params"]),
                  *(r[k] for k in _SCORE_KEYS), r["chosen"]] for f in folds for r in f["grid"]]
    trials = trials_frame(result)
    oos = result.oos.equity
    return [
        _csv(folder / "grid.csv", ["fold", "cluster", "config", "params", *_SCORE_KEYS,
                                   "chosen"], grid_rows),
        _csv(folder / "selection.csv",
             ["fold", "cluster", "config", "params", *_SELECTION_KEYS, "note",
              "is_mix_baskets", "is_mix_pnl", "is_mix_sharpe", "oos_mix_baskets",
              "oos_mix_pnl", "oos_mix_sharpe"],
             [row for f in folds for row in _selection_rows(f)]),
        _csv(folder / "mix.csv", ["fold", "sample", "cluster", "baskets", "pnl", "sharpe", "psr",
                                  "total_return", "max_drawdown"],
             [row for f in folds for row in _mix_rows(f)]),
        _csv(folder / "trials_equity.csv", ["fold", "cluster", "config", "date", "equity"],
             ([f, c, k, f"{d:%Y-%m-%d}", e]
              for f, c, k, d, e in trials.itertuples(index=False, name=None))),
        _csv(folder / "oos_equity.csv", ["date", "fold", "balance", "equity"],
             ([f"{d:%Y-%m-%d}", int(f), b, e]  # unrounded: the chained figures' own curve
              for d, (f, b, e) in zip(oos.index, oos.itertuples(index=False, name=None),
                                      strict=True))),
    ]


_SELECTION_KEYS = ("trials", "defined_trials", "trials_sharpe_variance", "expected_max_sharpe",
                   "sharpe_per_period", "observations", "skewness", "kurtosis", "dsr")
