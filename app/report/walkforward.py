"""The walk-forward's page: ``report.html`` titled "Walk-forward", drawn from the study
document that is also written as ``walkforward.json`` and the chained out-of-sample curve of
``oos_equity.csv``, so every figure on it recomputes from the files beside it.

Order: the out-of-sample result first (what the study measured), then the folds, then per
fold the in-sample grid, the selection with its DSR, the frozen mix in-sample and the frozen
mix out-of-sample, each labelled with its sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from app.report import svg as report_svg
from app.report.markup import EMPTY_ICON, legend, notes_list
from app.report.page import _write_atomically
from app.report.sections.walkforward import fold_section, folds_section, oos_summary

TITLE = "Walk-forward"


def _asset(name: str) -> str:
    return resources.files("app.report").joinpath(name).read_text(encoding="utf-8")


def _chart(curve: pd.DataFrame, capital: float) -> str:
    if curve.empty:
        return ""
    svg = report_svg.equity_chart(pd.DatetimeIndex(curve.index), curve["equity"].to_numpy(),
                                  curve["balance"].to_numpy(), capital)
    return legend(("sw equity", "Out-of-sample equity, folds chained (end of each UTC day)"),
                  ("sw balance", "Balance (realised), chained the same way"),
                  ("sw capital", "Start capital"),
                  ("sw dd", "Drawdown from the running peak")) + svg


def render_walkforward(doc: Mapping[str, Any], oos_equity: pd.DataFrame,
                       generated_at: datetime | None = None) -> str:
    """The page as HTML text (``doc`` as :func:`app.walkforward.study_document` makes it)."""
    complete = bool(doc.get("complete"))
    title = TITLE if complete else f"INCOMPLETE: {TITLE}"
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    links = [("oos", "Out-of-sample"), ("folds", "Folds"),
             *((f"fold-{f['fold']}", f"Fold {f['fold']}") for f in doc["folds"])]
    nav = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name in links)
    chip = ('<span class="chip ok">Complete</span>' if complete
            else '<span class="chip bad">INCOMPLETE: partial results</span>')
    notes = notes_list(doc.get("notes") or [])
    capital = float(doc["out_of_sample"].get("start_capital") or 100_000.0)
    body = [
        f'<nav class="top"><div class="inner">{chip}{nav}</div></nav><main>',
        f'<header><p class="kicker">Walk-forward study</p><h1>{escape(title)}</h1></header>',
        f'<div class="note-box"><h3>Study notes</h3>{notes}</div>' if notes else "",
        oos_summary(doc, _chart(oos_equity, capital)),
        folds_section(doc),
        *(fold_section(f, doc["clusters"]) for f in doc["folds"]),
        f'<footer><p>Generated {stamp:%Y-%m-%d %H:%M:%S} UTC. Times are UTC. Amounts are in '
        "the account currency.</p></footer></main>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + EMPTY_ICON
            + f"<title>{escape(title)}</title><style>\n{_asset('report.css')}</style></head>"
            f'<body class="{"complete" if complete else "incomplete"}">'
            + "\n".join(part for part in body if part) + "</body></html>\n")


def write_walkforward_report(path: Path, doc: Mapping[str, Any],
                             oos_equity: pd.DataFrame) -> Path:
    """Write the page whole or not at all (as the backtest's report is written)."""
    return _write_atomically(Path(path), render_walkforward(doc, oos_equity))
