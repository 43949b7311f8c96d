"""The four risk levels (docs/architecture.md, Risk) that gate entries and can force exits.

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

from engine.risk.config import RiskConfig
from engine.risk.manager import RiskManager
from engine.risk.tradingday import (
    ROLLOVER_TIME,
    ROLLOVER_ZONE,
    next_trading_day_start,
    trading_day_start,
)
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

__all__ = [
    "ACCOUNT",
    "ACCOUNT_DAILY_LOSS",
    "CLUSTER_DAILY_LOSS",
    "ENGINE",
    "LOCK_EXPIRED",
    "MAX_DRAWDOWN",
    "REARMED",
    "RECONNECTED",
    "ROLLOVER_TIME",
    "ROLLOVER_ZONE",
    "STOP_EXITS",
    "ClusterRiskView",
    "EntryRequest",
    "RestoreReport",
    "RiskAction",
    "RiskActionKind",
    "RiskConfig",
    "RiskManager",
    "RiskSnapshot",
    "UnknownClusterError",
    "next_trading_day_start",
    "trading_day_start",
]
