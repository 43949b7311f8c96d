"""``main.py tdi``: the TDI of a cluster over HistData M1 files, written to CSV.

Research and checking tool: it runs exactly the engine's bar and TDI code on files, so a
trader can compare the console's numbers with a spreadsheet or another implementation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import add_period_options, path_argument, period
from app.cli.backtest import add_spread_options, spread_settings
from app.cli.choices import (
    CLUSTER_SPACES,
    DEFAULT_FACTOR_WINDOW,
    MIN_FACTOR_WINDOW,
    NO_FACTOR,
    PC1,
    TAU_F,
    TAU_Q,
    TAU_S,
    TIMEFRAMES,
)
from app.cli.output import csv_number
from engine import ranges
from engine.errors import UserError
from storage.csv_export import write_csv

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["tdi", "phi", "eigengap", "explained"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tdi",
        help="compute a cluster's TDI from HistData M1 files and write it to CSV",
        description="Build bars of the signal timeframe (M30 by default; M15, M30, H1 in UTC "
        "clock buckets, H4 and D1 on the FX trading day from 17:00 New York) from HistData M1 "
        "files, align the cluster, compute the TDI and write "
        "time_utc,tdi,phi,eigengap,explained. "
        "Data before --from is used as warm-up; data after --to is not read. In currency "
        "space (the default) each symbol is the price of its other currency in the one "
        "currency every symbol contains (USDCHF -> 1/USDCHF in a USD cluster).",
    )
    p.add_argument("--data", required=True, nargs="+", metavar="DIR_OR_FILE",
                   help="a directory of DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz] files, or files "
                   "(the files of a symbol are consecutive periods: two that overlap are "
                   "refused)")
    p.add_argument("--symbols", required=True,
                   help="the cluster's 3 to 6 symbols, comma-separated, e.g. EURUSD,GBPUSD,AUDUSD")
    add_period_options(p, first="first bar to write", last="last day to use")
    p.add_argument("--timeframe", choices=TIMEFRAMES, default="M30",
                   help="the bars of the TDI (default M30); the windows count these bars")
    p.add_argument("--tau-f", type=int, default=TAU_F, help="fast window (bars)")
    p.add_argument("--tau-s", type=int, default=TAU_S, help="slow window (bars)")
    p.add_argument("--tau-q", type=int, default=TAU_Q, help="quantile window (bars)")
    p.add_argument("--space", choices=CLUSTER_SPACES, default="currency",
                   help="price space: currency (each symbol as its other currency in the "
                   "common one; the default) or symbol (the quotes as they come)")
    p.add_argument("--factor", choices=(NO_FACTOR, PC1), default=NO_FACTOR,
                   help="remove the first principal component of the members' M30 returns "
                   "before the TDI (pc1), or not (none, the default)")
    p.add_argument("--factor-window", type=int, default=DEFAULT_FACTOR_WINDOW,
                   help=f"trailing M30 returns of the pc1 loadings ({MIN_FACTOR_WINDOW}.."
                   f"{ranges.MAX_BARS}, default {DEFAULT_FACTOR_WINDOW})")
    add_spread_options(p)
    p.add_argument("--out", required=True, type=path_argument, help="CSV file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.cli.destinations import check_destination
    from app.cluster_tdi import check_symbols, cluster_tdi, space_orientation
    from app.replay_feed import ReplayConfig
    from engine.factor import MIN_WINDOW
    from engine.tdi import TdiParams

    check_destination(args.out, "--out", folder=False)  # before the files are read
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    try:
        check_symbols(symbols)
    except UserError as exc:
        raise UserError(f"--symbols: {exc}") from None
    try:
        params = TdiParams(args.tau_f, args.tau_s, args.tau_q)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        space_orientation(symbols, args.space)
    except UserError as exc:
        raise UserError(f"--space {args.space}: {exc}") from None
    try:
        window = ranges.integer("--factor-window", args.factor_window, MIN_WINDOW,
                                ranges.MAX_BARS)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    start, end = period(args)
    source = args.data[0] if len(args.data) == 1 else args.data
    notes: list[str] = []
    quoted = ReplayConfig(**spread_settings(args))
    result = cluster_tdi(source, symbols, params, start, end, space=args.space,
                         factor=args.factor, factor_window=window, timeframe=args.timeframe,
                         note=notes.append, spreads=lambda s: quoted.symbol_spread(s).fill)
    _write_csv(args.out, result.table)
    print(f"{args.space} space, mids of the bids and the {quoted.spread_model} spread model "
          "(as a backtest quotes them); "
          f"{result.rows_read} M1 rows read ({len(symbols)} symbols); {result.bars} "
          f"{args.timeframe} bars; "
          f"{result.skipped_buckets} buckets skipped (not every symbol had data); "
          f"{result.valid} valid TDI bars of {len(result.table)} written to {args.out}")
    for note in notes:  # what was odd in the files, on stderr: apart from the results
        print(note, file=sys.stderr)
    return 0


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    """The table through the one export writer: the whole file or none."""
    values = table[COLUMNS].to_numpy()
    rows = ([stamp.isoformat(), *(csv_number(v) for v in row)]
            for stamp, row in zip(table.index, values, strict=True))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(path, ["time_utc", *COLUMNS], rows)
    except OSError as exc:
        raise UserError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
