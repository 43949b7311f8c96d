"""What a backtest is asked for (``BacktestSpec``) and what it gives back (``BacktestResult``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.spreads import DEFAULT_SPREAD_MODEL
from engine.config import EngineConfig
from engine.metrics import PerformanceReport
from engine.ports import EventCalendar
from engine.spread_profile import SpreadProfile
from engine.timeframes import calendar_days

DAY_MS = 86_400_000
#: Warm-ups longer than this many calendar days are named in the backtest's notes (the
#: default clusters need 25): a long one moves the start of trading far into the data.
LONG_WARMUP_DAYS = 35


def warmup_days(config: EngineConfig) -> int:
    """Calendar days of history that give every cluster a valid TDI and ATR at the start:
    each cluster's bars (``ClusterSpec.history_bars``) at its timeframe's bars per trading
    day, 5 trading days a week, plus a margin for holidays (``engine.timeframes``).  Not
    capped: a warm-up the data cannot serve moves the start of trading, or is refused,
    instead of running inside the traded period."""
    return max(calendar_days(c.history_bars, c.timeframe) for c in config.clusters)


def warmup_text(config: EngineConfig) -> str:
    """Which cluster sets the warm-up and why, for notes and messages."""
    slowest = max(config.clusters, key=lambda c: calendar_days(c.history_bars, c.timeframe))
    return (f"{slowest.name} needs {slowest.history_bars} {slowest.timeframe} bars of "
            f"history, {warmup_days(config)} calendar days")


@dataclass(frozen=True)
class BacktestSpec:
    """What to backtest.  ``source`` is "files", "store", "synthetic" or "bars".

    - ``tick_mode``: "ohlc" replays M1 bars as four ticks each (MT5's "1 minute OHLC");
      "real" replays recorded ticks where there are any (bars elsewhere);
    - ``start``/``end``: the traded period (UTC); the data before ``start`` is the warm-up.
      Without ``start``, trading begins ``warmup_days(config)`` after the first data.
    - ``spread_model``, ``spread_profiles``, ``spread_scale``: the spread of bars without
      one, and a factor on every quoted spread (``app.replay_feed.ReplayConfig``).
    - ``bars``: with source "bars", the M1 bars per symbol held in memory (``BAR_DTYPE``),
      replayed as the same bars read from files would be (the audit's surrogate markets);
    - ``commission_scale`` (1.0): the simulated broker's commission per lot times this.
    """

    config: EngineConfig
    source: str
    paths: tuple[Path, ...] = ()
    store: Path | None = None
    seed: int = 0
    latency: bool = True
    start: datetime | None = None
    end: datetime | None = None
    tick_mode: str = "ohlc"
    calendar: EventCalendar | None = None
    trials: int = 1
    #: The days the return metrics are measured on: "trading" or "calendar"
    #: (``engine.metrics.MetricsConfig.basis``).
    metrics_basis: str = "trading"
    spread_model: str = DEFAULT_SPREAD_MODEL
    spread_profiles: Mapping[str, SpreadProfile] = field(default_factory=dict)
    spread_scale: float = 1.0
    # -- audit knobs (app/audit): in-memory bars and the commission scale ----------------
    bars: Mapping[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    commission_scale: float = 1.0


@dataclass
class BacktestResult:
    spec: BacktestSpec
    metrics: PerformanceReport | None
    trades: pd.DataFrame
    equity: pd.DataFrame
    tdi: dict[str, pd.DataFrame]
    params: dict[str, Any]
    data_ranges: dict[str, dict[str, Any]]
    complete: bool
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: Any = None
    #: The error that stopped the run midway (``complete`` is then False and ``notes`` say
    #: when and why); None when it ran to its end or was stopped on purpose.
    failure: Exception | None = None
    #: The Ctrl+C or stop signal (``app.termination``) that ended the run early: the
    #: result covers the days before it.  A caller running more than this backtest (a
    #: sweep, a walk-forward, the audit) raises it again to stop as well.
    interrupted: KeyboardInterrupt | None = None
    #: One row per leg of every basket (``app.backtest.legs``; legs.csv).
    legs: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Why the run is incomplete, one of its notes ("" when it ran to its end).
    incomplete_reason: str = ""

    @property
    def final_balance(self) -> float:
        return float(self.equity["balance"].iloc[-1]) if len(self.equity) else math.nan


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def to_utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
