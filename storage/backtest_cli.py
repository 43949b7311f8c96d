"""``main.py backtest`` and ``main.py replay``: the engine headless on recorded data.

``backtest`` writes metrics.json, trades.csv, equity.csv and report.html to ``--report``;
``replay`` runs the same engine at a chosen speed and prints a line per day (the console
adds the window).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

from engine.config import load_engine_config
from engine.errors import UserError
from engine.news_api import StaticCalendar
from storage.backtest import BacktestSpec, ProgressBar, run_backtest, write_outputs
from storage.tdi_cli import parse_date


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
