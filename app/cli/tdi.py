"""``main.py tdi``: the TDI of a cluster over HistData M1 files, written to CSV.

Research and checking tool: it runs exactly the engine's bar and TDI code on files, so a
trader can compare the console's numbers with a spreadsheet or another implementation.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd

from app.cli.args import parse_date
from engine.bars import M30, align_closes, resample_bars
from engine.errors import UserError
from engine.tdi import TdiParams, tdi_batch
from storage.histdata import read_histdata_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tdi",
        help="compute a cluster's TDI from HistData M1 files and write it to CSV",
        description="Build M30 bars (UTC clock buckets) from HistData M1 files, align the "
        "cluster, compute the TDI and write time_utc,tdi,phi,eigengap,explained. "
        "Data before --from is used as warm-up; data after --to is not read.",
    )
    p.add_argument("--data", required=True, nargs="+", metavar="DIR_OR_FILE",
                   help="a directory of DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz] files, or files")
    p.add_argument("--symbols", required=True, help="comma-separated, e.g. EURUSD,GBPUSD,AUDUSD")
    p.add_argument("--from", dest="date_from", help="first bar to write (UTC date)")
    p.add_argument("--to", dest="date_to", help="last day to use, inclusive (UTC date)")
    defaults = TdiParams()
    p.add_argument("--tau-f", type=int, default=defaults.tau_f, help="fast window (M30 bars)")
    p.add_argument("--tau-s", type=int, default=defaults.tau_s, help="slow window (M30 bars)")
    p.add_argument("--tau-q", type=int, default=defaults.tau_q, help="quantile window (bars)")
    p.add_argument("--out", required=True, type=Path, help="CSV file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    if len(symbols) < 2:
        raise UserError("--symbols: give at least two symbols, comma-separated")
    try:
        params = TdiParams(args.tau_f, args.tau_s, args.tau_q)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    start = parse_date(args.date_from, "--from") if args.date_from else None
    end = parse_date(args.date_to, "--to") + pd.Timedelta(days=1) if args.date_to else None
    if start is not None and end is not None and start >= end:
        raise UserError(f"--from {args.date_from} is after --to {args.date_to}")

    source = args.data[0] if len(args.data) == 1 else args.data
    data = read_histdata_dir(source, symbols)
    bars_m30 = {}
    rows = 0
    for sym in symbols:
        m1 = data[sym]
        rows += m1.rows_read
        for line in m1.problems[:3]:
            print(f"warning: {line}")
        if m1.duplicates:
            first = m1.duplicate_times[0]
            print(f"{sym}: {m1.duplicates} duplicate timestamps, first occurrence kept "
                  f"(from {first:%Y-%m-%d %H:%M} UTC)")
        bars = m1.to_bar_array(spread=0.0)
        if end is not None:
            bars = bars[bars["time"] < int(end.timestamp())]
        bars_m30[sym] = resample_bars(bars, M30)
    aligned = align_closes(bars_m30, symbols)
    if aligned.closes.empty:
        raise UserError(f"no M30 bucket has data for all of {', '.join(symbols)}"
                        + (" before --to" if end is not None else ""))
    result = tdi_batch(aligned.closes, params)
    if start is not None:
        result = result[result.index >= start]
        if result.empty:
            raise UserError(f"no M30 bars on or after --from {args.date_from}")
    _write_csv(args.out, result)
    valid = int(np.isfinite(result["tdi"].to_numpy()).sum())
    print(f"{rows} M1 rows read ({len(symbols)} symbols); {len(aligned.closes)} M30 bars; "
          f"{aligned.skipped_buckets} buckets skipped (not every symbol had data); "
          f"{valid} valid TDI bars of {len(result)} written to {args.out}")
    return 0


def _fmt(x: float) -> str:
    return "" if not math.isfinite(x) else repr(float(x))


def _write_csv(path: Path, result: pd.DataFrame) -> None:
    cols = ["tdi", "phi", "eigengap", "explained"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time_utc", *cols])
            values = result[cols].to_numpy()
            for stamp, row in zip(result.index, values, strict=True):
                writer.writerow([stamp.isoformat(), *(_fmt(v) for v in row)])
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
