"""``main.py calendar list|coverage`` and the ``import calendar`` sub-subcommand."""

from __future__ import annotations

import argparse
import contextlib
import sqlite3

import pytest
from helpers.paths import TEST_DATA

import main
from app.cli.calendar import register_import_calendar
from storage.calendar import default_calendar_path
from storage.calendar_formats import CalendarFormatError

CALENDAR_DATA = TEST_DATA / "calendar"
FF_CSV_SLICE = CALENDAR_DATA / "forexfactory_events_2019-11-20_2019-12-31_UTC.csv"
XML_WEEK = CALENDAR_DATA / "ff_calendar_thisweek_week-of-2024-09-08.xml"


@pytest.fixture
def cli(monkeypatch):
    """Run main.py with only the calendar command registered."""
    monkeypatch.setattr(main, "COMMAND_MODULES", ("app.cli.calendar",))
    return lambda *argv: main.main(list(argv))


def import_command(*argv: str) -> int:
    """The ``import`` command as the market-data commands wire it."""
    parser = argparse.ArgumentParser(prog="main.py")
    commands = parser.add_subparsers(dest="command")
    register_import_calendar(commands.add_parser("import").add_subparsers(dest="what"))
    args = parser.parse_args(["import", *argv])
    return args.func(args)


def test_import_then_list_a_day_of_us_high_impact_news(cli, tmp_path, capsys):
    db = tmp_path / "calendar.sqlite"
    status = import_command("calendar", str(FF_CSV_SLICE), str(XML_WEEK), "--calendar", str(db))
    assert status == 0
    report = capsys.readouterr().out
    assert f"{FF_CSV_SLICE}: forexfactory-csv, 493 rows, 493 imported (493 new)" in report
    assert "576 events imported (576 new), 0 rows skipped" in report

    status = cli("calendar", "list", "--from", "2019-12-06", "--to", "2019-12-06",
                 "--currency", "USD", "--impact", "high", "--calendar", str(db))

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out == [
        "2019-12-06 00:00  ALL  HIGH     OPEC-JMMC Meetings",
        "2019-12-06 13:30  USD  HIGH     Average Hourly Earnings m/m  "
        "[actual 0.2%  forecast 0.3%  previous 0.4%]",
        "2019-12-06 13:30  USD  HIGH     Non-Farm Employment Change  "
        "[actual 266K  forecast 181K  previous 156K]",
        "2019-12-06 13:30  USD  HIGH     Unemployment Rate  "
        "[actual 3.5%  forecast 3.6%  previous 3.6%]",
        "4 events",
    ]


def test_list_reports_uncovered_stretches(cli, tmp_path, capsys):
    db = tmp_path / "calendar.sqlite"
    import_command("calendar", str(FF_CSV_SLICE), "--calendar", str(db))
    capsys.readouterr()

    cli("calendar", "list", "--from", "2019-12-06T12:00", "--to", "2019-12-08",
        "--currency", "eur,gbp", "--impact", "MEDIUM", "--calendar", str(db))

    out = capsys.readouterr().out
    assert "not covered by any imported file: 2019-12-07 00:00 .. 2019-12-08 00:00 UTC" in out
    assert "USD" not in out.replace("ALL", "")


def test_reimport_reports_nothing_new(tmp_path, capsys):
    db = tmp_path / "calendar.sqlite"
    import_command("calendar", str(XML_WEEK), "--calendar", str(db))

    import_command("calendar", str(XML_WEEK), "--calendar", str(db))

    assert "83 events imported (0 new)" in capsys.readouterr().out.splitlines()[-1]


def test_coverage_lists_stretches(cli, tmp_path, capsys):
    db = tmp_path / "calendar.sqlite"
    import_command("calendar", str(XML_WEEK), "--calendar", str(db))
    capsys.readouterr()

    assert cli("calendar", "coverage", "--calendar", str(db)) == 0

    assert capsys.readouterr().out.splitlines() == [
        "2024-09-08 00:00 .. 2024-09-15 00:00 UTC",
        "1 covered stretches, 83 events",
    ]


def test_default_calendar_path(cli, capsys):
    import_command("calendar", str(XML_WEEK))

    assert cli("calendar", "coverage") == 0
    assert default_calendar_path().exists()


def test_missing_calendar_is_a_one_line_error(cli, tmp_path, capsys):
    status = cli("calendar", "list", "--from", "2019-12-06", "--to", "2019-12-06",
                 "--calendar", str(tmp_path / "none.sqlite"))

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "import calendar" in err


def test_bad_arguments_exit_2_with_one_line(cli, capsys):
    with pytest.raises(SystemExit) as exited:
        cli("calendar", "list", "--from", "06/12/2019", "--to", "2019-12-06")

    assert exited.value.code == 2
    assert "bad date '06/12/2019'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli("calendar", "list", "--from", "2019-12-06", "--to", "2019-12-06", "--impact", "huge")
    assert "unknown impact 'huge'" in capsys.readouterr().err


def test_bad_currency_and_reversed_range_are_user_errors(cli, tmp_path, capsys):
    db = tmp_path / "calendar.sqlite"
    import_command("calendar", str(XML_WEEK), "--calendar", str(db))
    capsys.readouterr()

    assert cli("calendar", "list", "--from", "2024-09-09", "--to", "2024-09-10",
               "--currency", "US", "--calendar", str(db)) == 2
    assert "bad currency code 'US'" in capsys.readouterr().err
    assert cli("calendar", "list", "--from", "2024-09-10", "--to", "2024-09-09",
               "--calendar", str(db)) == 2
    assert "--to is before --from" in capsys.readouterr().err


def test_strict_import_of_a_bad_file_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "week.xml"
    bad.write_bytes(XML_WEEK.read_bytes().replace(b"09-11-2024", b"09-31-2024", 1))
    db = tmp_path / "calendar.sqlite"

    expected = r"week\.xml:\d+: bad date '09-31-2024' \(no such day\)"
    with pytest.raises(CalendarFormatError, match=expected):
        import_command("calendar", str(bad), "--calendar", str(db), "--strict")

    import_command("calendar", str(bad), "--calendar", str(db))
    out = capsys.readouterr().out
    assert "1 skipped" in out and "bad date '09-31-2024'" in out


@pytest.mark.parametrize(("application_id", "why"), [
    (0, "an SQLite file with other tables"),
    (0x12345678, "it belongs to another application"),
], ids=["other tables", "another application"])
def test_another_sqlite_file_is_not_an_economic_calendar(cli, tmp_path, capsys,
                                                         application_id, why):
    # Arrange
    other = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute(f"PRAGMA application_id = {application_id}")
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()

    # Act
    status = cli("calendar", "coverage", "--calendar", str(other))

    # Assert
    assert status == 2
    assert capsys.readouterr().err == f"error: {other}: not an economic calendar ({why})\n"
