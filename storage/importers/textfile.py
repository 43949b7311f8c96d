"""Reading a text data file as numbered lines, in blocks, whatever its encoding and endings.

MT5 exports come as UTF-8 or UTF-16 (with a byte-order mark), with CRLF or LF; any file may
be gzipped.  Lines are handed out as Arrow string arrays in blocks of a few megabytes, each
with the 1-based line number of its first line, so a parser can name ``file:line`` for any
defect while memory stays bounded by one block (a file larger than memory streams).

The file is opened by :mod:`storage.datafile` (regular files only, damaged gzip as one
error) and read through its line guard: a line longer than ``MAX_LINE_BYTES`` is refused with
its line number, so the partial line carried from one block to the next stays small and a
block is the most any file costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from storage.datafile import MAX_LINE_BYTES, open_text, sniff_encoding

__all__ = [
    "BLOCK_CHARS",
    "MAX_LINE_BYTES",
    "LineBlock",
    "first_lines",
    "iter_line_blocks",
    "sniff_encoding",
]

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


def first_lines(
    path: Path, count: int = 5, max_line_bytes: int = MAX_LINE_BYTES
) -> tuple[list[str], str]:
    """The first ``count`` lines (for format detection) and the encoding used."""
    lines: list[str] = []
    with open_text(path, max_line_bytes) as text:
        for _ in range(count):
            line = text.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        return lines, text.detected_encoding


def _split_block(text: str) -> pa.Array:
    return pc.split_pattern(pa.array([text], type=pa.large_string()), "\n").flatten().cast(
        pa.string()
    )


def iter_line_blocks(
    path: Path,
    block_chars: int = BLOCK_CHARS,
    progress: ProgressCallback | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[LineBlock]:
    """Every line of the file, in blocks; ``progress(bytes_read, file_size)`` after each."""
    with open_text(path, max_line_bytes) as text:
        total = text.data.size
        next_line = 1
        carry = ""
        while True:
            chunk = text.read(block_chars)
            if not chunk:
                break
            cut = chunk.rfind("\n")
            if cut < 0:  # the guard keeps a line (and so the carry) under the cap
                carry += chunk
                continue
            lines = _split_block(carry + chunk[:cut])
            carry = chunk[cut + 1 :]
            yield LineBlock(next_line, lines)
            next_line += len(lines)
            if progress is not None:
                progress(text.data.disk_bytes_read, total)
        if carry:
            yield LineBlock(next_line, _split_block(carry))
    if progress is not None:
        progress(total, total)
