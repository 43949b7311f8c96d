"""The four risk levels of DESIGN section 5 that gate entries and can force exits.

Levels, checked in this order for a candidate basket (first refusal wins):

1. **Account**: a lock on the whole account (``cluster="*"``): CLOSE_ONLY after the daily
   loss limit, HALTED after the drawdown limit until the trader re-arms; no entries while the
   terminal is disconnected or equity is unknown.
2. **Cluster**: its own lock (manual, or CLOSE_ONLY after its daily loss limit), one basket
   at a time, a cooldown after a stop exit (HS, TS).
3. **Portfolio**: total open risk budget, per-currency net exposure, margin-level floor.
4. **Trade**: maximum lots per leg.  (The exits HS/TS/TO themselves are the runner's.)

The manager is pure: no clock (every call gets ``now``, an aware UTC datetime), no I/O.  It
answers entries with a ``Decision`` and returns ``RiskAction`` lists the runner applies in
order: journal every ``action.change`` (a ``ClusterStateChange``), flatten on
``FLATTEN_ALL``.  Locks are exactly those journal records, so ``restore`` rebuilds them
after a restart; cooldowns and today's realised P&L are rebuilt from basket history.

A lock is one record per cluster (the journal keeps the latest per cluster): a trader's
change replaces whatever is there, while a lock the engine sets never weakens one in force
(when both restrict, the result is their union: the stricter state, both sides, the later
expiry).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine import decisions as codes
from engine.decisions import ALLOWED, Decision
from engine.errors import UserError
from engine.model import ClusterState, Direction, ExitCode, require_utc
from engine.records import BasketRecord, ClusterStateChange

#: The cluster name that addresses the whole account in locks and journal records.
ACCOUNT = "*"
#: Who the manager names in the records it creates itself.
ENGINE = "engine"

#: The FX trading day rolls over at 17:00 New York time, following US daylight saving.
ROLLOVER_ZONE = "America/New_York"
ROLLOVER_TIME = time(17, 0)

M30 = timedelta(minutes=30)
STOP_EXITS = frozenset({ExitCode.HS, ExitCode.TS})

# Reason codes of the locks the engine sets (the text after ": " is the human detail).
CLUSTER_DAILY_LOSS = "CLUSTER_DAILY_LOSS"
ACCOUNT_DAILY_LOSS = "ACCOUNT_DAILY_LOSS"
MAX_DRAWDOWN = "MAX_DRAWDOWN"
LOCK_EXPIRED = "LOCK_EXPIRED"
REARMED = "REARMED"
RECONNECTED = "RECONNECTED"

_STATE_RANK = {ClusterState.ACTIVE: 0, ClusterState.CLOSE_ONLY: 1, ClusterState.HALTED: 2}


class UnknownClusterError(UserError):
    """A command named a cluster the engine does not run."""


# --------------------------------------------------------------------------- trading day


@lru_cache(maxsize=1)
def _rollover_zone() -> ZoneInfo:
    try:
        return ZoneInfo(ROLLOVER_ZONE)
    except ZoneInfoNotFoundError:
        raise UserError(
            f"time zone {ROLLOVER_ZONE} is not installed; install the 'tzdata' package "
            "(needed to find the 17:00 New York trading-day rollover)"
        ) from None


def trading_day_start(now: datetime) -> datetime:
    """The last 17:00 New York at or before ``now``, in UTC (21:00 UTC in summer, 22:00 in
    winter).  17:00 is never inside a DST gap or fold, so the local time is unambiguous."""
    zone = _rollover_zone()
    local = require_utc(now, "now").astimezone(zone)
    start = datetime.combine(local.date(), ROLLOVER_TIME, tzinfo=zone)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), ROLLOVER_TIME, tzinfo=zone)
    return start.astimezone(UTC)


def next_trading_day_start(now: datetime) -> datetime:
    """The first 17:00 New York strictly after ``now``, in UTC: when daily locks expire."""
    zone = _rollover_zone()
    local_start = trading_day_start(now).astimezone(zone)
    return datetime.combine(
        local_start.date() + timedelta(days=1), ROLLOVER_TIME, tzinfo=zone
    ).astimezone(UTC)


def _ceil_m30(now: datetime) -> datetime:
    floor = now.replace(minute=now.minute - now.minute % 30, second=0, microsecond=0)
    return floor if floor == now else floor + M30


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class RiskConfig:
    """Risk limits.  Fractions are of equity; defaults suit a 0.30%-per-trade engine.

    - ``risk_per_trade = 0.003``: a basket's hard-stop loss as a fraction of equity (RPT);
    - ``max_lots_per_leg = 10.0``: no leg of a new basket above this many lots;
    - ``cooldown_bars = 4``: after a stop exit (HS, TS) the cluster waits this many complete
      M30 bars before a new entry (0 disables);
    - ``cluster_daily_loss = 0.01``: a cluster whose realised loss today reaches this share of
      the day-start equity goes CLOSE_ONLY until the next trading day;
    - ``max_open_risk = 0.015``: the open baskets' risk budgets plus the candidate's may not
      exceed this share of equity (five baskets at the default RPT);
    - ``max_currency_exposure = 3.0``: per currency, |net exposure| of the open baskets plus
      the candidate may not exceed this multiple of equity (clusters overlap on USD);
    - ``margin_level_floor = 300.0``: no entry while the margin level (percent) is below
      this; a margin level of 0 means no positions in MT5 and passes;
    - ``account_daily_loss = 0.02``: equity this far below the day-start equity puts the
      whole account CLOSE_ONLY until the next trading day;
    - ``max_drawdown = 0.08``: equity this far below its peak flattens everything and HALTs
      the account until the trader re-arms.
    """

    risk_per_trade: float = 0.003
    max_lots_per_leg: float = 10.0
    cooldown_bars: int = 4
    cluster_daily_loss: float = 0.01
    max_open_risk: float = 0.015
    max_currency_exposure: float = 3.0
    margin_level_floor: float = 300.0
    account_daily_loss: float = 0.02
    max_drawdown: float = 0.08

    def __post_init__(self) -> None:
        for name in ("risk_per_trade", "cluster_daily_loss", "max_open_risk",
                     "account_daily_loss", "max_drawdown"):
            _require_fraction(name, getattr(self, name))
        for name in ("max_lots_per_leg", "max_currency_exposure"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: must be a positive number, got {value!r}")
        if not math.isfinite(self.margin_level_floor) or self.margin_level_floor < 0:
            raise ValueError(f"margin_level_floor: must be >= 0, got {self.margin_level_floor!r}")
        if isinstance(self.cooldown_bars, bool) or not isinstance(self.cooldown_bars, int) \
                or self.cooldown_bars < 0:
            raise ValueError(f"cooldown_bars: must be an integer >= 0, got {self.cooldown_bars!r}")
        if self.max_open_risk < self.risk_per_trade:
            raise ValueError(
                f"max_open_risk: {self.max_open_risk} is below risk_per_trade "
                f"{self.risk_per_trade}, so no basket could ever open"
            )

    def risk_budget(self, equity: float) -> float:
        """The account-currency loss a new basket's hard stop may cost (RPT x equity)."""
        return self.risk_per_trade * equity


def _require_fraction(name: str, value: float) -> None:
    if not math.isfinite(value) or not 0 < value < 1:
        raise ValueError(f"{name}: must be a fraction between 0 and 1, got {value!r}")


# --------------------------------------------------------------------------- vocabulary


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


# --------------------------------------------------------------------------- locks


def _covers(lock: ClusterStateChange | None, now: datetime, state: ClusterState,
            side: Direction | None) -> bool:
    """True when ``lock`` already restricts at least as much as (state, side) would."""
    if lock is None or not lock.in_force(now):
        return False
    same_side = lock.side is None or lock.side == side
    return _STATE_RANK[lock.state] >= _STATE_RANK[state] and same_side


def _union(existing: ClusterStateChange, new: ClusterStateChange) -> ClusterStateChange:
    """One record restricting at least as much as both (the journal keeps one per cluster)."""
    state = max(existing.state, new.state, key=_STATE_RANK.__getitem__)
    side = existing.side if existing.side == new.side else None
    if existing.expires_at is None or new.expires_at is None:
        expires_at = None
    else:
        expires_at = max(existing.expires_at, new.expires_at)
    reason = f"{new.reason} (kept: {existing.state} {existing.reason})"
    return ClusterStateChange(time=new.time, cluster=new.cluster, state=state, reason=reason,
                              who=new.who, side=side, expires_at=expires_at)


def _live(lock: ClusterStateChange | None, now: datetime | None) -> ClusterStateChange | None:
    """``lock`` if it restricts at ``now`` (None: no time known yet, a held lock counts)."""
    if lock is None or lock.state is ClusterState.ACTIVE:
        return None
    return lock if now is None or lock.in_force(now) else None


def _blocks(lock: ClusterStateChange | None, now: datetime, direction: Direction) -> bool:
    if lock is None or not lock.in_force(now):
        return False
    return lock.side is None or lock.side == direction


def _describe_lock(lock: ClusterStateChange) -> str:
    side = f" {lock.side} entries" if lock.side else ""
    until = f" until {lock.expires_at:%Y-%m-%d %H:%M} UTC" if lock.expires_at else \
        " until re-armed"
    return f"{lock.state}{side} since {lock.time:%Y-%m-%d %H:%M} UTC by {lock.who}{until}: " \
        f"{lock.reason}"


def _money(value: float) -> str:
    return f"{value:,.2f}"


# --------------------------------------------------------------------------- manager


class RiskManager:
    """Per-cluster and account risk state, fed by the runner; see the module docstring.

    ``connected`` starts True because replay and backtest have no connection to lose; the
    live runner reports the terminal's state with ``on_connection`` before trading.
    """

    def __init__(self, config: RiskConfig, clusters: Sequence[str], *,
                 connected: bool = True) -> None:
        names = list(clusters)
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names must be unique: {names}")
        if ACCOUNT in names or any(not name for name in names):
            raise ValueError(f"cluster names must be non-empty and not {ACCOUNT!r}: {names}")
        self.config = config
        self.clusters: tuple[str, ...] = tuple(names)
        self._locks: dict[str, ClusterStateChange | None] = dict.fromkeys([ACCOUNT, *names])
        self._cooldowns: dict[str, tuple[datetime, ExitCode] | None] = dict.fromkeys(names)
        self._day_pnl: dict[str, float] = dict.fromkeys(names, 0.0)
        self._day_start: datetime | None = None
        self._day_end: datetime | None = None
        self._day_start_equity: float | None = None
        self._daily_loss_overridden = False
        self._drawdown_tripped = False
        self._peak: float | None = None
        self._balance: float | None = None
        self._equity: float | None = None
        self._margin_level: float | None = None
        self._connected = connected
        self._ignored_marks = 0
        self._restored_unjudged = False
        self._last_now: datetime | None = None

    # ----------------------------------------------------------------- restart

    def restore(
        self,
        changes: Iterable[ClusterStateChange],
        peak_equity: float | None = None,
        *,
        now: datetime | None = None,
        day_start_equity: float | None = None,
        baskets: Iterable[BasketRecord] = (),
    ) -> RestoreReport:
        """Rebuild the state a restart lost, before any other call.

        ``changes``: journaled lock records (``Journal.cluster_states().values()`` or the full
        history; the latest per cluster wins).  A record no longer in force is ignored:
        judged at ``now``, or, without ``now``, silently dropped by the first call that
        brings a clock (``check_entry`` never honours an expired lock either way).
        ``peak_equity``: the equity peak since the last re-arm (None: the first mark).
        ``day_start_equity``: the equity at today's 17:00 New York roll (None: the first
        mark).  ``baskets`` (needs ``now``): baskets closed since
        ``trading_day_start(now) - cooldown``, replayed for today's realised P&L per cluster
        and for cooldowns still running.  Locks and baskets of clusters no longer configured
        are skipped and named in the report.
        """
        if now is not None:
            now = require_utc(now, "now")
            self._start_day(now)
        latest: dict[str, ClusterStateChange] = {}
        for change in sorted(changes, key=lambda c: c.time):
            latest[change.cluster] = change
        restored = expired = 0
        unknown: set[str] = set()
        for key, change in latest.items():
            if key not in self._locks:
                unknown.add(key)
            elif change.state is not ClusterState.ACTIVE and (now is None or change.in_force(now)):
                self._locks[key] = change
                restored += 1
            else:
                self._locks[key] = None
                if change.state is not ClusterState.ACTIVE:
                    expired += 1
        self._restored_unjudged = now is None
        if peak_equity is not None and math.isfinite(peak_equity):
            self._peak = peak_equity
        if day_start_equity is not None and math.isfinite(day_start_equity):
            self._day_start_equity = day_start_equity
        replayed = self._replay_baskets(now, baskets, unknown)
        cooldowns = sum(1 for cooldown in self._cooldowns.values() if cooldown is not None)
        return RestoreReport(restored, expired, tuple(sorted(unknown)), replayed, cooldowns)

    def _replay_baskets(self, now: datetime | None, baskets: Iterable[BasketRecord],
                        unknown: set[str]) -> int:
        replayed = 0
        for record in baskets:
            closing = record.closing
            if closing is None:
                continue
            if now is None or self._day_start is None:
                raise ValueError("restoring closed baskets needs now")
            cluster = record.opening.cluster
            if cluster not in self._day_pnl:
                unknown.add(cluster)
                continue
            replayed += 1
            if self._day_start <= closing.closed_at <= now and math.isfinite(closing.pnl):
                self._day_pnl[cluster] += closing.pnl
            if closing.exit_code in STOP_EXITS and self.config.cooldown_bars > 0:
                until = self._cooldown_end(closing.closed_at)
                current = self._cooldowns[cluster]
                if until > now and (current is None or until > current[0]):
                    self._cooldowns[cluster] = (until, closing.exit_code)
        return replayed

    # ----------------------------------------------------------------- events

    def on_clock(self, now: datetime) -> list[RiskAction]:
        """Roll the trading day and release expired locks; cheap, call it on any bar."""
        return self._advance(require_utc(now, "now"))

    def on_equity(self, now: datetime, balance: float, equity: float,
                  margin_level: float) -> list[RiskAction]:
        """An account mark: the daily-loss and drawdown rules.

        A non-finite equity (a broken mark) is skipped and counted in the snapshot: it must
        neither trip a limit nor become the peak.
        """
        now = require_utc(now, "now")
        actions = self._advance(now)
        if not math.isfinite(equity):
            self._ignored_marks += 1
            return actions
        self._balance = balance if math.isfinite(balance) else self._balance
        self._margin_level = margin_level if math.isfinite(margin_level) else None
        self._equity = equity
        if self._day_start_equity is None:
            self._day_start_equity = equity
        self._peak = equity if self._peak is None else max(self._peak, equity)
        actions += self._check_drawdown(now, equity)
        actions += self._check_account_daily_loss(now, equity)
        return actions

    def on_basket_closed(self, now: datetime, cluster: str, exit_code: ExitCode | str,
                         pnl: float) -> list[RiskAction]:
        """A basket closed with net ``pnl``: cooldown after a stop, the cluster daily loss.

        A cluster not configured (a basket adopted from an older configuration) is skipped.
        """
        now = require_utc(now, "now")
        exit_code = ExitCode(exit_code)
        actions = self._advance(now)
        if cluster not in self._day_pnl:
            return actions
        if exit_code in STOP_EXITS and self.config.cooldown_bars > 0:
            self._cooldowns[cluster] = (self._cooldown_end(now), exit_code)
        if not math.isfinite(pnl):
            return actions
        self._day_pnl[cluster] += pnl
        reference = self._day_start_equity if self._day_start_equity is not None \
            else self._equity
        if reference is None or reference <= 0:
            return actions
        limit = self.config.cluster_daily_loss * reference
        if -self._day_pnl[cluster] >= limit:
            reason = (f"{CLUSTER_DAILY_LOSS}: lost {_money(-self._day_pnl[cluster])} today "
                      f"(limit {_money(limit)} = {self.config.cluster_daily_loss:.2%} of "
                      f"day-start equity {_money(reference)})")
            change = self._engine_lock(now, cluster, ClusterState.CLOSE_ONLY, reason,
                                       self._day_end)
            if change is not None:
                actions += self._lock_actions(now, change, CLUSTER_DAILY_LOSS)
        return actions

    def on_connection(self, now: datetime, connected: bool) -> list[RiskAction]:
        """The terminal connection changed: no entries while it is down."""
        now = require_utc(now, "now")
        actions = self._advance(now)
        if connected == self._connected:
            return actions
        self._connected = connected
        state, reason = self._account_state(now)
        code = RECONNECTED if connected else codes.DISCONNECTED
        actions.append(RiskAction(RiskActionKind.ACCOUNT_STATE, code, reason, state=state))
        return actions

    # ----------------------------------------------------------------- commands

    def set_cluster_state(
        self,
        now: datetime,
        cluster: str,
        state: ClusterState | str,
        reason: str,
        who: str,
        side: Direction | str | None = None,
        expires_at: datetime | None = None,
    ) -> ClusterStateChange:
        """A trader's pause/halt/resume of one cluster, or of the account with ``"*"``.

        The change replaces the cluster's lock whatever it was (ACTIVE clears it; cooldowns
        are a rule, not a lock, and stay).  Resuming the account is ``rearm``.  Returns the
        record to journal.  Bad input from the trader raises ``UserError``.
        """
        now = require_utc(now, "now")
        state = ClusterState(state)
        if cluster not in self._locks:
            raise UnknownClusterError(
                f"unknown cluster {cluster!r} (known: {', '.join(self.clusters)}, or "
                f"{ACCOUNT!r} for the whole account)"
            )
        if not reason.strip() or not who.strip():
            raise UserError("a cluster state change needs a reason and who made it")
        if expires_at is not None and require_utc(expires_at, "expires_at") <= now:
            raise UserError(f"the lock would expire at {expires_at:%Y-%m-%d %H:%M} UTC, "
                            "which is not after now")
        if cluster == ACCOUNT and state is ClusterState.ACTIVE:
            return self.rearm(now, who, reason)[0]
        try:
            change = ClusterStateChange(time=now, cluster=cluster, state=state, reason=reason,
                                        who=who, side=side, expires_at=expires_at)
        except ValueError as error:
            raise UserError(f"cannot set {cluster} to {state}: {error}") from None
        self._locks[cluster] = None if state is ClusterState.ACTIVE else change
        self._last_now = max(self._last_now or now, now)
        return change

    def rearm(self, now: datetime, who: str, reason: str = "") -> list[ClusterStateChange]:
        """The trader resumes the account after a halt: clear the account lock and restart
        the drawdown reference at the current equity (else the next mark would re-halt).

        Clearing an account daily-loss lock is the trader overriding it for the rest of this
        trading day; the drawdown limit still protects.  Returns the records to journal
        (one: the account back to ACTIVE, journaled even when nothing was locked, as the
        audit trail of the new drawdown reference).
        """
        now = require_utc(now, "now")
        lock = self._locks[ACCOUNT]
        if lock is not None and lock.in_force(now) and lock.reason.startswith(ACCOUNT_DAILY_LOSS):
            self._daily_loss_overridden = True
        self._locks[ACCOUNT] = None
        self._drawdown_tripped = False
        if self._equity is not None:
            self._peak = self._equity
        self._last_now = max(self._last_now or now, now)
        text = f"{REARMED}: {reason}" if reason else REARMED
        return [ClusterStateChange(time=now, cluster=ACCOUNT, state=ClusterState.ACTIVE,
                                   reason=text, who=who)]

    # ----------------------------------------------------------------- questions

    def check_entry(self, now: datetime, request: EntryRequest) -> Decision:
        """May this basket open now?  Account -> cluster -> portfolio -> trade."""
        now = require_utc(now, "now")
        for check in (self._check_account, self._check_cluster, self._check_portfolio,
                      self._check_trade):
            decision = check(now, request)
            if not decision.allowed:
                return decision
        return ALLOWED

    def effective_state(self, now: datetime, cluster: str) -> ClusterState:
        """The stricter of the account's and the cluster's locks in force (any side)."""
        now = require_utc(now, "now")
        states = [lock.state for lock in (self._locks[ACCOUNT], self._locks[cluster])
                  if lock is not None and lock.in_force(now)]
        return max(states, key=_STATE_RANK.__getitem__, default=ClusterState.ACTIVE)

    def daily_pnl(self, equity: float | None = None) -> float:
        """Today's account P&L: ``equity`` (default: the last mark) minus the day-start
        equity; 0.0 until both are known."""
        equity = self._equity if equity is None else equity
        if equity is None or self._day_start_equity is None or not math.isfinite(equity):
            return 0.0
        return equity - self._day_start_equity

    def snapshot(self, now: datetime | None = None) -> RiskSnapshot:
        """The state for display at ``now`` (default: the latest time the manager was told;
        before any, every lock held counts as in force)."""
        now = self._last_now if now is None else require_utc(now, "now")
        views = {}
        for cluster in self.clusters:
            lock = _live(self._locks[cluster], now)
            cooldown = self._cooldowns[cluster]
            if cooldown is not None and now is not None and cooldown[0] <= now:
                cooldown = None
            if lock is not None:
                reason = lock.reason
            elif cooldown is not None:
                reason = f"{codes.COOLDOWN} after {cooldown[1]} until {cooldown[0]:%H:%M} UTC"
            else:
                reason = ""
            views[cluster] = ClusterRiskView(
                cluster=cluster,
                state=lock.state if lock else ClusterState.ACTIVE,
                reason=reason,
                lock=lock,
                cooldown_until=cooldown[0] if cooldown else None,
                cooldown_reason=str(cooldown[1]) if cooldown else "",
                day_pnl=self._day_pnl[cluster],
            )
        state, reason = self._account_state(now)
        drawdown = None
        if self._peak is not None and self._equity is not None and self._peak > 0:
            drawdown = max(0.0, 1.0 - self._equity / self._peak)
        return RiskSnapshot(
            time=now,
            account_state=state,
            account_reason=reason,
            account_lock=_live(self._locks[ACCOUNT], now),
            connected=self._connected,
            balance=self._balance,
            equity=self._equity,
            margin_level=self._margin_level,
            peak_equity=self._peak,
            drawdown=drawdown,
            day_start=self._day_start,
            day_end=self._day_end,
            day_start_equity=self._day_start_equity,
            day_pnl=self.daily_pnl(),
            clusters=MappingProxyType(views),
            ignored_equity_marks=self._ignored_marks,
        )

    # ----------------------------------------------------------------- entry checks

    def _check_account(self, now: datetime, request: EntryRequest) -> Decision:
        lock = self._locks[ACCOUNT]
        if lock is not None and _blocks(lock, now, request.direction):
            code = codes.ACCOUNT_HALTED if lock.state is ClusterState.HALTED \
                else codes.ACCOUNT_CLOSE_ONLY
            return Decision.refuse(code, f"account {_describe_lock(lock)}")
        if not self._connected:
            return Decision.refuse(codes.DISCONNECTED, "terminal disconnected: no new entries")
        if not math.isfinite(request.equity) or request.equity <= 0:
            return Decision.refuse(codes.NO_EQUITY, f"equity {request.equity!r} is unusable")
        return ALLOWED

    def _check_cluster(self, now: datetime, request: EntryRequest) -> Decision:
        cluster = request.cluster
        if cluster not in self._day_pnl:
            return Decision.refuse(codes.UNKNOWN_CLUSTER, f"cluster {cluster!r} is not configured")
        lock = self._locks[cluster]
        if lock is not None and _blocks(lock, now, request.direction):
            code = codes.CLUSTER_HALTED if lock.state is ClusterState.HALTED \
                else codes.CLUSTER_CLOSE_ONLY
            return Decision.refuse(code, f"{cluster} {_describe_lock(lock)}")
        if request.has_open_basket:
            return Decision.refuse(codes.ONE_BASKET, f"{cluster} already has an open basket")
        cooldown = self._cooldowns[cluster]
        if cooldown is not None and now < cooldown[0]:
            until, exit_code = cooldown
            return Decision.refuse(codes.COOLDOWN,
                                   f"{cluster} cooling down after a {exit_code} exit until "
                                   f"{until:%Y-%m-%d %H:%M} UTC")
        return ALLOWED

    def _check_portfolio(self, now: datetime, request: EntryRequest) -> Decision:
        config = self.config
        equity = request.equity
        if not math.isfinite(request.risk_budget) or request.risk_budget <= 0:
            return Decision.refuse(codes.INVALID_REQUEST,
                                   f"risk budget {request.risk_budget!r} must be positive")
        if not math.isfinite(request.open_risk) or request.open_risk < 0:
            return Decision.refuse(codes.INVALID_REQUEST,
                                   f"open risk {request.open_risk!r} must be >= 0")
        cap = config.max_open_risk * equity
        total = request.open_risk + request.risk_budget
        if total > cap:
            return Decision.refuse(
                codes.OPEN_RISK_CAP,
                f"open risk {_money(request.open_risk)} + {_money(request.risk_budget)} = "
                f"{_money(total)} exceeds {_money(cap)} ({config.max_open_risk:.2%} of equity)",
            )
        exposure_cap = config.max_currency_exposure * equity
        for currency in sorted(request.exposures):
            added = request.exposures[currency]
            held = request.open_exposures.get(currency, 0.0)
            if not math.isfinite(added) or not math.isfinite(held):
                return Decision.refuse(codes.INVALID_REQUEST,
                                       f"{currency} exposure {added!r} / open {held!r}")
            if added == 0:
                continue
            net = held + added
            if abs(net) > exposure_cap:
                return Decision.refuse(
                    f"{codes.CURRENCY_CAP}:{currency}",
                    f"{currency} net exposure {_money(held)} + {_money(added)} = "
                    f"{_money(net)} beyond +-{_money(exposure_cap)} "
                    f"({config.max_currency_exposure:g} x equity)",
                )
        margin_level = request.margin_level
        # MT5 reports 0 when no margin is used; NaN (unknown) fails the comparison.
        if margin_level != 0 and not margin_level >= config.margin_level_floor:
            return Decision.refuse(codes.MARGIN_FLOOR,
                                   f"margin level {margin_level:.1f}% is below the "
                                   f"{config.margin_level_floor:.0f}% floor")
        return ALLOWED

    def _check_trade(self, now: datetime, request: EntryRequest) -> Decision:
        if not request.lots:
            return Decision.refuse(codes.INVALID_REQUEST, "the basket has no legs")
        limit = self.config.max_lots_per_leg
        for symbol in sorted(request.lots):
            lots = abs(request.lots[symbol])
            if not math.isfinite(lots):
                return Decision.refuse(codes.INVALID_REQUEST, f"{symbol} lots {lots!r}")
            if lots > limit:
                return Decision.refuse(f"{codes.MAX_LOTS}:{symbol}",
                                       f"{symbol} {lots:g} lots exceeds {limit:g} per leg")
        return ALLOWED

    # ----------------------------------------------------------------- internals

    def _start_day(self, now: datetime) -> None:
        self._day_start = trading_day_start(now)
        self._day_end = next_trading_day_start(now)

    def _advance(self, now: datetime) -> list[RiskAction]:
        """Roll the trading day and release locks whose expiry passed (time never rewinds)."""
        self._last_now = max(self._last_now or now, now)
        if self._restored_unjudged:
            self._restored_unjudged = False
            for key, lock in self._locks.items():
                if lock is not None and not lock.in_force(now):
                    self._locks[key] = None
        if self._day_end is None:
            self._start_day(now)
        elif now >= self._day_end:
            self._start_day(now)
            self._day_pnl = dict.fromkeys(self._day_pnl, 0.0)
            self._day_start_equity = None
            self._daily_loss_overridden = False
        actions: list[RiskAction] = []
        for key, lock in self._locks.items():
            if lock is None or lock.in_force(now):
                continue
            self._locks[key] = None
            release = ClusterStateChange(
                time=lock.expires_at or now, cluster=key, state=ClusterState.ACTIVE,
                reason=f"{LOCK_EXPIRED}: {lock.state} {lock.reason}", who=ENGINE,
            )
            actions += self._lock_actions(now, release, LOCK_EXPIRED)
        for cluster, cooldown in self._cooldowns.items():
            if cooldown is not None and now >= cooldown[0]:
                self._cooldowns[cluster] = None
        return actions

    def _cooldown_end(self, exit_time: datetime) -> datetime:
        """Entries resume once ``cooldown_bars`` complete M30 bars closed after the exit."""
        return _ceil_m30(exit_time) + self.config.cooldown_bars * M30

    def _engine_lock(self, now: datetime, key: str, state: ClusterState, reason: str,
                     expires_at: datetime | None) -> ClusterStateChange | None:
        existing = self._locks[key]
        if _covers(existing, now, state, None):
            return None
        change = ClusterStateChange(time=now, cluster=key, state=state, reason=reason,
                                    who=ENGINE, expires_at=expires_at)
        if existing is not None and existing.in_force(now):
            change = _union(existing, change)
        self._locks[key] = change
        return change

    def _check_drawdown(self, now: datetime, equity: float) -> list[RiskAction]:
        """Flatten once per breach, even under a trader's halt (which leaves positions open).

        The trip is not restored at restart on purpose: if the process died between
        journaling the halt and flattening, the first mark still below the limit flattens
        again (a no-op when already flat).
        """
        peak = self._peak
        if self._drawdown_tripped or peak is None or peak <= 0:
            return []
        drawdown = 1.0 - equity / peak
        if drawdown < self.config.max_drawdown:
            return []
        self._drawdown_tripped = True
        reason = (f"{MAX_DRAWDOWN}: equity {_money(equity)} is {drawdown:.2%} below the peak "
                  f"{_money(peak)} (limit {self.config.max_drawdown:.2%})")
        change = self._engine_lock(now, ACCOUNT, ClusterState.HALTED, reason, None)
        actions = self._lock_actions(now, change, MAX_DRAWDOWN) if change else []
        actions.append(RiskAction(RiskActionKind.FLATTEN_ALL, MAX_DRAWDOWN, reason,
                                  exit_code=ExitCode.RISK))
        return actions

    def _check_account_daily_loss(self, now: datetime, equity: float) -> list[RiskAction]:
        start = self._day_start_equity
        if start is None or start <= 0 or self._daily_loss_overridden:
            return []
        loss = 1.0 - equity / start
        if loss < self.config.account_daily_loss:
            return []
        reason = (f"{ACCOUNT_DAILY_LOSS}: equity {_money(equity)} is {loss:.2%} below the "
                  f"day-start {_money(start)} (limit {self.config.account_daily_loss:.2%})")
        change = self._engine_lock(now, ACCOUNT, ClusterState.CLOSE_ONLY, reason,
                                   self._day_end)
        return self._lock_actions(now, change, ACCOUNT_DAILY_LOSS) if change else []

    def _lock_actions(self, now: datetime, change: ClusterStateChange,
                      code: str) -> list[RiskAction]:
        """The record to journal, and for the account the new effective state to show."""
        actions = [RiskAction(RiskActionKind.STATE_CHANGE, code, change.reason, change=change)]
        if change.cluster == ACCOUNT:
            state, reason = self._account_state(now)
            actions.append(RiskAction(RiskActionKind.ACCOUNT_STATE, code, reason, state=state))
        return actions

    def _account_state(self, now: datetime | None) -> tuple[ClusterState, str]:
        """HALTED beats a lost connection, which beats CLOSE_ONLY (it also blocks exits)."""
        lock = _live(self._locks[ACCOUNT], now)
        if lock is not None and (lock.state is ClusterState.HALTED or self._connected):
            return lock.state, lock.reason
        if not self._connected:
            return ClusterState.CLOSE_ONLY, f"{codes.DISCONNECTED}: terminal disconnected"
        return ClusterState.ACTIVE, ""
