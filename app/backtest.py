"""Backtests: the live engine, headless, on recorded or synthetic data, ending in a report.

The same ``Engine`` that trades live runs here against the simulated terminal, fed by a
replay of HistData M1 files (ticks generated the way MT5's tester does in "1 minute OHLC"
mode), of recorded ticks, of the market-data store, or of the synthetic market.  Nothing is
re-implemented for the backtest: fills, costs, swaps, risk limits and the news filter are
the engine's and the simulator's own.

Equity is marked at every UTC midnight (mark-to-market: open baskets at the current
quotes), which is the series the metrics use.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from app.sessions import Session, sim_session
from engine.config import EngineConfig
from engine.errors import UserError
from engine.events import EngineEvent, TdiUpdated
from engine.loop import run_sync
from engine.metrics import MetricsConfig, PerformanceReport, compute_metrics
from engine.model import RunMode
from engine.ports import EventCalendar
from engine.records import HistoryFilter

DAY_MS = 86_400_000
#: Most warm-up a backtest reads before its first traded bar, in calendar days.
WARMUP_DAYS = 35


def warmup_days(config: EngineConfig) -> int:
    """Calendar days of history that give every cluster a valid TDI and ATR at the start:
    the bars the slowest cluster needs, at 48 M30 bars a trading day and 5 trading days a
    week, plus a few days for holidays."""
    bars = max(c.tdi.warmup_bars + c.stops.atr_bars + 2 for c in config.clusters)
    return min(WARMUP_DAYS, math.ceil(bars / 48 * 7 / 5) + 4)


@dataclass(frozen=True)
class BacktestSpec:
    """What to backtest.  ``source`` is "files", "store" or "synthetic".

    - ``tick_mode``: "ohlc" replays M1 bars as four ticks each (MT5's "1 minute OHLC");
      "real" replays recorded ticks where there are any (bars elsewhere);
    - ``start``/``end``: the traded period (UTC); the data before ``start`` is the warm-up.
      Without ``start``, trading begins ``warmup_days(config)`` after the first data.
    """

    config: EngineConfig
    source: str
    paths: tuple[Path, ...] = ()
    store: Path | None = None
    seed: int = 0
    latency: bool = True
    start: datetime | None = None
    end: datetime | None = None
    tick_mode: str = "ohlc"
    calendar: EventCalendar | None = None
    trials: int = 1


@dataclass
class BacktestResult:
    spec: BacktestSpec
    metrics: PerformanceReport | None
    trades: pd.DataFrame
    equity: pd.DataFrame
    tdi: dict[str, pd.DataFrame]
    params: dict[str, Any]
    data_ranges: dict[str, dict[str, Any]]
    complete: bool
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: Any = None

    @property
    def final_balance(self) -> float:
        return float(self.equity["balance"].iloc[-1]) if len(self.equity) else math.nan


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _fit(config: EngineConfig, symbols: set[str]) -> EngineConfig:
    """The clusters the data can feed; none is an error naming what is missing."""
    fitting = [c.name for c in config.clusters if set(c.symbols) <= symbols]
    if not fitting:
        lacking = "; ".join(f"{c.name} needs {', '.join(sorted(set(c.symbols) - symbols))}"
                            for c in config.clusters)
        raise UserError(f"no configured cluster can trade these symbols: {sorted(symbols)} "
                        f"(no data: {lacking})")
    return config.with_clusters(fitting)


def _feed_for(spec: BacktestSpec, work: Path,
              notes: list[str]) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The replay feed and, per symbol, what the data covers."""
    from app.replay_feed import ReplayConfig, ReplayFeed
    from storage.importers import detect_file, import_file
    from storage.marketdata import BARS, MarketDataStore

    start_ms = _ms(spec.start) if spec.start else None
    end_ms = _ms(spec.end) if spec.end else None
    warm = warmup_days(spec.config)
    rconfig = ReplayConfig(warmup_days=warm, prefer="ticks" if spec.tick_mode == "real"
                           else "bars_m1")
    if spec.source == "store":
        assert spec.store is not None
        store = MarketDataStore(spec.store)
    else:
        missing = [p for p in spec.paths if not p.exists()]
        if missing:
            raise UserError(f"no such file or directory: {missing[0]}")
        files = [f for p in spec.paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])
                 if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in
                 (".csv", ".gz", ".txt", ".tsv")]
        if not files:
            raise UserError("no data files in " + ", ".join(str(p) for p in spec.paths))
        kinds = {f: detect_file(f).kind for f in files}
        if spec.tick_mode == "ohlc":
            # bars only: replay the files as they are (no import), ticks from each M1 bar
            bars = [f for f in files if kinds[f] == BARS]
            if not bars:
                raise UserError("--tick-mode ohlc needs M1 bar files; these hold ticks only "
                                "(use --tick-mode real)")
            return _files_feed(spec, bars, rconfig, start_ms, end_ms, warm, notes)
        store = MarketDataStore(work / "store")
        for f in files:
            summary = import_file(f, store)
            if summary.imported == 0 and summary.rows_read:
                raise UserError(f"{f}: no usable rows ({summary.rows_read} read)")
    ranges: dict[str, dict[str, Any]] = {}
    for kind in ("ticks", "bars_m1"):
        for symbol in store.symbols(kind):
            span = store.time_range(kind, symbol)
            if span is None:
                continue
            ranges[f"{symbol} {'ticks' if kind == 'ticks' else 'M1'}"] = {
                "first": _utc(span[0]).isoformat(), "last": _utc(span[1]).isoformat(),
                "rows": None, "source": str(spec.store or ", ".join(map(str, spec.paths)))}
    if not ranges:
        raise UserError("the data holds no ticks and no bars")
    _fit(spec.config, {key.split()[0] for key in ranges})
    start_ms, end_ms = _period(ranges, start_ms, end_ms, warm, notes)
    feed = ReplayFeed.from_store(store, start_msc=start_ms, end_msc=end_ms, config=rconfig)
    return feed, ranges


def _files_feed(spec: BacktestSpec, files: list[Path], rconfig: Any, start_ms: int | None,
                end_ms: int | None, warm: int,
                notes: list[str]) -> tuple[Any, dict[str, dict[str, Any]]]:
    """Replay M1 bar files directly; the period defaults to the data after the warm-up."""
    from app.replay_feed import ReplayFeed
    from storage.histdata import histdata_symbol

    ranges: dict[str, dict[str, Any]] = {}
    for f in files:
        symbol = histdata_symbol(f)
        if symbol is None:
            continue
        first_dt, last_dt, rows = _histdata_span(f)
        key = f"{symbol} M1"
        prev = ranges.get(key)
        first, last = first_dt.isoformat(), last_dt.isoformat()
        if prev:
            first, last = min(prev["first"], first), max(prev["last"], last)
        ranges[key] = {"first": first, "last": last,
                       "rows": rows + (prev["rows"] if prev else 0), "source": str(f)}
    if ranges:
        _fit(spec.config, {key.split()[0] for key in ranges})
        start_ms, end_ms = _period(ranges, start_ms, end_ms, warm, notes)
    feed = ReplayFeed.from_files(files, start_msc=start_ms, end_msc=end_ms, config=rconfig)
    if not ranges:
        ranges = {s: {"first": None, "last": None, "rows": None, "source": "files"}
                  for s in feed.symbols}
    if feed.end_msc is not None and start_ms is not None and feed.end_msc <= start_ms:
        raise UserError("empty period: the files hold no data after the warm-up")
    return feed, ranges


def _histdata_span(path: Path) -> tuple[datetime, datetime, int]:
    """First and last bar time (UTC) and line count of a HistData file, without parsing it
    (the replay parses it once; this only decompresses it)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    lines = raw.strip().splitlines()
    if not lines:
        raise UserError(f"{path}: empty file")

    def stamp(line: bytes) -> datetime:
        try:
            text = line.split(b";", 1)[0].decode()
            est = datetime.strptime(text, "%Y%m%d %H%M%S")
        except ValueError:
            raise UserError(f"{path}: not a HistData M1 line: {line[:40]!r}") from None
        return (pd.Timestamp(est) + pd.Timedelta(hours=5)).tz_localize("UTC").to_pydatetime()

    return stamp(lines[0]), stamp(lines[-1]), len(lines)


def _period(ranges: dict[str, dict[str, Any]], start_ms: int | None,
            end_ms: int | None, warm: int, notes: list[str]) -> tuple[int, int]:
    """The traded period: at the earliest ``warm`` days after every symbol has data.

    A symbol's data starts with the earlier of its bars and ticks (bars before recorded
    ticks are its warm-up) and ends with the later of the two.
    """
    first_by: dict[str, pd.Timestamp] = {}
    last_by: dict[str, pd.Timestamp] = {}
    for key, r in ranges.items():
        symbol = key.split()[0]
        if r["first"]:
            t = pd.Timestamp(r["first"])
            first_by[symbol] = min(first_by.get(symbol, t), t)
        if r["last"]:
            t = pd.Timestamp(r["last"])
            last_by[symbol] = max(last_by.get(symbol, t), t)
    firsts = list(first_by.values())
    lasts = list(last_by.values())
    earliest = _ms(max(firsts).to_pydatetime()) + warm * DAY_MS
    earliest = -(-earliest // DAY_MS) * DAY_MS  # the next UTC midnight
    if start_ms is None:
        start_ms = earliest
    elif start_ms < earliest:
        notes.append(f"trading starts {_utc(earliest):%Y-%m-%d}, not "
                     f"{_utc(start_ms):%Y-%m-%d}: the data starts {max(firsts):%Y-%m-%d %H:%M} "
                     f"UTC and the engine needs {warm} days of history first")
        start_ms = earliest
    data_end = _ms(min(lasts).to_pydatetime()) + 60_000
    end_ms = data_end if end_ms is None else min(end_ms, data_end)
    if end_ms <= start_ms:
        raise UserError(f"empty period: {_utc(start_ms):%Y-%m-%d} .. {_utc(end_ms):%Y-%m-%d} "
                        "(the data does not cover it after the warm-up)")
    return start_ms, end_ms


def _synthetic_feed(spec: BacktestSpec) -> tuple[Any, dict[str, dict[str, Any]], Any]:
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket

    start = spec.start or datetime(2024, 1, 8, tzinfo=UTC)
    end = spec.end or datetime(start.year + 1, start.month, start.day, tzinfo=UTC)
    if end <= start:
        raise UserError(f"--to {end:%Y-%m-%d} is not after --from {start:%Y-%m-%d}")
    symbols = spec.config.symbols
    market = SyntheticMarket(MarketConfig(seed=spec.seed, start=start, end=end,
                                          latency=spec.latency, symbols=_with_converters(symbols)))
    ranges = {s: {"first": start.isoformat(), "last": end.isoformat(), "rows": None,
                  "source": f"synthetic market, seed {spec.seed}"} for s in market.symbols}
    return market, ranges, market


def _with_converters(symbols: Sequence[str]) -> tuple[str, ...]:
    """The symbols plus whatever the account currency needs to value every currency."""
    from mt5bridge.sim.symbols import SYMBOL_SPECS

    ccys = {c for s in symbols for c in (s[:3], s[3:6])} - {"USD"}
    extra = [f"{c}USD" if f"{c}USD" in SYMBOL_SPECS else f"USD{c}" for c in sorted(ccys)]
    return tuple(dict.fromkeys([*symbols, *[e for e in extra if e in SYMBOL_SPECS]]))


def run_backtest(spec: BacktestSpec, journal_path: Path | None = None,
                 progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_session: Callable[[Session], None] | None = None) -> BacktestResult:
    """Run the engine over the spec's period and collect everything the report needs.

    ``on_session`` sees the assembled session before the run (the benchmark times its
    parts through it)."""
    from mt5bridge.sim import SimConfig, SimTerminal

    timings: dict[str, float] = {}
    early_notes: list[str] = []
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="backtest-"))
    calendar = spec.calendar
    if spec.source == "synthetic":
        feed, ranges, market = _synthetic_feed(spec)
        if calendar is None:
            from app.sessions import synthetic_calendar

            calendar = synthetic_calendar(market, feed.start_msc - 7 * DAY_MS,
                                          (feed.end_msc or feed.start_msc) + 7 * DAY_MS)
    else:
        feed, ranges = _feed_for(spec, work, early_notes)
    config = _fit(spec.config, set(feed.symbols))
    # daily equity marks are collected here; the journal needs one a day, not every 30 min
    config = dataclasses.replace(config, execution=dataclasses.replace(
        config.execution, equity_snapshot_minutes=1440))
    timings["reading"] = time.perf_counter() - t0
    sim = SimTerminal(feed=feed, config=SimConfig())
    sim.initialize()
    session = sim_session(config, sim, mode=RunMode.BACKTEST,
                          journal_path=journal_path or work / "journal.sqlite",
                          calendar=calendar)
    engine = session.engine
    tdi_rows: dict[str, list[tuple[datetime, float]]] = {n: [] for n in engine.signals}

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, TdiUpdated) and event.timeframe == "M30":
            tdi_rows[event.cluster].append((event.time, event.tdi))

    engine.bus.subscribe(on_event)
    if on_session is not None:
        on_session(session)
    t1 = time.perf_counter()
    engine.start()
    start_ms, end_ms = engine.now_msc, int(feed.end_msc)
    marks: list[tuple[int, float, float]] = []
    notes: list[str] = list(early_notes)
    complete = True

    def on_step(e: Any) -> None:
        if e.now_msc % DAY_MS == 0:
            a = e.terminal.account_info()
            marks.append((e.now_msc, float(a.balance), float(a.equity)))
            if progress is not None:
                progress((e.now_msc - start_ms) / max(end_ms - start_ms, 1))

    try:
        run_sync(engine, end_ms, on_step=on_step, should_stop=should_stop)
        if should_stop is not None and should_stop():
            complete = False
            notes.append(f"stopped by the user at {engine.now():%Y-%m-%d %H:%M} UTC")
    except KeyboardInterrupt:
        complete = False
        notes.append(f"interrupted at {engine.now():%Y-%m-%d %H:%M} UTC")
    a = session.terminal.account_info()
    marks.append((engine.now_msc, float(a.balance), float(a.equity)))
    open_at_end = len(engine.baskets)
    if open_at_end:
        notes.append(f"{open_at_end} basket(s) still open at the end: marked to market in the "
                     "equity, not counted among the closed baskets")
    engine.stop("end of backtest" if complete else "backtest stopped early")
    timings["engine"] = time.perf_counter() - t1
    result = _collect(spec, config, session, marks, tdi_rows, ranges, complete, notes, start_ms,
                      end_ms)
    result.timings = timings
    result.stats = engine.stats
    session.close()
    return result


def _collect(spec: BacktestSpec, config: EngineConfig, session: Session,
             marks: list[tuple[int, float, float]], tdi_rows: dict[str, list],
             ranges: dict[str, dict[str, Any]], complete: bool, notes: list[str],
             start_ms: int, end_ms: int) -> BacktestResult:
    journal = session.journal
    run_id = session.engine.run_id
    records = [b for b in journal.basket_history(HistoryFilter()) if b.opening.run_id == run_id]
    trades = pd.DataFrame([{
        "basket_id": b.basket_id, "cluster": b.opening.cluster,
        "direction": b.opening.direction.value, "entry_time": b.opening.opened_at,
        "exit_time": b.closing.closed_at if b.closing else None,
        "entry_tdi": b.opening.entry_tdi, "exit_tdi": b.closing.exit_tdi if b.closing else None,
        "exit_code": b.closing.exit_code.value if b.closing else "",
        "pnl": b.closing.pnl if b.closing else None,
        "costs": b.closing.costs if b.closing else None,
    } for b in records], columns=["basket_id", "cluster", "direction", "entry_time", "exit_time",
                                  "entry_tdi", "exit_tdi", "exit_code", "pnl", "costs"])
    daily = pd.DataFrame(marks, columns=["t", "balance", "equity"])
    daily["date"] = pd.to_datetime(daily["t"], unit="ms", utc=True)
    # the mark at 00:00 UTC closes the previous day
    daily["date"] = (daily["date"] - pd.Timedelta(milliseconds=1)).dt.normalize()
    equity = daily.groupby("date")[["balance", "equity"]].last()
    start_capital = float(session.sim.sim_config.balance) if hasattr(
        session.sim.sim_config, "balance") else 100_000.0
    metrics = None
    if len(equity) >= 2:
        metrics = compute_metrics(equity["equity"], start_capital, records,
                                  config=MetricsConfig(trials=max(spec.trials, 1)))
    else:
        notes.append("fewer than two days of equity: no metrics")
        complete = False
    tdi = {name: pd.DataFrame(rows, columns=["time", "tdi"]).set_index("time")
           for name, rows in tdi_rows.items()}
    params = {
        "source": spec.source, "tick_mode": spec.tick_mode, "seed": spec.seed,
        "period": {"from": _utc(start_ms).isoformat(), "to": _utc(end_ms).isoformat()},
        "start_capital": start_capital, "config_hash": config.config_hash(),
        "clusters": {c.name: {"symbols": list(c.symbols), "tau_f": c.tdi.tau_f,
                              "tau_s": c.tdi.tau_s, "tau_q": c.tdi.tau_q, "entry": c.entry,
                              "exit": c.exit_band, **dataclasses.asdict(c.stops)}
                     for c in config.clusters},
        "risk": dataclasses.asdict(config.risk),
        "news": {k: str(v) for k, v in dataclasses.asdict(config.news).items()},
        "execution": dataclasses.asdict(config.execution),
        "calendar": "none (news filter off)" if spec.calendar is None and
                    spec.source != "synthetic" else "given",
    }
    return BacktestResult(spec, metrics, trades, equity, tdi, params, ranges, complete, notes)


def write_outputs(result: BacktestResult, report_dir: Path) -> list[Path]:
    """metrics.json, trades.csv, equity.csv and report.html in ``report_dir``."""
    import json

    from app.report.html import write_report

    report_dir.mkdir(parents=True, exist_ok=True)
    out = []
    metrics = result.metrics.to_dict() if result.metrics is not None else {}
    metrics_doc = {"complete": result.complete, "notes": result.notes, "params": result.params,
                   "data_ranges": result.data_ranges, **metrics}
    path = report_dir / "metrics.json"
    path.write_text(json.dumps(metrics_doc, indent=2, default=str, allow_nan=False))
    out.append(path)
    path = report_dir / "trades.csv"
    result.trades.to_csv(path, index=False)
    out.append(path)
    path = report_dir / "equity.csv"
    result.equity.rename_axis("date").to_csv(path, date_format="%Y-%m-%d")
    out.append(path)
    title = "Backtest"
    out.append(write_report(report_dir / "report.html", title=title, metrics=metrics,
                            trades=result.trades, equity=result.equity, tdi=result.tdi,
                            params=result.params, data_ranges=result.data_ranges,
                            complete=result.complete, notes=result.notes))
    return out


class ProgressBar:
    """A one-line progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last = -1

    def __call__(self, fraction: float) -> None:
        pct = int(max(0.0, min(fraction, 1.0)) * 100)
        if pct == self._last or not self.tty:
            return
        self._last = pct
        bar = "#" * (pct // 4)
        sys.stderr.write(f"\r{self.label} [{bar:<25}] {pct:3d}%")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
