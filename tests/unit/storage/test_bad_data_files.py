"""Bad market-data files through ``main.py import``: one table per category.

Every case must end the same way: exit status 2, one line on stderr naming the file (and the
line, where there is one), no crash.log, and the store exactly as it was.  The store is not
empty: it already holds the real EURUSD ticks and bars of 2019-02-04, the very minutes the
bad files are stamped with, so a partial write would change a partition that exists.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import REPO_ROOT

import main
from app.backtest.data import _histdata_span
from app.replay_feed import ReplayFeed
from engine.errors import UserError
from storage.histdata import read_histdata_dir, read_histdata_m1
from storage.importers import detect_file, import_file
from storage.importers.textfile import iter_line_blocks
from storage.marketdata import MarketDataStore, WriteResult
from storage.paths import crash_log_path

TICK_SLICE = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
FEB_BARS = Path("histdata", "2019-02-04", "DAT_ASCII_EURUSD_M1_2019.csv.gz")

DUKASCOPY = "time_utc,bid,ask\n{rows}"
DUKASCOPY_ROW = "2019-02-04 13:00:{s:02d}.000,{bid},{ask}\n"
MT5_TICKS = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n{rows}"
MT5_TICK_ROW = "2019.02.04\t15:00:{s:02d}.000\t{bid}\t{ask}\t\t\t6\n"
MT5_BARS = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n{rows}"
MT5_BAR_ROW = "2019.02.04\t15:{s:02d}:00\t{bid}\t{ask}\t{bid}\t{bid}\t10\t0\t3\n"
HISTDATA_ROW = "20190204 08{s:02d}00;{bid};{ask};{bid};{bid};0\n"

#: File name, template and row of each importable format ("{s}" is a second or a minute).
FORMATS = {
    "dukascopy": ("EURUSD_ticks.csv", DUKASCOPY, DUKASCOPY_ROW, "ticks"),
    "mt5-ticks": ("EURUSD_201902041500_201902041501.csv", MT5_TICKS, MT5_TICK_ROW, "ticks"),
    "mt5-bars": ("EURUSD_M1_201902041500_201902041502.csv", MT5_BARS, MT5_BAR_ROW, "bars"),
    "histdata": ("DAT_ASCII_EURUSD_M1_2019.csv", "{rows}", HISTDATA_ROW, "bars"),
}
MT5_CLOCK = ("--server-offset", "us-dst")


def data_file(fmt: str, rows: list[dict[str, object]]) -> tuple[str, str, str]:
    """(file name, text, import kind) of a file of ``fmt`` with the given row values."""
    name, template, row, kind = FORMATS[fmt]
    body = "".join(row.format(**{"s": i, "bid": 1.1, "ask": 1.1002, **r}) for i, r in
                   enumerate(rows))
    return name, template.format(rows=body), kind


@pytest.fixture
def store(tmp_path: Path, test_data: Path) -> Path:
    """A store that already holds the real EURUSD ticks and bars of 2019-02-04."""
    root = tmp_path / "store"
    real = MarketDataStore(root)
    import_file(test_data / TICK_SLICE, real)
    import_file(test_data / FEB_BARS, real)
    return root


def store_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def assert_refused(capsys: pytest.CaptureFixture[str], argv: list[str], root: Path,
                   expected: str) -> None:
    """Exit 2, exactly one line ``error: <expected>`` (a regex), no crash.log, store as it was."""
    before = store_files(root)

    rc = main.main(argv)

    err = capsys.readouterr().err
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert re.fullmatch(f"error: {expected}", err.strip()), err
    assert not crash_log_path().exists()
    assert store_files(root) == before


def importing(kind: str, path: Path, root: Path, *extra: str) -> list[str]:
    return ["import", kind, str(path), "--store", str(root), *extra]


# --- damaged gzip ---------------------------------------------------------------------------


def crc_damaged(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[-8] ^= 0xFF  # the trailer's CRC-32: gzip.BadGzipFile at the end of the stream
    return bytes(packed)


def deflate_damaged(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[10] = 0x07  # the first block's header says type 3 (reserved): zlib.error
    return bytes(packed)


GZIP_CASES = [
    ("dukascopy", crc_damaged, "CRC check failed"),
    ("dukascopy", deflate_damaged, "Error -3 while decompressing data: invalid block type"),
    ("mt5-ticks", crc_damaged, "CRC check failed"),
    ("mt5-bars", deflate_damaged, "Error -3"),
    ("histdata", crc_damaged, "CRC check failed"),
    ("histdata", deflate_damaged, "Error -3"),
]


@pytest.mark.parametrize(("fmt", "damage", "detail"), GZIP_CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in GZIP_CASES])
def test_damaged_gzip_is_refused_by_the_import(tmp_path, store, capsys, fmt, damage, detail):
    # Arrange
    name, text, kind = data_file(fmt, [{}, {}, {}])
    path = tmp_path / (name + ".gz")
    path.write_bytes(damage(text.encode("utf-16" if fmt == "mt5-ticks" else "utf-8")))

    # Act / Assert
    assert_refused(capsys, importing(kind, path, store, *MT5_CLOCK), store,
                   f"{re.escape(str(path))}: damaged gzip data \\({re.escape(detail)}.*\\)")


@pytest.mark.parametrize(("bad_row", "extra", "expected"), [
    (None, (), r": gzip data cut off \(.*\)"),
    ({"bid": "abc"}, ("--strict",), ":3: text in number field open: 'abc'"),
], ids=["cut-gzip", "strict-bad-row"])
def test_a_failed_file_of_several_leaves_the_store_as_it_was(
        tmp_path, test_data, store, capsys, bad_row, extra, expected):
    # Arrange: a good file of another symbol first, then the failing one (a real slice cut
    # in half: its first lines read well, so only the import finds the damage).
    good = test_data / "histdata" / "DAT_ASCII_GBPUSD_M1_2019.csv.gz"
    name, text, _ = data_file("histdata", [{}, {}, bad_row or {}, {}])
    bad = tmp_path / (name if bad_row else name + ".gz")
    whole = (test_data / "histdata" / (name + ".gz")).read_bytes()
    bad.write_bytes(text.encode() if bad_row else whole[: len(whole) // 2])
    argv = ["import", "bars", str(good), str(bad), "--store", str(store), *extra]

    # Act / Assert
    assert_refused(capsys, argv, store, re.escape(str(bad)) + expected)
    assert MarketDataStore(store).symbols("bars_m1") == ["EURUSD"]


READERS: dict[str, Callable[[Path], object]] = {
    "detect": detect_file,
    "blocks": lambda p: list(iter_line_blocks(p)),
    "histdata": read_histdata_m1,
    "histdata-dir": lambda p: read_histdata_dir([p]),
    "replay": lambda p: ReplayFeed.from_files([p]),
    "backtest-scan": _histdata_span,
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("damage", [crc_damaged, deflate_damaged])
def test_damaged_gzip_is_one_clear_error_in_every_reader(tmp_path, reader, damage):
    # Arrange
    name, text, _ = data_file("histdata", [{}, {}, {}])
    path = tmp_path / (name + ".gz")
    path.write_bytes(damage(text.encode()))

    # Act / Assert
    with pytest.raises(UserError, match=f"^{re.escape(str(path))}: damaged gzip data"):
        READERS[reader](path)


@pytest.mark.parametrize(
    "argv",
    [["run", "--replay", "{path}", "--days", "1"], ["backtest", "--data", "{path}", "--report",
                                                     "{tmp}/report"]],
    ids=["replay", "backtest"],
)
def test_damaged_gzip_stops_a_replay_or_backtest_before_it_starts(tmp_path, capsys, argv):
    # Arrange
    name, text, _ = data_file("histdata", [{}, {}, {}])
    path = tmp_path / (name + ".gz")
    path.write_bytes(crc_damaged(text.encode()))
    words = [w.format(path=path, tmp=tmp_path) for w in argv]

    # Act / Assert
    assert_refused(capsys, words, tmp_path / "store",
                   f"{re.escape(str(path))}: damaged gzip data \\(CRC check failed .*\\)")
    assert not (tmp_path / "report").exists()


# --- --server-offset ------------------------------------------------------------------------


@pytest.mark.parametrize("offset", ["1e9", "nan", "inf", "-13", "15", "2.1", "2/1e9", "GMT"])
def test_an_impossible_server_offset_is_refused_before_anything_is_read(
    tmp_path, store, capsys, offset
):
    # Arrange: the file is fine; only the clock is wrong.
    name, text, kind = data_file("mt5-bars", [{}, {}, {}])
    path = tmp_path / name
    path.write_text(text)

    # Act / Assert
    assert_refused(capsys, importing(kind, path, store, "--server-offset", offset), store,
                   f"--server-offset {re.escape(repr(offset))}: .*")


def test_the_server_offset_of_1e9_no_longer_writes_a_junk_partition(tmp_path, capsys):
    # Arrange: a fresh store, which the old code filled with bars_m1/EURUSD/-112061-08.parquet.
    name, text, kind = data_file("mt5-bars", [{}, {}, {}])
    (tmp_path / name).write_text(text)

    # Act
    rc = main.main(importing(kind, tmp_path / name, tmp_path / "fresh", "--server-offset", "1e9"))

    # Assert
    assert rc == 2 and "hours is not a server clock" in capsys.readouterr().err
    assert not (tmp_path / "fresh").exists()


def test_quarter_hour_offsets_of_real_zones_are_accepted(tmp_path, capsys):
    # Arrange: Nepal's +5:45
    name, text, kind = data_file("mt5-bars", [{}, {}, {}])
    (tmp_path / name).write_text(text)

    # Act
    rc = main.main(importing(kind, tmp_path / name, tmp_path / "s", "--server-offset", "5.75"))

    # Assert
    assert rc == 0
    assert MarketDataStore(tmp_path / "s").read_bars("EURUSD")["time"][0] % 3600 == 15 * 60
    capsys.readouterr()


# --- implausible prices -----------------------------------------------------------------------


PRICE_CASES = [
    (fmt, written, shown)
    for fmt in FORMATS
    for written, shown in (("inf", "inf"), ("Infinity", "inf"), ("1e308", "1e\\+308"),
                           ("1e400", "inf"), ("1e-300", "1e-300"))
]


@pytest.mark.parametrize(("fmt", "written", "shown"), PRICE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in PRICE_CASES])
def test_a_file_of_implausible_prices_is_refused_naming_the_first_row(
    tmp_path, store, capsys, fmt, written, shown
):
    # Arrange: every row has the implausible price as its bid (the open of a bar).
    name, text, kind = data_file(fmt, [{"bid": written, "ask": written}] * 2)
    path = tmp_path / name
    path.write_text(text)
    first = 1 if fmt == "histdata" else 2

    # Act / Assert
    assert_refused(capsys, importing(kind, path, store, *MT5_CLOCK), store,
                   f"{re.escape(str(path))}:{first}: price out of range \\({shown}; plausible "
                   "1e-08 .. 1e\\+08\\); no row of the file is usable \\(2 read, all rejected\\)")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_implausible_prices_among_good_rows_are_reported_and_never_stored(
    tmp_path, capsys, fmt
):
    # Arrange
    name, text, kind = data_file(fmt, [{}, {"bid": "1e400"}, {"bid": "1.2", "ask": "1e308"},
                                       {"bid": "1.1001"}])
    path = tmp_path / name
    path.write_text(text)
    root = tmp_path / "fresh"
    first = 1 if fmt == "histdata" else 2

    # Act
    rc = main.main(importing(kind, path, root, *MT5_CLOCK))
    err = capsys.readouterr().err

    # Assert
    assert rc == 0
    assert f"{path}:{first + 1}: price out of range (inf; plausible" in err
    assert f"{path}:{first + 2}: price out of range (1e+308; plausible" in err
    stored = MarketDataStore(root).read("ticks" if kind == "ticks" else "bars_m1", "EURUSD")
    prices = stored["bid"] if kind == "ticks" else stored["open"]
    assert list(prices) == [1.1, 1.1001]


@pytest.mark.parametrize(("field", "value"), [("<TICKVOL>", "1e400"), ("<SPREAD>", "-3"),
                                              ("<SPREAD>", "1e308")])
def test_absurd_volumes_and_spreads_are_bad_rows(tmp_path, capsys, field, value):
    # Arrange
    name, text, kind = data_file("mt5-bars", [{}, {}])
    lines = text.splitlines()
    column = lines[0].split("\t").index(field)
    cells = lines[2].split("\t")
    cells[column] = value
    lines[2] = "\t".join(cells)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")

    # Act
    rc = main.main(importing(kind, path, tmp_path / "s", *MT5_CLOCK, "--strict"))

    # Assert
    assert rc == 2
    label = "tick volume" if field == "<TICKVOL>" else "spread"
    assert capsys.readouterr().err == f"error: {path}:3: {label} out of range\n"


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [("utf-16", False), ("utf-16", True), ("utf-16-le", False), ("utf-16-be", False),
     ("utf-8-sig", False)],
)
def test_a_histdata_file_is_read_in_its_detected_encoding(tmp_path, test_data, capsys,
                                                          encoding, packed):
    # Arrange: the real slice, saved again in another encoding (as a spreadsheet would).
    text = gzip.decompress((test_data / FEB_BARS).read_bytes()).decode("utf-8")
    data = text.replace("\n", "\r\n").encode(encoding)
    folder = tmp_path / "again"
    folder.mkdir()
    path = folder / ("DAT_ASCII_EURUSD_M1_2019.csv" + (".gz" if packed else ""))
    path.write_bytes(gzip.compress(data) if packed else data)

    # Act
    rc = main.main(importing("bars", path, tmp_path / "copy"))
    out = capsys.readouterr().out

    # Assert
    assert rc == 0 and "120 rows read, 120 imported, 0 duplicates, 0 skipped" in out
    expected = read_histdata_m1(test_data / FEB_BARS).to_bar_array()
    got = MarketDataStore(tmp_path / "copy").read_bars("EURUSD")
    np.testing.assert_array_equal(got["time"], expected["time"])
    np.testing.assert_array_equal(got["close"], expected["close"])


# --- not a regular file ------------------------------------------------------------------------


NOT_REGULAR = [
    (["import", "ticks", "{path}", "--store", "{tmp}/s"], "EURUSD_ticks.csv"),
    (["import", "bars", "{path}", "--store", "{tmp}/s"], "DAT_ASCII_EURUSD_M1_2019.csv"),
    (["import", "calendar", "{path}", "--calendar", "{tmp}/c.sqlite"], "calendar.csv"),
    (["run", "--replay", "{path}", "--days", "1"], "EURUSD_ticks.csv"),
    (["backtest", "--data", "{path}", "--report", "{tmp}/r"], "DAT_ASCII_EURUSD_M1_2019.csv"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize(("argv", "name"), NOT_REGULAR,
                         ids=["ticks", "bars", "calendar", "replay", "backtest"])
def test_a_fifo_is_refused_instead_of_blocking(tmp_path, argv, name):
    # Arrange: nobody ever writes to the FIFO; a reader that opened it would wait forever,
    # so the command runs in a child process with a deadline.
    fifo = tmp_path / name
    os.mkfifo(fifo)
    words = [w.format(path=fifo, tmp=tmp_path) for w in argv]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(tmp_path / "home")}

    # Act
    done = subprocess.run([sys.executable, str(REPO_ROOT / "main.py"), *words], env=env,
                          capture_output=True, text=True, timeout=120, check=False)

    # Assert
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {fifo}: a FIFO (named pipe), not a regular file; only " \
                          "regular files are read\n"
    assert not (tmp_path / "home" / "crash.log").exists()
    assert not (tmp_path / "s").exists() and not (tmp_path / "c.sqlite").exists()


@pytest.mark.parametrize(("kind", "path", "what"),
                         [("ticks", os.devnull, "a character device"),
                          ("bars", "{tmp}", "a directory")],
                         ids=["device", "directory"])
def test_devices_and_directories_are_refused(tmp_path, store, capsys, kind, path, what):
    target = path.format(tmp=tmp_path)
    assert_refused(capsys, importing(kind, Path(target), store), store,
                   f"{re.escape(target)}: {what}, not a regular file; only regular files are "
                   "read")


# --- one huge line ------------------------------------------------------------------------------


LONG_LINE_CASES = [
    ("dukascopy", "utf-8", 70_000),
    ("mt5-ticks", "utf-16", 35_000),  # 70,000 bytes in UTF-16
    ("mt5-bars", "utf-8", 70_000),
    ("histdata", "utf-8", 70_000),
]


@pytest.mark.parametrize(("fmt", "encoding", "chars"), LONG_LINE_CASES,
                         ids=[c[0] for c in LONG_LINE_CASES])
def test_a_line_over_the_cap_is_refused_naming_it(tmp_path, store, capsys, fmt, encoding,
                                                 chars):
    # Arrange: a good row, then a row whose bid is a huge number, then good rows.
    name, text, kind = data_file(fmt, [{}, {"bid": "1" * chars}, {}, {}])
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    line = 2 if fmt == "histdata" else 3

    # Act / Assert
    assert_refused(capsys, importing(kind, path, store, *MT5_CLOCK), store,
                   f"{re.escape(str(path))}:{line}: line longer than 65536 bytes")


def test_the_backtest_scan_refuses_a_long_line_too(tmp_path):
    # Arrange
    name, text, _ = data_file("histdata", [{}, {}, {"bid": "1" * 70_000}])
    path = tmp_path / name
    path.write_text(text)

    # Act / Assert
    with pytest.raises(UserError, match=f"{re.escape(str(path))}:3: line longer than 65536"):
        _histdata_span(path)


PEAK_RSS = """
import resource, sys
import main
rc = main.main(["import", "ticks", sys.argv[1], "--store", sys.argv[2]])
print(rc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin"
      else 1024))
"""


def peak_rss_of_import(path: Path, root: Path, home: Path) -> tuple[int, int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path), str(root)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    rc, peak = done.stdout.split()[-2:]
    return int(rc), int(peak), done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is POSIX only")
def test_one_huge_line_costs_a_block_of_memory_not_the_line(tmp_path):
    # Arrange: a 64 MB line (it took 106 s and 4.4 GB per GB of line before the guard), and a
    # small normal file as the baseline of what importing costs at all.
    small = tmp_path / "EURUSD_ticks_small.csv"
    small.write_text(data_file("dukascopy", [{}, {}])[1])
    huge = tmp_path / "EURUSD_ticks_huge.csv"
    with huge.open("w") as out:
        out.write(data_file("dukascopy", [{}])[1])
        out.write("2019-02-04 13:00:01.000,")
        for _ in range(64):
            out.write("1" * 2**20)
        out.write(",1.2\n")

    # Act
    base_rc, base_peak, _ = peak_rss_of_import(small, tmp_path / "s1", tmp_path / "h1")
    huge_rc, huge_peak, err = peak_rss_of_import(huge, tmp_path / "s2", tmp_path / "h2")

    # Assert
    assert (base_rc, huge_rc) == (0, 2)
    assert err == f"error: {huge}:3: line longer than 65536 bytes\n"
    assert huge_peak - base_peak < 32 * 2**20, (base_peak, huge_peak)


# --- dates ----------------------------------------------------------------------------------------


DATE_CASES = [
    ("dukascopy", "time_utc,bid,ask\n1969-12-31 23:59:59.999,1.1,1.2\n", (), "date before 1970"),
    ("dukascopy", "time_utc,bid,ask\n0001-01-01 00:00:00,1.1,1.2\n", (), "date before 1970"),
    ("dukascopy", "time_utc,bid,ask\n9999-12-31 00:00:00,1.1,1.2\n", (), "date after 2099"),
    ("dukascopy", "time_utc,bid,ask\n9999999999999,1.1,1.2\n", (), "date after 2099"),
    ("mt5-ticks", MT5_TICKS.format(rows="1969.12.31\t23:00:00.000\t1.1\t1.2\t\t\t6\n"),
     MT5_CLOCK, "date before 1970"),
    # 01:00 on the server's first day of 1970 is 23:00 UTC the day before.
    ("mt5-bars", MT5_BARS.format(rows="1970.01.01\t01:00:00\t1.1\t1.2\t1.1\t1.1\t1\t0\t3\n"),
     ("--server-offset", "2"), "date before 1970"),
    ("mt5-bars", MT5_BARS.format(rows="0001.01.01\t00:00:00\t1.1\t1.2\t1.1\t1.1\t1\t0\t3\n"),
     MT5_CLOCK, "date before 1970"),
    # HistData is EST: 1969-12-31 18:59 EST is 23:59 UTC.
    ("histdata", "19691231 185900;1.1;1.2;1.1;1.1;0\n", (), "date before 1970"),
    ("histdata", "00010101 000000;1.1;1.2;1.1;1.1;0\n", (), "date before 1970"),
    ("histdata", "99991231 000000;1.1;1.2;1.1;1.1;0\n", (), "date after 2099"),
]


@pytest.mark.parametrize(("fmt", "text", "extra", "reason"), DATE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DATE_CASES)])
def test_dates_outside_1970_to_2099_are_refused(tmp_path, store, capsys, fmt, text, extra,
                                                reason):
    # Arrange
    name, kind = FORMATS[fmt][0], FORMATS[fmt][3]
    path = tmp_path / name
    path.write_text(text)
    line = 1 if fmt == "histdata" else 2

    # Act / Assert
    assert_refused(capsys, importing(kind, path, store, *extra), store,
                   f"{re.escape(str(path))}:{line}: {reason}; no row of the file is usable "
                   "\\(1 read, all rejected\\)")


# --- nothing half-written -------------------------------------------------------------------------


class _Spy(MarketDataStore):
    """A real store that remembers how many months an import wrote before it failed."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.months_written = 0

    def write_ticks(self, symbol: str, ticks: np.ndarray) -> WriteResult:
        result = super().write_ticks(symbol, ticks)
        self.months_written += len(result.partitions)
        return result


def four_months_of_ticks(last_line: str = "") -> str:
    stamps = np.arange(np.datetime64("2019-01-01T00:00"), np.datetime64("2019-05-01T00:00"),
                       np.timedelta64(1, "h"))
    rows = [f"{str(t).replace('T', ' ')}:00.000,1.1,1.1002" for t in stamps]
    return "time_utc,bid,ask\n" + "\n".join(rows) + "\n" + last_line


ROLLBACK_CASES = {
    "damaged-gzip": (lambda: crc_damaged(four_months_of_ticks().encode()), False,
                     "damaged gzip data"),
    "long-line": (lambda: four_months_of_ticks("2019-05-01 00:00:00," + "1" * 70_000).encode(),
                  False, "line longer than 65536 bytes"),
    "strict": (lambda: four_months_of_ticks("2019-05-01 00:00:00,1.1,NaN\n").encode(), True,
               "NaN ask"),
}


@pytest.mark.parametrize("case", list(ROLLBACK_CASES))
def test_a_file_failing_half_way_leaves_the_store_as_it_was(tmp_path, store, case):
    # Arrange: months are written as they complete; the failure comes after three of them.
    # The store also holds a recorder part of March not yet merged, which must survive.
    make, strict, message = ROLLBACK_CASES[case]
    path = tmp_path / "EURUSD_ticks.csv"
    path.write_bytes(make())
    spy = _Spy(store)
    part = np.array([(1_552_176_030_000, 1.2, 1.3, 6)], dtype=spy.read_ticks("EURUSD").dtype)
    spy.append_tick_part("EURUSD", part)
    before = store_files(store)

    # Act
    with pytest.raises(UserError, match=message):
        import_file(path, spy, strict=strict, block_chars=4096)

    # Assert
    assert spy.months_written >= 3  # written, then put back
    assert store_files(store) == before
    assert not list(store.rglob("*.tmp"))


def test_a_good_import_after_a_failed_one_lands_whole(tmp_path, store):
    # Arrange
    path = tmp_path / "EURUSD_ticks.csv"
    path.write_bytes(crc_damaged(four_months_of_ticks().encode()))
    with pytest.raises(UserError):
        import_file(path, MarketDataStore(store), block_chars=4096)
    path.write_text(four_months_of_ticks())

    # Act
    summary = import_file(path, MarketDataStore(store), block_chars=4096)

    # Assert
    assert summary.imported == 2880 and summary.skipped_total == 0
    assert MarketDataStore(store).months("ticks", "EURUSD") == [
        "2019-01", "2019-02", "2019-03", "2019-04"]
    assert not list(store.rglob("*.tmp"))
