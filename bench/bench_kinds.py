"""Per-bar cost of the strategy kinds' streaming models, against the TDI's, in one process.

The TDI of a 4-symbol cluster (``TdiStream.update``, default windows) beside the pair
model on two legs with a 250-bar hedge window and a 60-bar z window: OLS, TLS and Kalman
hedges, and Johansen on three legs.  Each pair figure is given without the cointegration
test (``test_every`` beyond the run) and with it at the default ``test_every`` (20 bars).
The year's pair setting follows (a 480-bar hedge window, a 96-bar z window, no test),
OLS, TLS and Kalman.  One Engle-Granger test is then timed on its own on 250 and 480
bars, statsmodels' ``coint`` beside the product's path (``engine.kinds.engle_granger``,
the same numbers) on the same window.  The correlation model (24/240 windows, both rules) and its
provisional score follow.

With ``--year DIR`` (a folder of HistData 2019 M1 files, e.g. ``../shared/data/fx_m1``) it
also backtests the whole year, each run a fresh process (``main.py backtest``, as a user
runs it): one M30 pair (EURUSD/GBPUSD, the pair defaults with a 480-bar hedge window) and
the TDI cluster USD_MAJORS (four symbols, the shipped settings), alternating, ``--rounds``
rounds (3; the pair first in odd rounds, the TDI first in even ones, so that a drift of
the machine's load falls on both), and prints each round's wall times and pair/TDI ratio,
then the medians.  Why whole processes: in one process the first run pays every shared
import and the compiled kernels' first load and the second gets them warm, which is not
the comparison a user makes.  Then the same two backtests once the program has started
(each kind in a fresh process: one untimed run, one timed), timing apart each kind's
per-bar model ``update``: what the pair's model costs, and what the rest of a backtest
(ticks, bars, orders, account, journal) costs either kind; and each kind once more with its
model replaced by one that costs nothing and never trades, the floor under the ratio while
the engine's per-step work (ticks, bars, clock, account, journal) costs what it does.
``--year-only`` skips the per-bar part.  ``--year DIR --stepping`` times only each year's
stepping (``engine.loop.run_sync``), apart from reading its files and starting its engine:
three runs of the year in a process, ``--rounds`` processes of each kind.

    .venv/bin/python bench/bench_kinds.py            # 2,000 bars per model
    .venv/bin/python bench/bench_kinds.py --year ../shared/data/fx_m1
    .venv/bin/python bench/bench_kinds.py --year ../shared/data/fx_m1 --year-only --rounds 5
    .venv/bin/python bench/bench_kinds.py --year ../shared/data/fx_m1 --stepping --rounds 2
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from engine import ranges
from engine.kinds.correlation import CorrelationModel
from engine.kinds.correlation_params import CorrelationParams
from engine.kinds.engle_granger import coint_pvalue
from engine.kinds.pair import PairModel
from engine.kinds.pair_params import PairParams
from engine.kinds.pair_stats import engle_granger
from engine.tdi import TdiParams, TdiStream


def closes(n: int, legs: int, seed: int = 0) -> np.ndarray:
    """Random walks sharing one driver (log prices), as prices."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 1e-3, n))
    own = np.cumsum(rng.normal(0, 6e-4, (n, legs)), axis=0)
    return np.exp(common[:, None] * rng.uniform(0.5, 1.5, legs) + own + np.log(50.0))


def per_bar_us(update: object, rows: np.ndarray, skip: int) -> float:
    """Mean microseconds of ``update(row)`` over the rows after the first ``skip``."""
    for row in rows[:skip]:
        update(row)  # type: ignore[operator]
    t0 = time.perf_counter()
    for row in rows[skip:]:
        update(row)  # type: ignore[operator]
    return (time.perf_counter() - t0) / (len(rows) - skip) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=2_000)
    parser.add_argument("--year", type=Path, default=None,
                        help="folder of the HistData 2019 M1 files: also time a year's backtests")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the year's two backtests (default 3)")
    parser.add_argument("--year-only", action="store_true",
                        help="with --year: only the year's backtests, not the per-bar figures")
    parser.add_argument("--stepping", action="store_true",
                        help="with --year: only each year's stepping, apart from its reading "
                        "and start (three runs in a process, two processes of each kind)")
    parser.add_argument("--warm-run", nargs=4, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stepping-run", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_run is not None:  # a child of year_warm
        warm_run(Path(args.warm_run[0]), Path(args.warm_run[1]), int(args.warm_run[2]),
                 null=args.warm_run[3] == "null")
        return
    if args.stepping_run is not None:  # a child of year_stepping
        stepping_run(Path(args.stepping_run[0]), Path(args.stepping_run[1]),
                     int(args.stepping_run[2]))
        return
    if args.year is not None and args.stepping:
        year_stepping(args.year, args.rounds)
        return
    if args.year is not None and args.year_only:
        year(args.year, args.rounds)
        return
    tdi_rows = closes(args.bars + 600, 4)
    stream = TdiStream([f"SYM{i}USD" for i in range(4)], TdiParams())
    print(f"TDI, 4 symbols, {TdiParams()}: "
          f"{per_bar_us(stream.update, tdi_rows, 600):8.1f} us per bar")
    for hedge, legs in (("ols", 2), ("tls", 2), ("kalman", 2), ("johansen", 3)):
        rows = closes(args.bars + 300, legs, seed=1)
        for label, every in (("no test", ranges.MAX_ANY_BARS), ("test every 20", 20)):
            model = PairModel([f"L{i}" for i in range(legs)],
                              PairParams(hedge=hedge, test_every=every))
            us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 300)
            print(f"pair {hedge:8s} {legs} legs, window 250, {label:13s}: {us:8.1f} us per bar")
    for hedge in ("ols", "tls", "kalman"):
        rows = closes(args.bars + 600, 2, seed=1)
        model = PairModel(["L0", "L1"], PairParams(hedge=hedge, hedge_window=480, z_window=96,
                                                   test_every=ranges.MAX_ANY_BARS))
        us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 600)
        print(f"pair {hedge:8s} 2 legs, window 480/96, no test: {us:8.1f} us per bar")
    engle_granger_costs()
    johansen_costs()
    rows = closes(args.bars + 300, 2, seed=3)
    for rule in ("crossing", "sign_flip"):
        model = CorrelationModel(["A", "B"], CorrelationParams(rule=rule, targets=("X",)))
        us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 300)
        provisional = per_bar_us(lambda r, m=model: m.provisional(r), rows[-200:], 0)
        print(f"correlation {rule:9s} 24/240: {us:8.1f} us per bar, "
              f"provisional {provisional:6.1f} us per call")
    if args.year is not None:
        year(args.year, args.rounds)


def ms_per_call(call: object, repeats: int) -> float:
    """Mean milliseconds of ``call()`` over ``repeats`` calls after one warm-up call."""
    call()  # type: ignore[operator]
    t0 = time.perf_counter()
    for _ in range(repeats):
        call()  # type: ignore[operator]
    return (time.perf_counter() - t0) / repeats * 1e3


def engle_granger_costs() -> None:
    """One Engle-Granger test (one leg order) on 250 and 480 bars: statsmodels' ``coint``
    and the product's path on the same window, and the p-values both give."""
    import warnings

    from statsmodels.tsa.stattools import coint

    for bars in (250, 480):
        window = np.log(closes(bars, 2, seed=2))
        y, x = window[:, 0], window[:, 1:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slow = ms_per_call(partial(coint, y, x), 20)
            p_slow = coint(y, x)[1]
        fast = ms_per_call(partial(coint_pvalue, y, x), 200)
        both = ms_per_call(partial(engle_granger, window), 100)
        print(f"Engle-Granger on {bars} bars: statsmodels coint {slow:6.2f} ms per call, "
              f"fast path {fast:6.3f} ms ({slow / fast:4.0f}x), both orders {both:6.3f} ms; "
              f"p {p_slow:.12f} vs {coint_pvalue(y, x):.12f}")


def johansen_costs(windows: int = 200) -> None:
    """One Johansen test on a 250-bar window of three legs: statsmodels' ``coint_johansen``
    and the compiled path; then, over ``windows`` seeded windows of 2 to 5 legs and 60 to
    480 bars, the largest differences between the two (the normalised vector, relative;
    the trace statistic, relative) and how many windows the compiled path declined."""
    import warnings

    from statsmodels.tsa.vector_ar.vecm import coint_johansen

    from engine.kinds.johansen_fast import johansen_point
    from engine.kinds.pair_stats import normalised

    def reference(X: np.ndarray) -> tuple[np.ndarray, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = coint_johansen(X, 0, 1)
        return normalised(result.evec[:, 0]), float(result.lr1[0])

    X = np.log(closes(250, 3, seed=4))
    slow = ms_per_call(partial(reference, X), 50)
    fast = ms_per_call(partial(johansen_point, X), 2000)
    worst_vector = worst_trace = 0.0
    declined = 0
    for seed in range(windows):
        rng = np.random.default_rng(seed)
        bars, legs = (60, 120, 250, 480)[seed % 4], 2 + seed % 4
        window = np.log(closes(bars, legs, seed=seed))
        if seed % 3 == 0:
            window = window + rng.normal(0, 3e-3, window.shape)
        got = johansen_point(window)
        if got is None:
            declined += 1
            continue
        vector, trace = reference(window)
        worst_vector = max(worst_vector, float(np.max(np.abs(normalised(got[0]) - vector)
                                                      / np.maximum(1.0, np.abs(vector)))))
        worst_trace = max(worst_trace, abs(got[1] - trace) / max(1.0, abs(trace)))
    print(f"Johansen on 250 bars, 3 legs: statsmodels coint_johansen {slow * 1e3:7.1f} us "
          f"per call, compiled {fast * 1e3:6.1f} us ({slow / fast:4.0f}x); over {windows} "
          f"seeded windows (2-5 legs, 60-480 bars): vector within {worst_vector:.1e}, trace "
          f"within {worst_trace:.1e} (relative), {declined} declined")


PAIR_YEAR = """
[[cluster]]
name = "EUGB_PAIR"
kind = "pair"
symbols = ["EURUSD", "GBPUSD"]
magic = 720001

[cluster.pair]
hedge_window = 480
"""


#: The repository root: ``main.py`` and the ``PYTHONPATH`` of the year's processes.
ROOT = Path(__file__).resolve().parents[1]


def year_runs(folder: Path, pair_config: Path) -> list[tuple[str, list[str]]]:
    """``(label, main.py arguments but --report)`` of the year's two backtests."""
    from engine.cluster import DEFAULT_CONFIG

    runs = (("pair EURUSD/GBPUSD, M30", pair_config, ["EURUSD", "GBPUSD"], []),
            ("TDI USD_MAJORS, 4 symbols", DEFAULT_CONFIG,
             ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"], ["--clusters", "USD_MAJORS"]))
    return [(label, _backtest_args(folder, config, symbols, extra))
            for label, config, symbols, extra in runs]


def _backtest_args(folder: Path, config: Path, symbols: list[str],
                   extra: list[str]) -> list[str]:
    """``main.py backtest`` of the 2019 HistData files of ``symbols`` (but --report)."""
    files = [str(folder / f"DAT_ASCII_{s}_M1_2019.csv.gz") for s in symbols]
    return ["backtest", "--data", *files, "--config", str(config), *extra]


def floor_runs(folder: Path, pair_config: Path) -> list[tuple[str, list[str]]]:
    """``year_runs`` and a third, the six-symbol TDI cluster MAJORS_SIX: with the three
    floors (2, 4 and 6 symbols) a year's floor splits into what every step costs whatever
    the symbols and what each symbol adds."""
    from engine.cluster import DEFAULT_CONFIG

    six = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"]
    return [*year_runs(folder, pair_config),
            ("TDI MAJORS_SIX, 6 symbols",
             _backtest_args(folder, DEFAULT_CONFIG, six, ["--clusters", "MAJORS_SIX"]))]


#: What stops Python from caching compiled modules; the year's processes run without it.
NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"


def child_env() -> dict[str, str]:
    """The environment of the year's processes: this one's, the repository on the path,
    and Python's bytecode cache allowed, as on a user's machine.  A shell that sets
    ``PYTHONDONTWRITEBYTECODE`` makes every process compile the program's own modules from
    source again (about 0.3 s a process measured here), a cost no user pays after the first
    run; the year's first round writes the cache, as it loads numba's."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(NO_BYTECODE, None)
    return env


def say_bytecode() -> None:
    """A line saying so when this shell forbids the bytecode cache the children get."""
    if os.environ.get(NO_BYTECODE):
        print(f"year 2019: {NO_BYTECODE} is set here; the year's processes run without it "
              "(Python's bytecode cache allowed, as on a user's machine)", flush=True)


def timed_process(arguments: list[str], report: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one ``main.py`` process and its summary line
    (the baskets).  The CPU time is the steadier figure on a shared machine: another
    process's load stretches the wall time far more than this process's own work."""
    env = child_env()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), *arguments,
                           "--report", str(report)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    summary = [line for line in done.stdout.splitlines() if "baskets" in line][:1]
    if done.returncode != 0:  # the error's last line: a failed run is not a timing
        error = done.stderr.strip().splitlines() or [""]
        summary = [f"exit {done.returncode}: {error[-1]}"]
    return wall, cpu, " ".join(summary)


def null_models(session: object) -> None:
    """Replace each cluster's model in ``session`` by one that costs nothing and is never
    valid: the session's backtest then steps, builds bars and keeps its account as before,
    and never trades (``warm_run``'s floor)."""
    from engine.kinds.base import invalid_point

    for sig in session.engine.signals.values():  # type: ignore[attr-defined]
        point = invalid_point(len(sig.model.diagnostic_names))
        sig.model.update = lambda closes, bar_s, point=point: point


def _year_spec(folder: Path, pair_config: Path, which: int) -> Any:
    """The backtest spec of ``floor_runs``' run ``which`` (no report), for a child process
    that times it in itself; the run's warnings are kept off the timed output."""
    import logging

    from app.cli.backtest import spec_from_args
    from main import build_parser

    logging.getLogger().addHandler(logging.NullHandler())
    arguments = floor_runs(folder, pair_config)[which][1]
    return spec_from_args(build_parser().parse_args([*arguments, "--report", os.devnull]))


def warm_run(folder: Path, pair_config: Path, which: int, *, null: bool = False) -> None:
    """In this process: one untimed backtest of year run ``which`` (imports, the compiled
    kernels' first load), then one timed, printed as ``wall cpu model`` seconds, ``model``
    being the time in its kind's per-bar model (``update``: warm-up and stepping, the
    Engle-Granger tests included).  With ``null`` the kind's model is replaced by one that
    costs nothing and is never valid (so nothing trades): what is left is what the year's
    ticks, bars, clock, account and journal cost that kind's symbols."""
    from app.backtest import run_backtest

    spec = _year_spec(folder, pair_config, which)
    spent = [0.0]

    def timed_models(session: object) -> None:
        if null:
            null_models(session)
            return
        for sig in session.engine.signals.values():  # type: ignore[attr-defined]
            update = sig.model.update

            def timed(closes: np.ndarray, bar_s: int, update: object = update) -> object:
                t0 = time.perf_counter()
                try:
                    return update(closes, bar_s)  # type: ignore[operator]
                finally:
                    spent[0] += time.perf_counter() - t0
            sig.model.update = timed

    run_backtest(spec, on_session=null_models if null else None)
    t0, c0 = time.perf_counter(), time.process_time()
    run_backtest(spec, on_session=timed_models)
    print(time.perf_counter() - t0, time.process_time() - c0, spent[0])


#: Backtests of the year in one ``stepping_run`` process.
STEPPING_RUNS = 3


def stepping_run(folder: Path, pair_config: Path, which: int) -> None:
    """In this process: year run ``which`` ``STEPPING_RUNS`` times, printing for each its
    whole ``run_backtest`` and the part of it that steps the engine through the year
    (``engine.loop.run_sync``): what is left of a run once its files are read and its
    engine started, the same for every symbol count."""
    import app.backtest.run as backtest_run
    from app.backtest import run_backtest

    spec = _year_spec(folder, pair_config, which)
    stepping = backtest_run.run_sync
    spent: list[float] = []

    def timed_stepping(*args: object, **kwargs: object) -> None:
        t0 = time.perf_counter()
        try:
            stepping(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent.append(time.perf_counter() - t0)

    backtest_run.run_sync = timed_stepping  # type: ignore[assignment]
    wholes = []
    try:
        for _ in range(STEPPING_RUNS):
            t0 = time.perf_counter()
            run_backtest(spec)
            wholes.append(time.perf_counter() - t0)
    finally:
        backtest_run.run_sync = stepping  # type: ignore[assignment]
    print(" ".join(f"{w:.3f}/{s:.3f}" for w, s in zip(wholes, spent, strict=True)))


def year_stepping(folder: Path, rounds: int) -> None:
    """The year's stepping of each kind apart from its reading and start (``stepping_run``),
    ``rounds`` processes of each kind, alternating: whether two symbols step through the
    year faster than four once the files are read."""
    say_bytecode()
    with tempfile.TemporaryDirectory() as scratch:
        pair = Path(scratch) / "pair.toml"
        pair.write_text(PAIR_YEAR)
        labels = [label for label, _ in year_runs(folder, pair)]
        steps: dict[str, list[float]] = {label: [] for label in labels}
        for n in range(1, rounds + 1):
            for which in (0, 1) if n % 2 else (1, 0):
                done = subprocess.run([sys.executable, __file__, "--stepping-run", str(folder),
                                       str(pair), str(which)], cwd=ROOT, env=child_env(),
                                      capture_output=True, text=True, check=True)
                pairs = [p.split("/") for p in done.stdout.split()[-STEPPING_RUNS:]]
                steps[labels[which]] += [float(s) for _, s in pairs]
                print(f"year 2019 stepping, {labels[which]}, process {n}: "
                      + ", ".join(f"run_backtest {float(w):5.2f} s, stepping {float(s):5.2f} s"
                                  for w, s in pairs), flush=True)
        medians = [statistics.median(steps[label]) for label in labels]
        print(f"year 2019 stepping, median: pair {medians[0]:5.2f} s, TDI {medians[1]:5.2f} s, "
              f"pair / TDI {medians[0] / medians[1]:5.2f}", flush=True)


def year_warm(folder: Path, pair_config: Path, rounds: int) -> None:
    """The same two backtests once the program has started: in each of ``rounds`` rounds
    (alternating which goes first) each kind in a fresh process runs the year once untimed
    (imports, kernels) and once timed (``warm_run``).  Apart from the whole process, this
    is what a year of each costs, and how much of it is the kind's per-bar model: what is
    left with the model taken out is what the rest of a backtest (ticks, bars, orders,
    account, journal) costs either kind.  Each kind in its own process: run after the
    other in one process, the second measured slower by up to 0.5 s."""
    labels = [label for label, _ in year_runs(folder, pair_config)]
    env = child_env()
    runs: dict[str, list[tuple[float, ...]]] = {label: [] for label in labels}
    floors: dict[str, list[float]] = {label: [] for label in labels}
    for n in range(1, rounds + 1):
        for which in (0, 1) if n % 2 else (1, 0):
            for mode in ("model", "null"):
                done = subprocess.run([sys.executable, __file__, "--warm-run", str(folder),
                                       str(pair_config), str(which), mode], cwd=ROOT,
                                      env=env, capture_output=True, text=True, check=True)
                figures = tuple(float(v) for v in done.stdout.split()[-3:])
                if mode == "null":
                    floors[labels[which]].append(figures[0])
                else:
                    runs[labels[which]].append(figures)
    medians = []
    for label in labels:
        wall, cpu, model = (statistics.median(r[i] for r in runs[label]) for i in range(3))
        medians.append((wall, cpu, model))
        print(f"year 2019 warm, {label}: median {wall:6.2f} s wall {cpu:6.2f} s CPU over "
              f"{rounds} processes; its model's update {model:5.2f} s, the rest "
              f"{wall - model:6.2f} s")
    (pw, pc, pm), (tw, tc, tm) = medians
    print(f"year 2019 warm, pair / TDI: {pw / tw:5.2f} wall {pc / tc:5.2f} CPU; without either "
          f"model's update {(pw - pm) / (tw - tm):5.2f}; the pair with a model that cost "
          f"nothing against the TDI whole {(pw - pm) / tw:5.2f}", flush=True)
    pf, tf = (statistics.median(floors[label]) for label in labels)
    print(f"year 2019 warm, both models replaced by one that costs nothing and never "
          f"trades: pair {pf:5.2f} s, TDI {tf:5.2f} s, pair / TDI {pf / tf:5.2f} (the "
          f"floor of the ratio while the rest costs what it does)", flush=True)
    six_label = floor_runs(folder, pair_config)[2][0]
    six = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, __file__, "--warm-run", str(folder),
                               str(pair_config), "2", "null"], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        six.append(float(done.stdout.split()[-3]))
    sf = statistics.median(six)
    symbols = np.array([2.0, 4.0, 6.0])
    per_symbol, per_year = np.polyfit(symbols, np.array([pf, tf, sf]), 1)
    print(f"year 2019 warm, the same floor of {six_label}: {sf:5.2f} s; fitted over 2, 4 and "
          f"6 symbols, a year's floor is {per_year:5.2f} s whatever the symbols plus "
          f"{per_symbol:5.2f} s a symbol", flush=True)
    print(shared_costs_bound(pw, tw, pf, tf, per_symbol), flush=True)


def shared_costs_bound(pair_warm: float, tdi_warm: float, pair_floor: float,
                       tdi_floor: float, per_symbol: float) -> str:
    """The ratio the two warm years would have if every cost they share (the floor's part
    that is paid whatever the symbols) were nothing: each kind keeps its symbols' part of
    the floor (``per_symbol`` a symbol, from the fit) and its own model and trading (its
    warm year less its floor).  What no cut in the shared per-step work can get under."""
    pair_own, tdi_own = pair_warm - pair_floor, tdi_warm - tdi_floor
    pair_kept, tdi_kept = 2 * per_symbol + pair_own, 4 * per_symbol + tdi_own
    return (f"year 2019 warm, each kind's own costs: pair {pair_kept:5.2f} s (2 symbols "
            f"{2 * per_symbol:5.2f} s, its model and trading {pair_own:5.2f} s), TDI "
            f"{tdi_kept:5.2f} s (4 symbols {4 * per_symbol:5.2f} s, its model and trading "
            f"{tdi_own:5.2f} s); with every shared cost at nothing, pair / TDI would be "
            f"{pair_kept / tdi_kept:5.2f}")


def year(folder: Path, rounds: int) -> None:
    """Backtest 2019 with one pair and with the 4-symbol TDI cluster, each run its own
    process, alternating for ``rounds`` rounds: each round's times and ratios, the medians."""
    say_bytecode()
    with tempfile.TemporaryDirectory() as scratch:
        pair = Path(scratch) / "pair.toml"
        pair.write_text(PAIR_YEAR)
        (pair_label, pair_args), (tdi_label, tdi_args) = year_runs(folder, pair)
        times: dict[str, list[tuple[float, float]]] = {pair_label: [], tdi_label: []}
        summaries: dict[str, set[str]] = {pair_label: set(), tdi_label: set()}
        for n in range(1, rounds + 1):
            order = [(pair_label, pair_args), (tdi_label, tdi_args)]
            for label, arguments in order if n % 2 else order[::-1]:
                wall, cpu, summary = timed_process(arguments, Path(scratch) / f"{label[:4]}-{n}")
                times[label].append((wall, cpu))
                summaries[label].add(summary)
            (pw, pc), (tw, tc) = times[pair_label][-1], times[tdi_label][-1]
            print(f"year 2019, round {n}: pair {pw:6.2f} s wall {pc:6.2f} s CPU, TDI {tw:6.2f} s "
                  f"wall {tc:6.2f} s CPU; pair / TDI {pw / tw:5.2f} wall {pc / tc:5.2f} CPU",
                  flush=True)
        for label in (pair_label, tdi_label):
            walls, cpus = zip(*times[label], strict=True)
            print(f"year 2019, {label}: median {statistics.median(walls):6.2f} s wall, "
                  f"{statistics.median(cpus):6.2f} s CPU, {rounds} processes; "
                  f"{' | '.join(sorted(summaries[label]))}")
        for i, basis in enumerate(("wall", "CPU")):
            ratios = [p[i] / t[i] for p, t in zip(times[pair_label], times[tdi_label],
                                                  strict=True)]
            pair_median = statistics.median(p[i] for p in times[pair_label])
            tdi_median = statistics.median(t[i] for t in times[tdi_label])
            print(f"year 2019, pair / TDI ({basis}): median of the rounds' ratios "
                  f"{statistics.median(ratios):5.2f}, ratio of the medians "
                  f"{pair_median / tdi_median:5.2f}")
        year_warm(folder, pair, rounds)


if __name__ == "__main__":
    main()
