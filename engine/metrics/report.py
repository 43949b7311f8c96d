"""The whole report of a run (:func:`compute_metrics`) and its self-describing JSON form.

:meth:`PerformanceReport.to_dict` writes each figure followed by a ``*_basis`` string that states
its definition, so ``metrics.json`` can be read without this code; non-finite figures become
``null`` with their reason kept in the section's ``notes``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd

from engine.jsonform import json_ready
from engine.metrics.basis import basis_days, basis_definition, basis_label
from engine.metrics.baskets import BasketMetrics, _basket_metrics
from engine.metrics.clusters import (
    ClusterMetrics,
    Diversification,
    _checked_cluster_pnl,
    _cluster_section,
    cluster_daily_pnl,
)
from engine.metrics.inputs import (
    BasketInput,
    MetricsConfig,
    _checked_capital,
    _checked_equity,
    _period,
    _split_baskets,
)
from engine.metrics.returns import ReturnMetrics, _return_metrics, daily_returns
from engine.metrics.significance import SignificanceMetrics, _significance_metrics


def _returns_text(config: MetricsConfig) -> str:
    """The daily returns every return figure is computed from, with their basis."""
    return (
        f"({basis_label(config.basis)}) daily returns r_t = E_t/E_(t-1) - 1 with E_0 = start "
        f"capital, {basis_days(config.basis)}"
    )


def _return_bases(config: MetricsConfig) -> dict[str, str]:
    p = config.periods_per_year
    returns = _returns_text(config)
    return {
        "first_date": "first UTC date with a mark (its mark is taken at the end of that day)",
        "last_date": "last UTC date with a mark",
        "observations": f"T, the number of daily returns: {basis_days(config.basis)}",
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
            "max over t of 1 - E_t/max(E_0..E_t) on every daily mark-to-market mark (weekends "
            "included), the start capital counting as a peak; a positive fraction"
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
    label = basis_label(config.basis)
    return {
        "observations": f"T, the number of daily returns ({label}), the same as the Sharpe's",
        "sharpe_per_period": f"({label}) non-annualised Sharpe of daily returns: "
        f"(mean - rf/{p}) / std (ddof=1), risk-free {config.risk_free_rate:g} (annual)",
        "skewness": f"({label}) m3/m2^1.5 of daily returns (biased moment estimator)",
        "kurtosis": f"({label}) RAW kurtosis m4/m2^2 of daily returns (normal = 3; biased "
        "estimator)",
        "psr_benchmark_per_period": f"SR* = annualised {config.psr_benchmark_sharpe:g} / sqrt({p})",
        "psr": f"({label}) Bailey & Lopez de Prado 2012: Phi((SR - SR*) sqrt(T-1) / sqrt(1 - "
        "g3 SR + (g4-1)/4 SR^2)), SR non-annualised, g4 raw kurtosis, all of the same T "
        "daily returns",
        "trials": "N, configurations tried before this one was chosen",
        "trials_sharpe_variance": (
            "variance of the trials' non-annualised Sharpe ratios, as given"
            if config.trials_sharpe_variance is not None
            else "not given: variance of this Sharpe estimate, (1 - g3 SR + (g4-1)/4 SR^2)/(T-1)"
        ),
        "expected_max_sharpe": "SR0 = sqrt(V)((1-gamma) Z^-1(1-1/N) + gamma Z^-1(1-1/(N e))), "
        "non-annualised; 0 when N = 1",
        "dsr": f"({label}) Bailey & Lopez de Prado 2014: PSR(SR0) on the same T daily "
        "returns; equals PSR(0) when N = 1",
        "z_score": f"({label}) one-sided z-test of mean daily return > 0: "
        "mean / (std(ddof=1)/sqrt(T))",
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
        "commission": "sum of the closed baskets' commissions (every deal), negative = paid",
        "swap": "sum of the closed baskets' swaps (rollovers held), negative = paid",
        "spread_cost": "sum over every deal of the closed baskets of side x (mid - fill "
        "price) x volume x contract size x the account-currency value of the quote currency "
        "at the basket's opening or closing: what crossing the bid-ask spread (and any "
        "slippage from the mid) took, negative = paid; already inside the P&L through the "
        "fill prices, not a further charge",
        "booked_costs": "commission + swap: what the journal books beside the fills' P&L, "
        "negative = paid",
        "total_costs": "commission + swap + spread cost, negative = paid (informational: all "
        "three are already in the net P&L)",
        "average_holding_hours": "mean of exit time - entry time, hours",
        "exits_by_code": "closed baskets per exit code",
        "exit_shares": "closed baskets per exit code / closed baskets",
        "exposure": "share of the run's period (params.period in a backtest's metrics) with "
                    "at least one basket open (union of intervals)",
    }


def _cluster_bases(config: MetricsConfig) -> dict[str, str]:
    p = config.periods_per_year
    returns = (
        f"({basis_label(config.basis)}) cluster daily P&L / start capital (unified capital "
        "pool), realised P&L by exit date on the basis's days"
    )
    return {
        **_basket_bases(),
        "pnl": "sum of the cluster's daily P&L",
        "return_contribution": "cluster P&L / start capital",
        "annualised_volatility": f"std of {returns}, ddof=1, times sqrt({p})",
        "sharpe": f"{returns}; (mean - rf/{p}) / std (ddof=1) * sqrt({p}), risk-free "
        f"{config.risk_free_rate:g}",
    }


def _diversification_bases(config: MetricsConfig) -> dict[str, str]:
    label = basis_label(config.basis)
    return {
        "clusters": "clusters with a basket or a P&L column, in name order",
        "correlation": f"({label}) Pearson correlation of cluster daily returns (P&L / start "
        "capital)",
        "max_abs_correlation": "largest |off-diagonal| correlation between two clusters",
        "max_abs_correlation_pair": "the two clusters of that correlation",
        "diversification_ratio": f"({label}) sum of cluster daily P&L stds / std of the "
        "summed daily P&L (ddof=1; weights 1 on P&L in the pool's currency)",
    }


def _section_dict(section: object, bases: Mapping[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields(section):  # type: ignore[arg-type]
        if item.name == "notes":
            continue
        out[item.name] = json_ready(getattr(section, item.name))
        if bases is not None and item.name in bases:
            out[f"{item.name}_basis"] = bases[item.name]
    out["notes"] = dict(section.notes)  # type: ignore[attr-defined]
    return out


def _cluster_dict(metrics: ClusterMetrics) -> dict[str, Any]:
    out = _section_dict(metrics.baskets, None)
    notes = out.pop("notes")
    for name in ("pnl", "return_contribution", "annualised_volatility", "sharpe"):
        out[name] = json_ready(getattr(metrics, name))
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
            "basis": self.basis(),
            "config": json_ready(
                {item.name: getattr(self.config, item.name) for item in fields(self.config)}
            ),
            "returns": _section_dict(self.returns, _return_bases(self.config)),
            "significance": _section_dict(self.significance, _significance_bases(self.config)),
            "baskets": _section_dict(self.baskets, _basket_bases()),
            "clusters": {
                "basis": _cluster_bases(self.config),
                "by_cluster": {name: _cluster_dict(m) for name, m in self.clusters.items()},
            },
            "diversification": _section_dict(
                self.diversification, _diversification_bases(self.config)
            ),
        }

    def basis(self) -> dict[str, Any]:
        """The returns' basis: its name, the label printed beside each figure, its
        definition, the observations per year and how many returns there were."""
        return {
            "name": self.config.basis,
            "label": basis_label(self.config.basis),
            "definition": basis_definition(self.config.basis),
            "periods_per_year": self.config.periods_per_year,
            "observations": self.returns.observations,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, indent=2)


def compute_metrics(
    equity: pd.Series,
    start_capital: float,
    baskets: Iterable[BasketInput] = (),
    *,
    cluster_pnl: pd.DataFrame | None = None,
    config: MetricsConfig | None = None,
    period: tuple[datetime, datetime] | None = None,
) -> PerformanceReport:
    """Every metric of a run from its daily equity and its baskets.

    ``cluster_pnl`` (daily P&L per cluster, account currency) defaults to the baskets'
    realised P&L by exit date (:func:`cluster_daily_pnl`); a cluster with baskets but no
    column, or a column but no basket, still gets its row of figures.  ``period``
    ([start, end), UTC) is the span the exposure is a share of: the run's own period as its
    report states it; by default the days the equity marks cover (00:00 UTC of the first to
    00:00 UTC after the last), which is the same span for a run from midnight to midnight.
    """
    config = config or MetricsConfig()
    marks = _checked_equity(equity)
    capital = _checked_capital(start_capital)
    closed, still_open = _split_baskets(baskets)
    returns = daily_returns(marks, capital, config.basis).to_numpy()
    period = _period(marks.index) if period is None else period
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
