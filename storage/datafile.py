"""Opening a data file a user names: regular files only, gzip by content, damage as one clear
error, and lines of bounded length.

Every reader of market data and calendars (the importers, HistData, the calendar, the
backtest's file scan, the replay of files) opens its file here, so these rules hold for all
of them:

- **Only a regular file is read.**  A FIFO would block the reader forever and a device never
  ends; the file is checked with ``stat`` before it is opened, opened without blocking, and
  checked again with ``fstat`` on the open descriptor (a name swapped in between is caught).
- **gzip is recognised by its magic bytes**, not by the file name, and a damaged stream (bad
  CRC, bad deflate data, a cut-off member) is a :class:`DataError` naming the file, whichever
  layer noticed it (``gzip.BadGzipFile``, ``zlib.error`` or ``EOFError``).
- **Lines are bounded.**  Text is read through a :class:`LineGuard` that refuses a line longer
  than ``MAX_LINE_BYTES`` as ``file:line: line longer than N bytes`` as soon as it has seen
  that much of it.  Reading in blocks then costs at most a block of memory whatever the file
  holds; before the guard one 1 GB line took 106 s and 4.4 GB (the carried partial line was
  copied at every block: quadratic).
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from engine.errors import DataError, UserError

__all__ = [
    "MAX_LINE_BYTES",
    "DataBytes",
    "DataFile",
    "GuardedText",
    "LineGuard",
    "open_data_file",
    "open_text",
    "read_data_bytes",
    "read_data_file",
    "sniff_encoding",
]

#: The longest line a data file may have.  A real line (a tick, a bar, a calendar row) is
#: under 200 bytes; 64 KiB leaves room for anything a spreadsheet can write and keeps the
#: partial line a reader carries between blocks small next to its block.
MAX_LINE_BYTES = 65_536

_GZIP_MAGIC = b"\x1f\x8b"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class _CountingReader(io.RawIOBase):
    """Counts the bytes taken from the file on disk (the basis of a progress bar)."""

    def __init__(self, raw: io.FileIO) -> None:
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


def _read_error(path: Path, exc: Exception) -> DataError:
    """The one clear error of a read that failed (damaged gzip, cut off, an I/O error)."""
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return DataError(f"{path}: damaged gzip data ({exc})")
    if isinstance(exc, EOFError):
        return DataError(f"{path}: gzip data cut off ({exc})")
    assert isinstance(exc, OSError)
    return DataError(f"{path}: cannot read ({exc.strerror or exc})")


class _Guarded(io.RawIOBase):
    """The decompressed bytes, with every way a read can fail turned into one clear error."""

    def __init__(self, path: Path, source: io.BufferedIOBase) -> None:
        self._path = path
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return self._source.readinto(buffer) or 0
        except (EOFError, OSError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise _read_error(self._path, exc) from None

    def close(self) -> None:
        self._source.close()
        super().close()


def _not_regular(path: Path, mode: int) -> UserError | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return UserError(f"{path}: {kind}, not a regular file; only regular files are read")


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` opened for reading, refused unless it is a regular file."""
    try:
        problem = _not_regular(path, os.stat(path).st_mode)
        if problem is not None:
            raise problem
        # O_NONBLOCK: a FIFO swapped in after the stat must not block the open itself.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot open ({exc.strerror or exc})") from None
    problem = _not_regular(path, os.fstat(fd).st_mode)
    if problem is not None:
        os.close(fd)
        raise problem
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return fd


class DataFile:
    """An open data file: ``stream`` gives its (decompressed) bytes.

    ``size`` is the size on disk and ``disk_bytes_read`` how much of it has been read, so a
    progress bar is right for gzipped files too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = _open_regular(path)
        raw = io.FileIO(fd, "rb", closefd=True)
        self.size = os.fstat(fd).st_size
        self._counter = _CountingReader(raw)
        plain = io.BufferedReader(self._counter)
        try:
            self.compressed = plain.peek(2)[:2] == _GZIP_MAGIC
        except OSError as exc:
            plain.close()
            raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
        source: io.BufferedIOBase = (
            gzip.GzipFile(fileobj=plain, mode="rb") if self.compressed else plain
        )
        self.stream = io.BufferedReader(_Guarded(path, source))
        self._plain = plain

    @property
    def disk_bytes_read(self) -> int:
        return self._counter.consumed

    def close(self) -> None:
        self.stream.close()
        self._plain.close()

    def __enter__(self) -> DataFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_data_file(path: str | Path) -> DataFile:
    """Open a data file (plain or gzipped) for reading; see the module note for the rules."""
    return DataFile(Path(path))


def read_data_file(path: str | Path, max_bytes: int, what: str = "data file") -> bytes:
    """The whole (decompressed) content of a file read at once, refused past ``max_bytes``."""
    with open_data_file(path) as data:
        content = data.stream.read(max_bytes + 1)
        compressed = data.compressed
    if len(content) > max_bytes:
        unpacked = " once decompressed" if compressed else ""
        raise DataError(
            f"{path}: larger than {max_bytes // 2**20} MiB{unpacked}, too large for a {what}"
        )
    return content


@dataclass(frozen=True)
class DataBytes:
    """A whole data file in memory, as stored on disk: ``raw`` is the basis of a content
    hash, :meth:`content` its bytes decompressed.  ``raw`` is ``None`` for a plain file in
    which some line may be longer than the cap (or whose lines end with a lone CR): such a
    file is read as guarded text, which names the line."""

    path: Path
    raw: bytes | None
    compressed: bool
    max_line_bytes: int = MAX_LINE_BYTES

    def content(self, max_bytes: int | None = None) -> bytes | None:
        """The decompressed bytes, or ``None`` as soon as a line may be over the cap or the
        content passes ``max_bytes`` (a gzip bomb or one huge line costs a block, not the
        file)."""
        if self.raw is None or not self.compressed:
            return self.raw if max_bytes is None or len(self.raw or b"") <= max_bytes else None
        with gzip.GzipFile(fileobj=io.BytesIO(self.raw), mode="rb") as unpacked:
            return _checked_blocks(self.path, unpacked, self.max_line_bytes, max_bytes)


#: Bytes taken at a time by :func:`read_data_bytes` and :meth:`DataBytes.content`.
_BYTES_BLOCK = 8 * 1024 * 1024


def read_data_bytes(path: str | Path, max_line_bytes: int = MAX_LINE_BYTES) -> DataBytes:
    """The file's bytes at C speed, under the rules of :func:`open_data_file` (regular files
    only, gzip by content, damage as one error in the same words).

    This is the fast path of a reader that parses a whole file at once (HistData).  The line
    cap is checked on the bytes as they come (:func:`_run_after`), so a file that might break
    it stops being read after a block and is left to :func:`open_text`, whose guard names
    the line.  A gzipped file is decompressed only when :meth:`DataBytes.content` is asked
    for (a reader that finds the file's parse in a cache never needs it).
    """
    source = Path(path)
    fd = _open_regular(source)
    with io.FileIO(fd, "rb", closefd=True) as handle:
        try:
            compressed = handle.read(2) == _GZIP_MAGIC
            handle.seek(0)
            raw = handle.readall() if compressed else _checked_blocks(source, handle,
                                                                      max_line_bytes)
        except OSError as exc:
            raise _read_error(source, exc) from None
    return DataBytes(source, raw, compressed, max_line_bytes)


def _checked_blocks(path: Path, stream: io.RawIOBase | gzip.GzipFile, max_line_bytes: int,
                    max_bytes: int | None = None) -> bytes | None:
    """Everything ``stream`` holds, or ``None`` as soon as a line may be over the cap (or
    the content passes ``max_bytes``)."""
    blocks: list[bytes] = []
    run: int | None = 0
    size = 0
    while run is not None:
        try:
            block = stream.read(_BYTES_BLOCK)
        except (EOFError, OSError, zlib.error) as exc:
            raise _read_error(path, exc) from None
        if not block:
            return b"".join(blocks)
        size += len(block)
        if max_bytes is not None and size > max_bytes:
            return None
        run = _run_after(block, run, max_line_bytes)
        blocks.append(block)
    return None


def _run_after(block: bytes, run: int, cap: int) -> int | None:
    """The length of the unfinished last line after ``block`` (``run`` bytes of it came
    before), or ``None`` when a line may be longer than ``cap``.

    Conservative and cheap: every window of ``cap // 2`` bytes between the first and the
    last LF must hold an LF (a few hundred ``find`` calls for a year of M1 bars), so no line
    between them is longer than the cap; the lines cut by the block's edges are measured.
    """
    first = block.find(b"\n")
    if first < 0:
        run += len(block)
        return run if run <= cap else None
    if run + first > cap:
        return None
    last = block.rfind(b"\n")
    window = max(1, cap // 2)
    for start in range(first + 1, last, window):
        if block.find(b"\n", start, min(start + window, last + 1)) < 0:
            return None
    tail = len(block) - last - 1
    return tail if tail <= cap else None


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


class LineGuard:
    """Follows decoded text as it streams past (line ends already ``\\n``): the number of the
    line being read, and a :class:`DataError` for a line longer than the cap.

    ``max_chars`` is the cap in characters, ``max_bytes`` the same cap as the message states
    it (for UTF-16 a character is two bytes, so the cap is half as many characters).  The
    check costs a few ``str.find`` calls per block: windows of half the cap that all hold a
    line end prove no line is longer, and only a window without one is looked at closely.
    """

    def __init__(self, path: Path, max_chars: int, max_bytes: int) -> None:
        self.path = path
        self.max_chars = max_chars
        self.max_bytes = max_bytes
        self.line = 1  # the line the next character belongs to
        self._run = 0  # characters of that line seen so far
        self._window = max(1, max_chars // 2)

    def _fail(self, line: int) -> None:
        raise DataError(f"{self.path}:{line}: line longer than {self.max_bytes} bytes")

    def feed(self, text: str) -> None:
        last = text.rfind("\n")
        if last < 0:
            self._run += len(text)
            if self._run > self.max_chars:
                self._fail(self.line)
            return
        first = text.find("\n")
        if self._run + first > self.max_chars:
            self._fail(self.line)
        if last - first - 1 > self.max_chars:
            self._check_inner(text, first, last)
        self.line += text.count("\n", 0, last + 1)
        self._run = len(text) - last - 1
        if self._run > self.max_chars:
            self._fail(self.line)

    def _check_inner(self, text: str, first: int, last: int) -> None:
        """The lines strictly between the first and the last line end of ``text``."""
        i = first + 1
        while i < last:
            j = min(i + self._window, last)
            if text.find("\n", i, j) >= 0:
                i = j
                continue
            before = text.rfind("\n", 0, i)
            after = text.find("\n", j)
            if after - before - 1 > self.max_chars:
                self._fail(self.line + text.count("\n", 0, before + 1))
            i = after + 1


class GuardedText(io.TextIOBase):
    """A data file as text in its detected encoding, universal newlines, lines guarded.

    Undecodable bytes become U+FFFD (the row they are in is then reported as bad, with its
    line); pandas and the block readers read it like any text file.
    """

    def __init__(self, data: DataFile, encoding: str, max_line_bytes: int | None) -> None:
        self.data = data
        self.detected_encoding = encoding
        self._text = io.TextIOWrapper(data.stream, encoding=encoding, errors="replace",
                                      newline=None)
        self.guard: LineGuard | None = None
        if max_line_bytes is not None:
            per_char = 2 if encoding.startswith("utf-16") else 1
            self.guard = LineGuard(data.path, max_line_bytes // per_char, max_line_bytes)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.detected_encoding

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        chunk = self._text.read(-1 if size is None else size)
        if self.guard is not None:
            self.guard.feed(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        limit = -1 if size is None else size
        if self.guard is not None and (limit < 0 or limit > self.guard.max_chars + 1):
            limit = self.guard.max_chars + 1  # never hold more than the cap of one line
        line = self._text.readline(limit)
        if self.guard is not None:
            self.guard.feed(line)
        return line

    def close(self) -> None:
        if not self.closed:
            self._text.close()
            self.data.close()
        super().close()


def open_text(path: str | Path, max_line_bytes: int | None = MAX_LINE_BYTES) -> GuardedText:
    """A data file as guarded text; the encoding comes from its first bytes."""
    data = open_data_file(path)
    try:
        encoding = sniff_encoding(data.stream.peek(4)[:4])
        return GuardedText(data, encoding, max_line_bytes)
    except BaseException:
        data.close()
        raise
