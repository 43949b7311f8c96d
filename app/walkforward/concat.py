"""The out-of-sample windows end to end: one equity curve, one set of metrics, no deflation.

Each fold's out-of-sample run starts a fresh account at the start capital.  Chaining them
compounds each fold's growth on where the previous fold ended:

    C_t = C_end(k-1) * E_t / E_0        for the days t of fold k (C_end(0) = E_0)

so the curve is what one account would show had it traded the frozen choices fold after fold
(baskets still open at a fold's end are counted at their mark, as in that fold's equity).  A
day both folds mark (a window's first midnight) is kept from the earlier fold.  The metrics
are the standard ones (``engine.metrics.compute_metrics``) on that curve, with N = 1: nothing
is selected out-of-sample, so the PSR is the figure, not a DSR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from app.backtest import BacktestResult
from engine.metrics import ClosedBasket, MetricsConfig, PerformanceReport, compute_metrics


@dataclass(frozen=True)
class ConcatenatedOos:
    """``equity``: columns fold, balance, equity by UTC date; ``metrics`` None when fewer than
    two days were traded out-of-sample."""

    equity: pd.DataFrame
    start_capital: float
    metrics: PerformanceReport | None


def _capital(result: BacktestResult) -> float:
    return float(result.params.get("start_capital") or 100_000.0)


def concatenate_oos(results: Sequence[tuple[int, BacktestResult]]) -> ConcatenatedOos:
    """The chained curve of the folds' out-of-sample runs, in fold order."""
    capital = _capital(results[0][1]) if results else 100_000.0
    level, last = capital, None
    parts = []
    for number, result in results:
        equity = result.equity
        if last is not None:
            equity = equity[equity.index > last]
        if equity.empty:
            continue
        own = _capital(result)
        part = pd.DataFrame({"fold": number,
                             "balance": level * equity["balance"] / own,
                             "equity": level * equity["equity"] / own}, index=equity.index)
        parts.append(part)
        level, last = float(part["equity"].iloc[-1]), equity.index[-1]
    if not parts:
        empty = pd.DataFrame(columns=["fold", "balance", "equity"])
        return ConcatenatedOos(empty, capital, None)
    curve = pd.concat(parts)
    curve.index.name = "date"
    metrics = None
    if len(curve) >= 2:
        baskets = [b for _, r in results for b in _closed_baskets(r)]
        metrics = compute_metrics(curve["equity"], capital, baskets,
                                  config=MetricsConfig(trials=1,
                                                       basis=results[0][1].spec.metrics_basis))
    return ConcatenatedOos(curve, capital, metrics)


def _closed_baskets(result: BacktestResult) -> list[ClosedBasket]:
    """The run's closed baskets (their P&L at the fold's own account scale)."""
    t = result.trades
    closed = t[t["exit_time"].notna()] if len(t) else t
    return [ClosedBasket(row.cluster, row.direction, _utc(row.entry_time), _utc(row.exit_time),
                         row.exit_code, float(row.pnl), float(row.costs))
            for row in closed.itertuples(index=False)]


def _utc(value: object) -> object:
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()
