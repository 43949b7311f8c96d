"""Signal timeframes and their clock buckets: M15, M30, H1 in UTC; H4 and D1 in New York.

A cluster's TDI runs on bars of its own timeframe (``ClusterSpec.timeframe``).  The short
ones floor the UTC clock (an M15 bar starts at :00, :15, :30, :45 UTC).  H4 and D1 follow the
FX trading day, which starts at 17:00 New York: D1 is the trading day, labelled by its start
(the day that opens on Sunday 17:00 New York is Monday's); H4 bars start at 17:00, 21:00,
01:00, 05:00, 09:00 and 13:00 New York, so in UTC they move by an hour with US daylight
saving (21:00 UTC in summer, 22:00 in winter for the first one).

The weekend.  FX closes on Friday 17:00 New York and opens on Sunday 17:00.  The whole
closure is *one* bucket, from Friday 17:00 to Sunday 17:00, labelled by its start: it holds
no data on a normal feed (a broker quoting on Sunday afternoon gives it a short bar).  US
daylight saving changes at 02:00 New York on a Sunday, inside that closure, so the weekend
bucket is the only one that spans a change (47 or 49 hours); every bucket of a trading day
is exactly 4 or 24 hours long in UTC, and no bar mixes two offsets.

A bucket is left-closed ``[label, end)``: ``label`` of a time is the last boundary at or
before it, ``end`` of a label the next boundary.  Every New York boundary is on the hour in
UTC, so H4 and D1 bars are unions of whole H1 bars: the engine builds H1 from ticks and
resamples H1 -> H4/D1 with these labels.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

import numpy as np

from engine import ranges
from engine.bars import aggregate_runs, clock_buckets
from engine.errors import DataError
from engine.risk.tradingday import ROLLOVER_TIME, rollover_zone
from engine.ticks import BAR_DTYPE

M15, M30, H1, H4, D1 = "M15", "M30", "H1", "H4", "D1"
#: Every signal timeframe, shortest first (``engine.cluster.TIMEFRAMES`` lists the same).
TIMEFRAME_NAMES = (M15, M30, H1, H4, D1)
#: Seconds per bar of a trading day's bucket.
TIMEFRAME_SECONDS = {M15: 900, M30: 1800, H1: 3600, H4: 14_400, D1: 86_400}
#: Bars in one FX trading day (24 hours from 17:00 New York).
BARS_PER_DAY = ranges.BARS_PER_TRADING_DAY
#: Calendar days added to a warm-up for holidays: four, plus one per this many trading days
#: (2019 had a handful of FX days without a full session: Christmas, New Year, Easter).
HOLIDAY_MARGIN_DAYS = 4
TRADING_DAYS_PER_HOLIDAY = 60
#: Timeframes built straight from ticks (UTC clock buckets); H4 and D1 come from H1.
TICK_TIMEFRAMES = (M15, M30, H1)
#: New York hours at which an H4 bar starts, in trading-day order.
H4_START_HOURS = (17, 21, 1, 5, 9, 13)
#: MetaTrader 5's codes of the timeframes whose rates start-up reads (H4/D1 from H1).
MT5_TIMEFRAME = {M15: 15, M30: 30, H1: 16385}


class Buckets(Protocol):
    """Where the bars of one timeframe start and end (seconds since the epoch, UTC)."""

    name: str

    def label(self, times_s: np.ndarray) -> np.ndarray:
        """The start of the bucket holding each time."""

    def end(self, labels_s: np.ndarray) -> np.ndarray:
        """The end of each bucket (the next bucket's start)."""


class UtcBuckets:
    """Fixed-length buckets flooring the UTC clock (M15, M30, H1)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.period_s = TIMEFRAME_SECONDS[name]

    def label(self, times_s: np.ndarray) -> np.ndarray:
        return clock_buckets(np.asarray(times_s, dtype=np.int64), self.period_s)

    def end(self, labels_s: np.ndarray) -> np.ndarray:
        return np.asarray(labels_s, dtype=np.int64) + self.period_s


class NewYorkBuckets:
    """H4 or D1 buckets on New York's trading day, with the weekend as one bucket."""

    def __init__(self, name: str) -> None:
        if name not in (H4, D1):
            raise ValueError(f"New York buckets are H4 or D1, not {name}")
        self.name = name
        self._hours = 4 if name == H4 else 24

    def _boundaries(self, lo_s: int, hi_s: int) -> np.ndarray:
        """Every boundary from before ``lo_s`` to after ``hi_s`` (sorted, unique)."""
        first = datetime.fromtimestamp(lo_s, tz=UTC).year - 1
        last = datetime.fromtimestamp(hi_s, tz=UTC).year + 1
        return _boundaries_between(first, last, self._hours)

    def label(self, times_s: np.ndarray) -> np.ndarray:
        t = np.asarray(times_s, dtype=np.int64)
        if len(t) == 0:
            return t.copy()
        edges = self._boundaries(int(t.min()), int(t.max()))
        return edges[np.searchsorted(edges, t, side="right") - 1]

    def end(self, labels_s: np.ndarray) -> np.ndarray:
        t = np.asarray(labels_s, dtype=np.int64)
        if len(t) == 0:
            return t.copy()
        edges = self._boundaries(int(t.min()), int(t.max()))
        return edges[np.searchsorted(edges, t, side="right")]


@lru_cache(maxsize=32)
def _year_boundaries(year: int, step_hours: int) -> np.ndarray:
    """Boundaries of the trading days that start (17:00 New York) in ``year``.

    A trading day starts on Sunday to Thursday at 17:00 New York; Friday 17:00 starts the
    weekend bucket, which ends at Sunday 17:00 (so Saturday 17:00 is no boundary).
    """
    zone = rollover_zone()
    out: list[int] = []
    day = date(year, 1, 1)
    while day.year == year:
        weekday = day.weekday()  # Monday 0 .. Sunday 6
        if weekday != 5:  # not Saturday
            start = datetime.combine(day, ROLLOVER_TIME, tzinfo=zone).astimezone(UTC)
            start_s = int(start.timestamp())
            if weekday == 4:  # Friday: the weekend bucket
                out.append(start_s)
            else:
                out.extend(start_s + k * step_hours * 3600 for k in range(24 // step_hours))
        day += timedelta(days=1)
    return np.array(out, dtype=np.int64)


@lru_cache(maxsize=32)
def _boundaries_between(first_year: int, last_year: int, step_hours: int) -> np.ndarray:
    edges = np.concatenate([_year_boundaries(y, step_hours)
                            for y in range(first_year, last_year + 1)])
    edges.flags.writeable = False
    return edges


_BUCKETS: dict[str, Buckets] = {
    M15: UtcBuckets(M15), M30: UtcBuckets(M30), H1: UtcBuckets(H1),
    H4: NewYorkBuckets(H4), D1: NewYorkBuckets(D1),
}


def buckets(timeframe: str) -> Buckets:
    """The bucket function of a signal timeframe (``TIMEFRAME_NAMES``)."""
    try:
        return _BUCKETS[timeframe]
    except KeyError:
        raise ValueError(f"unknown timeframe {timeframe!r}; expected one of "
                         f"{', '.join(TIMEFRAME_NAMES)}") from None


def resample_to(bars: np.ndarray, timeframe: str) -> np.ndarray:
    """One symbol's time-ordered ``BAR_DTYPE`` bars (M1, or any timeframe that nests in the
    target) as bars of ``timeframe``: the batch twin of the engine's streaming bars."""
    if len(bars) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    if np.any(np.diff(bars["time"]) < 0):
        raise DataError("bars must be in time order to be resampled")
    return aggregate_runs(bars, buckets(timeframe).label(bars["time"]))


def source_timeframe(timeframe: str) -> str:
    """The timeframe built from ticks (or read from the terminal) that ``timeframe`` is
    made of: itself for M15, M30 and H1; H1 for H4 and D1."""
    return timeframe if timeframe in TICK_TIMEFRAMES else H1


def ny_time(t_s: int) -> datetime:
    """A UTC instant as New York wall-clock time (for messages and tests)."""
    return datetime.fromtimestamp(t_s, tz=UTC).astimezone(rollover_zone())



def calendar_days(bars: int, timeframe: str) -> int:
    """Calendar days of history that hold ``bars`` bars of ``timeframe``: its bars per
    trading day, 5 trading days a week, and a margin for holidays.  For M30 this is
    ``ceil(bars / 48 * 7 / 5) + 4`` up to 60 trading days (the default clusters' 25 days)."""
    trading_days = bars / BARS_PER_DAY[timeframe]
    margin = HOLIDAY_MARGIN_DAYS + int(trading_days // TRADING_DAYS_PER_HOLIDAY)
    return math.ceil(trading_days * 7 / 5) + margin
