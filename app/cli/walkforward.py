"""``main.py walkforward``: parameters chosen in-sample from a grid, judged out-of-sample,
fold after fold.

    walkforward DATA --from DATE --to DATE [--folds N] [--scheme anchored|rolling]
                [--oos-fraction F] --grid FILE --report DIR
    walkforward DATA --is FROM:TO --oos FROM:TO --grid FILE --report DIR      (one fold)

Takes the backtest's data, configuration and tick-mode options (``app.cli.backtest``); the
study is ``app.walkforward``'s.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.cli.args import path_argument, period, span
from app.cli.backtest import (
    add_backtest_options,
    add_metrics_basis_option,
    check_report_folder,
    say_data_notes,
    say_failure,
    spec_from_args,
)
from app.cli.choices import SCHEMES
from app.cli.output import num, pct, signed_money
from engine.errors import UserError

if TYPE_CHECKING:
    from app.cli.progress import CommandProgress
    from app.walkforward import Fold, WalkForwardResult


def register(subparsers: argparse._SubParsersAction) -> None:
    w = subparsers.add_parser(
        "walkforward", help="choose parameters in-sample from a grid, judge them out-of-sample",
        description="Per fold: backtest every grid configuration with each cluster ALONE on "
        "the in-sample span, keep per cluster the best in-sample Sharpe (with the DSR of that "
        "choice among N configurations), run the frozen mix in-sample and out-of-sample. "
        "Folds: --from/--to split by --folds, --scheme and --oos-fraction, or one explicit "
        "fold with --is/--oos.")
    add_backtest_options(w)
    w.add_argument("--folds", default="1", metavar="N",
                   help="out-of-sample windows: the last --oos-fraction of --from..--to cut "
                   "into N equal, consecutive windows (default 1)")
    w.add_argument("--scheme", default="anchored", metavar="|".join(SCHEMES),
                   help="anchored: each fold chooses on everything from --from to its window; "
                   "rolling: on a span as long as the first fold's, ending at its window "
                   "(default anchored)")
    w.add_argument("--oos-fraction", default="0.5", metavar="F",
                   help="share of --from..--to that is out-of-sample, 0 < F < 1 (default 0.5)")
    w.add_argument("--is", dest="in_sample", metavar="FROM:TO",
                   help="one explicit fold: the in-sample span (UTC dates, TO inclusive)")
    w.add_argument("--oos", dest="out_of_sample", metavar="FROM:TO",
                   help="one explicit fold: the out-of-sample span (with --is)")
    w.add_argument("--grid", type=path_argument, required=True, help="grid file (TOML lists)")
    w.add_argument("--report", type=path_argument, required=True, help="directory for the report")
    # app.walkforward.grid.DEFAULT_MIN_BASKETS, not imported here: the command line starts
    # without the engine (tests/unit/app/test_cli_startup.py holds the two equal)
    w.add_argument("--min-baskets", type=int, default=5,
                   help="in-sample baskets a configuration needs to be chosen (default 5)")
    w.add_argument("--calendar", type=path_argument,
                   help="economic calendar file(s) for the news filter of every run (an "
                   "imported calendar database or files to import); default: none")
    add_metrics_basis_option(w)
    w.set_defaults(func=run)


def _number(text: str, flag: str, kind: Callable[[str], Any]) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise UserError(f"{flag}: expected a number, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{flag}: expected a finite number, got {text!r}")
    return value


def folds_from_args(args: argparse.Namespace) -> list[Fold]:
    """The folds the options ask for; mixing the two forms is refused."""
    from app.walkforward import explicit_fold, make_folds

    explicit = args.in_sample is not None or args.out_of_sample is not None
    split = args.date_from is not None or args.date_to is not None
    if explicit:
        if split or args.folds != "1" or args.oos_fraction != "0.5" or \
                args.scheme != "anchored":
            raise UserError("--is/--oos give one explicit fold: do not combine them with "
                            "--from/--to, --folds, --scheme or --oos-fraction")
        if args.in_sample is None or args.out_of_sample is None:
            raise UserError("--is and --oos go together (one explicit fold)")
        return explicit_fold(span(args.in_sample, "--is"), span(args.out_of_sample, "--oos"))
    start, end = period(args)
    if start is None or end is None:
        raise UserError("give the study's span with --from and --to (or one fold with --is "
                        "and --oos)")
    return make_folds(start.to_pydatetime(), end.to_pydatetime(),
                      _number(args.folds, "--folds", int), args.scheme,
                      _number(args.oos_fraction, "--oos-fraction", float))


class _Progress:
    """A line per backtest on stdout, and one bar for the whole study on a terminal's
    stderr: each backtest counts as an equal share of it, so the ETA is the study's."""

    def __init__(self, bar: CommandProgress) -> None:
        self.bar = bar

    def start(self, label: str, number: int, total: int) -> Callable[[float], None]:
        print(f"[{number}/{total}] {label}", flush=True)
        head = f"walkforward [{number}/{total}]"
        self.bar.update((number - 1) / total, head)
        return lambda fraction: self.bar.update((number - 1 + fraction) / total)

    def finish(self) -> None:
        """Nothing to close: the next backtest moves the same bar."""


def run(args: argparse.Namespace) -> int:
    from app.cli.progress import CommandProgress
    from app.walkforward import load_grid, walk_forward, write_walkforward

    check_report_folder(args.report, "walkforward")
    if args.min_baskets < 0:
        raise UserError(f"--min-baskets: {args.min_baskets} is below 0")
    folds = folds_from_args(args)
    base = spec_from_args(args)
    grid = load_grid(args.grid)
    say_data_notes(base.paths)
    with CommandProgress("walkforward") as bar:
        result = walk_forward(base, grid, folds, scheme=args.scheme,
                              min_baskets=args.min_baskets, progress=_Progress(bar),
                              grid_file=args.grid)
        bar.update(1.0, "walkforward: writing the report")
        files = write_walkforward(result, args.report)
    for line in summary(result):
        print(line)
    for note in result.notes:  # as the report's "Study notes" and walkforward.json's
        print(f"note: {note}", file=sys.stderr)
    print(f"report: {args.report / 'report.html'} ({len(files)} files in {args.report})")
    failed = next((f.out_of_sample.failure for f in result.folds
                   if f.out_of_sample.failure is not None), None)
    if failed is not None:
        say_failure(failed, args.report)
    return 0 if result.complete else 1


def _figures(score: dict[str, Any]) -> str:
    return (f"{score.get('baskets', 0):>4} {signed_money(score.get('pnl'))} "
            f"{num(score.get('sharpe')):>6}")


def summary(result: WalkForwardResult) -> list[str]:
    """Per fold: each cluster's choice (in-sample alone, its DSR), the frozen mix in-sample
    and out-of-sample; then the out-of-sample windows end to end."""
    from app.walkforward import study_document

    doc = study_document(result)
    n = len(result.grid)
    lines = [f"{n} configurations x {len(result.clusters)} clusters per fold; N = {n} per "
             f"selection ({result.combined_trials:,} mixes combined); Sharpes on daily "
             f"returns ({doc['returns_basis']['label']})"]
    for fold in doc["folds"]:
        lines.append(f"fold {fold['fold']}: in-sample {fold['is_days']}, out-of-sample "
                     f"{fold['oos_days']}")
        lines.append(f"  {'cluster':<12} {'cfg':>3} {'IS alone: bsk P&L Sharpe':>28} "
                     f"{'DSR':>5} {'IS mix: bsk P&L Sharpe':>28} {'OOS mix: bsk P&L Sharpe':>28}")
        for s in fold["selection"]:
            name = s["cluster"]
            is_mix = fold["in_sample_mix"]["by_cluster"].get(name, {})
            oos_mix = fold["out_of_sample_mix"]["by_cluster"].get(name, {})
            lines.append(f"  {name:<12} {s['config'] or '-':>3} "
                         f"{_figures(s.get('in_sample_alone') or {}):>28} "
                         f"{num(s.get('dsr')):>5} {_figures(is_mix):>28} {_figures(oos_mix):>28}")
        for sample, label in (("in_sample_mix", "in-sample mix"),
                              ("out_of_sample_mix", "out-of-sample mix")):
            p = fold[sample]["portfolio"]
            lines.append(f"  {label}: return {pct(p['total_return'])}, Sharpe "
                         f"{num(p['sharpe'])}, PSR {num(p['psr'])}, {p['baskets']} baskets")
    m = doc["out_of_sample"]["metrics"] or {}
    ret, sig = m.get("returns", {}), m.get("significance", {})
    lines.append(f"out-of-sample, folds end to end: return {pct(ret.get('total_return'))}, "
                 f"Sharpe {num(ret.get('sharpe'))}, PSR {num(sig.get('psr'))} (no deflation), "
                 f"max drawdown {pct(ret.get('max_drawdown'))}")
    return lines
