"""The one CSV writer of every export: cells a spreadsheet would run are written as text.

A CSV file is data, but a spreadsheet that opens it runs any cell that begins like a
formula: ``=HYPERLINK(...)``, ``+cmd|...``, ``-2+3``, ``@SUM(...)``, and a cell that begins
with a tab or a carriage return is read the same way by some of them.  Journal text comes
from outside the product (calendar titles, cluster names in a configuration, comments a
broker sends back), so every export that a trader may open in a spreadsheet (a backtest's
``trades.csv`` and ``equity.csv``, ``journal export``, the console's History export, the
``tdi`` command's output) writes through this module.

What it does is what OWASP recommends for CSV injection: a text cell that begins with one
of ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a single quote in front, which a
spreadsheet shows as text and does not evaluate.  Numbers stay numbers: a float or integer
is written as it is, and so is text that is a plain decimal number (``-75.99``, ``+1e-05``),
because a spreadsheet reads that as a number and runs nothing; a negative P&L is ``-75.99``,
not ``'-75.99``.  Cells with commas, quotes or line breaks are quoted by the ``csv`` module
as usual, so a neutralised cell can never spill into the next one.

Only the export neutralises: the journal, the calendar and the configuration keep the text
exactly as it was given.

Files are written to a temporary name beside the target and renamed into place, so a failed
export never leaves half a file where a complete one was expected.
"""

from __future__ import annotations

import csv
import errno
import math
import numbers
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "FORMULA_STARTS",
    "SafeWriter",
    "neutralise",
    "safe_cell",
    "safe_writer",
    "write_csv",
]

#: First characters that make a spreadsheet evaluate a text cell (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Text that a spreadsheet reads as a plain number: safe as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

#: The prefix that keeps a spreadsheet from evaluating a cell.
QUOTE = "'"


def neutralise(text: str) -> str:
    """``text``, with a single quote in front when a spreadsheet would evaluate it."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return QUOTE + text
    return text


def safe_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for None and NaN, numbers unchanged, text neutralised.

    Dates and times are written as their ``str`` (ISO dates begin with a digit, so they need
    nothing); anything else is written as its ``str`` and neutralised like any text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):  # before numbers: True is an Integral
        return str(value)
    if isinstance(value, numbers.Real):
        return "" if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, datetime):
        # pandas' missing time (NaT) is a datetime that is not equal to itself
        return value.isoformat(sep=" ") if value == value else ""
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value if isinstance(value, str) else str(value))


class SafeWriter:
    """``csv.writer`` whose rows pass through ``safe_cell`` (the header too)."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(handle: TextIO) -> SafeWriter:
    """A CSV writer on an open text file (``newline=""``) that neutralises every cell."""
    return SafeWriter(handle)


def write_csv(path: Path | str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``header`` and ``rows`` to ``path`` whole or not at all; return the row count.

    The rows go to ``<path>.partial`` first, which replaces ``path`` only once every row is
    written; on any failure the partial file is removed and the error propagates.  A
    ``path`` that exists and is not a regular file (a pipe, a device) is refused: the rename
    would replace it with a file (``/dev/full`` made a file by an export run as root).
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        raise OSError(errno.EEXIST, "exists and is not a regular file: the file would replace "
                      "it", str(target))
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = SafeWriter(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count
