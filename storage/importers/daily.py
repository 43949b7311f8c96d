"""Wide daily-close files: one row per trading day, one column per symbol.

``Date,AAPL,AMD,...`` with ``YYYY-MM-DD`` dates and a close per symbol (the adjusted closes
of ``shared/data/equity_daily``, or its ``Date,SP500`` index file).  Such a file holds many
symbols and no time of day, so it is not one of the per-symbol tick or bar formats the
importers store; the backtest reads it here and places each close itself
(``app.backtest.daily``).

Read like every data file (``storage.datafile``: regular files, gzip by content, bounded
lines); a bad file is one line naming the file and, where it can, the line.  An empty cell
is a day the symbol did not trade (before its listing): it is left out of that symbol.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import UserError
from storage.datafile import open_text
from storage.importers.textfile import first_lines
from storage.plausible import date_problem, price_out_of_range

__all__ = ["DailyCloses", "is_wide_daily", "read_wide_daily"]

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

    Refuses, in one line: a symbol the file lacks, a row whose date is not ``YYYY-MM-DD`` or
    is implausible, dates out of order or repeated, a close that is not a positive number.
    """
    with open_text(path) as text:
        content = text.read()
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"{path}: not a daily-close file ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    date_column = frame.columns[0]
    wanted = list(frame.columns[1:]) if symbols is None else [s for s in symbols]
    missing = [s for s in wanted if s not in frame.columns[1:]]
    if missing:
        raise UserError(f"{path}: no column for {', '.join(missing)} (the file has "
                        f"{', '.join(frame.columns[1:])})")
    days = _dates(path, frame[date_column].str.strip())
    out: DailyCloses = {}
    for symbol in wanted:
        closes = _closes(path, symbol, frame[symbol].str.strip())
        present = ~np.isnan(closes)
        out[symbol] = pd.Series(closes[present], index=days[present], name=symbol)
    return out


def _dates(path: Path, cells: pd.Series) -> pd.DatetimeIndex:
    bad = ~cells.str.match(_DATE.pattern)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{path}:{row + 2}: not a YYYY-MM-DD date: {cells.iloc[row][:20]!r}")
    days = pd.DatetimeIndex(pd.to_datetime(cells, format="%Y-%m-%d", errors="coerce"))
    if days.isna().any():
        row = int(np.flatnonzero(days.isna())[0])
        raise UserError(f"{path}:{row + 2}: no such date: {cells.iloc[row]!r}")
    for row in (0, len(days) - 1):
        problem = date_problem(days[row].date()) if len(days) else None
        if problem is not None:
            raise UserError(f"{path}:{row + 2}: {problem}")
    order = np.diff(days.asi8)
    if (order <= 0).any():
        row = int(np.flatnonzero(order <= 0)[0]) + 1
        raise UserError(f"{path}:{row + 2}: {cells.iloc[row]} is not after the date before "
                        "it (one row per day, oldest first)")
    return days


def _closes(path: Path, symbol: str, cells: pd.Series) -> np.ndarray:
    empty = cells == ""
    values = pd.to_numeric(cells.where(~empty, "nan"), errors="coerce").to_numpy(np.float64)
    bad = (np.isnan(values) & ~empty.to_numpy()) | (values <= 0) | price_out_of_range(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise UserError(f"{path}:{row + 2}: {symbol}: not a plausible close: "
                        f"{cells.iloc[row][:20]!r}")
    return values
