"""A backtest's files: metrics.json, trades.csv, equity.csv and report.html."""

from __future__ import annotations

import json
from pathlib import Path

from app.backtest.spec import BacktestResult


def write_outputs(result: BacktestResult, report_dir: Path) -> list[Path]:
    """metrics.json, trades.csv, equity.csv and report.html in ``report_dir``."""
    from app.report import write_report

    report_dir.mkdir(parents=True, exist_ok=True)
    out = []
    metrics = result.metrics.to_dict() if result.metrics is not None else {}
    metrics_doc = {"complete": result.complete, "notes": result.notes, "params": result.params,
                   "data_ranges": result.data_ranges, **metrics}
    path = report_dir / "metrics.json"
    path.write_text(json.dumps(metrics_doc, indent=2, default=str, allow_nan=False))
    out.append(path)
    path = report_dir / "trades.csv"
    result.trades.to_csv(path, index=False)
    out.append(path)
    path = report_dir / "equity.csv"
    result.equity.rename_axis("date").to_csv(path, date_format="%Y-%m-%d")
    out.append(path)
    title = "Backtest"
    out.append(write_report(report_dir / "report.html", title=title, metrics=metrics,
                            trades=result.trades, equity=result.equity, tdi=result.tdi,
                            params=result.params, data_ranges=result.data_ranges,
                            complete=result.complete, notes=result.notes))
    return out
