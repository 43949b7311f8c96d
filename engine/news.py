"""The news filter: no entries around economic releases, optional flatten before them.

A cluster is blacked out within ``[event - pre, event + post]`` of every event at or above
``min_impact`` for any of its currencies (``ALL`` events concern every cluster).  A calendar
that does not cover ``now .. now + horizon`` cannot tell "quiet" from "unknown", so it is a
visible STALE state with a policy: ``block`` (no entries) or ``allow`` (trade on what is
known, and say so).

Backtests call the filter on every bar for every cluster, so the events are filtered once
per (currency set, impact) into sorted arrays of epoch seconds with their merged blackout
windows, and each question is a bisect: O(log n).  With a ``StaticCalendar`` (what
``Calendar.snapshot`` returns) the arrays cover the whole snapshot; any other
``EventCalendar`` (the live SQLite calendar) is read a week at a time and re-read when the
clock leaves the loaded stretch or after ``reload()``.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from engine import decisions as codes
from engine.calendar import EconomicEvent, StaticCalendar, merge_spans
from engine.decisions import ALLOWED, Decision
from engine.model import Impact, require_utc
from engine.ports import EventCalendar
from engine.ranges import FieldError, flag, integer

STALE_POLICIES = ("block", "allow")

#: How much of a non-static calendar is read at once, and how close to its edges the clock
#: may get before it is re-read.  A chain of overlapping windows longer than the margin is
#: cut at the edge (a day of back-to-back events does not happen in practice).
_LOAD_AHEAD = timedelta(days=7)
_LOAD_MARGIN = timedelta(days=1)


class CalendarState(StrEnum):
    FRESH = "FRESH"
    STALE = "STALE"
    DISABLED = "DISABLED"


#: The longest blackout on either side of an event, and the longest flatten lead: a day.
#: The live calendar is read from a day back (``_LOAD_MARGIN``) to a week ahead and re-read
#: a day before that edge, so a longer window would miss the events outside what is loaded.
MAX_WINDOW_MINUTES = 24 * 60
#: The longest coverage a FRESH calendar must have ahead: a week.  The usual source,
#: ForexFactory's weekly export, covers the week it is downloaded in; a longer horizon
#: would keep the filter STALE (and under "block", entries refused) however often it is
#: refreshed.
MAX_FRESH_HORIZON_HOURS = 7 * 24


@dataclass(frozen=True)
class NewsConfig:
    """The news filter's settings.

    Defaults and allowed ranges:
    - ``enabled = True``, true or false: false turns the whole filter off (state DISABLED);
    - ``min_impact = HIGH``, an ``Impact`` name: events at or above it black out entries;
    - ``pre_minutes = 30`` / ``post_minutes = 30``, 0..1440 each: the blackout around each
      event (MAX_WINDOW_MINUTES says why a day);
    - ``flatten_before = False``, true or false: close open baskets shortly before big
      events;
    - ``flatten_lead_minutes = 5``, 0..1440, and at most ``pre_minutes`` with
      ``flatten_before``: how long before the event to flatten;
    - ``flatten_min_impact = HIGH``, an ``Impact`` name, at least ``min_impact`` with
      ``flatten_before``: events at or above it trigger the flatten;
    - ``stale_policy = "block"``, "block" or "allow": "block" refuses entries while the
      calendar does not cover now..now+horizon, "allow" trades on what is known and reports
      STALE;
    - ``fresh_horizon_hours = 24``, 0..168: how far ahead the calendar must cover to be
      FRESH (MAX_FRESH_HORIZON_HOURS says why a week).

    With ``flatten_before`` the flatten must fall inside the blackout (lead <= pre, flatten
    impact >= blackout impact), or a flattened cluster could re-enter before the event.
    """

    enabled: bool = True
    min_impact: Impact = Impact.HIGH
    pre_minutes: int = 30
    post_minutes: int = 30
    flatten_before: bool = False
    flatten_lead_minutes: int = 5
    flatten_min_impact: Impact = Impact.HIGH
    stale_policy: str = "block"
    fresh_horizon_hours: int = 24

    def __post_init__(self) -> None:
        flag("enabled", self.enabled)
        flag("flatten_before", self.flatten_before)
        for name in ("min_impact", "flatten_min_impact"):
            value = getattr(self, name)
            if not isinstance(value, Impact):
                if not isinstance(value, str):
                    raise FieldError(name, f"expected an impact name, got {value!r}")
                try:
                    object.__setattr__(self, name, Impact.parse(value))
                except ValueError as error:
                    raise FieldError(name, str(error)) from None
        for name in ("pre_minutes", "post_minutes", "flatten_lead_minutes"):
            object.__setattr__(self, name, integer(name, getattr(self, name), 0,
                                                   MAX_WINDOW_MINUTES))
        object.__setattr__(self, "fresh_horizon_hours", integer(
            "fresh_horizon_hours", self.fresh_horizon_hours, 0, MAX_FRESH_HORIZON_HOURS))
        if not isinstance(self.stale_policy, str) or \
                self.stale_policy.strip().lower() not in STALE_POLICIES:
            raise FieldError("stale_policy", f"must be one of {', '.join(STALE_POLICIES)}, "
                                             f"got {self.stale_policy!r}")
        object.__setattr__(self, "stale_policy", self.stale_policy.strip().lower())
        if self.flatten_before and self.flatten_lead_minutes > self.pre_minutes:
            raise FieldError("flatten_lead_minutes", f"{self.flatten_lead_minutes} exceeds "
                             f"pre_minutes {self.pre_minutes}; a flattened cluster could "
                             "re-enter before the blackout starts")
        if self.flatten_before and self.flatten_min_impact.rank < self.min_impact.rank:
            raise FieldError("flatten_min_impact", f"{self.flatten_min_impact} is below "
                             f"min_impact {self.min_impact}; a flattened cluster could "
                             "re-enter at once (no blackout for that event)")

    @property
    def pre(self) -> timedelta:
        return timedelta(minutes=self.pre_minutes)

    @property
    def post(self) -> timedelta:
        return timedelta(minutes=self.post_minutes)

    @property
    def flatten_lead(self) -> timedelta:
        return timedelta(minutes=self.flatten_lead_minutes)

    @property
    def fresh_horizon(self) -> timedelta:
        return timedelta(hours=self.fresh_horizon_hours)


@dataclass(frozen=True)
class Blackout:
    """A stretch with no entries: ``[start, until]`` (merged overlapping event windows) and
    the events whose own window contains the moment asked about."""

    start: datetime
    until: datetime
    events: tuple[EconomicEvent, ...]

    def describe(self) -> str:
        first = self.events[0]
        more = f" and {len(self.events) - 1} more" if len(self.events) > 1 else ""
        return (f"{first.currency} {first.impact} '{first.title}' at "
                f"{first.time:%Y-%m-%d %H:%M} UTC{more}; entries blocked "
                f"{self.start:%H:%M}-{self.until:%H:%M} UTC")


@dataclass(frozen=True)
class CalendarStatus:
    """What the GUI shows next to the calendar: its state, the policy, how far it sees."""

    state: CalendarState
    stale_policy: str
    covered_until: datetime | None


@dataclass(frozen=True)
class _Index:
    """Events of one (currency set, impact) as sorted epoch seconds, plus merged windows."""

    times: list[float]
    events: list[EconomicEvent]
    window_starts: list[float]
    window_ends: list[float]
    window_first: list[int]
    window_last: list[int]


def _build_index(events: Sequence[EconomicEvent], pre: float, post: float) -> _Index:
    times = [event.time.timestamp() for event in events]
    starts: list[float] = []
    ends: list[float] = []
    first: list[int] = []
    last: list[int] = []
    for position, t in enumerate(times):
        if starts and t - pre <= ends[-1]:
            ends[-1] = max(ends[-1], t + post)
            last[-1] = position
        else:
            starts.append(t - pre)
            ends.append(t + post)
            first.append(position)
            last.append(position)
    return _Index(times, list(events), starts, ends, first, last)


def _utc_from(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class NewsFilter:
    """Answers the news questions for a cluster's currencies; see the module docstring.

    ``calendar`` None (no calendar configured) or ``config.enabled`` False: DISABLED, every
    entry allowed.  Every method takes ``now`` (aware UTC); nothing reads a clock.
    """

    def __init__(self, config: NewsConfig, calendar: EventCalendar | None) -> None:
        self.config = config
        self._calendar = calendar
        self._static = isinstance(calendar, StaticCalendar)
        self._coverage: list[tuple[datetime, datetime]] = []
        self._coverage_starts: list[datetime] = []
        self._events: Sequence[EconomicEvent] = ()
        self._loaded: tuple[datetime, datetime] | None = None
        if isinstance(calendar, StaticCalendar):
            self._events = calendar.events
            self._coverage = merge_spans(calendar.coverage)
            self._coverage_starts = [start for start, _ in self._coverage]
        self._indexes: dict[tuple[Collection[str], Impact], _Index] = {}

    @property
    def enabled(self) -> bool:
        return self.config.enabled and self._calendar is not None

    def reload(self) -> None:
        """Forget what was read from a non-static calendar (call after importing events)."""
        if not self._static:
            self._loaded = None
            self._events = ()
            self._indexes.clear()

    # ----------------------------------------------------------------- calendar state

    def state(self, now: datetime) -> CalendarState:
        if not self.enabled:
            return CalendarState.DISABLED
        now = require_utc(now, "now")
        covered_until = self._covered_until(now)
        fresh = covered_until is not None and covered_until > now + self.config.fresh_horizon
        return CalendarState.FRESH if fresh else CalendarState.STALE

    def status(self, now: datetime) -> CalendarStatus:
        covered = self._covered_until(require_utc(now, "now")) if self.enabled else None
        return CalendarStatus(self.state(now), self.config.stale_policy, covered)

    # ----------------------------------------------------------------- questions

    def blackout(self, now: datetime, currencies: Collection[str]) -> Blackout | None:
        """The blackout ``now`` falls in for these currencies, or None."""
        if not self.enabled:
            return None
        now = require_utc(now, "now")
        index = self._index(now, currencies, self.config.min_impact)
        ts = now.timestamp()
        i = bisect.bisect_right(index.window_starts, ts) - 1
        if i < 0 or ts > index.window_ends[i]:
            return None
        pre = self.config.pre.total_seconds()
        post = self.config.post.total_seconds()
        causing = tuple(
            index.events[k]
            for k in range(index.window_first[i], index.window_last[i] + 1)
            if index.times[k] - pre <= ts <= index.times[k] + post
        )
        return Blackout(_utc_from(index.window_starts[i]), _utc_from(index.window_ends[i]),
                        causing)

    def check_entry(self, now: datetime, currencies: Collection[str]) -> Decision:
        """NEWS_BLACKOUT inside a window; CALENDAR_STALE when stale under "block"."""
        if not self.enabled:
            return ALLOWED
        now = require_utc(now, "now")
        blackout = self.blackout(now, currencies)
        if blackout is not None:
            return Decision.refuse(codes.NEWS_BLACKOUT, blackout.describe())
        if self.config.stale_policy == "block" and self.state(now) is CalendarState.STALE:
            covered = self._covered_until(now)
            seen = f"covers until {covered:%Y-%m-%d %H:%M} UTC" if covered else \
                "has no data covering now"
            return Decision.refuse(codes.CALENDAR_STALE,
                                   f"the calendar {seen}; entries need it to cover the next "
                                   f"{self.config.fresh_horizon_hours} h (stale_policy=block)")
        return ALLOWED

    def flatten_due(self, now: datetime, currencies: Collection[str]) -> EconomicEvent | None:
        """The first event at or above ``flatten_min_impact`` starting within the lead time
        (``now <= event <= now + lead``) when ``flatten_before`` is on, else None."""
        if not self.enabled or not self.config.flatten_before:
            return None
        now = require_utc(now, "now")
        index = self._index(now, currencies, self.config.flatten_min_impact)
        ts = now.timestamp()
        j = bisect.bisect_left(index.times, ts)
        if j < len(index.times) and index.times[j] <= ts + self.config.flatten_lead.total_seconds():
            return index.events[j]
        return None

    def windows(self, start: datetime, end: datetime,
                currencies: Collection[str]) -> list[tuple[datetime, datetime, EconomicEvent]]:
        """Each event's own blackout window that meets ``[start, end]``, for display."""
        if not self.enabled:
            return []
        start, end = require_utc(start, "start"), require_utc(end, "end")
        config = self.config
        if self._static:
            index = self._index(start, currencies, config.min_impact)
            lo = bisect.bisect_left(index.times, (start - config.post).timestamp())
            hi = bisect.bisect_right(index.times, (end + config.pre).timestamp())
            events: Sequence[EconomicEvent] = index.events[lo:hi]
        else:
            assert self._calendar is not None
            events = self._calendar.events_between(start - config.post, end + config.pre,
                                                   currencies, config.min_impact)
        return [(event.time - config.pre, event.time + config.post, event) for event in events]

    # ----------------------------------------------------------------- internals

    def _covered_until(self, now: datetime) -> datetime | None:
        assert self._calendar is not None
        if not self._static:
            return self._calendar.coverage_end(now)
        i = bisect.bisect_right(self._coverage_starts, now) - 1
        if i >= 0 and now < self._coverage[i][1]:
            return self._coverage[i][1]
        return None

    def _index(self, now: datetime, currencies: Collection[str], impact: Impact) -> _Index:
        if not self._static:
            self._ensure_loaded(now)
        key = (currencies if isinstance(currencies, frozenset) else frozenset(currencies), impact)
        index = self._indexes.get(key)
        if index is None:
            wanted = frozenset(c.strip().upper() for c in currencies)
            selected = [e for e in self._events
                        if e.impact.rank >= impact.rank and e.applies_to(wanted)]
            index = _build_index(selected, self.config.pre.total_seconds(),
                                 self.config.post.total_seconds())
            self._indexes[key] = index
        return index

    def _ensure_loaded(self, now: datetime) -> None:
        loaded = self._loaded
        reach = self.config.pre + self.config.post
        if loaded is not None and loaded[0] <= now - reach and now <= loaded[1] - _LOAD_MARGIN:
            return
        assert self._calendar is not None
        start, end = now - _LOAD_MARGIN, now + _LOAD_AHEAD
        lowest = min(self.config.min_impact, self.config.flatten_min_impact,
                     key=lambda impact: impact.rank)
        self._events = self._calendar.events_between(start, end, None, lowest)
        self._loaded = (start, end)
        self._indexes.clear()

