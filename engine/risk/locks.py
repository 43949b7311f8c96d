"""Cluster and account locks: how two restrictions combine, when one is in force, how it reads."""

from __future__ import annotations

from datetime import datetime

from engine.model import ClusterState, Direction
from engine.records import ClusterStateChange

STATE_RANK = {ClusterState.ACTIVE: 0, ClusterState.CLOSE_ONLY: 1, ClusterState.HALTED: 2}


def covers(lock: ClusterStateChange | None, now: datetime, state: ClusterState,
            side: Direction | None) -> bool:
    """True when ``lock`` already restricts at least as much as (state, side) would."""
    if lock is None or not lock.in_force(now):
        return False
    same_side = lock.side is None or lock.side == side
    return STATE_RANK[lock.state] >= STATE_RANK[state] and same_side


def union_of(existing: ClusterStateChange, new: ClusterStateChange) -> ClusterStateChange:
    """One record restricting at least as much as both (the journal keeps one per cluster)."""
    state = max(existing.state, new.state, key=STATE_RANK.__getitem__)
    side = existing.side if existing.side == new.side else None
    if existing.expires_at is None or new.expires_at is None:
        expires_at = None
    else:
        expires_at = max(existing.expires_at, new.expires_at)
    reason = f"{new.reason} (kept: {existing.state} {existing.reason})"
    return ClusterStateChange(time=new.time, cluster=new.cluster, state=state, reason=reason,
                              who=new.who, side=side, expires_at=expires_at)


def live_lock(lock: ClusterStateChange | None, now: datetime | None) -> ClusterStateChange | None:
    """``lock`` if it restricts at ``now`` (None: no time known yet, a held lock counts)."""
    if lock is None or lock.state is ClusterState.ACTIVE:
        return None
    return lock if now is None or lock.in_force(now) else None


def blocks(lock: ClusterStateChange | None, now: datetime, direction: Direction) -> bool:
    if lock is None or not lock.in_force(now):
        return False
    return lock.side is None or lock.side == direction


def describe_lock(lock: ClusterStateChange) -> str:
    side = f" {lock.side} entries" if lock.side else ""
    until = f" until {lock.expires_at:%Y-%m-%d %H:%M} UTC" if lock.expires_at else \
        " until re-armed"
    return f"{lock.state}{side} since {lock.time:%Y-%m-%d %H:%M} UTC by {lock.who}{until}: " \
        f"{lock.reason}"
