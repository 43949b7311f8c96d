"""``main.py pairs scan``: Engle-Granger p-values, hedge ratio, half-life, Hurst exponent,
crossings and return correlation of every pair of symbols (or one basket) over a period.

The computation is ``app.research.pairs_scan``; this module parses, prints a table (rich on
a terminal, plain text otherwise) and writes the CSV through the one export writer.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import add_period_options, path_argument, period
from app.cli.choices import TIMEFRAMES
from engine.errors import UserError
from engine.kinds.pair_params import SPACES
from storage.csv_export import write_csv

if TYPE_CHECKING:
    from app.research.pairs_scan import PairScan, ScanRow

CSV_COLUMNS = ["legs", "bars", "first_bar", "last_bar", "p_eg", "p_eg_rev", "hedge",
               "weights", "half_life", "hurst", "crossings", "corr_returns"]
TABLE_COLUMNS = ["legs", "bars", "p_eg", "p_eg_rev", "hedge", "half-life", "Hurst",
                 "crossings", "corr"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pairs", help="research on pairs and N-leg spreads (scan)",
        description="Research on cointegrated pairs and N-leg spreads.")
    commands = parser.add_subparsers(dest="pairs_command", metavar="ACTION", required=True)
    p = commands.add_parser(
        "scan", help="Engle-Granger p-values, hedge ratio, half-life, Hurst and crossings of "
        "every pair of the symbols",
        description="For every pair of --symbols (or, with --basket, the symbols as one "
        "basket), over the period: the Engle-Granger p-values of statsmodels' coint (leg 1 "
        "on the others, and the last leg on the others: both orders of a pair), the OLS "
        "hedge ratio, the half-life of the spread (AR(1), bars), its Hurst exponent (lags "
        "2..20), its mean crossings and the correlation of the legs' log returns, sorted "
        "by the larger p-value. Data: HistData M1 files (aggregated to --timeframe, M30 by "
        "default) or wide daily files (Date,SYM1,SYM2,...; D1 only).")
    p.add_argument("--data", required=True, nargs="+", type=path_argument, metavar="DIR_OR_FILE",
                   help="HistData M1 files or a directory of them (the files of a symbol are "
                   "consecutive periods: two that overlap are refused), or daily Date,SYM,... "
                   "files")
    p.add_argument("--symbols", required=True, metavar="A,B[,C...]",
                   help="two or more symbols, comma-separated (e.g. KO,PEP or SPXUSD,NSXUSD)")
    p.add_argument("--basket", action="store_true",
                   help="test the symbols as one basket (2 to 6 legs) instead of every pair")
    add_period_options(p, first="first bar", last="last day")
    p.add_argument("--timeframe", choices=TIMEFRAMES, default=None,
                   help="the bars (default M30 for M1 files, D1 for daily files)")
    p.add_argument("--space", choices=SPACES, default=SPACES[0],
                   help="returns: log prices (the default); price: prices")
    p.add_argument("--out", type=path_argument, metavar="CSV",
                   help="also write the table to this CSV")
    p.set_defaults(func=run_scan)


def symbols_of(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    twice = sorted({s for s in symbols if symbols.count(s) > 1})
    if twice:
        raise UserError(f"--symbols: {', '.join(twice)} given twice")
    if len(symbols) < 2:
        raise UserError(f"--symbols: a pair needs two symbols or more, got "
                        f"{', '.join(symbols) or 'none'}")
    return symbols


def run_scan(args: argparse.Namespace) -> int:
    from app.cli.destinations import check_destination
    from app.research.pairs_scan import pairs_scan

    if args.out is not None:  # before the scan, not after it
        check_destination(args.out, "--out", folder=False)
    symbols = symbols_of(args.symbols)
    missing = [p for p in args.data if not p.exists()]
    if missing:
        raise UserError(f"--data: {missing[0]} does not exist")
    start, end = period(args)
    result = pairs_scan(args.data, symbols, basket=args.basket, timeframe=args.timeframe,
                        space=args.space, start=start, end=end,
                        note=lambda line: print(line, file=sys.stderr))
    print_scan(result)
    if args.out is not None:
        write_scan_csv(args.out, result)
        print(f"{len(result.rows)} rows written to {args.out}")
    return 0


def _cells(row: ScanRow) -> list[str]:
    def fixed(value: float, digits: int) -> str:
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"

    return ["/".join(row.legs), str(row.bars), fixed(row.p_eg, 4), fixed(row.p_eg_rev, 4),
            fixed(row.hedge, 4), fixed(row.half_life, 1), fixed(row.hurst, 3),
            str(row.crossings), fixed(row.correlation, 3)]


def _title(result: PairScan) -> str:
    space = "log prices" if result.space == "returns" else "prices"
    first = min(r.first for r in result.rows)
    last = max(r.last for r in result.rows)
    return (f"{result.timeframe} bars {first:%Y-%m-%d} .. {last:%Y-%m-%d}, {result.space} "
            f"space ({space}); Engle-Granger: statsmodels coint, constant, lags by AIC; "
            "sorted by the larger p-value")


def print_scan(result: PairScan) -> None:
    rows = [_cells(r) for r in result.rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=_title(result))
        for i, name in enumerate(TABLE_COLUMNS):
            table.add_column(name, justify="left" if i == 0 else "right")
        for cells in rows:
            table.add_row(*cells)
        Console().print(table)
        return
    print(_title(result))
    widths = [max(len(c[i]) for c in [TABLE_COLUMNS, *rows]) for i in range(len(TABLE_COLUMNS))]
    for cells in [TABLE_COLUMNS, *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(cells, widths, strict=True))))


def write_scan_csv(path: Path, result: PairScan) -> None:
    rows = ([ "/".join(r.legs), r.bars, r.first.isoformat(), r.last.isoformat(), r.p_eg,
             r.p_eg_rev, r.hedge, " ".join(repr(w) for w in r.weights), r.half_life,
             r.hurst, r.crossings, r.correlation] for r in result.rows)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(path, CSV_COLUMNS, rows)
    except OSError as exc:
        raise UserError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
