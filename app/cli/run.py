"""``main.py run``: the engine without the window, in demo, live or replay.

Prints one status line per simulated (or real) day and a summary at the end: baskets,
exits by code, P&L and the final balance (``app.runs``).  ``--speed`` paces the virtual
clock (``max``: as fast as the machine goes); a live run is paced by the real clock.

``--from``/``--to`` mean what they mean in every command: the first day and the last day,
included whole.  ``--start`` (= ``--from``) and ``--until`` (an exclusive end) are the
options' former names, kept hidden so existing scripts run unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import (
    NO_REPLAY_CALENDAR,
    add_clusters_option,
    add_config_option,
    add_journal_option,
    add_period_options,
    add_replay_calendar_option,
    add_speed_option,
    chosen_clusters,
    cluster_names,
    parse_date,
    parse_days,
    parse_speed,
    period,
    replay_calendar,
    to_msc,
)
from app.cli.terminal import add_terminal_options
from engine.errors import UserError

if TYPE_CHECKING:
    from datetime import datetime

    from app.sessions import Session


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run the engine headless (demo, live or replay)",
        description="Run the trading engine without the console. Prints a status line per "
        "day and a summary (baskets, exit codes, P&L, final balance).")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--demo", action="store_true", help="the built-in synthetic market")
    mode.add_argument("--live", action="store_true",
                      help="the MetaTrader 5 terminal (Windows, MetaTrader5 package)")
    mode.add_argument("--replay", nargs="+", metavar="FILE",
                      help="recorded ticks or M1 bars (MT5 export, Dukascopy, HistData)")
    add_speed_option(p, note="; live ignores it")
    starts = p.add_mutually_exclusive_group()
    ends = p.add_mutually_exclusive_group()
    add_period_options(starts, ends, first="first day; the demo's default is 2024-01-08",
                       last="last day to run")
    ends.add_argument("--days", type=float,
                      help="stop after this many days (0.0007, one minute, to 36500)")
    starts.add_argument("--start", dest="date_from", help=argparse.SUPPRESS)  # = --from
    ends.add_argument("--until", help=argparse.SUPPRESS)  # an exclusive end: --to's day + 1
    add_config_option(p)
    add_clusters_option(p)
    add_journal_option(p)
    p.add_argument("--seed", type=int, default=0, help="demo market seed")
    p.add_argument("--server-offset", help="replay of MT5 exports: the broker's server clock")
    add_replay_calendar_option(p)
    add_terminal_options(p)
    p.set_defaults(func=run)


def build_session(args: argparse.Namespace, until: datetime | None = None) -> Session:
    from app.console_replay import open_replay
    from app.sessions import demo_session, replay_session
    from engine.config import load_engine_config

    terminal = getattr(args, "terminal", None)  # callers that build their own arguments
    if terminal is not None and not args.live:
        raise UserError("--terminal goes with --live (demo and replay run the simulator)")
    if getattr(args, "calendar", None) is not None and not args.replay:
        raise UserError("--calendar goes with --replay (the demo has its own calendar; a "
                        "live run uses the imported one: main.py import calendar)")
    config = load_engine_config(args.config)
    start = parse_date(args.date_from, "--from") if args.date_from else None
    if args.demo:
        config = chosen_clusters(config, args.clusters)
        return demo_session(config, seed=args.seed, start=start, journal_path=args.journal)
    if args.live:
        from app.sessions import live_session
        from mt5bridge.live import LiveConfig
        from mt5bridge.terminals import open_terminal_module

        config = chosen_clusters(config, args.clusters)
        module = open_terminal_module(terminal, allow_remote=getattr(args, "allow_remote",
                                                                      False))
        # the shipped clusters fit to what the broker offers; chosen ones are taken as given
        fit = args.config is None and not args.clusters
        return live_session(config, LiveConfig(), journal_path=args.journal, module=module,
                            fit_to_broker=fit)
    names = cluster_names(args.clusters)
    chosen_clusters(config, args.clusters)  # an unknown name is refused before any file is read
    calendar = replay_calendar(args, start, until)
    if args.server_offset:  # MT5 exports on the broker's clock: replayed as they are
        session = replay_session(config, args.replay, ",".join(names) if names else None,
                                 args.journal, args.server_offset, start_msc=to_msc(start),
                                 end_msc=to_msc(until), calendar=calendar)
    else:  # the backtest's market and period (app.console_replay)
        session = open_replay(config, [Path(f) for f in args.replay], None, args.journal,
                              start, until, clusters=",".join(names) if names else None,
                              calendar=calendar)
    if calendar is None:
        session.notes.append(NO_REPLAY_CALENDAR)
    return session


def run(args: argparse.Namespace) -> int:
    """Every option is checked before the session opens its journal: a bad value writes
    nothing."""
    from app.cli.destinations import check_destination
    from app.runs import run_headless

    speed = parse_speed(args.speed)
    days = parse_days(args.days)
    until = parse_date(args.until, "--until") if args.until else period(args)[1]
    if args.journal is not None:
        check_destination(args.journal, "--journal", folder=False)
    _check_end(args, until)
    return run_headless(build_session(args, until), speed=speed, until=until, days=days)


def _check_end(args: argparse.Namespace, until: datetime | None) -> None:
    """An end at or before the run's start, refused before the session opens (and so
    creates and binds) its journal: the demo's start is known from its options, a live
    run's is now; a replay's empty period is refused by its session, before its journal."""
    from datetime import UTC, datetime

    from app.runs import ENDS_BEFORE_START
    from app.sessions import DEMO_START

    if until is None or args.replay:
        return
    if args.demo:
        start = parse_date(args.date_from, "--from") if args.date_from else DEMO_START
    else:
        start = datetime.now(UTC)
    if until <= start:
        raise UserError(ENDS_BEFORE_START)
