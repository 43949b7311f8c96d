"""The generic UTC calendar CSV (``time_utc,currency,impact,title[,actual,forecast,previous]``).

On the committed slice of the normalised 2019 ForexFactory calendar, on hand-written bad
rows through ``main.py import calendar``, and, when ``../shared/data`` is present, on the
whole 2019 file.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

import main
from engine.model import Impact
from storage.calendar import Calendar, import_calendar_files
from storage.calendar_formats import CalendarFormat, CalendarFormatError, parse_calendar_file
from storage.paths import crash_log_path

CALENDAR_DATA = TEST_DATA / "calendar"
UTC_SLICE = CALENDAR_DATA / "economic_calendar_2019_UTC_slice.csv"
FF_CSV_SLICE = CALENDAR_DATA / "forexfactory_events_2019-11-20_2019-12-31_UTC.csv"
MT5_SAMPLE = CALENDAR_DATA / "mt5_calendar_export_sample.csv"

HEADER = "time_utc,currency,impact,title,actual,forecast,previous\n"
GOOD_ROW = "2019-10-30T18:00:00Z,USD,High,Federal Funds Rate,1.75%,1.75%,2.00%\n"

#: Rows per impact in the slice (tests/data/calendar/README.md).
SLICE_IMPACTS = {Impact.HIGH: 50, Impact.MEDIUM: 35, Impact.LOW: 153, Impact.HOLIDAY: 21}
#: Rows per impact in the whole 2019 file (shared/data/SOURCES.md).
YEAR_IMPACTS = {Impact.HIGH: 838, Impact.MEDIUM: 845, Impact.LOW: 2812, Impact.HOLIDAY: 134}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture
def calendar_db(tmp_path: Path) -> Path:
    """A calendar that already holds the MT5 sample week (a partial write would show)."""
    path = tmp_path / "calendar.sqlite"
    import_calendar_files([MT5_SAMPLE], path)
    return path


# ------------------------------------------------------------------ the committed slice


def test_the_slice_parses_with_exact_counts_per_impact():
    # Act
    parsed = parse_calendar_file(UTC_SLICE, strict=True)

    # Assert
    assert parsed.format is CalendarFormat.UTC_CSV
    assert parsed.rows == len(parsed.events) == 259
    assert parsed.problems == ()
    assert Counter(e.impact for e in parsed.events) == SLICE_IMPACTS
    assert len({e.source_id for e in parsed.events}) == 259
    assert {e.source for e in parsed.events} == {"utc-csv"}


def test_the_slice_keeps_times_values_and_untimed_events_as_written():
    # Act
    events = parse_calendar_file(UTC_SLICE, strict=True).events

    # Assert
    [rate] = [e for e in events if e.title == "Federal Funds Rate"]
    assert (rate.time, rate.currency, rate.impact) == (utc(2019, 10, 30, 18), "USD", Impact.HIGH)
    assert (rate.actual, rate.forecast, rate.previous) == ("1.75%", "1.75%", "2.00%")
    assert rate.source_id == "2019-10-30T18:00Z|USD|Federal Funds Rate"
    [hearings] = [e for e in events if e.title == "Monetary Policy Report Hearings"]
    assert hearings.time == utc(2019, 1, 10)  # "Tentative" in the scrape: 00:00 UTC, kept there


def test_the_slice_covers_its_event_days_joined_across_short_gaps():
    # Act
    coverage = parse_calendar_file(UTC_SLICE, strict=True).coverage

    # Assert: 2019-01-05 (a Saturday without events) is bridged; the months between are not.
    assert [(s.start, s.end) for s in coverage] == [
        (utc(2019, 1, 1), utc(2019, 1, 12)),
        (utc(2019, 10, 27), utc(2019, 11, 2)),
    ]


def test_a_reimport_adds_nothing(tmp_path):
    # Arrange
    db = tmp_path / "calendar.sqlite"
    first = import_calendar_files([UTC_SLICE], db)
    before = dump(db)

    # Act
    again = import_calendar_files([UTC_SLICE], db)

    # Assert
    assert (first.imported, first.new) == (259, 259)
    assert (again.imported, again.new) == (259, 0)
    assert dump(db) == before


def test_a_reimport_with_actuals_filled_in_updates_the_same_rows(tmp_path):
    # Arrange
    db = tmp_path / "calendar.sqlite"
    import_calendar_files([write(tmp_path, "before.csv", HEADER + GOOD_ROW.replace("1.75%,1.75%",
                                                                                   ",1.75%"))], db)
    later = write(tmp_path, "later.csv", HEADER + GOOD_ROW.replace("High", "medium"))

    # Act
    summary = import_calendar_files([later], db)

    # Assert
    assert summary.new == 0
    with Calendar.open(db) as calendar:
        [event] = calendar.events_between(utc(2019, 10, 30), utc(2019, 10, 31))
    assert (event.actual, event.impact) == ("1.75%", Impact.MEDIUM)


# ------------------------------------------------------------------ telling the formats apart


def _without_preamble(tmp_path: Path) -> Path:
    lines = MT5_SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    return write(tmp_path, "mt5-trimmed.csv", "\n".join(lines) + "\n")


DETECTION = [
    ("utc-slice", lambda tmp: UTC_SLICE, CalendarFormat.UTC_CSV, 259),
    ("mt5-export", lambda tmp: MT5_SAMPLE, CalendarFormat.MT5_CSV, 12),
    ("mt5-without-preamble", _without_preamble, CalendarFormat.MT5_CSV, 12),
    ("forexfactory-csv", lambda tmp: FF_CSV_SLICE, CalendarFormat.FOREXFACTORY_CSV, 493),
    ("utc-required-columns-only", lambda tmp: write(
        tmp, "short.csv", "time_utc,currency,impact,title\n2019-10-30T18:00:00Z,USD,High,FOMC\n"),
     CalendarFormat.UTC_CSV, 1),
    ("utc-any-order-and-case", lambda tmp: write(
        tmp, "reordered.csv", " Title ,IMPACT,previous,Currency,Time_UTC\n"
        "FOMC Statement,high,,usd,2019-10-30T18:00:00+00:00\n"), CalendarFormat.UTC_CSV, 1),
]


@pytest.mark.parametrize(("make", "expected", "count"), [c[1:] for c in DETECTION],
                         ids=[c[0] for c in DETECTION])
def test_the_header_tells_the_formats_apart(tmp_path, make, expected, count):
    # Act
    parsed = parse_calendar_file(make(tmp_path), strict=True)

    # Assert
    assert parsed.format is expected
    assert len(parsed.events) == count


def test_columns_read_by_name_not_position(tmp_path):
    # Arrange
    path = DETECTION[-1][1](tmp_path)

    # Act
    [event] = parse_calendar_file(path, strict=True).events

    # Assert
    assert (event.time, event.currency, event.impact, event.title, event.previous) == (
        utc(2019, 10, 30, 18), "USD", Impact.HIGH, "FOMC Statement", "")


BAD_HEADERS = [
    ("missing.csv", "time_utc,currency,impact\n", "without column(s) title"),
    ("unknown.csv", "time_utc,currency,impact,title,timezone\n", "unknown column(s) 'timezone'"),
    ("twice.csv", "time_utc,currency,impact,title,title\n", "column(s) title named twice"),
]


@pytest.mark.parametrize(("name", "header", "reason"), BAD_HEADERS,
                         ids=[c[0] for c in BAD_HEADERS])
def test_a_bad_header_refuses_the_file_at_line_one(tmp_path, name, header, reason):
    # Arrange
    path = write(tmp_path, name, header + GOOD_ROW)

    # Act / Assert
    with pytest.raises(CalendarFormatError) as raised:
        parse_calendar_file(path)
    assert str(raised.value).startswith(f"{path}:1: UTC calendar CSV {reason} (expected ")


# ------------------------------------------------------------------ bad rows


BIG = "x" * 131_073

BAD_ROWS = [
    # (id, the bad row written on line 3 after a good one, reason)
    ("no-zone", "2019-10-30T18:00:00,USD,High,FOMC Statement,,,",
     "time_utc '2019-10-30T18:00:00' has no UTC offset"),
    ("date-only", "2019-10-30,USD,High,FOMC Statement,,,",
     "time_utc '2019-10-30' has no UTC offset"),
    ("other-offset", "2019-10-30T14:00:00-04:00,USD,High,FOMC Statement,,,",
     "time_utc '2019-10-30T14:00:00-04:00' is not UTC (expected Z or +00:00)"),
    ("not-a-time", "yesterday,USD,High,FOMC Statement,,,",
     "bad time_utc 'yesterday' (expected ISO 8601 UTC)"),
    ("unknown-impact", "2019-10-30T18:00:00Z,USD,Extreme,FOMC Statement,,,",
     "unknown impact 'Extreme'"),
    ("no-impact", "2019-10-30T18:00:00Z,USD,None,FOMC Statement,,,", "unknown impact 'None'"),
    ("year-0001", "0001-01-01T00:00:00Z,USD,High,FOMC Statement,,,",
     "time_utc '0001-01-01T00:00:00Z': date before 1970"),
    ("year-9999", "9999-12-31T23:00:00Z,USD,High,FOMC Statement,,,",
     "time_utc '9999-12-31T23:00:00Z': date after 2099"),
    ("currency", "2019-10-30T18:00:00Z,US Dollar,High,FOMC Statement,,,",
     "bad currency 'US Dollar' (expected a 3-letter code or ALL)"),
    ("empty-title", "2019-10-30T18:00:00Z,USD,High, ,,,", "empty title"),
    ("fields", "2019-10-30T18:00:00Z,USD,High", "wrong number of fields"),
    ("field-length", f"2019-10-30T18:00:00Z,USD,High,{BIG},,,",
     "unreadable CSV (field longer than 131072 characters)"),
]


@pytest.mark.parametrize(("row", "reason"), [c[1:] for c in BAD_ROWS],
                         ids=[c[0] for c in BAD_ROWS])
def test_a_bad_row_stops_a_strict_import_naming_file_and_line(tmp_path, calendar_db, capsys, row,
                                                              reason):
    # Arrange
    path = write(tmp_path, "bad.csv", HEADER + GOOD_ROW + row + "\n")
    before = dump(calendar_db)

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(calendar_db), "--strict"])

    # Assert
    assert rc == 2
    assert capsys.readouterr().err == f"error: {path}:3: {reason}\n"
    assert not crash_log_path().exists()
    assert dump(calendar_db) == before


@pytest.mark.parametrize(("row", "reason"), [c[1:] for c in BAD_ROWS[:-1]],
                         ids=[c[0] for c in BAD_ROWS[:-1]])
def test_a_bad_row_is_skipped_and_reported_with_file_and_line(tmp_path, capsys, row, reason):
    # Arrange
    path = write(tmp_path, "bad.csv", HEADER + GOOD_ROW + row + "\n")
    db = tmp_path / "calendar.sqlite"

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(db)])

    # Assert
    out = capsys.readouterr().out
    assert rc == 0
    assert f"  skipped {path}:3: {reason}\n" in out
    assert f"{path}: utc-csv, 2 rows, 1 imported (1 new), 1 skipped" in out


def test_a_skipped_rows_day_is_left_out_of_the_coverage(tmp_path):
    # Arrange
    path = write(tmp_path, "gap.csv", HEADER + GOOD_ROW
                 + "2019-10-31T12:30:00Z,USD,Medium,Employment Cost Index q/q,,,\n"
                 + "2019-10-31T12:30:00,USD,High,Advance GDP q/q,,,\n"
                 + "2019-11-01T12:30:00Z,USD,High,Non-Farm Employment Change,,,\n")

    # Act
    parsed = parse_calendar_file(path)

    # Assert
    assert [str(p) for p in parsed.problems] == [
        f"{path}:4: time_utc '2019-10-31T12:30:00' has no UTC offset"]
    assert [(s.start, s.end) for s in parsed.coverage] == [
        (utc(2019, 10, 30), utc(2019, 10, 31)),
        (utc(2019, 11, 1), utc(2019, 11, 2)),
    ]


def test_a_file_with_no_good_row_is_refused_and_nothing_written(tmp_path, calendar_db, capsys):
    # Arrange
    path = write(tmp_path, "all-bad.csv", HEADER
                 + "0001-01-01T00:00:00Z,USD,High,NFP,,,\n"
                 + "2019-10-30T18:00:00,USD,High,FOMC,,,\n")
    before = dump(calendar_db)

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(calendar_db)])

    # Assert
    assert rc == 2
    assert capsys.readouterr().err == (
        f"error: {path}:2: time_utc '0001-01-01T00:00:00Z': date before 1970; no row of the "
        "file is usable (2 read, all rejected)\n")
    assert dump(calendar_db) == before


def test_a_repeated_release_keeps_both_rows_and_stays_stable_on_reimport(tmp_path):
    # Arrange
    path = write(tmp_path, "twice.csv", HEADER + GOOD_ROW + GOOD_ROW)
    db = tmp_path / "calendar.sqlite"

    # Act
    first = import_calendar_files([path], db)
    again = import_calendar_files([path], db)

    # Assert
    assert [e.source_id for e in parse_calendar_file(path).events] == [
        "2019-10-30T18:00Z|USD|Federal Funds Rate", "2019-10-30T18:00Z|USD|Federal Funds Rate#2"]
    assert (first.new, again.new) == (2, 0)


# ------------------------------------------------------------------ the whole 2019 file


@pytest.mark.shared
def test_the_whole_2019_file_imports_and_covers_the_year(shared_data, tmp_path, capsys):
    # Arrange
    source = shared_data / "calendar" / "economic_calendar_2019_UTC.csv"
    if not source.is_file():
        pytest.skip(f"{source} not present; the committed slice is still tested")
    db = tmp_path / "calendar.sqlite"

    # Act
    rc_import = main.main(["import", "calendar", str(source), "--calendar", str(db)])
    rc_again = main.main(["import", "calendar", str(source), "--calendar", str(db)])
    capsys.readouterr()
    rc_coverage = main.main(["calendar", "coverage", "--calendar", str(db)])

    # Assert
    assert (rc_import, rc_again, rc_coverage) == (0, 0, 0)
    assert capsys.readouterr().out == (
        "2019-01-01 00:00 .. 2020-01-01 00:00 UTC\n1 covered stretches, 4629 events\n")
    with Calendar.open(db) as calendar:
        events = calendar.events_between(utc(2019, 1, 1), utc(2019, 12, 31, 23, 59))
        assert calendar.is_fresh(utc(2019, 1, 1), horizon=utc(2019, 12, 31, 23, 59)
                                 - utc(2019, 1, 1))
    assert len(events) == 4629
    assert Counter(e.impact for e in events) == YEAR_IMPACTS
    assert sum(e.currency == "ALL" for e in events) == 32  # the file writes "All"
