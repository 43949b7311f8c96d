"""The market-data store: ticks and M1 bars in Parquet, one file per symbol and UTC month.

Layout under the store root::

    ticks/SYMBOL/YYYY-MM.parquet            time_msc int64 (UTC ms), bid, ask float64, flags uint32
    ticks/SYMBOL/YYYY-MM.parts/*.parquet    recorder batches not yet merged into the month
    bars_m1/SYMBOL/YYYY-MM.parquet          time int64 (UTC s, bar open), open, high, low, close
                                            float64 (bid), spread float64 (price units, NaN =
                                            unknown), tick_volume int64

Why it is built this way:

- **Every write is atomic**: a new file is written next to its target under a dot-name,
  fsynced, then ``os.replace``-d over it.  A writer killed at any instant leaves either the
  old partition or the new one, never a torn file (left-over temp files are ignored by
  readers and removed by the next writer).
- **Re-importing changes nothing.**  Merging rows into a month drops rows the month already
  holds: bars by ``time`` (the stored bar wins), ticks by ``(time_msc, bid, ask)`` *counted*:
  the k-th identical tick of a millisecond in the new batch is a duplicate only if the month
  already has at least k of them.  Real feeds do repeat a quote within one millisecond, so a
  plain set de-duplication would lose genuine ticks.  When no row is new the file is not
  rewritten at all, so its bytes stay the same.
- **An import lands whole or not at all** (``MarketDataStore.batch``): the first time a batch
  replaces a month, the old file is kept under an undo name (a hard link, no copy); a failure
  half-way through a file (damaged gzip, a line too long, a bad row under ``--strict``) puts
  every month back, success drops the undo files.  A process killed mid-batch leaves whole
  months, as an unbatched write does, and the next writer removes its undo files.
- **The recorder appends small parts** instead of rewriting a month at every flush.  A part is
  one atomic file; readers merge a month's parts on read.  Compaction writes the merged month
  with the names of the parts it absorbed in its metadata before deleting them, so a
  compaction killed between the two steps never double-counts a tick.
- Times are UTC only; broker server time is converted before anything reaches the store.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import DataError
from engine.ticks import BAR_DTYPE
from storage.marketdata_files import (
    Batch,
    locked,
    remove_stale_temps,
    write_atomic,
)
from storage.symbols import check_symbol_name

__all__ = [
    "BARS",
    "STORE_TICK_DTYPE",
    "TICKS",
    "Gap",
    "MarketDataStore",
    "SeriesInfo",
    "WriteResult",
    "month_of_msc",
    "ticks_to_m1",
]

TICKS = "ticks"
BARS = "bars_m1"

#: One stored tick (a ``TICK_DTYPE`` row without the feed's symbol index).
STORE_TICK_DTYPE = np.dtype(
    [("time_msc", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("flags", "<u4")]
)

TICK_SCHEMA = pa.schema(
    [
        ("time_msc", pa.int64()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("flags", pa.uint32()),
    ]
)
BAR_SCHEMA = pa.schema(
    [
        ("time", pa.int64()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("spread", pa.float64()),
        ("tick_volume", pa.int64()),
    ]
)

_SCHEMAS = {TICKS: TICK_SCHEMA, BARS: BAR_SCHEMA}
_DTYPES = {TICKS: STORE_TICK_DTYPE, BARS: BAR_DTYPE}
_TIME_COLUMN = {TICKS: "time_msc", BARS: "time"}
_MS_PER_UNIT = {TICKS: 1, BARS: 1000}

_META_ABSORBED = b"fxcluster.absorbed_parts"
_MONTH_FILE = re.compile(r"^(\d{4})-(\d{2})\.parquet$")


# --------------------------------------------------------------------------------------------
# Small helpers


def month_of_msc(time_msc: np.ndarray) -> np.ndarray:
    """``YYYY-MM`` month keys (as int ``YYYY*12 + MM-1``) of UTC epoch-ms stamps."""
    months = time_msc.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    return months + 1970 * 12


def _month_name(key: int) -> str:
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


def _month_start_msc(key: int) -> int:
    return int(np.datetime64(f"{_month_name(key)}-01", "ms").astype(np.int64))


def _unreadable(path: Path, exc: BaseException) -> DataError:
    """A damaged partition, in one line (Arrow's messages can span several)."""
    return DataError(f"{path}: unreadable partition ({' '.join(str(exc).split())})")


def _check_symbol(symbol: str) -> str:
    return check_symbol_name(symbol)


def _to_array(table: pa.Table, kind: str) -> np.ndarray:
    dtype = _DTYPES[kind]
    out = np.empty(table.num_rows, dtype=dtype)
    for name in dtype.names:
        out[name] = table.column(name).to_numpy()
    return out


def _to_table(rows: np.ndarray, kind: str, metadata: dict[bytes, bytes] | None = None) -> pa.Table:
    schema = _SCHEMAS[kind]
    columns = [pa.array(np.ascontiguousarray(rows[f.name]), type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema.with_metadata(metadata or {}))


def _coerce(rows: np.ndarray, kind: str) -> np.ndarray:
    """Copy the fields the store keeps out of any structured array that has them."""
    dtype = _DTYPES[kind]
    missing = [n for n in dtype.names if n not in (rows.dtype.names or ())]
    if missing:
        raise ValueError(f"{kind} rows lack fields {missing}")
    out = np.empty(len(rows), dtype=dtype)
    for name in dtype.names:
        out[name] = rows[name]
    return out


def _occurrence(keys: pd.DataFrame) -> np.ndarray:
    """0 for the first row of each distinct key, 1 for the second, ... (in row order)."""
    if keys.empty:
        return np.empty(0, dtype=np.int64)
    return keys.groupby(list(keys.columns), sort=False).cumcount().to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Results and inventory


@dataclass(frozen=True)
class WriteResult:
    """What a write did: ``added`` new rows, ``duplicates`` rows the store already held."""

    rows: int
    added: int
    duplicates: int
    partitions: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Gap:
    """A stretch without data between two stored times (UTC, ms), outside the weekend close."""

    after_msc: int
    before_msc: int

    @property
    def minutes(self) -> float:
        return (self.before_msc - self.after_msc) / 60_000

    def __str__(self) -> str:
        start = pd.Timestamp(self.after_msc, unit="ms", tz="UTC")
        end = pd.Timestamp(self.before_msc, unit="ms", tz="UTC")
        return f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} ({_duration(self.minutes)})"


def _duration(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


@dataclass(frozen=True)
class SeriesInfo:
    """One stored series (ticks or M1 bars of one symbol) as ``data list`` shows it."""

    kind: str
    symbol: str
    count: int
    first_msc: int | None
    last_msc: int | None
    months: tuple[str, ...]
    gaps: tuple[Gap, ...] = field(default=())


def find_gaps(times_msc: np.ndarray, max_gap_minutes: float, step_msc: int) -> list[Gap]:
    """Gaps longer than ``max_gap_minutes`` of missing data, the regular weekend close excepted.

    The weekend close is a gap that starts on Friday from 18:00 UTC (or on Saturday) and ends
    on Sunday or before Monday 02:00 UTC: the FX week closes at 17:00 New York (21:00 or
    22:00 UTC) and reopens on Sunday evening.  ``step_msc`` is one bar (60 s) for bars, so a
    bar-to-bar distance counts only the minutes actually missing.  Holidays and outages show.
    """
    if len(times_msc) < 2:
        return []
    t = np.asarray(times_msc, dtype=np.int64)
    missing = np.diff(t) - step_msc
    idx = np.flatnonzero(missing > max_gap_minutes * 60_000)
    if not len(idx):
        return []
    start = pd.to_datetime(t[idx], unit="ms", utc=True)
    end = pd.to_datetime(t[idx + 1], unit="ms", utc=True)
    starts_weekend = ((start.day_of_week == 4) & (start.hour >= 18)) | (start.day_of_week == 5)
    ends_weekend = (end.day_of_week == 6) | ((end.day_of_week == 0) & (end.hour < 2))
    short_enough = (end - start) <= pd.Timedelta(hours=80)
    weekend = np.asarray(starts_weekend & ends_weekend & short_enough)
    return [Gap(int(t[i]), int(t[i + 1])) for i, w in zip(idx, weekend, strict=True) if not w]


# --------------------------------------------------------------------------------------------
# The store


class MarketDataStore:
    """Ticks and M1 bars on disk, one Parquet file per symbol and UTC month."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._batches: dict[Path, Batch] = {}

    @contextlib.contextmanager
    def batch(self, kind: str, symbol: str) -> Iterator[None]:
        """Every write to one series inside the block lands together, or none does.

        An import runs in one, so a file that fails half-way leaves the store as it was
        instead of holding the months before the failure.  The series is locked from the
        first write to the end of the block; parts absorbed meanwhile are deleted only at
        the end (until then the old month file, should it come back, still needs them).
        """
        directory = self.series_dir(kind, symbol)
        if directory in self._batches:
            yield
            return
        batch = self._batches[directory] = Batch(directory)
        try:
            yield
        except BaseException:
            batch.rollback()
            raise
        else:
            batch.commit()
            months = {p.name[:7] for p in batch.undo}
            for month in sorted(months):
                self._drop_absorbed_parts(kind, symbol, month)
        finally:
            del self._batches[directory]
            batch.release()

    @contextlib.contextmanager
    def batches(self, series: Iterable[tuple[str, str]]) -> Iterator[None]:
        """Every write to these series (kind, symbol) inside the block lands together, or
        none does: a command importing several files leaves the store as it was when any
        file fails, not holding the files before it.  The series are locked up front, in
        one order, so two such imports never each hold a lock the other waits for."""
        with contextlib.ExitStack() as stack:
            for kind, symbol in sorted(set(series)):
                stack.enter_context(self.batch(kind, symbol))
                self._batches[self.series_dir(kind, symbol)].hold()
            yield

    @contextlib.contextmanager
    def _series_locked(self, directory: Path, *, shared: bool = False) -> Iterator[None]:
        """The series lock, or nothing when this store's batch already holds it."""
        batch = self._batches.get(directory)
        if batch is None:
            with locked(directory, shared=shared):
                if not shared:
                    remove_stale_temps(directory)
                yield
            return
        batch.hold()
        yield

    # -- layout --------------------------------------------------------------------------

    def series_dir(self, kind: str, symbol: str) -> Path:
        if kind not in _SCHEMAS:
            raise ValueError(f"unknown series kind {kind!r}")
        return self.root / kind / _check_symbol(symbol)

    def symbols(self, kind: str) -> list[str]:
        base = self.root / kind
        if not base.is_dir():
            return []
        return sorted(d.name for d in base.iterdir() if d.is_dir() and self.months(kind, d.name))

    def months(self, kind: str, symbol: str) -> list[str]:
        """``YYYY-MM`` of every month holding data (a main file or recorder parts)."""
        directory = self.series_dir(kind, symbol)
        if not directory.is_dir():
            return []
        names = {m.group(1) + "-" + m.group(2) for p in directory.iterdir()
                 if (m := _MONTH_FILE.match(p.name))}
        names |= {p.name[:7] for p in directory.glob("????-??.parts")
                  if any(p.glob("*.parquet"))}
        return sorted(names)

    def _month_path(self, kind: str, symbol: str, month: str) -> Path:
        return self.series_dir(kind, symbol) / f"{month}.parquet"

    def _live_parts(self, kind: str, symbol: str, month: str) -> list[Path]:
        """Recorder parts of a month not yet absorbed into its main file, in write order."""
        parts_dir = self.series_dir(kind, symbol) / f"{month}.parts"
        if not parts_dir.is_dir():
            return []
        parts = sorted(parts_dir.glob("*.parquet"))
        absorbed = self._absorbed(self._month_path(kind, symbol, month))
        return [p for p in parts if p.name not in absorbed]

    @staticmethod
    def _absorbed(main: Path) -> set[str]:
        if not main.is_file():
            return set()
        try:
            metadata = pq.read_schema(main).metadata or {}
            raw = metadata.get(_META_ABSORBED)
            return set(json.loads(raw)) if raw else set()
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise _unreadable(main, exc) from exc

    # -- reading -------------------------------------------------------------------------

    def _read_month(
        self, kind: str, symbol: str, month: str, parts: list[Path] | None = None
    ) -> np.ndarray:
        """A whole month, main file and live parts merged in time order.

        A writer (holding the exclusive lock) passes the parts it will absorb, so a part
        landing meanwhile is neither read nor lost; a reader passes nothing and reads under
        the shared lock."""
        main = self._month_path(kind, symbol, month)
        if parts is None:
            with self._series_locked(self.series_dir(kind, symbol), shared=True):
                live = self._live_parts(kind, symbol, month)
                return self._read_month(kind, symbol, month, live)
        pieces = [self._read_file(main, kind)] if main.is_file() else []
        pieces += [self._read_file(p, kind) for p in parts]
        if not pieces:
            return np.empty(0, dtype=_DTYPES[kind])
        rows = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        if len(pieces) > 1:
            rows = rows[np.argsort(rows[_TIME_COLUMN[kind]], kind="stable")]
        return rows

    @staticmethod
    def _read_file(path: Path, kind: str) -> np.ndarray:
        try:
            return _to_array(pq.read_table(path, schema=_SCHEMAS[kind]), kind)
        except (OSError, pa.ArrowException) as exc:
            raise _unreadable(path, exc) from exc

    def iter_chunks(
        self,
        kind: str,
        symbol: str,
        start_msc: int | None = None,
        end_msc: int | None = None,
    ) -> Iterator[np.ndarray]:
        """Rows of one series in time order, a Parquet row group (or a month with recorder
        parts) at a time, restricted to ``start_msc <= t <= end_msc`` (UTC ms).

        Memory stays bounded by one row group however long the series is.
        """
        time_col = _TIME_COLUMN[kind]
        unit = _MS_PER_UNIT[kind]
        lo = None if start_msc is None else -(-start_msc // unit)  # ceil: t*unit >= start
        hi = None if end_msc is None else end_msc // unit
        for month in self.months(kind, symbol):
            key = int(month[:4]) * 12 + int(month[5:]) - 1
            if hi is not None and _month_start_msc(key) > hi * unit:
                break
            if lo is not None and _month_start_msc(key + 1) <= lo * unit:
                continue
            for chunk in self._month_chunks(kind, symbol, month):
                times = chunk[time_col]
                a = 0 if lo is None else int(np.searchsorted(times, lo, "left"))
                b = len(chunk) if hi is None else int(np.searchsorted(times, hi, "right"))
                if b > a:
                    yield chunk[a:b]

    def _month_chunks(self, kind: str, symbol: str, month: str) -> Iterator[np.ndarray]:
        if self._live_parts(kind, symbol, month):
            yield self._read_month(kind, symbol, month)
            return
        path = self._month_path(kind, symbol, month)
        try:
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                yield _to_array(parquet.read_row_group(group), kind)
        except (OSError, pa.ArrowException) as exc:
            raise _unreadable(path, exc) from exc

    def read(
        self, kind: str, symbol: str, start_msc: int | None = None, end_msc: int | None = None
    ) -> np.ndarray:
        """A whole series (or a time range of it) in memory; use ``iter_chunks`` for years."""
        chunks = list(self.iter_chunks(kind, symbol, start_msc, end_msc))
        if not chunks:
            return np.empty(0, dtype=_DTYPES[kind])
        return np.concatenate(chunks)

    def read_ticks(
        self, symbol: str, start_msc: int | None = None, end_msc: int | None = None
    ) -> np.ndarray:
        return self.read(TICKS, symbol, start_msc, end_msc)

    def read_bars(
        self, symbol: str, start_msc: int | None = None, end_msc: int | None = None
    ) -> np.ndarray:
        return self.read(BARS, symbol, start_msc, end_msc)

    # -- writing -------------------------------------------------------------------------

    def write_ticks(self, symbol: str, ticks: np.ndarray) -> WriteResult:
        """Merge ticks (any structured array with time_msc, bid, ask, flags) into the store."""
        return self._write(TICKS, symbol, _coerce(ticks, TICKS))

    def write_bars(self, symbol: str, bars: np.ndarray) -> WriteResult:
        """Merge M1 bars (``BAR_DTYPE`` fields) into the store; a stored bar is never replaced."""
        return self._write(BARS, symbol, _coerce(bars, BARS))

    def _write(self, kind: str, symbol: str, rows: np.ndarray) -> WriteResult:
        time_col = _TIME_COLUMN[kind]
        if len(rows) == 0:
            return WriteResult(0, 0, 0)
        rows = rows[np.argsort(rows[time_col], kind="stable")]
        months = month_of_msc(rows[time_col] * _MS_PER_UNIT[kind])
        bounds = np.flatnonzero(np.diff(months)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(rows)]))
        directory = self.series_dir(kind, symbol)
        added = duplicates = 0
        written: list[Path] = []
        with self._series_locked(directory):
            for a, b in zip(starts, ends, strict=True):
                month = _month_name(int(months[a]))
                new, dup = self._merge_month(kind, symbol, month, rows[a:b])
                added += new
                duplicates += dup
                if new:
                    written.append(self._month_path(kind, symbol, month))
        return WriteResult(len(rows), added, duplicates, tuple(written))

    def _merge_month(self, kind: str, symbol: str, month: str, rows: np.ndarray) -> tuple[int, int]:
        """Merge sorted ``rows`` into one month; returns (rows added, duplicates dropped)."""
        time_col = _TIME_COLUMN[kind]
        batch = self._batches.get(self.series_dir(kind, symbol))
        if batch is None:
            self._drop_absorbed_parts(kind, symbol, month)
        parts = self._live_parts(kind, symbol, month)
        existing = self._read_month(kind, symbol, month, parts)
        fresh = self._new_rows(kind, existing, rows)
        if not fresh.any():
            return 0, len(rows)
        merged = np.concatenate([existing, rows[fresh]])
        merged = merged[np.argsort(merged[time_col], kind="stable")]
        self._replace_month(kind, symbol, month, merged, parts)
        return int(fresh.sum()), int((~fresh).sum())

    def _replace_month(
        self, kind: str, symbol: str, month: str, rows: np.ndarray, parts: list[Path]
    ) -> None:
        """Write a month's main file that includes ``parts``, then delete those parts.  The
        part names go into the file's metadata first, so a kill between the two steps leaves
        parts that every reader (and the next writer) knows to ignore."""
        main = self._month_path(kind, symbol, month)
        parts_dir = self.series_dir(kind, symbol) / f"{month}.parts"
        on_disk = {p.name for p in parts_dir.glob("*.parquet")} if parts_dir.is_dir() else set()
        names = sorted({p.name for p in parts} | (self._absorbed(main) & on_disk))
        metadata = {_META_ABSORBED: json.dumps(names).encode()} if names else None
        batch = self._batches.get(self.series_dir(kind, symbol))
        if batch is not None:
            batch.keep(main)
        write_atomic(_to_table(rows, kind, metadata), main)
        if batch is not None:
            return  # the batch deletes the absorbed parts when it ends well
        for part in parts:
            with contextlib.suppress(OSError):
                part.unlink()

    def _drop_absorbed_parts(self, kind: str, symbol: str, month: str) -> None:
        """Delete parts a previous (interrupted) merge already wrote into the main file."""
        parts_dir = self.series_dir(kind, symbol) / f"{month}.parts"
        if not parts_dir.is_dir():
            return
        absorbed = self._absorbed(self._month_path(kind, symbol, month))
        for part in parts_dir.glob("*.parquet"):
            if part.name in absorbed:
                with contextlib.suppress(OSError):
                    part.unlink()
        remove_stale_temps(parts_dir)

    @staticmethod
    def _new_rows(kind: str, existing: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Mask of ``rows`` the month does not hold yet (and not repeated within ``rows``
        for bars).  Only the overlapping time range of ``existing`` is compared."""
        time_col = _TIME_COLUMN[kind]
        t = rows[time_col]
        if kind == BARS:
            fresh = ~pd.Index(t).duplicated(keep="first")
            if len(existing):
                fresh &= ~np.isin(t, existing[time_col])
            return np.asarray(fresh)
        a = int(np.searchsorted(existing[time_col], t[0], "left"))
        b = int(np.searchsorted(existing[time_col], t[-1], "right"))
        overlap = existing[a:b]
        if len(overlap) == 0:
            return np.ones(len(rows), dtype=bool)
        keys_new = pd.DataFrame({"t": t, "bid": rows["bid"], "ask": rows["ask"]})
        keys_old = pd.DataFrame(
            {"t": overlap["time_msc"], "bid": overlap["bid"], "ask": overlap["ask"]}
        )
        keys_new["k"] = _occurrence(keys_new)
        keys_old["k"] = _occurrence(keys_old)
        held = pd.MultiIndex.from_frame(keys_old)
        return ~pd.MultiIndex.from_frame(keys_new).isin(held)

    def append_tick_part(self, symbol: str, ticks: np.ndarray) -> list[Path]:
        """Append ticks as new recorder parts (one atomic file per month touched).

        The caller guarantees the ticks are new (the recorder tracks what it has written);
        nothing is de-duplicated here, which keeps a flush O(batch), not O(month).
        """
        rows = _coerce(ticks, TICKS)
        if len(rows) == 0:
            return []
        rows = rows[np.argsort(rows["time_msc"], kind="stable")]
        months = month_of_msc(rows["time_msc"])
        written: list[Path] = []
        directory = self.series_dir(TICKS, symbol)
        for key in np.unique(months):
            chunk = rows[months == key]
            name = (
                f"{int(chunk['time_msc'][0]):015d}-{int(chunk['time_msc'][-1]):015d}-"
                f"{uuid.uuid4().hex[:8]}.parquet"
            )
            target = directory / f"{_month_name(int(key))}.parts" / name
            write_atomic(_to_table(chunk, TICKS), target)
            written.append(target)
        return written

    def compact(self, symbol: str) -> int:
        """Merge every month's recorder parts into its main file; returns parts absorbed."""
        directory = self.series_dir(TICKS, symbol)
        absorbed_total = 0
        with self._series_locked(directory):
            for month in self.months(TICKS, symbol):
                self._drop_absorbed_parts(TICKS, symbol, month)
                parts = self._live_parts(TICKS, symbol, month)
                if parts:
                    merged = self._read_month(TICKS, symbol, month, parts)
                    self._replace_month(TICKS, symbol, month, merged, parts)
                    absorbed_total += len(parts)
        return absorbed_total

    def time_range(self, kind: str, symbol: str) -> tuple[int, int] | None:
        """(first, last) stored time in UTC ms, from Parquet statistics (no data read)."""
        months = self.months(kind, symbol)
        if not months:
            return None
        unit = _MS_PER_UNIT[kind]
        low = self._month_bound(kind, symbol, months[0], first=True)
        high = self._month_bound(kind, symbol, months[-1], first=False)
        if low is None or high is None:
            return None
        return low * unit, high * unit

    def _month_bound(self, kind: str, symbol: str, month: str, *, first: bool) -> int | None:
        files = [self._month_path(kind, symbol, month)]
        files = [f for f in files if f.is_file()] + self._live_parts(kind, symbol, month)
        values: list[int] = []
        for path in files:
            try:
                values.extend(self._file_bounds(path, kind, first=first))
            except FileNotFoundError:
                continue  # a part absorbed by a compaction meanwhile: the main file has it
            except (OSError, pa.ArrowException) as exc:
                raise _unreadable(path, exc) from exc
        if not values:
            return None
        return min(values) if first else max(values)

    @staticmethod
    def _file_bounds(path: Path, kind: str, *, first: bool) -> list[int]:
        """The first (or last) time of each row group, from the statistics when present."""
        meta = pq.ParquetFile(path).metadata
        values: list[int] = []
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(0).statistics
            if stats is None or not stats.has_min_max:
                column = pq.read_table(path, columns=[_TIME_COLUMN[kind]]).column(0)
                return [*values, int((min if first else max)(column.to_numpy()))]
            values.append(int(stats.min if first else stats.max))
        return values

    # -- inventory -----------------------------------------------------------------------

    def inventory(self, max_gap_minutes: float = 60.0) -> list[SeriesInfo]:
        """Every stored series with its range, count and gaps (derived by scanning the files:
        there is no manifest to fall out of date), one month in memory at a time."""
        result: list[SeriesInfo] = []
        for kind in (TICKS, BARS):
            for symbol in self.symbols(kind):
                result.append(self.series_info(kind, symbol, max_gap_minutes))
        return result

    def series_info(self, kind: str, symbol: str, max_gap_minutes: float = 60.0) -> SeriesInfo:
        time_col = _TIME_COLUMN[kind]
        unit = _MS_PER_UNIT[kind]
        months = self.months(kind, symbol)
        times: list[np.ndarray] = []
        for month in months:
            rows = self._read_month(kind, symbol, month)
            if len(rows):
                times.append(rows[time_col].astype(np.int64) * unit)
        all_times = np.concatenate(times) if times else np.empty(0, np.int64)
        step = 60_000 if kind == BARS else 0
        return SeriesInfo(
            kind=kind,
            symbol=symbol,
            count=len(all_times),
            first_msc=int(all_times[0]) if len(all_times) else None,
            last_msc=int(all_times[-1]) if len(all_times) else None,
            months=tuple(months),
            gaps=tuple(find_gaps(all_times, max_gap_minutes, step)),
        )


# --------------------------------------------------------------------------------------------
# Ticks -> M1


def ticks_to_m1(ticks: np.ndarray) -> np.ndarray:
    """M1 bars (``BAR_DTYPE``) of one symbol's time-ordered ticks: bid OHLC per UTC minute,
    ``spread`` the mean ask-bid of the minute's ticks, ``tick_volume`` the tick count.
    Minutes without ticks have no bar (as in MT5 and HistData)."""
    if len(ticks) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    minute = ticks["time_msc"] // 60_000
    starts = np.concatenate(([0], np.flatnonzero(np.diff(minute)) + 1))
    ends = np.concatenate((starts[1:], [len(ticks)]))
    bid = np.asarray(ticks["bid"], dtype=np.float64)
    spread = np.asarray(ticks["ask"], dtype=np.float64) - bid
    bars = np.empty(len(starts), dtype=BAR_DTYPE)
    bars["time"] = minute[starts] * 60
    bars["open"] = bid[starts]
    bars["high"] = np.maximum.reduceat(bid, starts)
    bars["low"] = np.minimum.reduceat(bid, starts)
    bars["close"] = bid[ends - 1]
    counts = ends - starts
    bars["tick_volume"] = counts
    bars["spread"] = np.add.reduceat(spread, starts) / counts
    return bars
