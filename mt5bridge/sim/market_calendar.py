"""The synthetic market's own economic calendar.

The demo needs a calendar whose events match the price jumps, so the news filter can be
seen to work: the synthetic market reads its jump times from this schedule and the terminal
shows the same schedule as its calendar.  The schedule is a fixed set of rules in the
style of the real one (US payrolls on the first Friday at 13:30 UTC, central-bank decisions
eight times a year, PMIs on the first business day, ...).  It does not depend on the seed:
a given date always has the same events.  Times are fixed in UTC (no daylight saving), and
an event that would fall while the market is closed is dropped.

``impact`` uses the ForexFactory vocabulary the calendar importers read: "High", "Medium",
"Low".
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from mt5bridge.sim.market_sessions import HOLIDAYS, MS_PER_DAY, is_market_open

HIGH, MEDIUM, LOW = "High", "Medium", "Low"
IMPACTS: tuple[str, ...] = (HIGH, MEDIUM, LOW)

MON, TUE, WED, THU, FRI = range(5)
ALL_MONTHS = frozenset(range(1, 13))
#: Months with a scheduled decision for central banks that meet eight times a year.
EIGHT_MEETINGS_A = frozenset({1, 3, 4, 6, 7, 9, 10, 12})
EIGHT_MEETINGS_B = frozenset({2, 3, 5, 6, 8, 9, 11, 12})
QUARTER_MONTHS = frozenset({1, 4, 7, 10})


@dataclass(frozen=True, order=True)
class SyntheticEvent:
    """One scheduled release: when (UTC epoch ms), which currency it moves, how much."""

    time_msc: int
    currency: str
    impact: str
    title: str


@dataclass(frozen=True)
class _Rule:
    """A recurring release.

    ``weekday`` with ``nth``: the nth such weekday of the month (-1 = the last), or every week
    when ``nth`` is None.  ``weekday`` None with ``nth``: the nth business day of the month
    (negative counts from the end).
    """

    currency: str
    impact: str
    title: str
    hour: int
    minute: int
    weekday: int | None
    nth: int | None
    months: frozenset[int] = ALL_MONTHS


RULES: tuple[_Rule, ...] = (
    # USD
    _Rule("USD", HIGH, "Non-Farm Employment Change", 13, 30, FRI, 1),
    _Rule("USD", HIGH, "CPI m/m", 13, 30, WED, 2),
    _Rule("USD", HIGH, "FOMC Statement", 19, 0, WED, 3, EIGHT_MEETINGS_A),
    _Rule("USD", MEDIUM, "Retail Sales m/m", 13, 30, TUE, 3),
    _Rule("USD", MEDIUM, "ISM Manufacturing PMI", 15, 0, None, 1),
    _Rule("USD", MEDIUM, "Philly Fed Manufacturing Index", 13, 30, THU, 3),
    _Rule("USD", MEDIUM, "CB Consumer Confidence", 15, 0, TUE, -1),
    _Rule("USD", MEDIUM, "Core PCE Price Index m/m", 13, 30, None, -1),
    _Rule("USD", LOW, "Unemployment Claims", 13, 30, THU, None),
    _Rule("USD", LOW, "Crude Oil Inventories", 15, 30, WED, None),
    _Rule("USD", LOW, "Prelim UoM Consumer Sentiment", 15, 0, FRI, 2),
    # EUR
    _Rule("EUR", HIGH, "Main Refinancing Rate", 12, 45, THU, 2, EIGHT_MEETINGS_A),
    _Rule("EUR", MEDIUM, "German ZEW Economic Sentiment", 10, 0, TUE, 3),
    _Rule("EUR", MEDIUM, "Flash Manufacturing PMI", 9, 0, THU, 4),
    _Rule("EUR", MEDIUM, "CPI Flash Estimate y/y", 10, 0, None, -1),
    _Rule("EUR", MEDIUM, "German Prelim CPI m/m", 13, 0, THU, -1),
    _Rule("EUR", LOW, "German Ifo Business Climate", 9, 0, MON, 4),
    _Rule("EUR", LOW, "Sentix Investor Confidence", 9, 30, MON, 2),
    _Rule("EUR", LOW, "German Factory Orders m/m", 7, 0, THU, 1),
    # GBP
    _Rule("GBP", HIGH, "Official Bank Rate", 12, 0, THU, 1, EIGHT_MEETINGS_B),
    _Rule("GBP", MEDIUM, "CPI y/y", 9, 30, WED, 3),
    _Rule("GBP", MEDIUM, "GDP m/m", 9, 30, WED, 2),
    _Rule("GBP", MEDIUM, "Claimant Count Change", 9, 30, TUE, 3),
    _Rule("GBP", MEDIUM, "Retail Sales m/m", 9, 30, FRI, 3),
    _Rule("GBP", LOW, "Manufacturing PMI", 9, 30, None, 1),
    _Rule("GBP", LOW, "Services PMI", 9, 30, None, 3),
    # JPY
    _Rule("JPY", HIGH, "BOJ Policy Rate", 3, 0, TUE, 4, EIGHT_MEETINGS_A),
    _Rule("JPY", MEDIUM, "Tankan Manufacturing Index", 0, 50, None, 1, QUARTER_MONTHS),
    _Rule("JPY", LOW, "Tokyo Core CPI y/y", 0, 30, FRI, -1),
    _Rule("JPY", LOW, "Trade Balance", 23, 50, MON, 3),
    # CHF
    _Rule("CHF", HIGH, "SNB Policy Rate", 8, 30, THU, 3, frozenset({3, 6, 9, 12})),
    _Rule("CHF", MEDIUM, "CPI m/m", 7, 30, THU, 1),
    _Rule("CHF", LOW, "KOF Economic Barometer", 8, 0, FRI, -1),
    # CAD
    _Rule("CAD", HIGH, "BOC Rate Statement", 15, 0, WED, 1, EIGHT_MEETINGS_A),
    _Rule("CAD", HIGH, "Employment Change", 13, 30, FRI, 1),
    _Rule("CAD", MEDIUM, "CPI m/m", 13, 30, FRI, 3),
    _Rule("CAD", MEDIUM, "Retail Sales m/m", 13, 30, FRI, 4),
    _Rule("CAD", LOW, "Ivey PMI", 15, 0, WED, 1),
    # AUD
    _Rule("AUD", HIGH, "Cash Rate", 3, 30, TUE, 1, frozenset(range(2, 13))),
    _Rule("AUD", HIGH, "Employment Change", 0, 30, THU, 3),
    _Rule("AUD", MEDIUM, "CPI q/q", 0, 30, WED, -1, QUARTER_MONTHS),
    _Rule("AUD", MEDIUM, "Retail Sales m/m", 0, 30, THU, 1),
    _Rule("AUD", LOW, "Monetary Policy Meeting Minutes", 0, 30, TUE, 3),
    # NZD
    _Rule("NZD", HIGH, "Official Cash Rate", 1, 0, WED, 2, EIGHT_MEETINGS_B),
    _Rule("NZD", HIGH, "Employment Change q/q", 21, 45, WED, 1, frozenset({2, 5, 8, 11})),
    _Rule("NZD", MEDIUM, "CPI q/q", 21, 45, MON, 3, QUARTER_MONTHS),
    _Rule("NZD", LOW, "GDT Price Index", 14, 0, TUE, 1),
    _Rule("NZD", LOW, "Trade Balance", 21, 45, TUE, 4),
)

def _business_days(year: int, month: int) -> list[int]:
    _, days = calendar.monthrange(year, month)
    return [
        d for d in range(1, days + 1)
        if date(year, month, d).weekday() < 5 and (month, d) not in HOLIDAYS
    ]


def _rule_days(rule: _Rule, year: int, month: int) -> list[int]:
    if month not in rule.months:
        return []
    if rule.weekday is None:
        business = _business_days(year, month)
        assert rule.nth is not None
        index = rule.nth - 1 if rule.nth > 0 else rule.nth
        return [business[index]] if -len(business) <= index < len(business) else []
    _, days = calendar.monthrange(year, month)
    matching = [d for d in range(1, days + 1) if date(year, month, d).weekday() == rule.weekday]
    if rule.nth is None:
        return matching
    index = rule.nth - 1 if rule.nth > 0 else rule.nth
    return [matching[index]] if -len(matching) <= index < len(matching) else []


@lru_cache(maxsize=256)
def _month_events(year: int, month: int) -> tuple[SyntheticEvent, ...]:
    events = []
    for rule in RULES:
        for day in _rule_days(rule, year, month):
            when = datetime(year, month, day, rule.hour, rule.minute, tzinfo=UTC)
            t_msc = int(when.timestamp()) * 1000
            if is_market_open(t_msc):
                events.append(SyntheticEvent(t_msc, rule.currency, rule.impact, rule.title))
    return tuple(sorted(events))


def _months_between(from_msc: int, to_msc: int) -> list[tuple[int, int]]:
    first = datetime.fromtimestamp(from_msc / 1000, tz=UTC)
    last = datetime.fromtimestamp((to_msc - 1) / 1000, tz=UTC)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def synthetic_calendar(from_msc: int, to_msc: int) -> list[SyntheticEvent]:
    """Events with ``from_msc <= time_msc < to_msc``, in time order (ties by currency)."""
    if to_msc <= from_msc:
        return []
    return [
        event
        for year, month in _months_between(from_msc, to_msc)
        for event in _month_events(year, month)
        if from_msc <= event.time_msc < to_msc
    ]


def events_of_day(day: int) -> list[SyntheticEvent]:
    """The events of one UTC day (``day`` counts days since 1970-01-01)."""
    return synthetic_calendar(day * MS_PER_DAY, (day + 1) * MS_PER_DAY)
