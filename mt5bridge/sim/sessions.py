"""When the simulated broker accepts trades.

FX trades around the clock from Sunday 22:00 UTC to Friday 22:00 UTC; the broker is also
closed on the whole UTC days of its holidays (Christmas Day and New Year's Day), the same
calendar the synthetic market quotes by.  Orders outside these hours get
``TRADE_RETCODE_MARKET_CLOSED`` (10018).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["MarketHours"]

_FRIDAY, _SATURDAY, _SUNDAY = 4, 5, 6


@dataclass(frozen=True)
class MarketHours:
    """Weekly close/open hour (UTC) and the closed holidays as (month, day) UTC dates."""

    week_close_hour: int = 22
    week_open_hour: int = 22
    holidays: tuple[tuple[int, int], ...] = ((12, 25), (1, 1))

    def is_open(self, utc_ms: int) -> bool:
        t = datetime.fromtimestamp(utc_ms / 1000, tz=UTC)
        weekday = t.weekday()
        if weekday == _SATURDAY or (t.month, t.day) in self.holidays:
            return False
        if weekday == _FRIDAY:
            return t.hour < self.week_close_hour
        if weekday == _SUNDAY:
            return t.hour >= self.week_open_hour
        return True
