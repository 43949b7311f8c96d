"""Readers for the economic-calendar files a trader can import.

Four formats, told apart by content (never by file name):

- **ForexFactory weekly XML** (``ff_calendar_thisweek.xml``): windows-1252, ``<country>``
  holds the currency (``ALL`` for global events), ``MM-DD-YYYY`` dates and ``h:mmam`` times
  already in UTC, impact High/Medium/Low/Holiday, no ``<actual>``.  A file covers the
  Sunday-to-Saturday week (UTC days) that holds its first event.
- **ForexFactory CSV** (header ``event_dt_utc,currency,impact,event,...``): ISO times with
  ``+00:00``, impact "High Impact Expected" ... "Non-Economic", FF event ids.  It covers the
  days named by its ``source_file`` column (one scraped file per day) or, without that
  column, the days it has events on.
- **MT5 calendar CSV** written by ``tools/ExportCalendar.mq5``: a ``# fxcluster mt5
  calendar export`` line giving the exported UTC range (the coverage), then a header
  starting ``time_utc,currency,country,impact,title``.
- **Generic UTC calendar CSV** (header naming ``time_utc,currency,impact,title`` and
  optionally ``actual,forecast,previous``, in any order; the normalised 2019 ForexFactory
  calendar in the shared data is one): see ``_parse_utc_csv``.  A header with ``time_utc``
  is an MT5 export when it names any column only MT5 exports have (``country``,
  ``time_mode``, ``event_id``, ``value_id``) or follows the preamble, otherwise this format.

Bad rows are reported with file and line.  By default they are skipped and counted, and
the day of a skipped row is left out of the file's coverage (the calendar cannot vouch for
a day it could not read completely); ``strict`` stops at the first bad row instead.  A file
that is not well-formed as a whole (broken XML, unknown header) is always an error.

"All day" and "tentative" items are placed at 00:00 UTC of their day, as ForexFactory's own
CSV does.

What a file may claim is bounded by what it holds:

- a date outside 1970-2099 (``storage.plausible``) is a bad row, like any other defect;
  in the MT5 preamble it makes the whole file an error (its range is the file's claim);
- the MT5 preamble's range is **clamped** to the days its events vouch for: each event's
  UTC day, joined across gaps of at most ``BRIDGED_DAYS`` days without events (a weekend
  and a holiday; a real export lists dozens of events every weekday).  A file with one event
  and ``from_utc=0001``, ``to_utc=9999`` covered every instant before, which made the news
  filter's ``stale_policy = "block"`` useless.  Clamped rather than refused: an export asked
  for beyond the last scheduled event (next month, say) is honest and still useful for the
  days it does list;
- a file is read through ``storage.datafile`` (regular files only, gzip by content, damage
  as one error) and at most ``MAX_CALENDAR_BYTES``; a CSV field over the ``csv`` module's
  limit is an error naming its line.
"""

from __future__ import annotations

import csv
import io
import re
import xml.parsers.expat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

from engine.calendar import ALL_CURRENCIES, CoverageSpan, EconomicEvent, merge_spans
from engine.errors import UserError
from engine.model import Impact
from storage.datafile import read_data_file
from storage.plausible import date_problem


class CalendarFormat(StrEnum):
    """The importable formats; the value is stored as the events' ``source``."""

    FOREXFACTORY_XML = "forexfactory-xml"
    FOREXFACTORY_CSV = "forexfactory-csv"
    MT5_CSV = "mt5"
    UTC_CSV = "utc-csv"


class CalendarFormatError(UserError):
    """A calendar file (or, in strict mode, one of its rows) that cannot be imported."""


@dataclass(frozen=True)
class RowProblem:
    """A skipped row: where it is and why (``day`` when its date could still be read)."""

    path: str
    line: int
    reason: str
    day: date | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedCalendarFile:
    path: Path
    format: CalendarFormat
    rows: int
    events: tuple[EconomicEvent, ...]
    coverage: tuple[CoverageSpan, ...]
    problems: tuple[RowProblem, ...]


#: The largest calendar file read (it is read whole): a year of ForexFactory CSV is under
#: 1 MB, so this is decades of events and still a bounded amount of memory.
MAX_CALENDAR_BYTES = 64 * 2**20

#: Days without events an MT5 export's coverage bridges (Saturday, Sunday and a holiday).
BRIDGED_DAYS = 3

#: First line of an export written by tools/ExportCalendar.mq5.
MT5_PREAMBLE = "# fxcluster mt5 calendar export"
MT5_HEADER = (
    "time_utc",
    "currency",
    "country",
    "impact",
    "title",
    "actual",
    "forecast",
    "previous",
    "time_mode",
    "event_id",
    "value_id",
)
FF_CSV_REQUIRED = ("event_dt_utc", "currency", "impact", "event")
#: Columns that only an MT5 export has: a ``time_utc`` header naming one is an MT5 export.
MT5_ONLY_COLUMNS = frozenset({"country", "time_mode", "event_id", "value_id"})
UTC_CSV_REQUIRED = ("time_utc", "currency", "impact", "title")
UTC_CSV_OPTIONAL = ("actual", "forecast", "previous")

_FF_IMPACTS = {
    "high": Impact.HIGH,
    "medium": Impact.MEDIUM,
    "low": Impact.LOW,
    "holiday": Impact.HOLIDAY,
    "non-economic": Impact.HOLIDAY,
    "high impact expected": Impact.HIGH,
    "medium impact expected": Impact.MEDIUM,
    "low impact expected": Impact.LOW,
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_XML_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
_XML_TIME = re.compile(r"^(\d{1,2}):(\d{2})\s*([ap]m)$", re.IGNORECASE)
#: ForexFactory's placeholders for items without a clock time.
_XML_DAY_ONLY = re.compile(r"^(all day|tentative|day \d+|)$", re.IGNORECASE)
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


class _RowError(ValueError):
    """A bad row; ``day`` is its date when that much could be read."""

    def __init__(self, reason: str, day: date | None = None) -> None:
        super().__init__(reason)
        self.day = day


def parse_calendar_file(path: Path | str, *, strict: bool = False) -> ParsedCalendarFile:
    """Read one calendar file of any supported format (see the module docstring)."""
    path = Path(path)
    try:
        data = read_data_file(path, MAX_CALENDAR_BYTES, "calendar file")
    except CalendarFormatError:
        raise
    except UserError as exc:
        raise CalendarFormatError(str(exc)) from None
    text = _decode(data)
    if text.lstrip().startswith("<"):
        # expat reads the declared encoding (windows-1252) from the bytes itself.
        return _parse_ff_xml(path, data, strict)
    first = _first_line(text)
    if first.lower().startswith(MT5_PREAMBLE):
        return _parse_mt5_csv(path, text, strict)
    names = {h.strip().strip('"').strip().lower() for h in first.split(",")}
    if "time_utc" in names and not names & MT5_ONLY_COLUMNS:
        return _parse_utc_csv(path, text, strict)
    if first.split(",")[:2] == ["time_utc", "currency"]:
        return _parse_mt5_csv(path, text, strict)
    header = {h.strip() for h in first.split(",")}
    if all(name in header for name in FF_CSV_REQUIRED):
        return _parse_ff_csv(path, text, strict)
    raise CalendarFormatError(
        f"{path}:1: not a recognised calendar format (expected ForexFactory weekly XML, "
        "ForexFactory CSV with an event_dt_utc header, an MT5 calendar export, or a UTC "
        "calendar CSV with a time_utc,currency,impact,title header)"
    )


def _decode(data: bytes) -> str:
    """Text of a CSV: BOM-sniffed UTF-8/UTF-16, else UTF-8, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# ------------------------------------------------------------------ shared row handling


class _Collector:
    """Gathers events and problems; raises at the first problem in strict mode."""

    def __init__(self, path: Path, strict: bool) -> None:
        self.path = path
        self.strict = strict
        self.events: list[EconomicEvent] = []
        self.problems: list[RowProblem] = []
        self.rows = 0

    def add(self, line: int, build: Callable[[], EconomicEvent]) -> None:
        self.rows += 1
        try:
            self.events.append(build())
        except _RowError as exc:
            problem = RowProblem(str(self.path), line, str(exc), exc.day)
            if self.strict:
                raise CalendarFormatError(str(problem)) from None
            self.problems.append(problem)

    def result(self, fmt: CalendarFormat, nominal: Iterable[CoverageSpan]) -> ParsedCalendarFile:
        return ParsedCalendarFile(
            path=self.path,
            format=fmt,
            rows=self.rows,
            events=tuple(self.events),
            coverage=_coverage_without_problems(list(nominal), self.problems),
            problems=tuple(self.problems),
        )


def _coverage_without_problems(
    nominal: Sequence[CoverageSpan], problems: Sequence[RowProblem]
) -> tuple[CoverageSpan, ...]:
    """Drop the days of skipped rows from the coverage (all of it if a day is unknown)."""
    if not problems:
        return tuple(nominal)
    if any(p.day is None for p in problems):
        return ()
    spans = list(nominal)
    for day in sorted({p.day for p in problems if p.day is not None}):
        hole_start = datetime.combine(day, time(0), UTC)
        hole_end = hole_start + timedelta(days=1)
        kept: list[CoverageSpan] = []
        for span in spans:
            if span.end <= hole_start or span.start >= hole_end:
                kept.append(span)
                continue
            if span.start < hole_start:
                kept.append(CoverageSpan(span.start, hole_start, span.source, span.origin))
            if span.end > hole_end:
                kept.append(CoverageSpan(hole_end, span.end, span.source, span.origin))
        spans = kept
    return tuple(spans)


def _day_spans(days: Iterable[date], source: str, origin: str) -> list[CoverageSpan]:
    """Whole UTC days, with consecutive days merged into one span."""
    spans = [
        CoverageSpan(
            datetime.combine(d, time(0), UTC),
            datetime.combine(d, time(0), UTC) + timedelta(days=1),
            source,
            origin,
        )
        for d in set(days)
    ]
    return [CoverageSpan(start, end, source, origin) for start, end in merge_spans(spans)]


def _currency(text: str) -> str:
    code = text.strip().upper()
    if code == ALL_CURRENCIES or _CURRENCY.match(code):
        return code
    raise _RowError(f"bad currency {text.strip()!r} (expected a 3-letter code or ALL)")


def _impact(text: str, table: dict[str, Impact]) -> Impact:
    impact = table.get(text.strip().lower())
    if impact is None:
        raise _RowError(f"unknown impact {text.strip()!r}")
    return impact


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise _RowError("empty title")
    return title


def _iso_utc(text: str, field: str, *, zero_offset: bool = False) -> datetime:
    """``text`` as an aware UTC time in 1970..2099; with ``zero_offset`` any offset other
    than ``Z``/``+00:00`` is a bad row too (for a column whose format promises UTC)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(f"bad {field} {text.strip()!r} (expected ISO 8601 UTC)") from None
    if parsed.tzinfo is None:
        raise _RowError(f"{field} {text.strip()!r} has no UTC offset", _plausible_day(parsed))
    if zero_offset and parsed.utcoffset():
        raise _RowError(
            f"{field} {text.strip()!r} is not UTC (expected Z or +00:00)",
            _plausible_day(parsed.replace(tzinfo=None)),
        )
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is before the first datetime there is
        utc = parsed.replace(tzinfo=None).replace(tzinfo=UTC)  # out of range either way
    problem = date_problem(utc.date())
    if problem is not None:
        raise _RowError(f"{field} {text.strip()!r}: {problem}")
    return utc


def _plausible_day(when: datetime | date) -> date | None:
    """The day of a row for its coverage hole, if it is a day a file may hold."""
    day = when.date() if isinstance(when, datetime) else when
    return day if date_problem(day) is None else None


# ------------------------------------------------------------------ ForexFactory XML

_XML_FIELDS = ("title", "country", "date", "time", "impact", "forecast", "previous", "actual")


def _parse_ff_xml(path: Path, data: bytes, strict: bool) -> ParsedCalendarFile:
    collector = _Collector(path, strict)
    source = CalendarFormat.FOREXFACTORY_XML.value
    seen: Counter[tuple[datetime, str, str]] = Counter()
    dates: list[date] = []
    parser = xml.parsers.expat.ParserCreate()
    stack: list[str] = []
    current: dict[str, str] | None = None
    event_line = 0
    text_parts: list[str] = []

    def build(fields: dict[str, str]) -> EconomicEvent:
        when = _xml_time(fields.get("date", ""), fields.get("time", ""))
        try:
            currency = _currency(fields.get("country", ""))
            impact = _impact(fields.get("impact", ""), _FF_IMPACTS)
            title = _title(fields.get("title", ""))
        except _RowError as exc:
            raise _RowError(str(exc), when.date()) from None
        seen[(when, currency, title)] += 1
        occurrence = seen[(when, currency, title)]
        # ForexFactory sometimes lists one release twice (e.g. two weeks of a delayed
        # report on one day); the ordinal keeps both and stays stable on re-import.
        source_id = f"{when:%Y-%m-%dT%H:%M}Z|{currency}|{title}"
        if occurrence > 1:
            source_id += f"#{occurrence}"
        dates.append(when.date())
        return EconomicEvent(
            time=when,
            currency=currency,
            impact=impact,
            title=title,
            actual=fields.get("actual", ""),
            forecast=fields.get("forecast", ""),
            previous=fields.get("previous", ""),
            source=source,
            source_id=source_id,
        )

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal current, event_line
        if not stack and name != "weeklyevents":
            raise CalendarFormatError(
                f"{path}:{parser.CurrentLineNumber}: not a ForexFactory weekly calendar "
                f"(root element <{name}>, expected <weeklyevents>)"
            )
        stack.append(name)
        text_parts.clear()
        if name == "event":
            current = {}
            event_line = parser.CurrentLineNumber

    def end(name: str) -> None:
        nonlocal current
        stack.pop()
        if name == "event" and current is not None:
            fields = current
            collector.add(event_line, lambda: build(fields))
            current = None
        elif current is not None and name in _XML_FIELDS:
            current[name] = "".join(text_parts).strip()
        text_parts.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text_parts.append
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise CalendarFormatError(
            f"{path}:{exc.lineno}: malformed XML ({xml.parsers.expat.ErrorString(exc.code)})"
        ) from None
    return collector.result(CalendarFormat.FOREXFACTORY_XML, _xml_week(dates, source, path.name))


def _xml_time(date_text: str, time_text: str) -> datetime:
    match = _XML_DATE.match(date_text.strip())
    if not match:
        raise _RowError(f"bad date {date_text.strip()!r} (expected MM-DD-YYYY)")
    month, day, year = (int(g) for g in match.groups())
    try:
        the_day = date(year, month, day)
    except ValueError:
        raise _RowError(f"bad date {date_text.strip()!r} (no such day)") from None
    problem = date_problem(the_day)
    if problem is not None:
        raise _RowError(f"bad date {date_text.strip()!r} ({problem})")
    clock = time_text.strip()
    if _XML_DAY_ONLY.match(clock):
        return datetime.combine(the_day, time(0), UTC)
    match = _XML_TIME.match(clock)
    if not match:
        raise _RowError(f"bad time {clock!r} (expected h:mmam or h:mmpm)", the_day)
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3).lower()
    if not (1 <= hour <= 12 and minute < 60):
        raise _RowError(f"bad time {clock!r} (no such clock time)", the_day)
    hour = hour % 12 + (12 if half == "pm" else 0)
    return datetime.combine(the_day, time(hour, minute), UTC)


def _xml_week(dates: Sequence[date], source: str, origin: str) -> list[CoverageSpan]:
    """The Sunday-to-Saturday UTC week holding the file's first event (none if empty)."""
    if not dates:
        return []
    first = min(dates)
    sunday = first - timedelta(days=(first.weekday() + 1) % 7)
    start = datetime.combine(sunday, time(0), UTC)
    return [CoverageSpan(start, start + timedelta(days=7), source, origin)]


# ------------------------------------------------------------------ ForexFactory CSV


def _csv_error(path: Path, line: int, exc: csv.Error) -> CalendarFormatError:
    """A CSV the ``csv`` module cannot split: the whole file is refused, naming the line
    (the reader counts only the lines it finished, so the bad one is the next)."""
    text = str(exc)
    if "field larger than field limit" in text:
        text = f"field longer than {csv.field_size_limit()} characters"
    return CalendarFormatError(f"{path}:{line}: unreadable CSV ({text})")


def _csv_header(path: Path, reader: csv.DictReader[str], offset: int) -> list[str]:
    try:
        return list(reader.fieldnames or [])
    except csv.Error as exc:
        raise _csv_error(path, offset + reader.line_num + 1, exc) from None


def _csv_rows(
    path: Path, reader: csv.DictReader[str], offset: int
) -> Iterator[dict[str, str]]:
    """The rows of ``reader``; line numbers are ``offset`` plus the reader's own."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(path, offset + reader.line_num + 1, exc) from None
        yield row



def _parse_ff_csv(path: Path, text: str, strict: bool) -> ParsedCalendarFile:
    collector = _Collector(path, strict)
    source = CalendarFormat.FOREXFACTORY_CSV.value
    reader = csv.DictReader(io.StringIO(text, newline=""))
    has_day_files = "source_file" in _csv_header(path, reader, 0)
    days: set[date] = set()

    def build(row: dict[str, str]) -> EconomicEvent:
        if None in row or any(v is None for v in row.values()):
            raise _RowError("wrong number of fields", _row_day(row))
        when = _iso_utc(row["event_dt_utc"], "event_dt_utc")
        try:
            currency = _currency(row["currency"])
            impact = _impact(row["impact"], _FF_IMPACTS)
            title = _title(row["event"])
        except _RowError as exc:
            raise _RowError(str(exc), when.date()) from None
        event_id = (row.get("ff_event_id") or "").strip()
        source_id = f"{event_id}@{when:%Y-%m-%dT%H:%M}Z" if event_id else (
            f"{when:%Y-%m-%dT%H:%M}Z|{currency}|{title}"
        )
        if not has_day_files:
            days.add(when.date())
        return _csv_event(row, when, currency, impact, title, source, source_id)

    for row in _csv_rows(path, reader, 0):
        if has_day_files:
            day = _row_day(row)
            if day is not None:
                days.add(day)
        collector.add(reader.line_num, lambda row=row: build(row))
    return collector.result(CalendarFormat.FOREXFACTORY_CSV, _day_spans(days, source, path.name))


def _row_day(
    row: dict[str, str], keys: Sequence[str] = ("source_file", "event_dt_utc")
) -> date | None:
    """The UTC day a CSV row belongs to: for ForexFactory's its scraped day file, else its
    time (``keys`` in order; the first that holds a date wins)."""
    for key in keys:
        match = _ISO_DAY.search(row.get(key) or "")
        if match:
            try:
                return _plausible_day(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return None


# ------------------------------------------------------------------ MT5 export CSV

_MT5_IMPACTS = {
    "high": Impact.HIGH,
    "medium": Impact.MEDIUM,
    "moderate": Impact.MEDIUM,
    "low": Impact.LOW,
    "none": Impact.NONE,
    "holiday": Impact.HOLIDAY,
}


def _parse_mt5_csv(path: Path, text: str, strict: bool) -> ParsedCalendarFile:
    collector = _Collector(path, strict)
    source = CalendarFormat.MT5_CSV.value
    lines = text.splitlines(keepends=True)
    skipped = 0
    declared: dict[str, str] = {}
    while skipped < len(lines) and (
        not lines[skipped].strip() or lines[skipped].lstrip().startswith("#")
    ):
        declared.update(_preamble_fields(lines[skipped]))
        skipped += 1
    reader = csv.DictReader(io.StringIO("".join(lines[skipped:]), newline=""))
    header = _csv_header(path, reader, skipped)
    missing = [name for name in MT5_HEADER[:8] if name not in header]
    if missing:
        raise CalendarFormatError(
            f"{path}:{skipped + 1}: MT5 calendar export without column(s) {', '.join(missing)}"
        )
    times: list[datetime] = []

    def build(row: dict[str, str]) -> EconomicEvent:
        if None in row or any(v is None for v in row.values()):
            raise _RowError("wrong number of fields")
        when = _iso_utc(row["time_utc"], "time_utc")
        try:
            currency = _currency(row["currency"])
            impact = _impact(row["impact"], _MT5_IMPACTS)
            title = _title(row["title"])
        except _RowError as exc:
            raise _RowError(str(exc), when.date()) from None
        value_id = (row.get("value_id") or "").strip()
        times.append(when)
        return EconomicEvent(
            time=when,
            currency=currency,
            impact=impact,
            title=title,
            actual=row["actual"].strip(),
            forecast=row["forecast"].strip(),
            previous=row["previous"].strip(),
            source=source,
            source_id=value_id or f"{when:%Y-%m-%dT%H:%M}Z|{currency}|{title}",
        )

    for row in _csv_rows(path, reader, skipped):
        collector.add(skipped + reader.line_num, lambda row=row: build(row))
    coverage = _mt5_coverage(path, declared, times, source)
    return collector.result(CalendarFormat.MT5_CSV, coverage)


def _preamble_fields(line: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in line.lstrip("# ").split(";"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _mt5_coverage(
    path: Path, declared: dict[str, str], times: Sequence[datetime], source: str
) -> list[CoverageSpan]:
    """The stretches the events vouch for (``_event_stretches``), cut to the exported range
    when the preamble gives one: the preamble can narrow the coverage, never widen it."""
    stretches = _event_stretches(times, source, path.name)
    if "from_utc" not in declared or "to_utc" not in declared:
        return stretches
    try:
        start = _iso_utc(declared["from_utc"], "from_utc")
        end = _iso_utc(declared["to_utc"], "to_utc")
    except _RowError as exc:
        raise CalendarFormatError(f"{path}:1: bad export range ({exc})") from None
    if end <= start:
        return []
    return [
        CoverageSpan(max(span.start, start), min(span.end, end), source, path.name)
        for span in stretches
        if span.start < end and span.end > start
    ]


def _event_stretches(times: Sequence[datetime], source: str, origin: str) -> list[CoverageSpan]:
    """Whole UTC days from each event's day, joined across gaps of at most ``BRIDGED_DAYS``
    days without events: what a list of events can vouch for."""
    days = sorted({t.date() for t in times})
    if not days:
        return []
    runs: list[tuple[date, date]] = []
    first = previous = days[0]
    for day in days[1:]:
        if (day - previous).days > BRIDGED_DAYS + 1:
            runs.append((first, previous))
            first = day
        previous = day
    runs.append((first, previous))
    return [
        CoverageSpan(
            datetime.combine(a, time(0), UTC),
            datetime.combine(b, time(0), UTC) + timedelta(days=1),
            source,
            origin,
        )
        for a, b in runs
    ]


# ------------------------------------------------------------------ generic UTC calendar CSV

_UTC_CSV_IMPACTS = {
    "high": Impact.HIGH,
    "medium": Impact.MEDIUM,
    "low": Impact.LOW,
    "holiday": Impact.HOLIDAY,
}


def _parse_utc_csv(path: Path, text: str, strict: bool) -> ParsedCalendarFile:
    """A calendar CSV whose header names ``time_utc,currency,impact,title`` and optionally
    ``actual,forecast,previous``, in any order (the names say what a column is, so the order
    adds nothing).  Header names are matched without regard to case or surrounding blanks.

    - ``time_utc`` is ISO 8601 with ``Z`` or ``+00:00``: the format promises UTC, so a time
      without a zone, or with another offset, is a bad row rather than a guess.
    - ``impact`` is High, Medium, Low or Holiday (any case); anything else is a bad row.
    - ``currency`` is a 3-letter code or ``ALL`` (any case).
    - Untimed events (all-day, tentative) are at 00:00 UTC of their day, as the files put
      them; they stay there: the file cannot tell them from a real midnight release.
    - A column the format does not name, or a column named twice, refuses the whole file:
      an unknown column may change what the others mean (a time zone, say) and a repeated
      one leaves the value ambiguous.
    - Coverage is the events' UTC days joined across gaps of at most ``BRIDGED_DAYS`` days
      (``_event_stretches``), as for an MT5 export without a preamble: the file states no
      range of its own, so it vouches only for the stretch its events fill.
    - ``source_id`` is ``<time to the minute>Z|<currency>|<title>``, with ``#n`` for the
      n-th repeat of that key in the file: the file has no ids, and these three fields name
      a release, so a re-import (also one with ``actual`` filled in or a regraded impact)
      updates the stored row instead of adding one.  The text form, not a hash, is the one
      the other formats fall back to and can be read back to its event.
    """
    collector = _Collector(path, strict)
    source = CalendarFormat.UTC_CSV.value
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = _utc_csv_columns(path, _csv_header(path, reader, 0))
    seen: Counter[str] = Counter()
    times: list[datetime] = []

    def build(row: dict[str, str]) -> EconomicEvent:
        if None in row or any(v is None for v in row.values()):
            raise _RowError("wrong number of fields", _row_day(row, ("time_utc",)))
        when = _iso_utc(row["time_utc"], "time_utc", zero_offset=True)
        try:
            currency = _currency(row["currency"])
            impact = _impact(row["impact"], _UTC_CSV_IMPACTS)
            title = _title(row["title"])
        except _RowError as exc:
            raise _RowError(str(exc), when.date()) from None
        key = f"{when:%Y-%m-%dT%H:%M}Z|{currency}|{title}"
        seen[key] += 1
        times.append(when)
        source_id = key if seen[key] == 1 else f"{key}#{seen[key]}"
        return _csv_event(row, when, currency, impact, title, source, source_id)

    for row in _csv_rows(path, reader, 0):
        collector.add(reader.line_num, lambda row=row: build(row))
    return collector.result(CalendarFormat.UTC_CSV, _event_stretches(times, source, path.name))


def _utc_csv_columns(path: Path, header: Sequence[str]) -> list[str]:
    """The header's names normalised, or an error naming what is missing, unknown or twice."""
    names = [name.strip().lower() for name in header]
    missing = [name for name in UTC_CSV_REQUIRED if name not in names]
    unknown = [name for name in names if name not in UTC_CSV_REQUIRED + UTC_CSV_OPTIONAL]
    repeated = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"without column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
    if repeated:
        problems.append(f"column(s) {', '.join(repeated)} named twice")
    if problems:
        raise CalendarFormatError(
            f"{path}:1: UTC calendar CSV {'; '.join(problems)} (expected "
            f"{','.join(UTC_CSV_REQUIRED)} and optionally {','.join(UTC_CSV_OPTIONAL)})"
        )
    return names


def _csv_event(row: Mapping[str, str | None], when: datetime, currency: str, impact: Impact,
               title: str, source: str, source_id: str) -> EconomicEvent:
    """One event from a CSV row whose actual/forecast/previous columns may be absent."""
    return EconomicEvent(
        time=when,
        currency=currency,
        impact=impact,
        title=title,
        actual=(row.get("actual") or "").strip(),
        forecast=(row.get("forecast") or "").strip(),
        previous=(row.get("previous") or "").strip(),
        source=source,
        source_id=source_id,
    )
