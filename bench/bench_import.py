"""Import and replay throughput of the market-data store.

Prints, for the real 2019 data:

- rows/s importing the HistData EURUSD M1 year file into a fresh store (read, validate,
  de-duplicate, write Parquet; the parsed-file cache off, so every run parses) next to a
  plain ``pandas.read_csv`` of the same file (parsing only: no timestamps, no checks, no
  writing), and the same for the Dukascopy tick file;
- ticks/s of the replay feed reading Parquet in M1-sized ``ticks_until`` steps: the EURUSD
  Dukascopy ticks, and seven symbols of M1 bars replayed as "1 minute OHLC" ticks.

Usage: ``python bench/bench_import.py [--data ../shared/data] [--repeat 3]``.  Each figure is
the best of ``--repeat`` runs (the machine is shared; the best run is the least disturbed).

``--reading`` measures the reading of HistData files instead (the backtest's "reading"):
``read_histdata_dir`` of the 7 year-files parsed (the parsed-file cache off), parsed and
written to an empty cache (the first read), and read from the cache (every later read),
next to ``pyarrow.csv`` and ``pandas.read_csv`` of the same files (parse only); then the
reading part of a Q2-2019 backtest of the 7 symbols (``app.backtest.data.load_market``, as
``run_backtest`` times it) with the cache off and warm.  The variants run alternately in one
process, ``--repeat`` rounds (default 5 here), and each figure is the median: the machine is
shared, and alternating spreads its load evenly over the variants.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.replay_feed import ReplayFeed
from storage import histdata, parsed_cache
from storage.importers import import_file
from storage.marketdata import MarketDataStore

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD", "XAUUSD")


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def replay_m1_steps(feed: ReplayFeed) -> int:
    delivered = 0
    while (next_time := feed.next_time()) is not None:
        delivered += len(feed.ticks_until((next_time // 60_000 + 1) * 60_000 - 1))
    return delivered


def bench_import(path: Path, kind: str, csv_options: dict, repeat: int) -> None:
    def run_import() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            return import_file(path, MarketDataStore(tmp), kind).imported

    seconds, rows = best_of(repeat, run_import)
    reference, frame = best_of(repeat, lambda: pd.read_csv(path, **csv_options))
    n = len(frame)  # type: ignore[arg-type]
    print(f"import {path.name}")
    print(f"  import_file      {seconds:7.3f} s  {n / seconds:>12,.0f} rows/s  ({rows:,} stored)")
    print(f"  pandas.read_csv  {reference:7.3f} s  {n / reference:>12,.0f} rows/s  (parse only)")
    print(f"  ratio import/read_csv time: {seconds / reference:.2f}")


def bench_replay(label: str, make: Callable[[], ReplayFeed], repeat: int) -> None:
    seconds, ticks = best_of(repeat, lambda: replay_m1_steps(make()))
    print(f"replay {label}: {ticks:,} ticks in {seconds:.3f} s = {ticks / seconds:,.0f} ticks/s")


def alternate(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each variant, the variants run in turn ``rounds`` times."""
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


@contextlib.contextmanager
def cache_off() -> Iterator[None]:
    os.environ[parsed_cache.CACHE_ENV] = "off"
    try:
        yield
    finally:
        del os.environ[parsed_cache.CACHE_ENV]


def clear_cache(files: list[Path]) -> None:
    """Remove the entries of these files (only theirs: the cache may hold others)."""
    for path in files:
        key = parsed_cache.content_key(path.read_bytes())
        for entry in parsed_cache.entries(path, key, histdata.CACHE_TAG):
            entry.unlink()


def bench_reading(m1_dir: Path, rounds: int) -> None:
    files = sorted(m1_dir.glob("DAT_ASCII_*_M1_*.csv*"))
    rows = sum(r.rows_read for r in histdata.read_histdata_dir(files).values())

    def parsed() -> None:
        with cache_off():
            histdata.read_histdata_dir(files)

    def first() -> None:
        clear_cache(files)
        histdata.read_histdata_dir(files)

    csv_options = {"sep": ";", "header": None,
                   "dtype": {0: str, 1: "float64", 2: "float64", 3: "float64", 4: "float64",
                             5: "float64"}}
    medians = alternate({
        "parsed (cache off)": parsed,
        "parsed + cache written": first,
        "from the cache": lambda: histdata.read_histdata_dir(files),
        "pyarrow.csv, parse only": lambda: [pacsv.read_csv(f, parse_options=pacsv.ParseOptions(
            delimiter=";"), read_options=pacsv.ReadOptions(autogenerate_column_names=True))
            for f in files],
        "pandas.read_csv, parse only": lambda: [pd.read_csv(f, **csv_options) for f in files],
    }, rounds)
    print(f"read_histdata_dir, {len(files)} files, {rows:,} rows (median of {rounds}, alternating)")
    for name, seconds in medians.items():
        print(f"  {name:30s} {seconds:7.3f} s  {rows / seconds:>12,.0f} rows/s")

    from app.backtest import BacktestSpec
    from app.backtest.data import load_market
    from engine.config import load_engine_config

    spec = BacktestSpec(config=load_engine_config(), source="files", paths=(m1_dir,),
                        start=datetime(2019, 4, 1, tzinfo=UTC),
                        end=datetime(2019, 7, 1, tzinfo=UTC))

    def q2_reading() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            load_market(spec, Path(tmp))

    def q2_parsed() -> None:
        with cache_off():
            q2_reading()

    medians = alternate({"cache off": q2_parsed, "cache warm": q2_reading}, rounds)
    print(f"reading of a Q2-2019 backtest, {len(files)} symbols (load_market; median of {rounds})")
    for name, seconds in medians.items():
        print(f"  {name:30s} {seconds:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--reading", action="store_true",
                        help="measure the reading of HistData files (and the cache)")
    args = parser.parse_args()
    m1_dir = args.data / "fx_m1"
    if args.reading:
        bench_reading(m1_dir, args.repeat or 5)
        return
    args.repeat = args.repeat or 3
    os.environ[parsed_cache.CACHE_ENV] = "off"  # the import's own parse, every time
    ticks_file = args.data / "fx_ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"

    bench_import(m1_dir / "DAT_ASCII_EURUSD_M1_2019.csv.gz", "bars_m1",
                 {"sep": ";", "header": None}, args.repeat)
    bench_import(ticks_file, "ticks", {}, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        store = MarketDataStore(tmp)
        import_file(ticks_file, store, "ticks")
        for symbol in SYMBOLS:
            import_file(m1_dir / f"DAT_ASCII_{symbol}_M1_2019.csv.gz", store, "bars_m1")
        bench_replay("EURUSD Dukascopy ticks (2 days)",
                     lambda: ReplayFeed.from_store(store, ["EURUSD"],
                                                   end_msc=1_549_411_200_000), args.repeat)
        start = int(pd.Timestamp("2019-09-01", tz="UTC").value // 10**6)
        end = int(pd.Timestamp("2019-12-01", tz="UTC").value // 10**6)
        bench_replay("7 symbols, M1 bars as OHLC ticks, 2019-09..11",
                     lambda: ReplayFeed.from_store(store, list(SYMBOLS), start, end), args.repeat)


if __name__ == "__main__":
    main()
