"""Wide daily-close files: one row per trading day, one column per symbol.

``Date,AAPL,AMD,...`` with ``YYYY-MM-DD`` dates and a close per symbol (the adjusted closes
of ``shared/data/equity_daily``, or its ``Date,SP500`` index file).  Such a file holds many
symbols and no time of day, so it is not one of the per-symbol tick or bar formats the
importers store; the backtest reads it here and places each close itself
(``app.backtest.daily``).

Read like every data file (``storage.datafile``: regular files, gzip by content, bounded
lines); a bad file is one line naming the file and, where it can, the line.  An empty cell
is a day the symbol did not trade (before its listing): it is left out of that symbol.

The shape of the file is checked on its text before pandas parses it
(:func:`read_wide_text`, shared with ``app.research.daily_closes``): pandas forgives what
must be refused here.  It fails on an empty file with its own exception, renames a column
given twice (``KO.1``), reads a row cut short as empty cells (the day silently lost to every
symbol past the cut) and wraps a row's extra cells into a row of their own (then blamed on
the wrong line, for the wrong reason).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import UserError
from storage.datafile import open_data_file, open_text, sniff_encoding
from storage.importers.textfile import first_lines
from storage.plausible import date_problem, price_out_of_range

__all__ = ["DailyCloses", "is_wide_daily", "read_wide_daily", "read_wide_text", "row_lines"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9._#-]{0,19}$")

#: Per symbol, its closes by trading day (a ``DatetimeIndex`` of dates, no time, sorted).
DailyCloses = dict[str, pd.Series]


def is_wide_daily(path: Path) -> bool:
    """Whether ``path`` looks like a wide daily-close file (its header and first row)."""
    try:
        lines, _ = first_lines(path, count=2)
    except (UserError, OSError, UnicodeError):
        return False
    if len(lines) < 2:
        return False
    header = [h.strip() for h in lines[0].split(",")]
    first = lines[1].split(",", 1)[0].strip()
    return (len(header) >= 2 and header[0].lower() == "date"
            and all(_SYMBOL.match(h) for h in header[1:]) and bool(_DATE.match(first)))


def read_wide_daily(path: Path, symbols: Iterable[str] | None = None) -> DailyCloses:
    """The closes of ``symbols`` (all columns when None) from a wide daily file.

    Refuses, in one line: a file of the wrong shape (:func:`read_wide_text`), a symbol the
    file lacks, a row whose date is not ``YYYY-MM-DD`` or is implausible, dates out of order
    or repeated, a close that is not a positive number.
    """
    content = read_wide_text(path)
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"{path}: not a daily-close file ({str(exc).splitlines()[0]})") from None
    lines = row_lines(content)
    frame.columns = [str(c).strip() for c in frame.columns]
    date_column = frame.columns[0]
    wanted = list(frame.columns[1:]) if symbols is None else [s for s in symbols]
    missing = [s for s in wanted if s not in frame.columns[1:]]
    if missing:
        raise UserError(f"{path}: no column for {', '.join(missing)} (the file has "
                        f"{', '.join(frame.columns[1:])})")
    days = _dates(path, lines, frame[date_column].str.strip())
    out: DailyCloses = {}
    for symbol in wanted:
        closes = _closes(path, lines, symbol, frame[symbol].str.strip())
        present = ~np.isnan(closes)
        out[symbol] = pd.Series(closes[present], index=days[present], name=symbol)
    return out


def read_wide_text(path: Path) -> str:
    """The whole text of a wide daily file, refused in one line unless its shape is sound:
    not empty, a header ``Date,SYMBOL,...`` naming no column twice (in any case: the
    research readers upper-case the symbols), and as many fields on every row as in the
    header.

    An empty cell stays a legitimate missing close; only the count of fields is checked
    here, by counting commas line by line (the format has no quoting): 3 ms for the 8,300
    rows of 1990-2022, next to 75 ms for the read, where a parse row by row in Python would
    cost the vectorised read its speed.  Blank lines are skipped, as pandas skips them.
    """
    with open_text(path) as text:
        content = text.read()
    lines = content.split("\n")
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise UserError(f"{path}: empty file; expected a header Date,SYMBOL,... and a row "
                        "of closes a day")
    _check_header(path, header_at + 1, lines[header_at])
    _check_field_counts(path, lines, header_at)
    return content


def row_lines(content: str) -> list[int]:
    """The line number in the file (from 1) of each row pandas reads from ``content``
    (a text :func:`read_wide_text` accepted): the non-blank lines after the header, since
    pandas skips blank and whitespace-only lines, so that a bad row is named on its own
    line however many blank lines come before it."""
    lines = content.split("\n")
    header_at = next(i for i, line in enumerate(lines) if line.strip())
    return [i + 1 for i in range(header_at + 1, len(lines)) if lines[i].strip()]


def _check_header(path: Path, number: int, header: str) -> None:
    """``Date`` and at least one symbol, none of them twice.

    A column given twice would be two closes for one symbol a day; which one is meant
    cannot be known, and pandas would rename one (``KO.1``) or a reader that upper-cases
    the symbols would hold two columns of one name."""
    names = [name.strip() for name in header.split(",")]
    if len(names) < 2 or names[0].lower() != "date":
        raise UserError(f"{path}: expected a header Date,SYMBOL,..., got {header[:80]}")
    first_spelling: dict[str, str] = {}
    for name in names:
        key = name.upper()
        if key in first_spelling:
            spellings = "" if first_spelling[key] == name else (
                f" (as {first_spelling[key]} and {name})")
            raise UserError(f"{path}:{number}: column {key} given twice{spellings}")
        first_spelling[key] = name


def _check_field_counts(path: Path, lines: list[str], header_at: int) -> None:
    """Every row has as many fields as the header: a row cut short or run long is refused
    with its line (blank lines aside), never read as empty cells or as a row of its own."""
    fields = lines[header_at].count(",") + 1
    bad = next((i for i in range(header_at + 1, len(lines))
                if lines[i].count(",") + 1 != fields and lines[i].strip()), None)
    if bad is not None:
        raise _stray_carriage_return(path, fields) or UserError(
            f"{path}:{bad + 1}: {lines[bad].count(',') + 1} fields, the header has {fields}")


def _stray_carriage_return(path: Path, fields: int) -> UserError | None:
    """The first bad row as ``sed -n``, ``grep -n`` and an editor number the lines, when a
    lone CR inside a row of a file of LF or CR LF lines makes that differ from the reader's
    count; None when the file holds no such CR.

    The text is read with universal newlines (a file of lone CR lines is read too), so a
    lone CR ends a line there: ``awk`` appending cells to a CR LF row leaves the CR before
    them and splits the row in two, and the fault would be named on the next line, as a
    fragment.  Only a file already found bad is read again for this."""
    with open_data_file(path) as data:
        raw = data.stream.read()
    text = raw.decode(sniff_encoding(raw[:4]), errors="replace")
    if "\n" not in text or "\r" not in text.replace("\r\n", ""):
        return None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    header_at = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for i in range(header_at + 1, len(lines)):
        count = lines[i].count(",") + 1
        if "\r" in lines[i]:
            shape = f"{count} fields, the header has {fields}, and " if count != fields else ""
            return UserError(f"{path}:{i + 1}: {shape}a carriage return inside the line "
                             "(a row ends with LF or CR LF)")
        if count != fields and lines[i].strip():
            return UserError(f"{path}:{i + 1}: {count} fields, the header has {fields}")
    return None


def _dates(path: Path, lines: list[int], cells: pd.Series) -> pd.DatetimeIndex:
    bad = ~cells.str.match(_DATE.pattern)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{path}:{lines[row]}: not a YYYY-MM-DD date: {cells.iloc[row][:20]!r}")
    days = pd.DatetimeIndex(pd.to_datetime(cells, format="%Y-%m-%d", errors="coerce"))
    if days.isna().any():
        row = int(np.flatnonzero(days.isna())[0])
        raise UserError(f"{path}:{lines[row]}: no such date: {cells.iloc[row]!r}")
    for row in (0, len(days) - 1):
        problem = date_problem(days[row].date()) if len(days) else None
        if problem is not None:
            raise UserError(f"{path}:{lines[row]}: {problem}")
    order = np.diff(days.asi8)
    if (order <= 0).any():
        row = int(np.flatnonzero(order <= 0)[0]) + 1
        raise UserError(f"{path}:{lines[row]}: {cells.iloc[row]} is not after the date before "
                        "it (one row per day, oldest first)")
    return days


def _closes(path: Path, lines: list[int], symbol: str, cells: pd.Series) -> np.ndarray:
    empty = cells == ""
    values = pd.to_numeric(cells.where(~empty, "nan"), errors="coerce").to_numpy(np.float64)
    bad = (np.isnan(values) & ~empty.to_numpy()) | (values <= 0) | price_out_of_range(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise UserError(f"{path}:{lines[row]}: {symbol}: not a plausible close: "
                        f"{cells.iloc[row][:20]!r}")
    return values
