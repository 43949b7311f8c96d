"""The ``news calendar`` row: would a live session's news filter let it trade from now?

A live session reads the calendar imported into the data directory at its start
(``app.sessions.imported_calendar``).  Under the default ``stale_policy = "block"`` a
calendar that does not cover the next ``fresh_horizon_hours`` refuses every entry
(CALENDAR_STALE), so a session started on a stale calendar opens nothing, visibly but only
once it runs; the rehearsal says so before.  No calendar at all leaves the filter off: the
session trades through every release, which is worth a warning rather than a failure.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.livecheck.report import Check, Verdict
from app.sessions import imported_calendar
from engine.errors import UserError
from engine.news import CalendarState, NewsConfig, NewsFilter
from storage.calendar import default_calendar_path

#: The row's name in the table and the JSON.
NAME = "news calendar"
IMPORT_FIX = "import a calendar that covers the coming days: main.py import calendar FILES"


def calendar_check(news: NewsConfig, now_s: float) -> Check:
    """The row for the news settings ``news`` at UTC ``now_s`` (seconds), against the
    calendar a live session started now would read."""
    if not news.enabled:
        return Check(NAME, Verdict.PASS, "the news filter is off in the configuration "
                     "([news] enabled = false): no calendar is read")
    try:
        calendar = imported_calendar(lambda _note: None)  # the row says it in its own words
    except UserError as exc:
        return Check(NAME, Verdict.FAIL, str(exc), IMPORT_FIX)
    if calendar is None:
        return Check(NAME, Verdict.WARN, f"no economic calendar imported "
                     f"({default_calendar_path()} does not exist): a live session's news "
                     "filter is off and it trades through every release", IMPORT_FIX)
    now = datetime.fromtimestamp(now_s, UTC)
    status = NewsFilter(news, calendar).status(now)
    seen = (f"covers until {status.covered_until:%Y-%m-%d %H:%M} UTC"
            if status.covered_until else "has no data covering now")
    events = f"{len(calendar.events):,} events"
    if status.state is CalendarState.FRESH:
        return Check(NAME, Verdict.PASS, f"{events}; it {seen}, past the next "
                     f"{news.fresh_horizon_hours} h the filter needs")
    short = (f"{events}; it {seen}, short of the next {news.fresh_horizon_hours} h the "
             f"filter needs")
    if news.stale_policy == "block":
        return Check(NAME, Verdict.FAIL, f"{short}: a live session would refuse every entry "
                     "(CALENDAR_STALE, stale_policy = block)",
                     f'{IMPORT_FIX} (or set [news] stale_policy = "allow" to trade on '
                     "what it knows)")
    return Check(NAME, Verdict.WARN, f"{short}: a live session trades on what it knows "
                 "(stale_policy = allow), blind to releases past that", IMPORT_FIX)
