"""The file formats the importers read: detection by content, and one block parser each.

- ``mt5`` bars: header ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>``
  (tab-separated; ``YYYY.MM.DD``, ``HH:MM:SS``; spread in points);
- ``mt5`` ticks: header ``<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>`` (an empty field
  means "unchanged since the previous tick");
- ``histdata`` M1 bars: no header, ``20190101 170200;1.145980;1.145990;1.145980;1.145980;0``;
- ``dukascopy`` ticks: header ``time_utc,bid,ask[,bid_volume,ask_volume]``.

MT5 exports are in broker server time and are converted with the given server clock; the
others are UTC (HistData: EST without DST, converted by :mod:`storage.histdata`).  A parser
keeps state across blocks (the last bid/ask for MT5's empty "unchanged" fields, the latest
time for the backwards check) and returns only good rows plus the reason of every bad one.
Besides the format's own defects, a row is bad when a value cannot be real
(``storage.plausible``): a date outside 1970-2099 UTC after the clock conversion, a price
outside 1e-8 .. 1e8 (``inf``, ``1e308``, ``1e400``), a volume, spread or flags value that is
not a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import UserError
from engine.ticks import BAR_DTYPE
from mt5bridge.servertime import ServerTimeZone
from storage.histdata import histdata_symbol
from storage.importers.fields import (
    EMPTY,
    OK,
    Reasons,
    count_decimals,
    parse_date_time,
    parse_iso_or_epoch,
    parse_numbers,
    split_fields,
)
from storage.importers.textfile import LineBlock
from storage.marketdata import BARS, STORE_TICK_DTYPE, TICKS
from storage.plausible import LAST_DAY, price_problems, time_problems_ms

__all__ = [
    "DUKASCOPY",
    "FORMATS",
    "HISTDATA",
    "IMPORTED_FORMATS",
    "MT5",
    "BlockParser",
    "DetectedFormat",
    "ParsedBlock",
    "detect_format",
    "make_parser",
    "symbol_from_file_name",
    "unrecognised_format",
]

MT5, HISTDATA, DUKASCOPY = "mt5", "histdata", "dukascopy"
FORMATS = (MT5, HISTDATA, DUKASCOPY)

_MT5_BAR_COLUMNS = ("<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>", "<TICKVOL>")
_MT5_TICK_COLUMNS = ("<DATE>", "<TIME>", "<BID>", "<ASK>")
_HISTDATA_LINE = re.compile(r"^\d{8} \d{6};")
_DUKASCOPY_TIME = ("time_utc", "timestamp", "time", "datetime", "date_time", "gmt time")
_DUKASCOPY_BID = ("bid", "bidprice", "bid_price")
_DUKASCOPY_ASK = ("ask", "askprice", "ask_price")
_MT5_TIMEFRAME = re.compile(r"_(M\d+|H\d+|D1|W1|MN1?)_", re.IGNORECASE)
_TICK_FLAG_BID, _TICK_FLAG_ASK = 0x02, 0x04
#: Tick flags are a uint32 bit set; a volume is a count (exact in a float up to 2**53); a
#: spread in points is a count too, and 1e6 points (10 units of a 5-digit quote) is wider
#: than any real spread.
_MAX_FLAGS = 2**32 - 1
_MAX_COUNT = 2**53
_MAX_SPREAD_POINTS = 1e6


@dataclass(frozen=True)
class DetectedFormat:
    """What the first line of a file says it is."""

    format: str
    kind: str
    header: tuple[str, ...] = ()
    separator: str = "\t"

    @property
    def description(self) -> str:
        names = {MT5: "MT5 export", HISTDATA: "HistData M1", DUKASCOPY: "Dukascopy CSV"}
        return f"{names[self.format]} ({'M1 bars' if self.kind == BARS else 'ticks'})"


def detect_format(path: Path, lines: list[str]) -> DetectedFormat:
    """The format of a file from its first lines; a :class:`UserError` when unknown."""
    first = next((line for line in lines if line.strip()), "")
    stripped = first.strip()
    if stripped.upper().startswith("<DATE>"):
        separator = "\t" if "\t" in stripped else ","
        header = tuple(c.strip().upper() for c in stripped.split(separator))
        if all(c in header for c in _MT5_TICK_COLUMNS):
            return DetectedFormat(MT5, TICKS, header, separator)
        if all(c in header for c in _MT5_BAR_COLUMNS if c != "<TIME>"):
            return DetectedFormat(MT5, BARS, header, separator)
    if _HISTDATA_LINE.match(stripped):
        return DetectedFormat(HISTDATA, BARS, (), ";")
    if "," in stripped:
        header = tuple(c.strip().lower() for c in stripped.split(","))
        has = set(header)
        if (has & set(_DUKASCOPY_TIME) and has & set(_DUKASCOPY_BID)
                and has & set(_DUKASCOPY_ASK)):
            return DetectedFormat(DUKASCOPY, TICKS, header, ",")
    raise UserError(unrecognised_format(path, lines))


#: What the importers read, as the refusal of any other file says it.
IMPORTED_FORMATS = ("an MT5 bars or ticks export, a HistData M1 file or a Dukascopy CSV "
                    "(time_utc,bid,ask,...)")


def unrecognised_format(path: Path, lines: list[str], expected: str = IMPORTED_FORMATS) -> str:
    """The refusal of a file whose first line is no format the reader knows: the file, that
    line (so the trader sees at once it is a calendar, a daily table or nothing at all) and
    ``expected``, what the refusing reader does read (a command that reads HistData files
    only must not offer the importers' other formats)."""
    first = next((line for line in lines if line.strip()), "").strip()
    shown = first[:80] if first else "(empty file)"
    return f"{path}: unrecognised format (first line {shown!r}); expected {expected}"


def _utc_text(msc: int) -> str:
    return f"{pd.Timestamp(int(msc), unit='ms', tz='UTC'):%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC"


#: MT5's export names: ``<SYMBOL>[_<TIMEFRAME>]_<from>_<to>.csv`` with 12-digit stamps; the
#: symbol may hold underscores (a futures CFD: ``SPXUSD_Z19_M1_...``, ``SPXUSD_M20_M1_...``).
#: Only MT5's own timeframes count as one, so ``XAUUSD_H20_<from>_<to>`` is the ticks of the
#: contract ``XAUUSD_H20``; ``..._M20_<from>_<to>`` reads as M20 bars (``--symbol`` decides).
_MT5_EXPORT_NAME = re.compile(
    r"^(?P<symbol>[A-Za-z0-9.#_]+?)"
    r"(?:_(?P<tf>M(?:[1-6]|1[025]|20|30)|H(?:[1-468]|12)|D1|W1|MN1?))?_\d{12}_\d{12}$",
    re.IGNORECASE)


def symbol_from_file_name(path: Path, fmt: str) -> str | None:
    """The symbol the usual file names carry: ``DAT_ASCII_EURUSD_M1_2019.csv`` (HistData),
    ``EURUSD_M1_202401020000_202403010000.csv`` (MT5: everything before the timeframe and
    the two stamps, so ``SPXUSD_Z19_M1_...`` is the futures CFD ``SPXUSD_Z19``),
    ``EURUSD_ticks_....csv.gz``."""
    if fmt == HISTDATA:
        return histdata_symbol(path)
    name = path.name.split(".csv")[0]
    export = _MT5_EXPORT_NAME.match(name)
    if export is not None:
        return export["symbol"].upper()
    token = name.split("_")[0] if "_" in name else ""
    return token.upper() if re.fullmatch(r"[A-Za-z0-9.#]{3,32}", token) else None


def mt5_timeframe_from_name(path: Path) -> str | None:
    export = _MT5_EXPORT_NAME.match(path.name.split(".csv")[0])
    if export is not None:
        return export["tf"].upper() if export["tf"] else None
    match = _MT5_TIMEFRAME.search(path.name)
    return match.group(1).upper() if match else None


# --------------------------------------------------------------------------------------------
# Block parsers


@dataclass
class ParsedBlock:
    """The good rows of a block (store dtype) and the bad ones with their reasons."""

    rows: np.ndarray
    bad_lines: np.ndarray
    bad_reasons: np.ndarray
    duplicates: int = 0
    rows_read: int = 0


@dataclass
class BlockParser:
    """Base: line numbers, blank lines and field splitting shared by every format."""

    path: Path
    detected: DetectedFormat
    latest: int = field(default=np.iinfo(np.int64).min)

    def _fields(self, block: LineBlock) -> tuple[list[pa.Array], np.ndarray, Reasons]:
        """Split a block; returns columns, line numbers and reasons with the field-count
        ones filled.  Blank lines are dropped (they are not rows)."""
        lines = block.lines
        numbers = np.arange(block.first_line, block.first_line + len(lines), dtype=np.int64)
        if block.first_line == 1 and self.detected.header:
            lines, numbers = lines.slice(1), numbers[1:]
        lengths = pc.utf8_length(pc.utf8_trim_whitespace(lines)).to_numpy(zero_copy_only=False)
        blank = lengths == 0
        if blank.any():
            lines = pc.filter(lines, pa.array(~blank))
            numbers = numbers[~blank]
        expected = len(self.detected.header)
        columns, counts = split_fields(lines, self.detected.separator, expected)
        reasons = Reasons.for_rows(len(numbers))
        short = counts < expected
        if short.any():
            reasons.mark(short, np.array(
                [f"truncated line ({c} of {expected} fields)" for c in counts], dtype=object))
        long = counts > expected
        if long.any():
            reasons.mark(long, np.array(
                [f"too many fields ({c}, expected {expected})" for c in counts], dtype=object))
        return columns, numbers, reasons

    def column(self, columns: list[pa.Array], name: str) -> pa.Array:
        return columns[self.detected.header.index(name)]

    def _order_check(self, times: np.ndarray, reasons: Reasons) -> np.ndarray:
        """Mark rows earlier than a row already accepted (never silently re-sorted); returns
        the mask of good rows stamped exactly like the latest accepted one."""
        good = ~reasons.bad
        lowest = np.iinfo(np.int64).min
        running = np.maximum.accumulate(np.where(good, times, lowest))
        previous = np.maximum(np.concatenate(([lowest], running[:-1])), self.latest)
        backwards = good & (times < previous)
        if backwards.any():
            texts = np.full(len(times), None, dtype=object)
            for i in np.flatnonzero(backwards):
                texts[i] = (
                    f"time goes backwards ({_utc_text(times[i])} after {_utc_text(previous[i])})"
                )
            reasons.mark(backwards, texts)
        good = ~reasons.bad
        if good.any():
            self.latest = max(self.latest, int(times[good].max()))
        return good & (times == previous)

    def _result(self, rows: np.ndarray, numbers: np.ndarray, reasons: Reasons,
                duplicates: np.ndarray | None = None) -> ParsedBlock:
        bad = reasons.bad
        keep = ~bad if duplicates is None else ~bad & ~duplicates
        return ParsedBlock(
            rows=rows[keep],
            bad_lines=numbers[bad],
            bad_reasons=reasons.reason[bad],
            duplicates=0 if duplicates is None else int((duplicates & ~bad).sum()),
            rows_read=len(numbers),
        )

    def parse(self, block: LineBlock) -> ParsedBlock:  # pragma: no cover - abstract
        raise NotImplementedError


def _check_prices(reasons: Reasons, **prices: np.ndarray) -> None:
    """NaN, non-positive and implausible prices (``storage.plausible``: inf, 1e308, ...)."""
    matrix = np.column_stack(list(prices.values()))
    reasons.mark(np.isnan(matrix).any(axis=1), "NaN price")
    reasons.mark((matrix <= 0).any(axis=1), "zero or negative price")
    wild, texts = price_problems(matrix)
    reasons.mark(wild, texts)


def _check_times(utc_ms: np.ndarray, reasons: Reasons) -> None:
    """Stamps outside the plausible dates (1970 .. 2099 UTC) after any clock conversion."""
    early, late = time_problems_ms(utc_ms)
    reasons.mark(early, "date before 1970")
    reasons.mark(late, f"date after {LAST_DAY.year}")


def _check_counts(reasons: Reasons, name: str, values: np.ndarray, status: np.ndarray,
                  limit: float) -> None:
    """A count-like field (volume, spread in points, flags): a whole number in [0, limit]."""
    given = status == OK
    with np.errstate(invalid="ignore"):
        wrong = given & ~((values >= 0) & (values <= limit) & (values == np.floor(values)))
    reasons.mark(wrong, f"{name} out of range")


@dataclass
class Mt5TickParser(BlockParser):
    """MT5 tick export: empty BID/ASK mean "unchanged" and are carried forward (also across
    blocks); a tick before any bid (or ask) has been seen cannot be completed and is bad."""

    server_time: ServerTimeZone = field(default_factory=ServerTimeZone)
    last_bid: float = np.nan
    last_ask: float = np.nan

    def parse(self, block: LineBlock) -> ParsedBlock:
        columns, numbers, reasons = self._fields(block)
        msc, time_ok = parse_date_time(
            self.column(columns, "<DATE>"), self.column(columns, "<TIME>"), "."
        )
        reasons.mark(~time_ok, "bad date/time")
        bid, bid_status = parse_numbers(self.column(columns, "<BID>"))
        ask, ask_status = parse_numbers(self.column(columns, "<ASK>"))
        reasons.mark_status(bid_status, self.column(columns, "<BID>"), "bid")
        reasons.mark_status(ask_status, self.column(columns, "<ASK>"), "ask")
        flags = np.where(bid_status == OK, _TICK_FLAG_BID, 0) | np.where(
            ask_status == OK, _TICK_FLAG_ASK, 0
        )
        if "<FLAGS>" in self.detected.header:
            given, given_status = parse_numbers(self.column(columns, "<FLAGS>"))
            _check_counts(reasons, "flags", given, given_status, _MAX_FLAGS)
            flags = np.where((given_status == OK) & ~reasons.bad, given, flags)
        # Carry forward only from rows that are not bad, and across blocks.
        usable = ~reasons.bad
        bid = _carry_forward(np.where(usable & (bid_status == OK), bid, np.nan), self.last_bid)
        ask = _carry_forward(np.where(usable & (ask_status == OK), ask, np.nan), self.last_ask)
        reasons.mark(np.isnan(bid), "no bid yet (empty field before any bid)")
        reasons.mark(np.isnan(ask), "no ask yet (empty field before any ask)")
        _check_prices(reasons, bid=bid, ask=ask)
        reasons.mark(bid > ask, "crossed quote (bid > ask)")
        utc = self.server_time.to_utc_ms_array(msc)
        _check_times(np.where(time_ok, utc, 0), reasons)
        self._order_check(utc, reasons)
        good = ~reasons.bad
        if good.any():
            last = np.flatnonzero(good)[-1]
            self.last_bid, self.last_ask = float(bid[last]), float(ask[last])
        rows = np.empty(len(numbers), dtype=STORE_TICK_DTYPE)
        rows["time_msc"], rows["bid"], rows["ask"] = utc, bid, ask
        rows["flags"] = flags.astype(np.uint32)
        return self._result(rows, numbers, reasons)


def _carry_forward(values: np.ndarray, initial: float) -> np.ndarray:
    """NaN entries take the last non-NaN value before them (``initial`` before the first)."""
    if not np.isnan(values).any():
        return values
    filled = np.concatenate(([initial], values))
    index = np.where(np.isnan(filled), 0, np.arange(len(filled)))
    np.maximum.accumulate(index, out=index)
    return filled[index][1:]


@dataclass
class Mt5BarParser(BlockParser):
    """MT5 bar export (M1 only).  SPREAD is in points; ``point`` converts it to price units
    (taken from the number of decimals the prices are written with when not given)."""

    server_time: ServerTimeZone = field(default_factory=ServerTimeZone)
    point: float | None = None

    def parse(self, block: LineBlock) -> ParsedBlock:
        columns, numbers, reasons = self._fields(block)
        header = self.detected.header
        time_column = (
            self.column(columns, "<TIME>") if "<TIME>" in header
            else pa.array(["00:00:00"] * len(numbers))
        )
        msc, time_ok = parse_date_time(self.column(columns, "<DATE>"), time_column, ".")
        reasons.mark(~time_ok, "bad date/time")
        prices: dict[str, np.ndarray] = {}
        for name in ("open", "high", "low", "close"):
            column = self.column(columns, f"<{name.upper()}>")
            values, status = parse_numbers(column)
            reasons.mark_status(status, column, name)
            reasons.mark(status == EMPTY, f"missing {name}")
            prices[name] = values
            if self.point is None and name == "close" and len(column):
                self.point = 10.0 ** -count_decimals(column)
        extras: dict[str, np.ndarray] = {}
        for name, tag, limit in (("tick_volume", "<TICKVOL>", _MAX_COUNT),
                                 ("spread", "<SPREAD>", _MAX_SPREAD_POINTS)):
            if tag in header:
                values, status = parse_numbers(self.column(columns, tag))
                reasons.mark_status(status, self.column(columns, tag), name)
                _check_counts(reasons, name.replace("_", " "), values, status, limit)
                extras[name] = values
        _check_prices(reasons, **prices)
        o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
        reasons.mark(h < np.maximum(o, c), "high below max(open, close)")
        reasons.mark(lo > np.minimum(o, c), "low above min(open, close)")
        utc = self.server_time.to_utc_ms_array(msc)
        _check_times(np.where(time_ok, utc, 0), reasons)
        seconds = utc // 1000
        duplicates = self._bar_order(seconds, reasons)
        rows = np.empty(len(numbers), dtype=BAR_DTYPE)
        rows["time"] = seconds
        for name, values in prices.items():
            rows[name] = values
        volume = extras.get("tick_volume", np.zeros(len(numbers)))
        rows["tick_volume"] = np.where(reasons.bad, 0, np.nan_to_num(volume)).astype(np.int64)
        spread = extras.get("spread", np.full(len(numbers), np.nan))
        rows["spread"] = spread * (self.point or 0.0)
        return self._result(rows, numbers, reasons, duplicates)

    def _bar_order(self, seconds: np.ndarray, reasons: Reasons) -> np.ndarray:
        """A bar stamped like the latest accepted one is a duplicate (the first is kept); an
        earlier stamp is a bad row.  The first block also proves the file is M1."""
        if self.latest == np.iinfo(np.int64).min:
            steps = np.diff(np.unique(seconds[~reasons.bad]))
            if len(steps) >= 10 and steps.min() > 60:
                raise UserError(
                    f"{self.path}: not M1 bars (the shortest step between bars is "
                    f"{int(steps.min()) // 60} minutes); only M1 bars can be imported"
                )
        return self._order_check(seconds * 1000, reasons)


@dataclass
class DukascopyTickParser(BlockParser):
    """Dukascopy-style CSV: UTC ``YYYY-MM-DD HH:MM:SS.mmm`` (or epoch ms), bid, ask, volumes
    ignored.  Every tick carries both quotes (flags BID|ASK)."""

    @property
    def names(self) -> tuple[str, str, str]:
        """The header's names of the time, bid and ask columns."""
        header = self.detected.header
        return (next(n for n in header if n in _DUKASCOPY_TIME),
                next(n for n in header if n in _DUKASCOPY_BID),
                next(n for n in header if n in _DUKASCOPY_ASK))

    def parse(self, block: LineBlock) -> ParsedBlock:
        columns, numbers, reasons = self._fields(block)
        time_name, bid_name, ask_name = self.names
        msc, time_ok = parse_iso_or_epoch(self.column(columns, time_name))
        reasons.mark(~time_ok, "bad timestamp")
        quotes: dict[str, np.ndarray] = {}
        for label, name in (("bid", bid_name), ("ask", ask_name)):
            column = self.column(columns, name)
            values, status = parse_numbers(column)
            reasons.mark_status(status, column, label)
            reasons.mark(status == EMPTY, f"missing {label}")
            quotes[label] = values
        return self.checked(msc, time_ok, quotes, numbers, reasons)

    def checked(self, msc: np.ndarray, time_ok: np.ndarray, quotes: dict[str, np.ndarray],
                numbers: np.ndarray, reasons: Reasons) -> ParsedBlock:
        """The checks of parsed rows (the block parser's, and the C parser's of
        ``storage.importers.wholefile``): prices, crossed quotes, dates, order."""
        _check_prices(reasons, **quotes)
        reasons.mark(quotes["bid"] > quotes["ask"], "crossed quote (bid > ask)")
        _check_times(np.where(time_ok, msc, 0), reasons)
        self._order_check(msc, reasons)
        rows = np.empty(len(numbers), dtype=STORE_TICK_DTYPE)
        rows["time_msc"], rows["bid"], rows["ask"] = msc, quotes["bid"], quotes["ask"]
        rows["flags"] = _TICK_FLAG_BID | _TICK_FLAG_ASK
        return self._result(rows, numbers, reasons)


def make_parser(
    path: Path, detected: DetectedFormat, server_time: ServerTimeZone | None
) -> BlockParser:
    """The block parser of a detected (non-HistData) format."""
    if detected.format == MT5:
        if server_time is None:
            raise UserError(
                f"{path}: MT5 exports are stamped in broker server time; give the server "
                "clock with --server-offset (hours, e.g. 2, or 'us-dst' for GMT+2/+3 "
                "following US daylight saving time)"
            )
        if detected.kind == TICKS:
            return Mt5TickParser(path, detected, server_time=server_time)
        timeframe = mt5_timeframe_from_name(path)
        if timeframe not in (None, "M1"):
            raise UserError(f"{path}: {timeframe} bars; only M1 bars can be imported")
        return Mt5BarParser(path, detected, server_time=server_time)
    if detected.format == DUKASCOPY:
        return DukascopyTickParser(path, detected)
    raise ValueError(f"no block parser for {detected.format}")
