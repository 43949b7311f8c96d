"""Which daily marks the return figures are measured on, and how they are annualised.

The equity series has a mark at the end of every UTC day, weekends included (the chart and
the drawdown use them all).  Returns are a different matter: the FX market is shut from
Friday 17:00 New York to Sunday 17:00 New York, so a weekend day is not an observation.
Counting its zero return as one, and annualising with sqrt(252) as if there were 252 such
observations a year, understates the Sharpe ratio by about a sixth and lets the PSR count
observations that never happened.  Two bases are offered, and every figure states its own:

- ``trading`` (the default): one observation per FX trading day, Monday to Friday,
  annualised with sqrt(252).  Days are keyed on the UTC date of the mark: a mark dated
  Saturday or Sunday belongs to the following Monday, and each trading day's mark is the
  last mark that belongs to it.  So the P&L of the Sunday-evening open (Sunday 21:00 or
  22:00 UTC onwards) is part of Monday's return, as on an FX desk's books; with marks on
  every calendar day the rule reads "keep the rows dated Monday to Friday".  Keying on
  the UTC midnight rather than on 17:00 New York shifts the last two or three hours of each
  New York trading day (21:00 or 22:00 to 24:00 UTC) into the previous observation; the
  number of observations and the weekly sums are the same either way, and the marks stay
  the ones ``equity.csv`` holds, so anyone can recompute every figure from that file;
- ``calendar``: one observation per mark (per calendar day when there is a mark every day),
  annualised with sqrt(365).

Holidays that fall on a weekday (25 December, 1 January) stay observations in the trading
basis: the market is thin, not shut, on most of them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Basis = Literal["trading", "calendar"]

#: The bases and their observations per year (P of sqrt(P)).
PERIODS_PER_YEAR: dict[str, int] = {"trading": 252, "calendar": 365}

_LABELS = {
    "trading": "daily, 5-day FX weeks, sqrt 252",
    "calendar": "daily, calendar days, sqrt 365",
}

_DAYS = {
    "trading": (
        "one return per FX trading day (Monday to Friday, UTC dates of the end-of-day marks; "
        "a weekend mark belongs to the following Monday, so the Sunday-evening open counts "
        "in the return of that Monday)"
    ),
    "calendar": "one return per end-of-UTC-day mark (every calendar day)",
}


def checked_basis(basis: object) -> str:
    """``basis`` when it is one of :data:`PERIODS_PER_YEAR`; a ValueError naming it else."""
    if not isinstance(basis, str) or basis not in PERIODS_PER_YEAR:
        raise ValueError(
            f"basis must be one of {', '.join(PERIODS_PER_YEAR)}, got {basis!r}"
        )
    return basis


def basis_label(basis: str) -> str:
    """The short form printed beside a figure: "daily, 5-day FX weeks, sqrt 252"."""
    return _LABELS[checked_basis(basis)]


def basis_days(basis: str) -> str:
    """Which marks give the daily returns, in one phrase."""
    return _DAYS[checked_basis(basis)]


def basis_definition(basis: str) -> str:
    """Which marks give the returns and how they are annualised, in one sentence."""
    return f"{basis_days(basis)}, annualised by sqrt({PERIODS_PER_YEAR[basis]})"


def trading_day_keys(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The FX trading day each UTC date belongs to: itself on Monday to Friday, the next
    Monday on Saturday (+2 days) and Sunday (+1 day)."""
    weekday = np.asarray(dates.day_of_week)
    shift = np.where(weekday >= 5, 7 - weekday, 0)
    return dates + pd.to_timedelta(shift, unit="D")


def basis_marks(marks: pd.Series, basis: str) -> pd.Series:
    """The marks the returns are measured on: every mark (calendar), or the last mark of
    each trading day, indexed by that day (trading).  ``marks`` is on UTC midnights."""
    if checked_basis(basis) == "calendar":
        return marks
    keys = trading_day_keys(pd.DatetimeIndex(marks.index))
    return marks.groupby(keys).last()


def basis_pnl(table: pd.DataFrame, basis: str) -> pd.DataFrame:
    """Daily P&L per column on the basis's days: a weekend day's P&L adds to the next
    Monday's (trading), or the table as it is (calendar)."""
    if checked_basis(basis) == "calendar":
        return table
    keys = trading_day_keys(pd.DatetimeIndex(table.index))
    return table.groupby(keys).sum()
