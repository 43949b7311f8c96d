"""Reader for HistData.com "Generic ASCII" M1 files (``DAT_ASCII_EURUSD_M1_2019.csv[.gz]``).

Format: no header, ``;`` separated, ``YYYYMMDD HHMMSS;OPEN;HIGH;LOW;CLOSE;VOLUME``; prices are
bid; the stamp is the bar's open time in EST *without* daylight saving (UTC-05:00 all year),
so UTC = stamp + 5 h on every day of the year.

Known defects of the real files, handled here rather than by every caller:

- every 2019 file repeats the hour 2019-10-27 19:00-19:59 EST (a second block of 60 bars
  follows 19:59 and restarts at 19:00).  Duplicated stamps are dropped, the **first**
  occurrence is kept, and the dropped stamps are reported;
- a row that cannot be used (missing fields, text in a number field, unparsable stamp, a
  date outside 1970-2099, NaN, zero, negative or implausible price (``storage.plausible``:
  inf, 1e308), high below max(open, close), low above min(open, close), a stamp earlier
  than one already read) is a *bad row*: skipped, counted and reported as
  ``file:line: reason`` (``strict=True`` raises :class:`DataError` at the first one).
  Blank lines are not rows: they are ignored (and not counted in ``rows_read``).

Speed matters (a year file has ~372k rows and is read at every backtest, every worker of a
sweep and every start of a TDI study):

- the file's bytes are read and decompressed at C speed (``storage.datafile.read_data_bytes``:
  regular files only, gzip by content and a damaged one refused in the usual words, the line
  cap checked on the bytes), parsed by ``pyarrow.csv`` with the stamps converted in C, and
  checked vectorised.  Only a file that the C parser refuses (a row it cannot convert, a
  field count, a missing value, a blank line) is re-read line by line to name exactly what
  is wrong where, and a file that is not plain UTF-8 or may hold a line over the cap is
  first read as guarded text (``storage.datafile.open_text``: the encoding from the first
  bytes, so a UTF-16 copy reads like the original; a line over 64 KiB named);
- what the checks of each row give is kept in the parsed-file cache (``storage.parsed_cache``:
  Parquet named by the SHA-256 of the file's bytes), so the next read of the same bytes is a
  Parquet read; the checks across rows (duplicates, time going backwards) and every report
  are made again from it, so a cached read gives exactly what the parse gives;
- the files are read one after another: ``pyarrow.csv`` and Parquet already keep both
  cores busy on one file, and reading two files at once measured no faster (``bench/README.md``,
  Reading);
- inside :func:`reusing_reads`, a file read by :func:`read_histdata_files` is handed once more
  to the next :func:`read_histdata_m1` of it (the backtest takes each file's span, then
  replays it) instead of being read twice;
- inside :func:`keeping_reads`, every read is kept for every later read of the same unchanged
  file (a sweep's worker reads its market once for all its trials: ``app.sweep.worker_data``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from engine.errors import DataError, UserError
from engine.ticks import BAR_DTYPE
from storage import parsed_cache
from storage.datafile import open_text, read_data_bytes, sniff_encoding
from storage.file_spans import FileSpan, refuse_overlaps
from storage.plausible import LAST_DAY, price_problems, time_problems_ms

__all__ = [
    "CACHE_TAG",
    "EST_OFFSET_SECONDS",
    "MAX_PROBLEMS",
    "HistDataM1",
    "histdata_symbol",
    "keeping_reads",
    "read_histdata_dir",
    "read_histdata_files",
    "read_histdata_m1",
    "reason_category",
    "reusing_reads",
]

#: HistData stamps are EST without DST: UTC = stamp + 5 h, all year.
EST_OFFSET_SECONDS = 5 * 3600

#: At most this many ``file:line: reason`` strings are kept; the counts stay exact.
MAX_PROBLEMS = 100

#: ``DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz]``; a dated futures CFD's symbol carries its
#: contract (``SPXUSD_Z19``), and a file written by ``main.py data futures`` ends in
#: ``_SYNTHETIC`` (storage/futures_file.py).
_FILE_NAME = re.compile(r"^DAT_ASCII_([A-Za-z0-9]+(?:_[FGHJKMNQUVXZ]\d{2})?)_M1_(\d{4,6})"
                        r"(?:_SYNTHETIC)?\.csv(?:\.gz)?$", re.IGNORECASE)
_PRICE_COLUMNS = ("open", "high", "low", "close")
_COLUMNS = ("stamp", *_PRICE_COLUMNS, "volume")
_STAMP_FORMAT = "%Y%m%d %H%M%S"
_NAN_WORDS = frozenset({"nan", "-nan", "+nan"})

#: The results of ``read_histdata_files`` waiting for their second read, inside
#: ``reusing_reads`` (``None`` outside it).
_REUSE: ContextVar[dict[tuple[object, ...], HistDataM1] | None] = ContextVar(
    "histdata_reuse", default=None)
#: Every read kept for every later read, inside ``keeping_reads`` (``None`` outside it).
_KEEP: ContextVar[dict[tuple[object, ...], HistDataM1] | None] = ContextVar(
    "histdata_keep", default=None)


@dataclass(frozen=True)
class HistDataM1:
    """M1 bid bars of one symbol read from one or more HistData files, with a read report.

    ``bars`` is indexed by the tz-aware UTC bar-open time (strictly increasing) and has float
    columns ``open, high, low, close``.  ``rows_read`` counts data lines (bad ones included);
    ``rows_read == len(bars) + duplicates + bad_rows`` always holds.
    """

    symbol: str
    bars: pd.DataFrame
    rows_read: int
    duplicates: int
    duplicate_times: pd.DatetimeIndex
    bad_rows: int
    problems: list[str] = field(default_factory=list)
    sources: tuple[Path, ...] = ()
    #: Bad rows by kind of defect (``reason_category`` of each reason), exact (not capped).
    bad_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def first_time(self) -> pd.Timestamp | None:
        return self.bars.index[0] if len(self.bars) else None

    @property
    def last_time(self) -> pd.Timestamp | None:
        return self.bars.index[-1] if len(self.bars) else None

    def to_bar_array(self, spread: float = float("nan")) -> np.ndarray:
        """The bars as ``BAR_DTYPE`` (UTC seconds).  HistData has no spread and no volume:
        ``spread`` is whatever the caller assumes (NaN = unknown) and ``tick_volume`` is 0."""
        out = np.empty(len(self.bars), dtype=BAR_DTYPE)
        out["time"] = self.bars.index.as_unit("s").asi8
        for name in _PRICE_COLUMNS:
            out[name] = self.bars[name].to_numpy(dtype=np.float64)
        out["tick_volume"] = 0
        out["spread"] = spread
        return out

    def summary(self) -> str:
        """One line for a CLI or a log."""
        span = (
            f"{self.first_time:%Y-%m-%d %H:%M} .. {self.last_time:%Y-%m-%d %H:%M} UTC"
            if len(self.bars)
            else "no bars"
        )
        return (
            f"{self.symbol}: {self.rows_read} rows read, {len(self.bars)} bars, "
            f"{self.duplicates} duplicate stamps dropped, {self.bad_rows} bad rows skipped; {span}"
        )


def reason_category(reason: str) -> str:
    """The kind of a bad-row reason, without the row's values: ``"text in number field high:
    'abc'"`` -> ``"text in number field high"``; used to count skipped rows by reason."""
    return reason.split(" (", 1)[0].split(":", 1)[0].split(" '", 1)[0]


def histdata_symbol(path: str | Path) -> str | None:
    """The symbol a HistData file name carries (``DAT_ASCII_EURUSD_M1_2019.csv.gz`` ->
    ``EURUSD``), or ``None`` when the name does not follow that convention."""
    match = _FILE_NAME.match(Path(path).name)
    return match.group(1).upper() if match else None


def read_histdata_m1(
    path: str | Path, symbol: str | None = None, *, strict: bool = False
) -> HistDataM1:
    """Read one HistData M1 file (plain or gzipped).

    ``symbol`` defaults to the one in the file name; a file whose name does not carry one
    needs it given.  Raises :class:`UserError` for a missing file and :class:`DataError`
    for the first bad row when ``strict``.
    """
    source = Path(path)
    _must_exist(source)
    name = symbol.upper() if symbol else histdata_symbol(source)
    if name is None:
        raise UserError(
            f"{source}: cannot tell the symbol from the file name "
            "(expected DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz]); pass the symbol explicitly"
        )
    waiting = _REUSE.get()
    if waiting is not None:
        kept = waiting.pop(_reuse_key(source, name, strict), None)
        if kept is not None:
            return kept
    return _read_one(source, name, strict)


def read_histdata_files(
    paths: Sequence[str | Path], *, strict: bool = False
) -> list[HistDataM1]:
    """One result per file (the symbol from its name); inside
    :func:`reusing_reads` each result is also kept for the next ``read_histdata_m1`` of
    the same unchanged file."""
    sources = [Path(p) for p in paths]
    names = []
    for source in sources:
        _must_exist(source)
        name = histdata_symbol(source)
        if name is None:
            raise UserError(f"{source}: not a HistData M1 file name "
                            "(expected DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz])")
        names.append(name)
    results = [_read_one(s, n, strict) for n, s in zip(names, sources, strict=True)]
    pa.default_memory_pool().release_unused()  # the parser's buffers, before the replay
    waiting = _REUSE.get()
    if waiting is not None:
        for source, name, result in zip(sources, names, results, strict=True):
            waiting[_reuse_key(source, name, strict)] = result
    return results


@contextlib.contextmanager
def reusing_reads() -> Iterator[None]:
    """Within the block, a file read by :func:`read_histdata_files` is not read again by the
    next :func:`read_histdata_m1` of it: that call takes the result (once; a file changed
    in between, by size or modification time, is read again)."""
    token = _REUSE.set({})
    try:
        yield
    finally:
        _REUSE.reset(token)


# -- reads kept across backtests (a sweep's worker) ------------------------------------------


@contextlib.contextmanager
def keeping_reads(kept: dict[tuple[object, ...], HistDataM1]) -> Iterator[None]:
    """Within the block, each file read is kept in ``kept`` and every later read of the same
    file (same resolved path, symbol, strictness, size and modification time) takes it: the
    caller owns ``kept`` and decides how long it lives (``app.sweep.worker_data``: for as
    long as a worker's trials read the same data).  A kept read holds the very result of
    the parse, so what it gives is exactly what a fresh read gives; its bar array is built
    once and copied for each caller."""
    token = _KEEP.set(kept)
    try:
        yield
    finally:
        _KEEP.reset(token)


@dataclass(frozen=True)
class _KeptRead(HistDataM1):
    """A read kept across backtests: its bar array (the replay's form, NaN spread) is built
    once, and each caller gets a copy of it (a copy is several times cheaper than the
    conversion, and nobody shares an array another may write)."""

    @classmethod
    def of(cls, read: HistDataM1) -> _KeptRead:
        return cls(**{f.name: getattr(read, f.name) for f in fields(HistDataM1)})

    def to_bar_array(self, spread: float = float("nan")) -> np.ndarray:
        if not np.isnan(spread):
            return super().to_bar_array(spread)
        built = self.__dict__.get("_bar_array")
        if built is None:
            built = super().to_bar_array()
            object.__setattr__(self, "_bar_array", built)  # a cache, not a field
        return built.copy()


def _read_one(source: Path, symbol: str, strict: bool) -> HistDataM1:
    kept = _KEEP.get()
    if kept is None:
        return _combine(symbol, [_file_rows(source)], strict=strict)
    key = _reuse_key(source, symbol, strict)
    result = kept.get(key)
    if result is None:
        result = kept[key] = _KeptRead.of(_combine(symbol, [_file_rows(source)],
                                                   strict=strict))
    return result


def _reuse_key(source: Path, symbol: str, strict: bool) -> tuple[object, ...]:
    try:
        info = source.stat()
    except OSError:
        return (str(source), symbol, strict)
    return (str(source.resolve()), symbol, strict, info.st_size, info.st_mtime_ns)


def read_histdata_dir(
    dir_or_files: str | Path | Iterable[str | Path],
    symbols: Sequence[str] | None = None,
    *,
    strict: bool = False,
) -> dict[str, HistDataM1]:
    """Read every HistData M1 file of a directory (``DAT_ASCII_*_M1_*.csv[.gz]``, not
    recursive) or of an explicit list of files, one result per symbol.

    Several files of one symbol (years, or months) are concatenated in file-name order,
    which is chronological for HistData names.  Two files of one symbol whose spans overlap
    (a ``.csv`` beside its ``.csv.gz``, a corrected copy; identical copies too) are a
    :class:`UserError` naming both (``storage.file_spans``): never silently mixed.
    ``symbols`` restricts the result; asking for a symbol that has no file is a
    :class:`UserError`.
    """
    files = _list_files(dir_or_files)
    wanted = {s.upper() for s in symbols} if symbols is not None else None
    by_symbol: dict[str, list[Path]] = {}
    for file in files:
        name = histdata_symbol(file)
        if name is None:
            raise UserError(
                f"{file}: not a HistData M1 file name "
                "(expected DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz])"
            )
        if wanted is None or name in wanted:
            by_symbol.setdefault(name, []).append(file)
    if wanted is not None:
        missing = sorted(wanted - by_symbol.keys())
        if missing:
            raise UserError(
                f"no HistData M1 file for {', '.join(missing)} in {_describe(dir_or_files)}"
            )
    result: dict[str, HistDataM1] = {}
    for name in sorted(by_symbol):
        paths = sorted(by_symbol[name], key=lambda p: p.name)
        parts = [_file_rows(p) for p in paths]
        refuse_overlaps(span for part in parts if (span := _rows_span(name, part)))
        result[name] = _combine(name, parts, strict=strict)
    return result


def _rows_span(symbol: str, rows: _Rows) -> FileSpan | None:
    """The first and last usable row of one file (None when it has none)."""
    seconds = rows.seconds if rows.reason is None else rows.seconds[np.equal(rows.reason, None)]
    if not len(seconds):
        return None
    return FileSpan(rows.path, symbol, int(seconds.min()) * 1000, int(seconds.max()) * 1000)


def _list_files(dir_or_files: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(dir_or_files, str | Path):
        root = Path(dir_or_files)
        if root.is_dir():
            files = sorted(
                p for p in root.iterdir() if p.is_file() and _FILE_NAME.match(p.name)
            )
            if not files:
                raise UserError(f"{root}: no HistData M1 files (DAT_ASCII_*_M1_*.csv[.gz]) here")
            return files
        _must_exist(root)
        return [root]
    files = [Path(p) for p in dir_or_files]
    if not files:
        raise UserError("no HistData M1 files given")
    for file in files:
        _must_exist(file)
    return files


def _must_exist(path: Path) -> None:
    """A path that is not there is said so, before its name is judged."""
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")


def _describe(dir_or_files: str | Path | Iterable[str | Path]) -> str:
    return str(dir_or_files) if isinstance(dir_or_files, str | Path) else "the given files"


# --------------------------------------------------------------------------------------------
# Reading a file: the parsed-file cache, or the parse


@dataclass
class _Parsed:
    """The rows of one file as read: UTC seconds (or the stamps' text, from the diagnostic
    parse), prices, line numbers and the reason of every row already known to be bad."""

    path: Path
    prices: dict[str, np.ndarray]
    lines: np.ndarray  # int64, 1-based
    seconds: np.ndarray | None = None  # int64 UTC; None when ``stamps`` still need parsing
    stamps: pa.Array | None = None
    reason: np.ndarray | None = None  # object: None or a reason string, one per row


@dataclass
class _Rows:
    """One file's rows after the checks of each row on its own (what the cache keeps);
    ``reason`` is ``None`` when every row passed.  The checks across rows (duplicates, time
    going backwards) need every file of a symbol and are made by ``_combine``."""

    path: Path
    seconds: np.ndarray
    prices: dict[str, np.ndarray]
    lines: np.ndarray
    reason: np.ndarray | None


def _file_rows(path: Path) -> _Rows:
    """One file's checked rows: from the parsed-file cache when it holds this content,
    else parsed (and then kept in the cache)."""
    data = read_data_bytes(path)
    key = None
    if data.raw is not None and parsed_cache.cache_enabled(len(data.raw)):
        key = parsed_cache.content_key(data.raw)
        table = parsed_cache.load(path, key, CACHE_TAG, _CACHE_COLUMNS)
        if table is not None:
            return _rows_from_table(path, table)
    rows = _checked(_parse(path, data.content()))
    if key is not None:
        parsed_cache.store(path, key, CACHE_TAG, _rows_table(rows))
    return rows


def _parse(path: Path, content: bytes | None) -> _Parsed:
    """The C parser on the file's bytes; the diagnostic parse when it refuses a row.

    Only UTF-8 bytes whose lines are surely within the cap go to the parser as they are;
    any other file (UTF-16, a byte-order mark, a line that may be too long, lone CR line
    ends) is first read as guarded text, which names a line over the cap."""
    if content is None or sniff_encoding(content[:4]) != "utf-8":
        content = _read_text(path).encode("utf-8")
    parsed = _parse_csv(path, content)
    return parsed if parsed is not None else _parse_slow(path)


_CSV_READ = pacsv.ReadOptions(column_names=list(_COLUMNS))
_CSV_PARSE = pacsv.ParseOptions(delimiter=";", ignore_empty_lines=False)
_CSV_CONVERT = pacsv.ConvertOptions(
    column_types={"stamp": pa.timestamp("s"), **dict.fromkeys((*_PRICE_COLUMNS, "volume"),
                                                               pa.float64())},
    timestamp_parsers=[_STAMP_FORMAT],
)


def _parse_csv(path: Path, content: bytes) -> _Parsed | None:
    """One ``pyarrow.csv`` pass (stamps parsed in C); ``None`` when a row does not convert,
    has another field count, a missing value or is blank (then the diagnostic parse names
    it: line numbers here are row numbers, true only when every line is a row)."""
    try:
        table = pacsv.read_csv(pa.py_buffer(content), read_options=_CSV_READ,
                               parse_options=_CSV_PARSE, convert_options=_CSV_CONVERT)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if any(column.null_count for column in table.columns):
        return None
    n = table.num_rows
    seconds = table["stamp"].cast(pa.int64()).to_numpy() + EST_OFFSET_SECONDS
    return _Parsed(
        path=path,
        prices={c: table[c].to_numpy() for c in _PRICE_COLUMNS},
        lines=np.arange(1, n + 1, dtype=np.int64),
        seconds=seconds.astype(np.int64, copy=False),
    )


def _read_text(path: Path) -> str:
    with open_text(path) as text:
        return text.read()


def _parse_slow(path: Path) -> _Parsed:
    """Line-by-line parse that names the defect of every bad row (only for defective files)."""
    numbered = [
        (number, text.rstrip("\r"))
        for number, text in enumerate(_read_text(path).split("\n"), start=1)
        if text.strip()
    ]
    n = len(numbered)
    stamps: list[str | None] = [None] * n
    prices = {c: np.full(n, np.nan) for c in _PRICE_COLUMNS}
    reason = np.full(n, None, dtype=object)
    for i, (_, text) in enumerate(numbered):
        fields = text.split(";")
        if len(fields) < len(_COLUMNS):
            reason[i] = f"truncated line ({len(fields)} of {len(_COLUMNS)} fields)"
            continue
        if len(fields) > len(_COLUMNS):
            reason[i] = f"too many fields ({len(fields)}, expected {len(_COLUMNS)})"
            continue
        stamps[i] = fields[0]
        for column, value in zip(_PRICE_COLUMNS, fields[1:5], strict=True):
            token = value.strip()
            try:
                prices[column][i] = float(token)
            except ValueError:
                reason[i] = (
                    f"text in number field {column}: {token!r}" if token else f"missing {column}"
                )
                break
            if token.lower() in _NAN_WORDS:
                reason[i] = f"NaN {column}"
                break
    return _Parsed(
        path=path,
        prices=prices,
        lines=np.array([number for number, _ in numbered], dtype=np.int64),
        stamps=pa.array(stamps, type=pa.string()),
        reason=reason,
    )


# --------------------------------------------------------------------------------------------
# The cache's table of a file's checked rows

#: The format tag of cache entries: bump it whenever what a parse gives changes.
CACHE_TAG = "histdata-1"
_CACHE_COLUMNS = ("time", *_PRICE_COLUMNS)


def _rows_table(rows: _Rows) -> pa.Table:
    """The rows as a table: ``time`` and the prices always; ``reason`` only when a row is
    bad, ``line`` only when line numbers are not simply 1..n (a blank line, a bad file)."""
    columns: dict[str, pa.Array] = {"time": pa.array(rows.seconds, pa.int64())}
    columns.update({c: pa.array(rows.prices[c], pa.float64()) for c in _PRICE_COLUMNS})
    if rows.reason is not None:
        columns["reason"] = pa.array(rows.reason, pa.string())
    if not np.array_equal(rows.lines, np.arange(1, len(rows.lines) + 1)):
        columns["line"] = pa.array(rows.lines, pa.int64())
    return pa.table(columns)


def _rows_from_table(path: Path, table: pa.Table) -> _Rows:
    names = table.column_names
    n = table.num_rows
    return _Rows(
        path=path,
        seconds=table["time"].to_numpy(),
        prices={c: table[c].to_numpy() for c in _PRICE_COLUMNS},
        lines=table["line"].to_numpy() if "line" in names else np.arange(1, n + 1),
        reason=table["reason"].to_numpy(zero_copy_only=False) if "reason" in names else None,
    )


# --------------------------------------------------------------------------------------------
# Validation and assembly


def _stamps_to_utc_seconds(stamps: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds and a validity mask (``False`` where the stamp does not parse)."""
    parsed = pc.strptime(stamps, format=_STAMP_FORMAT, unit="s", error_is_null=True)
    valid = pc.is_valid(parsed).to_numpy(zero_copy_only=False)
    seconds = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    return seconds.astype(np.int64) + EST_OFFSET_SECONDS, valid


def _checked(parsed: _Parsed) -> _Rows:
    """The checks of each row on its own, vectorised (the first failing check wins):
    stamp, dates, NaN, sign, plausible range, high and low against open and close."""
    if parsed.seconds is not None:
        seconds, stamp_ok = parsed.seconds, None
    else:
        assert parsed.stamps is not None
        seconds, stamp_ok = _stamps_to_utc_seconds(parsed.stamps)
    n = len(seconds)
    reason = parsed.reason
    bad = np.zeros(n, dtype=bool) if reason is None else np.not_equal(reason, None)

    def mark(mask: np.ndarray, text: str | np.ndarray) -> None:
        nonlocal reason
        hit = mask & ~bad
        if hit.any():
            if reason is None:
                reason = np.full(n, None, dtype=object)
            reason[hit] = text if isinstance(text, str) else text[hit]
            bad[hit] = True

    if stamp_ok is not None and not stamp_ok[~bad].all():
        assert parsed.stamps is not None
        texts = parsed.stamps.to_pylist()
        mark(~stamp_ok, np.array([f"bad timestamp {s!r}" for s in texts], dtype=object))
    early, late = time_problems_ms(np.where(stamp_ok, seconds, 0) * 1000
                                   if stamp_ok is not None else seconds * 1000)
    mark(early, "date before 1970")
    mark(late, f"date after {LAST_DAY.year}")
    o, h, lo, c = (parsed.prices[k] for k in _PRICE_COLUMNS)
    matrix = np.column_stack([o, h, lo, c])
    mark(np.isnan(matrix).any(axis=1), "NaN price")
    mark((matrix <= 0).any(axis=1), "zero or negative price")
    mark(*price_problems(matrix))
    mark(h < np.maximum(o, c), "high below max(open, close)")
    mark(lo > np.minimum(o, c), "low above min(open, close)")
    return _Rows(parsed.path, seconds, parsed.prices, parsed.lines, reason)


def _combine(symbol: str, parts: list[_Rows], *, strict: bool) -> HistDataM1:
    """Join the files of a symbol (in order), drop bad rows and duplicates, build bars."""
    seconds = _joined([p.seconds for p in parts], np.int64)
    prices = {k: _joined([p.prices[k] for p in parts], np.float64) for k in _PRICE_COLUMNS}
    lines = _joined([p.lines for p in parts], np.int64)
    file_index = np.repeat(np.arange(len(parts)), [len(p.lines) for p in parts])
    reason: np.ndarray | None = None
    if any(p.reason is not None for p in parts):
        reason = np.concatenate([p.reason if p.reason is not None
                                 else np.full(len(p.lines), None, dtype=object) for p in parts])
    good = np.ones(len(seconds), dtype=bool) if reason is None else np.equal(reason, None)

    duplicated = np.zeros(len(seconds), dtype=bool)
    duplicated[good] = _repeated(seconds[good])
    keep = good & ~duplicated

    # A stamp earlier than one already kept is out of order: a bad row, never silently sorted.
    lowest = np.iinfo(np.int64).min
    running_max = np.maximum.accumulate(np.where(keep, seconds, lowest))
    previous_max = np.concatenate(([lowest], running_max[:-1]))
    backwards = keep & (seconds < previous_max)
    if backwards.any():
        reason = np.full(len(seconds), None, dtype=object) if reason is None else reason
        for i in np.flatnonzero(backwards):
            reason[i] = (
                f"time goes backwards ({_utc_text(seconds[i])} after "
                f"{_utc_text(previous_max[i])})"
            )
    keep &= ~backwards

    bad = ~good | backwards
    problems: list[str] = []
    by_reason: dict[str, int] = {}
    if reason is not None and bad.any():
        rows = np.flatnonzero(bad)
        if strict:
            first = int(rows[0])
            raise DataError(f"{parts[file_index[first]].path}:{lines[first]}: {reason[first]}")
        problems = [f"{parts[file_index[i]].path}:{lines[i]}: {reason[i]}"
                    for i in rows[:MAX_PROBLEMS]]
        for text in reason[rows]:
            key = reason_category(text)
            by_reason[key] = by_reason.get(key, 0) + 1

    index = pd.DatetimeIndex(pd.to_datetime(seconds[keep], unit="s", utc=True), name="time")
    # One 2-D block laid out as the frame keeps it (a row per column, each contiguous):
    # the kept prices are copied once, with nothing left to consolidate.
    values = np.empty((len(_PRICE_COLUMNS), int(keep.sum())))
    for row, k in zip(values, _PRICE_COLUMNS, strict=True):
        np.compress(keep, prices[k], out=row)
    bars = pd.DataFrame(values.T, index=index, columns=list(_PRICE_COLUMNS), copy=False)
    return HistDataM1(
        symbol=symbol,
        bars=bars,
        rows_read=len(seconds),
        duplicates=int(duplicated.sum()),
        duplicate_times=pd.DatetimeIndex(
            pd.to_datetime(seconds[duplicated], unit="s", utc=True), name="time"
        ),
        bad_rows=int(bad.sum()),
        problems=problems,
        sources=tuple(p.path for p in parts),
        bad_by_reason=by_reason,
    )


def _joined(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    """The arrays end to end; one array as it is (no copy: it is never written to)."""
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate(arrays) if arrays else np.empty(0, dtype)


def _repeated(stamps: np.ndarray) -> np.ndarray:
    """Mask of the stamps seen before (the first occurrence is kept): a stable sort puts
    equal stamps in file order, and the data is sorted already but for its defects, so the
    sort is a linear pass."""
    repeated = np.zeros(len(stamps), dtype=bool)
    steps = np.diff(stamps)
    if (steps > 0).all():
        return repeated
    order = np.argsort(stamps, kind="stable")
    ordered = stamps[order]
    repeated[order[1:]] = ordered[1:] == ordered[:-1]
    return repeated


def _utc_text(seconds: int) -> str:
    return pd.Timestamp(int(seconds), unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
