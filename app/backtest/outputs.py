"""A backtest's files: metrics.json, trades.csv, legs.csv, equity.csv and report.html.

The CSV files go through ``storage.csv_export``, the writer of every export: a cluster name
or any other text a spreadsheet would run as a formula is written as text, numbers stay
numbers.  Each file is written whole or not at all.

- ``trades.csv``: one row per basket, the closed ones by close time, then any still open at
  the end (no exit time, exit code, P&L or costs; ``metrics.json`` counts them as
  ``open_baskets``, apart from the closed ``baskets``).  ``pnl`` is the net P&L as booked
  (fills at the bid or ask, less commission and swap); ``costs`` is what the journal books beside it
  (commission + swap); ``commission``, ``swap`` and ``spread_cost`` are the sums of the
  basket's legs in ``legs.csv``, and ``total_costs`` all three (the spread cost is already
  inside ``pnl`` through the fill prices); ``mae`` and ``mfe`` are the lowest and highest
  price P&L of the basket while open (``app.backtest.excursions``).  Money is rounded to
  cents, the TDI to 4 decimals, any other number to 10 significant digits;
- ``legs.csv``: one row per leg (``app.backtest.legs`` defines each column); a basket's
  ``pnl`` is the sum of its legs' to the cent;
- ``equity.csv``: ``date,balance,equity``, the mark at the end of every UTC day, weekends
  included; the daily returns of the metrics are taken from these rows as ``metrics.json``
  states under ``basis`` (FX trading days: the rows dated Monday to Friday, a weekend row
  standing for the following Monday only when no Monday row follows it).
- ``journal.sqlite`` (``main.py backtest``): the run's own journal, written in a scratch
  folder while the run goes and moved in with the other files, so that the folder holds one
  run: a run again into the same folder replaces its journal as it replaces its CSV files
  (it used to add its rows to the earlier run's, whose report it had replaced), and a run
  that dies leaves the earlier report whole.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd

from app.backtest.legs import LEG_COLUMNS
from app.backtest.spec import BacktestResult
from app.staged import staged_folder
from storage.csv_export import write_csv
from storage.journal.lock import refuse_if_written

#: A backtest report's files, in the order they are listed.
REPORT_FILES = ("metrics.json", "trades.csv", "legs.csv", "equity.csv", "report.html")
#: The run's journal in a report folder, beside ``REPORT_FILES`` (``write_outputs``).
JOURNAL_FILE = "journal.sqlite"
#: What SQLite may keep beside a journal that is not closed cleanly (moved with it).
_SQLITE_SIDE_FILES = ("-wal", "-shm")


def write_outputs(result: BacktestResult, report_dir: Path,
                  title: str = "Backtest", journal: Path | None = None) -> list[Path]:
    """metrics.json, trades.csv, legs.csv, equity.csv and report.html in ``report_dir``, all
    of them or none (``app.staged``); ``title`` heads the page (the walk-forward names its
    in-sample and out-of-sample runs).  ``journal``: the run's closed journal, moved in with
    them as ``journal.sqlite`` (replacing an earlier run's)."""
    from app.report import write_report

    metrics = result.metrics.to_dict() if result.metrics is not None else {}
    metrics_doc = {"complete": result.complete, "notes": result.notes, "params": result.params,
                   "data_ranges": result.data_ranges, **metrics}
    if journal is not None:  # not a journal a run is writing, pulled from under it
        refuse_if_written(report_dir / JOURNAL_FILE, "this backtest's journal")
    with staged_folder(report_dir) as folder:
        _write_text(folder / "metrics.json",
                    json.dumps(metrics_doc, indent=2, default=str, allow_nan=False))
        write_trades_csv(result.trades, folder / "trades.csv")
        write_legs_csv(result.legs, folder / "legs.csv")
        write_equity_csv(result.equity, folder / "equity.csv")
        write_report(folder / "report.html", title=title, metrics=metrics,
                     trades=result.trades, equity=result.equity, tdi=result.tdi,
                     params=result.params, data_ranges=result.data_ranges,
                     complete=result.complete, notes=result.notes, legs=result.legs)
        if journal is not None:
            _move_journal(journal, folder / JOURNAL_FILE)
    names = REPORT_FILES if journal is None else (*REPORT_FILES, JOURNAL_FILE)
    return [report_dir / name for name in names]


def _move_journal(journal: Path, destination: Path) -> None:
    """The journal and any side file SQLite left beside it (none once it is closed), by
    name; ``shutil.move`` copies when the scratch folder is on another file system."""
    for suffix in ("", *_SQLITE_SIDE_FILES):
        source = journal.with_name(journal.name + suffix)
        if source.exists():
            shutil.move(source, destination.with_name(destination.name + suffix))


#: trades.csv columns that are amounts of money (rounded to cents), and the TDI readings.
_MONEY = frozenset({"pnl", "costs", "commission", "swap", "spread_cost", "total_costs",
                    "net_numeraire_exposure", "mae", "mfe"})
_TDI = frozenset({"entry_tdi", "exit_tdi"})


def _rounded(value: object, column: str) -> object:
    """A number as the file should read: cents, 4 decimals for a TDI, else 10 significant
    digits (no ``-75.99000000000001``); anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, float | int) or \
            isinstance(value, int) or not math.isfinite(value):
        return value
    if column in _MONEY:
        return round(value, 2) + 0.0
    if column in _TDI:
        return round(value, 4) + 0.0
    return float(f"{value:.10g}")


def write_trades_csv(trades: pd.DataFrame, path: Path) -> Path:
    """One row per basket, the columns as the frame has them (times as pandas writes them),
    numbers rounded as :func:`_rounded` says."""
    columns = [str(c) for c in trades.columns]
    rows = ([_rounded(value, column) for value, column in zip(row, columns, strict=True)]
            for row in trades.itertuples(index=False, name=None))
    write_csv(path, columns, rows)
    return path


def write_legs_csv(legs: pd.DataFrame, path: Path) -> Path:
    """One row per leg, as ``app.backtest.legs`` rounded it; the header alone when the run
    opened no basket."""
    frame = legs if len(legs.columns) else pd.DataFrame(columns=list(LEG_COLUMNS))
    rows = (list(row) for row in frame.itertuples(index=False, name=None))
    write_csv(path, [str(c) for c in frame.columns], rows)
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
