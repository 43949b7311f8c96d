"""Import and replay throughput of the market-data store.

Prints, for the real 2019 data:

- rows/s importing the HistData EURUSD M1 year file into a fresh store (read, validate,
  de-duplicate, write Parquet) next to a plain ``pandas.read_csv`` of the same file (parsing
  only: no timestamps, no checks, no writing), and the same for the Dukascopy tick file;
- ticks/s of the replay feed reading Parquet in M1-sized ``ticks_until`` steps: the EURUSD
  Dukascopy ticks, and seven symbols of M1 bars replayed as "1 minute OHLC" ticks.

Usage: ``python bench/bench_import.py [--data ../shared/data] [--repeat 3]``.  Each figure is
the best of ``--repeat`` runs (the machine is shared; the best run is the least disturbed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.replay_feed import ReplayFeed
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    m1_dir = args.data / "fx_m1"
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
