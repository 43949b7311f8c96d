"""``main.py walkforward``: parameters chosen in-sample from a grid, reported out-of-sample.

Takes the backtest's data, configuration and tick-mode options (``app.cli.backtest``); the
choice and the out-of-sample run are ``app.walkforward``'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.args import span
from app.cli.backtest import (
    add_backtest_options,
    check_report_folder,
    say_failure,
    spec_from_args,
)
from app.cli.output import num, pct, signed_money
from app.walkforward import WalkForwardResult, load_grid, walk_forward, write_walkforward
from engine.config import EngineConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    w = subparsers.add_parser(
        "walkforward", help="choose parameters in-sample from a grid, report out-of-sample",
        description="Backtest every grid configuration on the in-sample span, keep for each "
        "cluster the one with the best in-sample Sharpe, freeze it and run the out-of-sample "
        "span; the report's DSR accounts for the configurations tried.")
    add_backtest_options(w)
    w.add_argument("--is", dest="in_sample", required=True, metavar="FROM:TO",
                   help="in-sample span (UTC dates, TO inclusive)")
    w.add_argument("--oos", dest="out_of_sample", required=True, metavar="FROM:TO",
                   help="out-of-sample span (UTC dates, TO inclusive)")
    w.add_argument("--grid", type=Path, required=True, help="grid file (TOML lists)")
    w.add_argument("--report", type=Path, required=True, help="directory for the report")
    w.add_argument("--min-baskets", type=int, default=5,
                   help="in-sample baskets a cluster needs for a configuration to count")
    w.set_defaults(func=run, calendar=None)


def run(args: argparse.Namespace) -> int:
    check_report_folder(args.report)
    base = spec_from_args(args)
    grid = load_grid(args.grid)
    is_span = span(args.in_sample, "--is")
    oos_span = span(args.out_of_sample, "--oos")
    result = walk_forward(base, grid, is_span, oos_span, min_baskets=args.min_baskets,
                          progress=lambda text: print(text, flush=True))
    files = write_walkforward(result, args.report)
    print(f"{len(grid)} configurations tried; out-of-sample "
          f"{args.out_of_sample}:")
    for line in _table(result, base.config):
        print(line)
    print(f"report: {', '.join(str(f) for f in files)}")
    if result.out_of_sample.failure is not None:
        say_failure(result.out_of_sample.failure, args.report)
    return 0 if result.out_of_sample.complete else 1


def _table(result: WalkForwardResult, config: EngineConfig) -> list[str]:
    """The chosen parameters and out-of-sample figures per traded cluster, then the
    portfolio's."""
    oos = result.out_of_sample
    m: dict[str, Any] = oos.metrics.to_dict() if oos.metrics else {}
    lines = [f"{'cluster':<14} {'tau_f':>5} {'tau_s':>5} {'tau_q':>5} {'E':>5} {'X':>5} "
             f"{'baskets':>7} {'P&L':>10} {'Sharpe':>7}"]
    by_cluster = m.get("clusters", {}).get("by_cluster", {})
    traded = oos.params.get("clusters", {})
    for name, params in result.chosen.items():
        if name not in traded:
            continue  # the data cannot feed this cluster
        spec = next(c for c in config.clusters if c.name == name)
        c = by_cluster.get(name, {})
        lines.append(
            f"{name:<14} {params.get('tau_f', spec.tdi.tau_f):>5} "
            f"{params.get('tau_s', spec.tdi.tau_s):>5} {params.get('tau_q', spec.tdi.tau_q):>5} "
            f"{params.get('entry', spec.entry):>5} {params.get('exit', spec.exit_band):>5} "
            f"{c.get('baskets', 0):>7} {signed_money(c.get('pnl'))} {num(c.get('sharpe')):>7}")
    ret, sig = m.get("returns", {}), m.get("significance", {})
    lines.append(
        f"portfolio: return {pct(ret.get('total_return'))}, Sharpe {num(ret.get('sharpe'))}, "
        f"max drawdown {pct(ret.get('max_drawdown'))}, DSR {num(sig.get('dsr'))} "
        f"(N={len(result.grid)})")
    return lines
