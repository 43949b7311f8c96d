"""Daily closes in one wide CSV file: ``Date,SYM1,SYM2,...``, one row per trading day.

The layout of the daily equity research data (``sp500_20_stocks_adjclose_1990_2022.csv.gz``,
``sp500_index_1990_2022.csv.gz`` and the test slice of KO, PEP and the S&P 500): a date
``YYYY-MM-DD`` and one close per symbol, an empty cell where a symbol has none that day
(a stock before its listing).  A row is labelled with its date at 00:00 UTC: the close is
the day's (16:00 New York), and the label only says which day.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import UserError
from storage.datafile import open_text
from storage.importers.daily import read_wide_text, row_lines

#: The first header cell that marks a wide daily file.
DATE_COLUMN = "Date"


def is_daily_file(path: Path) -> bool:
    """A regular file whose first line (blank lines aside) starts with ``Date,``.

    An empty file is neither daily closes nor M1 bars: it is refused here, by name, rather
    than left to the M1 reader, which would refuse its name instead (or read no bars)."""
    if not path.is_file():
        return False
    with open_text(path) as text:
        for line in text:
            if line.strip():
                return line.startswith(DATE_COLUMN + ",")
    raise UserError(f"{path}: empty file; expected daily closes (a header Date,SYMBOL,...) "
                    "or HistData M1 bars")


def read_daily_closes(path: Path) -> pd.DataFrame:
    """The file's closes, one column per symbol, indexed by day (UTC midnight).

    A file of the wrong shape (empty, a column twice, a row with too few or too many
    fields: ``storage.importers.daily.read_wide_text``), a malformed date, a date out of
    order or twice, or a close that is not a positive number is a one-line ``UserError``
    naming the file and the line."""
    content = read_wide_text(path)
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"{path}: not a daily-close file ({str(exc).splitlines()[0]})") from None
    if frame.columns[0] != DATE_COLUMN or len(frame.columns) < 2:
        raise UserError(f"{path}: expected a header Date,SYMBOL,..., got "
                        f"{','.join(frame.columns)[:80]}")
    if frame.empty:
        raise UserError(f"{path}: no rows of closes after the header")
    lines = row_lines(content)
    dates = pd.to_datetime(frame[DATE_COLUMN], format="%Y-%m-%d", errors="coerce", utc=True)
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise UserError(f"{path}:{lines[row]}: not a date YYYY-MM-DD: "
                        f"{frame[DATE_COLUMN].iloc[row]!r}")
    steps = np.diff(pd.DatetimeIndex(dates).asi8)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise UserError(f"{path}:{lines[row]}: date {frame[DATE_COLUMN].iloc[row]} is not "
                        "after the previous row's")
    values = frame.drop(columns=DATE_COLUMN).replace("", np.nan)
    closes = values.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = (closes.isna() & values.notna()) | (closes <= 0) | np.isinf(closes)
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise UserError(f"{path}:{lines[row]}: {closes.columns[col]} close "
                        f"{values.iloc[row, col]!r} is not a positive number")
    closes.index = pd.DatetimeIndex(dates, name="time_utc")
    closes.columns = [str(c).strip().upper() for c in closes.columns]
    return closes
