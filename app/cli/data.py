"""``main.py data list``: what the market-data store holds, with ranges, counts and gaps
(``data spreads`` lives in ``app.cli.data_spreads``, ``data futures`` in
``app.cli.data_futures``)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from app.cli.choices import BARS
from app.cli.data_futures import register_futures
from app.cli.data_import import add_default_store_option, default_store_dir
from app.cli.data_spreads import register_spreads
from engine.errors import UserError

if TYPE_CHECKING:
    from storage.marketdata import SeriesInfo

__all__ = ["format_inventory", "register"]

#: Gaps listed per series unless ``--gaps`` asks for all of them.
SHOWN_GAPS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="inspect the market-data store; estimate spread profiles; write "
        "synthetic futures",
        description="Inspect the Parquet market-data store (times in UTC), or estimate a "
        "spread profile from recorded ticks.",
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="symbols, ranges, counts and gaps",
        description="List every stored series (ticks and M1 bars per symbol) with its first "
        "and last time, row count and gaps: stretches without data longer than "
        "--gap-minutes, the regular weekend close excepted.",
    )
    add_default_store_option(listing)
    listing.add_argument("--gap-minutes", type=float, default=60.0, metavar="N",
                         help="report gaps longer than N minutes (default 60)")
    listing.add_argument("--gaps", action="store_true", help="list every gap, not only "
                         f"the {SHOWN_GAPS} longest")
    listing.set_defaults(func=run_list)
    register_spreads(actions)  # ``data spreads``: app/cli/data_spreads.py
    register_futures(actions)  # ``data futures``: app/cli/data_futures.py


def _utc(msc: int | None) -> str:
    import pandas as pd

    return "-" if msc is None else f"{pd.Timestamp(msc, unit='ms', tz='UTC'):%Y-%m-%d %H:%M}"


def format_inventory(series: list[SeriesInfo], all_gaps: bool = False) -> list[str]:
    """The lines ``data list`` prints."""
    header = f"{'KIND':<6}  {'SYMBOL':<10}  {'FIRST (UTC)':<16}  {'LAST (UTC)':<16}  " \
             f"{'COUNT':>12}  {'MONTHS':>6}  {'GAPS':>5}"
    lines = [header]
    for info in series:
        kind = "M1" if info.kind == BARS else "ticks"
        lines.append(
            f"{kind:<6}  {info.symbol:<10}  {_utc(info.first_msc):<16}  "
            f"{_utc(info.last_msc):<16}  {info.count:>12,}  {len(info.months):>6}  "
            f"{len(info.gaps):>5}"
        )
        gaps = info.gaps if all_gaps else sorted(info.gaps, key=lambda g: -g.minutes)[:SHOWN_GAPS]
        for gap in sorted(gaps, key=lambda g: g.after_msc):
            lines.append(f"{'':<8}gap {gap}")
        if not all_gaps and len(info.gaps) > SHOWN_GAPS:
            lines.append(f"{'':<8}... {len(info.gaps) - SHOWN_GAPS} more gaps (--gaps lists all)")
    return lines


def run_list(args: argparse.Namespace) -> int:
    from storage.marketdata import MarketDataStore

    if not 0 < args.gap_minutes < math.inf:
        raise UserError(f"--gap-minutes: {args.gap_minutes:g} is not a positive number")
    if args.store is not None and not args.store.is_dir():
        raise UserError(f"--store: {args.store} is not a folder (a market-data store is one)")
    store = MarketDataStore(args.store if args.store is not None else default_store_dir())
    series = store.inventory(max_gap_minutes=args.gap_minutes)
    if not series:
        print(f"no market data in {store.root}")
        return 0
    for line in format_inventory(series, args.gaps):
        print(line)
    return 0
