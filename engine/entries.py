"""Opening baskets: the entry gates, sizing to the risk budget, and sending the legs.

An entry passes, in this order: the signal's own gates (reconciled, one basket per
cluster, a valid score, the kind's own lock: the TDI's eigengap, a pair's lost
cointegration), the news filter, sizing (a basket ATR to size from,
volume steps that keep the basket balanced), the risk manager, and the terminal's
``order_check`` (a closed market refuses there, before anything is journaled as open).
The first refusal wins; it is journaled, counted and published with a stable code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from engine.baskets import Basket, Leg, add_exposure
from engine.cluster import LegQuote, entry_direction, size_basket
from engine.config import EngineConfig
from engine.decisions import Decision
from engine.events import BasketOpened, EngineEvent, SignalRaised
from engine.execution import RETCODE_DONE, RETCODE_MARKET_CLOSED, Executor, LegFill
from engine.fx import CurrencyConverter
from engine.kinds.base import KindPoint
from engine.market import MarketState
from engine.model import ClusterState, Direction, ExitCode, OrderPurpose, OrderSide, make_basket_id
from engine.news import NewsFilter
from engine.ports import Journal
from engine.records import BasketOpen, NumeraireBalance, PlannedLeg, Refusal
from engine.risk import EntryRequest, RiskManager
from engine.signals import ClusterSignal
from engine.snapshot import RunStats
from engine.space import gross_notional, net_numeraire_exposure
from engine.startup import SymbolBook
from engine.uninterrupted import uninterrupted

#: Refuse a basket whose rounding moved its net exposure beyond this share of its gross:
#: in symbol space the net of the legs' base notionals, in currency space the net exposure
#: to the cluster's numeraire (the currency the basket is meant to be flat in).
MAX_ROUNDING_IMBALANCE = 0.10


class EntriesHost(Protocol):
    """What opening needs from the engine."""

    config: EngineConfig
    baskets: dict[str, Basket]
    market: MarketState
    fx: CurrencyConverter
    news: NewsFilter
    risk: RiskManager
    executor: Executor
    journal: Journal
    stats: RunStats
    symbol_book: SymbolBook
    run_id: str
    now_msc: int
    automation: bool

    @property
    def reconciled(self) -> bool: ...
    @property
    def equity(self) -> float: ...
    @property
    def margin_level(self) -> float: ...
    def now(self) -> datetime: ...
    def publish(self, event: EngineEvent) -> None: ...
    def log(self, level: str, text: str) -> None: ...
    def refresh_account(self) -> None: ...
    def mark_account(self) -> None: ...
    def open_risk(self) -> float: ...
    def journal_error(self, component: str, message: str, detail: str = "") -> None: ...
    def journal_tdi(self, sig: ClusterSignal, when: datetime, point: KindPoint, decision: str,
                    reason: str = "") -> None: ...
    def cluster_currencies(self, sig: ClusterSignal) -> frozenset[str]: ...
    def lock_cluster(self, cluster: str, state: ClusterState, reason: str,
                     who: str = "engine") -> None: ...
    def close_basket(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                     purpose: OrderPurpose = OrderPurpose.EXIT) -> bool: ...


class _Refused(Exception):
    """An entry gate said no: ``reason`` is the stable code, ``detail`` the sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    @classmethod
    def unless(cls, decision: Decision) -> None:
        if not decision:
            raise cls(decision.reason, decision.detail)


@dataclass(frozen=True)
class EntrySize:
    """A basket sized to its risk budget: signed lots of each traded symbol."""

    budget: float
    equity: float
    lots: dict[str, float]
    #: Signed account-currency exposure per currency of the rounded legs.
    currency_exposure: dict[str, float]
    #: What rounding changed (zeroed or clipped legs), logged with the basket.
    warnings: tuple[str, ...]
    #: Signed account-currency base notional of each traded leg after rounding.
    notionals: dict[str, float]
    #: The cluster's numeraire ("" when it has none) and the rounded legs' net exposure to
    #: it (account currency, + long; NaN without one), and their gross notional.
    numeraire: str = ""
    net_numeraire: float = math.nan
    gross: float = 0.0


class Entries:
    """Decides and opens the engine's baskets."""

    def __init__(self, host: EntriesHost) -> None:
        self._host = host
        self._basket_seq: dict[tuple[str, int], int] = defaultdict(int)
        #: The code of the last ``try_entry``'s refusal ("" when it opened a basket).
        self.last_refusal = ""

    def try_entry(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
                  manual: bool = False) -> str | None:
        """Check, size and open a basket; returns its id, or None (refusal journaled).

        The risk manager first judges the account as it is now: while nothing is held the
        account is marked only every half hour, so a basket closed since the last mark (a
        hard stop between bar closes) may have put it past its daily loss or drawdown, and
        the entry must meet that lock, not be sized on the equity that broke it."""
        self._host.mark_account()
        size, reason, detail = self.evaluate(sig, point, direction, manual)
        self.last_refusal = reason
        if reason or size is None:
            self._refuse(sig, point, direction, reason, detail)
            return None
        return self._open(sig, point, direction, size)

    def try_deferred(self, sig: ClusterSignal, point: KindPoint,
                     direction: Direction) -> str | None:
        """A deferred daily entry (``Engine._defer_if_closed``) decided again at the quotes
        it would fill at: its score re-evaluated at them with the signal bar's statistics
        (as the fast exits re-evaluate it) must still ask for the same direction, or the
        entry is refused (SIGNAL_GONE) and not deferred again.  Else ``try_entry``."""
        score = sig.provisional(self._host.market.mids())
        if entry_direction(score, sig.entry) is not direction:
            self.last_refusal = "SIGNAL_GONE"
            self._refuse(sig, point, direction, "SIGNAL_GONE",
                         f"the {sig.score_name} is {score:+.2f} at the quotes the entry would "
                         f"fill at (signal bar {point.score:+.2f}, entry beyond "
                         f"\u00b1{sig.entry:g})")
            return None
        return self.try_entry(sig, point, direction)

    def evaluate(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
                 manual: bool = False) -> tuple[EntrySize | None, str, str]:
        """Every entry gate in order, without trading or journaling: (the size, or None if
        a gate before sizing refused; the refusing gate's code, "" when all pass; its
        sentence).  ``try_entry`` acts on it; the manual-basket preview shows it."""
        size = None
        try:
            self._check_signal(sig, point, manual)
            size = self._size(sig, point, direction)
            self._check_risk(sig, direction, size)
            self._check_order(sig, size)
        except _Refused as refused:
            return size, refused.reason, refused.detail
        return size, "", ""

    def open_exposures(self) -> dict[str, float]:
        """Signed currency exposure of every open basket, valued now (the risk caps')."""
        host = self._host
        out: dict[str, float] = defaultdict(float)
        mids = host.market.mids()
        for basket in host.baskets.values():
            for ccy, value in basket.currency_exposure(host.market.index, mids,
                                                       host.fx).items():
                out[ccy] += value
        return dict(out)

    # ------------------------------------------------------------------ gates

    def _check_signal(self, sig: ClusterSignal, point: KindPoint, manual: bool) -> None:
        host = self._host
        if not host.reconciled:
            raise _Refused("NOT_RECONCILED", "reconciliation not done")
        if sig.spec.name in host.baskets:
            raise _Refused("ONE_BASKET", "a basket is already open")
        if not manual and not host.automation:
            raise _Refused("AUTOMATION_OFF", "Algo Trading is off: no automatic entries")
        if not point.valid:
            raise _Refused("NO_TDI", f"the {sig.score_name} is not valid yet")
        if not sig.model.trades:
            raise _Refused("WATCH_ONLY", f"a {sig.spec.kind} cluster that only watches "
                                         "its regime opens no basket")
        if not manual and point.lock:  # the trader's own basket overrides the model
            raise _Refused(point.lock_code, point.lock.split(":", 1)[-1].strip())
        _Refused.unless(host.news.check_entry(host.now(), host.cluster_currencies(sig)))

    def _size(self, sig: ClusterSignal, point: KindPoint, direction: Direction) -> EntrySize:
        """Lots whose hard stop (``hard_stop_atr`` basket ATRs) loses the risk budget, or
        whose loss at the kind's own stop does (``SignalModel.own_sizing``: a deal's break)."""
        host = self._host
        mids = host.market.mids()
        own = self._own_sizing(sig, point, direction, mids)
        if own is None:
            exposures = sig.unit_exposures(point, direction)
            atr = sig.unit_atr(exposures)
            if not atr > 0:
                raise _Refused("NO_ATR", "not enough bars for the basket ATR")
        host.refresh_account()
        equity = host.equity
        budget = host.config.risk.risk_per_trade * equity
        if own is None:
            gross = budget / (sig.spec.stops.hard_stop_atr * atr)
        else:
            exposures, gross = own[0], budget / own[1]
        quotes = {s: LegQuote(s, host.fx.value(host.fx.parts(s)[0], mids),
                              q.contract_size, q.volume_min, q.volume_max, q.volume_step)
                  for s, q in host.symbol_book.quotes.items() if s in exposures}
        size = size_basket(exposures, gross, quotes, sig.spec.orientation)
        traded = {leg.symbol: leg.lots for leg in size.legs if leg.lots != 0}
        notionals = {leg.symbol: leg.notional for leg in size.legs if leg.lots != 0}
        numeraire = sig.spec.numeraire
        net_numeraire = net_numeraire_exposure(notionals, numeraire)
        if sig.spec.kind == "tdi" and sig.spec.space == "currency":
            unbalanced = abs(net_numeraire) > MAX_ROUNDING_IMBALANCE * gross_notional(notionals)
        else:  # the rounded legs' net against the net the model asked for (0 for the TDI)
            wanted = sum(exposures.values()) * gross
            unbalanced = (abs(sum(notionals.values()) - wanted)
                          > MAX_ROUNDING_IMBALANCE * gross)
        if len(traded) < min(2, len(exposures)) or unbalanced:
            raise _Refused("ROUNDING", f"volume steps leave the basket unbalanced: "
                                       f"{'; '.join(size.warnings)}")
        problem = sig.model.rounding_problem(traded)
        if problem:
            raise _Refused("ROUNDING", problem)
        currency_exposure: dict[str, float] = {}
        for leg in size.legs:
            q = quotes[leg.symbol]
            add_exposure(currency_exposure, leg.symbol, leg.lots * q.contract_size,
                         q.usd_per_base, host.fx.instruments.get(leg.symbol))
        return EntrySize(budget, equity, traded, currency_exposure, size.warnings, notionals,
                         numeraire, net_numeraire, gross_notional(notionals))

    @staticmethod
    def _own_sizing(sig: ClusterSignal, point: KindPoint, direction: Direction,
                    mids: np.ndarray) -> tuple[dict[str, float], float] | None:
        """The kind's own unit basket and loss per unit of gross (None: the shared ATR
        sizing); a kind that cannot size this point refuses (``SIZE``)."""
        prices = {s: float(mids[i]) for s, i in zip(sig.symbols, sig.index, strict=True)}
        try:
            own = sig.model.own_sizing(point, direction, prices)
        except ValueError as exc:
            raise _Refused("SIZE", str(exc)) from None
        if own is not None and not own[1] > 0:
            raise _Refused("SIZE", "the kind's stop loses nothing: no size")
        return own

    def _check_risk(self, sig: ClusterSignal, direction: Direction, size: EntrySize) -> None:
        host = self._host
        name = sig.spec.name
        _Refused.unless(host.risk.check_entry(host.now(), EntryRequest(
            cluster=name, direction=direction, risk_budget=size.budget, lots=size.lots,
            exposures=dict(size.currency_exposure), equity=size.equity,
            margin_level=host.margin_level, open_risk=host.open_risk(),
            open_exposures=self.open_exposures(), has_open_basket=name in host.baskets)))

    def _check_order(self, sig: ClusterSignal, size: EntrySize) -> None:
        """Would the terminal take every leg now?  (Not while a market is closed, nor a sale
        of a symbol the broker lets trade long only: a half-built basket is not the trade.)"""
        for symbol, lots in size.lots.items():
            code, comment = self._host.executor.check_leg(symbol, lots, sig.spec.magic)
            if code not in (0, RETCODE_DONE):
                reason = ("MARKET_CLOSED" if code == RETCODE_MARKET_CLOSED
                          else f"ORDER_CHECK:{code}")
                raise _Refused(reason, f"order_check {symbol}: {code} {comment}")

    def _refuse(self, sig: ClusterSignal, point: KindPoint | None, direction: Direction,
                reason: str, detail: str) -> None:
        host = self._host
        name = sig.spec.name
        host.stats.refusals[reason.split(":")[0]] += 1
        host.journal.record_refusal(Refusal(host.now(), name, reason, detail, host.run_id))
        if point is not None:
            host.journal_tdi(sig, host.now(), point, f"refused {direction.value}", reason)
        host.publish(SignalRaised(host.now(), name, direction.value,
                                  point.score if point else math.nan, False, reason))

    # ------------------------------------------------------------------ opening

    def _new_basket_id(self, cluster: str) -> str:
        host = self._host
        minute = host.now_msc // 60_000
        while True:  # the journal, not memory, decides: a restart may reuse the minute
            self._basket_seq[(cluster, minute)] += 1
            basket_id = make_basket_id(cluster, host.now(), self._basket_seq[(cluster, minute)])
            if host.journal.basket(basket_id) is None:
                return basket_id

    def _open(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
              size: EntrySize) -> str | None:
        """Journal the basket, send its legs, and unwind what filled if one does not: one
        ``uninterrupted`` section, so a stop never leaves it half built."""
        with uninterrupted():
            return self._open_legs(sig, point, direction, size)

    def _open_legs(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
                   size: EntrySize) -> str | None:
        host = self._host
        name = sig.spec.name
        basket_id = self._new_basket_id(name)
        time_stop = sig.model.time_stop_bars(point)
        planned = tuple(PlannedLeg(s, OrderSide.BUY if v > 0 else OrderSide.SELL, abs(v),
                                   size.notionals[s])
                        for s, v in size.lots.items())
        host.journal.open_basket(BasketOpen(
            basket_id, host.run_id, name, direction, host.now(), point.score, size.budget,
            planned, sig.spec.magic, NumeraireBalance(sig.spec.space, size.numeraire,
                                                      size.net_numeraire, size.gross),
            time_stop))
        for w in size.warnings:
            host.log("WARNING", f"{basket_id}: {w}")
        basket = Basket(basket_id, name, direction, host.now(), point.score, size.budget,
                        sig.spec.stops.take_profit_r * size.budget, sig.bars,
                        magic=sig.spec.magic,
                        time_stop_bars=time_stop)
        failed = self._send_legs(basket, size.lots)
        host.journal_tdi(sig, host.now(), point, f"entry {direction.value}")
        host.baskets[name] = basket
        host.stats.baskets_opened += 1
        if failed is not None:
            self._unwind(basket, failed, point.score)
            return None
        host.publish(BasketOpened(host.now(), basket_id, name, direction.value, point.score,
                                  size.budget, {leg.symbol: leg.lots for leg in basket.legs}))
        host.publish(SignalRaised(host.now(), name, direction.value, point.score, True))
        return basket_id

    def _send_legs(self, basket: Basket, lots: dict[str, float]) -> LegFill | None:
        """Send the legs in order, stopping at the first that does not fill (returned)."""
        host = self._host
        for symbol, volume in lots.items():
            fill = host.executor.send_leg(basket.basket_id, OrderPurpose.ENTRY, symbol, volume,
                                          basket.magic)
            if fill.lots:
                basket.legs.append(Leg(symbol, fill.lots,
                                       host.symbol_book.quotes[symbol].contract_size,
                                       fill.position, fill.price, fill.commission))
            if not fill.filled:
                return fill
        return None

    def _unwind(self, basket: Basket, failed: LegFill, tdi: float) -> None:
        """A leg failed: halt the cluster and close what did fill (a partial basket is not
        the dollar-neutral trade that was decided)."""
        host = self._host
        filled = sum(1 for leg in basket.legs if leg.lots)
        reason = (f"leg {failed.symbol} not filled ({failed.status}, retcode "
                  f"{failed.retcode} {failed.detail}); {filled} filled leg(s) unwound")
        host.journal_error("execution", f"{basket.basket_id}: {reason}")
        host.lock_cluster(basket.cluster, ClusterState.HALTED, reason)
        host.close_basket(basket.cluster, ExitCode.RISK, tdi, reason,
                          purpose=OrderPurpose.UNWIND)
