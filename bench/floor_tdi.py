"""The floor: the backtest's strategy as one vectorised numpy pass, to judge the product by.

A backtest of the product steps an engine minute by minute through a simulated terminal.
This pass computes the same trades from the same files without either, so that "the
product takes N times the floor" measures the cost of the product's machinery, not of the
strategy.  It is fast because it is vectorised, not because it does less:

- **reading**: each HistData M1 file parsed by ``pyarrow.csv`` (timestamps parsed in C),
  EST + 5 h = UTC, duplicate stamps dropped (the first kept), rows going back in time and
  rows whose prices are not finite, positive and ordered (H >= max(O, C), L <= min(O, C))
  dropped, as the product's reader drops them;
- **ticks**: the backtest's own "1 minute OHLC" ticks (``app.replay_feed.bars_to_ticks``:
  four per bar at +0/+20/+40/+59 s, asks from the backtest's spread model), clipped to the
  period; the bars before the start are the warm-up, as the simulator's history gives them
  to the engine (M30 rates, spreads rounded to whole points);
- **M30**: the signal bars from the ticks (close = the last bid, spread = the mean of
  ask - bid over the bucket's ticks, summed in tick order as the engine's kernel does,
  mid = close + spread / 2), a cluster bar where every member has one;
- **TDI**: ``engine.tdi.tdi_batch`` (the compiled batch kernel) over the warm-up and the
  period's bars, with what the provisional TDI of an M1 close reads per bar (the RC mean,
  the lagged ratio, the phi quantiles up to the bar);
- **entries** at the cluster bars: LONG below -E, SHORT above +E, the eigengap lock, the
  basket of ``engine.cluster.basket_exposures`` sized so that ``hard_stop_atr`` basket ATRs
  lose ``risk_per_trade`` of the equity (the simulator's equity: balance, floating P&L at
  bid/ask, swaps), lots rounded by ``engine.cluster.size_basket``, the rounding check; the
  cooldown after HS/TS, the open-risk cap, the currency cap and the lot cap; no entry
  while the simulated broker is closed;
- **exits**, vectorised over the minutes a basket is open: at each M1 close (a minute
  after every minute with a bar of any symbol, at the quotes of that moment) MR/OS on the
  provisional TDI (the current mids with the last bar's statistics, computed for the
  minutes a basket is open, as the engine does), then TP and HS on the engine's marked
  P&L; at each cluster bar MR, OS,
  TP, HS, TS and TO; an exit the closed market refuses waits, as the engine's does;
- **P&L** at the fills (ask to buy, bid to sell), the simulator's commission per lot and
  side, its swaps at each server midnight, its conversion to the account currency, in
  cents.

Left out (stated in the output too): the news filter (the backtest runs without a
calendar unless given one), the account and cluster daily-loss stops, the drawdown halt,
the margin-level floor and the broker's margin check, and the journal.  ``compare`` prints
the engine's refusals so that a gate the floor does not model is seen when it fired.

Run by hand from the repository's root (needs ../shared/data):

    python -m bench.floor_tdi                 # timing: Q2 2019 and the year, by stage
    python -m bench.floor_tdi compare         # the engine and the floor on a quiet span
    python -m bench.floor_tdi compare --whole # ... on the backtest's whole 2019 period
    python -m bench.floor_tdi ratio --from 2019-04-01 --to 2019-07-01   # alternating runs
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from app.backtest.spec import warmup_days
from app.replay_feed import ReplayConfig
from app.sessions import fit_clusters
from app.spreads import DEFAULT_SPREAD_MODEL
from bench.floor_market import (
    M1_MS,
    Quotes,
    add_m30,
    cluster_series,
    on_grid,
    read_folder,
    symbol_ticks,
)
from bench.floor_trades import DAY_MS, Exits, Floor, FloorTrade
from engine.config import EngineConfig, load_engine_config
from engine.fx import CurrencyConverter
from mt5bridge.sim.config import SimConfig

__all__ = ["FloorResult", "FloorTrade", "compare", "differences", "engine_rows", "floor_rows",
           "run_floor"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LEFT_OUT = ("news filter, daily-loss stops, drawdown halt, margin floor and the broker's "
            "margin check, journal")


# ------------------------------------------------------------------------------ results


@dataclass
class FloorResult:
    """The floor's trades, its wall time (``seconds``) and each stage's share of it."""

    trades: list[FloorTrade]
    seconds: float
    stages: dict[str, float]
    ticks: int
    clusters: tuple[str, ...]
    start_ms: int
    end_ms: int
    refusals: Counter = field(default_factory=Counter)
    #: Baskets still open at the end of the data (not among ``trades``, as in the backtest).
    open_at_end: int = 0


# ------------------------------------------------------------------------------ the pass


def period(bars: dict[str, np.ndarray], warm_days: int, start: datetime | None,
           end: datetime | None) -> tuple[int, int]:
    """The backtest's traded period (``app.backtest.data._period``): from the first UTC
    midnight after the warm-up, or ``start`` if later, to the shortest data's end."""
    first = max(int(b["time"][0]) for b in bars.values()) * 1000
    earliest = -(-(first + warm_days * DAY_MS) // DAY_MS) * DAY_MS
    data_end = min(int(b["time"][-1]) for b in bars.values()) * 1000 + M1_MS
    start_ms = earliest if start is None else max(int(start.timestamp() * 1000), earliest)
    end_ms = data_end if end is None else min(int(end.timestamp() * 1000), data_end)
    if end_ms <= start_ms:
        raise ValueError("empty period: the data does not cover it after the warm-up")
    return start_ms, end_ms


def run_floor(data_dir: Path, start: datetime | None = None, end: datetime | None = None,
              config: EngineConfig | None = None,
              spread_model: str = DEFAULT_SPREAD_MODEL) -> FloorResult:
    """The floor over the HistData files of ``data_dir`` and every configured cluster they
    feed, for the backtest's period of ``start``/``end`` (None: as the backtest's)."""
    clock = _Stages()
    bars = read_folder(Path(data_dir))
    clock.lap("reading")
    config = config or load_engine_config()
    # the period waits for the warm-up of every configured cluster (the backtest's rule);
    # the history the engine then reads is that of the clusters the data feeds
    start_ms, end_ms = period(bars, warmup_days(config), start, end)
    config = fit_clusters(config, set(bars))
    warm = warmup_days(config)
    replay = ReplayConfig(warmup_days=warm, spread_model=spread_model)
    symbols = list(bars)
    data = {s: symbol_ticks(s, bars[s], replay, start_ms, end_ms, warm * DAY_MS)
            for s in symbols}
    clock.lap("ticks")
    for s in symbols:
        add_m30(s, data[s])
    clock.lap("M30")
    made = [cluster_series(spec, i, symbols, data, start_ms, end_ms)
            for i, spec in enumerate(config.clusters)]
    clock.lap("TDI")
    # the engine acts at each M1 close (a minute after every minute with a bar of any
    # symbol) and at each cluster bar's close; the quotes of every such moment, at once
    m1_times = on_grid([d.minutes + M1_MS for d in data.values()], start_ms, end_ms)
    times = on_grid([m1_times, *(c.emitted for c in made)], start_ms, end_ms)
    quotes = Quotes(symbols, data, times)
    exits = Exits(quotes, m1_times, CurrencyConverter(symbols, SimConfig().currency), end_ms)
    clock.lap("exits")
    floor = Floor(config, made, quotes, exits)
    trades = floor.run()
    clock.lap("entries")
    clock.stages["entries"] -= floor.exit_seconds
    clock.stages["exits"] += floor.exit_seconds
    return FloorResult(trades, clock.total(), clock.stages,
                       int(sum(len(d.ticks_ms) for d in data.values())),
                       tuple(c.spec.name for c in made), start_ms, end_ms, floor.refusals,
                       floor.open_at_end)


class _Stages:
    """Wall time per stage of one pass."""

    def __init__(self) -> None:
        self.t0 = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self.last
        self.last = now

    def total(self) -> float:
        return self.last - self.t0


# ------------------------------------------------------------------------------ comparing


Row = tuple[str, str, int, int, str, float]


def engine_rows(trades: pd.DataFrame) -> list[Row]:
    """The backtest's trades as (cluster, direction, entry ms, exit ms, code, pnl)."""
    rows = []
    for r in trades.itertuples():
        exit_ms = -1 if r.exit_time is None or pd.isna(r.exit_time) else \
            int(pd.Timestamp(r.exit_time).timestamp() * 1000)
        rows.append((r.cluster, r.direction, int(pd.Timestamp(r.entry_time).timestamp() * 1000),
                     exit_ms, r.exit_code or "", float(r.pnl) if r.pnl is not None else math.nan))
    return sorted(rows, key=lambda row: (row[2], row[0]))


def floor_rows(trades: Sequence[FloorTrade]) -> list[Row]:
    return [(t.cluster, t.direction, t.entry_ms, t.exit_ms, t.code, t.pnl) for t in trades]


def differences(engine: list[Row], floor: list[Row], cents_off: float = 0.005) -> list[str]:
    """What differs between two trade lists: times and codes exactly, P&L to the cent."""
    out = []
    if len(engine) != len(floor):
        out.append(f"{len(engine)} engine trades, {len(floor)} floor trades")
    for i, (e, f) in enumerate(zip(engine, floor, strict=False)):
        same = e[:5] == f[:5] and (
            (math.isnan(e[5]) and math.isnan(f[5])) or abs(e[5] - f[5]) <= cents_off)
        if not same:
            out.append(f"trade {i + 1}: engine {_row_text(e)} | floor {_row_text(f)}")
    return out


def _row_text(row: Row) -> str:
    cluster, direction, entry, exit_ms, code, pnl = row
    closed = _stamp(exit_ms) if exit_ms >= 0 else "open"
    return (f"{cluster:<12} {direction:<5} {_stamp(entry)} {closed:<16} {code or '-':<3} "
            f"{pnl:>10.2f}")


def _stamp(ms: int) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M}"


def compare(data_dir: Path, start: datetime | None, end: datetime | None,
            config: EngineConfig | None = None) -> int:
    """The product's backtest and the floor on one span, side by side; 0 when they agree."""
    from app.backtest import BacktestSpec, run_backtest

    config = config or load_engine_config()
    t0 = time.perf_counter()
    result = run_backtest(BacktestSpec(config=config, source="files", paths=(data_dir,),
                                       start=start, end=end))
    product = time.perf_counter() - t0
    floor = run_floor(data_dir, start, end, config)
    engine, mine = engine_rows(result.trades), floor_rows(floor.trades)
    print(f"{_stamp(floor.start_ms)} .. {_stamp(floor.end_ms)}, clusters "
          f"{', '.join(floor.clusters)}; product {product:.1f} s, floor {floor.seconds:.2f} s")
    print(f"{'':4} {'engine':<68}| floor")
    for i in range(max(len(engine), len(mine))):
        left = _row_text(engine[i]) if i < len(engine) else ""
        right = _row_text(mine[i]) if i < len(mine) else ""
        print(f"{i + 1:>4} {left:<68}| {right}")
    print(f"engine refusals: {dict(sorted(result.stats.refusals.items()))}")
    print(f"floor refusals:  {dict(sorted(floor.refusals.items()))}")
    print(f"left out by the floor: {LEFT_OUT}")
    diffs = differences(engine, mine)
    print("the trades agree: entry and exit times and codes exactly, P&L to the cent"
          if not diffs else f"{len(diffs)} difference(s):\n  " + "\n  ".join(diffs))
    return 1 if diffs else 0


# ------------------------------------------------------------------------------ timing


def timing(data_dir: Path, runs: int) -> None:
    """Q2 2019 and the year: the median wall time of ``runs`` passes, by stage."""
    spans = {"Q2 2019": (datetime(2019, 4, 1, tzinfo=UTC), datetime(2019, 7, 1, tzinfo=UTC)),
             "year 2019": (None, None)}
    for label, (start, end) in spans.items():
        results = [run_floor(data_dir, start, end) for _ in range(runs)]
        best = sorted(results, key=lambda r: r.seconds)[len(results) // 2]
        stages = " | ".join(f"{k} {v:.2f} s" for k, v in best.stages.items())
        print(f"{label}, {len(best.clusters)} clusters ({', '.join(best.clusters)}): "
              f"{best.seconds:.2f} s (median of {runs}); {len(best.trades)} baskets; "
              f"{best.ticks:,} ticks")
        print(f"  {stages}")
    print(f"left out: {LEFT_OUT}")


def ratio(data_dir: Path, start: datetime | None, end: datetime | None, runs: int) -> None:
    """The product's backtest and the floor alternately on one span, in this process: each
    pair's wall times and the median ratio product / floor."""
    from app.backtest import BacktestSpec, run_backtest

    config = load_engine_config()
    ratios = []
    for i in range(runs):
        t0 = time.perf_counter()
        result = run_backtest(BacktestSpec(config=config, source="files", paths=(data_dir,),
                                           start=start, end=end))
        product = time.perf_counter() - t0
        floor = run_floor(data_dir, start, end, config)
        ratios.append(product / floor.seconds)
        diffs = differences(engine_rows(result.trades), floor_rows(floor.trades))
        print(f"run {i + 1}: product {product:.1f} s, floor {floor.seconds:.2f} s, "
              f"ratio {ratios[-1]:.1f}; {len(floor.trades)} baskets, "
              f"{'the same trades' if not diffs else f'{len(diffs)} trade difference(s)'}")
    print(f"median product / floor: {float(np.median(ratios)):.1f} ({runs} alternating runs)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", choices=["timing", "compare", "ratio"],
                        default="timing")
    parser.add_argument("--data", type=Path, default=DATA / "fx_m1")
    parser.add_argument("--runs", type=int, default=3, help="timing: passes per span")
    parser.add_argument("--from", dest="start", default="2019-05-06",
                        help="compare: the span's first day (UTC)")
    parser.add_argument("--to", dest="end", default="2019-06-01",
                        help="compare: the day after its last")
    parser.add_argument("--whole", action="store_true",
                        help="compare, ratio: the backtest's default period (all the data)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}: nothing to run")
        return 0
    start = None if args.whole else datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = None if args.whole else datetime.fromisoformat(args.end).replace(tzinfo=UTC)
    if args.mode == "compare":
        return compare(args.data, start, end)
    if args.mode == "ratio":
        ratio(args.data, start, end, args.runs)
        return 0
    timing(args.data, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
