"""The trading engine: bars in, baskets out, one code path for every mode.

``Engine.step(t)`` advances the market to ``t`` (the driver hands over the ticks), closes
M1 and M30 bars, updates each cluster's TDI at its M30 close, decides entries and exits,
and checks the fast exits (TP, HS, provisional MR/OS) at every M1 close.  Replay and
backtest call ``step`` in a plain loop on a virtual clock (``engine.loop``); demo and live
run the same loop on a worker thread and feed commands through ``submit``.

Nothing here imports Qt, SQL or MetaTrader5: the engine sees a ``Terminal`` (the
MetaTrader5 surface with UTC helpers), a ``MarketDriver`` and a ``Journal``.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from engine import commands as cmd
from engine.bars import M30, align_closes, resample_bars
from engine.baskets import Basket, Leg, add_exposure, m1_exit, m30_exit
from engine.cluster import LegQuote, entry_direction, size_basket
from engine.config import EngineConfig
from engine.errors import DataError
from engine.events import (
    BasketClosed,
    BasketOpened,
    CommandDone,
    EngineEvent,
    EquityUpdated,
    EventBus,
    LogLine,
    NewsBlackout,
    RiskStateChanged,
    SignalRaised,
    TdiUpdated,
)
from engine.execution import Executor, LegFill
from engine.fx import CurrencyConverter, split_symbol
from engine.market import MarketState
from engine.model import (
    ClusterState,
    Direction,
    ExitCode,
    OrderPurpose,
    OrderSide,
    RunMode,
    make_basket_id,
)
from engine.news import NewsFilter
from engine.ports import EventCalendar, Journal, MarketDriver, Terminal
from engine.reconcile import reconcile
from engine.records import (
    BasketClose,
    BasketOpen,
    ClusterStateChange,
    EquitySnapshot,
    ErrorRecord,
    HistoryFilter,
    ManualCommand,
    NewsAction,
    PlannedLeg,
    Refusal,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from engine.risk import EntryRequest, RiskAction, RiskManager
from engine.signals import ClusterSignal
from engine.tdi import TdiPoint

log = logging.getLogger(__name__)

M1_MS = 60_000
M30_MS = 1_800_000
TIMEFRAME_M30 = 30
#: Refuse a basket whose rounding moved its net exposure beyond this share of its gross.
MAX_ROUNDING_IMBALANCE = 0.10


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class ClusterView:
    """What the console shows for one cluster (an immutable copy)."""

    name: str
    symbols: tuple[str, ...]
    tdi: float
    eigengap: float
    entry: float
    exit_band: float
    state: str
    reason: str
    basket_id: str | None
    direction: str | None
    pnl: float
    blackout_until: datetime | None


@dataclass(frozen=True)
class QuoteView:
    """One Market Watch row."""

    symbol: str
    bid: float
    ask: float
    spread_points: float
    time: datetime | None
    digits: int | None = None


@dataclass(frozen=True)
class PositionView:
    """One open position at the terminal (tickets stay Python ints end to end)."""

    ticket: int
    symbol: str
    side: str  # "BUY" or "SELL"
    volume: float
    price_open: float
    price_current: float
    swap: float
    profit: float
    magic: int
    comment: str
    cluster: str | None  # the engine's cluster owning the magic, if any
    commission: float = 0.0  # paid so far (MT5 books it on deals; the engine knows its legs')


@dataclass(frozen=True)
class EngineSnapshot:
    time: datetime
    clusters: tuple[ClusterView, ...]
    account_state: str
    account_reason: str
    balance: float
    equity: float
    margin_level: float
    open_risk: float
    daily_pnl: float
    connected: bool
    calendar_state: str
    quotes: tuple[QuoteView, ...] = ()
    positions: tuple[PositionView, ...] = ()
    margin: float = 0.0
    free_margin: float = 0.0
    mode: str = ""


@dataclass
class RunStats:
    baskets_opened: int = 0
    baskets_closed: int = 0
    exits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    realised_pnl: float = 0.0


class Engine:
    def __init__(self, config: EngineConfig, terminal: Terminal, driver: MarketDriver,
                 journal: Journal, *, mode: RunMode = RunMode.BACKTEST,
                 calendar: EventCalendar | None = None, run_id: str | None = None,
                 account_currency: str = "USD") -> None:
        self.config = config
        self.terminal = terminal
        self.driver = driver
        self.journal = journal
        self.mode = RunMode(mode)
        self.run_id = run_id or f"{self.mode.value}-{uuid.uuid4().hex[:8]}"
        self.bus = EventBus()
        self.stats = RunStats()
        self._commands: queue.Queue[cmd.Command] = queue.Queue()
        self.market = MarketState(driver.symbols)
        missing = [s for s in config.symbols if s not in self.market.index]
        if missing:
            raise DataError(f"the market has no data for {', '.join(missing)}, which the "
                            f"configured clusters trade")
        self.fx = CurrencyConverter(driver.symbols, account_currency)
        self.signals = {spec.name: ClusterSignal(spec, self.market.index)
                        for spec in config.clusters}
        self.risk = RiskManager(config.risk, list(self.signals))
        self.news = NewsFilter(config.news, calendar)
        self.now_msc = driver.now_msc()
        self.executor = Executor(terminal, journal, config.execution, self.now, self.run_id)
        self.baskets: dict[str, Basket] = {}
        self._pending_exit: dict[str, tuple[ExitCode, str, OrderPurpose]] = {}
        self._quotes: dict[str, LegQuote] = {}
        self._points: dict[str, float] = {}
        self._basket_seq: dict[tuple[str, int], int] = defaultdict(int)
        self._blackout: dict[str, datetime | None] = dict.fromkeys(self.signals)
        self._account: Any = None
        self._connected = True
        self._last_equity_journal = -1
        self._reconciled = False
        #: Calendar days of history to load at start beyond what the TDI needs (the console
        #: shows it; headless runs keep the minimum).
        self.history_days = 0
        #: Keep a day of per-minute mids for the console's M1 chart (off headless).
        self.keep_m1_history = False
        self._snapshot: EngineSnapshot | None = None
        self._snapshot_at = 0.0
        self._snapshot_lock = threading.Lock()
        self.started = False

    # ------------------------------------------------------------------ plumbing

    def now(self) -> datetime:
        return utc(self.now_msc)

    def publish(self, event: EngineEvent) -> None:
        self.bus.publish(event)

    def log(self, level: str, text: str) -> None:
        getattr(log, level.lower(), log.info)(text)
        self.publish(LogLine(self.now(), level, text))

    def submit(self, command: cmd.Command) -> None:
        """Queue a manual command (any thread); it runs at the start of the next step."""
        self._commands.put(command)

    def _journal_error(self, component: str, message: str, detail: str = "") -> None:
        self.journal.record_error(ErrorRecord(self.now(), component, message, detail,
                                              self.run_id))
        self.log("ERROR", f"{component}: {message}")

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Warm up from history, restore locks, reconcile; entries wait for all three."""
        self.now_msc = self.driver.now_msc()
        self.journal.start_run(RunStart(self.run_id, self.mode, self.now(),
                                        self.config.config_hash(), {"engine": "0.1.0"}))
        self._load_symbol_specs()
        self._warm_up()
        self._restore_risk()
        report = reconcile(self)
        for line in report.lines():
            self.log("INFO", line)
        self._reconciled = True
        self._refresh_account()
        self.started = True
        self.log("INFO", f"engine started ({self.mode.value}, {len(self.signals)} clusters, "
                         f"run {self.run_id})")

    def _restore_risk(self) -> None:
        """Locks always survive a restart; the equity peak and today's closed baskets only
        for a live account (a simulated account starts afresh with every session, so an
        older peak in the same journal would read as a drawdown)."""
        peak = None
        recent: list = []
        if self.mode is RunMode.LIVE:
            since = self.now() - timedelta(days=90)
            peaks = [e.equity for e in self.journal.equity_series(since=since)]
            peak = max(peaks) if peaks else None
            recent = self.journal.basket_history(
                HistoryFilter(since=self.now() - timedelta(days=3)))
        self.risk.restore(self.journal.cluster_states().values(), peak, now=self.now(),
                          baskets=recent)

    def _load_symbol_specs(self) -> None:
        for symbol in self.market.symbols:
            info = self.terminal.symbol_info(symbol)
            if info is None:
                raise ValueError(f"the terminal does not know {symbol}: "
                                 f"{self.terminal.last_error()}")
            self._points[symbol] = float(info.point)
            self._quotes[symbol] = LegQuote(symbol, math.nan, float(info.trade_contract_size),
                                            float(info.volume_min), float(info.volume_max),
                                            float(info.volume_step))
            tick = self.terminal.symbol_info_tick(symbol)
            if tick is not None and tick.bid > 0:
                self.market.seed_quote(symbol, float(tick.bid), float(tick.ask),
                                       self.now_msc)

    def _warm_up(self) -> None:
        """Enough closed M30 history that every cluster has a valid TDI at once."""
        if not self.signals:
            return
        need = max(s.spec.tdi.warmup_bars + s.spec.stops.atr_bars + 2
                   for s in self.signals.values())
        bucket_ms = self.now_msc // M30_MS * M30_MS
        # calendar span covering `need` trading bars: 48 bars a day, 5 trading days a week
        days = max(math.ceil(need / 48 * 7 / 5) + 4, self.history_days)
        start_ms = bucket_ms - days * 86_400_000
        m30: dict[str, np.ndarray] = {}
        for symbol in self.market.symbols:
            rates = self.terminal.copy_rates_range(
                symbol, TIMEFRAME_M30, utc(self.terminal.server_s_from_utc_ms(start_ms) * 1000),
                utc(self.terminal.server_s_from_utc_ms(bucket_ms - 1) * 1000))
            if rates is None or len(rates) == 0:
                m30[symbol] = np.empty(0, dtype=np.dtype([("time", "<i8")]))
                continue
            bars = self.terminal.rates_to_bars(symbol, rates)
            m30[symbol] = resample_bars(bars[bars["time"] * 1000 < bucket_ms], M30)
        for sig in self.signals.values():
            if any(len(m30[s]) == 0 for s in sig.symbols):
                self.log("WARNING", f"{sig.spec.name}: no history; the TDI warms up live")
                continue
            aligned = align_closes({s: m30[s] for s in sig.symbols}, sig.symbols).closes
            for t, row in zip(aligned.index, aligned.to_numpy(), strict=True):
                sig.add_bar(int(t.timestamp()), row)
            if sig.last_point is None or not sig.last_point.valid:
                self.log("WARNING", f"{sig.spec.name}: {len(aligned)} M30 bars of history, "
                                    f"not enough for a valid TDI yet")

    # ------------------------------------------------------------------ the loop

    def step(self, t_msc: int) -> None:
        """Advance to ``t_msc`` and act on every bar that closed on the way."""
        self._drain_commands()
        ticks = self.driver.step_to(t_msc)
        self.now_msc = max(self.now_msc, int(t_msc))
        self.market.on_ticks(ticks)
        minute_closed, closed_m30 = self.market.advance_clock(self.now_msc)
        self._check_connection()
        if len(closed_m30):
            for action in self.risk.on_clock(self.now()):
                self._apply_risk_action(action)
            now_s = self.now_msc // 1000
            for sig in self.signals.values():
                for bar_s, point in sig.on_m30(closed_m30, now_s):
                    self._on_cluster_bar(sig, bar_s, point)
        if minute_closed:  # pending exits are retried here too: with ticks, the market is open
            self._on_m1_close()
        self._maybe_snapshot()

    def next_step_after(self, t_msc: int, step_ms: int) -> int:
        """When the next step has anything to do (a fast loop may jump there directly).

        Bars exist only where ticks are, so while no bar is forming, no exit is pending and
        no command waits, the minutes up to the next tick (or the next M30 boundary, where
        the clock closes M30 bars) change nothing; over a weekend the loop then steps every
        half hour instead of every minute.
        """
        nxt = t_msc + step_ms
        next_time = getattr(self.driver, "next_time", None)
        if next_time is None or not self._commands.empty() or \
                not self.market.quiet():
            return nxt
        tick = next_time()
        boundary = (t_msc // M30_MS + 1) * M30_MS
        first = boundary if tick is None else -(-int(tick) // step_ms) * step_ms
        return max(nxt, min(first, boundary))

    def _on_cluster_bar(self, sig: ClusterSignal, bar_s: int, point: TdiPoint) -> None:
        name = sig.spec.name
        bar_time = utc(bar_s * 1000)
        self.publish(TdiUpdated(bar_time, name, "M30", point.tdi, point.phi, point.eigengap,
                                point.explained))
        basket = self.baskets.get(name)
        if basket is not None:
            pnl = self._basket_pnl(basket)
            code = m30_exit(basket, point.tdi, sig.exit_band, sig.spec.stops.tdi_stop,
                            sig.spec.stops.time_stop_bars, sig.bars, pnl)
            if code is not None:
                self._snapshot_tdi(sig, bar_time, point, f"exit {code.value}")
                self.close_basket(name, code, point.tdi, f"TDI {point.tdi:+.2f} at M30 close")
            return
        self._update_blackout(sig)
        direction = entry_direction(point.tdi, sig.entry) if point.valid else None
        if direction is not None:
            self.try_entry(sig, point, direction)

    def _on_m1_close(self) -> None:
        if self.keep_m1_history:
            self.market.record_minute(self.now_msc)
        # Equity moves only with open positions: mark every minute while a basket is open,
        # every half hour otherwise (the daily-loss and drawdown rules still see each day).
        if self.baskets or self.now_msc % M30_MS < M1_MS:
            self._refresh_account()
            for action in self.risk.on_equity(self.now(), self._balance, self._equity,
                                              self._margin_level):
                self._apply_risk_action(action)
        mids = self.market.mids()
        for name, basket in list(self.baskets.items()):
            if name in self._pending_exit:
                code, detail, purpose = self._pending_exit[name]
                self.close_basket(name, code, math.nan, detail, purpose)
                continue
            sig = self.signals[name]
            due = self.news.flatten_due(self.now(), sig.spec.currencies)
            if due is not None:
                self.journal.record_news_action(NewsAction(
                    self.now(), name, "FLATTEN", due.time, due.currency, due.impact.name,
                    due.title, self.run_id))
                self.close_basket(name, ExitCode.NEWS, math.nan,
                                  f"{due.currency} {due.title} at {due.time:%H:%M} UTC")
                continue
            tdi = sig.provisional(mids)
            pnl = self._basket_pnl(basket)
            code = m1_exit(basket, tdi, sig.exit_band, pnl)
            if code is not None:
                self.close_basket(name, code, tdi, f"at M1 close: TDI {tdi:+.2f}, "
                                                   f"P&L {pnl:+.2f}")
        if self.now_msc // 60_000 * 60_000 - self._last_equity_journal >= \
                self.config.execution.equity_snapshot_minutes * 60_000:
            self._journal_equity()

    # ------------------------------------------------------------------ account

    def _refresh_account(self) -> None:
        info = self.terminal.account_info()
        if info is None:
            return
        self._account = info
        self._balance = float(info.balance)
        self._equity = float(info.equity)
        self._margin_level = float(info.margin_level)

    @property
    def equity(self) -> float:
        return getattr(self, "_equity", math.nan)

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
            for action in self.risk.on_connection(self.now(), connected):
                self._apply_risk_action(action)
            self.log("WARNING" if not connected else "INFO",
                     "terminal connection lost: no new entries" if not connected
                     else "terminal connection restored")

    # ------------------------------------------------------------------ entries

    def _refuse(self, sig: ClusterSignal, point: TdiPoint | None, direction: Direction,
                reason: str, detail: str) -> None:
        name = sig.spec.name
        self.stats.refusals[reason.split(":")[0]] += 1
        self.journal.record_refusal(Refusal(self.now(), name, reason, detail, self.run_id))
        if point is not None:
            self._snapshot_tdi(sig, self.now(), point, f"refused {direction.value}", reason)
        self.publish(SignalRaised(self.now(), name, direction.value,
                                  point.tdi if point else math.nan, False, reason))

    def try_entry(self, sig: ClusterSignal, point: TdiPoint, direction: Direction,
                  manual: bool = False) -> str | None:
        """Check, size and open a basket; returns its id, or None (refusal journaled)."""
        name = sig.spec.name
        if not self._reconciled:
            self._refuse(sig, point, direction, "NOT_RECONCILED", "reconciliation not done")
            return None
        if name in self.baskets:
            self._refuse(sig, point, direction, "ONE_BASKET", "a basket is already open")
            return None
        if not point.valid:
            self._refuse(sig, point, direction, "NO_TDI", "the TDI is not valid yet")
            return None
        if not manual and not point.eigengap >= sig.spec.min_eigengap:
            self._refuse(sig, point, direction, "EIGENGAP",
                         f"eigengap {point.eigengap:.2f} < {sig.spec.min_eigengap}")
            return None
        news = self.news.check_entry(self.now(), sig.spec.currencies)
        if not news:
            self._refuse(sig, point, direction, news.reason, news.detail)
            return None
        exposures = sig.unit_exposures(point, direction)
        atr = sig.unit_atr(exposures)
        if not atr > 0:
            self._refuse(sig, point, direction, "NO_ATR", "not enough bars for the basket ATR")
            return None
        self._refresh_account()
        equity = self.equity
        budget = self.config.risk.risk_per_trade * equity
        gross = budget / (sig.spec.stops.hard_stop_atr * atr)
        mids = self.market.mids()
        quotes = {s: LegQuote(s, self.fx.value(split_symbol(s)[0], mids),
                              q.contract_size, q.volume_min, q.volume_max, q.volume_step)
                  for s, q in self._quotes.items() if s in exposures}
        size = size_basket(exposures, gross, quotes)
        traded = {leg.symbol: leg.lots for leg in size.legs if leg.lots != 0}
        net = sum(leg.lots * quotes[leg.symbol].contract_size * quotes[leg.symbol].usd_per_base
                  for leg in size.legs)
        if len(traded) < 2 or abs(net) > MAX_ROUNDING_IMBALANCE * gross:
            self._refuse(sig, point, direction, "ROUNDING",
                         f"volume steps leave the basket unbalanced: {'; '.join(size.warnings)}")
            return None
        currency_exposure: dict[str, float] = {}
        for leg in size.legs:
            q = quotes[leg.symbol]
            add_exposure(currency_exposure, leg.symbol, leg.lots * q.contract_size,
                         q.usd_per_base)
        decision = self.risk.check_entry(self.now(), EntryRequest(
            cluster=name, direction=direction, risk_budget=budget, lots=traded,
            exposures=dict(currency_exposure), equity=equity, margin_level=self._margin_level,
            open_risk=self.open_risk(), open_exposures=self._open_exposures(),
            has_open_basket=name in self.baskets))
        if not decision:
            self._refuse(sig, point, direction, decision.reason, decision.detail)
            return None
        first = next(iter(traded))
        code, comment = self.executor.check_leg(first, traded[first], sig.spec.magic)
        if code not in (0, 10009):  # the terminal would refuse it: e.g. the market is closed
            reason = "MARKET_CLOSED" if code == 10018 else f"ORDER_CHECK:{code}"
            self._refuse(sig, point, direction, reason, f"order_check {first}: {code} {comment}")
            return None
        return self._open(sig, point, direction, budget, traded, size.warnings)

    def _open_exposures(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        mids = self.market.mids()
        for basket in self.baskets.values():
            for ccy, value in basket.currency_exposure(self.market.index, mids,
                                                       self.fx).items():
                out[ccy] += value
        return dict(out)

    def _open(self, sig: ClusterSignal, point: TdiPoint, direction: Direction, budget: float,
              lots: dict[str, float], warnings: tuple[str, ...]) -> str | None:
        name = sig.spec.name
        minute = self.now_msc // 60_000
        while True:  # the journal, not memory, decides: a restart may reuse the minute
            self._basket_seq[(name, minute)] += 1
            basket_id = make_basket_id(name, self.now(), self._basket_seq[(name, minute)])
            if self.journal.basket(basket_id) is None:
                break
        planned = tuple(PlannedLeg(s, OrderSide.BUY if v > 0 else OrderSide.SELL, abs(v))
                        for s, v in lots.items())
        self.journal.open_basket(BasketOpen(basket_id, self.run_id, name, direction, self.now(),
                                            point.tdi, budget, planned, sig.spec.magic))
        for w in warnings:
            self.log("WARNING", f"{basket_id}: {w}")
        basket = Basket(basket_id, name, direction, self.now(), point.tdi, budget,
                        sig.spec.stops.take_profit_r * budget, sig.bars, magic=sig.spec.magic)
        failed: LegFill | None = None
        for symbol, volume in lots.items():
            fill = self.executor.send_leg(basket_id, OrderPurpose.ENTRY, symbol, volume,
                                          sig.spec.magic)
            if fill.lots:
                basket.legs.append(Leg(symbol, fill.lots, self._quotes[symbol].contract_size,
                                       fill.position, fill.price, fill.commission))
            if not fill.filled:
                failed = fill
                break
        self._snapshot_tdi(sig, self.now(), point, f"entry {direction.value}")
        self.baskets[name] = basket
        self.stats.baskets_opened += 1
        if failed is not None:
            filled = sum(1 for leg in basket.legs if leg.lots)
            reason = (f"leg {failed.symbol} not filled ({failed.status}, retcode "
                      f"{failed.retcode} {failed.detail}); {filled} filled leg(s) unwound")
            self._journal_error("execution", f"{basket_id}: {reason}")
            self._lock(name, ClusterState.HALTED, reason)
            self.close_basket(name, ExitCode.RISK, point.tdi, reason, purpose=OrderPurpose.UNWIND)
            return None
        self.publish(BasketOpened(self.now(), basket_id, name, direction.value, point.tdi,
                                  budget, {leg.symbol: leg.lots for leg in basket.legs}))
        self.publish(SignalRaised(self.now(), name, direction.value, point.tdi, True))
        return basket_id

    # ------------------------------------------------------------------ exits

    def _basket_pnl(self, basket: Basket) -> float:
        return basket.net_pnl(self.market.index, self.market.bid, self.market.ask, self.fx)

    def close_basket(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                     purpose: OrderPurpose = OrderPurpose.EXIT) -> bool:
        """Close every open leg; the basket is closed in the journal once all legs are."""
        basket = self.baskets.get(cluster)
        if basket is None:
            return False
        for leg in basket.open_legs:
            fill = self.executor.send_leg(basket.basket_id, purpose, leg.symbol, -leg.lots,
                                          basket.magic, position=leg.position)
            if fill.filled:
                self._book_close(basket, leg, fill)
            else:
                if cluster not in self._pending_exit:  # journal the first failure, not each retry
                    self._journal_error("execution", f"{basket.basket_id}: closing {leg.symbol} "
                                        f"failed ({fill.status} {fill.retcode} {fill.detail}); "
                                        f"retried at each M1 close until it fills")
                self._pending_exit[cluster] = (code, detail, purpose)
                return False
        self._pending_exit.pop(cluster, None)
        del self.baskets[cluster]
        pnl = sum(leg.realised for leg in basket.legs)
        costs = sum(leg.commission + leg.swap for leg in basket.legs)
        self.journal.close_basket(BasketClose(basket.basket_id, self.now(), tdi, code, pnl,
                                              costs, detail))
        self.stats.baskets_closed += 1
        self.stats.exits[code.value] += 1
        self.stats.realised_pnl += pnl
        for action in self.risk.on_basket_closed(self.now(), cluster, code, pnl):
            self._apply_risk_action(action)
        self.publish(BasketClosed(self.now(), basket.basket_id, cluster,
                                  basket.direction.value, code.value, pnl, costs, tdi, detail))
        return True

    def _book_close(self, basket: Basket, leg: Leg, fill: LegFill) -> None:
        """Realised P&L of a leg from the closing deal (profit, commissions, swap)."""
        leg.closed = True
        leg.close_price = fill.price
        deals = self.terminal.history_deals_get(position=leg.position) or ()
        profit = swap = commission = 0.0
        for d in deals:
            commission += float(d.commission)
            if int(d.entry) != 0:  # OUT deals carry the profit and the swap
                profit += float(d.profit)
                swap += float(d.swap)
        leg.commission = commission
        leg.swap = swap
        leg.realised = profit + swap + commission

    def flatten_all(self, code: ExitCode, detail: str) -> None:
        for cluster in list(self.baskets):
            self.close_basket(cluster, code, math.nan, detail)

    # ------------------------------------------------------------------ risk & state

    def _lock(self, cluster: str, state: ClusterState, reason: str, who: str = "engine") -> None:
        self._journal_state(self.risk.set_cluster_state(self.now(), cluster, state, reason, who))

    def _journal_state(self, change: ClusterStateChange) -> None:
        self.journal.record_cluster_state(change)
        self.publish(RiskStateChanged(self.now(), change.cluster, change.state.value,
                                      change.reason))

    def _apply_risk_action(self, action: RiskAction) -> None:
        kind = action.kind
        if kind == "FLATTEN_ALL":
            self.log("WARNING", f"risk: flatten all ({action.reason})")
            self.flatten_all(ExitCode.RISK, action.reason)
        elif kind == "STATE_CHANGE" and action.change is not None:
            self._journal_state(action.change)
        elif kind == "ACCOUNT_STATE":
            if action.change is not None:
                self.journal.record_cluster_state(action.change)
            state = action.state.value if action.state else "?"
            self.publish(RiskStateChanged(self.now(), "ACCOUNT", state, action.reason))
            self.log("WARNING", f"account {state}: {action.reason}")

    def _update_blackout(self, sig: ClusterSignal) -> None:
        blackout = self.news.blackout(self.now(), sig.spec.currencies)
        until = blackout.until if blackout is not None else None
        if until != self._blackout[sig.spec.name]:
            self._blackout[sig.spec.name] = until
            if blackout is not None:
                ev = blackout.events[0]
                self.publish(NewsBlackout(self.now(), sig.spec.name, blackout.until, ev.title,
                                          ev.currency))

    def _snapshot_tdi(self, sig: ClusterSignal, when: datetime, point: TdiPoint, decision: str,
                      reason: str = "") -> None:
        bar = utc(sig.last_bar_s * 1000) if sig.last_bar_s is not None else when
        self.journal.record_tdi(TdiSnapshot(self.run_id, sig.spec.name, bar, point.tdi,
                                            point.phi, point.eigengap, point.explained,
                                            decision, reason))

    # ------------------------------------------------------------------ commands

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self.execute(command)

    def execute(self, command: cmd.Command) -> tuple[bool, str]:
        """Validate, journal, apply and answer one command (on the engine's thread)."""
        record = ManualCommand(command.command_id, self.now(), command.source, command.name,
                               command.arguments())
        self.journal.record_command(record)
        try:
            ok, message = self._apply(command)
        except (KeyError, ValueError) as exc:
            ok, message = False, f"rejected: {exc}"
        self.journal.record_command(ManualCommand(
            command.command_id, self.now(), command.source, command.name, command.arguments(),
            ("ok: " if ok else "failed: ") + message))
        self.publish(CommandDone(self.now(), command.command_id, command.name, ok, message))
        self._snapshot_at = 0.0
        return ok, message

    def _clusters(self, name: str) -> list[str]:
        if name == "*":
            return list(self.signals)
        if name not in self.signals:
            raise KeyError(f"no cluster named {name!r}")
        return [name]

    def _apply(self, command: cmd.Command) -> tuple[bool, str]:
        who = command.source
        match command:
            case cmd.PauseCluster(cluster=c) | cmd.HaltCluster(cluster=c) | \
                    cmd.ResumeCluster(cluster=c):
                state = {cmd.PauseCluster: ClusterState.CLOSE_ONLY,
                         cmd.HaltCluster: ClusterState.HALTED,
                         cmd.ResumeCluster: ClusterState.ACTIVE}[type(command)]
                if c != "*":
                    self._clusters(c)
                change = self.risk.set_cluster_state(self.now(), c, state,
                                                     f"{command.name} by {who}", who)
                self._journal_state(change)
                return True, f"{'all clusters' if c == '*' else c} {state.value}"
            case cmd.CloseBasket(cluster=c):
                self._clusters(c)
                if c not in self.baskets:
                    return False, f"{c} has no open basket"
                done = self.close_basket(c, ExitCode.MANUAL, math.nan, f"closed by {who}")
                return done, "closed" if done else "close pending (a leg failed; retrying)"
            case cmd.ClosePosition(ticket=ticket):
                return self._close_position(int(ticket), who)
            case cmd.FlattenAll():
                n = len(self.baskets)
                self.flatten_all(ExitCode.MANUAL, f"flatten all by {who}")
                left = len(self.baskets)
                return left == 0, f"{n - left} basket(s) closed" + (f", {left} pending" if left
                                                                     else "")
            case cmd.OpenBasket(cluster=c, direction=d):
                self._clusters(c)
                direction = Direction(d.upper())
                sig = self.signals[c]
                if sig.last_point is None:
                    return False, "no TDI yet"
                basket_id = self.try_entry(sig, sig.last_point, direction, manual=True)
                return (basket_id is not None,
                        f"opened {basket_id}" if basket_id else "refused (see the journal)")
            case cmd.SetThresholds(cluster=c, entry=e, exit_band=x):
                self._clusters(c)
                if not (0 < x < e < self.signals[c].spec.stops.tdi_stop):
                    return False, f"need 0 < X ({x}) < E ({e}) < TDI stop"
                self.signals[c].entry, self.signals[c].exit_band = float(e), float(x)
                return True, f"{c}: E={e} X={x}"
            case cmd.UseCalendar(calendar=calendar):
                self.news = NewsFilter(self.config.news, calendar)  # type: ignore[arg-type]
                for sig in self.signals.values():
                    self._update_blackout(sig)
                return True, f"news filter now uses {command.arguments()['calendar']} " \
                             f"({self.news.state(self.now()).name.lower()})"
            case cmd.Rearm():
                for change in self.risk.rearm(self.now(), who):
                    self._journal_state(change)
                return True, "re-armed"
        return False, f"unknown command {command.name}"

    def _close_position(self, ticket: int, who: str) -> tuple[bool, str]:
        for cluster, basket in self.baskets.items():
            for leg in basket.open_legs:
                if leg.position == ticket:
                    fill = self.executor.send_leg(basket.basket_id, OrderPurpose.MANUAL,
                                                  leg.symbol, -leg.lots, basket.magic,
                                                  position=ticket)
                    if not fill.filled:
                        return False, f"#{ticket}: {fill.status} {fill.retcode} {fill.detail}"
                    self._book_close(basket, leg, fill)
                    if not basket.open_legs:
                        self.close_basket(cluster, ExitCode.MANUAL, math.nan,
                                          f"last leg closed by {who}")
                    return True, f"#{ticket} ({leg.symbol}) of {basket.basket_id} closed"
        positions = self.terminal.positions_get(ticket=ticket) or ()
        if not positions:
            return False, f"no open position #{ticket}"
        p = positions[0]
        lots = float(p.volume) if int(p.type) == 0 else -float(p.volume)
        fill = self.executor.send_leg(None, OrderPurpose.MANUAL, str(p.symbol), -lots,
                                      int(p.magic), position=ticket, comment=str(p.comment))
        return fill.filled, (f"#{ticket} closed" if fill.filled else
                             f"#{ticket}: {fill.status} {fill.retcode} {fill.detail}")

    # ------------------------------------------------------------------ snapshot & end

    def _maybe_snapshot(self) -> None:
        if time.monotonic() - self._snapshot_at >= 0.2:
            self.snapshot(refresh=True)

    def snapshot(self, refresh: bool = False) -> EngineSnapshot:
        """An immutable picture of the engine (rebuilt at most five times a second)."""
        if refresh or self._snapshot is None:
            self._snapshot_at = time.monotonic()
            snap = self._build_snapshot()
            with self._snapshot_lock:
                self._snapshot = snap
        with self._snapshot_lock:
            assert self._snapshot is not None
            return self._snapshot

    def _build_snapshot(self) -> EngineSnapshot:
        views = []
        states = self.risk.snapshot(self.now())
        for name, sig in self.signals.items():
            point = sig.last_point
            basket = self.baskets.get(name)
            st = states.clusters.get(name)
            views.append(ClusterView(
                name, sig.spec.symbols, point.tdi if point else math.nan,
                point.eigengap if point else math.nan, sig.entry, sig.exit_band,
                st.state.value if st else "ACTIVE", st.reason if st else "",
                basket.basket_id if basket else None,
                basket.direction.value if basket else None,
                self._basket_pnl(basket) if basket else 0.0, self._blackout.get(name)))
        a = self._account
        return EngineSnapshot(
            self.now(), tuple(views), states.account_state.value, states.account_reason,
            float(a.balance) if a else math.nan, float(a.equity) if a else math.nan,
            float(a.margin_level) if a else math.nan, self.open_risk(),
            self.risk.daily_pnl(self.equity) if a else 0.0, self._connected,
            self.news.state(self.now()).name, self._quote_views(), self._position_views(),
            float(a.margin) if a else 0.0, float(a.margin_free) if a else 0.0, self.mode.value)

    def _quote_views(self) -> tuple[QuoteView, ...]:
        out = []
        m = self.market
        for i, symbol in enumerate(m.symbols):
            point = self._points.get(symbol) or 1e-5
            t = int(m.last_tick_msc[i])
            out.append(QuoteView(symbol, float(m.bid[i]), float(m.ask[i]),
                                 float((m.ask[i] - m.bid[i]) / point), utc(t) if t else None,
                                 max(0, round(-math.log10(point)))))
        return tuple(out)

    def _position_views(self) -> tuple[PositionView, ...]:
        positions = self.terminal.positions_get() or ()
        owners = {sig.spec.magic: name for name, sig in self.signals.items()}
        paid = {leg.position: leg.commission for b in self.baskets.values() for leg in b.legs}
        return tuple(PositionView(
            int(p.ticket), str(p.symbol), "BUY" if int(p.type) == 0 else "SELL",
            float(p.volume), float(p.price_open), float(p.price_current), float(p.swap),
            float(p.profit), int(p.magic), str(p.comment), owners.get(int(p.magic)),
            float(paid.get(int(p.ticket), 0.0)))
            for p in positions)

    def stop(self, reason: str = "") -> None:
        self._refresh_account()
        self._journal_equity()
        self.journal.end_run(RunEnd(self.run_id, self.now(), reason))
        self.log("INFO", f"engine stopped: {reason}" if reason else "engine stopped")

