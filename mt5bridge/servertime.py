"""Broker server time <-> UTC.

MetaTrader 5 stamps ticks, bars, deals and orders with the broker's *server wall-clock
time* encoded as epoch numbers, as if it were UTC.  Most retail FX servers run at GMT+2 in
winter and GMT+3 in summer, switching with US daylight saving time, so that server midnight
falls on the New York 17:00 close and every trading week has five whole daily bars.  The
product keeps UTC everywhere and converts here, at the edge: the simulated terminal uses it
to *produce* server times and the live adapter to *undo* them.

US DST in UTC: from the second Sunday of March 07:00 UTC (02:00 EST) to the first Sunday of
November 06:00 UTC (02:00 EDT) since 2007; before 2007 from April to the last Sunday of
October.  Converting server time back to UTC is ambiguous for the hour the server clock
repeats (autumn) and undefined for the hour it skips (spring); both fall on a Sunday morning
when FX is closed.  The repeated hour maps to its first (summer) occurrence and the skipped
hour as winter time, which keeps the mapping monotonic.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

import numpy as np

__all__ = ["DAY_MS", "ServerTimeZone"]

DAY_MS = 86_400_000
_HOUR_MS = 3_600_000

_FIRST_YEAR = 1970
_LAST_YEAR = 2100


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=n - 1)


def _last_sunday(year: int, month: int) -> date:
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _utc_ms(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp()) * 1000


@cache
def _us_dst_edges_ms() -> tuple[list[int], np.ndarray]:
    """Alternating [start, end, start, end, ...] instants of US DST in UTC milliseconds."""
    edges: list[int] = []
    for year in range(_FIRST_YEAR, _LAST_YEAR):
        if year >= 2007:
            start, end = _nth_sunday(year, 3, 2), _nth_sunday(year, 11, 1)
        elif year >= 1987:
            start, end = _nth_sunday(year, 4, 1), _last_sunday(year, 10)
        else:
            start, end = _last_sunday(year, 4), _last_sunday(year, 10)
        edges += [_utc_ms(start, 7), _utc_ms(end, 6)]
    return edges, np.asarray(edges, dtype=np.int64)


@dataclass(frozen=True)
class ServerTimeZone:
    """A broker's server clock: a fixed UTC offset, or one that follows US DST.

    The default is the common retail FX server: GMT+2 in winter, GMT+3 during US DST.
    """

    winter_offset_ms: int = 2 * _HOUR_MS
    summer_offset_ms: int = 3 * _HOUR_MS
    follows_us_dst: bool = True

    @classmethod
    def fixed(cls, hours: float) -> ServerTimeZone:
        """A server clock at a constant offset (e.g. ``fixed(3)`` for a GMT+3 broker)."""
        ms = round(hours * _HOUR_MS)
        return cls(winter_offset_ms=ms, summer_offset_ms=ms, follows_us_dst=False)

    @classmethod
    def us_dst(cls, winter_hours: float = 2, summer_hours: float = 3) -> ServerTimeZone:
        """A server clock whose offset steps with US daylight saving time."""
        return cls(round(winter_hours * _HOUR_MS), round(summer_hours * _HOUR_MS), True)

    @property
    def label(self) -> str:
        def hours(ms: int) -> str:
            h = ms / _HOUR_MS
            return f"{h:+g}"

        if not self.follows_us_dst or self.winter_offset_ms == self.summer_offset_ms:
            return f"GMT{hours(self.winter_offset_ms)}"
        return f"GMT{hours(self.winter_offset_ms)}/{hours(self.summer_offset_ms)} (US DST)"

    # -- scalars ---------------------------------------------------------------------------

    def in_summer(self, utc_ms: int) -> bool:
        if not self.follows_us_dst:
            return False
        edges, _ = _us_dst_edges_ms()
        return bisect.bisect_right(edges, utc_ms) % 2 == 1

    def offset_ms(self, utc_ms: int) -> int:
        """Server minus UTC at the UTC instant ``utc_ms``."""
        return self.summer_offset_ms if self.in_summer(utc_ms) else self.winter_offset_ms

    def to_server_ms(self, utc_ms: int) -> int:
        return utc_ms + self.offset_ms(utc_ms)

    def to_utc_ms(self, server_ms: int) -> int:
        """The UTC instant of a server wall-clock time (see the module note on DST edges)."""
        if not self.follows_us_dst:
            return server_ms - self.winter_offset_ms
        summer = server_ms - self.summer_offset_ms
        if self.in_summer(summer):
            return summer
        return server_ms - self.winter_offset_ms

    def next_midnight_utc_ms(self, utc_ms: int) -> int:
        """UTC instant of the first server midnight strictly after ``utc_ms``."""
        server = self.to_server_ms(utc_ms)
        return self.to_utc_ms((server // DAY_MS + 1) * DAY_MS)

    def server_weekday(self, utc_ms: int) -> int:
        """Server-time day of week as MT5 numbers it (``DAY_OF_WEEK_SUNDAY`` = 0)."""
        days = self.to_server_ms(utc_ms) // DAY_MS
        return int((days + 4) % 7)  # 1970-01-01 was a Thursday (4)

    # -- arrays ----------------------------------------------------------------------------

    def _summer_mask(self, utc_ms: np.ndarray) -> np.ndarray:
        _, edges = _us_dst_edges_ms()
        return np.searchsorted(edges, utc_ms, side="right") % 2 == 1

    def offset_ms_array(self, utc_ms: np.ndarray) -> np.ndarray:
        utc_ms = np.asarray(utc_ms, dtype=np.int64)
        if not self.follows_us_dst or self.winter_offset_ms == self.summer_offset_ms:
            return np.full(utc_ms.shape, self.winter_offset_ms, dtype=np.int64)
        return np.where(
            self._summer_mask(utc_ms), self.summer_offset_ms, self.winter_offset_ms
        ).astype(np.int64)

    def to_server_ms_array(self, utc_ms: np.ndarray) -> np.ndarray:
        utc_ms = np.asarray(utc_ms, dtype=np.int64)
        return utc_ms + self.offset_ms_array(utc_ms)

    def to_utc_ms_array(self, server_ms: np.ndarray) -> np.ndarray:
        server_ms = np.asarray(server_ms, dtype=np.int64)
        if not self.follows_us_dst or self.winter_offset_ms == self.summer_offset_ms:
            return server_ms - self.winter_offset_ms
        summer = server_ms - self.summer_offset_ms
        return np.where(self._summer_mask(summer), summer, server_ms - self.winter_offset_ms)

    def to_server_s_array(self, utc_s: np.ndarray) -> np.ndarray:
        """Seconds in, seconds out (bar open times); offsets are whole seconds."""
        utc_s = np.asarray(utc_s, dtype=np.int64)
        return utc_s + self.offset_ms_array(utc_s * 1000) // 1000

    def to_utc_s_array(self, server_s: np.ndarray) -> np.ndarray:
        server_s = np.asarray(server_s, dtype=np.int64)
        return self.to_utc_ms_array(server_s * 1000) // 1000
