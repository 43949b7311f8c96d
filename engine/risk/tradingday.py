"""The FX trading day: it rolls over at 17:00 New York time, following US daylight saving.

Daily risk limits reset, and daily locks expire, at this boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import UserError
from engine.model import require_utc

#: The FX trading day rolls over at 17:00 New York time, following US daylight saving.
ROLLOVER_ZONE = "America/New_York"
ROLLOVER_TIME = time(17, 0)

M30 = timedelta(minutes=30)


@lru_cache(maxsize=1)
def rollover_zone() -> ZoneInfo:
    """New York's zone: the trading day and the H4 and D1 bars (engine.timeframes) follow it."""
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
    zone = rollover_zone()
    local = require_utc(now, "now").astimezone(zone)
    start = datetime.combine(local.date(), ROLLOVER_TIME, tzinfo=zone)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), ROLLOVER_TIME, tzinfo=zone)
    return start.astimezone(UTC)


def next_trading_day_start(now: datetime) -> datetime:
    """The first 17:00 New York strictly after ``now``, in UTC: when daily locks expire."""
    zone = rollover_zone()
    local_start = trading_day_start(now).astimezone(zone)
    return datetime.combine(
        local_start.date() + timedelta(days=1), ROLLOVER_TIME, tzinfo=zone
    ).astimezone(UTC)


def ceil_m30(now: datetime) -> datetime:
    floor = now.replace(minute=now.minute - now.minute % 30, second=0, microsecond=0)
    return floor if floor == now else floor + M30
