"""What the engine tells the world: immutable events and a small synchronous bus.

The engine publishes from its own thread; subscribers must not block.  The GUI subscribes a
Qt signal's ``emit`` so Qt queues the event onto the GUI thread; the headless runner
subscribes a printer.  A subscriber that raises is logged and kept: one broken widget must
not stop trading.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineEvent:
    time: datetime


@dataclass(frozen=True)
class TdiUpdated(EngineEvent):
    cluster: str
    timeframe: str  # the cluster's signal timeframe at a bar close, "M1" for the provisional value
    tdi: float
    phi: float
    eigengap: float
    explained: float


@dataclass(frozen=True)
class SignalRaised(EngineEvent):
    cluster: str
    direction: str
    tdi: float
    accepted: bool
    reason: str = ""


@dataclass(frozen=True)
class BasketOpened(EngineEvent):
    basket_id: str
    cluster: str
    direction: str
    tdi: float
    risk_budget: float
    legs: Mapping[str, float] = field(default_factory=dict)  # symbol -> signed lots


@dataclass(frozen=True)
class LegClosed(EngineEvent):
    """One leg of a basket filled out at ``time``: most often with the rest of its basket,
    but a leg whose exit failed is retried and fills later, so the others' moment is only
    known from here (what a backtest reads the quotes their profits were booked at by)."""

    basket_id: str
    cluster: str
    symbol: str


@dataclass(frozen=True)
class BasketClosed(EngineEvent):
    basket_id: str
    cluster: str
    direction: str
    exit_code: str
    pnl: float
    costs: float
    tdi: float
    detail: str = ""


@dataclass(frozen=True)
class RiskStateChanged(EngineEvent):
    scope: str  # a cluster name, or "ACCOUNT"
    state: str
    reason: str


@dataclass(frozen=True)
class NewsBlackout(EngineEvent):
    cluster: str
    until: datetime
    title: str
    currency: str


@dataclass(frozen=True)
class EquityUpdated(EngineEvent):
    balance: float
    equity: float
    margin_level: float
    open_risk: float
    daily_pnl: float


@dataclass(frozen=True)
class CommandDone(EngineEvent):
    command_id: str
    command: str
    ok: bool
    message: str


@dataclass(frozen=True)
class LogLine(EngineEvent):
    level: str
    text: str


#: The logger of INFO lines the operator must see as surely as a warning, e.g. the end of
#: an outage that was warned of: it is enabled at INFO whatever the root logger's level, and
#: the command line prints its lines beside its warnings (``app.cli.log_lines``).
NOTICES = "engine.notices"


Subscriber = Callable[[EngineEvent], None]


class EventBus:
    """Synchronous fan-out; safe to subscribe from any thread."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = [*self._subscribers, fn]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not fn]

        return unsubscribe

    def publish(self, event: EngineEvent) -> None:
        for fn in self._subscribers:
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", fn, type(event).__name__)
