"""What the risk manager answers with and shows: actions, entry requests, snapshots, codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from engine.errors import UserError
from engine.model import ClusterState, Direction, ExitCode
from engine.records import ClusterStateChange

#: The cluster name that addresses the whole account in locks and journal records.
ACCOUNT = "*"
#: Who the manager names in the records it creates itself.
ENGINE = "engine"
#: Exits that start a cluster's cooldown.
STOP_EXITS = frozenset({ExitCode.HS, ExitCode.TS})

# Reason codes of the locks the engine sets (the text after ": " is the human detail).
CLUSTER_DAILY_LOSS = "CLUSTER_DAILY_LOSS"
ACCOUNT_DAILY_LOSS = "ACCOUNT_DAILY_LOSS"
MAX_DRAWDOWN = "MAX_DRAWDOWN"
LOCK_EXPIRED = "LOCK_EXPIRED"
REARMED = "REARMED"
RECONNECTED = "RECONNECTED"


class UnknownClusterError(UserError):
    """A command named a cluster the engine does not run."""


class RiskActionKind(StrEnum):
    FLATTEN_ALL = "FLATTEN_ALL"
    STATE_CHANGE = "STATE_CHANGE"
    ACCOUNT_STATE = "ACCOUNT_STATE"


@dataclass(frozen=True)
class RiskAction:
    """Something the runner must do, in list order.

    - ``STATE_CHANGE``: a lock set or released: journal ``change`` (``change.cluster`` is
      ``"*"`` for the account); these are the only records to journal;
    - ``ACCOUNT_STATE``: the account's effective ``state`` changed (a lock, or the
      connection): show it; any lock behind it came in a STATE_CHANGE just before;
    - ``FLATTEN_ALL``: close every basket with ``exit_code`` (RISK) and ``reason``.
    """

    kind: RiskActionKind
    reason: str
    detail: str = ""
    change: ClusterStateChange | None = None
    state: ClusterState | None = None
    exit_code: ExitCode | None = None


@dataclass(frozen=True)
class EntryRequest:
    """A candidate basket as the runner sized it, with the book it would join.

    ``lots`` are signed or unsigned lots per symbol; ``exposures`` are the candidate's
    signed account-currency exposures per *currency* (long EURUSD 100k: EUR +x, USD -x);
    ``open_risk``/``open_exposures`` are the same sums over the baskets already open.
    ``margin_level`` is MT5's percent (0 = no positions).
    """

    cluster: str
    direction: Direction
    risk_budget: float
    lots: Mapping[str, float]
    exposures: Mapping[str, float]
    equity: float
    margin_level: float = 0.0
    open_risk: float = 0.0
    open_exposures: Mapping[str, float] = field(default_factory=dict)
    has_open_basket: bool = False

    def __post_init__(self) -> None:
        # Accept engine.cluster.Direction (LONG=1/SHORT=-1) as well as the journal's names.
        object.__setattr__(self, "direction",
                           Direction(getattr(self.direction, "name", self.direction)))


@dataclass(frozen=True)
class RestoreReport:
    """What ``restore`` did with the journal's records, for the start-up log."""

    locks_restored: int = 0
    locks_expired: int = 0
    unknown_clusters: tuple[str, ...] = ()
    baskets_replayed: int = 0
    cooldowns_restored: int = 0


@dataclass(frozen=True)
class ClusterRiskView:
    """One cluster's row in the GUI: its own lock (None = none in force), cooldown, P&L;
    ``reason`` is the lock's reason, else the cooldown's, else empty."""

    cluster: str
    state: ClusterState
    reason: str
    lock: ClusterStateChange | None
    cooldown_until: datetime | None
    cooldown_reason: str
    day_pnl: float


@dataclass(frozen=True)
class RiskSnapshot:
    """A read-only picture of the manager for the GUI's status bar and cluster table."""

    time: datetime | None
    account_state: ClusterState
    account_reason: str
    account_lock: ClusterStateChange | None
    connected: bool
    balance: float | None
    equity: float | None
    margin_level: float | None
    peak_equity: float | None
    drawdown: float | None
    day_start: datetime | None
    day_end: datetime | None
    day_start_equity: float | None
    day_pnl: float
    clusters: Mapping[str, ClusterRiskView]
    ignored_equity_marks: int
