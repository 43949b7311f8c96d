"""The rows a replay reads from an MT5 export or a Dukascopy file come from the parsed-file
cache the second time: exactly the parser's rows, one entry per content and settings (the
server clock), nothing kept from a read left unfinished or of too many rows, and nothing
read or written with the cache off."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from storage import parsed_cache
from storage.importers import cached
from storage.importers.cached import parsed_rows
from storage.importers.run import detect_file, iter_parsed_blocks, parse_server_time

MT5_TICKS = Path("mt5export", "utf8", "EURUSD_201902041500_201902041510.csv")
MT5_BARS = Path("mt5export", "utf8", "EURUSD_M1_201902041500_201902041659.csv")
DUKASCOPY = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
GMT2 = parse_server_time("2")


@pytest.fixture(autouse=True)
def _cache_every_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The test files are small: cache them all; the per-user place inside the test's
    folder."""
    monkeypatch.setattr(parsed_cache, "MIN_CACHED_BYTES", 0)
    monkeypatch.delenv(parsed_cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))


def copy(test_data: Path, source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(test_data / source, folder / source.name))


def parsed(path: Path, server_time=GMT2) -> np.ndarray:
    """What the parser itself gives: its good rows, every block."""
    return np.concatenate([p.rows for p in iter_parsed_blocks(path, detect_file(path),
                                                               server_time)])


def read(path: Path, server_time=GMT2) -> np.ndarray:
    return np.concatenate(list(parsed_rows(path, detect_file(path), server_time)))


def entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.parquet"))


@pytest.mark.parametrize("source", [MT5_TICKS, MT5_BARS, DUKASCOPY])
def test_the_second_read_comes_from_the_cache_with_the_parsers_rows(test_data, tmp_path,
                                                                   source):
    # Arrange
    path = copy(test_data, source, tmp_path / "data")
    expected = parsed(path)

    # Act
    first = read(path)
    kept = entries(tmp_path / "data")
    second_blocks = list(parsed_rows(path, detect_file(path), GMT2))

    # Assert: one entry beside the data; the second read is one block, equal to the parse
    assert len(kept) == 1 and kept[0].parent.name == parsed_cache.CACHE_DIR_NAME
    assert len(second_blocks) == 1
    assert first.dtype == second_blocks[0].dtype == expected.dtype
    assert np.array_equal(first, expected) and np.array_equal(second_blocks[0], expected)


def test_another_server_clock_is_another_entry_with_its_own_times(test_data, tmp_path):
    # Arrange
    path = copy(test_data, MT5_TICKS, tmp_path / "data")
    at_gmt2 = read(path, GMT2)

    # Act
    at_gmt3 = read(path, parse_server_time("3"))
    again_gmt3 = read(path, parse_server_time("3"))

    # Assert: an hour apart, each equal to its own parse
    assert np.array_equal(at_gmt3, parsed(path, parse_server_time("3")))
    assert np.array_equal(again_gmt3, at_gmt3)
    assert np.array_equal(at_gmt2["time_msc"] - at_gmt3["time_msc"],
                          np.full(len(at_gmt2), 3_600_000))


def test_changed_bytes_are_parsed_again(test_data, tmp_path):
    # Arrange: read once, then the file's last tick removed
    path = copy(test_data, MT5_TICKS, tmp_path / "data")
    read(path)
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")

    # Act
    rows = read(path)

    # Assert
    assert np.array_equal(rows, parsed(path))
    assert len(rows) == len(parsed(path))


def test_a_read_left_unfinished_keeps_nothing(test_data, tmp_path):
    # Arrange
    path = copy(test_data, MT5_TICKS, tmp_path / "data")
    blocks = parsed_rows(path, detect_file(path), GMT2)

    # Act: a block taken, then the reader goes away before asking for the end
    next(blocks)
    blocks.close()

    # Assert
    assert entries(tmp_path) == []


def test_a_file_of_too_many_rows_is_not_cached(test_data, tmp_path, monkeypatch):
    # Arrange
    monkeypatch.setattr(cached, "MAX_CACHED_ROWS", 10)
    path = copy(test_data, MT5_TICKS, tmp_path / "data")

    # Act
    rows = read(path)

    # Assert
    assert np.array_equal(rows, parsed(path))
    assert entries(tmp_path) == []


def test_with_the_cache_off_nothing_is_read_or_written(test_data, tmp_path, monkeypatch):
    # Arrange: an entry from before the cache was turned off
    path = copy(test_data, MT5_TICKS, tmp_path / "data")
    read(path)
    (entry,) = entries(tmp_path)
    entry.write_bytes(b"not parquet")
    monkeypatch.setenv(parsed_cache.CACHE_ENV, "off")

    # Act
    rows = read(path)

    # Assert: parsed, the entry left as it was
    assert np.array_equal(rows, parsed(path))
    assert entries(tmp_path) == [entry] and entry.read_bytes() == b"not parquet"
