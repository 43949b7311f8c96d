"""The SQLite economic calendar: idempotent imports, news queries, coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers.paths import TEST_DATA

from engine.calendar import CoverageSpan, EconomicEvent, StaticCalendar
from engine.model import Impact
from engine.ports import EventCalendar
from storage.calendar import Calendar, default_calendar_path, import_calendar_files
from storage.calendar_formats import CalendarFormatError

CALENDAR_DATA = TEST_DATA / "calendar"
FF_CSV_SLICE = CALENDAR_DATA / "forexfactory_events_2019-11-20_2019-12-31_UTC.csv"
MT5_SAMPLE = CALENDAR_DATA / "mt5_calendar_export_sample.csv"
XML_FILES = sorted(CALENDAR_DATA.glob("ff_calendar_thisweek_week-of-*.xml"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def calendar(tmp_path):
    import_calendar_files([FF_CSV_SLICE, MT5_SAMPLE, *XML_FILES], tmp_path / "calendar.sqlite")
    with Calendar.open(tmp_path / "calendar.sqlite") as opened:
        yield opened


def test_calendar_satisfies_the_news_protocol(calendar):
    assert isinstance(calendar, EventCalendar)


def test_import_counts_per_file_and_in_total(tmp_path):
    summary = import_calendar_files(
        [*XML_FILES, FF_CSV_SLICE, MT5_SAMPLE], tmp_path / "calendar.sqlite"
    )

    per_file = {f.path.name: (f.rows, f.imported, f.new, f.skipped) for f in summary.files}

    assert per_file["ff_calendar_thisweek_week-of-2023-11-12.xml"] == (112, 112, 112, 0)
    assert per_file[FF_CSV_SLICE.name] == (493, 493, 493, 0)
    assert per_file[MT5_SAMPLE.name] == (12, 12, 12, 0)
    assert summary.new == 877 + 493 + 12
    with Calendar.open(tmp_path / "calendar.sqlite") as calendar:
        assert calendar.event_count() == 877 + 493 + 12
        assert calendar.event_count("forexfactory-xml") == 877


def test_reimport_adds_nothing(tmp_path):
    db = tmp_path / "calendar.sqlite"
    files = [*XML_FILES, FF_CSV_SLICE, MT5_SAMPLE]
    import_calendar_files(files, db)

    again = import_calendar_files(files, db)

    assert again.new == 0
    assert again.imported == 877 + 493 + 12
    with Calendar.open(db) as calendar:
        assert calendar.event_count() == 877 + 493 + 12
        assert len(calendar.coverage()) == 10 + 5 + 1


def test_an_older_file_never_blanks_a_known_actual(tmp_path):
    db = tmp_path / "calendar.sqlite"
    import_calendar_files([FF_CSV_SLICE], db)
    before_release = tmp_path / "before.csv"
    before_release.write_text(
        FF_CSV_SLICE.read_text(encoding="utf-8").replace(",266K,181K,", ",,181K,"),
        encoding="utf-8",
    )

    import_calendar_files([before_release], db)

    with Calendar.open(db) as calendar:
        [nfp] = [e for e in calendar.events_between(utc(2019, 12, 6, 13, 30),
                                                    utc(2019, 12, 6, 13, 30), ["USD"])
                 if e.title == "Non-Farm Employment Change"]
    assert nfp.actual == "266K"


def test_known_event_time_in_utc(calendar):
    events = calendar.events_between(utc(2019, 12, 6), utc(2019, 12, 6, 23, 59), ["USD"],
                                     Impact.HIGH)

    nfp = [e for e in events if e.source == "forexfactory-csv"
           and e.title == "Non-Farm Employment Change"]

    assert [e.time for e in nfp] == [utc(2019, 12, 6, 13, 30)]


def test_currency_filter_includes_all_currency_events(calendar):
    events = calendar.events_between(utc(2019, 12, 5), utc(2019, 12, 5, 23, 59), ["NZD"],
                                     Impact.HIGH)

    assert [(e.currency, e.title) for e in events if e.source == "forexfactory-csv"] == [
        ("ALL", "OPEC Meetings"),
        ("NZD", "RBNZ Gov Orr Speaks"),
    ]


def test_impact_threshold_orders_holidays_below_low(calendar):
    day = (utc(2019, 12, 25), utc(2019, 12, 25, 23, 59))

    everything = calendar.events_between(*day)
    low_and_up = calendar.events_between(*day, min_impact=Impact.LOW)

    assert {e.impact for e in everything} >= {Impact.HOLIDAY}
    assert all(e.impact.rank >= Impact.LOW.rank for e in low_and_up)
    assert len(low_and_up) < len(everything)


def test_events_are_ordered_and_bounds_inclusive(calendar):
    events = calendar.events_between(utc(2019, 12, 6, 13, 30), utc(2019, 12, 6, 15, 0), ["USD"])

    assert events[0].time == utc(2019, 12, 6, 13, 30)
    assert events[-1].time == utc(2019, 12, 6, 15, 0)
    assert events == sorted(events, key=lambda e: (e.time, e.currency, e.title, e.source,
                                                    e.source_id))


def test_next_events(calendar):
    upcoming = calendar.next_events(utc(2019, 12, 6, 13, 0), ["USD"], Impact.HIGH, limit=2)

    assert [e.time for e in upcoming] == [utc(2019, 12, 6, 13, 30)] * 2


def test_coverage_tells_stale_from_quiet(calendar):
    assert calendar.is_fresh(utc(2019, 12, 6, 12, 0))
    assert calendar.coverage_end(utc(2019, 12, 6, 12, 0)) == utc(2019, 12, 7)
    assert calendar.is_fresh(utc(2019, 12, 6, 12, 0), horizon=timedelta(hours=11))
    assert not calendar.is_fresh(utc(2019, 12, 6, 12, 0), horizon=timedelta(hours=12))
    assert not calendar.is_fresh(utc(2019, 12, 7, 12, 0))  # no scrape that Saturday
    assert calendar.is_fresh(utc(2024, 9, 21, 23, 59))  # two imported XML weeks join
    assert calendar.coverage_end(utc(2024, 9, 21, 23, 59)) == utc(2024, 9, 29)
    assert calendar.coverage_end(utc(2021, 1, 1)) is None


def test_snapshot_answers_like_the_database(calendar):
    start, end = utc(2019, 12, 1), utc(2019, 12, 10)
    static = calendar.snapshot(start, end)

    for currencies, impact in [(None, Impact.NONE), (["USD", "EUR"], Impact.MEDIUM),
                               (["JPY"], Impact.HOLIDAY)]:
        window = (utc(2019, 12, 3), utc(2019, 12, 7))
        assert static.events_between(*window, currencies, impact) == calendar.events_between(
            *window, currencies, impact
        )
        assert static.next_events(utc(2019, 12, 5), currencies, impact, 5) == (
            calendar.next_events(utc(2019, 12, 5), currencies, impact, 5)
        )
    for hour in range(0, 24 * 9, 7):
        t = start + timedelta(hours=hour)
        assert static.coverage_end(t) == calendar.coverage_end(t)
        assert static.is_fresh(t, timedelta(hours=6)) == calendar.is_fresh(t, timedelta(hours=6))


def test_strict_import_error_imports_none_of_the_files(tmp_path):
    # Arrange: a good file, then one with a bad row; and a calendar holding the good one
    bad = tmp_path / "bad.csv"
    lines = MT5_SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].replace("HIGH", "SEVERE")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db, kept = tmp_path / "calendar.sqlite", tmp_path / "kept.sqlite"
    import_calendar_files([FF_CSV_SLICE], kept)

    # Act / Assert: every file is checked before any is written
    with pytest.raises(CalendarFormatError, match=r"bad\.csv:7: unknown impact 'SEVERE'"):
        import_calendar_files([FF_CSV_SLICE, bad], db, strict=True)
    with pytest.raises(CalendarFormatError, match=r"bad\.csv:7: unknown impact 'SEVERE'"):
        import_calendar_files([bad, FF_CSV_SLICE], kept, strict=True)

    assert not db.exists()
    with Calendar.open(kept) as calendar:
        assert calendar.event_count() == 493
        assert calendar.event_count("mt5") == 0


def test_lenient_import_skips_and_counts(tmp_path):
    bad = tmp_path / "bad.csv"
    lines = MT5_SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].replace("HIGH", "SEVERE")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = import_calendar_files([bad], tmp_path / "calendar.sqlite")

    [result] = summary.files
    assert (result.rows, result.imported, result.skipped) == (12, 11, 1)
    assert any("bad.csv:7: unknown impact 'SEVERE'" in line for line in summary.report_lines())
    # The bad row's day (2019-12-04) is no longer claimed as covered.
    assert [(s.start, s.end) for s in result.coverage] == [
        (utc(2019, 12, 2), utc(2019, 12, 4)),
        (utc(2019, 12, 5), utc(2019, 12, 7)),
    ]


def test_default_database_lives_in_the_data_directory():
    summary = import_calendar_files([MT5_SAMPLE])

    assert summary.db_path == default_calendar_path()
    assert default_calendar_path().exists()


@pytest.mark.shared
def test_full_ff_csv_import(shared_data, tmp_path):
    source = shared_data / "calendar" / "forexfactory_events_2019-11-20_2020-10-27_UTC.csv"

    summary = import_calendar_files([source], tmp_path / "calendar.sqlite")

    assert summary.new == summary.imported == 4215
    with Calendar.open(tmp_path / "calendar.sqlite") as calendar:
        assert not calendar.is_fresh(utc(2020, 8, 26, 12, 0))  # the scraper's gap
        assert calendar.is_fresh(utc(2020, 4, 3, 12, 0))


def test_static_calendar_rules():
    events = [
        EconomicEvent(utc(2019, 12, 6, 13, 30), "usd", "HIGH", "NFP"),
        EconomicEvent(utc(2019, 12, 5), "ALL", Impact.HIGH, "OPEC Meetings"),
        EconomicEvent(utc(2019, 12, 6, 9, 30), "GBP", Impact.LOW, "Construction PMI"),
    ]
    static = StaticCalendar(events, [CoverageSpan(utc(2019, 12, 2), utc(2019, 12, 7))])

    assert [e.title for e in static.events_between(utc(2019, 12, 5), utc(2019, 12, 7),
                                                  ["EUR"], Impact.HIGH)] == ["OPEC Meetings"]
    assert [e.title for e in static.next_events(utc(2019, 12, 6), ["gbp"])] == [
        "Construction PMI"
    ]
    assert events[0].currency == "USD"
    with pytest.raises(ValueError, match="timezone-aware"):
        static.is_fresh(datetime(2019, 12, 6))
    with pytest.raises(ValueError, match="must end after"):
        CoverageSpan(utc(2019, 12, 7), utc(2019, 12, 7))
    assert Impact.parse("medium") is Impact.MEDIUM
    with pytest.raises(ValueError, match="unknown impact"):
        Impact.parse("severe")


class _ImportWhileReading(Calendar):
    """A calendar whose events read lets another connection import ``file`` right after it:
    the moment a backtest's snapshot would be torn if its two reads were apart."""

    file = FF_CSV_SLICE

    def events_between(self, *args, **kwargs):
        events = super().events_between(*args, **kwargs)
        with Calendar.open(self.path) as other:
            other.import_file(self.file)
        return events


def test_a_snapshot_is_never_torn_by_an_import_committed_while_it_reads(tmp_path):
    # Arrange: a calendar of one file; another connection imports a second during the read
    path = tmp_path / "calendar.sqlite"
    import_calendar_files([CALENDAR_DATA / "economic_calendar_2019_UTC_slice.csv"], path)
    year = (utc(2019, 1, 1), utc(2020, 1, 1))
    with Calendar.open(path) as plain:
        before = plain.snapshot(*year)
    reader = _ImportWhileReading.open(path)

    # Act
    during = reader.snapshot(*year)
    after = reader.snapshot(*year)
    reader.close()

    # Assert: the snapshot is the calendar before the import, whole; the next one after it
    assert (during.events, during.coverage) == (before.events, before.coverage)
    assert len(after.coverage) > len(before.coverage)
    assert len(after.events) > len(before.events)
