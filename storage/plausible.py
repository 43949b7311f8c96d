"""What a value read from a data file may be: the plausible range of prices and of dates.

Every reader (the importers, HistData, the calendar, the backtest's file scan) checks its
values against these bounds, so a row that parses but cannot be real is refused the same way
wherever it comes from, with ``file:line``, and never reaches the store or the journal.

- **Dates: 1970-01-01 .. 2099-12-31 UTC.**  The store keeps epoch milliseconds and names
  its partitions ``YYYY-MM``: an instant before the epoch is a negative stamp (a year 0001
  row wrote a ``-112061-08`` partition), and the broker clock (``mt5bridge.servertime``)
  knows US daylight saving only for 1970-2099.  Past 2099 nothing real exists yet, and the
  bound keeps any "day after" arithmetic far from ``datetime``'s year-9999 overflow.
- **Prices: 1e-8 .. 1e8.**  MT5 quotes carry at most 8 decimals, so 1e-8 is the smallest
  price a quote can show; the largest quote any broker lists is five orders of magnitude
  below 1e8 (XAUUSD ~ 2e3, BTCUSD ~ 1e5, USDIRR ~ 1e6 at the free rate).  Above it a value
  is a typo or junk (``1e308``, ``1e400`` = inf), and a bound this low keeps
  price * contract size * lots far from float overflow in every P&L the engine computes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_PRICE",
    "MIN_PRICE",
    "date_problem",
    "price_out_of_range",
    "price_problems",
    "time_problems_ms",
]

#: The first and last UTC day a data file may hold.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2099, 12, 31)

#: The plausible price range (inclusive); see the module note for why.
MIN_PRICE = 1e-8
MAX_PRICE = 1e8

_FIRST_MS = 0
_END_MS = int(datetime(LAST_DAY.year + 1, 1, 1, tzinfo=UTC).timestamp()) * 1000


def date_problem(day: date) -> str | None:
    """Why ``day`` cannot be in a data file (``"date before 1970"``), or ``None``."""
    if day < FIRST_DAY:
        return "date before 1970"
    if day > LAST_DAY:
        return f"date after {LAST_DAY.year}"
    return None


def time_problems_ms(utc_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of UTC epoch-ms stamps before 1970 and after 2099."""
    stamps = np.asarray(utc_ms, dtype=np.int64)
    return stamps < _FIRST_MS, stamps >= _END_MS


def price_out_of_range(prices: np.ndarray) -> np.ndarray:
    """Mask of positive prices outside ``[MIN_PRICE, MAX_PRICE]``, infinities included.

    NaN and non-positive values are left to the caller, which names them more precisely.
    """
    values = np.asarray(prices, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (values > 0) & ((values < MIN_PRICE) | (values > MAX_PRICE))


def price_problems(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a price matrix (one column per price) holding an implausible price, and the
    reason of each such row (``"price out of range (inf; plausible 1e-08 .. 1e+08)"``)."""
    values = np.asarray(matrix, dtype=np.float64)
    wild = price_out_of_range(values)
    rows = wild.any(axis=1)
    reasons = np.full(len(values), None, dtype=object)
    for i in np.flatnonzero(rows):
        value = values[i][wild[i]][0]
        reasons[i] = f"price out of range ({value:g}; plausible {MIN_PRICE:g} .. {MAX_PRICE:g})"
    return rows, reasons
