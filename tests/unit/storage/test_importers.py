"""Importers: detection, the real Dukascopy/HistData slices, MT5 exports in both encodings,
malformed rows, idempotent re-import and the ``import``/``data`` commands."""

from __future__ import annotations

import gzip
import io
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import main
from app.cli.data_import import ProgressBar
from engine.errors import DataError, UserError
from mt5bridge.servertime import ServerTimeZone
from storage.histdata import read_histdata_m1
from storage.importers import (
    DUKASCOPY,
    HISTDATA,
    MT5,
    detect_file,
    import_file,
    parse_server_time,
)
from storage.importers.fields import EMPTY, NAN, OK, TEXT, parse_date_time, parse_numbers
from storage.marketdata import BARS, TICKS, MarketDataStore, ticks_to_m1

TICK_SLICE = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
FEB_BARS = Path("histdata", "2019-02-04", "DAT_ASCII_EURUSD_M1_2019.csv.gz")
MT5_BARS = "EURUSD_M1_201902041500_201902041659.csv"
MT5_TICKS = "EURUSD_201902041500_201902041510.csv"
US_DST = ServerTimeZone.us_dst()


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "fmt", "kind"),
    [
        (TICK_SLICE, DUKASCOPY, TICKS),
        (FEB_BARS, HISTDATA, BARS),
        (Path("mt5export", "utf8", MT5_BARS), MT5, BARS),
        (Path("mt5export", "utf16", MT5_BARS), MT5, BARS),
        (Path("mt5export", "utf8", MT5_TICKS), MT5, TICKS),
        (Path("mt5export", "utf16", MT5_TICKS), MT5, TICKS),
    ],
)
def test_formats_are_detected_from_content(test_data, relative, fmt, kind):
    detected = detect_file(test_data / relative)

    assert (detected.format, detected.kind) == (fmt, kind)


def test_unknown_content_and_contradicting_format_are_user_errors(tmp_path, test_data):
    # Arrange
    unknown = write(tmp_path / "prices.txt", "hello;world\n")

    # Act / Assert
    with pytest.raises(UserError, match="unrecognised format"):
        detect_file(unknown)
    with pytest.raises(UserError, match="--format mt5 given, but the file is a Dukascopy"):
        detect_file(test_data / TICK_SLICE, "mt5")


# --- the real slices -------------------------------------------------------------------------


def test_dukascopy_slice_imports_every_tick(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path / "store")

    # Act
    summary = import_file(test_data / TICK_SLICE, store, TICKS)

    # Assert
    assert (summary.symbol, summary.rows_read, summary.imported) == ("EURUSD", 17_749, 17_749)
    assert summary.skipped == {} and summary.duplicates == 0
    stored = store.read_ticks("EURUSD")
    assert len(stored) == 17_749
    assert tuple(stored[0]) == (msc("2019-02-04 13:00:00.092"), 1.14475, 1.14476, 6)
    assert tuple(stored[-1]) == (msc("2019-02-04 14:59:59.860"), 1.14262, 1.14268, 6)
    assert summary.first_msc == stored["time_msc"][0] and summary.last_msc == stored["time_msc"][-1]


def test_reimporting_a_file_changes_nothing(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path / "store")
    import_file(test_data / TICK_SLICE, store, TICKS)
    import_file(test_data / FEB_BARS, store, BARS)
    before = snapshot(tmp_path / "store")

    # Act
    ticks_again = import_file(test_data / TICK_SLICE, store, TICKS)
    bars_again = import_file(test_data / FEB_BARS, store, BARS)

    # Assert
    assert (ticks_again.imported, ticks_again.duplicates) == (0, 17_749)
    assert (bars_again.imported, bars_again.duplicates) == (0, 120)
    assert snapshot(tmp_path / "store") == before


def test_m1_closes_rebuilt_from_ticks_equal_histdata_closes(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path)
    import_file(test_data / TICK_SLICE, store, TICKS)
    histdata = read_histdata_m1(test_data / FEB_BARS)

    # Act
    rebuilt = ticks_to_m1(store.read_ticks("EURUSD"))

    # Assert
    assert len(rebuilt) == 120
    np.testing.assert_array_equal(rebuilt["time"], histdata.bars.index.as_unit("s").asi8)
    np.testing.assert_array_equal(rebuilt["close"], histdata.bars["close"].to_numpy())
    np.testing.assert_array_equal(rebuilt["open"], histdata.bars["open"].to_numpy())


def test_histdata_import_keeps_the_first_of_the_duplicated_hour(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path)

    # Act
    summary = import_file(test_data / "histdata" / "DAT_ASCII_XAUUSD_M1_2019.csv.gz", store)

    # Assert
    assert (summary.kind, summary.symbol) == (BARS, "XAUUSD")
    assert (summary.rows_read, summary.imported, summary.duplicates) == (20_719, 20_659, 60)
    stored = store.read_bars("XAUUSD")
    assert np.all(np.diff(stored["time"]) > 0)
    assert np.all(np.isnan(stored["spread"]))  # HistData has no spread


@pytest.mark.shared
def test_full_dukascopy_file_and_closes_against_the_full_histdata_year(tmp_path, shared_data):
    # Arrange
    store = MarketDataStore(tmp_path)
    ticks_file = (
        shared_data / "fx_ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"
    )

    # Act
    summary = import_file(ticks_file, store, TICKS)
    rebuilt = ticks_to_m1(store.read_ticks("EURUSD"))
    year = read_histdata_m1(shared_data / "fx_m1" / "DAT_ASCII_EURUSD_M1_2019.csv.gz").bars

    # Assert
    assert summary.imported == 266_219 and summary.skipped_total == 0
    assert len(rebuilt) == 2_880
    same = year.loc[pd.to_datetime(rebuilt["time"], unit="s", utc=True)]
    np.testing.assert_array_equal(rebuilt["close"], same["close"].to_numpy())


# --- MT5 exports ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding_dir", ["utf8", "utf16"])
def test_mt5_bar_export_in_both_encodings(tmp_path, test_data, encoding_dir):
    # Arrange
    store = MarketDataStore(tmp_path)
    histdata = read_histdata_m1(test_data / FEB_BARS)

    # Act
    summary = import_file(test_data / "mt5export" / encoding_dir / MT5_BARS, store, BARS,
                          server_time=US_DST)

    # Assert
    assert (summary.format, summary.symbol) == ("MT5 export (M1 bars)", "EURUSD")
    assert (summary.rows_read, summary.imported, summary.skipped_total) == (120, 120, 0)
    bars = store.read_bars("EURUSD")
    np.testing.assert_array_equal(bars["time"], histdata.bars.index.as_unit("s").asi8)
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(bars[name], histdata.bars[name].to_numpy())
    assert bars["tick_volume"][0] == 206
    assert bars["spread"][0] == pytest.approx(3 * 0.00001)


@pytest.mark.parametrize("encoding_dir", ["utf8", "utf16"])
def test_mt5_tick_export_in_both_encodings_carries_empty_fields_forward(
    tmp_path, test_data, encoding_dir
):
    # Arrange
    store = MarketDataStore(tmp_path / "mt5")
    reference = MarketDataStore(tmp_path / "dukascopy")
    import_file(test_data / TICK_SLICE, reference, TICKS)
    expected = reference.read_ticks("EURUSD", end_msc=msc("2019-02-04 13:09:59.999"))

    # Act
    summary = import_file(test_data / "mt5export" / encoding_dir / MT5_TICKS, store, TICKS,
                          server_time=US_DST)

    # Assert
    assert (summary.rows_read, summary.imported, summary.skipped_total) == (1_437, 1_437, 0)
    got = store.read_ticks("EURUSD")
    np.testing.assert_array_equal(got["time_msc"], expected["time_msc"])
    np.testing.assert_array_equal(got["bid"], expected["bid"])
    np.testing.assert_array_equal(got["ask"], expected["ask"])
    assert got["flags"][3] == 4  # 13:00:00.426: only the ask changed


def test_mt5_export_needs_a_server_clock(tmp_path, test_data):
    with pytest.raises(UserError, match="--server-offset"):
        import_file(test_data / "mt5export" / "utf8" / MT5_TICKS, MarketDataStore(tmp_path))


def test_fixed_offset_and_us_dst_agree_in_winter_and_differ_in_summer(tmp_path):
    # Arrange
    header = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
    text = (
        header
        + "2019.02.04\t15:00:00.000\t1.1\t1.2\t\t\t6\n"
        + "2019.07.01\t15:00:00.000\t1.1\t1.2\t\t\t6\n"
    )
    path = write(tmp_path / "EURUSD_201902041500_201907011500.csv", text)
    fixed, dst = MarketDataStore(tmp_path / "a"), MarketDataStore(tmp_path / "b")

    # Act
    import_file(path, fixed, server_time=parse_server_time("2"))
    import_file(path, dst, server_time=parse_server_time("us-dst"))

    # Assert
    assert list(fixed.read_ticks("EURUSD")["time_msc"]) == [
        msc("2019-02-04 13:00"), msc("2019-07-01 13:00")
    ]
    assert list(dst.read_ticks("EURUSD")["time_msc"]) == [
        msc("2019-02-04 13:00"), msc("2019-07-01 12:00")
    ]


def test_gzipped_utf16_export_with_crlf_reads_like_the_plain_one(tmp_path, test_data):
    # Arrange
    source = test_data / "mt5export" / "utf16" / MT5_BARS
    packed = tmp_path / (MT5_BARS + ".gz")
    packed.write_bytes(gzip.compress(source.read_bytes()))
    plain, zipped = MarketDataStore(tmp_path / "plain"), MarketDataStore(tmp_path / "zipped")

    # Act
    import_file(source, plain, server_time=US_DST)
    import_file(packed, zipped, server_time=US_DST)

    # Assert
    np.testing.assert_array_equal(plain.read_bars("EURUSD"), zipped.read_bars("EURUSD"))


def test_only_m1_bars_are_accepted(tmp_path):
    # Arrange
    header = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    rows = "".join(
        f"2024.01.02\t{h:02d}:00:00\t1.1\t1.2\t1.0\t1.1\t10\t0\t5\n" for h in range(12)
    )
    named = write(tmp_path / "EURUSD_H1_202401020000_202401021100.csv", header + rows)
    unnamed = write(tmp_path / "EURUSD_export.csv", header + rows)

    # Act / Assert
    with pytest.raises(UserError, match="H1 bars; only M1"):
        import_file(named, MarketDataStore(tmp_path / "s"), server_time=US_DST)
    with pytest.raises(UserError, match="not M1 bars"):
        import_file(unnamed, MarketDataStore(tmp_path / "s"), server_time=US_DST)


# --- malformed input ------------------------------------------------------------------------


DUKASCOPY_BAD = [
    "time_utc,bid,ask,bid_volume,ask_volume",
    "2019-02-04 13:00:00.092,1.14475,1.14476,5.70,1.50",   # 2 ok
    "2019-02-04 13:00:00.220,1.14475",                     # 3 truncated
    "2019-02-04 13:00:00.300,1.14x75,1.14476,1,1",          # 4 text in a number field
    "2019-02-04 13:00:00.050,1.14475,1.14476,1,1",          # 5 backwards time
    "2019-02-04 13:00:00.400,NaN,1.14476,1,1",              # 6 NaN
    "2019-02-04 13:00:00.500,0,1.14476,1,1",                # 7 zero price
    "2019-02-04 13:00:00.600,1.14480,1.14476,1,1",          # 8 crossed bid/ask
    "2019-02-30 13:00:00.700,1.14475,1.14476,1,1",          # 9 bad timestamp
    "2019-02-04 13:00:00.800,1.14475,1.14476,1,1,9",        # 10 too many fields
    "",                                                     # 11 blank: not a row
    "2019-02-04 13:00:00.900,,1.14476,1,1",                 # 12 missing bid
    "2019-02-04 13:00:01.000,1.14477,1.14479,1,1",          # 13 ok
]


def test_bad_rows_are_skipped_counted_and_located(tmp_path):
    # Arrange
    path = write(tmp_path / "EURUSD_ticks.csv", "\n".join(DUKASCOPY_BAD) + "\n")

    # Act
    summary = import_file(path, MarketDataStore(tmp_path / "s"), TICKS)

    # Assert
    assert (summary.rows_read, summary.imported, summary.skipped_total) == (11, 2, 9)
    assert summary.problems == [
        f"{path}:3: truncated line (2 of 5 fields)",
        f"{path}:4: text in number field bid: '1.14x75'",
        f"{path}:5: time goes backwards (2019-02-04 13:00:00.050 UTC after "
        "2019-02-04 13:00:00.092 UTC)",
        f"{path}:6: NaN bid",
        f"{path}:7: zero or negative price",
        f"{path}:8: crossed quote (bid > ask)",
        f"{path}:9: bad timestamp",
        f"{path}:10: too many fields (6, expected 5)",
        f"{path}:12: missing bid",
    ]
    assert summary.skipped == {
        "truncated line": 1, "text in number field bid": 1, "time goes backwards": 1,
        "NaN bid": 1, "zero or negative price": 1, "crossed quote": 1, "bad timestamp": 1,
        "too many fields": 1, "missing bid": 1,
    }


def test_strict_stops_at_the_first_bad_row_and_writes_nothing(tmp_path):
    # Arrange
    path = write(tmp_path / "EURUSD_ticks.csv", "\n".join(DUKASCOPY_BAD) + "\n")
    store = MarketDataStore(tmp_path / "s")

    # Act / Assert
    with pytest.raises(DataError, match=r"EURUSD_ticks\.csv:3: truncated line"):
        import_file(path, store, TICKS, strict=True)
    assert store.symbols(TICKS) == []


MT5_TICKS_BAD = [
    "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>",
    "2019.02.04\t15:00:00.000\t\t1.14480\t\t\t4",           # 2 no bid yet
    "2019.02.04\t15:00:00.100\t1.14475\t1.14480\t\t\t6",    # 3 ok
    "2019.02.04\t15:00:00.200\t\t1.14481\t\t\t4",           # 4 ok: bid carried
    "2019.02.04\t15:00:00.300\t1.14490\t\t\t\t2",           # 5 crossed after carrying ask
    "2019.02.04\t15:00:00.400\tabc\t\t\t\t2",               # 6 text in a number field
    "2019.02.04\t15:00:00.500\t1.14476",                    # 7 truncated line
    "2019.02.04\t15:00:00.050\t1.14476\t\t\t\t2",           # 8 backwards time
    "2019.02.04\t15:00:00.600\t1.14477\t\t\t\t2",           # 9 ok: ask carried from line 4
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_mt5_tick_rows_carry_forward_only_good_values(tmp_path, encoding):
    # Arrange
    path = write(tmp_path / "EURUSD_201902041500_201902041501.csv",
                 "\r\n".join(MT5_TICKS_BAD) + "\r\n", encoding)
    store = MarketDataStore(tmp_path / "s")

    # Act
    summary = import_file(path, store, TICKS, server_time=US_DST)

    # Assert
    located = [re.match(r".*\.csv:(\d+): (.*)$", p).groups() for p in summary.problems]
    assert [reason for _, reason in located] == [
        "no bid yet (empty field before any bid)",
        "crossed quote (bid > ask)",
        "text in number field bid: 'abc'",
        "truncated line (3 of 7 fields)",
        "time goes backwards (2019-02-04 13:00:00.050 UTC after 2019-02-04 13:00:00.200 UTC)",
    ]
    assert [int(line) for line, _ in located] == [2, 5, 6, 7, 8]
    got = store.read_ticks("EURUSD")
    assert [(t, b, a, f) for t, b, a, f in got.tolist()] == [
        (msc("2019-02-04 13:00:00.100"), 1.14475, 1.14480, 6),
        (msc("2019-02-04 13:00:00.200"), 1.14475, 1.14481, 4),
        (msc("2019-02-04 13:00:00.600"), 1.14477, 1.14481, 2),
    ]


def test_blocks_keep_line_numbers_and_carried_quotes(tmp_path, test_data):
    # Arrange: tiny blocks force many block boundaries inside the file.
    source = test_data / "mt5export" / "utf16" / MT5_TICKS
    lines = source.read_bytes().decode("utf-16").splitlines()
    fields = lines[1000].split("\t")
    lines[1000] = "\t".join([*fields[:2], "bad", *fields[3:]])
    broken = write(tmp_path / MT5_TICKS, "\n".join(lines) + "\n")
    whole, blocks = MarketDataStore(tmp_path / "whole"), MarketDataStore(tmp_path / "blocks")

    # Act
    one = import_file(broken, whole, server_time=US_DST)
    many = import_file(broken, blocks, server_time=US_DST, block_chars=997)

    # Assert
    assert one.problems == many.problems
    assert many.problems[0].startswith(f"{broken}:1001: text in number field bid: 'bad'")
    np.testing.assert_array_equal(whole.read_ticks("EURUSD"), blocks.read_ticks("EURUSD"))


def test_import_kind_must_match_the_file(tmp_path, test_data):
    with pytest.raises(UserError, match="use 'import bars', not 'import ticks'"):
        import_file(test_data / FEB_BARS, MarketDataStore(tmp_path), TICKS)


def test_symbol_comes_from_the_name_or_the_option(tmp_path, test_data):
    # Arrange
    anonymous = write(tmp_path / "ticks.csv", "time_utc,bid,ask\n2019-02-04 13:00:00,1.1,1.2\n")
    store = MarketDataStore(tmp_path / "s")

    # Act / Assert
    with pytest.raises(UserError, match="cannot tell the symbol from the file name; rename"):
        import_file(anonymous, store)
    assert import_file(anonymous, store, symbol="gbpusd").symbol == "GBPUSD"
    assert store.symbols(TICKS) == ["GBPUSD"]


def test_progress_reaches_the_file_size(tmp_path, test_data):
    # Arrange
    seen: list[tuple[int, int]] = []

    # Act
    import_file(test_data / TICK_SLICE, MarketDataStore(tmp_path),
                progress=lambda done, total: seen.append((done, total)))

    # Assert
    size = (test_data / TICK_SLICE).stat().st_size
    assert seen[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


# --- field parsing and options ----------------------------------------------------------------


def test_number_status_names_why_a_value_is_unusable():
    values, status = parse_numbers(pa.array(["1.5", " 2 ", "abc", "", "nan", "-1e-3"]))

    assert list(status) == [OK, OK, TEXT, EMPTY, NAN, OK]
    assert values[0] == 1.5 and values[5] == -0.001 and np.isnan(values[2])


def test_dates_are_checked_against_the_calendar():
    # Act
    times, ok = parse_date_time(
        pa.array(["2024.02.29", "2019.02.29", "2019.13.01", "2019.02.04", "2019.02.04"]),
        pa.array(["23:59:59", "00:00:00", "00:00:00", "12:30", "24:00:00"]),
        ".",
    )

    # Assert
    assert list(ok) == [True, False, False, True, False]
    assert times[0] == msc("2024-02-29 23:59:59") and times[3] == msc("2019-02-04 12:30")


def test_server_offset_option():
    assert parse_server_time(None) is None
    assert parse_server_time("3") == ServerTimeZone.fixed(3)
    assert parse_server_time("us-dst") == ServerTimeZone.us_dst()
    assert parse_server_time("1/2") == ServerTimeZone.us_dst(1, 2)
    with pytest.raises(UserError, match="--server-offset 'GMT'"):
        parse_server_time("GMT")


# --- commands --------------------------------------------------------------------------------


def test_import_and_data_list_commands(tmp_path, test_data, capsys):
    # Arrange
    store = str(tmp_path / "store")

    # Act
    rc_ticks = main.main(["import", "ticks", str(test_data / TICK_SLICE), "--store", store])
    rc_bars = main.main(["import", "bars", str(test_data / FEB_BARS),
                         str(test_data / "mt5export" / "utf8" / MT5_BARS),
                         "--server-offset", "us-dst", "--symbol", "EURUSD", "--store", store])
    rc_list = main.main(["data", "list", "--store", store])
    out = capsys.readouterr().out

    # Assert
    assert (rc_ticks, rc_bars, rc_list) == (0, 0, 0)
    assert "EURUSD: 17749 rows read, 17749 imported, 0 duplicates, 0 skipped" in out
    assert "MT5 export (M1 bars), EURUSD: 120 rows read, 0 imported, 120 duplicates" in out
    assert "ticks   EURUSD      2019-02-04 13:00  2019-02-04 14:59        17,749" in out
    assert "M1      EURUSD      2019-02-04 13:00  2019-02-04 14:59           120" in out


def test_import_command_reports_errors_as_one_line(tmp_path, test_data, capsys):
    # Arrange
    path = write(tmp_path / "EURUSD_ticks.csv", "\n".join(DUKASCOPY_BAD) + "\n")

    # Act
    rc_strict = main.main(["import", "ticks", str(path), "--strict", "--store", str(tmp_path)])
    rc_mt5 = main.main(["import", "ticks", str(test_data / "mt5export" / "utf8" / MT5_TICKS),
                        "--store", str(tmp_path)])
    err = capsys.readouterr().err

    # Assert
    assert (rc_strict, rc_mt5) == (2, 2)
    lines = err.strip().splitlines()
    assert lines[0] == f"error: {path}:3: truncated line (2 of 5 fields)"
    assert lines[1].startswith("error: ") and "--server-offset" in lines[1]
    assert "Traceback" not in err


def test_data_list_on_an_empty_store(tmp_path, capsys):
    assert main.main(["data", "list", "--store", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no market data in {tmp_path}\n"


def test_progress_bar_draws_on_a_terminal_only():
    # Arrange
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, pipe = Terminal(), io.StringIO()

    # Act
    bar = ProgressBar("f.csv", screen, width=10)
    for done in (0, 50, 50, 100):
        bar(done, 100)
    bar.close()
    ProgressBar("f.csv", pipe)(50, 100)

    # Assert
    assert screen.getvalue().startswith(
        "\rf.csv [..........]   0%\rf.csv [#####.....]  50%\rf.csv [##########] 100%\r"
    )
    assert pipe.getvalue() == ""


def test_import_calendar_is_offered_by_the_import_command():
    args = main.build_parser().parse_args(["import", "calendar", "events.xml"])

    assert callable(args.func)


@pytest.mark.parametrize("source", ["dukascopy", "histdata"])
def test_a_window_writes_only_its_rows_and_the_summary_still_tells_the_whole_file(
        tmp_path, test_data, source):
    # Arrange: the same file imported whole and with a window of part of it
    path = test_data / (TICK_SLICE if source == "dukascopy"
                        else Path("histdata", "DAT_ASCII_EURUSD_M1_2019.csv.gz"))
    whole_store, windowed_store = MarketDataStore(tmp_path / "a"), MarketDataStore(tmp_path / "b")
    whole = import_file(path, whole_store)
    lo = whole.first_msc + (whole.last_msc - whole.first_msc) // 3
    hi = whole.first_msc + 2 * (whole.last_msc - whole.first_msc) // 3

    # Act
    windowed = import_file(path, windowed_store, window=(lo, hi))

    # Assert: the rows inside [lo, hi) exactly; the file's own figures unchanged
    kind = whole.kind
    read = (lambda store: store.read_ticks("EURUSD")) if kind == TICKS else \
        (lambda store: store.read_bars("EURUSD"))
    rows, kept = read(whole_store), read(windowed_store)
    stamps = rows["time_msc"] if kind == TICKS else rows["time"] * 1000
    expected = rows[(stamps >= lo) & (stamps < hi)]
    assert kept.dtype == expected.dtype and kept.tobytes() == expected.tobytes()  # NaN spreads
    assert 0 < windowed.imported == len(kept) < whole.imported
    assert (windowed.rows_read, windowed.first_msc, windowed.last_msc) == (
        whole.rows_read, whole.first_msc, whole.last_msc)
