"""Closing baskets: every open leg at market, then the basket in the journal.

A basket is closed in the journal only once all its legs are out.  A leg that does not
fill leaves the exit *pending*: the engine retries it at each M1 close (with ticks, the
market is open) under the same exit code until every leg is out.  The realised P&L of a
leg comes from its closing deal (profit, commissions and swap as the broker booked them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from engine.baskets import Basket, Leg
from engine.events import BasketClosed, EngineEvent, LegClosed
from engine.execution import DEAL_ENTRY_IN, RETCODE_MARKET_CLOSED, Executor
from engine.model import ExitCode, OrderPurpose
from engine.ports import Journal, Terminal
from engine.records import BasketClose
from engine.risk import RiskAction, RiskManager
from engine.snapshot import RunStats
from engine.uninterrupted import uninterrupted


@dataclass(frozen=True)
class PendingExit:
    """An exit decided but not finished (a leg failed to close): retried as decided, and
    journaled with the score it was decided at (``tdi``; NaN where no score decided it)."""

    code: ExitCode
    detail: str
    purpose: OrderPurpose
    tdi: float = math.nan


class ExitsHost(Protocol):
    """What closing needs from the engine."""

    baskets: dict[str, Basket]
    executor: Executor
    terminal: Terminal
    journal: Journal
    risk: RiskManager
    stats: RunStats

    def now(self) -> datetime: ...
    def publish(self, event: EngineEvent) -> None: ...
    def journal_error(self, component: str, message: str, detail: str = "") -> None: ...
    def log(self, level: str, text: str) -> None: ...
    def apply_risk_action(self, action: RiskAction) -> None: ...


class Exits:
    """Closes the engine's baskets and remembers the exits still pending."""

    def __init__(self, host: ExitsHost) -> None:
        self._host = host
        #: cluster -> the exit to finish at the next M1 close.
        self.pending: dict[str, PendingExit] = {}

    def close_basket(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                     purpose: OrderPurpose = OrderPurpose.EXIT) -> bool:
        """Close every open leg; the basket is closed in the journal once all legs are.
        One ``uninterrupted`` section: a stop waits until every leg has been asked to
        close (a leg the broker refuses stays pending, as without a stop)."""
        with uninterrupted():
            return self._close_legs(cluster, code, tdi, detail, purpose)

    def _close_legs(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                    purpose: OrderPurpose) -> bool:
        host = self._host
        basket = host.baskets.get(cluster)
        if basket is None:
            return False
        for leg in basket.open_legs:
            fill = host.executor.send_leg(basket.basket_id, purpose, leg.symbol, -leg.lots,
                                          basket.magic, position=leg.position)
            if fill.filled:
                self.book_close(leg)
                host.publish(LegClosed(host.now(), basket.basket_id, cluster, leg.symbol))
            else:
                first = cluster not in self.pending  # report the first failure, not retries
                if first and fill.retcode == RETCODE_MARKET_CLOSED:  # a daily bar's exit
                    host.log("INFO", f"{basket.basket_id}: {code.value} exit waits for the "
                                     f"{leg.symbol} market to open")
                elif first:
                    host.journal_error("execution", f"{basket.basket_id}: closing {leg.symbol} "
                                       f"failed ({fill.status} {fill.retcode} {fill.detail}); "
                                       f"retried until it fills (at each M1 close; a daily "
                                       f"cluster's when its market next quotes)")
                self.pending[cluster] = PendingExit(code, detail, purpose, tdi)
                return False
        self.pending.pop(cluster, None)
        del host.baskets[cluster]
        self._book_basket(cluster, basket, code, tdi, detail)
        return True

    def retry_pending(self, cluster: str) -> bool:
        """Retry the cluster's pending exit, if it has one (True: it had)."""
        pending = self.pending.get(cluster)
        if pending is None:
            return False
        self.close_basket(cluster, pending.code, pending.tdi, pending.detail, pending.purpose)
        return True

    def flatten_all(self, code: ExitCode, detail: str) -> None:
        for cluster in list(self._host.baskets):
            self.close_basket(cluster, code, math.nan, detail)

    def book_close(self, leg: Leg) -> None:
        """Realised P&L of a leg from the closing deal (profit, commissions, swap)."""
        leg.closed = True
        deals = self._host.terminal.history_deals_get(position=leg.position) or ()
        profit = swap = commission = 0.0
        for d in deals:
            commission += float(d.commission)
            if int(d.entry) != DEAL_ENTRY_IN:  # OUT deals carry the profit and the swap
                profit += float(d.profit)
                swap += float(d.swap)
        leg.commission = commission
        leg.swap = swap
        leg.realised = profit + swap + commission

    def _book_basket(self, cluster: str, basket: Basket, code: ExitCode, tdi: float,
                     detail: str) -> None:
        """Journal, count and announce a basket whose legs are all out."""
        host = self._host
        now = host.now()
        pnl = sum(leg.realised for leg in basket.legs)
        costs = sum(leg.commission + leg.swap for leg in basket.legs)
        host.journal.close_basket(BasketClose(basket.basket_id, now, tdi, code, pnl, costs,
                                              detail))
        host.stats.baskets_closed += 1
        host.stats.exits[code.value] += 1
        host.stats.realised_pnl += pnl
        for action in host.risk.on_basket_closed(now, cluster, code, pnl):
            host.apply_risk_action(action)
        host.publish(BasketClosed(now, basket.basket_id, cluster, basket.direction.value,
                                  code.value, pnl, costs, tdi, detail))
