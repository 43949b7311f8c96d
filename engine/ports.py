"""The engine's ports: what it needs from the world, as protocols.

``Terminal`` is the MetaTrader5 function surface with canonical symbol names and UTC
helpers: ``mt5bridge.live.LiveTerminal`` provides it over the real module or over the
simulated terminal, so the engine has one code path for live, demo, replay and backtest.
``MarketDriver`` moves the clock and hands over the ticks of each step: the simulator's
driver advances the virtual clock; the live driver polls the terminal.  ``Journal`` is the
trade journal (``storage.journal`` implements it on SQLite), ``EventCalendar`` the economic
calendar the news filter asks (``storage.calendar`` on SQLite, ``engine.calendar`` in
memory), and ``Pacer`` maps wall time to virtual time for the worker thread.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from engine.calendar import EconomicEvent
from engine.model import Impact
from engine.records import (
    BasketClose,
    BasketOpen,
    BasketRecord,
    ClusterStateChange,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    HistoryFilter,
    ManualCommand,
    NewsAction,
    OpenBasketRecord,
    OrderRequest,
    OrderResult,
    Refusal,
    RunEnd,
    RunStart,
    TdiSnapshot,
)


class AccountFigures(NamedTuple):
    """The account figures the engine marks and journals, as ``account_info`` gives them
    (a terminal may hand them over without building the whole account structure)."""

    balance: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float


@runtime_checkable
class Terminal(Protocol):
    def account_info(self) -> Any: ...
    def symbol_info(self, symbol: str) -> Any: ...
    def symbol_info_tick(self, symbol: str) -> Any: ...
    def positions_get(self, **filters: Any) -> Any: ...
    def history_deals_get(self, *args: Any, **filters: Any) -> Any: ...
    def order_send(self, request: Mapping[str, Any]) -> Any: ...
    def order_check(self, request: Mapping[str, Any]) -> Any: ...
    def last_error(self) -> tuple[int, str]: ...
    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any,
                         date_to: Any) -> Any: ...
    def rates_to_bars(self, symbol: str, rates: np.ndarray) -> np.ndarray: ...
    def utc_ms_from_server_s(self, server_s: int) -> int: ...
    def server_s_from_utc_ms(self, utc_ms: int) -> int: ...
    def filling_mode_for(self, symbol: str) -> int: ...


@runtime_checkable
class MarketDriver(Protocol):
    """The clock and the ticks: ``step_to(t)`` returns the ticks in (previous t, t]."""

    @property
    def symbols(self) -> Sequence[str]: ...

    def now_msc(self) -> int: ...

    def step_to(self, t_msc: int) -> np.ndarray: ...


@runtime_checkable
class Journal(Protocol):
    """The journal the engine writes to and restarts from (see the module docstring).

    Only what the engine itself calls; ``storage.journal.SqliteJournal`` answers more
    questions (history, statistics, exports) for the console and the reports.
    """

    def start_run(self, run: RunStart) -> None: ...
    def end_run(self, end: RunEnd) -> None: ...
    def record_tdi(self, snapshot: TdiSnapshot) -> None: ...
    def open_basket(self, basket: BasketOpen) -> None: ...
    def close_basket(self, close: BasketClose) -> None: ...
    def record_request(self, request: OrderRequest) -> None: ...
    def record_result(self, result: OrderResult) -> None: ...
    def record_deal(self, deal: Deal) -> None: ...
    def record_equity(self, snapshot: EquitySnapshot) -> None: ...
    def record_cluster_state(self, change: ClusterStateChange) -> None: ...
    def record_command(self, command: ManualCommand) -> None: ...
    def record_news_action(self, action: NewsAction) -> None: ...
    def record_refusal(self, refusal: Refusal) -> None: ...
    def record_error(self, error: ErrorRecord) -> None: ...

    def open_baskets(self) -> list[OpenBasketRecord]: ...
    def basket(self, basket_id: str) -> BasketRecord | None: ...
    def basket_history(self, where: HistoryFilter | None = None) -> list[BasketRecord]: ...
    def equity_series(
        self,
        run_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[EquitySnapshot]: ...
    def cluster_states(self, epoch: str | None = None,
                       at: datetime | None = None) -> dict[str, ClusterStateChange]: ...


@runtime_checkable
class EventCalendar(Protocol):
    """The queries the news filter makes.  All datetimes are aware UTC.

    - ``events_between`` returns events with ``start <= time <= end`` for any of
      ``currencies`` (``ALL`` events always included; None means every currency) at or above
      ``min_impact``, ordered by time, then currency, then title.
    - ``next_events`` returns up to ``limit`` such events with ``time >= after``.
    - ``coverage_end(t)`` is the end of the covered stretch containing ``t`` (None when no
      imported file covers ``t``): the filter knows how far ahead it can see.
    - ``is_fresh(t, horizon)`` is True when all of ``[t, t + horizon]`` is covered.
    """

    def events_between(
        self,
        start: datetime,
        end: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
    ) -> list[EconomicEvent]: ...

    def next_events(
        self,
        after: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
        limit: int = 10,
    ) -> list[EconomicEvent]: ...

    def coverage_end(self, t: datetime) -> datetime | None: ...

    def is_fresh(self, t: datetime, horizon: timedelta = timedelta(0)) -> bool: ...


@runtime_checkable
class Pacer(Protocol):
    """Maps wall time to virtual time (``mt5bridge.sim.pacing.Pacer`` implements it)."""

    def now_msc(self) -> int: ...

    def seconds_until(self, t_msc: int) -> float: ...

    def advance_to(self, t_msc: int) -> int: ...

    @property
    def paused(self) -> bool: ...

    @property
    def is_max(self) -> bool: ...
