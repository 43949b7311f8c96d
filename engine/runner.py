"""The trading engine: bars in, baskets out, one code path for every mode.

``Engine.step(t)`` advances the market to ``t`` (the driver hands over the ticks), closes
M1 bars and the bars of the clusters' signal timeframes (M30 by default), updates each
cluster's TDI at the close of its signal bar, decides entries and exits, and checks the
fast exits (TP, HS, provisional MR/OS) at every M1 close.  Replay and
backtest step in a plain loop (``engine.loop``), demo and live on a worker thread.

Nothing here imports Qt, SQL or MetaTrader5: the engine sees a ``Terminal`` (the
MetaTrader5 surface with UTC helpers), a ``MarketDriver`` and a ``Journal``.

The engine itself is the clock, the step loop and the state they share; its collaborators
each own one job: ``engine.entries`` (gates, sizing, opening), ``engine.exits`` (closing,
pending exits), ``engine.manual`` (the trader's commands), ``engine.startup`` (symbol
specifications, warm-up), ``engine.reconcile`` (the restart plan) and ``engine.snapshot``
(what readers on other threads see).  Other threads use only ``submit`` and the read
methods at the end of the class.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from engine import commands as cmd
from engine.baskets import Basket, m1_exit, m30_exit
from engine.calendar import EconomicEvent
from engine.cluster import ClusterSpec, entry_direction
from engine.config import EngineConfig
from engine.entries import Entries
from engine.errors import DataError
from engine.events import (
    NOTICES,
    EngineEvent,
    EquityUpdated,
    EventBus,
    LogLine,
    NewsBlackout,
    RiskStateChanged,
    Subscriber,
    TdiUpdated,
)
from engine.execution import Executor
from engine.exits import Exits
from engine.fx import CurrencyConverter
from engine.hedging import Hedger
from engine.held_minutes import HeldMinutes, holds_more_than_baskets, next_due_msc
from engine.instruments import news_currencies
from engine.kinds.base import KindPoint
from engine.kinds.basis_roll import auto_roll_due, note_trade_mode
from engine.manual import ManualCommands
from engine.market import M1_MS, M30_MS, ClosedBars, MarketState, utc
from engine.model import ClusterState, Direction, ExitCode, OrderPurpose, RunMode
from engine.news import NewsFilter
from engine.ports import AccountFigures, EventCalendar, Journal, MarketDriver, Terminal
from engine.reconcile import ReconcileInputs, ReconcilePlan, reconcile
from engine.records import (
    AccountIdentity,
    BasketClose,
    ClusterStateChange,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    HistoryFilter,
    NewsAction,
    OrderResult,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from engine.risk import RiskAction, RiskManager
from engine.signals import ClusterSignal, kind_view, tdi_diagnostics
from engine.snapshot import (
    ClusterInfo,
    ClusterView,
    CommissionPaid,
    EngineSnapshot,
    PositionView,
    QuoteView,
    RunStats,
    SnapshotCache,
    account_view,
    basket_pnl_split,
    effective_state,
    position_views,
    quote_views,
)
from engine.startup import SymbolBook, account_identity, load_symbols, warm_up

#: The view types are the engine's public vocabulary for readers; they live in
#: ``engine.snapshot`` and are importable from here as before.
__all__ = [
    "ClusterInfo",
    "ClusterView",
    "Engine",
    "EngineSnapshot",
    "PositionView",
    "QuoteView",
    "RunStats",
]

log = logging.getLogger(__name__)
_notices = logging.getLogger(NOTICES)
_notices.setLevel(logging.INFO)

#: A blackout window for display: (start, end, the event that causes it).
BlackoutWindow = tuple[datetime, datetime, EconomicEvent]


class Engine:
    """One trading session's engine: owns the market state, the clusters' signals, the open
    baskets and the clock, and steps them forward (see the module docstring)."""

    def __init__(self, config: EngineConfig, terminal: Terminal, driver: MarketDriver,
                 journal: Journal, *, mode: RunMode = RunMode.BACKTEST,
                 calendar: EventCalendar | None = None, run_id: str | None = None,
                 account_currency: str = "USD", account: AccountIdentity | None = None,
                 epoch: str = "") -> None:
        self.config = config
        self.terminal = terminal
        self.driver = driver
        self.journal = journal
        self.mode = RunMode(mode)
        self.run_id = run_id or f"{self.mode.value}-{uuid.uuid4().hex[:8]}"
        #: The account this run trades (None: asked of the terminal at start) and its epoch
        #: (``engine.records.RunStart``): which open baskets reconciliation may touch.
        self.account = account
        self.epoch = epoch
        #: Lines for the trader, logged when the engine starts (which journal a session
        #: chose, for one): the console subscribes before the start, not before the build.
        self.start_notes: list[str] = []
        self.bus = EventBus()
        self.stats = RunStats()
        self.market = MarketState(driver.symbols, {c.timeframe for c in config.clusters})
        missing = [s for s in config.symbols if s not in self.market.index]
        if missing:
            raise DataError(f"the market has no data for {', '.join(missing)}, which the "
                            f"configured clusters trade")
        self.fx = CurrencyConverter(driver.symbols, account_currency)
        self.signals = {spec.name: ClusterSignal(spec, self.market.index,
                                                 config.factor_series(spec))
                        for spec in config.clusters}
        self.risk = RiskManager(config.risk, list(self.signals))
        self.news = NewsFilter(config.news, calendar)
        self.now_msc = driver.now_msc()
        self._now_cache: tuple[int, datetime] = (-1, utc(0))  # ``now``'s
        self.executor = Executor(terminal, journal, config.execution, self.now, self.run_id)
        self.baskets: dict[str, Basket] = {}
        self.symbol_book = SymbolBook()
        self.entries = Entries(self)
        self.exits = Exits(self)
        self.manual = ManualCommands(self)
        #: EXTERNAL convertible bonds and their stock CFD hedge (engine.hedging).
        self.hedging = Hedger(self)
        self.held = HeldMinutes(self)  # a backtest's quiet minutes with baskets open
        self._blackout: dict[str, datetime | None] = dict.fromkeys(self.signals)
        #: Regime-watching clusters whose regime is broken now (``_regime_locks``).
        self._regime_broken: dict[str, bool] = {}
        #: A basis contract's trade mode at its cluster's last bar (``trade_mode``).
        self._trade_modes: dict[str, str] = {}
        #: Daily-bar entries refused by a closed market, waiting (``_retry_deferred``).
        self._deferred: dict[str, tuple[KindPoint, Direction]] = {}
        #: Regime watchers see a bar close first: a broken regime pauses its targets.
        self._bar_order = sorted(self.signals.values(), key=lambda sig: sig.model.trades)
        self._account: Any = None
        self._balance = self._equity = self._margin_level = math.nan
        self._connected = True
        self._disconnected_at: datetime | None = None
        #: The Algo Trading switch (``commands.SetAutomation``): automatic entries on/off.
        self.automation = True
        self._last_equity_journal = -1
        self._reconciled = False
        #: Days of history to load beyond what the TDI needs (the console shows it).
        self.history_days = 0
        #: Keep a day of per-minute mids for the console's M1 chart (off headless).
        self.keep_m1_history = False
        #: Rebuild the snapshot every ``REFRESH_S`` while stepping (a backtest reads none
        #: while it runs: ``snapshot()`` still builds one on demand).
        self.refresh_snapshots = True
        self._account_figures: Callable[[], AccountFigures | None] | None = getattr(
            terminal, "account_figures", None)
        #: Each cluster's news currencies (``cluster_currencies``), once the symbols are known.
        self._currencies: dict[str, frozenset[str]] = {}
        self._snapshots = SnapshotCache(self._build_snapshot)
        self.started = False

    # ------------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        """The engine's clock as an aware UTC datetime, built once per clock value (a step
        asks for it a few times: risk, news, journal rows, events)."""
        msc = self.now_msc
        cached = self._now_cache
        if cached[0] != msc:
            cached = self._now_cache = (msc, utc(msc))
        return cached[1]

    def publish(self, event: EngineEvent) -> None:
        self.bus.publish(event)

    def log(self, level: str, text: str, notice: bool = False) -> None:
        """Log ``text`` and publish it; ``notice``: an INFO line the command line prints as
        it prints warnings (``engine.events.NOTICES``: the end of an outage it warned of)."""
        logger = _notices if notice else log
        getattr(logger, level.lower(), logger.info)(text)
        self.publish(LogLine(self.now(), level, text))

    def submit(self, command: cmd.Command) -> None:
        """Queue a manual command (any thread); it runs at the start of the next step."""
        self.manual.submit(command)

    def journal_error(self, component: str, message: str, detail: str = "") -> None:
        self.journal.record_error(ErrorRecord(self.now(), component, message, detail,
                                              self.run_id))
        self.log("ERROR", f"{component}: {message}")

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Warm up from history, restore locks, reconcile; entries wait for all three."""
        self.now_msc = self.driver.now_msc()
        if self.account is None:
            self.account = account_identity(self.terminal, self.mode)
        self.journal.start_run(RunStart(self.run_id, self.mode, self.now(),
                                        self.config.config_hash(), {"engine": "0.1.0"},
                                        account=self.account, epoch=self.epoch))
        self.symbol_book = load_symbols(self.terminal, self.market, self.now_msc, self.fx)
        for sig in self.signals.values():  # a kind reading the broker's terms (a deal's swaps)
            sig.model.use_symbol_info({s: self.terminal.symbol_info(s) for s in sig.symbols})
        warm_up(self.terminal, self.market.symbols, self.signals, self.now_msc,
                self.history_days, lambda text: self.log("WARNING", text), self.market)
        for sig in self.signals.values():  # a basis contract's trade mode, for the console
            note_trade_mode(self.terminal, sig, self._trade_modes)
        self._restore_risk()
        self._apply_reconciliation(reconcile(ReconcileInputs(
            self.terminal, self.journal, {name: s.spec for name, s in self.signals.items()},
            {name: s.bars for name, s in self.signals.items()},
            self.symbol_book.contract_sizes(), self.executor.comment_for, self.now(),
            epoch=self.epoch)))
        self._reconciled = True
        self.hedging.restore()  # the EXTERNAL bonds the journal holds (engine.hedging)
        self.refresh_account()
        self.started = True
        self.log("INFO", f"engine started ({self.mode.value}, {len(self.signals)} clusters, "
                         f"run {self.run_id})")
        for note in self.start_notes:
            self.log("WARNING", note)

    def _restore_risk(self) -> None:
        """Locks survive a restart on the same account epoch (a broker's account, a served
        simulator still running); the equity peak and today's closed baskets only live (a
        new simulator's account starts afresh: an older peak would read as a drawdown)."""
        peak = None
        recent: list = []
        if self.mode is RunMode.LIVE:
            since = self.now() - timedelta(days=90)
            peaks = [e.equity for e in self.journal.equity_series(since=since)]
            peak = max(peaks) if peaks else None
            recent = self.journal.basket_history(
                HistoryFilter(since=self.now() - timedelta(days=3)))
        locks = self.journal.cluster_states(epoch=self.epoch, at=self.now())
        self.risk.restore(locks.values(), peak, now=self.now(), baskets=recent)

    def _apply_reconciliation(self, plan: ReconcilePlan) -> None:
        """Do what reconciliation decided, in the plan's order."""
        for text in plan.warnings:
            self.log("WARNING", text)
        for record in plan.journal:
            self._journal_record(record)
        self.baskets.update(plan.adopt)
        self.exits.pending.update(plan.pending_exits)
        for lock in plan.locks:
            self.lock_cluster(lock.cluster, lock.state, lock.reason)
        for line in plan.report.lines():
            self.log("INFO", line)

    def add_cluster(self, spec: ClusterSpec) -> None:
        """A cluster added while running (a trader's deal, ``commands.AddDeal``): warmed up
        from the terminal's history like the others at start.  ValueError when the running
        market cannot feed it (a symbol it lacks, a timeframe it does not build) or its name
        or magic is taken."""
        names = {s.spec.name: s.spec.magic for s in self.signals.values()}
        if spec.name in names or spec.magic in names.values():
            raise ValueError(f"cluster name {spec.name} or magic {spec.magic} already in use")
        missing = [s for s in spec.symbols if s not in self.market.index]
        if missing:
            raise ValueError(f"this session's market has no {', '.join(missing)}")
        if spec.timeframe not in self.market.timeframes:
            raise ValueError(f"this session builds {', '.join(self.market.timeframes)} bars, "
                             f"not {spec.timeframe}")
        sig = ClusterSignal(spec, self.market.index)
        sig.model.use_symbol_info({s: self.terminal.symbol_info(s) for s in sig.symbols})
        warm_up(self.terminal, sig.symbols, {spec.name: sig}, self.now_msc, self.history_days,
                lambda text: self.log("WARNING", text))
        self.risk.add_cluster(spec.name)
        self.signals[spec.name] = sig
        self._blackout[spec.name] = None
        self._bar_order = sorted(self.signals.values(), key=lambda s: s.model.trades)
        self.config = dataclasses.replace(self.config, clusters=(*self.config.clusters, spec))

    def _journal_record(self, record: OrderResult | Deal | BasketClose) -> None:
        if isinstance(record, OrderResult):
            self.journal.record_result(record)
        elif isinstance(record, Deal):
            self.journal.record_deal(record)
        else:
            self.journal.close_basket(record)

    @property
    def reconciled(self) -> bool:
        """Reconciliation is done: entries may go ahead."""
        return self._reconciled

    # ------------------------------------------------------------------ the loop

    def step(self, t_msc: int) -> None:
        """Advance to ``t_msc`` and act on every bar that closed on the way."""
        self.held.apply(t_msc)  # minute closes stepped over on the way (backtests)
        self._drain_commands()
        ticks = self.driver.step_to(t_msc)
        self.now_msc = max(self.now_msc, int(t_msc))
        self.market.on_ticks(ticks)
        if self.hedging.holding:  # a held EXTERNAL bond's hedge, when its stock quotes
            self.hedging.on_ticks(ticks)
        if len(ticks) and (self._deferred or self.exits.pending):
            self._retry_deferred(ticks)
        minute_closed, closed_bars = self.market.advance_clock(self.now_msc)
        self._check_connection()
        if closed_bars:
            self._on_bar_close(closed_bars)
        if minute_closed:  # pending exits are retried here too: with ticks, the market is open
            self._on_m1_close()
        if self.refresh_snapshots and self._snapshots.refresh_due():
            self._snapshots.get(refresh=True)

    def next_step_after(self, t_msc: int, step_ms: int, *, batch_idle: bool = False,
                        limit_msc: int | None = None) -> int:
        """When the next step has anything to do (a fast loop may jump there directly).

        Bars exist only where ticks are, so while no bar is forming, no exit is pending and
        no command waits, the minutes up to the next tick (or the next boundary of the
        shortest bar built, where the clock closes bars) change nothing; over a weekend the
        loop then steps every half hour (M30) instead of every minute.

        ``batch_idle`` (a backtest, where nobody watches the minutes go by): while the engine
        holds nothing, the minutes before the next half-hour boundary decide nothing either
        (see ``_idle_until``), so the loop jumps there and the terminal and the bar builders
        take those minutes' ticks in one batch; while it holds baskets, so do the minutes in
        which nothing would act (``engine.held_minutes``; ``limit_msc``: the run's end).
        """
        nxt = t_msc + step_ms
        if batch_idle:
            until = self._idle_until(t_msc)
            if until is None:
                until = self.held.until(t_msc, limit_msc)
            if until is not None:
                return max(nxt, until)
        next_time = getattr(self.driver, "next_time", None)
        if next_time is None or self.manual.waiting() or not self.market.quiet():
            return nxt
        tick = next_time()
        clock_ms = self.market.clock_step_ms
        boundary = (t_msc // clock_ms + 1) * clock_ms
        first = boundary if tick is None else -(-int(tick) // step_ms) * step_ms
        return max(nxt, min(first, boundary))

    def _idle_until(self, t_msc: int) -> int | None:
        """The next time anything is due when the engine holds nothing, or None when it does.

        Holding nothing, an M1 close only marks equity at half-hour boundaries and journals
        it when due; bars close on the clock's boundaries (at most M30 apart).  Stepping to
        the first of those times takes every decision when and as minute steps would; an
        overdue equity mark (its minute had no tick) goes back to the minute rule."""
        if self.baskets or holds_more_than_baskets(self):
            return None
        return next_due_msc(self, t_msc)

    def _drain_commands(self) -> None:
        while (command := self.manual.next_waiting()) is not None:
            self.execute(command)

    def _on_bar_close(self, closed: ClosedBars) -> None:
        for action in self.risk.on_clock(self.now()):
            self.apply_risk_action(action)
        now_s = self.now_msc // 1000
        for sig in self._bar_order:
            bars = closed.get(sig.timeframe)
            if bars is None:
                continue
            for bar_s, point in sig.on_bars(bars, now_s):
                self._on_cluster_bar(sig, bar_s, point)

    def _on_cluster_bar(self, sig: ClusterSignal, bar_s: int, point: KindPoint) -> None:
        name = sig.spec.name
        bar_time = utc(bar_s * 1000)
        self._deferred.pop(name, None)  # a new bar decides afresh
        self.publish(TdiUpdated(bar_time, name, sig.timeframe, point.score,
                                *tdi_diagnostics(sig, point)))
        self._regime_locks(sig, point)
        note_trade_mode(self.terminal, sig, self._trade_modes)
        basket = self.baskets.get(name)
        if basket is not None:
            event = sig.model.event_exit(point)  # a kind's own event first (a deal's end)
            code = event[0] if event else m30_exit(
                basket, point.score, sig.exit_band, sig.spec.stops.tdi_stop,
                sig.spec.stops.time_stop_bars, sig.bars, self.basket_pnl(basket),
                overshoot_level=sig.overshoot_level, hard_stop=sig.model.hard_stop)
            detail = event[1] if event else (
                f"{sig.score_name} {point.score:+.2f} at {sig.timeframe} close")
            if code is None and (forced := sig.model.forced_exit(point)) is not None:
                code, detail = forced  # the kind's own exit (a basis's EX), after the shared
            if code is not None:
                self.journal_tdi(sig, bar_time, point, f"exit {code.value}")
                self.close_basket(name, code, point.score, detail)
                self.after_exit(sig, code)
            return
        self._update_blackout(sig)
        if auto_roll_due(sig, point, name in self.baskets):
            self.execute(cmd.RollContract(cluster=name, source="engine"))
            return
        if not sig.model.trades:
            return
        direction = entry_direction(point.score, sig.entry) if point.valid else None
        if direction is not None and self.try_entry(sig, point, direction) is None:
            self._defer_if_closed(sig, point, direction)

    def _defer_if_closed(self, sig: ClusterSignal, point: KindPoint,
                         direction: Direction) -> None:
        """A daily bar closes after its market's session (a stock's D1 bar at 17:00 New
        York): an entry its closed market refused waits for the cluster's next quotes and
        is decided again then, at those prices (the next daily close, with daily data).
        Intraday bars decide at a market that is open; one closed then is not waited for."""
        if sig.timeframe == "D1" and self.entries.last_refusal == "MARKET_CLOSED":
            self._deferred[sig.spec.name] = (point, direction)

    def _retry_deferred(self, ticks: np.ndarray) -> None:
        """Retry the deferred entries of the clusters every one of whose symbols just
        quoted (every gate again, now: risk, news, sizing at these prices), and a daily
        cluster's pending exit (its bar closed with the market; its M1 closes fall after
        the session, so the retry at each M1 close would never find it open)."""
        quoted = set(np.unique(ticks["symbol"]).tolist())
        for name in list(self.exits.pending):
            sig = self.signals[name]
            if sig.timeframe == "D1" and quoted.issuperset(sig.index):
                self.exits.retry_pending(name)
        for name, (point, direction) in list(self._deferred.items()):
            sig = self.signals[name]
            if not quoted.issuperset(sig.index):
                continue
            del self._deferred[name]
            if name not in self.baskets and \
                    self.entries.try_deferred(sig, point, direction) is None:
                self._defer_if_closed(sig, point, direction)

    def _regime_locks(self, sig: ClusterSignal, point: KindPoint) -> None:
        """A regime-watching cluster with ``action = "lock"`` (``engine.kinds.correlation``)
        makes its target clusters close-only while its regime is broken, and lets them
        trade again when it is back, unless someone else locked them meanwhile."""
        targets = getattr(sig.spec.params, "targets", ()) if not sig.model.trades else ()
        if not targets or not point.regime:
            return
        name = sig.spec.name
        broken = point.regime == "broken"
        if broken == self._regime_broken.get(name, False):
            return
        self._regime_broken[name] = broken
        tag = f"regime {name}"
        ours = f"REGIME: {name} broken"
        states = self.risk.snapshot(self.now()).clusters
        for target in targets:
            current = states.get(target)
            if broken:
                if current is None or current.state.value == "ACTIVE":
                    self.lock_cluster(target, ClusterState.CLOSE_ONLY,
                                      f"{ours} ({sig.score_name} {point.score:+.2f})",
                                      who=tag)
            elif current is not None and current.reason.startswith(ours):
                self.lock_cluster(target, ClusterState.ACTIVE,
                                  f"REGIME: {name} back to normal", who=tag)

    def _on_m1_close(self) -> None:
        if self.keep_m1_history:
            self.market.record_minute(self.now_msc)
        # manual positions (New Order) closed at the terminal (SL/TP) are journaled here
        manual_open = self.manual.orders.sweep()
        # Equity moves only with open positions: mark every minute while a basket or a
        # manual position is open, every half hour otherwise (the daily-loss and drawdown
        # rules still see each day).
        if self.baskets or manual_open or self.now_msc % M30_MS < M1_MS:
            self.mark_account()
        mids = self.market.mids()
        held = len(self.baskets)
        for name, basket in list(self.baskets.items()):
            if not self.exits.retry_pending(name) and not self._news_flatten(name):
                self._check_m1_exit(name, basket, mids)
        if len(self.baskets) < held:  # a close's costs may break a limit the mark before did not
            self.mark_account()
        if self.now_msc // 60_000 * 60_000 - self._last_equity_journal >= \
                self.config.execution.equity_snapshot_minutes * 60_000:
            self._journal_equity()

    def _news_flatten(self, name: str) -> bool:
        """Close the cluster's basket ahead of a scheduled release, if one is due (True)."""
        sig = self.signals[name]
        due = self.news.flatten_due(self.now(), self.cluster_currencies(sig))
        if due is None:
            return False
        self.journal.record_news_action(NewsAction(
            self.now(), name, "FLATTEN", due.time, due.currency, due.impact.name,
            due.title, self.run_id))
        self.close_basket(name, ExitCode.NEWS, math.nan,
                          f"{due.currency} {due.title} at {due.time:%H:%M} UTC")
        return True

    def _check_m1_exit(self, name: str, basket: Basket, mids: np.ndarray) -> None:
        """The fast exits at an M1 close: provisional MR/OS, then TP and HS."""
        sig = self.signals[name]
        tdi = sig.provisional(mids)
        pnl = self.basket_pnl(basket)
        code = m1_exit(basket, tdi, sig.exit_band, pnl, overshoot_level=sig.overshoot_level,
                       hard_stop=sig.model.hard_stop)
        if code is not None:
            self.close_basket(name, code, tdi, f"at M1 close: {sig.score_name} {tdi:+.2f}, "
                                               f"P&L {pnl:+.2f}")

    # ------------------------------------------------------------------ entries & exits

    def try_entry(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
                  manual: bool = False) -> str | None:
        """Check, size and open a basket; returns its id, or None (refusal journaled)."""
        return self.entries.try_entry(sig, point, direction, manual)

    def close_basket(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                     purpose: OrderPurpose = OrderPurpose.EXIT) -> bool:
        """Close every open leg; the basket is closed in the journal once all legs are."""
        return self.exits.close_basket(cluster, code, tdi, detail, purpose)

    def flatten_all(self, code: ExitCode, detail: str) -> None:
        self.exits.flatten_all(code, detail)

    def after_exit(self, sig: ClusterSignal, code: ExitCode) -> None:
        """A basis cluster with ``roll = true`` rolls at its EX (``engine.kinds.basis_roll``)."""
        if code is ExitCode.EX and sig.spec.name not in self.baskets and \
                auto_roll_due(sig, sig.last_point, False):  # type: ignore[arg-type]
            self.execute(cmd.RollContract(cluster=sig.spec.name, source="engine"))

    def replace_cluster(self, spec: ClusterSpec) -> None:
        """Trade ``spec`` in place of the cluster of its name (a basis's roll): a new signal
        on the same market, the trader's E and X kept; it warms up as at start."""
        old = self.signals[spec.name]
        sig = ClusterSignal(spec, self.market.index, self.config.factor_series(spec))
        sig.entry, sig.exit_band = old.entry, old.exit_band
        sig.model.set_thresholds(old.entry, old.exit_band)
        self.signals[spec.name] = sig
        self._bar_order = [sig if s is old else s for s in self._bar_order]
        self._currencies.pop(spec.name, None)
        note_trade_mode(self.terminal, sig, self._trade_modes)

    def execute(self, command: cmd.Command) -> tuple[bool, str]:
        """Validate, journal, apply and answer one command (on the engine's thread)."""
        outcome = self.manual.execute(command)
        self._snapshots.invalidate()
        return outcome

    def basket_pnl(self, basket: Basket) -> float:
        return basket.net_pnl(self.market.index, self.market.bid, self.market.ask, self.fx)

    # ------------------------------------------------------------------ account

    def refresh_account(self) -> None:
        """The account's balance, equity and margin level now (every minute a basket is
        open): through the terminal's ``account_figures`` where it has one, else from
        ``account_info``."""
        info = self._account_figures() if self._account_figures is not None else \
            self.terminal.account_info()
        if info is not None:
            self.take_account(info)

    def mark_account(self) -> None:
        """The account now, handed to the risk manager (daily loss, drawdown) and its
        actions taken: at M1 closes, and before an entry is judged."""
        self.refresh_account()
        for action in self.risk.on_equity(self.now(), self._balance, self._equity,
                                          self._margin_level):
            self.apply_risk_action(action)

    def take_account(self, info: Any) -> None:  # AccountFigures or account_info's struct
        self._account = info
        self._balance = float(info.balance)
        self._equity = float(info.equity)
        self._margin_level = float(info.margin_level)

    @property
    def equity(self) -> float:
        return self._equity

    @property
    def margin_level(self) -> float:
        return self._margin_level

    def open_risk(self) -> float:
        return sum(b.risk_budget for b in self.baskets.values())

    def _journal_equity(self) -> None:
        if self._account is None:
            return
        a = self._account
        self._last_equity_journal = self.now_msc // 60_000 * 60_000
        self.journal.record_equity(EquitySnapshot(
            self.run_id, self.now(), float(a.balance), float(a.equity), float(a.margin),
            float(a.margin_free), float(a.margin_level), self.open_risk()))
        self.publish(EquityUpdated(self.now(), float(a.balance), float(a.equity),
                                   float(a.margin_level), self.open_risk(),
                                   self.risk.daily_pnl(self._equity)))

    def _check_connection(self) -> None:
        state = getattr(self.terminal, "state", None)
        connected = state is None or getattr(state, "value", state) == "connected"
        if connected != self._connected:
            self._connected = connected
            self._disconnected_at = None if connected else self.now()
            for action in self.risk.on_connection(self.now(), connected):
                self.apply_risk_action(action)
            if connected:
                self.log("INFO", "terminal connection restored: entries allowed again",
                         notice=True)
            else:
                self.log("WARNING", "terminal connection lost: no new entries")

    # ------------------------------------------------------------------ risk & state

    def lock_cluster(self, cluster: str, state: ClusterState, reason: str,
                     who: str = "engine") -> None:
        self.journal_state(self.risk.set_cluster_state(self.now(), cluster, state, reason, who))

    def journal_state(self, change: ClusterStateChange) -> None:
        self.journal.record_cluster_state(change)
        self.publish(RiskStateChanged(self.now(), change.cluster, change.state.value,
                                      change.reason))

    def apply_risk_action(self, action: RiskAction) -> None:
        kind = action.kind
        if kind == "FLATTEN_ALL":
            self.log("WARNING", f"risk: flatten all ({action.reason})")
            self.flatten_all(ExitCode.RISK, action.reason)
        elif kind == "STATE_CHANGE" and action.change is not None:
            self.journal_state(action.change)
        elif kind == "ACCOUNT_STATE":
            if action.change is not None:
                self.journal.record_cluster_state(action.change)
            state = action.state.value if action.state else "?"
            self.publish(RiskStateChanged(self.now(), "ACCOUNT", state, action.reason))
            self.log("WARNING", f"account {state}: {action.reason}")

    def use_calendar(self, calendar: EventCalendar) -> None:
        """Ask ``calendar`` from now on (an immutable one: the engine reads it unlocked)."""
        self.news = NewsFilter(self.config.news, calendar)
        for sig in self.signals.values():
            self._update_blackout(sig)

    def _update_blackout(self, sig: ClusterSignal) -> None:
        blackout = self.news.blackout(self.now(), self.cluster_currencies(sig))
        until = blackout.until if blackout is not None else None
        if until != self._blackout[sig.spec.name]:
            self._blackout[sig.spec.name] = until
            if blackout is not None:
                ev = blackout.events[0]
                self.publish(NewsBlackout(self.now(), sig.spec.name, blackout.until, ev.title,
                                          ev.currency))

    def journal_tdi(self, sig: ClusterSignal, when: datetime, point: KindPoint, decision: str,
                    reason: str = "") -> None:
        """The signal at a decision: the score in the ``tdi`` column whatever the kind, the
        TDI's own figures in theirs, every kind's diagnostics by name."""
        bar = utc(sig.last_bar_s * 1000) if sig.last_bar_s is not None else when
        self.journal.record_tdi(TdiSnapshot(
            self.run_id, sig.spec.name, bar, point.score, *tdi_diagnostics(sig, point),
            decision, reason, sig.timeframe, kind=sig.spec.kind,
            diagnostics=tuple(sig.model.diagnostics_of(point).items())))

    def cluster_currencies(self, sig: ClusterSignal) -> frozenset[str]:
        """The currencies whose news move the cluster: those in its FX symbols' names and
        the quote currency of any other instrument it trades."""
        name = sig.spec.name
        cached = self._currencies.get(name)
        if cached is None:  # asked at every M1 close of an open basket; fixed once started
            cached = sig.spec.currencies | news_currencies(sig.symbols,
                                                           self.symbol_book.instruments)
            if self.started:
                self._currencies[name] = cached
        return cached

    # ------------------------------------------------------------------ read API (any thread)

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Hear every event the engine publishes (on the engine's thread: do not block);
        returns the function that unsubscribes."""
        return self.bus.subscribe(fn)

    def snapshot(self, refresh: bool = False) -> EngineSnapshot:
        """An immutable picture of the engine (rebuilt at most five times a second while
        stepping; ``refresh`` rebuilds it now, on the caller's thread)."""
        return self._snapshots.get(refresh)

    def latest_snapshot(self) -> EngineSnapshot | None:
        """The picture the engine's thread built last, without building one (None before
        the first step): what a reader on another thread polls."""
        return self._snapshots.latest()

    def cluster_info(self, name: str) -> ClusterInfo | None:
        """A cluster's symbols, currencies and thresholds in force (None: no such cluster)."""
        sig = self.signals.get(name)
        if sig is None:
            return None
        return ClusterInfo(name, tuple(sig.symbols), self.cluster_currencies(sig), sig.entry,
                           sig.exit_band, sig.spec.stops.tdi_stop, sig.spec.kind,
                           sig.score_name, sig.spec.timeframe)

    def trade_mode(self, symbol: str) -> str:
        """A dated contract's trade mode ("full", "close only", ...) as read at its basis
        cluster's last bar; "" before the first (any thread)."""
        return self._trade_modes.get(symbol, "")

    def cluster_history(self, name: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(times ms, TDI, closes per symbol) of the cluster's recent signal bars, copied."""
        return self.signals[name].history_arrays()

    def m1_history(self, symbols: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(times ms, mids per symbol) at the recent minute closes (``keep_m1_history``)."""
        return self.market.m1_history(symbols)

    def blackout_windows(self, start: datetime, end: datetime) -> dict[str, list[BlackoutWindow]]:
        """Each cluster's news blackout windows that meet ``[start, end]``, for display."""
        news = self.news
        return {name: news.windows(start, end, self.cluster_currencies(sig))
                for name, sig in self.signals.items()}

    def _build_snapshot(self) -> EngineSnapshot:
        views = []
        states = self.risk.snapshot(self.now())
        account = states.account_state.value
        for name, sig in self.signals.items():
            point = sig.last_point
            basket = self.baskets.get(name)
            st = states.clusters.get(name)
            net, gross = (basket.numeraire_balance(sig.spec.numeraire, self.market.index,
                                                   self.market.mids(), self.fx)
                          if basket else (math.nan, math.nan))
            own = (st.state.value, st.reason) if st else ("ACTIVE", "")
            state, reason = effective_state(account, states.account_reason, *own)
            views.append(ClusterView(
                name, sig.spec.symbols, point.score if point else math.nan,
                tdi_diagnostics(sig, point)[1] if point else math.nan, sig.entry,
                sig.exit_band,
                state, reason, basket.basket_id if basket else None,
                basket.direction.value if basket else None,
                self.basket_pnl(basket) if basket else 0.0, self._blackout.get(name),
                sig.spec.numeraire, net, net / gross if gross else math.nan, *own,
                *(basket_pnl_split(basket, self.market, self.fx) if basket else (0, 0, 0)),
                **kind_view(sig, point)))
        a = self._account
        m = self.market
        owners = {sig.spec.magic: name for name, sig in self.signals.items()}
        paid = CommissionPaid(self.terminal, self.baskets.values())
        positions = position_views(self.terminal.positions_get() or (), owners, paid,
                                   getattr(self.terminal, "utc_ms_from_server_ms", None))
        return EngineSnapshot(
            self.now(), tuple(views), states.account_state.value, states.account_reason,
            float(a.balance) if a else math.nan, float(a.equity) if a else math.nan,
            float(a.margin_level) if a else math.nan, self.open_risk(),
            self.risk.daily_pnl(self._equity) if a else 0.0, self._connected,
            self.news.state(self.now()).name,
            quote_views(m.symbols, m.bid, m.ask, m.last_tick_msc, self.symbol_book.points),
            positions, float(a.margin) if a else 0.0, float(a.margin_free) if a else 0.0,
            self.mode.value,
            **account_view(states, self._disconnected_at, self.config.risk.max_drawdown),
            automation=self.automation,
            # New Order and the Trade tab's exposure table (engine.manual_orders)
            exposures=self.hedging.exposure_table(positions, self._equity),
            specs=self.manual.orders.specs(),
            externals=self.hedging.views())

    # ------------------------------------------------------------------ end

    def stop(self, reason: str = "") -> None:
        # the last marks take what the terminal answers now (a live one: no reconnect loop)
        if callable(halt := getattr(self.terminal, "stop_reconnecting", None)):
            halt()
        self.refresh_account()
        self._journal_equity()
        self.journal.end_run(RunEnd(self.run_id, self.now(), reason))
        self.log("INFO", f"engine stopped: {reason}" if reason else "engine stopped")

