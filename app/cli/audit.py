"""``main.py audit``: the honesty checks of a configuration on the user's own data.

Prints one screen (the three checks' verdicts and tables); with ``--report DIR`` also writes
``audit.json`` (every figure) and ``audit.html``.  Exit status: 0 when the checks ran,
whatever their verdicts; 1 when the truncation check found a difference (look-ahead); 2 for
bad input (one line).
"""

from __future__ import annotations

import argparse

from app.cli.args import (
    add_clusters_option,
    add_config_option,
    add_period_options,
    chosen_clusters,
    parse_date,
    path_argument,
    period,
)
from app.cli.backtest import check_report_folder, say_data_notes
from app.cli.choices import DEFAULT_SEEDS, DEFAULT_WEEKS, MAX_SEEDS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit", help="honesty checks of a configuration on your data: look-ahead, no-edge "
        "surrogates, cost sensitivity",
        description="Backtest the configuration on the data and check (a) truncation "
        "invariance (runs to D and to D+k agree before D), (b) the Sharpe on no-edge "
        "surrogates of the data beside the real Sharpe, (c) P&L and Sharpe with spreads x0, "
        "x1, x2 and commission x0, x1. Exit 0 when the checks ran, 1 when (a) found a "
        "difference, 2 for bad input.")
    p.add_argument("--data", nargs="+", type=path_argument, required=True, metavar="DIR_OR_FILE",
                   help="M1 bar files or directories (HistData, MT5 exports; tick files are "
                   "aggregated to M1 bars; the files of a symbol are consecutive periods: "
                   "two that overlap are refused)")
    add_config_option(p)
    add_clusters_option(p)
    add_period_options(p, first="first traded day", last="last traded day")
    p.add_argument("--calendar", type=path_argument,
                   help="economic calendar file(s) for the news filter "
                   "(default: none)")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                   help=f"surrogate markets, 1..{MAX_SEEDS} (default {DEFAULT_SEEDS})")
    p.add_argument("--cut", metavar="DATE", help="D, where the truncated run ends (UTC; "
                   "default: 60%% of the way through the traded period)")
    p.add_argument("--weeks", type=int, default=DEFAULT_WEEKS,
                   help=f"k, weeks the longer run goes past D (default {DEFAULT_WEEKS})")
    p.add_argument("--report", type=path_argument, help="directory for audit.json and audit.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.audit import AuditSpec, audit_text, run_audit
    from app.backtest import ProgressBar, calendar_snapshot
    from app.report.audit import write_audit_report
    from engine.config import load_engine_config

    if args.report is not None:
        check_report_folder(args.report, "audit")
    config = chosen_clusters(load_engine_config(args.config), args.clusters)
    start, end = period(args)
    cut = parse_date(args.cut, "--cut").to_pydatetime() if args.cut else None
    calendar = calendar_snapshot(args.calendar, start, end) if args.calendar else None
    spec = AuditSpec(config=config, paths=tuple(args.data), start=start, end=end,
                     calendar=calendar, seeds=args.seeds, cut=cut, weeks=args.weeks)
    say_data_notes(spec.paths, None if args.clusters else config)
    bar = ProgressBar("audit")

    def progress(label: str, fraction: float) -> None:
        bar.label = f"audit: {label:<40}"
        bar(fraction)

    result = run_audit(spec, progress=progress)
    bar.done()
    print(audit_text(result))
    if args.report is not None:
        files = write_audit_report(result.to_dict(), args.report)
        print(f"report: {', '.join(str(f) for f in files)}")
    return 0 if result.truncation.passed else 1
