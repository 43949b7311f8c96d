"""The audit's data: files of one symbol that overlap are refused naming both, as the
backtest refuses them, never replayed mixed."""

from __future__ import annotations

import gzip

import pytest

from app.audit.data import load_bars
from engine.errors import UserError

ROWS = "".join(f"20190204 09{m:02d}00;1.144880;1.145040;1.144880;1.144990;0\n"
               for m in range(5))
NAME = "DAT_ASCII_EURUSD_M1_2019.csv"


def test_two_files_of_one_period_are_refused_naming_both(tmp_path):
    # Arrange: the same minutes as a plain file and as its gzip
    data = tmp_path / "data"
    data.mkdir()
    (data / NAME).write_text(ROWS)
    (data / (NAME + ".gz")).write_bytes(gzip.compress(ROWS.encode()))

    # Act / Assert
    with pytest.raises(UserError, match=f"^{data / NAME} and {data / NAME}.gz both hold "
                                        "EURUSD for 2019-02-04 14:00 .. 2019-02-04 14:04 UTC"):
        load_bars([data], tmp_path / "work")


def test_consecutive_files_of_one_symbol_are_joined(tmp_path):
    # Arrange: two months' files, the second starting after the first ends
    data = tmp_path / "data"
    data.mkdir()
    (data / "DAT_ASCII_EURUSD_M1_201901.csv").write_text(ROWS)
    (data / "DAT_ASCII_EURUSD_M1_201902.csv").write_text(ROWS.replace("20190204", "20190205"))

    # Act
    bars, _ = load_bars([data], tmp_path / "work")

    # Assert
    assert len(bars["EURUSD"]) == 10
