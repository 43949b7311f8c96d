"""``main.py backtest`` and ``main.py replay``: the engine headless on recorded data.

``backtest`` writes metrics.json, trades.csv, equity.csv and report.html to ``--report``;
``replay`` runs the same engine at a chosen speed and prints a line per day (the console
adds the window).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

from app.backtest import BacktestSpec, ProgressBar, run_backtest, write_outputs
from app.cli.args import parse_date
from engine.calendar import StaticCalendar
from engine.config import load_engine_config
from engine.errors import UserError


def _add_data_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", nargs="+", type=Path, metavar="DIR_OR_FILE",
                     help="HistData M1 files or directories, MT5 exports, Dukascopy ticks")
    src.add_argument("--store", type=Path, help="a market-data store directory")
    src.add_argument("--market", choices=["synthetic"], help="the built-in synthetic market")
    p.add_argument("--seed", type=int, default=0, help="synthetic market seed (default 0)")
    p.add_argument("--no-latency", action="store_true",
                   help="synthetic market without its disalignment effect (a no-edge control)")
    p.add_argument("--config", type=Path, help="engine configuration (TOML)")
    p.add_argument("--clusters", help="comma-separated cluster names (default: all that fit)")
    p.add_argument("--from", dest="date_from", help="first traded day (UTC)")
    p.add_argument("--to", dest="date_to", help="last traded day, inclusive (UTC)")
    p.add_argument("--tick-mode", choices=["ohlc", "real"], default="ohlc",
                   help="ohlc: four ticks per M1 bar (MT5's '1 minute OHLC'); real: recorded "
                   "ticks where there are any")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest", help="run the engine on historical or synthetic data and write a report",
        description="Run the engine headless on the simulated terminal and write metrics.json, "
        "trades.csv, equity.csv and report.html to --report.")
    _add_data_args(p)
    p.add_argument("--report", type=Path, required=True, help="directory for the report files")
    p.add_argument("--calendar", type=Path, help="economic calendar file(s) for the news filter "
                   "(an imported calendar database or files to import); default: none")
    p.set_defaults(func=run)

    w = subparsers.add_parser(
        "walkforward", help="choose parameters in-sample from a grid, report out-of-sample",
        description="Backtest every grid configuration on the in-sample span, keep for each "
        "cluster the one with the best in-sample Sharpe, freeze it and run the out-of-sample "
        "span; the report's DSR accounts for the configurations tried.")
    _add_data_args(w)
    w.add_argument("--is", dest="in_sample", required=True, metavar="FROM:TO",
                   help="in-sample span (UTC dates, TO inclusive)")
    w.add_argument("--oos", dest="out_of_sample", required=True, metavar="FROM:TO",
                   help="out-of-sample span (UTC dates, TO inclusive)")
    w.add_argument("--grid", type=Path, required=True, help="grid file (TOML lists)")
    w.add_argument("--report", type=Path, required=True, help="directory for the report")
    w.add_argument("--min-baskets", type=int, default=5,
                   help="in-sample baskets a cluster needs for a configuration to count")
    w.set_defaults(func=run_walkforward, calendar=None)

    r = subparsers.add_parser(
        "replay", help="replay recorded data through the engine at a chosen speed",
        description="The engine on a replay of recorded ticks or M1 bars, at --speed "
        "(virtual seconds per second, or max), printing a line per day.")
    r.add_argument("files", nargs="*", type=Path, metavar="FILE")
    r.add_argument("--store", type=Path, help="a market-data store directory")
    r.add_argument("--speed", default="max", help="virtual seconds per second, or 'max'")
    r.add_argument("--headless", action="store_true", help="no window (the default here)")
    r.add_argument("--config", type=Path, help="engine configuration (TOML)")
    r.add_argument("--clusters", help="comma-separated cluster names (default: all that fit)")
    r.add_argument("--from", dest="date_from", help="first day (UTC)")
    r.add_argument("--to", dest="date_to", help="last day, inclusive (UTC)")
    r.add_argument("--journal", type=Path, help="journal file (default: the data directory)")
    r.set_defaults(func=run_replay)


def _span(text: str, flag: str) -> tuple[datetime, datetime]:
    if ":" not in text:
        raise UserError(f"{flag}: expected FROM:TO, got {text!r}")
    a, b = text.split(":", 1)
    start, end = parse_date(a, flag), parse_date(b, flag) + timedelta(days=1)
    if start >= end:
        raise UserError(f"{flag}: {a} is after {b}")
    return start, end


def run_walkforward(args: argparse.Namespace) -> int:
    from app.walkforward import load_grid, walk_forward, write_walkforward

    base = spec_from_args(args)
    grid = load_grid(args.grid)
    is_span = _span(args.in_sample, "--is")
    oos_span = _span(args.out_of_sample, "--oos")
    result = walk_forward(base, grid, is_span, oos_span, min_baskets=args.min_baskets,
                          progress=lambda text: print(text, flush=True))
    files = write_walkforward(result, args.report)
    oos = result.out_of_sample
    m = oos.metrics.to_dict() if oos.metrics else {}
    print(f"{len(grid)} configurations tried; out-of-sample "
          f"{args.out_of_sample}:")
    print(f"{'cluster':<14} {'tau_f':>5} {'tau_s':>5} {'tau_q':>5} {'E':>5} {'X':>5} "
          f"{'baskets':>7} {'P&L':>10} {'Sharpe':>7}")
    by_cluster = m.get("clusters", {}).get("by_cluster", {})
    traded = oos.params.get("clusters", {})
    for name, params in result.chosen.items():
        if name not in traded:
            continue  # the data cannot feed this cluster
        spec = next(c for c in base.config.clusters if c.name == name)
        c = by_cluster.get(name, {})
        print(f"{name:<14} {params.get('tau_f', spec.tdi.tau_f):>5} "
              f"{params.get('tau_s', spec.tdi.tau_s):>5} {params.get('tau_q', spec.tdi.tau_q):>5} "
              f"{params.get('entry', spec.entry):>5} {params.get('exit', spec.exit_band):>5} "
              f"{c.get('baskets', 0):>7} {_money(c.get('pnl'))} {_num(c.get('sharpe')):>7}")
    ret, sig = m.get("returns", {}), m.get("significance", {})
    print(f"portfolio: return {_pct(ret.get('total_return'))}, Sharpe {_num(ret.get('sharpe'))}, "
          f"max drawdown {_pct(ret.get('max_drawdown'))}, DSR {_num(sig.get('dsr'))} "
          f"(N={len(grid)})")
    print(f"report: {', '.join(str(f) for f in files)}")
    return 0 if oos.complete else 1


def run_replay(args: argparse.Namespace) -> int:
    from app.cli.run import run as run_engine

    if not args.files and not args.store:
        raise UserError("give files to replay or --store DIR")
    ns = argparse.Namespace(demo=False, live=False, replay=[str(f) for f in args.files],
                            store=args.store, speed=args.speed, until=None, days=None,
                            config=args.config, clusters=args.clusters, journal=args.journal,
                            seed=0, start=args.date_from, server_offset=None)
    if args.date_to:
        ns.until = (parse_date(args.date_to, "--to") + timedelta(days=1)).strftime("%Y-%m-%d")
    return run_engine(ns)


def _money(x: object) -> str:
    return f"{x:>+10,.2f}" if isinstance(x, float) else f"{'n/a':>10}"


def spec_from_args(args: argparse.Namespace) -> BacktestSpec:
    config = load_engine_config(args.config)
    if args.clusters:
        config = config.with_clusters([c.strip() for c in args.clusters.split(",") if c.strip()])
    start = parse_date(args.date_from, "--from") if args.date_from else None
    end = parse_date(args.date_to, "--to") + timedelta(days=1) if args.date_to else None
    if start is not None and end is not None and start >= end:
        raise UserError(f"--from {args.date_from} is after --to {args.date_to}")
    if args.data:
        source, paths, store = "files", tuple(args.data), None
    elif args.store:
        if not args.store.is_dir():
            raise UserError(f"--store: no such directory: {args.store}")
        source, paths, store = "store", (), args.store
    else:
        source, paths, store = "synthetic", (), None
    calendar = None
    if getattr(args, "calendar", None):
        calendar = _load_calendar(args.calendar, start, end)
    return BacktestSpec(config=config, source=source, paths=paths, store=store, seed=args.seed,
                        latency=not args.no_latency, start=start, end=end,
                        tick_mode=args.tick_mode, calendar=calendar)


def _load_calendar(path: Path, start: datetime | None, end: datetime | None) -> StaticCalendar:
    import tempfile

    from storage.calendar import Calendar, import_calendar_files

    if not path.exists():
        raise UserError(f"--calendar: no such file: {path}")
    if path.suffix in (".sqlite", ".db"):
        cal = Calendar.open(path, create=False)
    else:
        db = Path(tempfile.mkdtemp()) / "calendar.sqlite"
        import_calendar_files([path], db)
        cal = Calendar.open(db)
    return cal.snapshot(start or parse_date("1970-01-01", "--from"),
                        end or parse_date("2100-01-01", "--to"))


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    bar = ProgressBar("backtest")
    result = run_backtest(spec, journal_path=args.report / "journal.sqlite"
                          if args.report else None, progress=bar)
    bar.done()
    files = write_outputs(result, args.report)
    s = result.stats
    exits = ", ".join(f"{k} {v}" for k, v in sorted(s.exits.items())) or "none"
    m = result.metrics.to_dict() if result.metrics else {}
    ret = m.get("returns", {})
    print(f"{s.baskets_opened} baskets ({exits}); final balance {result.final_balance:,.2f}; "
          f"total return {_pct(ret.get('total_return'))}, Sharpe {_num(ret.get('sharpe'))}, "
          f"max drawdown {_pct(ret.get('max_drawdown'))}")
    print(f"report: {', '.join(str(f) for f in files)}")
    if not result.complete:
        print("INCOMPLETE: " + "; ".join(result.notes))
        return 1
    return 0


def _pct(x: object) -> str:
    return f"{x:+.2%}" if isinstance(x, float) else "n/a"


def _num(x: object) -> str:
    return f"{x:.2f}" if isinstance(x, float) else "n/a"
