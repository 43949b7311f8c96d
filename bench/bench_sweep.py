"""Sweep executors: one 24-trial study serially, in 2 local processes and on a 2-worker Dask
LocalCluster, in the same run; and what keeping the market in a worker saves.

Run by hand from the repository root (needs ../shared/data/fx_m1; without it, the synthetic
market over the same quarter, and the run says so):

    PYTHONPATH=$PWD .venv/bin/python bench/bench_sweep.py                 # the executors
    PYTHONPATH=$PWD .venv/bin/python bench/bench_sweep.py --reading 3     # kept vs fresh reads
    PYTHONPATH=$PWD .venv/bin/python bench/bench_sweep.py --profiler 3    # Dask's profiler on/off
    PYTHONPATH=$PWD .venv/bin/python bench/bench_sweep.py --tls 3         # TLS on/off

The study: the four real-data clusters (USD_MAJORS, USD_CAD_JPY, GOLD_HAVENS, MAJORS_SIX)
on 2019 Q2 (2019-04-01 .. 2019-07-01), six configurations (tau_s 96, 144, 192 x X 0.25,
0.5) x two anchored folds x in-sample and out-of-sample = 24 trials.  Each executor writes
its own study file (so none resumes another's), and the rows of all three must be equal
(the timings aside): the run checks it.

Per executor: the wall time (from before the executor starts, pool or cluster included, to
its last stored row), the speed-up against serial (serial wall / wall), and the overhead per
trial (scheduling, starting workers, data loading) in two forms:

- the issue's: ``(wall x workers / trials - median trial seconds) / median trial seconds``;
- of the total: ``wall x workers / sum of the trials' seconds - 1`` (the trials' own time is
  what each row's ``seconds`` measured in its worker, reading included);
- steady, the start-up taken out: ``start`` is the time from before the executor starts to
  the first trial's start (its ``started_at``: spawning the workers, importing the product,
  the LocalCluster's scheduler), paid once per run; ``(wall - start) x workers / sum of the
  trials' seconds - 1``.

Then what a 64-core cluster would take for 10,000 such trials: ``start + 10,000 x mean
serial trial seconds / 64 x (1 + Dask's steady overhead)`` (the start paid once, the
steady overhead on every trial), assuming 64 single-threaded workers each as fast as one
core here, the same trial mix, and a driver that keeps up (one SQLite transaction and one
Dask round trip per row, milliseconds).

``--reading N``: the market loading of one trial (the first in-sample one: ``load_market``,
the files' reads, the feed set up and primed to the span's start) N times in this process,
alternating the worker's kept market with a fresh read of the files (the kept market
dropped): the median of each and the difference.  With ``--store DIR`` (the same files
imported: ``main.py import bars FILES --store DIR``), the same trial's loading from the
store alternates too, to weigh reading a store against keeping the files' reads.

``--profiler N``: the study on the 2-worker LocalCluster N times with the workers' Dask
profiler on and N times with it off (the product's setting), alternating: each run's wall,
start, median trial and steady overhead, and the medians.

``--tls N``: the same with the LocalCluster's connections in TLS (the product's setting: a
certificate made for the run) and in plain TCP, alternating.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "fx_m1"
CLUSTERS = "USD_MAJORS,USD_CAD_JPY,GOLD_HAVENS,MAJORS_SIX"
GRID = "tau_s = [96, 144, 192]\nexit = [0.25, 0.5]\n"
QUARTER = ("2019-04-01", "2019-07-01")


def _plan(folder: Path, data: Path | None, store: Path | None = None) -> list[dict[str, Any]]:
    """The study's tasks, planned exactly as ``main.py sweep`` plans them."""
    from app.cli.sweep import plan_from_args, register

    grid = folder / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    source = (["--store", str(store)] if store else ["--data", str(data)] if data
              else ["--market", "synthetic"])
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["sweep", *source, "--clusters", CLUSTERS, "--from", QUARTER[0],
                              "--to", QUARTER[1], "--folds", "2", "--grid", str(grid),
                              "--study", str(folder / "plan.sqlite")])
    return plan_from_args(args)


def _run(label: str, choice: Any, tasks: list[dict[str, Any]], study: Path) -> dict[str, Any]:
    from app.sweep import open_executor, run_sweep
    from storage.trials import TrialsStore

    t0, since = time.perf_counter(), datetime.now(UTC)
    with TrialsStore(study) as store:
        with open_executor(choice) as executor:
            workers = executor.workers
            state = run_sweep(store, tasks, executor)
        wall = time.perf_counter() - t0
        rows = [r.values for r in store.rows()]
        results = sorted((r.results() for r in store.rows()), key=lambda r: r["id"])
    seconds = [r["seconds"] for r in rows]
    median = statistics.median(seconds)
    startup = (min(datetime.fromisoformat(r["started_at"]) for r in rows) - since
               ).total_seconds()
    return {"label": label, "workers": workers, "wall": wall, "trials": len(rows),
            "failed": state.failed, "median": median, "sum": sum(seconds),
            "first": max(seconds), "results": results,
            "overhead_median": (wall * workers / len(rows) - median) / median,
            "overhead_total": wall * workers / sum(seconds) - 1, "startup": startup,
            "overhead_steady": (wall - startup) * workers / sum(seconds) - 1}


def executors(data: Path | None, workers: int) -> int:
    from app.sweep import ExecutorChoice

    try:
        import distributed  # noqa: F401
        dask = True
    except ImportError:
        dask = False
        print("Dask is not installed: pip install 'fxcluster[dask]' (its row is left out)")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        folder = Path(scratch)
        tasks = _plan(folder, data)
        print(f"{len(tasks)} trials: {CLUSTERS} on {QUARTER[0]} .. {QUARTER[1]} "
              f"({'2019 HistData M1, ' + str(data) if data else 'the synthetic market'}); "
              f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
        runs = [_run("serial", ExecutorChoice("local", 1), tasks, folder / "serial.sqlite"),
                _run(f"{workers} local processes", ExecutorChoice("local", workers), tasks,
                     folder / "local.sqlite")]
        if dask:
            runs.append(_run(f"Dask LocalCluster, {workers} workers",
                             ExecutorChoice("dask-local", workers), tasks,
                             folder / "dask.sqlite"))
    serial = runs[0]
    print(f"{'executor':<30} {'wall s':>6} {'speed-up':>8} {'median s':>8} {'ovh/median':>10} "
          f"{'ovh/total':>9} {'start s':>7} {'ovh/steady':>10}")
    for r in runs:
        print(f"{r['label']:<30} {r['wall']:>6.1f} {serial['wall'] / r['wall']:>7.2f}x "
              f"{r['median']:>8.2f} {r['overhead_median']:>10.1%} {r['overhead_total']:>9.1%} "
              f"{r['startup']:>7.1f} {r['overhead_steady']:>10.1%}")
    same = all(r["results"] == serial["results"] for r in runs)
    print(f"rows equal across executors (timings aside): {'yes' if same else 'NO'}; "
          f"failed trials: {sum(r['failed'] for r in runs)}; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    last = runs[-1]
    mean = serial["sum"] / serial["trials"]
    steady = max(last["overhead_steady"], 0.0)
    minutes = (last["startup"] + 10_000 * mean / 64 * (1 + steady)) / 60
    print(f"64 cores, 10,000 trials: {minutes:.1f} min ({last['startup']:.1f} s start + mean "
          f"serial trial {mean:.2f} s x 10,000 / 64 x (1 + {steady:.1%} steady overhead of "
          f"{last['label']}))")
    return 0 if same else 1


def _loading(task: dict[str, Any], how: str) -> float:
    """Seconds of the trial's market loading (``load_market``: the files' reads, the feed
    set up and primed up to the span's start): ``kept`` with the worker's kept market,
    ``fresh`` with a fresh read (the kept market dropped first), ``store`` (a store task:
    nothing of the files involved, the kept market left as it is)."""
    from app.backtest.data import load_market
    from app.sweep import worker_data
    from app.sweep.trial import build_spec

    spec = build_spec(task)
    if how == "fresh":
        worker_data.forget()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-load-") as work:
        t0 = time.perf_counter()
        if how == "kept":
            with worker_data.kept_market(task):
                load_market(spec, Path(work))
        else:
            load_market(spec, Path(work))
        return time.perf_counter() - t0


def reading(data: Path, runs: int, store: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        task = _plan(Path(scratch), data)[0]
        stored = _plan(Path(scratch), None, store)[0] if store else None
        print(f"loading the market of one trial (config {task['config']}, fold "
              f"{task['span']['fold']} {task['span']['sample']}: {task['span']['from'][:10]} .. "
              f"{task['span']['to'][:10]}), {runs} alternating runs; load average "
              f"{os.getloadavg()[0]:.1f}")
        _loading(task, "kept")  # the first read fills the worker's market (not counted)
        times: dict[str, list[float]] = {"kept": [], "fresh": [], "store": []}
        for _ in range(runs):
            times["kept"].append(_loading(task, "kept"))
            times["fresh"].append(_loading(task, "fresh"))
            _loading(task, "kept")  # the worker's market again (not counted)
            if stored is not None:
                times["store"].append(_loading(stored, "store"))
        for name, values in times.items():
            if values:
                print(f"  {name:<6} median {statistics.median(values):.2f} s  "
                      f"({', '.join(f'{v:.2f}' for v in values)})")
        saved = statistics.median(times["fresh"]) - statistics.median(times["kept"])
        print(f"  the kept market saves {saved:.2f} s of loading a trial's market")
    return 0


def _alternating(data: Path | None, rounds: int, workers: int,
                 modes: dict[str, Callable[[], None]], restore: Callable[[], None]) -> int:
    """The study on the LocalCluster ``rounds`` times in each of ``modes`` (each a setting
    applied before its run), alternating; ``restore`` puts the product's setting back."""
    from app.sweep import ExecutorChoice

    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        folder = Path(scratch)
        tasks = _plan(folder, data)
        try:
            for n in range(rounds):
                for mode, apply in modes.items():
                    apply()
                    r = _run(mode, ExecutorChoice("dask-local", workers), tasks,
                             folder / f"{mode.replace(' ', '-')}-{n}.sqlite")
                    runs[mode].append(r)
                    print(f"round {n} {mode}: wall {r['wall']:.1f} s, start "
                          f"{r['startup']:.1f} s, median trial {r['median']:.2f} s, "
                          f"ovh/steady {r['overhead_steady']:.1%}, load average "
                          f"{os.getloadavg()[0]:.1f}", flush=True)
        finally:
            restore()
    for mode, done in runs.items():
        print(f"median, {mode}: steady overhead "
              f"{statistics.median(r['overhead_steady'] for r in done):.1%}, wall "
              f"{statistics.median(r['wall'] for r in done):.1f} s, start "
              f"{statistics.median(r['startup'] for r in done):.2f} s, median trial "
              f"{statistics.median(r['median'] for r in done):.2f} s")
    return 0


def profiler(data: Path | None, rounds: int, workers: int) -> int:
    import app.sweep.dask_executor as dask_executor

    product = dict(dask_executor.LOCAL_WORKER_CONFIG)

    def profile(on: bool) -> Callable[[], None]:
        def apply() -> None:
            dask_executor.LOCAL_WORKER_CONFIG = {
                **product, "distributed.worker.profile.enabled": on}
        return apply

    def restore() -> None:
        dask_executor.LOCAL_WORKER_CONFIG = product

    return _alternating(data, rounds, workers,
                        {"profiler on": profile(True), "profiler off": profile(False)}, restore)


def tls(data: Path | None, rounds: int, workers: int) -> int:
    import app.sweep.dask_executor as dask_executor

    product = dask_executor._run_credentials

    def credentials(made: Callable[[Any], Any]) -> Callable[[], None]:
        def apply() -> None:
            dask_executor._run_credentials = made  # type: ignore[assignment]
        return apply

    def restore() -> None:
        dask_executor._run_credentials = product  # type: ignore[assignment]

    return _alternating(data, rounds, workers,
                        {"TLS": credentials(product),
                         "TCP": credentials(lambda distributed: None)}, restore)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reading", type=int, metavar="N",
                        help="time one trial N times, kept market against fresh reads")
    parser.add_argument("--store", type=Path, help="with --reading: the same data as a store")
    parser.add_argument("--profiler", type=int, metavar="N",
                        help="N rounds of the LocalCluster with Dask's profiler on, then off")
    parser.add_argument("--tls", type=int, metavar="N",
                        help="N rounds of the LocalCluster in TLS, then in plain TCP")
    args = parser.parse_args()
    data = args.data if args.data.is_dir() else None
    if data is None:
        print(f"{args.data}: no such directory: the synthetic market instead")
    if args.reading:
        if data is None:
            print("--reading needs the HistData files")
            return 2
        return reading(data, args.reading, args.store)
    if args.profiler:
        return profiler(data, args.profiler, args.workers)
    if args.tls:
        return tls(data, args.tls, args.workers)
    return executors(data, args.workers)


if __name__ == "__main__":
    sys.exit(main())
