"""``main.py replay``: recorded data through the engine at a chosen speed, a line per day.

The same headless run as ``run --replay`` (``app.runs``); the console adds the window
(``main.py gui --replay FILES``).  This command never opens a window, so it has no
``--headless`` switch (one that changed nothing was removed).
"""

from __future__ import annotations

import argparse

from app.cli.args import (
    NO_REPLAY_CALENDAR,
    add_clusters_option,
    add_config_option,
    add_journal_option,
    add_period_options,
    add_replay_calendar_option,
    add_speed_option,
    add_store_option,
    chosen_clusters,
    cluster_names,
    parse_speed,
    path_argument,
    period,
    replay_calendar,
)
from engine.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser(
        "replay", help="replay recorded data through the engine at a chosen speed",
        description="The engine on a replay of recorded ticks or M1 bars, at --speed "
        "(virtual seconds per second, or max), without a window, printing a line per day "
        "(that day's baskets opened and closed) and a summary.  The console replays with "
        "'main.py gui --replay FILES'.")
    r.add_argument("files", nargs="*", type=path_argument, metavar="FILE")
    add_store_option(r)
    add_speed_option(r)
    add_config_option(r)
    add_clusters_option(r)
    add_period_options(r)
    add_replay_calendar_option(r)
    add_journal_option(r)
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.cli.destinations import check_destination
    from app.console_replay import open_replay
    from app.runs import run_headless
    from engine.config import load_engine_config

    if not args.files and not args.store:
        raise UserError("give files to replay or --store DIR")
    speed = parse_speed(args.speed)
    start, end = period(args)
    if args.journal is not None:
        check_destination(args.journal, "--journal", folder=False)
    config = load_engine_config(args.config)
    chosen_clusters(config, args.clusters)  # an unknown name is refused before any file is read
    names = cluster_names(args.clusters)
    calendar = replay_calendar(args, start, end)
    session = open_replay(config, list(args.files), args.store, args.journal, start, end,
                          clusters=",".join(names) if names else None, calendar=calendar)
    if calendar is None:
        session.notes.append(NO_REPLAY_CALENDAR)
    return run_headless(session, speed=speed, until=end)
