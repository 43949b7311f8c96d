"""The journal records: the frozen facts the engine hands to the journal and reads back.

The engine never imports sqlite; it writes these frozen records through the ``Journal``
protocol (``engine.ports``) and reads back what restart reconciliation and the GUI
need.  ``storage.journal`` implements it on SQLite.

Contract every implementation keeps:
- every ``record_*``/``open_basket``/``close_basket``/``start_run``/``end_run`` call is one
  transaction: after it returns the facts survive a crash of the process;
- every write is idempotent on its natural key (run id, basket id, request id, deal ticket,
  (run, cluster, timeframe, bar time), ...): replaying an event after a crash never adds a
  row, and a later record for the same key (an order result after its request, a basket's
  close after its open) fills in the same row;
- a field a record leaves as ``None`` never erases a value already journaled;
- times are aware UTC datetimes and are kept to the millisecond (MT5's ``time_msc``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.model import (
    MAX_BASKET_ID_LENGTH,
    ClusterState,
    Direction,
    ExitCode,
    OrderPurpose,
    OrderSide,
    RunMode,
    require_ticket,
    require_utc,
)


def _optional_utc(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else require_utc(value, name)


def _normalise_times(record: object, *names: str, optional: Sequence[str] = ()) -> None:
    for name in names:
        value = getattr(record, name)
        object.__setattr__(record, name, require_utc(value, f"{type(record).__name__}.{name}"))
    for name in optional:
        value = getattr(record, name)
        normalised = _optional_utc(value, f"{type(record).__name__}.{name}")
        object.__setattr__(record, name, normalised)


# --------------------------------------------------------------------------- writes


@dataclass(frozen=True)
class AccountIdentity:
    """The account a run trades, as the terminal reports it (``account_info``), and the mode.

    A journal belongs to one account: opening it for another is refused, so a demo session
    can never reconcile a live account's baskets away, and histories never mix.  The mode is
    part of the identity: a live account and a simulated one never share a journal, whatever
    their numbers.  The simulator gives every seed or market an account of its own
    (``mt5bridge.sim.identity``).
    """

    mode: RunMode
    server: str
    login: int
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RunMode(self.mode))
        if isinstance(self.login, bool) or not isinstance(self.login, int) or self.login < 0:
            raise ValueError(f"account login must be a non-negative integer, got {self.login!r}")
        for name in ("server", "currency"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise ValueError(f"account {name} must be a one-line non-empty text, "
                                 f"got {value!r}")

    @property
    def key(self) -> str:
        """``server:login``: how deals and orders name the account they belong to."""
        return f"{self.server}:{self.login}"

    def describe(self) -> str:
        """``demo account 52700001 on FxCluster-Demo (USD)``: for messages."""
        return f"{self.mode.value} account {self.login} on {self.server} ({self.currency})"


@dataclass(frozen=True)
class RunStart:
    """A start of the engine.  ``versions`` maps component -> version (product, numpy, ...).

    ``account`` is the account the run trades (None only where no terminal says, as in
    tests of the journal alone); the journal binds itself to it at the first run.

    ``epoch`` names one life of the account's positions and deal history at the terminal.
    A broker's account has one life that outlives every process: ``""``.  A simulated
    account lives as long as its simulator: each ``SimTerminal`` draws an epoch of its own,
    which clients of a terminal server read through ``sim_config``, so an engine restarted
    against the same served terminal finds the same epoch and reconciles, while a run over a
    fresh simulator finds a new one and never adopts (or closes) an earlier one's baskets.
    Deals are keyed by account, epoch and ticket, so a fresh simulator that numbers its deals
    from the same start again cannot overwrite an earlier run's.
    """

    run_id: str
    mode: RunMode
    started_at: datetime
    config_hash: str
    versions: Mapping[str, str] = field(default_factory=dict)
    account: AccountIdentity | None = None
    epoch: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RunMode(self.mode))
        if self.account is not None and self.account.mode is not self.mode:
            raise ValueError(f"run {self.run_id}: a {self.mode.value} run cannot trade the "
                             f"{self.account.describe()}")
        _normalise_times(self, "started_at")


@dataclass(frozen=True)
class RunEnd:
    run_id: str
    ended_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _normalise_times(self, "ended_at")


@dataclass(frozen=True)
class TdiSnapshot:
    """The signal at one decision point.  NaN values (warm-up) read back as NaN."""

    run_id: str
    cluster: str
    bar_time: datetime
    tdi: float
    phi: float
    eigengap: float
    explained: float
    decision: str
    reason: str = ""
    timeframe: str = "M30"
    #: The cluster's strategy kind (``engine.kinds``): ``tdi`` holds its score whatever the
    #: kind, phi/eigengap/explained only a ``tdi`` cluster's own figures.
    kind: str = "tdi"
    #: The kind's diagnostics at the bar, (name, value) in its order.
    diagnostics: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _normalise_times(self, "bar_time")


@dataclass(frozen=True)
class PlannedLeg:
    """One symbol of a basket as planned at entry; ``exposure`` is the signed account-currency
    value of the leg's base currency (lots x contract size x value of one base unit, + for
    a buy), from which any currency's net exposure can be recomputed."""

    symbol: str
    side: OrderSide
    volume: float
    exposure: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", OrderSide(self.side))


@dataclass(frozen=True)
class NumeraireBalance:
    """How flat a basket is in its cluster's numeraire, as sized (after lot rounding).

    ``space`` is the cluster's (``currency`` or ``symbol``; ``""`` for baskets journaled
    before it was recorded); ``numeraire`` the currency every member contains (``""``
    when there is none); ``net`` the legs' net exposure to it in the account currency
    (+ long, NaN when unknown); ``gross`` the sum of the legs' absolute base notionals.
    In currency space ``|net| <= 10%`` of gross is an entry condition
    (``engine.entries.MAX_ROUNDING_IMBALANCE``).
    """

    space: str = ""
    numeraire: str = ""
    net: float = math.nan
    gross: float = math.nan

    @property
    def share(self) -> float:
        """``net / gross``, signed (NaN when either is unknown or gross is 0)."""
        if not (math.isfinite(self.net) and math.isfinite(self.gross)) or self.gross == 0:
            return math.nan
        return self.net / self.gross


@dataclass(frozen=True)
class BasketOpen:
    basket_id: str
    run_id: str
    cluster: str
    direction: Direction
    opened_at: datetime
    entry_tdi: float
    risk_budget: float
    legs: tuple[PlannedLeg, ...] = ()
    magic: int = 0
    balance: NumeraireBalance = field(default_factory=NumeraireBalance)
    #: The basket's own time stop in signal bars when its kind set one at entry (a pair's
    #: multiple of the half-life), None for the cluster's: a restart keeps it.
    time_stop_bars: int | None = None

    def __post_init__(self) -> None:
        if not self.basket_id or len(self.basket_id) > MAX_BASKET_ID_LENGTH:
            raise ValueError(
                f"basket id {self.basket_id!r} must be 1..{MAX_BASKET_ID_LENGTH} characters"
            )
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "legs", tuple(self.legs))
        symbols = [leg.symbol for leg in self.legs]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"basket {self.basket_id}: a symbol appears in two legs: {symbols}")
        _normalise_times(self, "opened_at")


@dataclass(frozen=True)
class BasketClose:
    """``pnl`` is net of costs; ``costs`` is commission + swap + fees as MT5 signs them
    (negative = paid), both in the account currency."""

    basket_id: str
    closed_at: datetime
    exit_tdi: float
    exit_code: ExitCode
    pnl: float
    costs: float
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "exit_code", ExitCode(self.exit_code))
        _normalise_times(self, "closed_at")


@dataclass(frozen=True)
class OrderRequest:
    """A leg order, journaled *before* ``order_send`` so a crash mid-send is visible.

    ``raw`` is the request dict exactly as handed to the terminal (stored as JSON).
    """

    request_id: str
    basket_id: str | None
    purpose: OrderPurpose
    symbol: str
    side: OrderSide
    volume: float
    price: float
    deviation: int
    magic: int
    comment: str
    filling: int
    sent_at: datetime
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "purpose", OrderPurpose(self.purpose))
        object.__setattr__(self, "side", OrderSide(self.side))
        _normalise_times(self, "sent_at")


@dataclass(frozen=True)
class OrderResult:
    """What ``order_send`` answered for a request (``deal``/``order`` are 0 when none)."""

    request_id: str
    received_at: datetime
    retcode: int
    deal: int
    order: int
    volume: float
    price: float
    comment: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_ticket(self.deal, "OrderResult.deal")
        require_ticket(self.order, "OrderResult.order")
        _normalise_times(self, "received_at")


@dataclass(frozen=True)
class Deal:
    """A deal from ``history_deals_get`` (``type``/``entry`` keep MT5's integer codes)."""

    ticket: int
    order: int
    position_id: int
    symbol: str
    type: int
    entry: int
    volume: float
    price: float
    commission: float
    swap: float
    profit: float
    fee: float
    time: datetime
    magic: int
    comment: str
    basket_id: str | None = None

    def __post_init__(self) -> None:
        require_ticket(self.ticket, "Deal.ticket")
        require_ticket(self.order, "Deal.order")
        require_ticket(self.position_id, "Deal.position_id")
        _normalise_times(self, "time")


@dataclass(frozen=True)
class EquitySnapshot:
    run_id: str
    time: datetime
    balance: float
    equity: float
    margin: float
    free_margin: float
    margin_level: float
    open_risk: float

    def __post_init__(self) -> None:
        _normalise_times(self, "time")


@dataclass(frozen=True)
class ClusterStateChange:
    """A cluster's trading state set by the engine or the trader, with its lock details.

    ``side`` limits a lock to one direction (None: both); ``expires_at`` None means until
    someone re-arms it; ``who`` is ``engine`` or the trader's channel (``gui``, ``cli``).
    """

    time: datetime
    cluster: str
    state: ClusterState
    reason: str
    who: str
    side: Direction | None = None
    expires_at: datetime | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ClusterState(self.state))
        if self.side is not None:
            object.__setattr__(self, "side", Direction(self.side))
        _normalise_times(self, "time", optional=("expires_at",))

    def in_force(self, now: datetime) -> bool:
        """True while this change still restricts trading at ``now``."""
        if self.state is ClusterState.ACTIVE:
            return False
        return self.expires_at is None or require_utc(now, "now") < self.expires_at


@dataclass(frozen=True)
class ManualCommand:
    """The audit trail of a trader command.  Journal it with ``result=None`` when it is
    received and again with the result once done: both land in the same row."""

    command_id: str
    time: datetime
    source: str
    command: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    result: str | None = None

    def __post_init__(self) -> None:
        _normalise_times(self, "time")


@dataclass(frozen=True)
class NewsAction:
    """A calendar event the engine acted on (``action``: e.g. BLOCK_ENTRY, FLATTEN)."""

    time: datetime
    cluster: str
    action: str
    event_time: datetime
    currency: str
    impact: str
    title: str
    run_id: str | None = None

    def __post_init__(self) -> None:
        _normalise_times(self, "time", "event_time")


@dataclass(frozen=True)
class Refusal:
    """Why a cluster did not trade when its signal said so ("why not trading")."""

    time: datetime
    cluster: str
    reason: str
    detail: str = ""
    run_id: str | None = None

    def __post_init__(self) -> None:
        _normalise_times(self, "time")


@dataclass(frozen=True)
class ErrorRecord:
    time: datetime
    component: str
    message: str
    detail: str = ""
    run_id: str | None = None

    def __post_init__(self) -> None:
        _normalise_times(self, "time")


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class OrderRecord:
    """A request and, once it arrived, its result (``result`` None = the crash window)."""

    request: OrderRequest
    result: OrderResult | None


@dataclass(frozen=True)
class BasketRecord:
    """A basket as journaled: its opening and, once closed, its close."""

    opening: BasketOpen
    closing: BasketClose | None

    @property
    def basket_id(self) -> str:
        return self.opening.basket_id

    @property
    def is_open(self) -> bool:
        return self.closing is None


@dataclass(frozen=True)
class OpenBasketRecord:
    """Everything reconciliation needs about a basket still open in the journal.

    ``epoch`` is the account epoch of the run that opened it (``RunStart.epoch``): only a
    basket of the current epoch can still have positions at the terminal.
    """

    basket: BasketRecord
    orders: tuple[OrderRecord, ...]
    deals: tuple[Deal, ...]
    epoch: str = ""


@dataclass(frozen=True)
class HistoryFilter:
    """Closed-basket history filter; ``since``/``until`` bound the close time (inclusive)."""

    cluster: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    exit_code: ExitCode | None = None
    limit: int | None = None
    #: Only the baskets this run opened (the console's chart marks the current run's).
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.exit_code is not None:
            object.__setattr__(self, "exit_code", ExitCode(self.exit_code))
        _normalise_times(self, optional=("since", "until"))


@dataclass(frozen=True)
class ClusterStats:
    """Closed-basket statistics of one cluster; P&L figures are net, account currency."""

    cluster: str
    baskets: int
    wins: int
    losses: int
    pnl: float
    costs: float
    best: float
    worst: float
    exit_codes: Mapping[str, int]

    @property
    def win_rate(self) -> float:
        return self.wins / self.baskets if self.baskets else 0.0

    @property
    def average_pnl(self) -> float:
        return self.pnl / self.baskets if self.baskets else 0.0
