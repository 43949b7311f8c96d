"""Per-cluster figures on the unified capital pool, and how the clusters move together
(correlation, diversification ratio).

A cluster's daily returns are its daily P&L over the start capital: every cluster draws on the
same pool, so their returns add up to the pool's.  They are on the days of the configured
basis (:mod:`engine.metrics.basis`): with the trading basis a weekend day's P&L adds to the
following Monday's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from engine.metrics.basis import basis_pnl
from engine.metrics.baskets import (
    FEW_BASKETS,
    BasketMetrics,
    _basket_metrics,
    few_baskets_note,
)
from engine.metrics.inputs import (
    BasketInput,
    ClosedBasket,
    MetricsConfig,
    MetricsInputError,
    _OpenBasket,
    _period,
    _split_baskets,
    utc_dates,
)
from engine.metrics.returns import ZERO_DISPERSION, _Measured, _sharpe, _volatility

#: How far before an end-of-day mark's instant its day ends (the equity marks' own rule).
_MARK_INSTANT = timedelta(milliseconds=1)


def cluster_daily_pnl(
    baskets: Iterable[BasketInput], dates: pd.Index | Sequence[Any]
) -> pd.DataFrame:
    """Daily realised P&L per cluster: each closed basket's net pnl on the date it closed.

    Basis: REALISED P&L by exit date, not mark-to-market (an open basket adds nothing until
    it closes). ``dates`` are the equity dates; an exit on a date without a mark (a weekend)
    lands on the next date that has one, the mark where that P&L first shows; an exit at
    exactly 00:00 UTC belongs to the day that midnight's mark closes. Rows are
    ``dates`` as UTC midnights, columns the clusters in name order, 0 where nothing closed.
    """
    index = utc_dates(pd.Index(dates), "dates")
    if index.empty:
        raise MetricsInputError("dates are empty: there is no day to put P&L on")
    closed, _ = _split_baskets(baskets)
    clusters = sorted({basket.cluster for basket in closed})
    table = np.zeros((len(index), len(clusters)), dtype=np.float64)
    column = {cluster: position for position, cluster in enumerate(clusters)}
    period_start, period_end = _period(index)
    for basket in closed:
        # the mark at 00:00 UTC closes the previous day (and includes what closed at that
        # instant): an exit at exactly midnight is that day's, like the equity it moved
        booked = basket.exit_time - _MARK_INSTANT
        if not period_start <= booked < period_end:
            raise MetricsInputError(
                f"basket of {basket.cluster} closed at {basket.exit_time.isoformat()}, outside "
                f"the equity period {index[0].date()}..{index[-1].date()}: pass only the "
                "baskets closed within the period"
            )
        exit_day = pd.Timestamp(booked).normalize()
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
    index = utc_dates(cluster_pnl.index, "cluster P&L")
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
    daily = basis_pnl(pnl, config.basis)  # the return days of the pool's Sharpe
    returns = daily / capital
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
        if "sharpe" not in notes and math.isfinite(sharpe.value) and \
                stats.baskets < FEW_BASKETS:  # a cluster's Sharpe from one or two trades
            notes["sharpe"] = few_baskets_note(stats.baskets)
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
    ratio = _diversification_ratio(daily)
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
