"""Backtest speed: a year of 7 symbols from M1 bars, and a real-tick replay.

Run by hand (needs ../shared/data):  .venv/bin/python bench/bench_backtest.py
1. All clusters that fit the 2019 HistData symbols, the whole year, ticks generated from M1
   bars in "1 minute OHLC" mode: wall time with its breakdown (reading the files, building
   bars, the engine's decisions, the simulated terminal, the journal).
2. The two days of real Dukascopy EURUSD ticks (the other symbols from M1 bars) with
   --tick-mode real: ticks per second through the whole stack, headless.
After 1, the floor (``bench/floor_tdi.py``: the same strategy as one vectorised numpy pass)
on the same files in the same process, and the ratio product / floor.

``--real-ticks N`` runs only 2, N times in one process, and prints the medians of the runs
after the first (the first loads the compiled kernels): the figure to compare between two
checkouts, run alternately.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.backtest import BacktestSpec, run_backtest
from app.sessions import Session
from engine.config import load_engine_config

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.ticks = 0

    def wrap(self, obj: Any, name: str, label: str, count_ticks: bool = False) -> None:
        real: Callable[..., Any] = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            out = real(*args, **kwargs)
            self.seconds[label] += time.perf_counter() - t0
            if count_ticks:
                self.ticks += len(out)
            return out

        setattr(obj, name, timed)

    def instrument(self, session: Session) -> None:
        engine = session.engine
        self.wrap(engine.driver, "step_to", "terminal", count_ticks=True)
        self.wrap(engine.market, "on_ticks", "bars")
        self.wrap(engine.market, "advance_clock", "bars")
        for name in ("record_request", "record_result", "record_deal", "open_basket",
                     "close_basket", "record_tdi", "record_refusal", "record_equity",
                     "record_cluster_state", "record_error"):
            self.wrap(session.journal, name, "journal")


def run(label: str, spec: BacktestSpec) -> float:
    """One backtest with its figures printed; its wall time."""
    return run_measured(label, spec)[0]


def run_measured(label: str, spec: BacktestSpec) -> tuple[float, float, float]:
    """One backtest with its figures printed: (wall s, ticks/s of stepping, ticks/s with
    the engine's start)."""
    timers = Timers()
    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    result = run_backtest(spec, journal_path=tmp / "journal.sqlite",
                          on_session=timers.instrument)
    wall = time.perf_counter() - t0
    reading = result.timings["reading"]
    start = result.timings["start"]
    loop = result.timings["engine"]
    stepping = loop - start
    inner = sum(timers.seconds.values())
    print(f"{label}: {wall:.1f} s wall; {result.stats.baskets_opened} baskets; "
          f"{timers.ticks:,} ticks; {timers.ticks / stepping:,.0f} ticks/s through the stack "
          f"({timers.ticks / loop:,.0f} with the engine's start)")
    print(f"  reading files {reading:.1f} s | engine start (warm-up, kernels' first load) "
          f"{start:.1f} s | terminal (ticks, fills) "
          f"{timers.seconds['terminal']:.1f} s | bars {timers.seconds['bars']:.1f} s | "
          f"journal {timers.seconds['journal']:.1f} s | engine decisions, TDI, risk "
          f"{stepping - inner:.1f} s")
    return wall, timers.ticks / stepping, timers.ticks / loop


def peak_rss_gb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


# -- the floor (bench/floor_tdi.py) ---------------------------------------------------------
def floor_ratio(product_seconds: float, spec: BacktestSpec) -> None:
    """The floor on the spec's files and clusters, and the product's wall time over it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the root holds bench/
    from bench.floor_tdi import run_floor

    floor = run_floor(spec.paths[0], spec.start, spec.end, spec.config)
    print(f"  floor (bench/floor_tdi.py, the same strategy vectorised): {floor.seconds:.1f} s; "
          f"{len(floor.trades)} baskets; product / floor {product_seconds / floor.seconds:.1f}x")
# -- end of the floor ------------------------------------------------------------------------


REAL_TICKS_LABEL = "2019-02-04/05, real EURUSD ticks (others from M1 bars), --tick-mode real"


def real_ticks_spec(config: Any) -> BacktestSpec:
    ticks = DATA / "fx_ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"
    return BacktestSpec(config=config, source="files", paths=(DATA / "fx_m1", ticks),
                        tick_mode="real", start=datetime(2019, 2, 4, tzinfo=UTC),
                        end=datetime(2019, 2, 6, tzinfo=UTC))


def real_ticks_only(runs: int, config: Any) -> None:
    """The real-tick replay ``runs`` times; medians of the runs after the first."""
    rates = [run_measured(f"{REAL_TICKS_LABEL} (run {k + 1})", real_ticks_spec(config))
             for k in range(runs)]
    later = rates[1:] or rates
    print(f"median of {len(later)} runs after the first: "
          f"{statistics.median(r[1] for r in later):,.0f} ticks/s through the stack "
          f"({statistics.median(r[2] for r in later):,.0f} with the engine's start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-ticks", type=int, default=0, metavar="N",
                        help="run only the real-tick replay, N times in this process")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"the 2019 data set is not present at {DATA}: nothing to measure")
        return
    config = load_engine_config()
    if args.real_ticks > 0:
        real_ticks_only(args.real_ticks, config)
        return
    year = BacktestSpec(config=config, source="files", paths=(DATA / "fx_m1",))
    wall = run("year 2019, 7 symbols, M1 bars -> OHLC ticks, all fitting clusters", year)
    print(f"  peak memory of the process after the year: {peak_rss_gb():.2f} GB (ru_maxrss)")
    floor_ratio(wall, year)
    run(REAL_TICKS_LABEL, real_ticks_spec(config))


if __name__ == "__main__":
    main()
