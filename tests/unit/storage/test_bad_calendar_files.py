"""Bad calendar files through ``main.py import calendar``, and what a file may claim to cover.

A refused file ends with exit status 2, one line naming the file and line, no crash.log and
the calendar exactly as it was (it already holds the MT5 sample week, so a partial write
would show).  Coverage is clamped to what the events vouch for.
"""

from __future__ import annotations

import gzip
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

import main
from engine import decisions as codes
from engine.news import NewsConfig, NewsFilter
from storage.calendar import Calendar, import_calendar_files
from storage.calendar_formats import parse_calendar_file
from storage.paths import crash_log_path

MT5_SAMPLE = TEST_DATA / "calendar" / "mt5_calendar_export_sample.csv"
HEADER = "time_utc,currency,country,impact,title,actual,forecast,previous,time_mode,event_id," \
         "value_id\n"
FF_HEADER = "event_dt_utc,currency,impact,event,actual,forecast,previous\n"


def mt5(*times: str, start: str | None = "2019-12-01T00:00:00Z",
        end: str | None = "2019-12-08T00:00:00Z", title: str = "ISM Manufacturing PMI") -> str:
    preamble = "# fxcluster mt5 calendar export"
    if start is not None and end is not None:
        preamble += f"; from_utc={start}; to_utc={end}"
    rows = "".join(f"{t},USD,US,HIGH,{title},48.1,49.2,48.3,DATETIME,1,{i}\n"
                   for i, t in enumerate(times))
    return f"{preamble}\n{HEADER}{rows}"


def ff_week(date: str) -> str:
    return (
        '<?xml version="1.0" encoding="windows-1252"?>\n<weeklyevents>\n<event>\n'
        "<title>Retail Sales</title>\n<country>USD</country>\n"
        f"<date><![CDATA[{date}]]></date>\n<time><![CDATA[8:30am]]></time>\n"
        "<impact><![CDATA[High]]></impact>\n</event>\n</weeklyevents>\n"
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def calendar_db(tmp_path: Path) -> Path:
    """A calendar that already holds the MT5 sample week."""
    path = tmp_path / "calendar.sqlite"
    import_calendar_files([MT5_SAMPLE], path)
    return path


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


BIG = "x" * 131_073

REFUSED = [
    # (file name, content, --strict, expected message after "error: {path}")
    ("years.csv", mt5("2019-12-02T15:00:00Z", start="0001-01-01T00:00:00Z",
                      end="9999-12-31T00:00:00Z"), False,
     ":1: bad export range (from_utc '0001-01-01T00:00:00Z': date before 1970)"),
    ("to-9999.csv", mt5("2019-12-02T15:00:00Z", end="9999-12-31T00:00:00Z"), False,
     ":1: bad export range (to_utc '9999-12-31T00:00:00Z': date after 2099)"),
    ("row-0001.csv", mt5("2019-12-02T15:00:00Z", "0001-01-01T00:30:00+01:00"), True,
     ":4: time_utc '0001-01-01T00:30:00+01:00': date before 1970"),
    ("row-9999.csv", mt5("9999-12-31T23:00:00-05:00"), True,
     ":3: time_utc '9999-12-31T23:00:00-05:00': date after 2099"),
    ("row-1969.csv", mt5("1969-12-31T23:59:59Z"), True,
     ":3: time_utc '1969-12-31T23:59:59Z': date before 1970"),
    ("all-bad.csv", mt5("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"), False,
     ":3: time_utc '0001-01-01T00:00:00Z': date before 1970; no row of the file is usable "
     "(2 read, all rejected)"),
    ("ff.csv", FF_HEADER + "9999-12-31T23:00:00+00:00,USD,High Impact Expected,NFP,,,\n", True,
     ":2: event_dt_utc '9999-12-31T23:00:00+00:00': date after 2099"),
    ("week.xml", ff_week("01-01-0001"), True, ":3: bad date '01-01-0001' (date before 1970)"),
    ("week-9999.xml", ff_week("12-31-9999"), True, ":3: bad date '12-31-9999' (date after 2099)"),
    ("field.csv", mt5("2019-12-02T15:00:00Z", title=BIG), False,
     ":3: unreadable CSV (field longer than 131072 characters)"),
    ("ff-field.csv", FF_HEADER + f"2019-12-02T15:00:00+00:00,USD,High,{BIG},,,\n", False,
     ":2: unreadable CSV (field longer than 131072 characters)"),
    ("header-field.csv", f"event_dt_utc,currency,impact,event,{BIG}\n", False,
     ":1: unreadable CSV (field longer than 131072 characters)"),
]


@pytest.mark.parametrize(("name", "content", "strict", "expected"), REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_a_bad_calendar_file_is_refused_with_file_and_line(tmp_path, calendar_db, capsys, name,
                                                           content, strict, expected):
    # Arrange
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = dump(calendar_db)

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(calendar_db),
                    *(["--strict"] if strict else [])])

    # Assert
    err = capsys.readouterr().err
    assert rc == 2
    assert err == f"error: {path}{expected}\n"
    assert not crash_log_path().exists()
    assert dump(calendar_db) == before


@pytest.mark.parametrize(
    ("damage", "detail"),
    [(lambda p: p[:-8] + bytes([p[-8] ^ 0xFF]) + p[-7:], "CRC check failed"),
     (lambda p: p[:10] + b"\x07" + p[11:], "Error -3 while decompressing data"),
     (lambda p: p[:-30], "gzip data cut off")],
    ids=["crc", "deflate", "cut-off"],
)
def test_a_damaged_gzipped_calendar_is_refused(tmp_path, calendar_db, capsys, damage, detail):
    # Arrange
    path = tmp_path / "calendar.csv.gz"
    path.write_bytes(damage(gzip.compress(MT5_SAMPLE.read_bytes(), mtime=0)))
    before = dump(calendar_db)

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(calendar_db)])

    # Assert
    err = capsys.readouterr().err
    assert rc == 2 and len(err.splitlines()) == 1
    assert re.fullmatch(f"error: {re.escape(str(path))}: .*{detail}.*\n", err)
    assert not crash_log_path().exists()
    assert dump(calendar_db) == before


def test_a_gzipped_calendar_reads_like_the_plain_one(tmp_path):
    # Arrange
    path = tmp_path / "calendar.csv.gz"
    path.write_bytes(gzip.compress(MT5_SAMPLE.read_bytes()))

    # Act / Assert
    assert parse_calendar_file(path).events == parse_calendar_file(MT5_SAMPLE).events


def test_a_calendar_file_too_large_to_read_whole_is_refused(tmp_path, capsys):
    # Arrange: 65 MiB of text, a few kB on disk.
    path = tmp_path / "calendar.csv.gz"
    path.write_bytes(gzip.compress(mt5("2019-12-02T15:00:00Z").encode() + b" " * 65 * 2**20))

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(tmp_path / "c.sqlite")])

    # Assert
    assert rc == 2
    assert capsys.readouterr().err == (
        f"error: {path}: larger than 64 MiB once decompressed, too large for a calendar file\n")


def test_a_refused_first_file_does_not_create_the_calendar(tmp_path, capsys):
    # Arrange
    path = tmp_path / "years.csv"
    path.write_text(REFUSED[0][1], encoding="utf-8")

    # Act
    rc = main.main(["import", "calendar", str(path), "--calendar", str(tmp_path / "new.sqlite")])

    # Assert
    assert rc == 2 and "bad export range" in capsys.readouterr().err
    assert not (tmp_path / "new.sqlite").exists()


# --- what a file may claim to cover ----------------------------------------------------------


def test_the_preamble_is_clamped_to_the_days_its_events_vouch_for(tmp_path, capsys):
    # Arrange: two events, a preamble claiming ninety years.
    path = tmp_path / "export.csv"
    path.write_text(mt5("2019-12-02T15:00:00Z", "2019-12-03T03:30:00Z",
                        start="2000-01-01T00:00:00Z", end="2090-01-01T00:00:00Z"))
    db = tmp_path / "calendar.sqlite"

    # Act
    rc_import = main.main(["import", "calendar", str(path), "--calendar", str(db)])
    rc_coverage = main.main(["calendar", "coverage", "--calendar", str(db)])
    out = capsys.readouterr().out

    # Assert
    assert (rc_import, rc_coverage) == (0, 0)
    assert "covers 2 days" in out
    assert "2019-12-02 00:00 .. 2019-12-04 00:00 UTC\n1 covered stretches, 2 events" in out


def test_a_narrower_preamble_still_narrows_the_coverage(tmp_path):
    # Arrange
    path = tmp_path / "export.csv"
    path.write_text(mt5("2019-12-02T15:00:00Z", "2019-12-03T03:30:00Z",
                        start="2019-12-02T12:00:00Z", end="2019-12-03T06:00:00Z"))

    # Act
    [span] = parse_calendar_file(path).coverage

    # Assert
    assert (span.start, span.end) == (utc(2019, 12, 2, 12), utc(2019, 12, 3, 6))


@pytest.mark.parametrize("with_preamble", [True, False])
def test_weekends_and_a_holiday_are_bridged_longer_silences_are_not(tmp_path, with_preamble):
    # Arrange: Friday, then Tuesday after a holiday Monday, then nothing until a month later.
    path = tmp_path / "export.csv"
    times = ("2019-12-06T13:30:00Z", "2019-12-10T10:00:00Z", "2020-01-10T13:30:00Z")
    if with_preamble:
        path.write_text(mt5(*times, start="2019-12-01T00:00:00Z", end="2020-02-01T00:00:00Z"))
    else:
        path.write_text(mt5(*times, start=None, end=None))

    # Act
    coverage = parse_calendar_file(path).coverage

    # Assert
    assert [(s.start, s.end) for s in coverage] == [
        (utc(2019, 12, 6), utc(2019, 12, 11)),
        (utc(2020, 1, 10), utc(2020, 1, 11)),
    ]


def test_stale_policy_block_works_again_after_a_wide_preamble(tmp_path):
    # Arrange: the file that used to make the calendar "fresh" for every instant there is.
    path = tmp_path / "export.csv"
    path.write_text(mt5("2019-12-02T15:00:00Z", "2019-12-03T15:00:00Z", "2019-12-04T15:00:00Z",
                        start="2000-01-01T00:00:00Z", end="2090-01-01T00:00:00Z"))
    db = tmp_path / "calendar.sqlite"
    import_calendar_files([path], db)

    # Act
    with Calendar.open(db) as calendar:
        news = NewsFilter(NewsConfig(), calendar)
        during = news.check_entry(utc(2019, 12, 2, 6), {"EUR"})
        later = news.check_entry(utc(2030, 6, 3, 12), {"EUR"})

    # Assert
    assert during.allowed
    assert not later.allowed and later.reason == codes.CALENDAR_STALE


def test_a_scraped_day_file_of_year_9999_adds_no_coverage(tmp_path):
    # Arrange
    path = tmp_path / "ff.csv"
    path.write_text(
        FF_HEADER.rstrip("\n") + ",source_file\n"
        "2019-12-02T15:00:00+00:00,USD,High Impact Expected,ISM,,,,2019-12-02.json\n"
        "2019-12-03T15:00:00+00:00,USD,High Impact Expected,JOLTS,,,,9999-12-31.json\n"
    )

    # Act
    parsed = parse_calendar_file(path)

    # Assert
    assert len(parsed.events) == 2
    assert [(s.start, s.end) for s in parsed.coverage] == [(utc(2019, 12, 2), utc(2019, 12, 3))]
