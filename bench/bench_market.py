"""Throughput of the synthetic market, and the size of its tradable disalignment.

    .venv/bin/python bench/bench_market.py            # bulk bars and tick delivery
    .venv/bin/python bench/bench_market.py --edge     # also: variance ratios per cluster

Figures printed:
- a year of M1 bars for 10 and for 16 symbols through ``generate_m1_bars`` (seconds, bars/s);
- ticks delivered by ``SyntheticMarket.ticks_until`` called once per virtual minute, as a
  terminal on a minute clock would (ticks/s, calls/s), after the warm-up history;
- with ``--edge``: the 4-hour variance ratio of every pairwise log-ratio in the product's
  default clusters on six months of M30 mid closes, with latency on, off, and turned into
  a pure lag (``latency_strength=-1``).  Below 1 = the disalignment reverts (tradable by a
  mean-reversion engine), about 1 = random walk, above 1 = trending.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mt5bridge.sim.market import (
    ALL_SYMBOLS,
    MarketConfig,
    SyntheticMarket,
    generate_m1_bars,
    generate_m1_frames,
)

START = datetime(2019, 1, 7, tzinfo=UTC)
DEFAULT_CLUSTERS = (
    "EURUSD,GBPUSD,AUDUSD,USDCHF", "EURUSD,USDJPY,USDCHF,USDCAD", "XAUUSD,EURUSD,USDCHF,USDJPY",
    "EURUSD,GBPUSD,USDJPY,USDCHF,USDCAD,AUDUSD", "EURUSD,EURGBP,EURJPY,EURCHF",
    "USDJPY,EURJPY,GBPJPY,AUDJPY", "GBPUSD,EURGBP,GBPJPY,GBPCHF", "AUDUSD,NZDUSD,AUDNZD,AUDCAD",
)


def bench_bars(n_symbols: int, days: int) -> None:
    config = MarketConfig(symbols=ALL_SYMBOLS[:n_symbols], start=START, warmup_days=0,
                          end=START + timedelta(days=days))
    began = time.perf_counter()
    bars = generate_m1_bars(config)
    seconds = time.perf_counter() - began
    count = sum(len(b) for b in bars.values())
    print(f"M1 bars, {n_symbols:2d} symbols, {days} days: {count:,} bars in {seconds:.2f} s "
          f"= {count / seconds:,.0f} bars/s")


def bench_ticks(days: int, ticks_per_minute: float) -> None:
    config = MarketConfig(start=START, end=START + timedelta(days=days),
                          ticks_per_minute=ticks_per_minute)
    market = SyntheticMarket(config)
    began = time.perf_counter()
    market.warmup_bars()
    warmup = time.perf_counter() - began
    assert market.end_msc is not None
    began = time.perf_counter()
    delivered = calls = 0
    for t in range(market.start_msc, market.end_msc, 60_000):
        delivered += len(market.ticks_until(t))
        calls += 1
    seconds = time.perf_counter() - began
    print(f"ticks_until per minute, 16 symbols, {days} days, {ticks_per_minute:g} ticks/min: "
          f"{delivered:,} ticks in {calls:,} calls, {seconds:.2f} s = {delivered / seconds:,.0f} "
          f"ticks/s, {calls / seconds:,.0f} calls/s (warm-up of 35 days: {warmup:.2f} s)")


def _variance_ratios(frames: dict[str, pd.DataFrame], cluster: str, horizon: int = 8,
                     ) -> list[float]:
    symbols = cluster.split(",")
    closes = pd.DataFrame({
        s: (frames[s]["close"] + frames[s]["spread"] / 2).resample("30min").last()
        for s in symbols
    }).dropna()
    logs = np.log(closes)
    out = []
    for i, a in enumerate(symbols):
        for b in symbols[i + 1:]:
            x = (logs[a] - logs[b]).to_numpy()
            out.append(float(np.var(x[horizon:] - x[:-horizon]) / (horizon * np.var(np.diff(x)))))
    return out


def bench_edge(days: int) -> None:
    variants = {"latency on": {}, "latency off": {"latency": False},
                "pure lag": {"latency_strength": -1.0}}
    table = {}
    for label, overrides in variants.items():
        config = MarketConfig(seed=5, start=START, warmup_days=0,
                              end=START + timedelta(days=days), **overrides)  # type: ignore[arg-type]
        frames = generate_m1_frames(config)
        table[label] = {c: _variance_ratios(frames, c) for c in DEFAULT_CLUSTERS}
    print(f"\n4-hour variance ratio of pairwise log-ratios, M30, {days} days (mean [min-max]):")
    print(f"{'cluster':44s}" + "".join(f"{label:>20s}" for label in variants))
    for cluster in DEFAULT_CLUSTERS:
        cells = "".join(
            f"{np.mean(v):>8.2f} [{min(v):.2f}-{max(v):.2f}]"
            for v in (table[label][cluster] for label in variants))
        print(f"{cluster:44s}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of bulk M1 bars")
    parser.add_argument("--tick-days", type=int, default=28, help="days of tick delivery")
    parser.add_argument("--ticks-per-minute", type=float, default=8.0)
    parser.add_argument("--edge", action="store_true", help="also print variance ratios")
    args = parser.parse_args()
    for n in (10, 16):
        bench_bars(n, args.days)
    bench_ticks(args.tick_days, args.ticks_per_minute)
    if args.edge:
        bench_edge(182)
    return 0


if __name__ == "__main__":
    sys.exit(main())
