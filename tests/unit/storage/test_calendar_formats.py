"""Calendar file readers on the real ForexFactory files, the MT5 sample and broken input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

from engine.model import Impact
from storage.calendar_formats import (
    CalendarFormat,
    CalendarFormatError,
    parse_calendar_file,
)

CALENDAR_DATA = TEST_DATA / "calendar"
FF_CSV_SLICE = CALENDAR_DATA / "forexfactory_events_2019-11-20_2019-12-31_UTC.csv"
MT5_SAMPLE = CALENDAR_DATA / "mt5_calendar_export_sample.csv"

#: Events per real weekly XML file (SOURCES.md section 3b) and the week's Sunday.
XML_WEEKS = {
    "2022-06-26": 97,
    "2023-07-09": 92,
    "2023-08-20": 65,
    "2023-10-15": 105,
    "2023-10-22": 74,
    "2023-11-12": 112,
    "2024-08-18": 66,
    "2024-09-08": 83,
    "2024-09-15": 94,
    "2024-09-22": 89,
}


def xml_week(sunday: str) -> Path:
    return CALENDAR_DATA / f"ff_calendar_thisweek_week-of-{sunday}.xml"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def find(events, title: str, currency: str):
    matches = [e for e in events if e.title == title and e.currency == currency]
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize(("sunday", "count"), sorted(XML_WEEKS.items()))
def test_every_real_xml_week_parses_completely(sunday, count):
    parsed = parse_calendar_file(xml_week(sunday), strict=True)

    assert parsed.format is CalendarFormat.FOREXFACTORY_XML
    assert parsed.rows == len(parsed.events) == count
    assert parsed.problems == ()
    assert len({e.source_id for e in parsed.events}) == count
    start = datetime.combine(date.fromisoformat(sunday), datetime.min.time(), UTC)
    [week] = parsed.coverage
    assert (week.start, week.end) == (start, start + timedelta(days=7))


def test_xml_times_are_utc_twelve_hour_clock():
    events = parse_calendar_file(xml_week("2024-09-08")).events

    cpi = find(events, "CPI m/m", "USD")

    assert cpi.time == utc(2024, 9, 11, 12, 30)
    assert cpi.impact is Impact.HIGH
    assert (cpi.forecast, cpi.previous, cpi.actual) == ("0.2%", "0.2%", "")


def test_xml_midnight_and_evening_hours():
    events = parse_calendar_file(xml_week("2024-09-15")).events

    assert find(events, "MI Leading Index m/m", "AUD").time == utc(2024, 9, 18, 0, 30)
    fomc = find(events, "Federal Funds Rate", "USD")
    assert fomc.time == utc(2024, 9, 18, 18, 0)
    assert fomc.forecast == "5.25%"


def test_xml_all_currency_and_holidays():
    events = [e for s in XML_WEEKS for e in parse_calendar_file(xml_week(s)).events]

    assert sum(e.currency == "ALL" for e in events) == 15  # written "ALL" or "All"
    assert sum(e.impact is Impact.HOLIDAY for e in events) == 14
    dst = [e for e in events if e.title == "Daylight Saving Time Shift" and e.currency == "GBP"]
    assert [e.time for e in dst] == [utc(2023, 10, 29, 2, 0)]


def test_xml_with_crlf_line_ends_parses():
    assert b"\r\n" in xml_week("2024-08-18").read_bytes()

    assert len(parse_calendar_file(xml_week("2024-08-18"), strict=True).events) == 66


def test_release_listed_twice_in_a_week_keeps_both_rows():
    events = parse_calendar_file(xml_week("2023-11-12")).events

    gas = [e for e in events if e.title == "Natural Gas Storage"
           and e.time == utc(2023, 11, 16, 15, 30)]

    assert [(e.forecast, e.previous) for e in gas] == [("38B", ""), ("", "79B")]
    assert gas[1].source_id == gas[0].source_id + "#2"


def test_ff_csv_slice_counts_and_known_event():
    parsed = parse_calendar_file(FF_CSV_SLICE, strict=True)

    nfp = find(
        [e for e in parsed.events if e.time.date() == date(2019, 12, 6)],
        "Non-Farm Employment Change",
        "USD",
    )

    assert parsed.format is CalendarFormat.FOREXFACTORY_CSV
    assert parsed.rows == len(parsed.events) == 493
    assert nfp.time == utc(2019, 12, 6, 13, 30)
    assert nfp.impact is Impact.HIGH
    assert (nfp.actual, nfp.forecast, nfp.previous) == ("266K", "181K", "156K")
    assert nfp.source_id == "102389@2019-12-06T13:30Z"


def test_ff_csv_impacts_and_currencies_are_normalised():
    events = parse_calendar_file(FF_CSV_SLICE).events

    assert {e.impact for e in events} == {Impact.LOW, Impact.MEDIUM, Impact.HIGH, Impact.HOLIDAY}
    holiday = [e for e in events if e.title == "Bank Holiday" and e.currency == "USD"]
    assert [e.time for e in holiday][:1] == [utc(2019, 11, 28)]
    assert "ALL" in {e.currency for e in events}
    assert "All" not in {e.currency for e in events}


def test_ff_csv_covers_the_days_it_has_scraped_files_for():
    coverage = parse_calendar_file(FF_CSV_SLICE).coverage

    spans = [(s.start.date(), s.end.date()) for s in coverage]

    # 2019-11-23/24, 12-07, 12-21/22 and 12-28/29 have no daily file in the scrape.
    assert spans == [
        (date(2019, 11, 20), date(2019, 11, 23)),
        (date(2019, 11, 25), date(2019, 12, 7)),
        (date(2019, 12, 8), date(2019, 12, 21)),
        (date(2019, 12, 23), date(2019, 12, 28)),
        (date(2019, 12, 30), date(2020, 1, 1)),
    ]


@pytest.mark.shared
def test_full_ff_csv_parses_every_row(shared_data):
    csv_path = shared_data / "calendar" / "forexfactory_events_2019-11-20_2020-10-27_UTC.csv"

    parsed = parse_calendar_file(csv_path, strict=True)

    assert parsed.rows == len(parsed.events) == 4215
    assert len({e.source_id for e in parsed.events}) == 4215
    april_nfp = [e for e in parsed.events if e.title == "Non-Farm Employment Change"
                 and e.time.date() == date(2020, 4, 3)]
    assert [e.time for e in april_nfp] == [utc(2020, 4, 3, 12, 30)]  # US summer time
    assert not any(s.start.date() == date(2020, 8, 25) for s in parsed.coverage)


@pytest.mark.shared
def test_shared_xml_weeks_match_the_copies(shared_data):
    for sunday in XML_WEEKS:
        original = shared_data / "calendar" / "ff_weekly_xml" / xml_week(sunday).name
        assert original.read_bytes() == xml_week(sunday).read_bytes()


def test_mt5_export_sample():
    parsed = parse_calendar_file(MT5_SAMPLE, strict=True)

    nfp = find(parsed.events, "Nonfarm Payrolls", "USD")
    opec = find(parsed.events, "OPEC Meeting, Vienna", "ALL")

    assert parsed.format is CalendarFormat.MT5_CSV
    assert len(parsed.events) == 12
    assert nfp.time == utc(2019, 12, 6, 13, 30)
    assert (nfp.actual, nfp.source_id, nfp.source) == ("266K", "90000009", "mt5")
    assert opec.impact is Impact.MEDIUM
    assert find(parsed.events, 'Factory Orders m/m "revised"', "EUR").actual == "-0.4%"
    assert {e.impact for e in parsed.events} == set(Impact)
    [span] = parsed.coverage
    assert (span.start, span.end) == (utc(2019, 12, 2), utc(2019, 12, 7))


def test_mt5_export_without_preamble_covers_first_to_last_event_day(tmp_path):
    lines = MT5_SAMPLE.read_text(encoding="utf-8").splitlines()[1:]
    path = tmp_path / "trimmed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    [span] = parse_calendar_file(path).coverage

    assert (span.start, span.end) == (utc(2019, 12, 2), utc(2019, 12, 7))


def test_utf8_bom_and_utf16_exports_are_read(tmp_path):
    text = MT5_SAMPLE.read_text(encoding="utf-8")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "utf16.csv").write_bytes(text.encode("utf-16"))

    for name in ("bom.csv", "utf16.csv"):
        assert len(parse_calendar_file(tmp_path / name, strict=True).events) == 12


WEEK_XML = """<?xml version="1.0" encoding="windows-1252"?>
<weeklyevents>
\t<event>
\t\t<title>Lagarde{apostrophe}s Speech</title>
\t\t<country>EUR</country>
\t\t<date><![CDATA[09-09-2024]]></date>
\t\t<time><![CDATA[{time1}]]></time>
\t\t<impact><![CDATA[High]]></impact>
\t\t<forecast />
\t\t<previous />
\t</event>
\t<event>
\t\t<title>Bank Holiday</title>
\t\t<country>JPY</country>
\t\t<date><![CDATA[{date2}]]></date>
\t\t<time><![CDATA[All Day]]></time>
\t\t<impact><![CDATA[Holiday]]></impact>
\t\t<forecast />
\t\t<previous />
\t</event>
\t<event>
\t\t<title>Retail Sales m/m</title>
\t\t<country>USD</country>
\t\t<date><![CDATA[09-12-2024]]></date>
\t\t<time><![CDATA[Tentative]]></time>
\t\t<impact><![CDATA[Medium]]></impact>
\t\t<forecast />
\t\t<previous />
\t</event>
</weeklyevents>
"""


def write_week(tmp_path: Path, time1: str = "8:15am", date2: str = "09-10-2024") -> Path:
    path = tmp_path / "week.xml"
    text = WEEK_XML.format(apostrophe="\u2019", time1=time1, date2=date2)
    path.write_bytes(text.encode("cp1252"))
    return path


def test_windows_1252_text_and_day_only_times(tmp_path):
    parsed = parse_calendar_file(write_week(tmp_path), strict=True)

    speech, holiday, sales = parsed.events
    assert speech.title == "Lagarde\u2019s Speech"
    assert speech.time == utc(2024, 9, 9, 8, 15)
    assert holiday.time == utc(2024, 9, 10) and holiday.impact is Impact.HOLIDAY
    assert sales.time == utc(2024, 9, 12)


def test_bad_row_is_skipped_with_file_and_line_and_its_day_left_uncovered(tmp_path):
    path = write_week(tmp_path, time1="25:99pm")

    parsed = parse_calendar_file(path)

    [problem] = parsed.problems
    assert str(problem) == f"{path}:3: bad time '25:99pm' (no such clock time)"
    assert len(parsed.events) == 2 and parsed.rows == 3
    assert [(s.start, s.end) for s in parsed.coverage] == [
        (utc(2024, 9, 8), utc(2024, 9, 9)),
        (utc(2024, 9, 10), utc(2024, 9, 15)),
    ]


def test_bad_row_stops_a_strict_import(tmp_path):
    path = write_week(tmp_path, date2="13-45-2024")

    with pytest.raises(CalendarFormatError, match=r"week\.xml:12: bad date '13-45-2024'"):
        parse_calendar_file(path, strict=True)


def test_row_with_unknown_day_drops_the_whole_coverage(tmp_path):
    parsed = parse_calendar_file(write_week(tmp_path, date2="sometime"))

    assert len(parsed.problems) == 1
    assert parsed.coverage == ()


def test_bad_csv_rows_are_reported_by_line(tmp_path):
    lines = FF_CSV_SLICE.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("High Impact Expected", "Extreme")
    lines[5] = "2019-11-20T99:00:00+00:00,EUR,Low Impact Expected,Broken"
    path = tmp_path / "ff.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    parsed = parse_calendar_file(path)

    assert [str(p) for p in parsed.problems] == [
        f"{path}:5: unknown impact 'Extreme'",
        f"{path}:6: wrong number of fields",
    ]
    assert len(parsed.events) == 491
    assert parsed.coverage[0].start == utc(2019, 11, 21)  # 2019-11-20 had a bad row


def test_malformed_xml_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes(xml_week("2024-09-08").read_bytes()[:5000])

    with pytest.raises(CalendarFormatError, match=r"cut\.xml:\d+: malformed XML"):
        parse_calendar_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"date,what\n2019-12-06,NFP\n", "not a recognised calendar format"),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "expected <weeklyevents>"),
    ],
)
def test_unknown_formats_are_refused(tmp_path, content, message):
    path = tmp_path / "mystery.txt"
    path.write_bytes(content)

    with pytest.raises(CalendarFormatError, match=message):
        parse_calendar_file(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(CalendarFormatError, match="no such file"):
        parse_calendar_file(tmp_path / "absent.xml")
