"""The backtest's span of a HistData file comes from the file's one read: its first and last
good bar and its data rows; a file without a usable row is refused as the import refuses it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.backtest.data import _bar_file_ranges, _histdata_span
from engine.errors import UserError

GOOD = [
    "20190204 090000;1.144880;1.145040;1.144880;1.144990;0",
    "20190204 090100;1.144990;1.145100;1.144950;1.145060;0",
    "20190204 090200;1.145060;1.145060;1.144900;1.144920;0",
]
NAME = "DAT_ASCII_EURUSD_M1_2019.csv"


def test_the_span_is_that_of_the_good_bars(tmp_path):
    # Arrange: a bad first line and a blank line; the replay skips both.
    path = tmp_path / NAME
    path.write_text("\n".join(["20190204 085900;abc;1;1;1;0", GOOD[0], "", *GOOD[1:]]) + "\n")

    # Act
    first, last, rows = _histdata_span(path)

    # Assert: 14:00 and 14:02 UTC (EST + 5 h); four data rows (the blank line is none).
    assert (first, last, rows) == (datetime(2019, 2, 4, 14, 0, tzinfo=UTC),
                                   datetime(2019, 2, 4, 14, 2, tzinfo=UTC), 4)


def test_a_file_without_a_usable_row_is_refused_naming_the_first(tmp_path):
    # Arrange
    empty, bad = tmp_path / "a" / NAME, tmp_path / "b" / NAME
    empty.parent.mkdir()
    bad.parent.mkdir()
    empty.write_text("")
    bad.write_text("20190204 085900;abc;1;1;1;0\n20190204 090000;-1;1;1;1;0\n")

    # Act / Assert
    with pytest.raises(UserError, match="empty file"):
        _histdata_span(empty)
    with pytest.raises(UserError, match=f"^{bad}:1: text in number field open: 'abc'; no row "
                                        r"of the file is usable \(2 read, all rejected\)$"):
        _histdata_span(bad)


def test_ranges_join_the_files_of_a_symbol(tmp_path):
    # Arrange
    (tmp_path / "DAT_ASCII_EURUSD_M1_201901.csv").write_text(GOOD[0] + "\n")
    (tmp_path / "DAT_ASCII_EURUSD_M1_201902.csv").write_text("\n".join(GOOD[1:]) + "\n")

    # Act
    ranges = _bar_file_ranges(sorted(tmp_path.iterdir()))

    # Assert
    assert list(ranges) == ["EURUSD M1"]
    assert ranges["EURUSD M1"]["first"] == "2019-02-04T14:00:00+00:00"
    assert ranges["EURUSD M1"]["last"] == "2019-02-04T14:02:00+00:00"
    assert ranges["EURUSD M1"]["rows"] == 3


def test_files_of_one_symbol_that_overlap_are_refused_naming_both(tmp_path):
    # Arrange: the same minutes twice, once with other prices.
    plain, other = tmp_path / "a" / NAME, tmp_path / "b" / NAME
    plain.parent.mkdir()
    other.parent.mkdir()
    plain.write_text("\n".join(GOOD) + "\n")
    other.write_text("\n".join(line.replace("1.14", "1.19") for line in GOOD) + "\n")

    # Act / Assert
    with pytest.raises(UserError, match=f"^{plain} and {other} both hold EURUSD for "
                                        "2019-02-04 14:00 .. 2019-02-04 14:02 UTC"):
        _bar_file_ranges([plain, other])
