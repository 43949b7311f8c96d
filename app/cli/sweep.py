"""``main.py sweep``: every configuration of a grid on every fold's spans, resumable, stored.

    sweep (--data ... | --store DIR | --market synthetic) [--clusters A,B] [--from --to]
          --grid FILE [--random N --random-seed S] [--folds K --scheme anchored|rolling]
          [--workers N|dask|dask:N | --scheduler ADDRESS [--allow-remote]]
          --study STUDY.sqlite [--report DIR [--heatmap X,Y[,METRIC]]]
    sweep list STUDY       one line per trial
    sweep show STUDY       the study's settings, counts and best trial
    sweep report STUDY --report DIR    the study's report (``app.cli.sweep_report``)

The study file is ``--study`` because ``--store`` already names the market-data store.  The
sample seed is ``--random-seed`` because ``--seed`` already seeds the synthetic market.
The plan is ``app.sweep``'s; the rows are ``storage.trials``'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.args import (
    add_clusters_option,
    add_config_option,
    add_data_source_options,
    add_period_options,
    chosen_clusters,
    path_argument,
    period,
)
from app.cli.backtest import (
    add_metrics_basis_option,
    add_spread_options,
    say_data_notes,
    spread_settings,
)
from app.cli.choices import SCHEMES
from app.cli.crash import one_line
from app.cli.destinations import check_destination
from app.cli.output import num, pct, unsigned_pct
from app.cli.report_kinds import check_report_kind
from app.cli.sweep_report import (
    add_report_options,
    heatmap_specs,
    run_report,
    write_study_report,
)
from app.cli.sweep_unit import best_lines, shape_text, unit_text
from engine.errors import UserError

if TYPE_CHECKING:
    from app.sweep import SweepState

ACTIONS = ("list", "show", "report")


def register(subparsers: argparse._SubParsersAction) -> None:
    s = subparsers.add_parser(
        "sweep", help="backtest every grid configuration on every fold, resumably",
        description="Run a grid's configurations on the whole period or on each fold's "
        "in-sample and out-of-sample span, one trial per configuration and span with all the "
        "clusters together, or one per cluster alone when the grid file says [sweep] unit = "
        "\"cluster\", into a study file; a rerun runs only the trials the file lacks.  "
        "'sweep list STUDY' and 'sweep show STUDY' read a study back.")
    s.add_argument("action", nargs="?", choices=ACTIONS, help="read a study back: list "
                   "(one line per trial), show (settings, counts, best) or report (its "
                   "report into --report DIR)")
    s.add_argument("study_file", nargs="?", type=path_argument, metavar="STUDY",
                   help="the study file to read (with list/show/report)")
    add_data_source_options(s, required=False)
    add_config_option(s)
    add_clusters_option(s)
    add_period_options(s, first="first traded day", last="last traded day")
    s.add_argument("--tick-mode", choices=["ohlc", "real"], default="ohlc",
                   help="ohlc: four ticks per M1 bar; real: recorded ticks where there are any")
    add_spread_options(s)
    add_metrics_basis_option(s)
    s.add_argument("--calendar", type=path_argument,
                   help="economic calendar file(s) for the news filter of every trial (an "
                   "imported calendar database or files to import; as backtest); default: none")
    s.add_argument("--grid", type=path_argument, help="grid file (TOML lists, as walkforward's; "
                   "[sweep] unit = \"cluster\" runs each cluster alone)")
    s.add_argument("--random", type=int, metavar="N",
                   help="try N configurations drawn from the grid (default: all)")
    s.add_argument("--random-seed", type=int, default=0, metavar="S",
                   help="seed of the --random draw (default 0)")
    s.add_argument("--folds", type=int, metavar="K",
                   help="split --from..--to into K folds; each fold's in-sample and "
                   "out-of-sample span is a trial (default: one trial on the whole period)")
    s.add_argument("--scheme", default="anchored", choices=SCHEMES,
                   help="fold scheme (default anchored)")
    s.add_argument("--oos-fraction", type=float, default=0.5, metavar="F",
                   help="out-of-sample share of --from..--to with --folds (default 0.5)")
    s.add_argument("--workers", metavar="N|dask|dask:N",
                   help="N local worker processes (default 1: in this process); 'dask' or "
                   "'dask:N' a Dask LocalCluster of the cores' count or N processes")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the trials on the workers of this Dask scheduler "
                   "(tcp://HOST:8786); they need this code version")
    s.add_argument("--allow-remote", action="store_true",
                   help="accept a --scheduler outside this machine (Dask's transport pickles: "
                   "trust it, keep it on a private network)")
    s.add_argument("--study", type=path_argument, metavar="STUDY.sqlite",
                   help="the study's trials file (created if missing; a rerun resumes it)")
    s.add_argument("--stop-after", type=int, metavar="N",
                   help="run at most N new trials, then stop (a rerun runs the rest)")
    add_report_options(s)  # --report, --heatmap (app.cli.sweep_report)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "report":
        return run_report(args)
    if args.action is not None:
        return _read_back(args)
    if args.study_file is not None:
        raise UserError(f"sweep: unexpected argument {args.study_file} (to read a study: "
                        "sweep list|show STUDY)")
    return _run_study(args)


# -- running a study ------------------------------------------------------------------------


def _required(args: argparse.Namespace) -> None:
    if not (args.data or args.store or args.market):
        raise UserError("sweep: give the data with --data, --store or --market synthetic")
    for flag, value in (("--grid", args.grid), ("--study", args.study)):
        if value is None:
            raise UserError(f"sweep: {flag} is required to run a study")
    if args.stop_after is not None and args.stop_after < 0:
        raise UserError(f"--stop-after: expected 0 or more, got {args.stop_after}")
    if args.store is not None and not args.store.is_dir():
        raise UserError(f"--store: no such directory: {args.store}")
    if args.calendar is not None and not args.calendar.is_file():
        raise UserError(f"--calendar: no such file: {args.calendar}")


def _source(args: argparse.Namespace) -> dict[str, Any]:
    if args.data:
        return {"source": "files", "paths": [str(p) for p in args.data], "store": None}
    if args.store:
        return {"source": "store", "paths": [], "store": str(args.store)}
    return {"source": "synthetic", "paths": [], "store": None}


def _configured(args: argparse.Namespace) -> Any:
    """The configuration file's clusters (the study's, none chosen by name)."""
    from engine.config import load_engine_config

    return load_engine_config(args.config)


def plan_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The study's tasks, every input checked before any backtest runs."""
    from app.sweep import code_version, data_fingerprint, make_tasks, sample_configurations
    from app.sweep.plan import file_sha256, spans_of
    from app.walkforward import load_grid, make_folds
    from app.walkforward.grid import check_grid, sweep_unit
    from engine.config import DEFAULT_CONFIG, load_engine_config

    _required(args)
    config = chosen_clusters(load_engine_config(args.config), args.clusters)
    grid = load_grid(args.grid)
    check_grid(config, grid, args.grid)
    configs = sample_configurations(grid, args.random, args.random_seed)
    start, end = period(args)
    folds = None
    if args.folds is not None:
        if start is None or end is None:
            raise UserError("--folds: give the study's span with --from and --to")
        folds = make_folds(start.to_pydatetime(), end.to_pydatetime(), args.folds,
                           args.scheme, args.oos_fraction)
    spans = spans_of(folds, start.to_pydatetime() if start is not None else None,
                     end.to_pydatetime() if end is not None else None)
    spreads = spread_settings(args)  # checks the spread options
    profiles = [str(p) for p in (args.spread_profile or [])]
    run = {**_source(args), "seed": args.seed, "latency": not args.no_latency,
           "config_path": str(args.config) if args.config else None,
           "clusters": [c.name for c in config.clusters], "tick_mode": args.tick_mode,
           "spread_model": spreads["spread_model"], "spread_profiles": profiles,
           "metrics_basis": args.metrics_basis,
           "calendar": str(args.calendar) if args.calendar else None}
    settings = {"config_sha256": file_sha256(args.config or DEFAULT_CONFIG),
                "clusters": run["clusters"], "tick_mode": args.tick_mode,
                "spread_model": run["spread_model"],
                "spread_profiles": [file_sha256(Path(p)) for p in profiles],
                "metrics_basis": args.metrics_basis,
                **({"calendar_sha256": file_sha256(args.calendar)} if args.calendar else {})}
    data = data_fingerprint(run["source"], run["paths"], run["store"], args.seed,
                            run["latency"])
    alone = run["clusters"] if sweep_unit(args.grid) == "cluster" else None
    return make_tasks(configs, spans, run, settings, data, code_version(), alone=alone)


class SweepBar:
    """The study's bar on a terminal's stderr (quiet elsewhere, unless ``force``):

        sweep 3/8 ━━━━━━       38% ETA 0:00:12 2 running, 1 failed, best IS Sharpe 1.25

    finished/total, the share, the ETA from the recent pace, then what is running, what
    failed and the best in-sample Sharpe so far, in 80 columns (``rich``, as every long
    command's bar: ``app.cli.progress``)."""

    def __init__(self, *, stream: TextIO | None = None, force: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        out = stream if stream is not None else sys.stderr
        console = Console(file=out, force_terminal=True if force else None, highlight=False,
                          soft_wrap=False)
        self.active = force or console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=12), TaskProgressColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
            console=console, disable=not self.active, transient=False,
            redirect_stdout=sys.stdout.isatty(), redirect_stderr=False)
        self._task = self._progress.add_task("sweep", total=1, status="")

    def __enter__(self) -> SweepBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, state: SweepState) -> None:
        best = state.best
        status = (f"{state.running} running, {state.failed} failed, best IS Sharpe "
                  + (f"{best['sharpe']:.2f}" if best else "n/a"))
        self._progress.update(self._task, total=max(state.total, 1),
                              completed=state.finished,
                              description=f"sweep {state.finished}/{state.total}",
                              status=status)


def _run_study(args: argparse.Namespace) -> int:
    from app.sweep import run_sweep
    from app.sweep.executors import open_executor, parse_workers
    from app.sweep.settings_guard import claim_study
    from engine.metrics.basis import basis_label
    from storage.trials import TrialsStore

    choice = parse_workers(args.workers, args.scheduler, args.allow_remote)
    if choice.uses_dask:
        from app.sweep.dask_executor import require_dask

        require_dask()  # before the plan: the one line, not a study half set up
    tasks = plan_from_args(args)
    check_destination(args.study, "--study", folder=False)
    if args.report is not None:
        check_destination(args.report, "--report", folder=True)
        check_report_kind(args.report, "sweep")
    say_data_notes(args.data or [], None if args.clusters else _configured(args))
    heatmap_specs(args.heatmap, list(tasks[0]["params"]) if tasks else [])  # checked first
    with TrialsStore(args.study, writer=True) as store:
        claim_study(store, tasks)  # one study, one set of settings: refused before any work
        store.put_setting("created_with", {"grid": str(args.grid), "folds": args.folds,
                                           "scheme": args.scheme, "random": args.random,
                                           "random_seed": args.random_seed})
        with open_executor(choice) as executor, SweepBar() as bar:
            state = run_sweep(store, tasks, executor, progress=bar,
                              stop_after=args.stop_after)
        failures = [r["error"] for r in store.rows() if r["status"] == "failed"]
    ran = state.finished - state.skipped
    print(f"sweep: {state.total} trials planned, {state.skipped} already in the study, "
          f"{ran} run now; done {state.done}, failed {state.failed}, "
          f"missing {state.total - state.finished}")
    if state.best is not None:
        b = state.best
        alone = f"cluster {b['cluster']} alone, " if b.get("cluster") else ""
        print(f"best in-sample Sharpe: {b['sharpe']:.2f} (config {b['config']}, {alone}fold "
              f"{b['fold']} {b['sample']}; annualised, daily returns: "
              f"{basis_label(args.metrics_basis)})")
    print(f"study: {args.study}")
    if args.report is not None:
        write_study_report(args.study, args.report, args.heatmap)
    if state.failed and failures:  # why, on stderr: the counts alone do not say
        print(f"error: {state.failed} trial(s) failed; the first: {one_line(failures[0])} "
              f"(main.py sweep show {args.study} lists each)", file=sys.stderr)
    return 0 if state.failed == 0 else 1


# -- reading a study back -------------------------------------------------------------------


def _read_back(args: argparse.Namespace) -> int:
    from storage.trials import TrialsStore

    if args.study_file is None:
        raise UserError(f"sweep {args.action}: give the study file (sweep {args.action} STUDY)")
    with TrialsStore(args.study_file, create=False) as store:
        lines = list_lines(store) if args.action == "list" else show_lines(store)
    for line in lines:
        print(line)
    return 0


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def list_lines(store: Any) -> list[str]:
    """One line per trial: id, configuration, span, status, key figures, the clusters it
    ran (together, or the one alone), parameters."""
    rows = store.rows()
    lines = [f"{'trial':<12} {'cfg':>3} {'fold':>4} {'span':<4} {'status':<6} {'Sharpe':>6} "
             f"{'return':>8} {'maxDD':>8} {'bsk':>4} {'secs':>6}  {'cluster':<11} params"]
    for r in rows:
        lines.append(f"{r['id'][:12]:<12} {r['config']:>3} {r['fold']:>4} {r['sample']:<4} "
                     f"{r['status']:<6} {num(r['sharpe']):>6} {pct(r['total_return']):>8} "
                     f"{unsigned_pct(r['max_drawdown']):>8} {_int(r['baskets']):>4} "
                     f"{r['seconds']:>6.1f}  {unit_text(r.cluster):<11} "
                     f"{_params_text(r['params'])}")
        if r["error"]:
            lines.append(f"{'':<12} error: {r['error']}")
    lines.append(f"{len(rows)} trials (Sharpe: annualised, of the trial's daily returns; "
                 "cluster: the one a trial ran alone, or together: all the study's)")
    return lines


def _int(value: Any) -> str:
    return "-" if value is None else str(value)


def log_lines(rows: list[Any], before_log: int = 0) -> list[str]:
    """How many trials logged warnings or errors (kept in their rows, not printed), and how
    many of them halted the account: a halted run stops trading, which its figures show.
    ``before_log``: the trials a file held when it was given the column (not known)."""
    logged = [r.values["log"] for r in rows if r.values.get("log")]
    unknown = (f" ({before_log} trials ran before the study kept what trials log: theirs "
               "is not known)" if before_log else "")
    if not logged:
        return [f"logged: no trial logged a warning{unknown}"]
    halted = sum(any("account HALTED" in line for line in log["lines"]) for log in logged)
    return [f"logged: {len(logged)} trials logged {sum(log['count'] for log in logged)} "
            f"warnings or errors ({halted} with the account halted); the report's "
            f"trials.csv has each trial's count and first lines{unknown}"]


def show_lines(store: Any) -> list[str]:
    """The study: its settings, the counts (failed trials count as tried), the returns
    basis, the best trial (of each cluster, when they ran alone)."""
    from app.sweep.summary import returns_basis

    rows = store.rows()
    counts = store.counts()
    lines = [f"study: {store.path}"]
    for key, value in sorted(store.settings().items()):
        lines.append(f"{key}: {value}")
    lines.append(f"trials: {len(rows)} ({counts['done']} done, {counts['failed']} failed; "
                 f"{shape_text(rows)})")
    lines.append(f"time in trials: {sum(r['seconds'] for r in rows):.1f} s")
    basis = returns_basis([r.values for r in rows])
    lines.append(f"returns basis: {basis['name']} ({basis['label']})" if basis["name"]
                 else f"returns basis: {basis['label']}")
    lines += log_lines(rows, int(store.settings().get("trials_before_log") or 0))
    lines += best_lines(rows)
    lines += [f"failed {r['id'][:12]} (config {r['config']}, "
              + (f"cluster {r.cluster} alone, " if r.cluster else "")
              + f"fold {r['fold']} {r['sample']}): {r['error']}"
              for r in rows if r["status"] == "failed"]
    return lines
