"""``main.py backtest``: the engine headless on recorded or synthetic data, and a report.

Writes metrics.json, trades.csv, legs.csv, equity.csv, report.html and journal.sqlite to
``--report``.  The options
that say what to backtest (``add_backtest_options``, ``spec_from_args``) are shared with
``walkforward``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.args import (
    add_clusters_option,
    add_config_option,
    add_data_source_options,
    add_period_options,
    chosen_clusters,
    path_argument,
    period,
)
from app.cli.choices import DEFAULT_SPREAD_MODEL, FIXED, PROFILE, SPREAD_MODELS
from app.cli.crash import report_crash
from app.cli.output import num, pct, unsigned_pct
from app.termination import exit_status
from engine.errors import UserError

if TYPE_CHECKING:
    from app.backtest import BacktestSpec
    from engine.config import EngineConfig


def add_backtest_options(p: argparse.ArgumentParser) -> None:
    """The data, the configuration, the period and the tick mode of a backtest."""
    add_data_source_options(p)
    add_config_option(p)
    add_clusters_option(p)
    add_period_options(p, first="first traded day", last="last traded day")
    p.add_argument("--tick-mode", choices=["ohlc", "real"], default="ohlc",
                   help="ohlc: four ticks per M1 bar (MT5's '1 minute OHLC'); real: recorded "
                   "ticks where there are any")
    add_spread_options(p)


# -- spreads (app.spreads) -----------------------------------------------------------------


def add_spread_options(p: argparse.ArgumentParser) -> None:
    """``--spread-model`` and ``--spread-profile``: the spread of bars without an ask."""
    p.add_argument("--spread-model", choices=SPREAD_MODELS, default=None,
                   help="spread of bars without one (HistData): fixed (the symbol's typical "
                   "spread) or profile (median by UTC weekday and hour; shipped for EURUSD, "
                   f"scaled for the others); default {DEFAULT_SPREAD_MODEL}, or profile with "
                   "--spread-profile")
    p.add_argument("--spread-profile", type=path_argument, action="append", default=None,
                   metavar="FILE", help="a spread profile file ('data spreads' writes one) "
                   "for its symbol(s), ahead of the shipped profile; repeatable")


def spread_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The spec's spread fields from the two options; a profile with "fixed" is refused."""
    from app.spreads import load_profiles

    refuse_what_synthetic_ignores(args)
    files = getattr(args, "spread_profile", None) or []
    model = getattr(args, "spread_model", None)
    if files and model == FIXED:
        raise UserError("--spread-profile needs --spread-model profile (the fixed model "
                        "uses no profile)")
    model = model or (PROFILE if files else DEFAULT_SPREAD_MODEL)
    return {"spread_model": model, "spread_profiles": load_profiles(files)}


def refuse_what_synthetic_ignores(args: argparse.Namespace) -> None:
    """The synthetic market quotes its own spreads and has no recorded ticks: a spread model,
    a spread profile or ``--tick-mode real`` given with it would be silently ignored."""
    if getattr(args, "market", None) != "synthetic":
        return
    for option, given in (("--spread-model", getattr(args, "spread_model", None)),
                          ("--spread-profile", getattr(args, "spread_profile", None))):
        if given:
            raise UserError(f"{option}: the synthetic market quotes its own spreads; "
                            "give it with --data or --store")
    if getattr(args, "tick_mode", None) == "real":
        raise UserError("--tick-mode real: the synthetic market has no recorded ticks; "
                        "give it with --data or --store")


# -- end of spreads --------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest", help="run the engine on historical or synthetic data and write a report",
        description="Run the engine headless on the simulated terminal and write metrics.json, "
        "trades.csv, legs.csv, equity.csv, report.html and the run's journal.sqlite to "
        "--report.")
    add_backtest_options(p)
    p.add_argument("--report", type=path_argument, required=True,
                   help="directory for the report files")
    p.add_argument("--calendar", type=path_argument,
                   help="economic calendar file(s) for the news filter "
                   "(an imported calendar database or files to import); default: none")
    add_metrics_basis_option(p)
    p.set_defaults(func=run)


def add_metrics_basis_option(p: argparse.ArgumentParser) -> None:
    """``--metrics-basis``: the days of the daily returns (``engine.metrics.basis``)."""
    p.add_argument("--metrics-basis", choices=["trading", "calendar"], default="trading",
                   help="days of the daily returns behind Sharpe, volatility, PSR and DSR: "
                   "trading = FX trading days, Monday to Friday, annualised by sqrt(252) "
                   "(default); calendar = every day, sqrt(365)")


def spec_from_args(args: argparse.Namespace) -> BacktestSpec:
    from app.backtest import BacktestSpec, calendar_snapshot
    from engine.config import load_engine_config

    config = chosen_clusters(load_engine_config(args.config), args.clusters)
    start, end = period(args)
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
        calendar = calendar_snapshot(args.calendar, start, end)
    return BacktestSpec(config=config, source=source, paths=paths, store=store, seed=args.seed,
                        latency=not args.no_latency, start=start, end=end,
                        tick_mode=args.tick_mode, calendar=calendar,
                        metrics_basis=getattr(args, "metrics_basis", "trading"),
                        **spread_settings(args))


def say_data_notes(paths: Sequence[Path], config: EngineConfig | None = None) -> None:
    """Once, before a command of many backtests: what the HistData files hold that a
    backtest does not take (``app.backtest.data_notes``), and with ``config`` (the
    configured clusters, none chosen by name) each cluster the files cannot feed, which
    every backtest of the command leaves out, as ``note:`` lines on stderr."""
    from app.backtest import data_notes
    from app.backtest.data import data_symbols
    from app.sessions import cluster_gaps

    notes = data_notes(paths) if paths else []
    if paths and config is not None and (symbols := data_symbols(paths)) is not None:
        notes += cluster_gaps(config, symbols)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def check_report_folder(report: Path, kind: str = "backtest") -> None:
    """Before any work: ``--report`` must be a folder or a place where one can be made, hold
    no other command's report (``kind`` is this command's), and no folder may stand where
    one of the report's files goes."""
    from app.backtest.outputs import JOURNAL_FILE, REPORT_FILES
    from app.cli.destinations import check_destination
    from app.cli.report_kinds import check_report_kind
    from storage.journal.lock import refuse_if_written

    if report.exists() and not report.is_dir():
        raise UserError(f"--report: {report} is a file; the report is a folder of files")
    for name in (*REPORT_FILES, JOURNAL_FILE):
        if (report / name).is_dir():
            raise UserError(f"--report: {report / name} is a folder where the report's "
                            f"{name} goes")
    refuse_if_written(report / JOURNAL_FILE, "this backtest's journal")
    check_report_kind(report, kind)  # after: a journal a run is writing is said as such
    check_destination(report, "--report", folder=True)


def run(args: argparse.Namespace) -> int:
    from app.backtest import run_backtest, write_outputs
    from app.backtest.outputs import JOURNAL_FILE
    from app.backtest.scratch import scratch_folder
    from app.cli.progress import CommandProgress

    check_report_folder(args.report)
    spec = spec_from_args(args)
    # the journal is written aside and moved in with the report: one run per folder
    with scratch_folder("backtest-journal-") as aside, CommandProgress("backtest") as bar:
        journal = aside / JOURNAL_FILE
        result = run_backtest(spec, journal_path=journal, progress=bar)
        bar.update(1.0, "backtest: writing the report")
        files = write_outputs(result, args.report, journal=journal)
    s = result.stats
    exits = ", ".join(f"{k} {v}" for k, v in sorted(s.exits.items())) or "none"
    still_open = int(result.trades["exit_time"].isna().sum())
    if still_open:
        exits += f"; {still_open} still open"
    m = result.metrics.to_dict() if result.metrics else {}
    ret = m.get("returns", {})
    basis = m.get("basis", {}).get("label", "no metrics")
    if few := ret.get("notes", {}).get("sharpe"):  # e.g. "from 2 daily returns: too few ..."
        basis += f"; {few}"
    print(f"{s.baskets_opened} baskets ({exits}); final balance {result.final_balance:,.2f}; "
          f"total return {pct(ret.get('total_return'))}, Sharpe {num(ret.get('sharpe'))} "
          f"({basis}), max drawdown {unsigned_pct(ret.get('max_drawdown'))}")
    print(f"report: {', '.join(str(f) for f in files)}")
    for note in result.notes:  # what the report says of the data and the period
        if note != result.incomplete_reason:
            print(f"note: {note}", file=sys.stderr)
    if not result.complete:
        print(f"INCOMPLETE: {result.incomplete_reason or 'the run did not reach its end'}")
        if result.failure is not None:
            say_failure(result.failure, args.report)
        if result.interrupted is not None:
            return exit_status(result.interrupted)
        return 1
    return 0


def say_failure(failure: Exception, report: Path) -> None:
    """One line on stderr for a run that failed midway; an unexpected error's traceback
    goes to the crash log as any other would (an error in the data does not)."""
    from app.backtest import failure_text

    where = "" if isinstance(failure, UserError) else f" ({report_crash(failure)})"
    print(f"error: the backtest failed midway: {failure_text(failure)}{where}; the report in "
          f"{report} covers the days before and is marked incomplete", file=sys.stderr)
