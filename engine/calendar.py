"""What the news filter sees of the economic calendar.

The engine decides blackouts from events (time, currency, impact) and from coverage: an
event list is only evidence of "no news" for the hours some imported file actually covered,
so a calendar that stops at last Friday must read as *stale*, not as *quiet*.  This module
holds the event records and a pure in-memory calendar; the SQLite calendar lives in
``storage.calendar`` and answers the same protocol, so replay, backtest and live filter
news the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.model import Impact, require_utc

#: The currency code ForexFactory and MT5 use for events that move every currency (OPEC,
#: G20, IMF meetings).  Such an event applies to every cluster.
ALL_CURRENCIES = "ALL"


@dataclass(frozen=True)
class EconomicEvent:
    """One calendar release.  ``time`` is UTC; "all day" items sit at 00:00 UTC of their day.

    ``source``/``source_id`` identify the row in its source (``forexfactory-csv`` and the FF
    event id, ``mt5`` and the MT5 value id, ...) so a re-import updates instead of adding.
    """

    time: datetime
    currency: str
    impact: Impact
    title: str
    actual: str = ""
    forecast: str = ""
    previous: str = ""
    source: str = ""
    source_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_utc(self.time, "EconomicEvent.time"))
        object.__setattr__(self, "currency", self.currency.strip().upper())
        object.__setattr__(self, "impact", Impact.parse(self.impact))

    def applies_to(self, currencies: Collection[str] | None) -> bool:
        """True when the event concerns one of ``currencies`` (None means any currency)."""
        if currencies is None or self.currency == ALL_CURRENCIES:
            return True
        return self.currency in currencies


@dataclass(frozen=True)
class CoverageSpan:
    """A half-open UTC interval ``[start, end)`` some imported file fully listed events for."""

    start: datetime
    end: datetime
    source: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_utc(self.start, "CoverageSpan.start"))
        object.__setattr__(self, "end", require_utc(self.end, "CoverageSpan.end"))
        if self.end <= self.start:
            raise ValueError(f"coverage span must end after it starts: {self.start}..{self.end}")

    def contains(self, t: datetime) -> bool:
        return self.start <= t < self.end


def merge_spans(spans: Iterable[CoverageSpan]) -> list[tuple[datetime, datetime]]:
    """Union of spans as sorted, disjoint ``(start, end)`` pairs; touching spans join."""
    merged: list[tuple[datetime, datetime]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][1]:
            start, end = merged[-1]
            merged[-1] = (start, max(end, span.end))
        else:
            merged.append((span.start, span.end))
    return merged


def _event_order(event: EconomicEvent) -> tuple[datetime, str, str, str, str]:
    return (event.time, event.currency, event.title, event.source, event.source_id)


@dataclass(frozen=True)
class StaticCalendar:
    """An in-memory calendar: a fixed event list and its coverage.

    Backtests load one from the SQLite calendar for their date range (``Calendar.snapshot``)
    so the per-bar news check is a bisect rather than a query; engine tests build one by hand.
    """

    events: Sequence[EconomicEvent] = ()
    coverage: Sequence[CoverageSpan] = ()
    _times: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    _merged: tuple[tuple[datetime, datetime], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.events, key=_event_order))
        object.__setattr__(self, "events", ordered)
        object.__setattr__(self, "coverage", tuple(self.coverage))
        object.__setattr__(self, "_times", tuple(e.time for e in ordered))
        object.__setattr__(self, "_merged", tuple(merge_spans(self.coverage)))

    def events_between(
        self,
        start: datetime,
        end: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
    ) -> list[EconomicEvent]:
        start = require_utc(start, "start")
        end = require_utc(end, "end")
        lo = bisect.bisect_left(self._times, start)
        hi = bisect.bisect_right(self._times, end)
        wanted = _normalise_currencies(currencies)
        return [
            e
            for e in self.events[lo:hi]
            if e.impact.rank >= min_impact.rank and e.applies_to(wanted)
        ]

    def next_events(
        self,
        after: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
        limit: int = 10,
    ) -> list[EconomicEvent]:
        after = require_utc(after, "after")
        wanted = _normalise_currencies(currencies)
        found: list[EconomicEvent] = []
        for event in self.events[bisect.bisect_left(self._times, after) :]:
            if len(found) >= limit:
                break
            if event.impact.rank >= min_impact.rank and event.applies_to(wanted):
                found.append(event)
        return found

    def coverage_end(self, t: datetime) -> datetime | None:
        t = require_utc(t, "t")
        for start, end in self._merged:
            if start <= t < end:
                return end
        return None

    def is_fresh(self, t: datetime, horizon: timedelta = timedelta(0)) -> bool:
        end = self.coverage_end(t)
        return end is not None and end > require_utc(t, "t") + horizon


def _normalise_currencies(currencies: Collection[str] | None) -> frozenset[str] | None:
    if currencies is None:
        return None
    return frozenset(c.strip().upper() for c in currencies)
