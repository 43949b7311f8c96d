"""Opening data files (regular files only, gzip by content, damage as one error), the line
guard, and the plausible ranges every reader checks values against."""

from __future__ import annotations

import gzip
import os
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import DataError, UserError
from storage.datafile import (
    LineGuard,
    _run_after,
    open_data_file,
    open_text,
    read_data_bytes,
    read_data_file,
)
from storage.plausible import date_problem, price_out_of_range, price_problems, time_problems_ms

TEXT = "".join(f"2019-02-04 13:00:{s:02d}.000,1.1,1.2\n" for s in range(60))


def damaged_crc(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[-8] ^= 0xFF  # the CRC-32 of the trailer
    return bytes(packed)


def damaged_deflate(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[10] = 0x07  # the first block header: final, type 3 (reserved): invalid
    return bytes(packed)


def cut_off(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)[:-20]


def unknown_method(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[2] = 9  # compression method: only 8 (deflate) exists
    return bytes(packed)


# --- regular files only ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    # Arrange: nobody writes to the FIFO, so opening it in blocking mode would hang.
    fifo = tmp_path / "ticks.csv"
    os.mkfifo(fifo)

    # Act / Assert
    with pytest.raises(UserError, match=r"ticks\.csv: a FIFO \(named pipe\), not a regular file"):
        open_data_file(fifo)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp, "a directory, not a regular file"),
        (lambda tmp: tmp / "absent.csv", "absent.csv: no such file"),
        (lambda tmp: Path(os.devnull), "a character device, not a regular file"),
    ],
    ids=["directory", "missing", "device"],
)
def test_anything_but_a_regular_file_is_a_user_error(tmp_path, make, message):
    with pytest.raises(UserError, match=message):
        open_data_file(make(tmp_path))


# --- gzip ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "message", "layer"),
    [
        (damaged_crc, "damaged gzip data \\(CRC check failed", gzip.BadGzipFile),
        (damaged_deflate, "damaged gzip data \\(Error -3 .*invalid block type", zlib.error),
        (cut_off, "gzip data cut off", EOFError),
        (unknown_method, "damaged gzip data \\(Unknown compression method", gzip.BadGzipFile),
    ],
    ids=["crc", "deflate", "cut-off", "method"],
)
def test_damaged_gzip_is_one_data_error_whichever_layer_notices(tmp_path, damage, message, layer):
    # Arrange
    path = tmp_path / "ticks.csv.gz"
    path.write_bytes(damage(TEXT.encode()))
    with pytest.raises(layer):  # what the standard library says without the guard
        gzip.decompress(path.read_bytes())

    # Act / Assert
    with pytest.raises(DataError, match=f"ticks\\.csv\\.gz: {message}"), open_text(path) as text:
        text.read()


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    # Arrange
    packed = tmp_path / "ticks.csv"
    packed.write_bytes(gzip.compress(TEXT.encode()))

    # Act
    with open_data_file(packed) as data:
        content = data.stream.read()
        compressed, read = data.compressed, data.disk_bytes_read

    # Assert
    assert content == TEXT.encode() and compressed
    assert read == packed.stat().st_size


def test_a_whole_file_read_is_capped(tmp_path):
    # Arrange
    path = tmp_path / "calendar.csv.gz"
    path.write_bytes(gzip.compress(b"x" * 3 * 2**20))

    # Act / Assert
    assert read_data_file(path, 4 * 2**20) == b"x" * 3 * 2**20
    with pytest.raises(DataError, match="larger than 2 MiB once decompressed"):
        read_data_file(path, 2 * 2**20, "calendar file")


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_text_is_read_in_the_encoding_its_first_bytes_show(tmp_path, encoded, encoding):
    # Arrange
    path = tmp_path / "ticks.csv"
    path.write_bytes(encoded.replace(b"\n", b"\r\n") if encoding == "utf-8" else encoded)

    # Act
    with open_text(path) as text:
        content, detected = text.read(), text.detected_encoding

    # Assert
    assert (content, detected) == (TEXT, encoding)


# --- the line guard -----------------------------------------------------------------------------


def naive_first_long_line(text: str, cap: int) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > cap:
            return number
    return None


@settings(max_examples=300, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=40),
    cap=st.integers(1, 30),
    cuts=st.lists(st.integers(1, 50), min_size=1, max_size=10),
)
def test_the_guard_names_the_first_line_over_the_cap_however_the_text_is_cut(lengths, cap, cuts):
    # Arrange: lines of the given lengths, fed in pieces of the given sizes.
    text = "\n".join("x" * n for n in lengths)
    guard = LineGuard(Path("f.csv"), cap, cap)
    expected = naive_first_long_line(text, cap)
    pieces, i = [], 0
    while i < len(text):
        size = cuts[len(pieces) % len(cuts)]
        pieces.append(text[i : i + size])
        i += size

    # Act
    failed_at = None
    try:
        for piece in pieces:
            guard.feed(piece)
    except DataError as exc:
        failed_at = int(str(exc).split(":")[1])

    # Assert
    assert failed_at == expected
    if expected is None:
        assert guard.line == text.count("\n") + 1


def test_a_long_line_is_refused_before_it_is_read_whole(tmp_path):
    # Arrange: a 4 MB line; the guard must stop at the cap, not at the line's end.
    path = tmp_path / "ticks.csv"
    path.write_text("time_utc,bid,ask\n" + "1" * 4_000_000 + "\nrest\n", encoding="utf-8")

    # Act
    with pytest.raises(DataError, match=r"ticks\.csv:2: line longer than 65536 bytes"), \
            open_text(path) as text:
        while text.read(8192):
            pass

    # Assert
    assert text.data.disk_bytes_read < 1_000_000


def test_utf16_lines_are_capped_in_bytes(tmp_path):
    # Arrange: 40,000 characters are 80,000 bytes in UTF-16, 40,000 in UTF-8.
    line = "1" * 40_000 + "\n"
    (tmp_path / "a.csv").write_bytes(line.encode("utf-16"))
    (tmp_path / "b.csv").write_bytes(line.encode("utf-8"))

    # Act / Assert
    with pytest.raises(DataError, match=r"a\.csv:1: line longer than 65536 bytes"), \
            open_text(tmp_path / "a.csv") as text:
        text.read()
    with open_text(tmp_path / "b.csv") as text:
        assert text.read() == line


# --- a whole file as bytes (the fast path of whole-file readers) ---------------------------------


@pytest.mark.parametrize(
    ("damage", "message"),
    [(damaged_crc, "damaged gzip data \\(CRC check failed"),
     (damaged_deflate, "damaged gzip data \\(Error -3 .*invalid block type"),
     (cut_off, "gzip data cut off"),
     (unknown_method, "damaged gzip data \\(Unknown compression method")],
    ids=["crc", "deflate", "cut-off", "method"],
)
def test_the_bytes_of_a_damaged_gzip_are_the_same_one_error(tmp_path, damage, message):
    # Arrange
    path = tmp_path / "ticks.csv.gz"
    path.write_bytes(damage(TEXT.encode()))

    # Act / Assert: the same words as the streaming reader, when the content is asked for.
    data = read_data_bytes(path)
    assert data.raw == path.read_bytes() and data.compressed
    with pytest.raises(DataError, match=f"ticks\\.csv\\.gz: {message}"):
        data.content()


def test_bytes_of_plain_and_gzipped_files_and_the_line_cap(tmp_path):
    # Arrange
    plain, packed, long = tmp_path / "a.csv", tmp_path / "b.csv.gz", tmp_path / "c.csv"
    plain.write_text(TEXT)
    packed.write_bytes(gzip.compress(TEXT.encode()))
    long.write_text(TEXT + "1" * 70_000 + "\n" + TEXT)

    # Act
    a, b, c = read_data_bytes(plain), read_data_bytes(packed), read_data_bytes(long)

    # Assert: a file that may hold a line over the cap has no bytes (read it as guarded text).
    assert a.raw == a.content() == TEXT.encode() and not a.compressed
    assert b.raw == packed.read_bytes() and b.content() == TEXT.encode()
    assert c.raw is None and c.content() is None
    with pytest.raises(UserError, match="a directory"):
        read_data_bytes(tmp_path)


def naive_longest_line(data: bytes) -> int:
    return max(len(line) for line in data.split(b"\n"))


@settings(max_examples=300, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=40),
    cap=st.integers(2, 30),
    cuts=st.lists(st.integers(1, 50), min_size=1, max_size=10),
)
def test_the_byte_check_never_passes_a_line_over_the_cap(lengths, cap, cuts):
    # Arrange: lines of the given lengths, cut in blocks of the given sizes.
    data = b"\n".join(b"x" * n for n in lengths)
    blocks, i = [], 0
    while i < len(data):
        size = cuts[len(blocks) % len(cuts)]
        blocks.append(data[i : i + size])
        i += size

    # Act
    run: int | None = 0
    for block in blocks:
        run = _run_after(block, run, cap)
        if run is None:
            break

    # Assert: sound (never passes a long line) and not too shy (passes short lines).
    longest = naive_longest_line(data)
    if longest > cap:
        assert run is None
    if longest < cap // 2:
        assert run is not None


# --- plausible values -----------------------------------------------------------------------


def test_plausible_dates_are_1970_to_2099():
    assert date_problem(date(1969, 12, 31)) == "date before 1970"
    assert date_problem(date(1, 1, 1)) == "date before 1970"
    assert date_problem(date(1970, 1, 1)) is None
    assert date_problem(date(2099, 12, 31)) is None
    assert date_problem(date(9999, 12, 31)) == "date after 2099"
    early, late = time_problems_ms(np.array([-1, 0, 4_102_444_799_999, 4_102_444_800_000]))
    assert list(early) == [True, False, False, False]
    assert list(late) == [False, False, False, True]


def test_plausible_prices_and_the_reason_given():
    # Act
    prices = np.array([[1.1, 1.2], [np.inf, 1.2], [1e308, 1e308], [1e-9, 1.0],
                       [np.nan, 1.0], [-1.0, 1.0], [1e8, 1e-8]])
    rows, reasons = price_problems(prices)

    # Assert
    assert list(rows) == [False, True, True, True, False, False, False]
    assert reasons[1] == "price out of range (inf; plausible 1e-08 .. 1e+08)"
    assert reasons[2] == "price out of range (1e+308; plausible 1e-08 .. 1e+08)"
    assert not price_out_of_range(np.array([np.nan, 0.0, -5.0])).any()  # named elsewhere
