"""The study's report: ``sweep.json``, ``trials.csv``, ``trials_returns.csv``, one CSV per
heatmap and ``report.html`` titled "Sweep", every figure of the page recomputable from the
files beside it.

- ``sweep.json``: every figure of ``app.sweep.summary.study_summary`` with its basis, the
  study file and when the report was made;
- ``trials.csv``: one row per trial (its figures and their returns basis, span, status,
  error, what it logged (the count of its warnings and errors, its first lines), the
  per-day Sharpe the DSR's variance is taken from, one column per parameter and the
  parameters as JSON);
- ``trials_returns.csv``: every trial's daily returns (trial, date, return): the DSR, the
  PBO and each Sharpe recompute from them;
- ``heatmap-N-METRIC-X-Y.csv``: each heatmap, one row per cell (x, y, median, count);
- ``report.html``: the page, drawn from ``sweep.json``.

The files are written into a temporary folder beside the report's and moved into place only
when every one is written: a failure leaves the previous report as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from app.report.errors import ReportWriteError
from app.report.markup import EMPTY_ICON
from app.report.sections.sweep import (
    counts_section,
    distribution_section,
    heatmaps_section,
    pbo_section,
    selection_section,
    settings_section,
)
from app.staged import staged_folder
from app.sweep.reading import StudyFile
from app.sweep.summary import HeatmapSpec, group_of, per_period_sharpe, returns_of, study_summary
from engine.jsonform import json_ready
from storage.csv_export import write_csv

TITLE = "Sweep"
SWEEP_JSON = "sweep.json"
TRIALS_CSV = "trials.csv"
RETURNS_CSV = "trials_returns.csv"
REPORT_HTML = "report.html"

TRIAL_COLUMNS = ("id", "config", "group", "cluster", "fold", "sample", "span_from", "span_to",
                 "status", "error", "sharpe", "sharpe_per_period", "total_return",
                 "max_drawdown", "baskets", "days", "returns_basis", "seconds", "logged",
                 "log")


def sweep_document(study: StudyFile, heatmaps: Sequence[HeatmapSpec] | None = None,
                   generated_at: datetime | None = None) -> dict[str, Any]:
    """``sweep.json``: the summary of the study's rows, the study file, the time, and the
    file each heatmap is written to."""
    doc = study_summary(study.rows, study.settings, heatmaps)
    for number, h in enumerate(doc["heatmaps"]):
        h["file"] = heatmap_file(number, h)
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    return json_ready({"title": TITLE, "study": str(study.path),
                       "generated_at": stamp.isoformat(timespec="seconds"), **doc})


def heatmap_file(number: int, h: Mapping[str, Any]) -> str:
    parts = [str(number), h["metric"], h["x"], *([h["y"]] if h["y"] else [])]
    return "heatmap-" + "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", p) for p in parts) + ".csv"


def _trial_rows(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[list[Any]]:
    out = []
    for r in rows:
        log = r.get("log") or {"count": 0, "lines": []}
        basis = (r.get("metrics") or {}).get("basis") or {}
        values = {**r, "group": group_of(r), "days": len(r.get("daily_returns") or []),
                  "returns_basis": basis.get("name") if isinstance(basis, Mapping) else None,
                  "sharpe_per_period": json_ready(per_period_sharpe(returns_of(r))),
                  "logged": log["count"], "log": " | ".join(log["lines"])}
        params = r["params"] or {}
        out.append([values.get(k) for k in TRIAL_COLUMNS]
                   + [params.get(n) for n in names]
                   + [json.dumps(params, sort_keys=True)])
    return out


def _write_files(folder: Path, study: StudyFile, doc: Mapping[str, Any]) -> None:
    names = doc["parameters"]
    (folder / SWEEP_JSON).write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n",
                                     encoding="utf-8")
    write_csv(folder / TRIALS_CSV, [*TRIAL_COLUMNS, *(f"param_{n}" for n in names), "params"],
              _trial_rows(study.rows, names))
    write_csv(folder / RETURNS_CSV, ["id", "date", "return"],
              ([r["id"], d, v] for r in study.rows for d, v in (r.get("daily_returns") or [])))
    for h in doc["heatmaps"]:
        write_csv(folder / h["file"], [h["x"], h["y"] or "", "median", "count"],
                  ([x, y, h["median"][i][j], h["count"][i][j]]
                   for i, y in enumerate(h["y_values"]) for j, x in enumerate(h["x_values"])))
    (folder / REPORT_HTML).write_text(render_sweep(doc), encoding="utf-8")


def write_sweep_report(study: StudyFile, report_dir: Path,
                       heatmaps: Sequence[HeatmapSpec] | None = None) -> list[Path]:
    """Every file of the report in ``report_dir`` (created), all or none of them."""
    doc = sweep_document(study, heatmaps)
    report_dir = Path(report_dir)
    try:
        with staged_folder(report_dir) as folder:
            _write_files(folder, study, doc)
            names = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        where = exc.filename or report_dir
        raise ReportWriteError(f"cannot write the sweep report to {report_dir}: {where}: "
                               f"{exc.strerror or exc}") from exc
    return [report_dir / n for n in names]


def _asset(name: str) -> str:
    return resources.files("app.report").joinpath(name).read_text(encoding="utf-8")


def render_sweep(doc: Mapping[str, Any]) -> str:
    """The page as HTML text, from the ``sweep.json`` document alone."""
    links = [("settings", "Study"), ("counts", "Trials"), ("distribution", "Sharpes"),
             ("selection", "Selection"), ("pbo", "PBO"), ("heatmaps", "Heatmaps")]
    nav = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name in links)
    c = doc["counts"]
    chip = (f'<span class="chip ok">{c["done"]} done</span>' if not c["failed"] else
            f'<span class="chip bad">{c["failed"]} failed of {c["tried"]}</span>')
    body = [
        f'<nav class="top"><div class="inner">{chip}{nav}</div></nav><main>',
        f'<header><p class="kicker">Parameter sweep</p><h1>{TITLE}</h1></header>',
        settings_section(doc), counts_section(doc), distribution_section(doc),
        selection_section(doc), pbo_section(doc), heatmaps_section(doc),
        f"<footer><p>Generated {escape(doc['generated_at'])}. Times are UTC. Every figure "
        f"recomputes from {SWEEP_JSON}, {TRIALS_CSV} and {RETURNS_CSV}.</p></footer></main>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + EMPTY_ICON
            + f"<title>{TITLE}</title><style>\n{_asset('report.css')}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
