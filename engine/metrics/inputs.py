"""What the metrics are computed from: their configuration, closed baskets, and the checks
that turn an equity series, a start capital and a date index into trusted inputs.

Every later section takes its inputs through these checks, so a bad series is refused once,
here, with a message that names the offending date, rather than measured into a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.metrics.basis import PERIODS_PER_YEAR, checked_basis
from engine.model import Direction, ExitCode, require_utc
from engine.records import BasketRecord

_SECONDS_PER_HOUR = 3600.0
#: Commission + swap may differ from the booked costs by float rounding of cent amounts.
_COST_TOLERANCE = 0.005


class MetricsInputError(DataError):
    """Equity, capital or cluster P&L that the metrics cannot be computed from as given."""


@dataclass(frozen=True)
class MetricsConfig:
    """Which days the returns are measured on, and how they are annualised and benchmarked.

    - ``basis``: "trading" (default: one return per FX trading day, Monday to Friday,
      annualised by sqrt(252)) or "calendar" (one return per daily mark, sqrt(365)); see
      :mod:`engine.metrics.basis`.  ``periods_per_year`` (P) follows from it;
    - ``risk_free_rate``: annual simple rate; the per-period rate is rf / P (default 0);
    - ``sortino_target``: annual minimum acceptable return; per period target / P (default 0);
    - ``psr_benchmark_sharpe``: SR* of the PSR as an annualised Sharpe; the PSR uses
      SR* / sqrt(P) against the non-annualised Sharpe (default 0: "is the Sharpe positive");
    - ``trials``: N, the number of configurations tried before this one was chosen (1: none);
    - ``trials_sharpe_variance``: V, the variance of the N trials' NON-annualised Sharpe
      ratios; None uses the variance of this run's Sharpe estimator (see the module docstring);
    - ``days_per_year``: the calendar year of the CAGR (365.25: leap years averaged in).
    """

    basis: str = "trading"
    risk_free_rate: float = 0.0
    sortino_target: float = 0.0
    psr_benchmark_sharpe: float = 0.0
    trials: int = 1
    trials_sharpe_variance: float | None = None
    days_per_year: float = 365.25

    def __post_init__(self) -> None:
        checked_basis(self.basis)
        if isinstance(self.trials, bool) or not isinstance(self.trials, int) or self.trials < 1:
            raise ValueError(f"trials must be an int >= 1, got {self.trials!r}")
        for name in ("risk_free_rate", "sortino_target", "psr_benchmark_sharpe"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")
        variance = self.trials_sharpe_variance
        if variance is not None and not (math.isfinite(variance) and variance >= 0.0):
            raise ValueError(f"trials_sharpe_variance must be finite and >= 0, got {variance!r}")
        if not (math.isfinite(self.days_per_year) and self.days_per_year > 0.0):
            raise ValueError(f"days_per_year must be > 0, got {self.days_per_year!r}")

    @property
    def periods_per_year(self) -> int:
        """P: 252 trading days or 365 calendar days a year, as the basis says."""
        return PERIODS_PER_YEAR[self.basis]


@dataclass(frozen=True)
class ClosedBasket:
    """One closed basket as the metrics see it.

    ``pnl`` is the net P&L as booked, in the account currency: fills at the bid or ask,
    less commission and swap.  ``costs`` is what the journal books beside it, commission +
    swap, with the journal's sign (negative = paid).  The split, when known (NaN = not
    measured, e.g. a journal record alone):

    - ``commission`` and ``swap``: their parts of ``costs`` (they must add up to it);
    - ``spread_cost``: what crossing the spread took, already inside ``pnl`` through the fill
      prices (not a further charge): per deal side x (mid - fill price) x volume x contract
      size x the account-currency value of the quote currency, negative = paid (see
      ``app.backtest.legs``).
    """

    cluster: str
    direction: str
    entry_time: datetime
    exit_time: datetime
    exit_code: str
    pnl: float
    costs: float
    commission: float = math.nan
    swap: float = math.nan
    spread_cost: float = math.nan

    def __post_init__(self) -> None:
        if not isinstance(self.cluster, str) or not self.cluster:
            raise ValueError(f"ClosedBasket.cluster must be a non-empty str, got {self.cluster!r}")
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "exit_code", ExitCode(self.exit_code))
        entry = require_utc(self.entry_time, "ClosedBasket.entry_time")
        exit_ = require_utc(self.exit_time, "ClosedBasket.exit_time")
        if exit_ < entry:
            raise ValueError(
                f"ClosedBasket of {self.cluster}: exit {exit_.isoformat()} is before "
                f"entry {entry.isoformat()}"
            )
        object.__setattr__(self, "entry_time", entry)
        object.__setattr__(self, "exit_time", exit_)
        for name in ("pnl", "costs"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise ValueError(f"ClosedBasket of {self.cluster}: {name} is {value}")
            object.__setattr__(self, name, value)
        for name in ("commission", "swap", "spread_cost"):
            value = float(getattr(self, name))
            if math.isinf(value):
                raise ValueError(f"ClosedBasket of {self.cluster}: {name} is {value}")
            object.__setattr__(self, name, value)
        booked = self.commission + self.swap
        if math.isfinite(booked) and abs(booked - self.costs) > _COST_TOLERANCE:
            raise ValueError(
                f"ClosedBasket of {self.cluster}: commission {self.commission} + swap "
                f"{self.swap} is not its costs {self.costs}"
            )

    @property
    def holding_hours(self) -> float:
        return (self.exit_time - self.entry_time).total_seconds() / _SECONDS_PER_HOUR


def closed_basket_from_record(record: BasketRecord) -> ClosedBasket:
    """The journal's closed basket as a :class:`ClosedBasket` (same P&L and cost signs)."""
    if record.closing is None:
        raise ValueError(f"basket {record.basket_id} is still open: it has no exit to measure")
    return ClosedBasket(
        cluster=record.opening.cluster,
        direction=record.opening.direction,
        entry_time=record.opening.opened_at,
        exit_time=record.closing.closed_at,
        exit_code=record.closing.exit_code,
        pnl=record.closing.pnl,
        costs=record.closing.costs,
    )


@dataclass(frozen=True)
class _OpenBasket:
    cluster: str
    entry_time: datetime


BasketInput = ClosedBasket | BasketRecord


def _split_baskets(items: Iterable[BasketInput]) -> tuple[list[ClosedBasket], list[_OpenBasket]]:
    closed: list[ClosedBasket] = []
    still_open: list[_OpenBasket] = []
    for item in items:
        if isinstance(item, ClosedBasket):
            closed.append(item)
        elif isinstance(item, BasketRecord):
            if item.closing is None:
                still_open.append(_OpenBasket(item.opening.cluster, item.opening.opened_at))
            else:
                closed.append(closed_basket_from_record(item))
        else:
            raise TypeError(
                f"baskets must be ClosedBasket or BasketRecord, got {type(item).__name__}"
            )
    return closed, still_open


def utc_dates(index: pd.Index, what: str,
              error: type[DataError] = MetricsInputError) -> pd.DatetimeIndex:
    """The index as UTC midnights, one per day, in order: naive times are UTC, aware ones
    are converted.  Anything else raises ``error`` naming ``what`` (the report checks its
    equity file with the same rule and its own error type)."""
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(index, utc=True))
    except (TypeError, ValueError) as exc:
        raise error(f"{what} index must be UTC dates: {exc}") from exc
    if stamps.hasnans:
        raise error(f"{what} index has a missing date (NaT)")
    dates = stamps.normalize()
    duplicated = dates.duplicated()
    if duplicated.any():
        raise error(f"{what} has two values for {dates[duplicated][0].date()}")
    if not dates.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(dates.asi8) < 0)[0]) + 1
        raise error(
            f"{what} dates are not in order: {dates[position].date()} follows "
            f"{dates[position - 1].date()}"
        )
    return dates


def _checked_capital(start_capital: float) -> float:
    try:
        capital = float(start_capital)
    except (TypeError, ValueError) as exc:
        raise MetricsInputError(f"start capital must be a number, got {start_capital!r}") from exc
    if not (math.isfinite(capital) and capital > 0.0):
        raise MetricsInputError(f"start capital must be a positive amount, got {capital}")
    return capital


def _checked_equity(equity: pd.Series) -> pd.Series:
    """Float equity on a UTC-midnight index; every value finite and positive.

    A non-positive mark is refused rather than measured: returns after it are undefined.
    """
    if not isinstance(equity, pd.Series):
        raise MetricsInputError(
            f"equity must be a pandas Series indexed by UTC date, got {type(equity).__name__}"
        )
    if equity.empty:
        raise MetricsInputError("equity series is empty: there is no day to measure")
    dates = utc_dates(equity.index, "equity")
    try:
        values = equity.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricsInputError(f"equity values must be numbers: {exc}") from exc
    bad = ~np.isfinite(values) | (values <= 0.0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise MetricsInputError(
            f"equity on {dates[position].date()} is {values[position]}: every daily mark "
            "must be a positive amount"
        )
    return pd.Series(values, index=dates, name="equity")


def _period(dates: pd.DatetimeIndex) -> tuple[datetime, datetime]:
    """[00:00 UTC of the first date, 00:00 UTC after the last date): the days the marks cover."""
    start = dates[0].to_pydatetime().astimezone(UTC)
    end = dates[-1].to_pydatetime().astimezone(UTC) + timedelta(days=1)
    return start, end
