"""Running a backtest: the market, the session over it, the run, the result.

    spec -> load_market -> MarketData -> fit_clusters -> session -> trade -> Trading
         -> collect -> BacktestResult

Scratch files (a store for files that must be imported, the journal when none is given)
live in a temporary folder that is removed when the backtest ends, however it ends
(``app.backtest.scratch``: a sweep worker leaving without unwinding removes it first).

A run that fails midway (an exception inside the engine's loop, say a damaged month of
stored data) still gives a result: the days traded until then, marked incomplete, with a
note that says when and why, and the exception in ``BacktestResult.failure``.  The report
files are written from it as promised; the command line then exits non-zero.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.backtest.collect import Trading, collect
from app.backtest.data import MarketData, load_market
from app.backtest.legs import record_quote_values
from app.backtest.scratch import scratch_folder
from app.backtest.spec import DAY_MS, BacktestResult, BacktestSpec, warmup_days
from app.sessions import Session, cluster_gaps, fit_clusters, sim_session
from app.termination import stop_reason, stop_requested
from engine.config import EngineConfig
from engine.errors import UserError
from engine.events import EngineEvent, TdiUpdated
from engine.loop import run_sync
from engine.model import RunMode
from mt5bridge.sim.identity import market_account, market_key

#: The backtest terminal's tick window (``SimConfig.tick_history_max_ticks``): about six
#: hours of seven symbols' "1 minute OHLC" ticks.
BACKTEST_TICK_WINDOW = 100_000


def run_backtest(spec: BacktestSpec, journal_path: Path | None = None,
                 progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_session: Callable[[Session], None] | None = None,
                 step_every_minute: bool = False) -> BacktestResult:
    """Run the engine over the spec's period and collect everything the report needs.

    ``on_session`` sees the assembled session before the run (the benchmark times its
    parts through it).  The engine steps over the minutes in which nothing can happen
    (``Engine.next_step_after``'s ``batch_idle``); ``step_every_minute`` steps each one,
    the reference the tests hold that to."""
    t0 = time.perf_counter()
    with scratch_folder("backtest-") as work:
        market = load_market(spec, work)
        config = _traded_config(spec.config, market)
        reading = time.perf_counter() - t0
        session = _open_session(config, market, journal_path or work / "journal.sqlite",
                                market_key(spec.paths, spec.store, spec.seed),
                                spec.commission_scale)
        try:
            tdi = _record_tdi(session)
            quote_values = record_quote_values(session)  # legs.csv's spread cost
            if on_session is not None:
                on_session(session)
            t1 = time.perf_counter()
            trading = _trade(session, int(market.feed.end_msc), tdi, progress, should_stop,
                             batch=not step_every_minute)
            trading.quote_values = quote_values
            engine_seconds = time.perf_counter() - t1
            result = _collected(spec, config, session, market, trading)
        finally:
            session.close()  # before the folder goes: no open handle on the journal
    result.timings = {"reading": reading, "engine": engine_seconds,
                      "start": trading.start_seconds}
    result.stats = session.engine.stats
    return result


def _collected(spec: BacktestSpec, config: EngineConfig, session: Session, market: MarketData,
               trading: Trading) -> BacktestResult:
    """The result; when a failed run cannot even be collected, the failure is the error."""
    try:
        return collect(spec, config, session, market, trading)
    except Exception:
        if trading.failure is None:
            raise
        raise trading.failure  # noqa: B904 - the collect error is kept as its context


def _traded_config(config: EngineConfig, market: MarketData) -> EngineConfig:
    """The clusters the data can feed, with daily equity snapshots; the others are named
    in the notes (``--clusters`` has already narrowed the config to the chosen ones)."""
    symbols = set(market.feed.symbols)
    market.notes.extend(cluster_gaps(config, symbols))
    config = fit_clusters(config, symbols)
    # daily equity marks are collected here; the journal needs one a day, not every 30 min
    return dataclasses.replace(config, execution=dataclasses.replace(
        config.execution, equity_snapshot_minutes=1440))


def _open_session(config: EngineConfig, market: MarketData, journal_path: Path,
                  key: str, commission_scale: float = 1.0) -> Session:
    """The session over the market; the simulator is the backtest account of ``key``
    (``mt5bridge.sim.identity``), its commission per lot times ``commission_scale``, keeping
    enough M1 bars to serve the clusters' warm-up (its default "max bars in chart", 100,000
    M1 bars, is about 100 calendar days).  Its tick window is kept to
    ``BACKTEST_TICK_WINDOW`` ticks: nothing in a backtest asks the terminal for past ticks
    (the engine reads each step's ticks and the terminal's bars), and a three-day window of
    a year's ticks costs hundreds of megabytes and a large copy at every eviction."""
    from mt5bridge.sim import SimTerminal

    history = (warmup_days(config) + 1) * 1440
    account = dataclasses.replace(market_account("backtest", key),
                                  tick_history_max_ticks=BACKTEST_TICK_WINDOW)
    if history > account.max_bars:
        account = dataclasses.replace(account, max_bars=history)
    if commission_scale != 1.0:  # BacktestSpec.commission_scale (app/audit)
        account = dataclasses.replace(
            account, commission_per_lot=account.commission_per_lot * commission_scale)
    sim = SimTerminal(feed=market.feed, config=account)
    sim.initialize()
    return sim_session(config, sim, mode=RunMode.BACKTEST, journal_path=journal_path,
                       calendar=market.calendar)


def _record_tdi(session: Session) -> dict[str, list[Any]]:
    """Every cluster's TDI at the close of its signal bars (M30 by default) as the engine
    publishes it, for the report's charts ("M1" would be a provisional value)."""
    rows: dict[str, list[Any]] = {name: [] for name in session.engine.signals}

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, TdiUpdated) and event.timeframe != "M1":
            rows[event.cluster].append((event.time, event.tdi))

    session.engine.bus.subscribe(on_event)
    return rows


def _trade(session: Session, end_ms: int, tdi: dict[str, list[Any]],
           progress: Callable[[float], None] | None,
           should_stop: Callable[[], bool] | None, batch: bool = True) -> Trading:
    """Start the engine, run it to ``end_ms`` marking equity at every UTC midnight, stop it."""
    engine = session.engine
    engine.refresh_snapshots = False  # nobody watches a backtest's snapshots while it runs
    started = time.perf_counter()
    engine.start()
    trading = Trading(start_ms=engine.now_msc, end_ms=end_ms, tdi=tdi,
                      start_seconds=time.perf_counter() - started)
    trading.notes.extend(_cold_clusters(engine))
    span = max(end_ms - trading.start_ms, 1)

    def on_step(e: Any) -> None:
        trading.excursions.observe(e)  # each basket's MAE and MFE (app/backtest/excursions)
        if e.now_msc % DAY_MS == 0:
            if (requested := stop_requested()) is not None:
                raise requested  # a stop signal whose exception was swallowed on its way
            a = e.terminal.account_info()
            trading.marks.append((e.now_msc, float(a.balance), float(a.equity)))
            if progress is not None:
                progress((e.now_msc - trading.start_ms) / span)

    try:
        run_sync(engine, end_ms, on_step=on_step, should_stop=should_stop, batch_idle=batch)
        if should_stop is not None and should_stop():
            _incomplete(trading, f"stopped by the user at {engine.now():%Y-%m-%d %H:%M} UTC")
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM/SIGHUP (app.termination)
        trading.interrupted = exc
        _incomplete(trading, f"{stop_reason(exc)} at {engine.now():%Y-%m-%d %H:%M} UTC")
    except Exception as exc:  # the days already traded still make a report, marked incomplete
        trading.failure = exc
        _incomplete(trading, f"failed at {engine.now():%Y-%m-%d %H:%M} UTC: "
                             f"{failure_text(exc)}")
    _finish(session, trading)
    return trading


def _incomplete(trading: Trading, reason: str) -> None:
    """The run did not reach its end: why, among its notes and on its own."""
    trading.complete = False
    trading.incomplete_reason = reason
    trading.notes.append(reason)


def _cold_clusters(engine: Any) -> list[str]:
    """A line for each cluster the history before the traded period did not warm up: its
    TDI then warms up inside the period, and the report says so."""
    notes = []
    for name, sig in engine.signals.items():
        if sig.last_point is None or not sig.last_point.valid:
            notes.append(f"{name}: the history before {engine.now():%Y-%m-%d} held {sig.bars} "
                         f"{sig.timeframe} bars, not the {sig.spec.tdi.warmup_bars + 1} its TDI "
                         "needs: it warms up inside the traded period")
    return notes


def _end_reason(trading: Trading) -> str:
    """The run's end as its journal states it: a stop signal by its name, as ``run``'s."""
    if trading.complete:
        return "end of backtest"
    if trading.failure is not None:
        return "backtest failed"
    if trading.interrupted is not None:
        return f"backtest {stop_reason(trading.interrupted)}"
    return "backtest stopped early"


def _finish(session: Session, trading: Trading) -> None:
    """The last equity mark, a note on baskets left open, and the engine stopped.

    After a failure the terminal or the journal may be what failed: what cannot be read
    is left out and said so, and the failure that stopped the run stays the one reported.
    """
    engine = session.engine
    try:
        a = session.terminal.account_info()
        trading.marks.append((engine.now_msc, float(a.balance), float(a.equity)))
        open_at_end = len(engine.baskets)
        if open_at_end:
            trading.notes.append(f"{open_at_end} basket(s) still open at the end: marked to "
                                 "market in the equity, not counted among the closed baskets")
        engine.stop(_end_reason(trading))
    except Exception as exc:
        if trading.failure is None:
            raise
        trading.notes.append(f"the engine could not be stopped cleanly: {failure_text(exc)}")


def failure_text(exc: BaseException) -> str:
    """A failure in one line: the message of an error the user can act on, else its type."""
    text = " ".join(str(exc).split())
    return text if isinstance(exc, UserError) and text else \
        f"{type(exc).__name__}: {text}" if text else type(exc).__name__
