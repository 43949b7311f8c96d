"""HistData M1 reader: the real 2019 slices, the duplicated hour, and malformed rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError, UserError
from engine.ticks import BAR_DTYPE
from storage.histdata import (
    MAX_PROBLEMS,
    histdata_symbol,
    read_histdata_dir,
    read_histdata_m1,
)

SYMBOLS = ("AUDUSD", "EURUSD", "GBPUSD", "USDCAD", "USDCHF", "USDJPY", "XAUUSD")
SLICE_LINES = {
    "EURUSD": 21_642, "GBPUSD": 21_655, "AUDUSD": 21_629, "USDCHF": 21_611,
    "USDJPY": 21_634, "USDCAD": 21_620, "XAUUSD": 20_719,
}
FEB_SLICE = Path("histdata", "2019-02-04", "DAT_ASCII_EURUSD_M1_2019.csv.gz")
DUPLICATED_HOUR_UTC = pd.date_range("2019-10-28 00:00", periods=60, freq="min", tz="UTC")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    return path


GOOD = [
    "20190204 090000;1.144880;1.145040;1.144880;1.144990;0",
    "20190204 090100;1.144990;1.145100;1.144950;1.145060;0",
    "20190204 090200;1.145060;1.145060;1.144900;1.144920;0",
]


# --- the real slices -------------------------------------------------------------------------


def test_eurusd_slice_first_last_counts_and_duplicated_hour(test_data):
    # Arrange
    path = test_data / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.symbol == "EURUSD"
    assert result.rows_read == 21_642
    assert result.duplicates == 60
    assert result.bad_rows == 0
    assert result.problems == []
    assert len(result.bars) == 21_642 - 60
    assert list(result.bars.columns) == ["open", "high", "low", "close"]
    assert all(dtype == np.float64 for dtype in result.bars.dtypes)
    assert str(result.bars.index.tz) == "UTC"
    assert result.bars.index.is_monotonic_increasing and result.bars.index.is_unique
    first, last = result.bars.iloc[0], result.bars.iloc[-1]
    assert result.bars.index[0] == utc("2019-10-13 22:00")  # 17:00 EST + 5 h
    assert tuple(first) == (1.10316, 1.10316, 1.10316, 1.10316)
    assert result.bars.index[-1] == utc("2019-11-01 20:59")
    assert tuple(last) == (1.11644, 1.11646, 1.11641, 1.11641)
    assert list(result.duplicate_times) == list(DUPLICATED_HOUR_UTC)
    assert result.bars.loc[utc("2019-10-28 00:00"), "open"] == 1.10839
    assert result.bars.loc[utc("2019-10-28 01:00"), "close"] == 1.10811


def test_every_slice_covers_the_same_three_weeks(test_data):
    # Act
    results = read_histdata_dir(test_data / "histdata")

    # Assert
    assert sorted(results) == list(SYMBOLS)
    for symbol, result in results.items():
        assert result.rows_read == SLICE_LINES[symbol], symbol
        assert result.duplicates == 60, symbol
        assert result.bad_rows == 0, symbol
        assert list(result.duplicate_times) == list(DUPLICATED_HOUR_UTC), symbol
        assert utc("2019-10-13 22:00") <= result.bars.index[0] <= utc("2019-10-13 23:00")
        assert result.bars.index[-1] == utc("2019-11-01 20:59"), symbol
    assert results["XAUUSD"].bars.index[0] == utc("2019-10-13 23:00")
    assert results["USDCHF"].bars.index[0] == utc("2019-10-13 22:04")


def test_edges_slice_has_the_first_and_last_bar_of_2019(test_data):
    # Act
    result = read_histdata_m1(test_data / "histdata" / "edges" / "DAT_ASCII_EURUSD_M1_2019.csv.gz")

    # Assert
    assert result.rows_read == 2_877
    assert result.bars.index[0] == utc("2019-01-01 22:02")
    assert tuple(result.bars.iloc[0]) == (1.14598, 1.14599, 1.14598, 1.14598)
    assert result.bars.index[-1] == utc("2019-12-31 21:59")
    assert tuple(result.bars.iloc[-1]) == (1.12099, 1.12115, 1.12076, 1.12076)


def test_utc_is_est_plus_five_hours(test_data):
    # 2019-02-04 09:00 EST opens at 1.14488 = the first Dukascopy bid after 14:00 UTC.
    result = read_histdata_m1(test_data / FEB_SLICE)

    assert result.bars.loc[utc("2019-02-04 14:00"), "open"] == 1.14488
    assert len(result.bars) == 120


def test_to_bar_array_gives_bar_dtype_in_utc_seconds(test_data):
    # Arrange
    result = read_histdata_m1(test_data / FEB_SLICE)

    # Act
    bars = result.to_bar_array(spread=0.00002)

    # Assert
    assert bars.dtype == BAR_DTYPE
    assert bars["time"][0] == int(utc("2019-02-04 13:00").timestamp())
    assert np.all(np.diff(bars["time"]) == 60)
    assert bars["close"][-1] == 1.14262
    assert np.all(bars["spread"] == 0.00002) and np.all(bars["tick_volume"] == 0)


# --- file names, plain files, several files --------------------------------------------------


def test_symbol_comes_from_the_file_name_or_the_argument(tmp_path):
    # Arrange
    plain = write_lines(tmp_path / "DAT_ASCII_gbpusd_M1_201902.csv", GOOD)
    anonymous = write_lines(tmp_path / "bars.csv", GOOD)

    # Act / Assert
    assert histdata_symbol("DAT_ASCII_EURUSD_M1_2019.csv.gz") == "EURUSD"
    assert histdata_symbol("EURUSD.csv") is None
    assert read_histdata_m1(plain).symbol == "GBPUSD"
    assert read_histdata_m1(anonymous, symbol="eurusd").symbol == "EURUSD"
    with pytest.raises(UserError, match="cannot tell the symbol"):
        read_histdata_m1(anonymous)
    with pytest.raises(UserError, match="no such file"):
        read_histdata_m1(tmp_path / "DAT_ASCII_EURUSD_M1_2018.csv")


def test_several_files_of_one_symbol_are_concatenated(tmp_path, test_data):
    # Arrange: split the real slice in two "monthly" files, with one overlapping bar.
    source = test_data / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"
    with gzip.open(source, "rt", encoding="ascii") as handle:
        lines = handle.read().splitlines()
    october = [ln for ln in lines if ln < "20191101"]
    november = [ln for ln in lines if ln >= "20191101"]
    write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_201910.csv", [*october])
    write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_201911.csv", [october[-1], *november])
    whole = read_histdata_m1(source)

    # Act
    joined = read_histdata_dir(
        [tmp_path / "DAT_ASCII_EURUSD_M1_201911.csv", tmp_path / "DAT_ASCII_EURUSD_M1_201910.csv"]
    )["EURUSD"]

    # Assert
    pd.testing.assert_frame_equal(joined.bars, whole.bars)
    assert joined.duplicates == 61
    assert joined.rows_read == whole.rows_read + 1
    assert [p.name for p in joined.sources] == [
        "DAT_ASCII_EURUSD_M1_201910.csv", "DAT_ASCII_EURUSD_M1_201911.csv"
    ]


def test_dir_symbol_filter_and_missing_symbol(test_data, tmp_path):
    # Act
    some = read_histdata_dir(test_data / "histdata", symbols=["eurusd", "XAUUSD"])

    # Assert
    assert sorted(some) == ["EURUSD", "XAUUSD"]
    with pytest.raises(UserError, match="NZDUSD"):
        read_histdata_dir(test_data / "histdata", symbols=["NZDUSD"])
    with pytest.raises(UserError, match="no HistData M1 files"):
        read_histdata_dir(tmp_path)
    with pytest.raises(UserError, match="not a HistData M1 file name"):
        read_histdata_dir([write_lines(tmp_path / "x.csv", GOOD)])


# --- duplicates and malformed rows -------------------------------------------------------------


def test_first_of_duplicated_stamps_is_kept(tmp_path):
    # Arrange: the second block carries different prices for the same minute.
    path = write_lines(
        tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv",
        [GOOD[0], GOOD[1], "20190204 090000;2.000000;2.000000;2.000000;2.000000;0", GOOD[2]],
    )

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.duplicates == 1
    assert list(result.duplicate_times) == [utc("2019-02-04 14:00")]
    assert result.bars.loc[utc("2019-02-04 14:00"), "open"] == 1.14488
    assert len(result.bars) == 3 and result.bad_rows == 0


MALFORMED = [
    GOOD[0],                                                    # 1 ok
    "20190204 090100;1.144990;1.145100;1.144950",               # 2 truncated
    "20190204 090200;1.145060;abc;1.144900;1.144920;0",         # 3 text in number field
    "20190204 090300;nan;1.145060;1.144900;1.144920;0",         # 4 NaN
    "20190204 090400;0;1.145060;1.144900;1.144920;0",           # 5 zero price
    "20190204 090500;1.145060;1.145000;1.144900;1.145050;0",    # 6 high < max(open, close)
    "20190204 090600;1.145060;1.145100;1.145070;1.145080;0",    # 7 low > min(open, close)
    "2019-02-04 09:07;1.145060;1.145100;1.144900;1.144920;0",   # 8 bad timestamp
    "",                                                         # 9 blank: ignored
    "20190204 085900;1.145060;1.145100;1.144900;1.144920;0",    # 10 backwards time
    "20190204 091000;1.145060;1.145100;1.144900;1.144920;0;7",  # 11 too many fields
    "20190204 091100;1.145060;1.145100;1.144900;1.144920;0",    # 12 ok
]


def test_malformed_rows_are_skipped_counted_and_located(tmp_path):
    # Arrange
    path = write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv", MALFORMED)

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.rows_read == 11  # the blank line is not a row
    assert result.bad_rows == 9
    assert len(result.bars) == 2
    assert list(result.bars.index) == [utc("2019-02-04 14:00"), utc("2019-02-04 14:11")]
    expected = [
        (2, "truncated line (4 of 6 fields)"),
        (3, "text in number field high: 'abc'"),
        (4, "NaN open"),
        (5, "zero or negative price"),
        (6, "high below max(open, close)"),
        (7, "low above min(open, close)"),
        (8, "bad timestamp '2019-02-04 09:07'"),
        (10, "time goes backwards (2019-02-04 13:59 UTC after 2019-02-04 14:00 UTC)"),
        (11, "too many fields (7, expected 6)"),
    ]
    assert result.problems == [f"{path}:{line}: {reason}" for line, reason in expected]
    assert result.bad_by_reason == {
        "truncated line": 1, "text in number field high": 1, "NaN open": 1,
        "zero or negative price": 1, "high below max(open, close)": 1,
        "low above min(open, close)": 1, "bad timestamp": 1, "time goes backwards": 1,
        "too many fields": 1,
    }


def test_fast_path_detects_value_problems_too(tmp_path):
    # Arrange: every line parses as numbers, so the C parser alone reads the file.
    path = write_lines(
        tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv",
        [GOOD[0], "20190204 090100;-1.0;1.145100;1.144950;1.145060;0", GOOD[2]],
    )

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.problems == [f"{path}:2: zero or negative price"]
    assert len(result.bars) == 2


def test_strict_stops_at_the_first_bad_row(tmp_path):
    # Arrange
    path = write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv", MALFORMED)

    # Act / Assert
    with pytest.raises(DataError, match=r"DAT_ASCII_EURUSD_M1_2019\.csv:2: truncated line"):
        read_histdata_m1(path, strict=True)


def test_strict_reports_backwards_time_in_line_order(tmp_path):
    # Arrange: line 2 goes backwards, line 3 has a zero price.
    path = write_lines(
        tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv",
        [GOOD[1], GOOD[0], "20190204 090300;0;1.1;1.1;1.1;0"],
    )

    # Act / Assert
    with pytest.raises(DataError, match=r":2: time goes backwards"):
        read_histdata_m1(path, strict=True)


def test_problem_list_is_capped_but_counts_are_exact(tmp_path):
    # Arrange
    lines = [f"20190204 {h:02d}{m:02d}00;0;1;1;1;0" for h in range(10) for m in range(30)]
    path = write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv", lines)

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.bad_rows == 300
    assert len(result.problems) == MAX_PROBLEMS
    assert result.bars.empty


def test_crlf_line_endings_are_accepted(tmp_path):
    # Arrange
    path = tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv"
    path.write_bytes(("\r\n".join(GOOD) + "\r\n").encode("ascii"))

    # Act
    result = read_histdata_m1(path)

    # Assert
    assert result.bad_rows == 0 and len(result.bars) == 3


# --- the full 2019 files ------------------------------------------------------------------


FULL_YEAR = {
    # symbol: (rows, first bar EST, last bar EST)
    "EURUSD": (372_530, "2019-01-01 17:02", "2019-12-31 16:59"),
    "GBPUSD": (372_396, "2019-01-01 17:06", "2019-12-31 16:58"),
    "USDJPY": (372_585, "2019-01-01 17:00", "2019-12-31 16:58"),
    "USDCHF": (371_141, "2019-01-01 17:05", "2019-12-31 16:59"),
    "USDCAD": (372_305, "2019-01-01 17:06", "2019-12-31 16:58"),
    "AUDUSD": (371_998, "2019-01-01 17:00", "2019-12-31 16:58"),
    "XAUUSD": (352_688, "2019-01-01 18:00", "2019-12-31 16:58"),
}


@pytest.mark.shared
def test_full_2019_files(shared_data):
    # Act
    results = read_histdata_dir(shared_data / "fx_m1")

    # Assert
    assert sorted(results) == sorted(FULL_YEAR)
    for symbol, (rows, first_est, last_est) in FULL_YEAR.items():
        result = results[symbol]
        assert result.rows_read == rows, symbol
        assert result.duplicates == 60 and result.bad_rows == 0, symbol
        assert len(result.bars) == rows - 60, symbol
        assert result.bars.index[0] == utc(first_est) + pd.Timedelta(hours=5), symbol
        assert result.bars.index[-1] == utc(last_est) + pd.Timedelta(hours=5), symbol
        assert list(result.duplicate_times) == list(DUPLICATED_HOUR_UTC), symbol


def test_two_files_of_one_symbol_that_overlap_are_refused_naming_both(tmp_path, test_data):
    # Arrange: the real slice, and a plain copy of it with every price moved.
    source = test_data / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"
    with gzip.open(source, "rt", encoding="ascii") as handle:
        lines = handle.read().splitlines()
    (tmp_path / source.name).write_bytes(source.read_bytes())
    shifted = [";".join([f[0], *(f"{float(v) + 0.05:.6f}" for v in f[1:5]), f[5]])
               for f in (ln.split(";") for ln in lines)]
    write_lines(tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv", shifted)

    # Act / Assert
    with pytest.raises(UserError, match=r"^\S+DAT_ASCII_EURUSD_M1_2019\.csv and \S+"
                                        r"DAT_ASCII_EURUSD_M1_2019\.csv\.gz both hold EURUSD "
                                        r"for .* UTC: keep one file per period"):
        read_histdata_dir(tmp_path)


def test_identical_copies_of_one_period_are_refused_too(tmp_path, test_data):
    # Arrange
    source = test_data / "histdata" / "DAT_ASCII_GBPUSD_M1_2019.csv.gz"
    (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "DAT_ASCII_GBPUSD_M1_2019.csv").write_bytes(gzip.decompress(source.read_bytes()))

    # Act / Assert
    with pytest.raises(UserError, match=r"both hold GBPUSD .*identical copies too"):
        read_histdata_dir(tmp_path)
