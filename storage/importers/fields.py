"""Vectorised field parsing for delimited text: split, numbers and date-times, with a status
per value so a parser can say *why* a row is bad (text in a number field, empty, NaN).

Everything runs on Arrow string arrays: a block of a million lines is parsed in a few tens of
milliseconds, and no per-row Python code runs unless a row is bad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "EMPTY",
    "NAN",
    "OK",
    "TEXT",
    "Reasons",
    "count_decimals",
    "parse_date_time",
    "parse_iso_or_epoch",
    "parse_numbers",
    "split_fields",
]

#: Value status codes returned by :func:`parse_numbers`.
OK, EMPTY, TEXT, NAN = 0, 1, 2, 3

#: A decimal number, or an infinity written out: ``inf`` is a number (an implausible one,
#: which the range checks of ``storage.plausible`` then name as such), not text.
_NUMBER = r"^[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|(?i:inf|infinity))$"
_NAN_WORD = r"^[-+]?(?i:nan)$"


def split_fields(lines: pa.Array, sep: str, expected: int) -> tuple[list[pa.Array], np.ndarray]:
    """The ``expected`` fields of every line and each line's actual field count.

    Lines with another count get empty fields here; the caller reports them by count.
    """
    lists = pc.split_pattern(lines, sep)
    counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    wrong = counts != expected
    if wrong.any():
        fixed = pc.if_else(pa.array(~wrong), lines, sep * (expected - 1))
        lists = pc.split_pattern(fixed, sep)
    return [pc.list_element(lists, i) for i in range(expected)], counts


def parse_numbers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Float values and a status per value (``OK``, ``EMPTY``, ``TEXT``, ``NAN``).

    Values with status ``OK`` are numbers (``inf`` and ``1e400`` included: the caller
    checks their range); the others are NaN.
    """
    trimmed = pc.utf8_trim_whitespace(column)
    ok = pc.match_substring_regex(trimmed, _NUMBER).to_numpy(zero_copy_only=False)
    values = pc.cast(pc.if_else(pa.array(ok), trimmed, "0"), pa.float64()).to_numpy(
        zero_copy_only=False
    ).copy()
    status = np.zeros(len(values), dtype=np.int8)
    if not ok.all():
        empty = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
        nan_word = pc.match_substring_regex(trimmed, _NAN_WORD).to_numpy(zero_copy_only=False)
        status[~ok] = TEXT
        status[~ok & empty] = EMPTY
        status[~ok & nan_word] = NAN
        values[~ok] = np.nan
    return values, status


def _fixed_width_digits(column: pa.Array, width: int) -> np.ndarray:
    """An (n, width) matrix of the characters of a column whose strings all have ``width``
    ASCII characters, minus ``ord('0')`` (uint8): digits become their values, anything else a
    value above 9, without a Python loop."""
    column = pa.concat_arrays([column.cast(pa.string())]) if len(column) else column
    n = len(column)
    if n == 0:
        return np.empty((0, width), dtype=np.uint8)
    _, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[column.offset : column.offset + n + 1]
    if not np.all(np.diff(offsets) == width):
        raise ValueError("column is not fixed-width")
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[0] + n * width]
    return data.reshape(n, width) - np.uint8(48)  # uint8 wraps: non-digits become > 9


def _number(digits: np.ndarray, first: int, count: int) -> np.ndarray:
    value = digits[:, first].astype(np.int64)
    for i in range(first + 1, first + count):
        value = value * 10 + digits[:, i]
    return value


def _uniform_width(
    column: pa.Array, allowed: tuple[int, ...], filler: str
) -> tuple[pa.Array, np.ndarray]:
    """The column with every value of a length in ``allowed`` kept and the others replaced by
    ``filler``, and the mask of kept values."""
    length = pc.utf8_length(column).to_numpy(zero_copy_only=False)
    keep = np.isin(length, allowed)
    if not keep.all():
        column = pc.if_else(pa.array(keep), column, filler)
    return column, keep


def _time_to_12(time: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.f…`` normalised to ``HH:MM:SS.fff``."""
    length = pc.utf8_length(time).to_numpy(zero_copy_only=False)
    if (length == 12).all():
        return time, np.ones(len(time), dtype=bool)
    keep = (length == 5) | (length == 8) | (length >= 10)
    time = pc.if_else(pa.array(length == 5), pc.binary_join_element_wise(time, ":00.000", ""), time)
    time = pc.if_else(pa.array(length == 8), pc.binary_join_element_wise(time, ".000", ""), time)
    time = pc.utf8_slice_codeunits(pc.utf8_rpad(time, width=12, padding="0"), 0, 12)
    return pc.if_else(pa.array(keep), time, "00:00:00.000"), keep


_DATE_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9)
_TIME_DIGITS = (0, 1, 3, 4, 6, 7, 9, 10, 11)


def parse_date_time(
    date: pa.Array, time: pa.Array, separators: str
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch milliseconds of ``date`` (``YYYY?MM?DD`` where ``?`` is one of ``separators``) +
    ``time`` (``HH:MM[:SS[.fff…]]``) read as written, with no time zone applied, and a
    validity mask.  Checked character by character and against the calendar (2019-02-30 is
    invalid); parsed on a digit matrix, with no per-row Python code."""
    date, date_ok = _uniform_width(date, (10,), "1970-01-01")
    time, time_ok = _time_to_12(time)
    d = _fixed_width_digits(date, 10)
    t = _fixed_width_digits(time, 12)
    seps = [(ord(c) - 48) % 256 for c in separators]
    colon, dot = (ord(":") - 48) % 256, (ord(".") - 48) % 256
    ok = date_ok & time_ok
    ok &= (d[:, _DATE_DIGITS] <= 9).all(axis=1)
    ok &= np.isin(d[:, 4], seps) & (d[:, 7] == d[:, 4])
    ok &= (t[:, _TIME_DIGITS] <= 9).all(axis=1)
    ok &= (t[:, 2] == colon) & (t[:, 5] == colon) & (t[:, 8] == dot)
    year, month, day = _number(d, 0, 4), _number(d, 5, 2), _number(d, 8, 2)
    hour, minute, second = _number(t, 0, 2), _number(t, 3, 2), _number(t, 6, 2)
    millis = _number(t, 9, 3)
    month_ok = (month >= 1) & (month <= 12)
    months = (year - 1970) * 12 + np.where(month_ok, month - 1, 0)
    first_day = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    next_first = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= month_ok & (day >= 1) & (day <= next_first - first_day)
    ok &= (hour < 24) & (minute < 60) & (second < 60)
    seconds = (first_day + day - 1) * 86_400 + hour * 3600 + minute * 60 + second
    msc = np.where(ok, seconds * 1000 + millis, 0)
    return msc.astype(np.int64), ok


_EPOCH = r"^[0-9]{10}([0-9]{3})?$"


def parse_iso_or_epoch(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch ms of ``YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z]`` or of a 10/13-digit epoch
    number (seconds or milliseconds), and a validity mask."""
    text = pc.utf8_rtrim(pc.utf8_trim_whitespace(column), characters="Z")
    middle = pc.utf8_slice_codeunits(text, 10, 11)
    spaced = pc.is_in(middle, pa.array([" ", "T"])).to_numpy(zero_copy_only=False)
    msc, ok = parse_date_time(
        pc.utf8_slice_codeunits(text, 0, 10), pc.utf8_slice_codeunits(text, 11, 40), "-"
    )
    ok &= spaced
    if not ok.all():
        epoch = pc.match_substring_regex(text, _EPOCH).to_numpy(zero_copy_only=False)
        if epoch.any():
            numbers = pc.cast(pc.if_else(pa.array(epoch), text, "0"), pa.int64()).to_numpy(
                zero_copy_only=False
            )
            lengths = pc.utf8_length(text).to_numpy(zero_copy_only=False)
            msc = np.where(epoch, np.where(lengths == 10, numbers * 1000, numbers), msc)
            ok |= epoch
    return msc.astype(np.int64), ok


def count_decimals(column: pa.Array) -> int:
    """The most digits after the decimal point among the values (a quote's ``digits``)."""
    text = pc.utf8_trim_whitespace(column)
    dot = pc.find_substring(text, ".").to_numpy(zero_copy_only=False)
    length = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    decimals = np.where(dot >= 0, length - dot - 1, 0)
    return int(decimals.max()) if len(decimals) else 0


@dataclass
class Reasons:
    """The first reason each row is bad, filled check by check in priority order."""

    reason: np.ndarray
    bad: np.ndarray

    @classmethod
    def for_rows(cls, n: int) -> Reasons:
        return cls(np.full(n, None, dtype=object), np.zeros(n, dtype=bool))

    def mark(self, mask: np.ndarray, text: str | np.ndarray) -> None:
        hit = np.asarray(mask, dtype=bool) & ~self.bad
        if hit.any():
            self.reason[hit] = text if isinstance(text, str) else np.asarray(text)[hit]
            self.bad |= hit

    def mark_status(self, status: np.ndarray, column: pa.Array, name: str) -> None:
        """Rows whose ``name`` field is text or NaN (empty fields are the caller's call)."""
        rows = np.flatnonzero((status == TEXT) & ~self.bad)
        if len(rows):
            values = pc.take(column, pa.array(rows)).to_pylist()
            self.reason[rows] = [f"text in number field {name}: {v.strip()!r}" for v in values]
            self.bad[rows] = True
        self.mark(status == NAN, f"NaN {name}")
