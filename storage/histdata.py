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

Speed matters (a year file has ~372k rows and is read at every start of a TDI study), so the
normal path is one ``pandas.read_csv`` with explicit dtypes and vectorised checks; only a file
that the C parser rejects, or that holds a missing value, is re-read line by line to name
exactly what is wrong where.  Either way the file is read through ``storage.datafile``:
regular files only, gzip recognised by content and a damaged one refused, the encoding taken
from the first bytes (a UTF-16 copy reads like the original), lines no longer than 64 KiB.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import DataError, UserError
from engine.ticks import BAR_DTYPE
from storage.datafile import open_text
from storage.plausible import LAST_DAY, price_problems, time_problems_ms

__all__ = [
    "EST_OFFSET_SECONDS",
    "MAX_PROBLEMS",
    "HistDataM1",
    "histdata_symbol",
    "read_histdata_dir",
    "read_histdata_m1",
    "reason_category",
]

#: HistData stamps are EST without DST: UTC = stamp + 5 h, all year.
EST_OFFSET_SECONDS = 5 * 3600

#: At most this many ``file:line: reason`` strings are kept; the counts stay exact.
MAX_PROBLEMS = 100

_FILE_NAME = re.compile(r"^DAT_ASCII_([A-Za-z0-9]+)_M1_(\d{4,6})\.csv(?:\.gz)?$", re.IGNORECASE)
_PRICE_COLUMNS = ("open", "high", "low", "close")
_COLUMNS = ("stamp", *_PRICE_COLUMNS, "volume")
_STAMP_FORMAT = "%Y%m%d %H%M%S"
_NAN_WORDS = frozenset({"nan", "-nan", "+nan"})


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
    name = symbol.upper() if symbol else histdata_symbol(source)
    if name is None:
        raise UserError(
            f"{source}: cannot tell the symbol from the file name "
            "(expected DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz]); pass the symbol explicitly"
        )
    return _combine(name, [_parse_file(source, strict=strict)], strict=strict)


def read_histdata_dir(
    dir_or_files: str | Path | Iterable[str | Path],
    symbols: Sequence[str] | None = None,
    *,
    strict: bool = False,
) -> dict[str, HistDataM1]:
    """Read every HistData M1 file of a directory (``DAT_ASCII_*_M1_*.csv[.gz]``, not
    recursive) or of an explicit list of files, one result per symbol.

    Several files of one symbol (years, or months) are concatenated in file-name order,
    which is chronological for HistData names; stamps repeated across files count as
    duplicates like those inside one file.  ``symbols`` restricts the result; asking for a
    symbol that has no file is a :class:`UserError`.
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
        result[name] = _combine(name, [_parse_file(p, strict=strict) for p in paths], strict=strict)
    return result


# --------------------------------------------------------------------------------------------
# Parsing


@dataclass
class _Parsed:
    """The rows of one file before cross-row checks; ``reason`` is set for rows already bad."""

    path: Path
    stamps: pa.Array
    prices: dict[str, np.ndarray]
    reason: np.ndarray  # object: None or a reason string, one per row
    lines: np.ndarray  # int64 1-based line numbers


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
        return [root]
    files = [Path(p) for p in dir_or_files]
    if not files:
        raise UserError("no HistData M1 files given")
    return files


def _describe(dir_or_files: str | Path | Iterable[str | Path]) -> str:
    return str(dir_or_files) if isinstance(dir_or_files, str | Path) else "the given files"


def _parse_file(path: Path, *, strict: bool) -> _Parsed:
    try:
        parsed = _parse_fast(path)
    except (ValueError, pd.errors.ParserError):
        parsed = None  # text in a number field or a wrong field count: diagnose line by line
    if parsed is None:
        parsed = _parse_slow(path)
    return parsed


def _parse_fast(path: Path) -> _Parsed | None:
    """One C-parser pass; ``None`` when a row has a missing value (re-read slowly).

    The file is read through ``storage.datafile`` (regular files only, gzip by content,
    damage as one error, the encoding from its first bytes: HistData is UTF-8, but a file
    saved again by a spreadsheet may be UTF-16, lines no longer than ``MAX_LINE_BYTES``).
    """
    with open_text(path) as text:
        frame = pd.read_csv(
            text,
            sep=";",
            header=None,
            names=list(_COLUMNS),
            dtype={"stamp": str, **dict.fromkeys((*_PRICE_COLUMNS, "volume"), "float64")},
            skip_blank_lines=False,
            index_col=False,
        )
    if frame.isna().to_numpy().any():
        return None
    n = len(frame)
    return _Parsed(
        path=path,
        stamps=pa.array(frame["stamp"], type=pa.string()),
        prices={c: frame[c].to_numpy(dtype=np.float64) for c in _PRICE_COLUMNS},
        reason=np.full(n, None, dtype=object),
        lines=np.arange(1, n + 1, dtype=np.int64),
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
        stamps=pa.array(stamps, type=pa.string()),
        prices=prices,
        reason=reason,
        lines=np.array([number for number, _ in numbered], dtype=np.int64),
    )


# --------------------------------------------------------------------------------------------
# Validation and assembly


def _stamps_to_utc_seconds(stamps: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds and a validity mask (``False`` where the stamp does not parse)."""
    parsed = pc.strptime(stamps, format=_STAMP_FORMAT, unit="s", error_is_null=True)
    valid = pc.is_valid(parsed).to_numpy(zero_copy_only=False)
    seconds = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    return seconds.astype(np.int64) + EST_OFFSET_SECONDS, valid


def _row_reasons(
    stamps: list[pa.Array],
    seconds: np.ndarray,
    stamp_ok: np.ndarray,
    prices: dict[str, np.ndarray],
    reason: np.ndarray,
) -> None:
    """Fill ``reason`` for rows that fail a per-row check (the first failing check wins)."""
    o, h, lo, c = (prices[k] for k in _PRICE_COLUMNS)
    pending = np.array([r is None for r in reason], dtype=bool)

    def mark(mask: np.ndarray, text: str | np.ndarray) -> None:
        nonlocal pending
        hit = mask & pending
        if hit.any():
            reason[hit] = text if isinstance(text, str) else text[hit]
            pending &= ~hit

    if not stamp_ok[pending].all():
        texts = [s for chunk in stamps for s in chunk.to_pylist()]
        mark(~stamp_ok, np.array([f"bad timestamp {s!r}" for s in texts], dtype=object))
    early, late = time_problems_ms(np.where(stamp_ok, seconds, 0) * 1000)
    mark(early, "date before 1970")
    mark(late, f"date after {LAST_DAY.year}")
    matrix = np.column_stack([o, h, lo, c])
    mark(np.isnan(matrix).any(axis=1), "NaN price")
    mark((matrix <= 0).any(axis=1), "zero or negative price")
    mark(*price_problems(matrix))
    mark(h < np.maximum(o, c), "high below max(open, close)")
    mark(lo > np.minimum(o, c), "low above min(open, close)")


def _combine(symbol: str, parts: list[_Parsed], *, strict: bool) -> HistDataM1:
    """Check every row of the files (in order), drop bad rows and duplicates, build bars."""
    converted = [_stamps_to_utc_seconds(p.stamps) for p in parts]
    seconds = np.concatenate([c[0] for c in converted]) if parts else np.empty(0, np.int64)
    stamp_ok = np.concatenate([c[1] for c in converted]) if parts else np.empty(0, bool)
    prices = {
        k: np.concatenate([p.prices[k] for p in parts]) if parts else np.empty(0)
        for k in _PRICE_COLUMNS
    }
    reason = np.concatenate([p.reason for p in parts]) if parts else np.empty(0, object)
    lines = np.concatenate([p.lines for p in parts]) if parts else np.empty(0, np.int64)
    file_index = np.concatenate(
        [np.full(len(p.lines), i, dtype=np.int64) for i, p in enumerate(parts)]
    ) if parts else np.empty(0, np.int64)

    _row_reasons([p.stamps for p in parts], seconds, stamp_ok, prices, reason)
    good = np.array([r is None for r in reason], dtype=bool)

    # Duplicated stamps among good rows: keep the first occurrence, report the others.
    duplicated = np.zeros(len(seconds), dtype=bool)
    duplicated[good] = pd.Index(seconds[good]).duplicated(keep="first")
    keep = good & ~duplicated

    # A stamp earlier than one already kept is out of order: a bad row, never silently sorted.
    lowest = np.iinfo(np.int64).min
    running_max = np.maximum.accumulate(np.where(keep, seconds, lowest))
    previous_max = np.concatenate(([lowest], running_max[:-1]))
    backwards = keep & (seconds < previous_max)
    for i in np.flatnonzero(backwards):
        reason[i] = (
            f"time goes backwards ({_utc_text(seconds[i])} after {_utc_text(previous_max[i])})"
        )
    keep &= ~backwards

    bad = ~good | backwards
    if bad.any() and strict:
        first = int(np.flatnonzero(bad)[0])
        raise DataError(f"{parts[file_index[first]].path}:{lines[first]}: {reason[first]}")
    problems = [
        f"{parts[file_index[i]].path}:{lines[i]}: {reason[i]}"
        for i in np.flatnonzero(bad)[:MAX_PROBLEMS]
    ]
    by_reason: dict[str, int] = {}
    for text in reason[bad]:
        key = reason_category(text)
        by_reason[key] = by_reason.get(key, 0) + 1

    index = pd.DatetimeIndex(pd.to_datetime(seconds[keep], unit="s", utc=True), name="time")
    bars = pd.DataFrame({k: prices[k][keep] for k in _PRICE_COLUMNS}, index=index)
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


def _utc_text(seconds: int) -> str:
    return pd.Timestamp(int(seconds), unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
