"""Trading hours and the intraday rhythm of the synthetic market (all UTC).

The market is closed from Friday 22:00 to Sunday 22:00 UTC and on the whole UTC days of
December 25 and January 1.  Within the week, activity (volatility and tick arrivals) follows
the familiar session profile: quiet Asian hours, a London open, a busy London/New York
overlap, a thin evening and the rollover at 22:00 when spreads blow out.  The hourly levels
below are rounded from EURUSD's 2019 M1 volatility by UTC hour.

Times are handled as "day numbers" (whole UTC days since 1970-01-01) and minutes of the day
so that a day of the market is a fixed block of 1440 minutes: the generator works one such
block at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

MINUTES_PER_DAY = 1440
SECONDS_PER_DAY = 86_400
MS_PER_DAY = SECONDS_PER_DAY * 1000

#: Market close on Friday and open on Sunday, as minutes of the UTC day.
WEEK_CLOSE_MINUTE = 22 * 60
WEEK_OPEN_MINUTE = 22 * 60
#: (month, day) of the UTC days on which nothing trades.
HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(12, 25), (1, 1)})

#: Relative volatility by UTC hour (mean square over the week's open hours is 1 after
#: normalisation).  Hour 22 is the rollover hour: thin, with wide spreads.
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.55, 0.68, 0.62, 0.55, 0.47, 0.47, 0.60, 1.00,   # 00-07 Asia, Frankfurt
    1.35, 1.15, 1.05, 1.00, 1.12, 1.60, 1.50, 1.60,   # 08-15 London, overlap with New York
    1.25, 1.00, 0.95, 1.05, 0.72, 0.57, 0.50, 0.55,   # 16-23 New York, evening, rollover
)

#: Gold's daily maintenance break (no quotes), as minutes of the UTC day [start, end).
GOLD_BREAK_MINUTES = (22 * 60, 23 * 60)

MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6


def day_number(t_msc: int) -> int:
    """The UTC day (days since 1970-01-01) containing ``t_msc``."""
    return t_msc // MS_PER_DAY


def weekday_of_day(day: int) -> int:
    """Monday = 0; 1970-01-01 was a Thursday."""
    return (day + 3) % 7


def _is_holiday(day: int) -> bool:
    date = datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=UTC)
    return (date.month, date.day) in HOLIDAYS


def open_minutes(day: int) -> np.ndarray:
    """Boolean mask of the day's minutes during which the market is open."""
    mask = np.ones(MINUTES_PER_DAY, dtype=bool)
    weekday = weekday_of_day(day)
    if _is_holiday(day) or weekday == SATURDAY:
        mask[:] = False
    elif weekday == FRIDAY:
        mask[WEEK_CLOSE_MINUTE:] = False
    elif weekday == SUNDAY:
        mask[:WEEK_OPEN_MINUTE] = False
    return mask


def is_market_open(t_msc: int) -> bool:
    """Whether the synthetic market quotes at ``t_msc`` (UTC epoch milliseconds)."""
    day = day_number(t_msc)
    minute = (t_msc - day * MS_PER_DAY) // 60_000
    return bool(open_minutes(day)[minute])


def _activity_profile() -> np.ndarray:
    """Per-minute activity, interpolated between hour midpoints so it has no steps."""
    hours = np.asarray(HOURLY_ACTIVITY)
    minute = np.arange(MINUTES_PER_DAY) + 0.5
    mids = np.arange(24) * 60.0 + 30.0
    profile = np.interp(minute, mids, hours, period=MINUTES_PER_DAY)
    # Weekly open hours: 5 full days; the mean square over a full day is close enough.
    return profile / np.sqrt(np.mean(profile**2))


#: Relative volatility and tick intensity for each minute of the UTC day.
ACTIVITY: np.ndarray = _activity_profile()
ACTIVITY.setflags(write=False)


def _session_spread_profile() -> np.ndarray:
    """Spread multiplier by minute of the day, before news and noise.

    Rollover (22:00 UTC) is the widest: liquidity providers step back while swaps are
    booked.  The Asian hours are mildly wider than London and New York.
    """
    mult = np.ones(MINUTES_PER_DAY)
    mult[22 * 60 + 15:] = 1.3          # thin Asian evening after rollover
    mult[: 6 * 60] = 1.3               # Asian morning until Frankfurt
    mult[21 * 60 + 55: 22 * 60] = 2.0  # dealers pull quotes ahead of rollover
    mult[22 * 60: 22 * 60 + 5] = 6.0   # rollover
    mult[22 * 60 + 5: 22 * 60 + 15] = 3.0
    return mult


#: Spread multiplier for each minute of the UTC day (rollover, Asian hours).
SESSION_SPREAD: np.ndarray = _session_spread_profile()
SESSION_SPREAD.setflags(write=False)


def gold_break_mask() -> np.ndarray:
    """Minutes of the day during which gold does not quote."""
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    mask[GOLD_BREAK_MINUTES[0]: GOLD_BREAK_MINUTES[1]] = True
    return mask
