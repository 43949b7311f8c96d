"""Performance metrics of a backtest or a live run: the figures a trader judges the engine by.

A trader decides whether to trust the engine from these numbers, so each one is the standard
textbook definition, computed one way only, and carries a ``*_basis`` string in
:meth:`PerformanceReport.to_dict` that states that definition (so ``metrics.json`` is
self-describing).

Inputs
------
- ``equity``: a pandas Series of daily mark-to-market equity indexed by UTC date. The value
  on date d is the mark at the end of UTC day d (a time of day in the index is dropped: the
  value is that UTC day's mark). ``start_capital`` is the equity before the first day, i.e.
  the mark at 00:00 UTC of the first date; it is observation E_0.
- ``baskets``: closed baskets as :class:`ClosedBasket` records or as the journal's
  :class:`~engine.records.BasketRecord`. A still-open ``BasketRecord`` is not a trade
  result: it is counted in ``open_baskets`` and counts as exposed until the period's end.
- ``cluster_pnl`` (optional): a DataFrame of daily P&L per cluster (columns = clusters);
  when absent it is derived from the baskets' realised P&L by exit date
  (:func:`cluster_daily_pnl`).

Definitions (T = number of daily returns, P = periods per year, default 252)
---------------------------------------------------------------------------
- daily returns r_t = E_t / E_{t-1} - 1 with E_0 = start capital;
- total return = E_T / E_0 - 1;
- CAGR = (E_T / E_0) ** (1 / years) - 1, years = calendar days from the day before the first
  date to the last date, divided by 365.25 (calendar basis: weekends and holidays count);
- annualised volatility = std(r, ddof=1) * sqrt(P);
- Sharpe = (mean(r) - rf / P) / std(r, ddof=1) * sqrt(P), rf an annual simple rate;
- Sortino = (mean(r) - tau) / DD * sqrt(P), DD = sqrt(mean(min(r - tau, 0) ** 2)) over ALL
  T observations (Sortino and Price's downside deviation; not the std of the losses only),
  tau = annual target / P;
- maximum drawdown = max_t 1 - E_t / max(E_0, ..., E_t), a positive fraction: the start
  capital counts as a peak, so a run that only falls from the start has a drawdown;
- Calmar = CAGR / maximum drawdown, both over the whole period;
- per basket (the net P&L of the whole basket, never per leg): profit factor = gross profit /
  |gross loss|; win rate = share with pnl > 0 (a flat basket is not a win); average pnl;
  count; average holding time in hours; exits by code (count and share); exposure = share of
  the period with at least one basket open (union of the baskets' intervals);
- PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2)) with SR the
  non-annualised Sharpe, g3 the skewness and g4 the raw (non-excess, normal = 3) kurtosis of
  the daily returns (biased moment estimators m3 / m2^1.5 and m4 / m2^2), Bailey and Lopez
  de Prado (2012), "The Sharpe ratio efficient frontier";
- DSR = PSR(SR0), SR0 = sqrt(V) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e))), the
  expected maximum Sharpe of N independent trials (gamma = Euler-Mascheroni), Bailey and Lopez
  de Prado (2014), "The deflated Sharpe ratio". V is the variance of the trials' Sharpe ratios
  (non-annualised); when not given, the variance of the Sharpe estimator
  (1 - g3 SR + (g4 - 1) / 4 SR^2) / (T - 1) stands in for it. With N = 1 nothing was selected,
  so SR0 = 0 and DSR = PSR(0) (the formula's first term diverges at N = 1);
- z-test of mean daily return > 0: z = mean / (std(ddof=1) / sqrt(T)), p = 1 - Phi(z);
- per cluster: the basket metrics of its baskets, and its daily returns = daily P&L / start
  capital (the unified capital pool funds every cluster);
- correlation matrix (Pearson) of the clusters' daily returns and the largest absolute
  off-diagonal entry;
- diversification ratio = sum_i std(pnl_i) / std(sum_i pnl_i) (ddof=1), i.e. weights w_i = 1
  on P&L series already in the pool's currency: 1 = no diversification, sqrt(n) = n
  uncorrelated equal-risk clusters.

Undefined and infinite values
-----------------------------
In memory a figure that is undefined is NaN (a Sharpe of constant equity, a win rate with no
basket) and one that is unbounded is +inf (a profit factor with winners and no loser). Each
section records why in its ``notes`` mapping (metric name -> reason). JSON has neither NaN
nor infinity, so :meth:`PerformanceReport.to_dict` writes every non-finite number as
``null`` and its reason stays in ``notes`` (which says "+inf" when the value is infinite);
``to_json`` uses ``allow_nan=False`` so no non-standard token can slip out. Ratios over a
return dispersion (Sharpe, Sortino, Calmar, PSR, z-test) are NaN, not infinite, when that
dispersion is zero: a run that never lost is a reason to distrust the sample, not a score.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.model import Direction, ExitCode, require_utc
from engine.records import BasketRecord

#: Euler-Mascheroni constant of the expected-maximum formula (Bailey and Lopez de Prado 2014).
EULER_MASCHERONI = 0.5772156649015329

#: A std of daily returns at or below this is zero dispersion, not a tiny risk: real daily
#: returns have stds of 1e-4 and up, and float rounding of a geometric series leaves ~1e-16.
#: Without it a constant-growth series reports a Sharpe of 1e13 instead of "undefined".
ZERO_DISPERSION = 1e-14

_NORMAL = NormalDist()
_SECONDS_PER_HOUR = 3600.0
_EXIT_CODES: tuple[str, ...] = tuple(code.value for code in ExitCode)


class MetricsInputError(DataError):
    """Equity, capital or cluster P&L that the metrics cannot be computed from as given."""


class _Measured(NamedTuple):
    """A figure and, when it is NaN or infinite, why."""

    value: float
    note: str = ""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class MetricsConfig:
    """How returns are annualised and benchmarked.

    - ``periods_per_year``: P, observations per year of the equity series (252 trading days;
      use 365 when the series has a mark for every calendar day);
    - ``risk_free_rate``: annual simple rate; the per-period rate is rf / P (default 0);
    - ``sortino_target``: annual minimum acceptable return; per period target / P (default 0);
    - ``psr_benchmark_sharpe``: SR* of the PSR as an annualised Sharpe; the PSR uses
      SR* / sqrt(P) against the non-annualised Sharpe (default 0: "is the Sharpe positive");
    - ``trials``: N, the number of configurations tried before this one was chosen (1: none);
    - ``trials_sharpe_variance``: V, the variance of the N trials' NON-annualised Sharpe
      ratios; None uses the variance of this run's Sharpe estimator (see the module docstring);
    - ``days_per_year``: the calendar year of the CAGR (365.25: leap years averaged in).
    """

    periods_per_year: int = 252
    risk_free_rate: float = 0.0
    sortino_target: float = 0.0
    psr_benchmark_sharpe: float = 0.0
    trials: int = 1
    trials_sharpe_variance: float | None = None
    days_per_year: float = 365.25

    def __post_init__(self) -> None:
        if isinstance(self.periods_per_year, bool) or not isinstance(self.periods_per_year, int):
            raise ValueError(f"periods_per_year must be an int, got {self.periods_per_year!r}")
        if self.periods_per_year < 1:
            raise ValueError(f"periods_per_year must be >= 1, got {self.periods_per_year}")
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


@dataclass(frozen=True)
class ClosedBasket:
    """One closed basket as the metrics see it.

    ``pnl`` is net of costs, in the account currency. ``costs`` (commission + swap + spread
    cost) is informational and keeps the journal's sign: negative = paid.
    """

    cluster: str
    direction: str
    entry_time: datetime
    exit_time: datetime
    exit_code: str
    pnl: float
    costs: float

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


def _utc_dates(index: pd.Index, what: str) -> pd.DatetimeIndex:
    """The index as UTC midnights: naive times are UTC, aware ones are converted."""
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(index, utc=True))
    except (TypeError, ValueError) as exc:
        raise MetricsInputError(f"{what} index must be UTC dates: {exc}") from exc
    if stamps.hasnans:
        raise MetricsInputError(f"{what} index has a missing date (NaT)")
    dates = stamps.normalize()
    duplicated = dates.duplicated()
    if duplicated.any():
        raise MetricsInputError(f"{what} has two values for {dates[duplicated][0].date()}")
    if not dates.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(dates.asi8) < 0)[0]) + 1
        raise MetricsInputError(
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
    dates = _utc_dates(equity.index, "equity")
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


# --------------------------------------------------------------------------- returns


def daily_returns(equity: pd.Series, start_capital: float) -> pd.Series:
    """r_t = E_t / E_{t-1} - 1 with E_0 = the start capital, indexed like the equity."""
    marks = _checked_equity(equity)
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


# --------------------------------------------------------------------------- significance


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Skewness m3 / m2^1.5 and RAW kurtosis m4 / m2^2 (biased moment estimators)."""
    if values.size < 2:
        return math.nan, math.nan
    deviations = values - values.mean()
    m2 = float(np.mean(deviations**2))
    if math.sqrt(m2) <= ZERO_DISPERSION:
        return math.nan, math.nan
    m3 = float(np.mean(deviations**3))
    m4 = float(np.mean(deviations**4))
    return m3 / m2**1.5, m4 / m2**2


def _sharpe_variance_term(sharpe: float, skewness: float, kurtosis: float) -> float:
    return 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2


def _psr(
    sharpe: float, observations: int, skewness: float, kurtosis: float, benchmark: float
) -> _Measured:
    if observations < 2:
        return _Measured(math.nan, f"{observations} daily return(s): the PSR needs at least 2")
    if not all(math.isfinite(x) for x in (sharpe, skewness, kurtosis, benchmark)):
        return _Measured(math.nan, "the Sharpe ratio or the return moments are undefined")
    term = _sharpe_variance_term(sharpe, skewness, kurtosis)
    if term <= 0.0:
        return _Measured(
            math.nan,
            f"1 - g3 SR + (g4 - 1)/4 SR^2 = {term:.6g} <= 0: the Sharpe estimator's variance "
            "is degenerate (two-point return distribution)",
        )
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(term)
    return _Measured(_NORMAL.cdf(z))


def probabilistic_sharpe_ratio(
    sharpe: float,
    observations: int,
    skewness: float,
    kurtosis: float,
    benchmark: float = 0.0,
) -> float:
    """PSR(SR*) of Bailey and Lopez de Prado (2012).

    ``sharpe`` and ``benchmark`` are NON-annualised (per observation); ``kurtosis`` is raw
    (3 for a normal distribution), ``observations`` is T. The probability that the true
    Sharpe exceeds the benchmark, given the sample's length, skew and fat tails.
    """
    return _psr(sharpe, observations, skewness, kurtosis, benchmark).value


def sharpe_estimator_variance(
    sharpe: float, observations: int, skewness: float, kurtosis: float
) -> float:
    """(1 - g3 SR + (g4 - 1)/4 SR^2) / (T - 1): the variance of a non-annualised Sharpe
    estimate (Mertens 2002, as used by Bailey and Lopez de Prado)."""
    if observations < 2:
        return math.nan
    return _sharpe_variance_term(sharpe, skewness, kurtosis) / (observations - 1)


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """SR0 = sqrt(V) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e))); 0 for N = 1.

    The Sharpe the best of N skill-less trials reaches by luck alone. Z^-1(1 - p) is taken as
    -Z^-1(p), which stays accurate when 1 - p rounds to 1.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an int >= 1, got {trials!r}")
    if not (math.isfinite(sharpe_variance) and sharpe_variance >= 0.0):
        return math.nan
    if trials == 1:
        return 0.0
    quantile = -_NORMAL.inv_cdf(1.0 / trials)
    quantile_e = -_NORMAL.inv_cdf(1.0 / (trials * math.e))
    expected = (1.0 - EULER_MASCHERONI) * quantile + EULER_MASCHERONI * quantile_e
    return math.sqrt(sharpe_variance) * expected


def deflated_sharpe_ratio(
    sharpe: float,
    observations: int,
    skewness: float,
    kurtosis: float,
    trials: int = 1,
    sharpe_variance: float | None = None,
) -> float:
    """DSR = PSR(SR0) of Bailey and Lopez de Prado (2014), SR0 = :func:`expected_max_sharpe`.

    ``sharpe_variance`` is the variance of the N trials' non-annualised Sharpe ratios; None
    uses :func:`sharpe_estimator_variance` of this run.
    """
    variance = (
        sharpe_estimator_variance(sharpe, observations, skewness, kurtosis)
        if sharpe_variance is None
        else sharpe_variance
    )
    threshold = expected_max_sharpe(trials, variance)
    return probabilistic_sharpe_ratio(sharpe, observations, skewness, kurtosis, threshold)


def _z_test(values: np.ndarray) -> tuple[_Measured, _Measured]:
    std = _sample_std(values)
    note = _std_note(values.size, std, "z-test")
    if note:
        return _Measured(math.nan, note), _Measured(math.nan, note)
    z = float(values.mean()) / (std / math.sqrt(values.size))
    # 1 - Phi(z) written as the upper tail so a large z keeps its digits.
    return _Measured(z), _Measured(0.5 * math.erfc(z / math.sqrt(2.0)))


def mean_return_z_test(
    returns: pd.Series | Sequence[float] | np.ndarray,
) -> tuple[float, float]:
    """One-sided z-test of H1 mean daily return > 0: (z, p) with z = mean / (std / sqrt(T)),
    std with ddof=1, and p = 1 - Phi(z). NaN when T < 2 or the returns do not vary."""
    z, p = _z_test(_as_returns(returns))
    return z.value, p.value


# --------------------------------------------------------------------------- baskets


def exposure_share(
    intervals: Iterable[tuple[datetime, datetime]], period_start: datetime, period_end: datetime
) -> float:
    """Share of [period_start, period_end) covered by the union of the intervals.

    Overlapping baskets count once: two clusters open at the same hour are one hour of
    exposure, not two. Intervals are clipped to the period.
    """
    start = require_utc(period_start, "period_start")
    end = require_utc(period_end, "period_end")
    if end <= start:
        raise ValueError(f"period end {end.isoformat()} is not after its start {start.isoformat()}")
    clipped = sorted(
        (max(opened, start), min(closed, end))
        for opened, closed in intervals
        if min(closed, end) > max(opened, start)
    )
    covered = timedelta(0)
    current_start: datetime | None = None
    current_end: datetime | None = None
    for opened, closed in clipped:
        if current_end is None or opened > current_end:
            if current_start is not None and current_end is not None:
                covered += current_end - current_start
            current_start, current_end = opened, closed
        else:
            current_end = max(current_end, closed)
    if current_start is not None and current_end is not None:
        covered += current_end - current_start
    return covered / (end - start)


@dataclass(frozen=True)
class BasketMetrics:
    """Closed-basket statistics (all P&L net, account currency); see the module docstring."""

    baskets: int
    open_baskets: int
    wins: int
    losses: int
    win_rate: float
    gross_profit: float
    gross_loss: float
    profit_factor: float
    net_pnl: float
    average_pnl: float
    total_costs: float
    average_holding_hours: float
    exits_by_code: Mapping[str, int]
    exit_shares: Mapping[str, float]
    exposure: float
    notes: Mapping[str, str] = field(default_factory=dict)


def basket_metrics(
    baskets: Iterable[BasketInput],
    period: tuple[datetime, datetime] | None = None,
) -> BasketMetrics:
    """Per-basket statistics, with exposure measured over ``period`` ([start, end)).

    Without a period, exposure is measured from the first entry to the last exit. Open
    ``BasketRecord`` items count as exposed from entry to the period's end.
    """
    closed, still_open = _split_baskets(baskets)
    return _basket_metrics(closed, still_open, period)


def _basket_metrics(
    closed: Sequence[ClosedBasket],
    still_open: Sequence[_OpenBasket],
    period: tuple[datetime, datetime] | None,
) -> BasketMetrics:
    notes: dict[str, str] = {}
    pnl = np.array([basket.pnl for basket in closed], dtype=np.float64)
    count = int(pnl.size)
    wins = int((pnl > 0.0).sum())
    losses = int((pnl < 0.0).sum())
    gross_profit = float(pnl[pnl > 0.0].sum())
    gross_loss = float(np.abs(pnl[pnl < 0.0]).sum())

    if count == 0:
        for name in ("win_rate", "profit_factor", "average_pnl", "average_holding_hours"):
            notes[name] = "no closed basket"
        notes["exit_shares"] = "no closed basket: every share is undefined"
        win_rate = average_pnl = holding = profit_factor = math.nan
    else:
        win_rate = wins / count
        average_pnl = float(pnl.mean())
        holding = float(np.mean([basket.holding_hours for basket in closed]))
        if gross_loss > 0.0:
            profit_factor = gross_profit / gross_loss
        elif gross_profit > 0.0:
            profit_factor = math.inf
            notes["profit_factor"] = (
                f"+inf: no losing basket (gross profit {gross_profit:.2f}, gross loss 0)"
            )
        else:
            profit_factor = math.nan
            notes["profit_factor"] = "every basket closed flat: gross profit and loss both 0"

    counts = dict.fromkeys(_EXIT_CODES, 0)
    for basket in closed:
        counts[basket.exit_code] += 1
    shares = {code: (n / count if count else math.nan) for code, n in counts.items()}

    if period is None:
        entries = [b.entry_time for b in closed] + [b.entry_time for b in still_open]
        exits = [b.exit_time for b in closed]
        if not entries or not exits or max(exits) <= min(entries):
            exposure_period = None
        else:
            exposure_period = (min(entries), max(exits))
    else:
        exposure_period = (require_utc(period[0], "period start"), require_utc(period[1], "end"))
    if exposure_period is None:
        exposure = math.nan
        notes["exposure"] = "no period to measure exposure over (no closed basket, no period)"
    else:
        intervals = [(b.entry_time, b.exit_time) for b in closed]
        intervals += [(b.entry_time, exposure_period[1]) for b in still_open]
        exposure = exposure_share(intervals, *exposure_period)

    return BasketMetrics(
        baskets=count,
        open_baskets=len(still_open),
        wins=wins,
        losses=losses,
        win_rate=win_rate,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=profit_factor,
        net_pnl=float(pnl.sum()),
        average_pnl=average_pnl,
        total_costs=float(sum(basket.costs for basket in closed)),
        average_holding_hours=holding,
        exits_by_code=counts,
        exit_shares=shares,
        exposure=exposure,
        notes=notes,
    )


# --------------------------------------------------------------------------- clusters


def cluster_daily_pnl(
    baskets: Iterable[BasketInput], dates: pd.Index | Sequence[Any]
) -> pd.DataFrame:
    """Daily realised P&L per cluster: each closed basket's net pnl on the date it closed.

    Basis: REALISED P&L by exit date, not mark-to-market (an open basket adds nothing until
    it closes). ``dates`` are the equity dates; an exit on a date without a mark (a weekend)
    lands on the next date that has one, the mark where that P&L first shows. Rows are
    ``dates`` as UTC midnights, columns the clusters in name order, 0 where nothing closed.
    """
    index = _utc_dates(pd.Index(dates), "dates")
    if index.empty:
        raise MetricsInputError("dates are empty: there is no day to put P&L on")
    closed, _ = _split_baskets(baskets)
    clusters = sorted({basket.cluster for basket in closed})
    table = np.zeros((len(index), len(clusters)), dtype=np.float64)
    column = {cluster: position for position, cluster in enumerate(clusters)}
    period_start, period_end = _period(index)
    for basket in closed:
        if not period_start <= basket.exit_time < period_end:
            raise MetricsInputError(
                f"basket of {basket.cluster} closed at {basket.exit_time.isoformat()}, outside "
                f"the equity period {index[0].date()}..{index[-1].date()}: pass only the "
                "baskets closed within the period"
            )
        exit_day = pd.Timestamp(basket.exit_time).normalize()
        row = int(index.searchsorted(exit_day, side="left"))
        table[row, column[basket.cluster]] += basket.pnl
    return pd.DataFrame(table, index=index, columns=pd.Index(clusters, dtype=object))


def _checked_cluster_pnl(cluster_pnl: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The table on the equity dates: a date it lacks is a day of 0 P&L; a date the equity
    lacks is an error (it would be P&L outside the measured period)."""
    if not isinstance(cluster_pnl, pd.DataFrame):
        raise MetricsInputError(
            f"cluster P&L must be a pandas DataFrame, got {type(cluster_pnl).__name__}"
        )
    index = _utc_dates(cluster_pnl.index, "cluster P&L")
    outside = index.difference(dates)
    if len(outside):
        raise MetricsInputError(
            f"cluster P&L has a row for {outside[0].date()}, which the equity series lacks"
        )
    for name in cluster_pnl.columns:
        if not isinstance(name, str) or not name:
            raise MetricsInputError(f"cluster P&L column {name!r} is not a cluster name")
    try:
        values = cluster_pnl.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricsInputError(f"cluster P&L values must be numbers: {exc}") from exc
    if values.size and not np.isfinite(values).all():
        row, col = (int(x[0]) for x in np.nonzero(~np.isfinite(values)))
        raise MetricsInputError(
            f"cluster P&L of {cluster_pnl.columns[col]} on {index[row].date()} is "
            f"{values[row, col]}"
        )
    table = pd.DataFrame(values, index=index, columns=pd.Index(list(cluster_pnl.columns)))
    return table.reindex(dates, fill_value=0.0)


def cluster_correlation(cluster_returns: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of the clusters' daily returns (NaN for a cluster that never moves)."""
    return cluster_returns.corr(method="pearson")


def _max_abs_correlation(correlation: pd.DataFrame) -> tuple[_Measured, tuple[str, str] | None]:
    names = list(correlation.columns)
    if len(names) < 2:
        return _Measured(math.nan, f"{len(names)} cluster(s): no pair to correlate"), None
    best, pair = -1.0, None
    matrix = correlation.to_numpy()
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            value = matrix[i, j]
            if math.isfinite(value) and abs(value) > best:
                best, pair = abs(float(value)), (str(names[i]), str(names[j]))
    if pair is None:
        return _Measured(
            math.nan, "no pair of clusters both with varying daily P&L: correlation undefined"
        ), None
    return _Measured(best), pair


def _diversification_ratio(cluster_pnl: pd.DataFrame) -> _Measured:
    if cluster_pnl.shape[1] == 0:
        return _Measured(math.nan, "no cluster")
    if cluster_pnl.shape[0] < 2:
        return _Measured(math.nan, "fewer than 2 days: the std (ddof=1) is undefined")
    values = cluster_pnl.to_numpy(dtype=np.float64)
    portfolio = float(np.std(values.sum(axis=1), ddof=1))
    if portfolio <= ZERO_DISPERSION:
        return _Measured(math.nan, "the summed cluster P&L does not vary: ratio undefined")
    return _Measured(float(np.std(values, axis=0, ddof=1).sum()) / portfolio)


def diversification_ratio(cluster_pnl: pd.DataFrame) -> float:
    """sum_i std(pnl_i) / std(sum_i pnl_i), ddof=1: weights 1 on P&L in the pool's currency."""
    return _diversification_ratio(cluster_pnl).value


@dataclass(frozen=True)
class ClusterMetrics:
    """One cluster: its basket statistics and its daily returns on the unified pool."""

    cluster: str
    baskets: BasketMetrics
    pnl: float
    return_contribution: float
    annualised_volatility: float
    sharpe: float
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Diversification:
    """How the clusters' daily returns move together."""

    clusters: tuple[str, ...]
    correlation: Mapping[str, Mapping[str, float]]
    max_abs_correlation: float
    max_abs_correlation_pair: tuple[str, str] | None
    diversification_ratio: float
    notes: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ReturnMetrics:
    """Figures from the daily mark-to-market equity."""

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


@dataclass(frozen=True)
class SignificanceMetrics:
    """Is the Sharpe real? PSR, DSR and a z-test, all on non-annualised daily figures."""

    observations: int
    sharpe_per_period: float
    skewness: float
    kurtosis: float
    psr_benchmark_per_period: float
    psr: float
    trials: int
    trials_sharpe_variance: float
    expected_max_sharpe: float
    dsr: float
    z_score: float
    z_p_value: float
    notes: Mapping[str, str] = field(default_factory=dict)


def _return_bases(config: MetricsConfig) -> dict[str, str]:
    p = config.periods_per_year
    returns = "daily returns r_t = E_t/E_{t-1} - 1 with E_0 = start capital"
    return {
        "first_date": "first UTC date with a mark (its mark is taken at the end of that day)",
        "last_date": "last UTC date with a mark",
        "observations": "T, the number of daily returns (one per equity mark)",
        "calendar_days": "calendar days from the day before the first date to the last date",
        "years": f"calendar days / {config.days_per_year:g}",
        "start_capital": "E_0, equity before the first day (counts as a peak)",
        "final_equity": "E_T, the last daily mark-to-market equity",
        "total_return": "E_T/E_0 - 1, E_0 = start capital, E_T = last daily mark",
        "cagr": f"(E_T/E_0)^(1/years) - 1, years = calendar days / {config.days_per_year:g}",
        "mean_daily_return": f"arithmetic mean of {returns}",
        "daily_volatility": f"std of {returns}, ddof=1",
        "annualised_volatility": f"std of {returns}, ddof=1, times sqrt({p})",
        "sharpe": (
            f"{returns}; (mean - rf/{p}) / std (ddof=1), annualised by sqrt({p}), "
            f"risk-free {config.risk_free_rate:g} (annual)"
        ),
        "sortino": (
            f"{returns}; (mean - tau) / DD * sqrt({p}), tau = {config.sortino_target:g}/{p}, "
            "DD = sqrt(mean(min(r - tau, 0)^2)) over all observations"
        ),
        "max_drawdown": (
            "max over t of 1 - E_t/max(E_0..E_t) on daily mark-to-market equity, the start "
            "capital counting as a peak; a positive fraction"
        ),
        "max_drawdown_peak_date": "last date at the peak before the deepest fall "
        "(the day before the first date when the peak is the start capital)",
        "max_drawdown_trough_date": "date of the deepest mark below that peak",
        "max_drawdown_recovery_date": "first date back at or above that peak (null: not yet)",
        "max_drawdown_decline_days": "calendar days from peak to trough",
        "max_drawdown_duration_days": "calendar days from peak to recovery, or to the last "
        "date when not recovered",
        "max_drawdown_recovered": "true when equity is back at that peak by the last date "
        "(or never fell)",
        "longest_drawdown_days": "longest calendar-day stretch below a previous peak",
        "calmar": "CAGR / max drawdown, both over the whole period",
    }


def _significance_bases(config: MetricsConfig) -> dict[str, str]:
    p = config.periods_per_year
    return {
        "observations": "T, the number of daily returns",
        "sharpe_per_period": f"non-annualised Sharpe of daily returns: (mean - rf/{p}) / std "
        f"(ddof=1), risk-free {config.risk_free_rate:g} (annual)",
        "skewness": "m3/m2^1.5 of daily returns (biased moment estimator)",
        "kurtosis": "RAW kurtosis m4/m2^2 of daily returns (normal = 3; biased estimator)",
        "psr_benchmark_per_period": f"SR* = annualised {config.psr_benchmark_sharpe:g} / sqrt({p})",
        "psr": "Bailey & Lopez de Prado 2012: Phi((SR - SR*) sqrt(T-1) / sqrt(1 - g3 SR + "
        "(g4-1)/4 SR^2)), SR non-annualised, g4 raw kurtosis",
        "trials": "N, configurations tried before this one was chosen",
        "trials_sharpe_variance": (
            "variance of the trials' non-annualised Sharpe ratios, as given"
            if config.trials_sharpe_variance is not None
            else "not given: variance of this Sharpe estimate, (1 - g3 SR + (g4-1)/4 SR^2)/(T-1)"
        ),
        "expected_max_sharpe": "SR0 = sqrt(V)((1-gamma) Z^-1(1-1/N) + gamma Z^-1(1-1/(N e))), "
        "non-annualised; 0 when N = 1",
        "dsr": "Bailey & Lopez de Prado 2014: PSR(SR0); equals PSR(0) when N = 1",
        "z_score": "one-sided z-test of mean daily return > 0: mean / (std(ddof=1)/sqrt(T))",
        "z_p_value": "1 - Phi(z)",
    }


def _basket_bases() -> dict[str, str]:
    per_basket = "per basket (net P&L of the whole basket, never per leg)"
    return {
        "baskets": "number of closed baskets",
        "open_baskets": "baskets still open at the end (not in the per-basket figures)",
        "wins": f"{per_basket}: pnl > 0",
        "losses": f"{per_basket}: pnl < 0",
        "win_rate": f"{per_basket}: share with pnl > 0 (a flat basket is not a win)",
        "gross_profit": f"{per_basket}: sum of positive pnl",
        "gross_loss": f"{per_basket}: |sum of negative pnl|",
        "profit_factor": f"{per_basket}: gross profit / |gross loss|",
        "net_pnl": "sum of closed baskets' net pnl, account currency",
        "average_pnl": f"{per_basket}: mean net pnl, account currency",
        "total_costs": "commission + swap + spread cost, negative = paid (informational)",
        "average_holding_hours": "mean of exit time - entry time, hours",
        "exits_by_code": "closed baskets per exit code",
        "exit_shares": "closed baskets per exit code / closed baskets",
        "exposure": "share of the period with at least one basket open (union of intervals)",
    }


def _cluster_bases(config: MetricsConfig) -> dict[str, str]:
    p = config.periods_per_year
    returns = "cluster daily P&L / start capital (unified capital pool)"
    return {
        **_basket_bases(),
        "pnl": "sum of the cluster's daily P&L",
        "return_contribution": "cluster P&L / start capital",
        "annualised_volatility": f"std of {returns}, ddof=1, times sqrt({p})",
        "sharpe": f"{returns}; (mean - rf/{p}) / std (ddof=1) * sqrt({p}), risk-free "
        f"{config.risk_free_rate:g}",
    }


def _diversification_bases() -> dict[str, str]:
    return {
        "clusters": "clusters with a basket or a P&L column, in name order",
        "correlation": "Pearson correlation of cluster daily returns (P&L / start capital)",
        "max_abs_correlation": "largest |off-diagonal| correlation between two clusters",
        "max_abs_correlation_pair": "the two clusters of that correlation",
        "diversification_ratio": "sum of cluster daily P&L stds / std of the summed daily P&L "
        "(ddof=1; weights 1 on P&L in the pool's currency)",
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON types: non-finite floats become None (their reason is in ``notes``)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _section_dict(section: object, bases: Mapping[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields(section):  # type: ignore[arg-type]
        if item.name == "notes":
            continue
        out[item.name] = _jsonable(getattr(section, item.name))
        if bases is not None and item.name in bases:
            out[f"{item.name}_basis"] = bases[item.name]
    out["notes"] = dict(section.notes)  # type: ignore[attr-defined]
    return out


def _cluster_dict(metrics: ClusterMetrics) -> dict[str, Any]:
    out = _section_dict(metrics.baskets, None)
    notes = out.pop("notes")
    for name in ("pnl", "return_contribution", "annualised_volatility", "sharpe"):
        out[name] = _jsonable(getattr(metrics, name))
    out["notes"] = {**notes, **metrics.notes}
    return out


@dataclass(frozen=True)
class PerformanceReport:
    """Every metric of a run, ready for ``metrics.json`` through :meth:`to_dict`."""

    config: MetricsConfig
    returns: ReturnMetrics
    significance: SignificanceMetrics
    baskets: BasketMetrics
    clusters: Mapping[str, ClusterMetrics]
    diversification: Diversification

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; each metric followed by its ``*_basis``; non-finite -> null
        with the reason in the section's ``notes``."""
        return {
            "config": _jsonable(
                {item.name: getattr(self.config, item.name) for item in fields(self.config)}
            ),
            "returns": _section_dict(self.returns, _return_bases(self.config)),
            "significance": _section_dict(self.significance, _significance_bases(self.config)),
            "baskets": _section_dict(self.baskets, _basket_bases()),
            "clusters": {
                "basis": _cluster_bases(self.config),
                "by_cluster": {name: _cluster_dict(m) for name, m in self.clusters.items()},
            },
            "diversification": _section_dict(self.diversification, _diversification_bases()),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, indent=2)


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
        sharpe=keep("sharpe", _sharpe(values, p, config.risk_free_rate)),
        sortino=keep("sortino", _sortino(values, p, config.sortino_target)),
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


def _significance_metrics(values: np.ndarray, config: MetricsConfig) -> SignificanceMetrics:
    notes: dict[str, str] = {}
    p = config.periods_per_year
    sharpe = _sharpe_per_period(values, p, config.risk_free_rate)
    if sharpe.note:
        notes["sharpe_per_period"] = sharpe.note
    skewness, kurtosis = _moments(values)
    if not math.isfinite(skewness):
        notes["skewness"] = notes["kurtosis"] = "fewer than 2 returns or zero dispersion"
    benchmark = config.psr_benchmark_sharpe / math.sqrt(p)
    observations = int(values.size)
    psr = _psr(sharpe.value, observations, skewness, kurtosis, benchmark)
    if psr.note:
        notes["psr"] = psr.note
    variance = (
        sharpe_estimator_variance(sharpe.value, observations, skewness, kurtosis)
        if config.trials_sharpe_variance is None
        else config.trials_sharpe_variance
    )
    threshold = expected_max_sharpe(config.trials, variance)
    if not math.isfinite(variance):
        notes["trials_sharpe_variance"] = "the Sharpe estimate's variance is undefined"
    if not math.isfinite(threshold):
        notes["expected_max_sharpe"] = "the trials' Sharpe variance is undefined"
    dsr = _psr(sharpe.value, observations, skewness, kurtosis, threshold)
    if dsr.note:
        notes["dsr"] = dsr.note
    z, p_value = _z_test(values)
    if z.note:
        notes["z_score"] = notes["z_p_value"] = z.note
    return SignificanceMetrics(
        observations=observations,
        sharpe_per_period=sharpe.value,
        skewness=skewness,
        kurtosis=kurtosis,
        psr_benchmark_per_period=benchmark,
        psr=psr.value,
        trials=config.trials,
        trials_sharpe_variance=variance,
        expected_max_sharpe=threshold,
        dsr=dsr.value,
        z_score=z.value,
        z_p_value=p_value.value,
        notes=notes,
    )


def _cluster_section(
    closed: list[ClosedBasket],
    still_open: list[_OpenBasket],
    pnl: pd.DataFrame,
    capital: float,
    period: tuple[datetime, datetime],
    config: MetricsConfig,
) -> tuple[dict[str, ClusterMetrics], Diversification]:
    names = sorted({b.cluster for b in closed} | {b.cluster for b in still_open} | set(pnl.columns))
    pnl = pnl.reindex(columns=names, fill_value=0.0)
    returns = pnl / capital
    by_cluster: dict[str, ClusterMetrics] = {}
    for name in names:
        series = returns[name].to_numpy(dtype=np.float64)
        volatility = _volatility(series, config.periods_per_year)
        sharpe = _sharpe(series, config.periods_per_year, config.risk_free_rate)
        stats = _basket_metrics(
            [b for b in closed if b.cluster == name],
            [b for b in still_open if b.cluster == name],
            period,
        )
        notes = {
            key: note
            for key, note in (
                ("annualised_volatility", volatility.note),
                ("sharpe", sharpe.note),
            )
            if note
        }
        by_cluster[name] = ClusterMetrics(
            cluster=name,
            baskets=stats,
            pnl=float(pnl[name].sum()),
            return_contribution=float(pnl[name].sum()) / capital,
            annualised_volatility=volatility.value,
            sharpe=sharpe.value,
            notes=notes,
        )

    correlation = cluster_correlation(returns)
    largest, pair = _max_abs_correlation(correlation)
    ratio = _diversification_ratio(pnl)
    notes = {
        key: note
        for key, note in (
            ("max_abs_correlation", largest.note),
            ("max_abs_correlation_pair", largest.note),
            ("diversification_ratio", ratio.note),
        )
        if note
    }
    matrix = {
        str(row): {str(col): float(correlation.loc[row, col]) for col in correlation.columns}
        for row in correlation.index
    }
    if any(not math.isfinite(v) for row in matrix.values() for v in row.values()):
        notes["correlation"] = "null where a cluster's daily P&L never varies"
    return by_cluster, Diversification(
        clusters=tuple(names),
        correlation=matrix,
        max_abs_correlation=largest.value,
        max_abs_correlation_pair=pair,
        diversification_ratio=ratio.value,
        notes=notes,
    )


def compute_metrics(
    equity: pd.Series,
    start_capital: float,
    baskets: Iterable[BasketInput] = (),
    *,
    cluster_pnl: pd.DataFrame | None = None,
    config: MetricsConfig | None = None,
) -> PerformanceReport:
    """Every metric of a run from its daily equity and its baskets.

    ``cluster_pnl`` (daily P&L per cluster, account currency) defaults to the baskets'
    realised P&L by exit date (:func:`cluster_daily_pnl`); a cluster with baskets but no
    column, or a column but no basket, still gets its row of figures.
    """
    config = config or MetricsConfig()
    marks = _checked_equity(equity)
    capital = _checked_capital(start_capital)
    closed, still_open = _split_baskets(baskets)
    returns = daily_returns(marks, capital).to_numpy()
    period = _period(marks.index)
    pnl = (
        cluster_daily_pnl(closed, marks.index)
        if cluster_pnl is None
        else _checked_cluster_pnl(cluster_pnl, marks.index)
    )
    clusters, diversification = _cluster_section(closed, still_open, pnl, capital, period, config)
    return PerformanceReport(
        config=config,
        returns=_return_metrics(marks, capital, returns, config),
        significance=_significance_metrics(returns, config),
        baskets=_basket_metrics(closed, still_open, period),
        clusters=clusters,
        diversification=diversification,
    )
