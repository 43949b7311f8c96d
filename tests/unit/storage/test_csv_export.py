"""The one CSV writer of every export: formula-like text is neutralised, numbers stay numbers,
and a file is written whole or not at all."""

from __future__ import annotations

import csv
import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from storage.csv_export import neutralise, safe_cell, write_csv


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-inf", "'-inf"),
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_quote_in_front(text, written):
    assert neutralise(text) == written
    assert safe_cell(text) == written


@pytest.mark.parametrize(
    "text",
    ["-75.99", "+1e-05", "-3", ".5", "USD_MAJORS", "2024-01-08T10:30:00+00:00", "", "a=b",
     " =1", "MR"],
)
def test_ordinary_text_and_numbers_written_as_text_are_left_alone(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-75.99, -75.99),
        (np.float64(-1.5), -1.5),
        (np.int64(-3), -3),
        (2**40 + 7, 2**40 + 7),
        (None, ""),
        (math.nan, ""),
        (pd.NaT, ""),
        (True, "True"),
        (datetime(2024, 1, 8, 10, 30, tzinfo=UTC), "2024-01-08 10:30:00+00:00"),
        (pd.Timestamp("2024-01-08 10:30", tz="UTC"), "2024-01-08 10:30:00+00:00"),
        (date(2024, 1, 8), "2024-01-08"),
    ],
)
def test_numbers_stay_numbers_and_missing_values_are_empty(value, written):
    assert safe_cell(value) == written


def test_a_written_file_reads_back_with_numbers_as_numbers(tmp_path):
    # Arrange
    path = tmp_path / "out.csv"
    rows = [["=1+1", -75.99, "-75.99", "a,\"b\"\n=c"], [None, 3, "@x", "plain"]]
    # Act
    count = write_csv(path, ["name", "pnl", "text_pnl", "note"], rows)
    # Assert
    with path.open(newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert count == 2
    assert read == [["name", "pnl", "text_pnl", "note"],
                    ["'=1+1", "-75.99", "-75.99", "a,\"b\"\n=c"],
                    ["", "3", "'@x", "plain"]]
    assert float(read[1][1]) == -75.99


def test_a_failed_write_leaves_the_older_file_and_no_partial(tmp_path):
    # Arrange
    path = tmp_path / "out.csv"
    path.write_text("the older, complete export\n")

    def rows():
        yield ["a", 1]
        raise OSError(28, "No space left on device")

    # Act
    with pytest.raises(OSError, match="No space left"):
        write_csv(path, ["x", "y"], rows())
    # Assert
    assert path.read_text() == "the older, complete export\n"
    assert list(tmp_path.iterdir()) == [path]
