"""A backtest's files: metrics.json, trades.csv, equity.csv and report.html.

The CSV files go through ``storage.csv_export``, the writer of every export: a cluster name
or any other text a spreadsheet would run as a formula is written as text, numbers stay
numbers.  Each file is written whole or not at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from app.backtest.spec import BacktestResult
from storage.csv_export import write_csv


def write_outputs(result: BacktestResult, report_dir: Path,
                  title: str = "Backtest") -> list[Path]:
    """metrics.json, trades.csv, equity.csv and report.html in ``report_dir``; ``title``
    heads the page (the walk-forward names its in-sample and out-of-sample runs)."""
    from app.report import write_report

    report_dir.mkdir(parents=True, exist_ok=True)
    out = []
    metrics = result.metrics.to_dict() if result.metrics is not None else {}
    metrics_doc = {"complete": result.complete, "notes": result.notes, "params": result.params,
                   "data_ranges": result.data_ranges, **metrics}
    path = report_dir / "metrics.json"
    _write_text(path, json.dumps(metrics_doc, indent=2, default=str, allow_nan=False))
    out.append(path)
    out.append(write_trades_csv(result.trades, report_dir / "trades.csv"))
    out.append(write_equity_csv(result.equity, report_dir / "equity.csv"))
    out.append(write_report(report_dir / "report.html", title=title, metrics=metrics,
                            trades=result.trades, equity=result.equity, tdi=result.tdi,
                            params=result.params, data_ranges=result.data_ranges,
                            complete=result.complete, notes=result.notes))
    return out


def write_trades_csv(trades: pd.DataFrame, path: Path) -> Path:
    """One row per basket, the columns as the frame has them (times as pandas writes them)."""
    rows = (list(row) for row in trades.itertuples(index=False, name=None))
    write_csv(path, [str(c) for c in trades.columns], rows)
    return path


def write_equity_csv(equity: pd.DataFrame, path: Path) -> Path:
    """``date,balance,equity``: one row per UTC day."""
    dates = [f"{day:%Y-%m-%d}" for day in equity.index]
    values = equity[["balance", "equity"]].itertuples(index=False, name=None)
    write_csv(path, ["date", "balance", "equity"],
              ([day, *row] for day, row in zip(dates, values, strict=True)))
    return path


def _write_text(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole or is left as it was."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
