"""The shape of a wide daily file (``Date,SYM,...``), checked before pandas reads it: an
empty file, a column given twice (in any case) and a row with too few or too many fields
are one line naming the file (and the line) and exit 2, from both readers
(``storage.importers.daily`` for the backtest, ``app.research.daily_closes`` for ``pairs
scan`` and ``convertible hedge``), with nothing written; an empty cell stays a missing
close."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers.cli import run_cli

from app.research.daily_closes import read_daily_closes
from engine.errors import UserError
from storage.importers.daily import read_wide_daily

HEADER = "Date,KO,PEP,SP500"
#: The line of the damaged row in the files below (the header is line 1).
BAD_LINE = 7


def trading_days(count: int) -> list[str]:
    """``count`` weekdays from 2020-01-02, as ``YYYY-MM-DD``."""
    days: list[str] = []
    day = date(2020, 1, 2)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def daily_rows(count: int = 40) -> list[str]:
    """Plausible closes of KO, PEP and SP500, one row a day."""
    return [f"{day},{50 + i * 0.1:.2f},{130 + i * 0.2:.2f},{3200 + i:.1f}"
            for i, day in enumerate(trading_days(count))]


def write_daily(path: Path, header: str = HEADER, rows: list[str] | None = None,
                ending: str = "\n") -> Path:
    path.write_bytes(ending.join([header, *(daily_rows() if rows is None else rows), ""])
                     .encode())
    return path


def with_cells(line: int, cells: str) -> list[str]:
    """The rows of :func:`daily_rows`, the one at file line ``line`` with its date and
    ``cells`` (everything after the date) instead of its closes."""
    rows = daily_rows()
    rows[line - 2] = rows[line - 2].split(",")[0] + "," + cells
    return rows


def pairs_scan(file: Path, out: Path) -> list[str]:
    return ["pairs", "scan", "--data", str(file), "--symbols", "KO,PEP", "--out",
            str(out / "scan.csv")]


def convertible_hedge(file: Path, out: Path) -> list[str]:
    return ["convertible", "hedge", "--data", str(file), "--ticker", "KO", "--face", "1000",
            "--maturity", "5", "--vol", "0.3", "--rate", "0.02", "--out", str(out)]


def backtest(file: Path, out: Path) -> list[str]:
    return ["backtest", "--data", str(file), "--report", str(out)]


Command = Callable[[Path, Path], list[str]]
COMMANDS = pytest.mark.parametrize("command", [pairs_scan, convertible_hedge, backtest],
                                   ids=["pairs scan", "convertible hedge", "backtest"])
READERS = pytest.mark.parametrize("read", [read_daily_closes, read_wide_daily],
                                  ids=["research reader", "backtest reader"])


def assert_refused(code: int, err: str, message: str, out: Path) -> None:
    """Exit 2, the one line ``error: <message>``, no crash and nothing written."""
    assert code == 2, err
    assert err == f"error: {message}\n"
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()
    assert not out.exists()


# -- an empty file ---------------------------------------------------------------------------

EMPTY_FILES = pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", b""),
    ("empty.csv.gz", gzip.compress(b"")),
    ("blank.csv", b"\n  \n\r\n"),
], ids=["0 bytes", "gzipped 0 bytes", "blank lines"])


@EMPTY_FILES
@READERS
def test_an_empty_daily_file_is_refused_by_name(tmp_path, read, name, content):
    # Arrange
    file = tmp_path / name
    file.write_bytes(content)

    # Act
    with pytest.raises(UserError) as refused:
        read(file)

    # Assert
    assert str(refused.value) == (f"{file}: empty file; expected a header Date,SYMBOL,... "
                                  "and a row of closes a day")


@EMPTY_FILES
@pytest.mark.parametrize(("command", "message"), [
    (pairs_scan, "empty file; expected daily closes (a header Date,SYMBOL,...) or HistData "
                 "M1 bars"),
    (convertible_hedge, "empty file; expected a header Date,SYMBOL,... and a row of closes "
                        "a day"),
], ids=["pairs scan", "convertible hedge"])
def test_an_empty_data_file_is_one_line_naming_it(tmp_path, capsys, command, message, name,
                                                  content):
    # Arrange
    file = tmp_path / name
    file.write_bytes(content)
    out = tmp_path / "out"

    # Act
    code, _, err = run_cli(command(file, out), capsys)

    # Assert
    assert_refused(code, err, f"{file}: {message}", out)


# -- a column given twice --------------------------------------------------------------------

TWICE = pytest.mark.parametrize(("header", "said"), [
    ("Date,KO,PEP,ko", "column KO given twice (as KO and ko)"),
    ("Date,KO,PEP,KO", "column KO given twice"),
], ids=["KO and ko", "KO and KO"])


@TWICE
@READERS
def test_a_column_given_twice_is_refused_on_the_header_line(tmp_path, read, header, said):
    # Arrange
    file = write_daily(tmp_path / "daily.csv", header)

    # Act
    with pytest.raises(UserError) as refused:
        read(file)

    # Assert
    assert str(refused.value) == f"{file}:1: {said}"


@TWICE
@COMMANDS
def test_a_column_given_twice_is_one_line_whichever_command_reads_it(tmp_path, capsys,
                                                                     command, header, said):
    # Arrange
    file = write_daily(tmp_path / "daily.csv", header)
    out = tmp_path / "out"

    # Act
    code, _, err = run_cli(command(file, out), capsys)

    # Assert
    assert_refused(code, err, f"{file}:1: {said}", out)


# -- a row with too few or too many fields ---------------------------------------------------

MISSHAPEN = pytest.mark.parametrize(("row", "said"), [
    ("50.6", "2 fields, the header has 4"),
    ("50.6,131.2,3205.0,99,98", "6 fields, the header has 4"),
], ids=["short row", "long row"])


@MISSHAPEN
@READERS
def test_a_row_with_the_wrong_number_of_fields_is_named_by_its_line(tmp_path, read, row,
                                                                     said):
    # Arrange
    file = write_daily(tmp_path / "daily.csv", rows=with_cells(BAD_LINE, row))

    # Act
    with pytest.raises(UserError) as refused:
        read(file)

    # Assert
    assert str(refused.value) == f"{file}:{BAD_LINE}: {said}"


@MISSHAPEN
@COMMANDS
def test_a_row_with_the_wrong_number_of_fields_is_one_line_whichever_command_reads_it(
        tmp_path, capsys, command, row, said):
    # Arrange
    file = write_daily(tmp_path / "daily.csv", rows=with_cells(BAD_LINE, row))
    out = tmp_path / "out"

    # Act
    code, _, err = run_cli(command(file, out), capsys)

    # Assert
    assert_refused(code, err, f"{file}:{BAD_LINE}: {said}", out)


@READERS
def test_cells_appended_after_the_cr_of_a_cr_lf_row_are_named_on_that_row(tmp_path, read):
    """``awk '{print $0",99,98"}'`` on a CR LF file leaves the CR before the new cells: to
    the reader's universal newlines that is a line end, but the trader's tools show one line
    (the one to name) with 6 fields and a CR inside."""
    # Arrange
    rows = daily_rows()
    rows[BAD_LINE - 2] += "\r,99,98"
    file = write_daily(tmp_path / "daily.csv", rows=rows, ending="\r\n")

    # Act
    with pytest.raises(UserError) as refused:
        read(file)

    # Assert
    assert str(refused.value) == (f"{file}:{BAD_LINE}: 6 fields, the header has 4, and a "
                                  "carriage return inside the line (a row ends with LF or "
                                  "CR LF)")


# -- what stays accepted ---------------------------------------------------------------------


@READERS
def test_empty_cells_blank_lines_and_cr_lf_endings_are_still_read(tmp_path, read):
    """A stock not yet listed has empty cells (the field count is right); blank lines are
    skipped as pandas skips them."""
    # Arrange
    rows = with_cells(BAD_LINE, ",131.2,3205.0")
    rows.insert(10, "")
    file = write_daily(tmp_path / "daily.csv", rows=[*rows, "", ""], ending="\r\n")

    # Act
    closes = read(file)

    # Assert: KO misses its close of that day only
    missing = daily_rows()[BAD_LINE - 2].split(",")[0]
    assert len(closes["PEP"].dropna()) == 40
    ko = closes["KO"].dropna()
    assert len(ko) == 39
    assert missing not in {str(day)[:10] for day in ko.index}
