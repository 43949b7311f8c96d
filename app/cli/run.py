"""``main.py run``: the engine without the window, in demo, live or replay.

Prints one status line per simulated (or real) day and a summary at the end: baskets,
exits by code, P&L and the final balance.  ``--speed`` paces the virtual clock (``max``:
as fast as the machine goes); a live run is paced by the real clock.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.cli.args import parse_date, parse_speed
from app.sessions import Session, demo_session, replay_session
from engine.config import load_engine_config
from engine.errors import UserError
from engine.loop import run_sync
from engine.runner import Engine


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
    p.add_argument("--speed", default="max",
                   help="virtual seconds per second, or 'max' (default: max; live ignores it)")
    end = p.add_mutually_exclusive_group()
    end.add_argument("--until", help="stop at this UTC date (exclusive)")
    end.add_argument("--days", type=float, help="stop after this many days")
    p.add_argument("--config", type=Path, help="engine configuration (TOML)")
    p.add_argument("--clusters", help="comma-separated cluster names (default: all that fit)")
    p.add_argument("--journal", type=Path, help="journal file (default: the data directory)")
    p.add_argument("--seed", type=int, default=0, help="demo market seed")
    p.add_argument("--start", help="demo start date (UTC, default 2024-01-08)")
    p.add_argument("--server-offset", help="replay of MT5 exports: the broker's server clock")
    p.set_defaults(func=run)


def build_session(args: argparse.Namespace) -> Session:
    config = load_engine_config(args.config)
    if args.demo:
        start = parse_date(args.start, "--start") if args.start else None
        if args.clusters:
            config = config.with_clusters(args.clusters.split(","))
        return demo_session(config, seed=args.seed, start=start, journal_path=args.journal)
    if args.live:
        from app.sessions import live_session
        from mt5bridge.live import LiveConfig

        if args.clusters:
            config = config.with_clusters(args.clusters.split(","))
        return live_session(config, LiveConfig(), journal_path=args.journal)
    start = parse_date(args.start, "--start") if getattr(args, "start", None) else None
    return replay_session(config, args.replay or [], args.clusters, args.journal,
                          args.server_offset, store=getattr(args, "store", None),
                          start_msc=int(start.timestamp() * 1000) if start else None)


def _status_line(engine: Engine, day: datetime) -> str:
    snap = engine.snapshot(refresh=True)
    s = engine.stats
    return (f"{day:%Y-%m-%d}  balance {snap.balance:>12,.2f}  equity {snap.equity:>12,.2f}  "
            f"open {len(engine.baskets)}  opened {s.baskets_opened}  closed {s.baskets_closed}")


def run(args: argparse.Namespace) -> int:
    speed = parse_speed(args.speed)
    session = build_session(args)
    engine = session.engine
    try:
        engine.start()
        start_ms = engine.now_msc
        if args.until:
            end_ms = int(parse_date(args.until, "--until").timestamp() * 1000)
        elif args.days:
            end_ms = start_ms + int(args.days * 86_400_000)
        elif session.sim is not None and session.sim.sim_feed.end_msc is not None:
            end_ms = int(session.sim.sim_feed.end_msc)
        elif args.live or not args.demo:
            end_ms = 2**62  # live: until stopped; replay: until the data runs out
        else:
            end_ms = start_ms + 86_400_000
        if end_ms <= start_ms:
            raise UserError("the run would end before it starts (check --until/--days)")
        began = datetime.fromtimestamp(start_ms / 1000, UTC)
        print(f"{engine.mode.value}: {len(engine.signals)} clusters "
              f"({', '.join(engine.signals)}), from {began:%Y-%m-%d %H:%M} UTC", flush=True)
        state = {"day": datetime.fromtimestamp(start_ms / 1000, UTC).date()}
        wall0 = time.monotonic()

        def on_step(e: Engine) -> None:
            now = e.now()
            if now.date() != state["day"]:
                print(_status_line(e, datetime.combine(state["day"], datetime.min.time())),
                      flush=True)
                state["day"] = now.date()
            if math.isfinite(speed) and not args.live:
                due = wall0 + (e.now_msc - start_ms) / 1000 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        feed_done = _exhausted(engine) if not args.live else None
        run_sync(engine, end_ms, on_step=on_step, should_stop=feed_done)
        engine.stop("end of run")
        _print_summary(engine)
        return 0
    except KeyboardInterrupt:
        engine.stop("interrupted")
        _print_summary(engine)
        return 130
    finally:
        session.close()


def _exhausted(engine: Engine):
    """True once a replay's data has run out and every bar it fed has closed."""
    next_time = getattr(engine.driver, "next_time", None)
    if next_time is None:
        return None
    return lambda: next_time() is None and engine.market.quiet()


def _print_summary(engine: Engine) -> None:
    s = engine.stats
    snap = engine.snapshot(refresh=True)
    exits = ", ".join(f"{k} {v}" for k, v in sorted(s.exits.items())) or "none"
    print(f"baskets: {s.baskets_opened} opened, {s.baskets_closed} closed; exits: {exits}; "
          f"realised P&L {s.realised_pnl:+,.2f}; final balance {snap.balance:,.2f}, "
          f"equity {snap.equity:,.2f}", flush=True)
    if s.refusals:
        top = sorted(s.refusals.items(), key=lambda kv: -kv[1])[:5]
        print("entries refused: " + ", ".join(f"{k} {v}" for k, v in top), file=sys.stdout)

