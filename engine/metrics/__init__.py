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
- the basis (``MetricsConfig.basis``, :mod:`engine.metrics.basis`): which of those marks
  the daily returns are measured on. "trading" (default): one per FX trading day, Monday to
  Friday, a weekend mark belonging to the following Monday, P = 252; "calendar": every
  mark, P = 365. Every figure of the daily returns (volatility, Sharpe, Sortino, PSR, DSR,
  z-test, the clusters' Sharpe, correlation and diversification) uses the same
  observations; ``metrics.json`` states the basis at its top (``basis``) and in front of
  each such figure's definition.
- ``baskets``: closed baskets as :class:`ClosedBasket` records or as the journal's
  :class:`~engine.records.BasketRecord`. A still-open ``BasketRecord`` is not a trade
  result: it is counted in ``open_baskets`` and counts as exposed until the period's end.
- ``cluster_pnl`` (optional): a DataFrame of daily P&L per cluster (columns = clusters);
  when absent it is derived from the baskets' realised P&L by exit date
  (:func:`cluster_daily_pnl`).

Definitions (T = number of daily returns, P = periods per year of the basis, 252 or 365)
----------------------------------------------------------------------------------------
- daily returns r_t = E_t / E_{t-1} - 1 with E_0 = start capital, over the basis's marks;
- total return = E_T / E_0 - 1;
- CAGR = (E_T / E_0) ** (1 / years) - 1, years = calendar days from the day before the first
  date to the last date, divided by 365.25 (calendar basis: weekends and holidays count);
- annualised volatility = std(r, ddof=1) * sqrt(P);
- Sharpe = (mean(r) - rf / P) / std(r, ddof=1) * sqrt(P), rf an annual simple rate;
- Sortino = (mean(r) - tau) / DD * sqrt(P), DD = sqrt(mean(min(r - tau, 0) ** 2)) over ALL
  T observations (Sortino and Price's downside deviation; not the std of the losses only),
  tau = annual target / P;
- maximum drawdown = max_t 1 - E_t / max(E_0, ..., E_t) over every mark (weekends too: a
  mark is a mark), a positive fraction: the start capital counts as a peak, so a run that
  only falls from the start has a drawdown;
- Calmar = CAGR / maximum drawdown, both over the whole period;
- per basket (the net P&L of the whole basket, never per leg): profit factor = gross profit /
  |gross loss|; win rate = share with pnl > 0 (a flat basket is not a win); average pnl;
  count; average holding time in hours; exits by code (count and share); exposure = share of
  the period with at least one basket open (union of the baskets' intervals);
- costs of the closed baskets: commission, swap, spread cost (what crossing the spread took,
  already inside the P&L through the fill prices), booked costs = commission + swap (what
  the journal books), total costs = all three; negative = paid;
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

Layout
------
One module per section, each importing only the sections before it: ``basis`` (which marks
give the returns), ``inputs`` (configuration, baskets, checked equity and capital),
``returns``, ``significance``, ``baskets``, ``clusters``, and ``report``
(:func:`compute_metrics` and the JSON form).  The public names are re-exported
here, so callers import from ``engine.metrics`` only.  A name with a leading underscore is
private to this package: the sections share it, nothing outside uses it.
"""

from engine.metrics.basis import (
    PERIODS_PER_YEAR,
    basis_definition,
    basis_label,
    basis_marks,
    trading_day_keys,
)
from engine.metrics.baskets import BasketMetrics, basket_metrics, exposure_share
from engine.metrics.clusters import (
    ClusterMetrics,
    Diversification,
    cluster_correlation,
    cluster_daily_pnl,
    diversification_ratio,
)
from engine.metrics.inputs import (
    BasketInput,
    ClosedBasket,
    MetricsConfig,
    MetricsInputError,
    closed_basket_from_record,
)
from engine.metrics.report import PerformanceReport, compute_metrics
from engine.metrics.returns import (
    ZERO_DISPERSION,
    Drawdown,
    ReturnMetrics,
    annualised_volatility,
    cagr,
    daily_returns,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)
from engine.metrics.significance import (
    EULER_MASCHERONI,
    SignificanceMetrics,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    mean_return_z_test,
    probabilistic_sharpe_ratio,
    sharpe_estimator_variance,
)

__all__ = [
    "EULER_MASCHERONI",
    "PERIODS_PER_YEAR",
    "ZERO_DISPERSION",
    "BasketInput",
    "BasketMetrics",
    "ClosedBasket",
    "ClusterMetrics",
    "Diversification",
    "Drawdown",
    "MetricsConfig",
    "MetricsInputError",
    "PerformanceReport",
    "ReturnMetrics",
    "SignificanceMetrics",
    "annualised_volatility",
    "basis_definition",
    "basis_label",
    "basis_marks",
    "basket_metrics",
    "cagr",
    "closed_basket_from_record",
    "cluster_correlation",
    "cluster_daily_pnl",
    "compute_metrics",
    "daily_returns",
    "deflated_sharpe_ratio",
    "diversification_ratio",
    "expected_max_sharpe",
    "exposure_share",
    "max_drawdown",
    "mean_return_z_test",
    "probabilistic_sharpe_ratio",
    "sharpe_estimator_variance",
    "sharpe_ratio",
    "sortino_ratio",
    "trading_day_keys",
]
