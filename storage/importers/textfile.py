"""Reading a text data file as numbered lines, in blocks, whatever its encoding and endings.

MT5 exports come as UTF-8 or UTF-16 (with a byte-order mark), with CRLF or LF; any file may
be gzipped.  Lines are handed out as Arrow string arrays in blocks of a few megabytes, each
with the 1-based line number of its first line, so a parser can name ``file:line`` for any
defect while memory stays bounded by one block (a file larger than memory streams).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import UserError

__all__ = ["BLOCK_CHARS", "LineBlock", "first_lines", "iter_line_blocks", "sniff_encoding"]

#: Characters decoded per block: large enough to amortise the per-block work, small enough
#: that a block of parsed columns is a few tens of megabytes at most.
BLOCK_CHARS = 8 * 1024 * 1024

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class LineBlock:
    """Consecutive lines of a file (no line terminators); ``first_line`` is 1-based."""

    first_line: int
    lines: pa.Array

    def __len__(self) -> int:
        return len(self.lines)


class _CountingReader(io.RawIOBase):
    """Counts the bytes taken from the file on disk (the basis of the progress bar)."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        self.consumed += n or 0
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def sniff_encoding(head: bytes) -> str:
    """The encoding named by a byte-order mark, or implied by NUL bytes; UTF-8 otherwise."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) >= 2 and head[1] == 0 and head[0] != 0:
        return "utf-16-le"
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be"
    return "utf-8"


def _open_binary(path: Path) -> tuple[io.BufferedReader, _CountingReader]:
    try:
        raw = path.open("rb")
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot open ({exc.strerror})") from exc
    counter = _CountingReader(raw)
    stream: io.BufferedReader = io.BufferedReader(counter)
    if stream.peek(2)[:2] == b"\x1f\x8b":
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"))  # type: ignore[arg-type]
    return stream, counter


def _open_text(path: Path) -> tuple[io.TextIOWrapper, _CountingReader, str]:
    stream, counter = _open_binary(path)
    try:
        head = stream.peek(4)[:4]
    except (OSError, EOFError) as exc:
        stream.close()
        raise UserError(f"{path}: cannot read ({exc})") from exc
    encoding = sniff_encoding(head)
    # Universal newlines: CRLF, LF and lone CR all end a line.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
    return text, counter, encoding


def first_lines(path: Path, count: int = 5) -> tuple[list[str], str]:
    """The first ``count`` lines (for format detection) and the encoding used."""
    text, _, encoding = _open_text(path)
    lines: list[str] = []
    try:
        with text:
            for _ in range(count):
                line = text.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from exc
    return lines, encoding


def _split_block(text: str) -> pa.Array:
    return pc.split_pattern(pa.array([text], type=pa.large_string()), "\n").flatten().cast(
        pa.string()
    )


def iter_line_blocks(
    path: Path,
    block_chars: int = BLOCK_CHARS,
    progress: ProgressCallback | None = None,
) -> Iterator[LineBlock]:
    """Every line of the file, in blocks; ``progress(bytes_read, file_size)`` after each."""
    total = path.stat().st_size if path.exists() else 0
    text, counter, _ = _open_text(path)
    next_line = 1
    carry = ""
    try:
        with text:
            while True:
                chunk = text.read(block_chars)
                if not chunk:
                    break
                data = carry + chunk
                cut = data.rfind("\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                lines = _split_block(data[:cut])
                yield LineBlock(next_line, lines)
                next_line += len(lines)
                if progress is not None:
                    progress(counter.consumed, total)
            if carry:
                yield LineBlock(next_line, _split_block(carry))
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: cannot read ({exc})") from exc
    if progress is not None:
        progress(total, total)
