"""Figures of the daily mark-to-market equity: returns, volatility, Sharpe, Sortino, CAGR,
drawdown, and the :class:`ReturnMetrics` section of the report built from them.

Definitions are in the :mod:`engine.metrics` docstring.  :class:`_Measured` (a figure and why it
is NaN or infinite) and :data:`ZERO_DISPERSION` live here because every later section measures
dispersion the way the returns do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from engine.metrics.basis import basis_marks
from engine.metrics.inputs import (
    MetricsConfig,
    MetricsInputError,
    _checked_capital,
    _checked_equity,
)

#: A std of daily returns at or below this is zero dispersion, not a tiny risk: real daily
#: returns have stds of 1e-4 and up, and float rounding of a geometric series leaves ~1e-16.
#: Without it a constant-growth series reports a Sharpe of 1e13 instead of "undefined".
ZERO_DISPERSION = 1e-14


class _Measured(NamedTuple):
    """A figure and, when it is NaN or infinite, why."""

    value: float
    note: str = ""


def daily_returns(equity: pd.Series, start_capital: float, basis: str = "trading") -> pd.Series:
    """r_t = E_t / E_{t-1} - 1 with E_0 = the start capital, over the marks of ``basis``
    (:func:`engine.metrics.basis.basis_marks`): indexed by trading day, or like the equity
    with the calendar basis."""
    marks = basis_marks(_checked_equity(equity), basis)
    capital = _checked_capital(start_capital)
    values = marks.to_numpy()
    previous = np.concatenate(([capital], values[:-1]))
    return pd.Series(values / previous - 1.0, index=marks.index, name="return")


def _as_returns(returns: pd.Series | Sequence[float] | np.ndarray) -> np.ndarray:
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim != 1:
        raise MetricsInputError(f"returns must be one-dimensional, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise MetricsInputError("returns contain NaN or infinity")
    return values


def _std_note(count: int, std: float, what: str) -> str:
    if count < 2:
        return (
            f"{count} daily return(s): the sample standard deviation (ddof=1) needs at least 2, "
            f"so the {what} is undefined"
        )
    if std <= ZERO_DISPERSION:
        return (
            f"daily returns have zero dispersion (std 0, e.g. constant equity), so the {what} "
            "is undefined"
        )
    return ""


def _sample_std(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size >= 2 else math.nan


def _volatility(values: np.ndarray, periods_per_year: int) -> _Measured:
    if values.size < 2:
        return _Measured(math.nan, _std_note(values.size, math.nan, "volatility"))
    return _Measured(_sample_std(values) * math.sqrt(periods_per_year))


def _sharpe_per_period(values: np.ndarray, periods_per_year: int, risk_free: float) -> _Measured:
    std = _sample_std(values)
    note = _std_note(values.size, std, "Sharpe ratio")
    if note:
        return _Measured(math.nan, note)
    return _Measured((float(values.mean()) - risk_free / periods_per_year) / std)


def _sharpe(values: np.ndarray, periods_per_year: int, risk_free: float) -> _Measured:
    per_period = _sharpe_per_period(values, periods_per_year, risk_free)
    return _Measured(per_period.value * math.sqrt(periods_per_year), per_period.note)


def _sortino(values: np.ndarray, periods_per_year: int, target: float) -> _Measured:
    if values.size == 0:
        return _Measured(math.nan, "no daily return: Sortino ratio undefined")
    per_period_target = target / periods_per_year
    shortfall = np.minimum(values - per_period_target, 0.0)
    downside = math.sqrt(float(np.mean(shortfall**2)))
    if downside <= ZERO_DISPERSION:
        return _Measured(
            math.nan,
            "no daily return below the target: downside deviation 0, Sortino ratio undefined",
        )
    excess = float(values.mean()) - per_period_target
    return _Measured(excess / downside * math.sqrt(periods_per_year))


def annualised_volatility(
    returns: pd.Series | Sequence[float] | np.ndarray, periods_per_year: int = 252
) -> float:
    """std(r, ddof=1) * sqrt(P); NaN with fewer than two returns."""
    return _volatility(_as_returns(returns), periods_per_year).value


def sharpe_ratio(
    returns: pd.Series | Sequence[float] | np.ndarray,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
) -> float:
    """(mean(r) - rf / P) / std(r, ddof=1) * sqrt(P); NaN when std is 0 or T < 2."""
    return _sharpe(_as_returns(returns), periods_per_year, risk_free_rate).value


def sortino_ratio(
    returns: pd.Series | Sequence[float] | np.ndarray,
    periods_per_year: int = 252,
    target_return: float = 0.0,
) -> float:
    """(mean(r) - tau) / sqrt(mean(min(r - tau, 0)^2)) * sqrt(P), tau = target / P, over all r."""
    return _sortino(_as_returns(returns), periods_per_year, target_return).value


def _growth_rate(growth: float, years: float) -> _Measured:
    try:
        return _Measured(math.exp(math.log(growth) / years) - 1.0)
    except OverflowError:
        return _Measured(
            math.inf, f"+inf: a growth of {growth:.6g}x over {years:.6g} years overflows"
        )


def cagr(equity: pd.Series, start_capital: float, days_per_year: float = 365.25) -> float:
    """(E_T / E_0) ** (1 / years) - 1, years = calendar days since the day before the first
    date, over ``days_per_year``."""
    marks = _checked_equity(equity)
    capital = _checked_capital(start_capital)
    days = (marks.index[-1] - marks.index[0]).days + 1
    return _growth_rate(float(marks.iloc[-1]) / capital, days / days_per_year).value


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall of equity below a running peak (the start capital counts as one).

    ``depth`` is a positive fraction (0.1 = 10% below the peak). The peak date is the last
    date at the peak before the fall; for the start capital it is the day before the first
    date. ``duration_days`` runs from the peak to the recovery (the first mark back at or
    above the peak) or, when not recovered, to the last date. ``longest_days`` is the longest
    such underwater stretch of any drawdown. All day counts are calendar days.
    """

    depth: float
    peak_date: date | None
    trough_date: date | None
    recovery_date: date | None
    decline_days: int
    duration_days: int
    recovered: bool
    longest_days: int


def max_drawdown(equity: pd.Series, start_capital: float) -> Drawdown:
    """max over t of 1 - E_t / max(E_0, ..., E_t), with its dates (see :class:`Drawdown`)."""
    marks = _checked_equity(equity)
    capital = _checked_capital(start_capital)
    days = [marks.index[0].date() - timedelta(days=1), *(stamp.date() for stamp in marks.index)]
    values = [capital, *marks.to_numpy().tolist()]

    peak_value, peak_at = values[0], 0
    deepest, deepest_peak, deepest_trough = 0.0, 0, 0
    longest, underwater = 0, False
    for position, value in enumerate(values):
        if value >= peak_value:
            if underwater:
                longest = max(longest, (days[position] - days[peak_at]).days)
                underwater = False
            peak_value, peak_at = value, position
            continue
        underwater = True
        depth = 1.0 - value / peak_value
        if depth > deepest:
            deepest, deepest_peak, deepest_trough = depth, peak_at, position
    if underwater:
        longest = max(longest, (days[-1] - days[peak_at]).days)

    if deepest == 0.0:
        return Drawdown(0.0, None, None, None, 0, 0, True, 0)
    recovery = next(
        (
            position
            for position in range(deepest_trough + 1, len(values))
            if values[position] >= values[deepest_peak]
        ),
        None,
    )
    end = recovery if recovery is not None else len(values) - 1
    return Drawdown(
        depth=deepest,
        peak_date=days[deepest_peak],
        trough_date=days[deepest_trough],
        recovery_date=None if recovery is None else days[recovery],
        decline_days=(days[deepest_trough] - days[deepest_peak]).days,
        duration_days=(days[end] - days[deepest_peak]).days,
        recovered=recovery is not None,
        longest_days=longest,
    )


@dataclass(frozen=True)
class ReturnMetrics:
    """Figures from the daily mark-to-market equity.

    ``observations`` and the figures of the daily returns (mean, volatilities, Sharpe,
    Sortino) are on the configured basis; the period, total return, CAGR and drawdown use
    every mark (a weekend mark is a real mark-to-market).
    """

    first_date: date
    last_date: date
    observations: int
    calendar_days: int
    years: float
    start_capital: float
    final_equity: float
    total_return: float
    cagr: float
    mean_daily_return: float
    daily_volatility: float
    annualised_volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_peak_date: date | None
    max_drawdown_trough_date: date | None
    max_drawdown_recovery_date: date | None
    max_drawdown_decline_days: int
    max_drawdown_duration_days: int
    max_drawdown_recovered: bool
    longest_drawdown_days: int
    calmar: float
    notes: Mapping[str, str] = field(default_factory=dict)


#: Fewer daily returns than this (about a month of trading days) and a Sharpe or Sortino
#: says little: two returns give a Sharpe of +-0.707 x sqrt(252) = +-11.2 whatever the
#: trade.  The figure stays; a note beside it says so.
FEW_RETURNS = 20


def few_returns_note(observations: int) -> str:
    """The note of a ratio computed from too few daily returns to mean much."""
    return (f"from {observations} daily return{'s' if observations != 1 else ''}: too few to "
            f"judge by (fewer than {FEW_RETURNS})")


def _return_metrics(
    marks: pd.Series, capital: float, values: np.ndarray, config: MetricsConfig
) -> ReturnMetrics:
    notes: dict[str, str] = {}

    def keep(name: str, measured: _Measured) -> float:
        if measured.note:
            notes[name] = measured.note
        return measured.value

    p = config.periods_per_year
    calendar_days = (marks.index[-1] - marks.index[0]).days + 1
    years = calendar_days / config.days_per_year
    final = float(marks.iloc[-1])
    growth_rate = keep("cagr", _growth_rate(final / capital, years))
    drawdown = max_drawdown(marks, capital)
    if drawdown.depth == 0.0:
        calmar = math.nan
        notes["calmar"] = "no drawdown (equity never fell below a peak): Calmar undefined"
    elif math.isinf(growth_rate):
        calmar = math.inf
        notes["calmar"] = "+inf: the CAGR overflows"
    else:
        calmar = growth_rate / drawdown.depth
    if drawdown.depth == 0.0:
        for name in ("peak_date", "trough_date", "recovery_date"):
            notes[f"max_drawdown_{name}"] = "no drawdown: equity never fell below a peak"
    elif not drawdown.recovered:
        notes["max_drawdown_recovery_date"] = "not recovered by the last date"
        notes["max_drawdown_duration_days"] = "not recovered by the last date: counted to it"
    daily_std = _sample_std(values)
    if values.size < 2:
        notes["daily_volatility"] = _std_note(values.size, daily_std, "volatility")
    sharpe = keep("sharpe", _sharpe(values, p, config.risk_free_rate))
    sortino = keep("sortino", _sortino(values, p, config.sortino_target))
    for name, value in (("sharpe", sharpe), ("sortino", sortino)):
        if name not in notes and math.isfinite(value) and values.size < FEW_RETURNS:
            notes[name] = few_returns_note(int(values.size))
    return ReturnMetrics(
        first_date=marks.index[0].date(),
        last_date=marks.index[-1].date(),
        observations=int(values.size),
        calendar_days=calendar_days,
        years=years,
        start_capital=capital,
        final_equity=final,
        total_return=final / capital - 1.0,
        cagr=growth_rate,
        mean_daily_return=float(values.mean()),
        daily_volatility=daily_std,
        annualised_volatility=keep("annualised_volatility", _volatility(values, p)),
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=drawdown.depth,
        max_drawdown_peak_date=drawdown.peak_date,
        max_drawdown_trough_date=drawdown.trough_date,
        max_drawdown_recovery_date=drawdown.recovery_date,
        max_drawdown_decline_days=drawdown.decline_days,
        max_drawdown_duration_days=drawdown.duration_days,
        max_drawdown_recovered=drawdown.recovered,
        longest_drawdown_days=drawdown.longest_days,
        calmar=calmar,
        notes=notes,
    )
