"""``main.py data spreads``: a spread profile (median spread by UTC weekday and hour)
estimated from recorded ticks, written as a small CSV.

The ticks are read as ``import ticks`` reads them (format from the content; MT5 exports
need ``--server-offset``); the first bad row stops the command with ``file:line`` and
nothing is written.  The profile file is what ``backtest --spread-profile`` reads.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.cli.args import path_argument
from app.cli.choices import MIN_CELL_TICKS
from engine.errors import UserError

if TYPE_CHECKING:
    from engine.spread_profile import SpreadProfile

__all__ = ["format_profile", "register_spreads"]


def register_spreads(actions: argparse._SubParsersAction) -> None:
    sub = actions.add_parser(
        "spreads", help="estimate a spread profile from recorded ticks",
        description="Estimate a symbol's spread profile from recorded ticks: the median "
        "spread in points for each UTC weekday and hour (7 x 24). A weekday-hour with fewer "
        f"than {MIN_CELL_TICKS} ticks takes the median of that hour over the weekdays that "
        "have it, and an "
        "hour no weekday has takes the median of all ticks; the file's 'fill' column says "
        "which. Writes a CSV that 'backtest --spread-profile' reads.",
    )
    sub.add_argument("--ticks", nargs="+", type=path_argument, required=True, metavar="FILE",
                     help="tick files of one symbol (Dukascopy CSV or MT5 tick exports)")
    sub.add_argument("--symbol", default=None,
                     help="the symbol (default: from the file names)")
    sub.add_argument("--digits", type=int, default=None, choices=range(0, 9), metavar="N",
                     help="digits of the quote, for a symbol the simulated broker does not "
                     "list (a point is 10^-N)")
    sub.add_argument("--server-offset", default=None, metavar="H",
                     help="MT5 exports only: the broker's server clock, as for 'import ticks'")
    sub.add_argument("--out", type=path_argument, required=True, metavar="FILE",
                     help="the profile CSV to write")
    sub.set_defaults(func=run_spreads)


def format_profile(profile: SpreadProfile) -> list[str]:
    """The profile as the command prints it: one line per weekday, points by UTC hour."""
    from engine.spread_profile import WEEKDAYS

    hours = " ".join(f"{h:>4}" for h in range(24))
    lines = [f"{'UTC':<4}{hours}"]
    for day, name in enumerate(WEEKDAYS):
        cells = " ".join(f"{v:>4g}" for v in profile.points[day])
        lines.append(f"{name:<4}{cells}")
    return lines


def run_spreads(args: argparse.Namespace) -> int:
    from app.spreads import estimate_profile
    from storage.importers import parse_server_time
    from storage.importers.run import UnknownSymbol
    from storage.spread_profiles import write_spread_profiles
    from storage.symbols import check_symbol_name

    server_time = parse_server_time(args.server_offset)
    if args.symbol is not None:  # a name the profile reader would refuse: before any work
        check_symbol_name(args.symbol)
    if args.out.is_dir() or not args.out.parent.is_dir():
        raise UserError(f"--out {args.out}: " + ("is a folder; give a file name" if
                        args.out.is_dir() else f"no such folder {args.out.parent}"))
    try:
        profile, left_out = estimate_profile(args.ticks, args.symbol, server_time, args.digits)
    except UnknownSymbol as exc:
        raise exc.with_option() from None
    write_spread_profiles(args.out, [profile])
    measured = int((profile.fill == "measured").sum())
    print(f"{profile.source}; median {profile.median_points:g} points over the week's hours; "
          f"{measured} of 168 weekday-hours measured, the rest filled"
          + (f"; {left_out:,} ticks without both sides left out" if left_out else ""))
    for line in format_profile(profile):
        print(line)
    print(f"written {args.out}")
    return 0
