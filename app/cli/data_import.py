"""``main.py import ticks|bars|calendar``: bring market data and calendars into the product.

Ticks and M1 bars go into the Parquet market-data store (``--store``, by default
``marketdata`` in the data directory); the calendar sub-command is contributed by the
calendar module.  Every file gets one summary line; bad rows are listed (the first few) on
stderr and counted by reason.  ``--strict`` stops at the first bad row instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from app.cli.args import add_store_option, path_argument
from app.cli.calendar import register_import_calendar
from app.cli.choices import BARS, FORMATS, TICKS
from storage.paths import data_dir

__all__ = ["ProgressBar", "default_store_dir", "register"]

#: Problems printed per file; the summary line has the exact counts.
SHOWN_PROBLEMS = 10


def default_store_dir() -> Path:
    return data_dir() / "marketdata"


#: Where ``import`` and ``data list`` look without ``--store``.
DEFAULT_STORE_HELP = "marketdata in the data directory"


def add_default_store_option(parser: argparse.ArgumentParser) -> None:
    add_store_option(parser, default_help=DEFAULT_STORE_HELP)


class ProgressBar:
    """A plain-text progress bar on a terminal; silent when the stream is not a TTY."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = min(100, done * 100 // total)
        if percent == self._shown:
            return
        self._shown = percent
        filled = percent * self.width // 100
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown >= 0:
            self.stream.write("\r" + " " * (len(self.label) + self.width + 8) + "\r")
            self.stream.flush()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import ticks, M1 bars or calendar files",
        description="Import market data into the Parquet store (formats detected from "
        "content) or economic-calendar files. Importing a file twice changes nothing.",
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="WHAT", required=True)
    for name, kind, helptext in (
        ("ticks", TICKS, "MT5 tick exports or Dukascopy CSV ticks"),
        ("bars", BARS, "MT5 M1 bar exports or HistData M1 files"),
    ):
        sub = kinds.add_parser(name, help=f"import {helptext}",
                               description=f"Import {helptext} into the market-data store.")
        sub.add_argument("files", nargs="+", type=path_argument, metavar="FILE")
        add_default_store_option(sub)
        sub.add_argument("--format", choices=("auto", *FORMATS), default="auto",
                         help="file format (default: detected from the content)")
        sub.add_argument(
            "--server-offset", default=None, metavar="H",
            help="MT5 exports only: the broker's server clock, hours east of UTC (e.g. 2), "
            "or 'us-dst' for GMT+2 winter / GMT+3 summer (US DST dates), or W/S like 2/3",
        )
        sub.add_argument("--symbol", default=None,
                         help="symbol to store the data under (default: from the file name)")
        sub.add_argument("--strict", action="store_true",
                         help="stop at the first bad row instead of skipping it")
        sub.set_defaults(func=_runner(kind))
    register_import_calendar(kinds)  # ``import calendar``: the calendar command's module


def _runner(kind: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return run_import(args, kind)

    return run


def run_import(args: argparse.Namespace, kind: str) -> int:
    """Import the files as one: every file is checked before any is read, and every write
    lands together (``MarketDataStore.batches``), so a file failing half-way (a damaged
    gzip, a bad row under ``--strict``) leaves the store as it was, the files before it
    included; the summary lines are printed once everything has landed."""
    from storage.importers import parse_server_time
    from storage.importers.run import UnknownSymbol, check_file
    from storage.marketdata import MarketDataStore

    series = []
    for path in args.files:  # every file what it should be before any is imported
        try:
            detected, symbol = check_file(path, kind, fmt=args.format, symbol=args.symbol)
        except UnknownSymbol as exc:
            raise exc.with_option() from None
        series.append((detected.kind, symbol))
    store = MarketDataStore(args.store if args.store is not None else default_store_dir())
    server_time = parse_server_time(args.server_offset)
    with store.batches(series):
        summaries = [_import_one(args, path, store, kind, server_time) for path in args.files]
    _print_summaries(summaries, store)
    return 0


def _import_one(args: argparse.Namespace, path: Path, store: Any, kind: str,
                server_time: Any) -> Any:
    from storage.importers import import_file

    bar = ProgressBar(path.name)
    try:
        return import_file(path, store, kind, fmt=args.format, server_time=server_time,
                           symbol=args.symbol, strict=args.strict, progress=bar)
    finally:
        bar.close()


def _print_summaries(summaries: list[Any], store: Any) -> None:
    """Each file's line (its first bad rows on stderr), and the totals of several."""
    for summary in summaries:
        print(summary.line())
        for problem in summary.problems[:SHOWN_PROBLEMS]:
            print(f"  {problem}", file=sys.stderr)
        hidden = summary.skipped_total - min(len(summary.problems), SHOWN_PROBLEMS)
        if hidden > 0:
            print(f"  ... and {hidden} more bad rows", file=sys.stderr)
    if len(summaries) > 1:
        imported = sum(s.imported for s in summaries)
        skipped = sum(s.skipped_total for s in summaries)
        print(f"{len(summaries)} files: {imported} rows imported, {skipped} skipped; "
              f"store {store.root}")
