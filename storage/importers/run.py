"""Importing one file into the market-data store, with a summary of what happened.

A file is detected by content, parsed block by block (memory bounded by a block plus one
month of rows), validated, and merged into the store month by month.  Bad rows are skipped
and counted by reason (``strict`` stops at the first, naming ``file:line``); rows the store
already holds are counted as duplicates, so re-importing a file adds nothing.

A file lands whole or not at all: the months are merged inside one store batch, which a
failure half-way (a damaged gzip stream, a line too long, a bad row under ``strict``) rolls
back; and a file none of whose rows is usable is an error, not an import of nothing.  A
command importing several files holds all their series' batches around the imports
(``MarketDataStore.batches``), so they land together too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError, UserError
from mt5bridge.servertime import ServerTimeZone
from storage.histdata import MAX_PROBLEMS, read_histdata_m1, reason_category
from storage.importers.formats import (
    HISTDATA,
    DetectedFormat,
    ParsedBlock,
    detect_format,
    make_parser,
    symbol_from_file_name,
)
from storage.importers.textfile import BLOCK_CHARS, first_lines, iter_line_blocks
from storage.importers.wholefile import whole_file_blocks
from storage.marketdata import BARS, TICKS, MarketDataStore, month_of_msc

__all__ = [
    "ImportSummary",
    "UnknownSymbol",
    "detect_file",
    "import_file",
    "iter_parsed_blocks",
    "parse_server_time",
    "resolve_symbol",
]

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of importing one file.

    ``rows_read`` counts data lines; each is ``imported`` (new in the store), a duplicate
    (repeated in the file, or already stored) or skipped as bad (``skipped`` by reason).
    """

    path: Path
    format: str
    kind: str
    symbol: str
    rows_read: int
    imported: int
    duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    first_msc: int | None = None
    last_msc: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def line(self) -> str:
        """One line for the terminal."""
        span = ""
        if self.first_msc is not None and self.last_msc is not None:
            first = pd.Timestamp(self.first_msc, unit="ms", tz="UTC")
            last = pd.Timestamp(self.last_msc, unit="ms", tz="UTC")
            span = f", {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC"
        text = (
            f"{self.path.name}: {self.format}, {self.symbol}: {self.rows_read} rows read, "
            f"{self.imported} imported, {self.duplicates} duplicates, "
            f"{self.skipped_total} skipped{span}"
        )
        if self.skipped:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items()))
            text += f" (skipped: {reasons})"
        return text


#: The UTC offsets civil time uses, in hours: UTC-12 (Baker Island) to UTC+14 (Line Islands),
#: each a whole quarter hour (Nepal +5:45).  A broker's server clock is one of them (most run
#: at +2/+3); anything else is a typo, and one (1e9) once wrote a partition named -112061-08.
SERVER_OFFSET_HOURS = (-12.0, 14.0)


def _offset_hours(text: str, value: str) -> float:
    hours = float(value)
    low, high = SERVER_OFFSET_HOURS
    if not (low <= hours <= high) or hours * 4 != int(hours * 4):
        raise UserError(
            f"--server-offset {text!r}: {value.strip()} hours is not a server clock; it must "
            f"be between {low:+g} and {high:+g} hours, in whole quarter hours"
        )
    return hours


def parse_server_time(text: str | None) -> ServerTimeZone | None:
    """``--server-offset``: hours (``2``, ``-5``, ``5.5``), ``us-dst`` (GMT+2 winter, +3 during
    US DST, the common retail FX server) or ``W/S`` (e.g. ``2/3``) for other DST pairs.

    Every offset must be a real UTC offset (``SERVER_OFFSET_HOURS``, whole quarter hours), so
    a typo is refused before anything is read or written.
    """
    if text is None:
        return None
    value = text.strip().lower()
    try:
        if value in {"us-dst", "usdst", "dst", "auto-dst"}:
            return ServerTimeZone.us_dst()
        if "/" in value:
            winter, summer = value.split("/", 1)
            return ServerTimeZone.us_dst(_offset_hours(text, winter), _offset_hours(text, summer))
        return ServerTimeZone.fixed(_offset_hours(text, value))
    except ValueError as exc:
        raise UserError(
            f"--server-offset {text!r}: expected hours (e.g. 2), 'us-dst' or winter/summer "
            "hours such as 2/3"
        ) from exc


def detect_file(path: Path, fmt: str = "auto") -> DetectedFormat:
    """Detect a file's format; ``fmt`` other than ``auto`` must agree with the content."""
    lines, _ = first_lines(path)
    detected = detect_format(path, lines)
    if fmt not in ("auto", detected.format):
        raise UserError(f"{path}: --format {fmt} given, but the file is a {detected.description}")
    return detected


class UnknownSymbol(UserError):
    """A file whose name carries no symbol.  The message says how to name the file, which
    every command can act on; the commands that take ``--symbol`` add that option (backtest
    and replay have none, and told the user to give it)."""

    def with_option(self, option: str = "--symbol") -> UserError:
        return UserError(f"{self}, or give {option}")


def resolve_symbol(path: Path, detected: DetectedFormat, symbol: str | None) -> str:
    if symbol:
        return symbol.upper()
    from_name = symbol_from_file_name(path, detected.format)
    if from_name is None:
        usual = ("DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz]" if detected.format == HISTDATA
                 else "<SYMBOL>_..., e.g. EURUSD_M1_....csv or EURUSD_ticks.csv.gz")
        raise UnknownSymbol(f"{path}: cannot tell the symbol from the file name; "
                            f"rename the file {usual}")
    return from_name


def iter_parsed_blocks(
    path: Path,
    detected: DetectedFormat,
    server_time: ServerTimeZone | None,
    *,
    strict: bool = False,
    block_chars: int = BLOCK_CHARS,
    progress: ProgressCallback | None = None,
) -> Iterator[ParsedBlock]:
    """Parsed blocks of a delimited file (MT5 or Dukascopy), good rows in time order.

    ``strict`` raises :class:`DataError` naming ``file:line`` at the first bad row.  A clean
    Dukascopy file of a reasonable size is parsed whole by the C parser (``wholefile``), as
    one block; any other file streams through the block parser.
    """
    parser = make_parser(path, detected, server_time)
    # The C parser on the whole file when it is clean enough; a caller asking for blocks
    # smaller than the default asks for bounded memory, and streams.
    whole = whole_file_blocks(path, parser) if block_chars >= BLOCK_CHARS else None
    blocks = whole if whole is not None else (
        parser.parse(block) for block in iter_line_blocks(path, block_chars, progress))
    for parsed in blocks:
        if strict and len(parsed.bad_lines):
            raise DataError(f"{path}:{parsed.bad_lines[0]}: {parsed.bad_reasons[0]}")
        yield parsed
    if whole is not None and progress is not None:
        size = path.stat().st_size
        progress(size, size)


def check_file(path: Path, kind: str | None = None, *, fmt: str = "auto",
               symbol: str | None = None) -> tuple[DetectedFormat, str]:
    """What ``import_file`` checks before reading a row: the format from the content (and
    ``kind``, ``fmt`` agreeing with it) and the symbol.  A command importing several files
    checks them all first, so a file that is not what it should be is refused before any
    other is imported."""
    detected = detect_file(path, fmt)
    if kind is not None and kind != detected.kind:
        wanted = "ticks" if kind == TICKS else "bars"
        actual = "ticks" if detected.kind == TICKS else "bars"
        raise UserError(
            f"{path}: this is a {detected.description} file; use 'import {actual}', "
            f"not 'import {wanted}'"
        )
    return detected, resolve_symbol(path, detected, symbol)


def import_file(
    path: str | Path,
    store: MarketDataStore,
    kind: str | None = None,
    *,
    fmt: str = "auto",
    server_time: ServerTimeZone | None = None,
    symbol: str | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    block_chars: int = BLOCK_CHARS,
    window: tuple[int, int] | None = None,
) -> ImportSummary:
    """Import one file of ticks or M1 bars into ``store``.

    ``kind`` (``"ticks"`` or ``"bars_m1"``), when given, must match the file's content.
    ``server_time`` is required for MT5 exports (their stamps are broker server time) and
    ignored for the UTC formats.  ``window`` (``[lo, hi)``, UTC ms): only the rows inside
    it are written (a backtest's scratch store holds its period and warm-up, not whole
    years); the summary still describes the whole file (rows read, first and last), and
    ``imported`` counts the rows written.

    The file lands whole or not at all (``MarketDataStore.batch``): an error half-way (a
    damaged gzip stream, a line too long, the first bad row under ``strict``) leaves the
    store as it was.  A file with rows none of which can be used is a :class:`DataError`
    naming the first bad row: importing it "successfully" would only hide the problem.
    """
    source = Path(path)
    detected, name = check_file(source, kind, fmt=fmt, symbol=symbol)
    with store.batch(detected.kind, name):
        if detected.format == HISTDATA:
            summary = _import_histdata(source, store, name, strict, progress, window)
        else:
            summary = _import_delimited(
                source, store, detected, name, server_time, strict, progress, block_chars,
                window,
            )
        _refuse_if_nothing_usable(summary)
    return summary


def _refuse_if_nothing_usable(summary: ImportSummary) -> None:
    if summary.rows_read == 0 or summary.skipped_total < summary.rows_read:
        return
    first = summary.problems[0] if summary.problems else str(summary.path)
    raise DataError(
        f"{first}; no row of the file is usable ({summary.rows_read} read, all rejected)"
    )


@dataclass
class _Tally:
    """What an import has done so far."""

    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    first: int | None = None
    last: int | None = None

    def add_bad(self, source: Path, parsed: ParsedBlock) -> None:
        for line, reason in zip(parsed.bad_lines, parsed.bad_reasons, strict=True):
            key = reason_category(reason)
            self.skipped[key] = self.skipped.get(key, 0) + 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(f"{source}:{line}: {reason}")


def _import_delimited(
    source: Path,
    store: MarketDataStore,
    detected: DetectedFormat,
    name: str,
    server_time: ServerTimeZone | None,
    strict: bool,
    progress: ProgressCallback | None,
    block_chars: int,
    window: tuple[int, int] | None,
) -> ImportSummary:
    """MT5 and Dukascopy files: parsed block by block, written a whole month at a time."""
    tally = _Tally()
    pending: list[np.ndarray] = []
    write = store.write_ticks if detected.kind == TICKS else store.write_bars
    time_field, to_ms = ("time_msc", 1) if detected.kind == TICKS else ("time", 1000)

    def flush(rows: np.ndarray) -> None:
        result = write(name, rows)
        tally.imported += result.added
        tally.duplicates += result.duplicates

    for parsed in iter_parsed_blocks(
        source, detected, server_time, strict=strict, block_chars=block_chars, progress=progress
    ):
        tally.rows_read += parsed.rows_read
        tally.duplicates += parsed.duplicates
        tally.add_bad(source, parsed)
        if len(parsed.rows):
            times = parsed.rows[time_field] * to_ms
            tally.first = int(times[0]) if tally.first is None else tally.first
            tally.last = int(times[-1])
            pending.append(parsed.rows if window is None else
                           parsed.rows[_inside(times, window)])
            # Write every month that is complete (rows arrive in time order).
            rows = np.concatenate(pending)
            if not len(rows):
                pending = []
                continue
            months = month_of_msc(rows[time_field] * to_ms)
            done = months < months[-1]
            if done.any():
                flush(rows[done])
                rows = rows[~done]
            pending = [rows]
    if pending and len(pending[0]):
        flush(np.concatenate(pending))
    return ImportSummary(
        path=source,
        format=detected.description,
        kind=detected.kind,
        symbol=name,
        rows_read=tally.rows_read,
        imported=tally.imported,
        duplicates=tally.duplicates,
        skipped=tally.skipped,
        first_msc=tally.first,
        last_msc=tally.last,
        problems=tally.problems,
    )


def _inside(times_ms: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """Which stamps (UTC ms) fall in ``window`` (``[lo, hi)``)."""
    return (times_ms >= window[0]) & (times_ms < window[1])


def _import_histdata(
    path: Path,
    store: MarketDataStore,
    symbol: str,
    strict: bool,
    progress: ProgressCallback | None,
    window: tuple[int, int] | None = None,
) -> ImportSummary:
    """HistData M1 files are read whole (a year is ~20 MB of text, well under a second)."""
    size = path.stat().st_size
    if progress is not None:
        progress(0, size)
    result = read_histdata_m1(path, symbol, strict=strict)
    bars = result.to_bar_array()
    if window is not None:
        bars = bars[_inside(bars["time"] * 1000, window)]
    written = store.write_bars(symbol, bars)
    if progress is not None:
        progress(size, size)
    return ImportSummary(
        path=path,
        format="HistData M1 (M1 bars)",
        kind=BARS,
        symbol=symbol,
        rows_read=result.rows_read,
        imported=written.added,
        duplicates=result.duplicates + written.duplicates,
        skipped=dict(result.bad_by_reason),
        first_msc=None if result.first_time is None else int(result.first_time.value // 10**6),
        last_msc=None if result.last_time is None else int(result.last_time.value // 10**6),
        problems=list(result.problems),
    )
