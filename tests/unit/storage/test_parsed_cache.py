"""The parsed-file cache of the HistData reader: a cached read gives exactly what the parse
gives, entries are named by content, kept beside the data or under the data directory, and
the cache can be turned off; the reads of a backtest's span scan are reused by its replay."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
from helpers.paths import REPO_ROOT

import storage.histdata as histdata
from engine.errors import DataError
from storage import parsed_cache
from storage.histdata import (
    HistDataM1,
    read_histdata_dir,
    read_histdata_files,
    read_histdata_m1,
    reusing_reads,
)

SLICE = Path("histdata", "DAT_ASCII_EURUSD_M1_2019.csv.gz")
NAME = "DAT_ASCII_EURUSD_M1_2019.csv"


@pytest.fixture(autouse=True)
def _cache_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test files are small: cache them all (the size floor is not under test here)."""
    monkeypatch.setattr(parsed_cache, "MIN_CACHED_BYTES", 0)
    monkeypatch.delenv(parsed_cache.CACHE_ENV, raising=False)


def defective_copy(test_data: Path, folder: Path) -> Path:
    """The real slice with defects a user is told about: a bad row, a blank line, a row out
    of order and the duplicated hour it already has."""
    lines = gzip.decompress((test_data / SLICE).read_bytes()).decode().splitlines()
    lines[10] = lines[10].replace(";", ";abc;", 1).rsplit(";", 1)[0]
    lines.insert(20, "")
    lines[30] = "20191013 165900;1.10316;1.10316;1.10316;1.10316;0"  # before the first
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    path.write_text("\n".join(lines) + "\n")
    return path


def entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.parquet"))


def assert_same(a: HistDataM1, b: HistDataM1) -> None:
    pd.testing.assert_frame_equal(a.bars, b.bars)
    left, right = asdict(a), asdict(b)
    for key in ("bars", "duplicate_times"):
        left.pop(key), right.pop(key)
    assert left == right
    assert list(a.duplicate_times) == list(b.duplicate_times)


def test_a_cached_read_gives_exactly_what_the_parse_gives(tmp_path, test_data, monkeypatch):
    # Arrange
    path = defective_copy(test_data, tmp_path / "data")
    monkeypatch.setenv(parsed_cache.CACHE_ENV, "off")
    parsed = read_histdata_m1(path)
    monkeypatch.delenv(parsed_cache.CACHE_ENV)

    # Act
    first = read_histdata_m1(path)  # parses and writes the entry
    written = entries(tmp_path / "data" / ".parsed")
    second = read_histdata_m1(path)  # reads the entry

    # Assert
    assert parsed.bad_rows == 2 and parsed.duplicates == 60 and len(parsed.problems) == 2
    assert [p.name for p in written] == [
        f"{path.name}.{parsed_cache.content_key(path.read_bytes())}.{histdata.CACHE_TAG}.parquet"]
    assert_same(first, parsed)
    assert_same(second, parsed)


def test_the_cached_read_is_used_and_strict_still_names_the_first_bad_row(tmp_path, test_data,
                                                                          monkeypatch):
    # Arrange: read once, then make the parse fail loudly.
    path = defective_copy(test_data, tmp_path)
    expected = read_histdata_m1(path)

    def no_parse(*_: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(histdata, "_parse", no_parse)

    # Act / Assert
    assert_same(read_histdata_m1(path), expected)
    with pytest.raises(DataError, match=f"^{path}:11: text in number field"):
        read_histdata_m1(path, strict=True)


def test_entries_are_named_by_content_not_by_date(tmp_path, test_data):
    # Arrange
    path = tmp_path / NAME
    shutil.copy(test_data / SLICE, path)
    before = read_histdata_m1(path)
    info = path.stat()

    # Act: new content under the old modification time.
    first, rest = gzip.decompress(path.read_bytes()).decode().split("\n", 1)
    text = first.replace("1.10316", "1.10317") + "\n" + rest
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = read_histdata_m1(path)

    # Assert: the new content is read; the entry of the old one beside the data is replaced.
    assert before.bars["open"].iloc[0] == 1.10316 and after.bars["open"].iloc[0] == 1.10317
    assert len(entries(tmp_path / ".parsed")) == 1


def test_an_unreadable_or_foreign_entry_is_parsed_again(tmp_path, test_data):
    # Arrange
    path = tmp_path / NAME
    shutil.copy(test_data / SLICE, path)
    expected = read_histdata_m1(path)
    [entry] = entries(tmp_path)

    # Act / Assert: a damaged entry, then an entry of another format tag.
    entry.write_bytes(b"not parquet")
    assert_same(read_histdata_m1(path), expected)
    other = entry.with_name(entry.name.replace(histdata.CACHE_TAG, "histdata-0"))
    entry.rename(other)
    assert_same(read_histdata_m1(path), expected)
    assert len(entries(tmp_path)) == 1  # the foreign entry was replaced by a current one


def test_a_read_only_data_directory_caches_under_the_data_directory(tmp_path, test_data):
    # Arrange: a directory marked read-only (left alone even when running as root).
    folder = tmp_path / "share"
    folder.mkdir()
    shutil.copy(test_data / SLICE, folder / NAME)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        # Act
        first = read_histdata_m1(folder / NAME)
        second = read_histdata_m1(folder / NAME)
    finally:
        folder.chmod(stat.S_IRWXU)

    # Assert
    home = Path(os.environ["FXCLUSTER_HOME"])
    assert not (folder / ".parsed").exists()
    assert len(entries(home / "cache" / "parsed")) == 1
    assert_same(first, second)


def test_the_cache_can_be_turned_off(tmp_path, test_data, monkeypatch):
    # Arrange
    monkeypatch.setenv(parsed_cache.CACHE_ENV, "off")
    shutil.copy(test_data / SLICE, tmp_path / NAME)

    # Act
    read_histdata_m1(tmp_path / NAME)

    # Assert
    assert entries(tmp_path) == []
    assert entries(Path(os.environ["FXCLUSTER_HOME"])) == []


def test_small_files_are_not_cached(tmp_path, test_data, monkeypatch):
    # Arrange: the real floor (a month of gzipped bars is well under it).
    monkeypatch.setattr(parsed_cache, "MIN_CACHED_BYTES", 1024 * 1024)
    shutil.copy(test_data / SLICE, tmp_path / NAME)

    # Act
    read_histdata_m1(tmp_path / NAME)

    # Assert
    assert entries(tmp_path) == []


def test_the_cache_directory_is_ignored_by_git():
    # A test (or a user) reading tests/data leaves `git status` clean.
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    probe = f"tests/data/histdata/{parsed_cache.CACHE_DIR_NAME}/{NAME}.x.histdata-1.parquet"
    done = subprocess.run(["git", "check-ignore", "-q", probe], cwd=REPO_ROOT, check=False)
    assert done.returncode == 0


# --- several files, and the reads a backtest's replay reuses -----------------------------------


def test_the_first_file_s_error_is_the_one_raised(tmp_path, test_data):
    # Arrange: two damaged files; a loop would stop at the first (by name).
    for name in ("DAT_ASCII_AUDUSD_M1_2019.csv.gz", "DAT_ASCII_EURUSD_M1_2019.csv.gz"):
        packed = bytearray((test_data / SLICE).read_bytes())
        packed[-8] ^= 0xFF
        (tmp_path / name).write_bytes(bytes(packed))

    # Act / Assert
    with pytest.raises(DataError, match=r"AUDUSD_M1_2019\.csv\.gz: damaged gzip data"):
        read_histdata_dir(tmp_path)


def test_a_span_read_is_reused_once_by_the_replay(tmp_path, test_data):
    # Arrange
    path = tmp_path / NAME
    shutil.copy(test_data / SLICE, path)

    # Act
    with reusing_reads():
        [scanned] = read_histdata_files([path])
        replayed = read_histdata_m1(path)
        again = read_histdata_m1(path)
    outside = read_histdata_m1(path)

    # Assert: the same object once, then fresh reads with the same content.
    assert replayed is scanned
    assert again is not scanned and outside is not scanned
    assert_same(again, scanned)


def test_a_file_changed_after_its_span_read_is_read_again(tmp_path, test_data):
    # Arrange
    path = tmp_path / NAME
    shutil.copy(test_data / SLICE, path)

    # Act
    with reusing_reads():
        [scanned] = read_histdata_files([path])
        text = gzip.decompress(path.read_bytes()).decode()
        path.write_text(text.splitlines()[0] + "\n")
        replayed = read_histdata_m1(path)

    # Assert
    assert scanned.rows_read > 1 and replayed.rows_read == 1
