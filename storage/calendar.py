"""The economic calendar in SQLite: imports, news queries and coverage.

Events from every importer land in one ``events`` table keyed by ``(source, source_id)``,
so importing a file again updates its rows instead of adding them; a value already known
(an ``actual`` from a later file) is never blanked by an older file that lacks it.  Each
import also records the UTC spans the file listed completely (``coverage``), which is what
lets the news filter tell "no events" from "no data" (``is_fresh``).

Each file is imported in its own transaction: a file that fails (strict mode, broken XML,
every row rejected) leaves the database exactly as it was, while files before it stay
imported.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.calendar import (
    ALL_CURRENCIES,
    CoverageSpan,
    EconomicEvent,
    StaticCalendar,
    merge_spans,
)
from engine.model import Impact
from storage.calendar_formats import (
    CalendarFormat,
    CalendarFormatError,
    ParsedCalendarFile,
    RowProblem,
    parse_calendar_file,
)
from storage.migrations import (
    Migration,
    SchemaSpec,
    open_database,
    parse_utc_text,
    read_transaction,
    utc_text,
)
from storage.paths import data_dir

#: The bounds of an open snapshot: earlier and later than any calendar file.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)

#: ``FXCL`` in ASCII: marks the file as an economic calendar (``PRAGMA application_id``).
CALENDAR_APPLICATION_ID = 0x4658434C

CALENDAR_SCHEMA = SchemaSpec(
    name="economic calendar",
    application_id=CALENDAR_APPLICATION_ID,
    migrations=(
        Migration(
            version=1,
            description="events and coverage",
            statements=(
                """CREATE TABLE events (
                    source TEXT NOT NULL,
                    source_id TEXT NOT NULL,
                    time_utc TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    impact TEXT NOT NULL,
                    impact_rank INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    actual TEXT NOT NULL DEFAULT '',
                    forecast TEXT NOT NULL DEFAULT '',
                    previous TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (source, source_id)
                )""",
                "CREATE INDEX events_time ON events (time_utc, impact_rank)",
                """CREATE TABLE coverage (
                    source TEXT NOT NULL,
                    start_utc TEXT NOT NULL,
                    end_utc TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    PRIMARY KEY (source, start_utc, end_utc)
                )""",
            ),
        ),
    ),
)

_UPSERT_EVENT = """
INSERT INTO events (source, source_id, time_utc, currency, impact, impact_rank, title,
                    actual, forecast, previous)
VALUES (:source, :source_id, :time_utc, :currency, :impact, :impact_rank, :title,
        :actual, :forecast, :previous)
ON CONFLICT (source, source_id) DO UPDATE SET
    time_utc = excluded.time_utc,
    currency = excluded.currency,
    impact = excluded.impact,
    impact_rank = excluded.impact_rank,
    title = excluded.title,
    actual = CASE WHEN excluded.actual <> '' THEN excluded.actual ELSE events.actual END,
    forecast = CASE WHEN excluded.forecast <> '' THEN excluded.forecast ELSE events.forecast END,
    previous = CASE WHEN excluded.previous <> '' THEN excluded.previous ELSE events.previous END
"""

_EVENT_ORDER = "ORDER BY time_utc, currency, title, source, source_id"


def default_calendar_path() -> Path:
    return data_dir() / "calendar.sqlite"


@dataclass(frozen=True)
class FileImportResult:
    """One imported file: rows read, events stored (``new`` of them not seen before),
    rows skipped with their problems, and the coverage it added."""

    path: Path
    format: CalendarFormat
    rows: int
    imported: int
    new: int
    problems: tuple[RowProblem, ...]
    coverage: tuple[CoverageSpan, ...]

    @property
    def skipped(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class CalendarImportSummary:
    db_path: Path
    files: tuple[FileImportResult, ...]

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    def report_lines(self, max_problems: int = 10) -> list[str]:
        """One line per file, then the first problems (file:line: reason)."""
        lines = []
        for f in self.files:
            days = sum((s.end - s.start for s in f.coverage), timedelta()) / timedelta(days=1)
            lines.append(
                f"{f.path}: {f.format.value}, {f.rows} rows, {f.imported} imported "
                f"({f.new} new), {f.skipped} skipped, covers {days:g} days"
            )
        problems = [p for f in self.files for p in f.problems]
        lines.extend(f"  skipped {p}" for p in problems[:max_problems])
        if len(problems) > max_problems:
            lines.append(f"  ... and {len(problems) - max_problems} more skipped rows")
        lines.append(
            f"calendar {self.db_path}: {self.imported} events imported ({self.new} new), "
            f"{self.skipped} rows skipped"
        )
        return lines


class Calendar:
    """The SQLite economic calendar; answers ``engine.ports.EventCalendar``."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True) -> Calendar:
        resolved = Path(path) if path is not None else default_calendar_path()
        return cls(open_database(resolved, CALENDAR_SCHEMA, create=create), resolved)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Calendar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ imports

    def import_file(self, path: Path | str, *, strict: bool = False) -> FileImportResult:
        """Parse and store one file; a file none of whose rows is usable is refused (a
        ``CalendarFormatError`` naming the first bad row), as a market-data import is."""
        return self.store(parse_for_import(path, strict=strict))

    def store(self, parsed: ParsedCalendarFile) -> FileImportResult:
        """Write a parsed file's events and coverage in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                before = self._count()
                self._conn.executemany(_UPSERT_EVENT, (_event_row(e) for e in parsed.events))
                new = self._count() - before
                self._conn.executemany(
                    "INSERT OR IGNORE INTO coverage (source, start_utc, end_utc, origin) "
                    "VALUES (?, ?, ?, ?)",
                    [
                        (span.source, utc_text(span.start), utc_text(span.end), span.origin)
                        for span in parsed.coverage
                    ],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return FileImportResult(
            path=parsed.path,
            format=parsed.format,
            rows=parsed.rows,
            imported=len(parsed.events),
            new=new,
            problems=parsed.problems,
            coverage=parsed.coverage,
        )

    def _count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    # ------------------------------------------------------------------ queries

    def event_count(self, source: str | None = None) -> int:
        with self._lock:
            if source is None:
                return self._count()
            row = self._conn.execute("SELECT COUNT(*) FROM events WHERE source = ?", (source,))
            return int(row.fetchone()[0])

    def events_between(
        self,
        start: datetime,
        end: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
    ) -> list[EconomicEvent]:
        """Events with ``start <= time <= end`` (see ``EventCalendar``)."""
        clauses = ["time_utc >= ?", "time_utc <= ?", "impact_rank >= ?"]
        params: list[object] = [utc_text(start), utc_text(end), Impact(min_impact).rank]
        clauses, params = _with_currencies(clauses, params, currencies)
        return self._events(f"WHERE {' AND '.join(clauses)} {_EVENT_ORDER}", params)

    def next_events(
        self,
        after: datetime,
        currencies: Collection[str] | None = None,
        min_impact: Impact = Impact.NONE,
        limit: int = 10,
    ) -> list[EconomicEvent]:
        clauses = ["time_utc >= ?", "impact_rank >= ?"]
        params: list[object] = [utc_text(after), Impact(min_impact).rank]
        clauses, params = _with_currencies(clauses, params, currencies)
        return self._events(
            f"WHERE {' AND '.join(clauses)} {_EVENT_ORDER} LIMIT ?", [*params, int(limit)]
        )

    def coverage(self) -> list[CoverageSpan]:
        """Every recorded coverage span, by start time."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT start_utc, end_utc, source, origin FROM coverage "
                "ORDER BY start_utc, end_utc, source"
            ).fetchall()
        return [
            CoverageSpan(parse_utc_text(start), parse_utc_text(end), source, origin)
            for start, end, source, origin in rows
        ]

    def covered_stretches(self) -> list[tuple[datetime, datetime]]:
        """The union of all coverage: sorted, disjoint ``(start, end)`` pairs."""
        return merge_spans(self.coverage())

    def coverage_end(self, t: datetime) -> datetime | None:
        """End of the covered stretch holding ``t``, or None when nothing covers ``t``."""
        t = parse_utc_text(utc_text(t))  # validates awareness, normalises to UTC
        for start, end in self.covered_stretches():
            if start <= t < end:
                return end
        return None

    def is_fresh(self, t: datetime, horizon: timedelta = timedelta(0)) -> bool:
        """True when imported files cover all of ``[t, t + horizon]``."""
        end = self.coverage_end(t)
        return end is not None and end > t + horizon

    def snapshot(self, start: datetime | None = None,
                 end: datetime | None = None) -> StaticCalendar:
        """An in-memory copy of ``[start, end]`` (None: open on that side) for fast per-bar
        checks in a backtest, and for a live engine's thread.

        Its events and its coverage are read in one transaction: read apart, an import
        committed between the two would give a stretch covered but without its events,
        which the news filter would take for a stretch with no news."""
        start = start or _EARLIEST
        end = end or _LATEST
        with self._lock, read_transaction(self._conn):
            events = self.events_between(start, end)
            coverage = [s for s in self.coverage() if s.end > start and s.start <= end]
        return StaticCalendar(events=events, coverage=coverage)

    def _events(self, where_sql: str, params: Sequence[object]) -> list[EconomicEvent]:
        sql = (
            "SELECT time_utc, currency, impact, title, actual, forecast, previous, source, "
            f"source_id FROM events {where_sql}"
        )
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [
            EconomicEvent(
                time=parse_utc_text(row[0]),
                currency=row[1],
                impact=Impact(row[2]),
                title=row[3],
                actual=row[4],
                forecast=row[5],
                previous=row[6],
                source=row[7],
                source_id=row[8],
            )
            for row in rows
        ]


def _with_currencies(
    clauses: list[str], params: list[object], currencies: Collection[str] | None
) -> tuple[list[str], list[object]]:
    if currencies is None:
        return clauses, params
    codes = sorted({c.strip().upper() for c in currencies} | {ALL_CURRENCIES})
    clauses = [*clauses, f"currency IN ({', '.join('?' * len(codes))})"]
    return clauses, [*params, *codes]


def _event_row(event: EconomicEvent) -> dict[str, object]:
    return {
        "source": event.source,
        "source_id": event.source_id,
        "time_utc": utc_text(event.time),
        "currency": event.currency,
        "impact": event.impact.value,
        "impact_rank": event.impact.rank,
        "title": event.title,
        "actual": event.actual,
        "forecast": event.forecast,
        "previous": event.previous,
    }


def parse_for_import(path: Path | str, *, strict: bool = False) -> ParsedCalendarFile:
    """A parsed calendar file fit to import: one none of whose rows is usable is refused
    (``CalendarFormatError`` naming the first bad row), as a market-data import is."""
    parsed = parse_calendar_file(path, strict=strict)
    if parsed.rows and not parsed.events and parsed.problems:
        raise CalendarFormatError(
            f"{parsed.problems[0]}; no row of the file is usable "
            f"({parsed.rows} read, all rejected)"
        )
    return parsed


def import_calendar_files(
    paths: Iterable[Path | str],
    db_path: Path | str | None = None,
    strict: bool = False,
) -> CalendarImportSummary:
    """Import calendar files of any supported format into the calendar at ``db_path``.

    Raises ``CalendarFormatError`` (a UserError naming file and line) for an unreadable file
    or, with ``strict``, the first bad row.  Every file is read and checked before the
    calendar is opened, so a file that fails leaves the calendar as it was (and a new one
    not created): the command imports its files, not the ones before the bad one.
    """
    parsed_files = [parse_for_import(path, strict=strict) for path in paths]
    calendar: Calendar | None = None
    results: list[FileImportResult] = []
    try:
        for parsed in parsed_files:
            if calendar is None:
                calendar = Calendar.open(db_path)
            results.append(calendar.store(parsed))
    finally:
        if calendar is not None:
            calendar.close()
    resolved = calendar.path if calendar is not None else Path(db_path or default_calendar_path())
    return CalendarImportSummary(db_path=resolved, files=tuple(results))
