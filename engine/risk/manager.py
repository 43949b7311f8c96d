"""The risk manager: per-cluster and account state, entry checks, and the actions they force."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import MappingProxyType

from engine import decisions as codes
from engine.decisions import ALLOWED, Decision
from engine.errors import UserError
from engine.formatting import format_money
from engine.model import ClusterState, Direction, ExitCode, require_utc
from engine.records import BasketRecord, ClusterStateChange
from engine.risk.config import RiskConfig
from engine.risk.locks import STATE_RANK, blocks, covers, describe_lock, live_lock, union_of
from engine.risk.tradingday import M30, ceil_m30, next_trading_day_start, trading_day_start
from engine.risk.types import (
    ACCOUNT,
    ACCOUNT_DAILY_LOSS,
    CLUSTER_DAILY_LOSS,
    ENGINE,
    LOCK_EXPIRED,
    MAX_DRAWDOWN,
    REARMED,
    RECONNECTED,
    STOP_EXITS,
    ClusterRiskView,
    EntryRequest,
    RestoreReport,
    RiskAction,
    RiskActionKind,
    RiskSnapshot,
    UnknownClusterError,
)


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

    def add_cluster(self, name: str) -> None:
        """A cluster added while running (a trader's deal, ``commands.AddDeal``): ACTIVE,
        no cooldown, nothing realised today."""
        if not name or name == ACCOUNT or name in self.clusters:
            raise ValueError(f"cluster name {name!r} is empty, reserved or already in use")
        self.clusters = (*self.clusters, name)
        self._locks[name] = None
        self._cooldowns[name] = None
        self._day_pnl[name] = 0.0

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

    def quiet_until(self) -> datetime | None:
        """Until when marks can only update the figures, as far as the clock goes: the end
        of the trading day or the first lock expiry, whichever is first (None: not even now,
        e.g. restored locks not yet judged).  See ``quiet_marks``."""
        if self._restored_unjudged or self._day_end is None:
            return None
        ends = [lock.expires_at for lock in self._locks.values()
                if lock is not None and lock.expires_at is not None]
        return min([self._day_end, *ends])

    def quiet_marks(self, equities: Sequence[float]) -> int:
        """How many of these coming equity marks, in order and before ``quiet_until``, would
        pass ``on_equity`` without an action (no daily-loss or drawdown breach, a finite
        mark); nothing changes.  ``engine.held_minutes`` steps over those minutes and hands
        their marks to ``on_equity`` afterwards."""
        peak, start = self._peak, self._day_start_equity
        quiet = 0
        for equity in equities:
            if not math.isfinite(equity):
                break
            start = equity if start is None else start
            peak = equity if peak is None else max(peak, equity)
            if self._drawdown_breached(equity, peak) or self._daily_loss_breached(equity, start):
                break
            quiet += 1
        return quiet

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
            reason = (f"{CLUSTER_DAILY_LOSS}: lost {format_money(-self._day_pnl[cluster])} today "
                      f"(limit {format_money(limit)} = {self.config.cluster_daily_loss:.2%} of "
                      f"day-start equity {format_money(reference)})")
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
        return max(states, key=STATE_RANK.__getitem__, default=ClusterState.ACTIVE)

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
            lock = live_lock(self._locks[cluster], now)
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
            account_lock=live_lock(self._locks[ACCOUNT], now),
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
        if lock is not None and blocks(lock, now, request.direction):
            code = codes.ACCOUNT_HALTED if lock.state is ClusterState.HALTED \
                else codes.ACCOUNT_CLOSE_ONLY
            return Decision.refuse(code, f"account {describe_lock(lock)}")
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
        if lock is not None and blocks(lock, now, request.direction):
            code = codes.CLUSTER_HALTED if lock.state is ClusterState.HALTED \
                else codes.CLUSTER_CLOSE_ONLY
            return Decision.refuse(code, f"{cluster} {describe_lock(lock)}")
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
                f"open risk {format_money(request.open_risk)} + "
                f"{format_money(request.risk_budget)} = {format_money(total)} exceeds "
                f"{format_money(cap)} ({config.max_open_risk:.2%} of equity)",
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
                    f"{currency} net exposure {format_money(held)} + {format_money(added)} = "
                    f"{format_money(net)} beyond +-{format_money(exposure_cap)} "
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
        return ceil_m30(exit_time) + self.config.cooldown_bars * M30

    def _engine_lock(self, now: datetime, key: str, state: ClusterState, reason: str,
                     expires_at: datetime | None) -> ClusterStateChange | None:
        existing = self._locks[key]
        if covers(existing, now, state, None):
            return None
        change = ClusterStateChange(time=now, cluster=key, state=state, reason=reason,
                                    who=ENGINE, expires_at=expires_at)
        if existing is not None and existing.in_force(now):
            change = union_of(existing, change)
        self._locks[key] = change
        return change

    def _check_drawdown(self, now: datetime, equity: float) -> list[RiskAction]:
        """Flatten once per breach, even under a trader's halt (which leaves positions open).

        The trip is not restored at restart on purpose: if the process died between
        journaling the halt and flattening, the first mark still below the limit flattens
        again (a no-op when already flat).
        """
        peak = self._peak
        if not self._drawdown_breached(equity, peak):
            return []
        assert peak is not None
        drawdown = 1.0 - equity / peak
        self._drawdown_tripped = True
        reason = (f"{MAX_DRAWDOWN}: equity {format_money(equity)} is {drawdown:.2%} below the peak "
                  f"{format_money(peak)} (limit {self.config.max_drawdown:.2%})")
        change = self._engine_lock(now, ACCOUNT, ClusterState.HALTED, reason, None)
        actions = self._lock_actions(now, change, MAX_DRAWDOWN) if change else []
        actions.append(RiskAction(RiskActionKind.FLATTEN_ALL, MAX_DRAWDOWN, reason,
                                  exit_code=ExitCode.RISK))
        return actions

    def _check_account_daily_loss(self, now: datetime, equity: float) -> list[RiskAction]:
        start = self._day_start_equity
        if not self._daily_loss_breached(equity, start):
            return []
        assert start is not None
        loss = 1.0 - equity / start
        reason = (f"{ACCOUNT_DAILY_LOSS}: equity {format_money(equity)} is {loss:.2%} below the "
                  f"day-start {format_money(start)} (limit {self.config.account_daily_loss:.2%})")
        change = self._engine_lock(now, ACCOUNT, ClusterState.CLOSE_ONLY, reason,
                                   self._day_end)
        return self._lock_actions(now, change, ACCOUNT_DAILY_LOSS) if change else []

    def _drawdown_breached(self, equity: float, peak: float | None) -> bool:
        """The drawdown rule trips at this mark (once per breach)."""
        if self._drawdown_tripped or peak is None or peak <= 0:
            return False
        return 1.0 - equity / peak >= self.config.max_drawdown

    def _daily_loss_breached(self, equity: float, start: float | None) -> bool:
        """The account's daily-loss rule is breached at this mark (unless overridden)."""
        if start is None or start <= 0 or self._daily_loss_overridden:
            return False
        return 1.0 - equity / start >= self.config.account_daily_loss

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
        lock = live_lock(self._locks[ACCOUNT], now)
        if lock is not None and (lock.state is ClusterState.HALTED or self._connected):
            return lock.state, lock.reason
        if not self._connected:
            return ClusterState.CLOSE_ONLY, f"{codes.DISCONNECTED}: terminal disconnected"
        return ClusterState.ACTIVE, ""
