"""Equity and drawdown: the daily marks, the realised balance and the maximum drawdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from app.report import svg as report_svg
from app.report.inputs import section_of
from app.report.markup import legend, section_open
from engine.formatting import format_money


def _drawdown_window(
    metrics: Mapping[str, Any], equity: pd.DataFrame
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The maximum drawdown from its peak to its recovery (or the last day), to shade."""
    returns = section_of(metrics, "returns")
    peak = returns.get("max_drawdown_peak_date")
    if not peak or not returns.get("max_drawdown_trough_date"):
        return None
    end = returns.get("max_drawdown_recovery_date") or equity.index[-1].date().isoformat()
    try:
        return pd.Timestamp(peak, tz="UTC"), pd.Timestamp(end, tz="UTC")
    except (TypeError, ValueError):
        return None


def equity_section(
    equity: pd.DataFrame, start_capital: float, metrics: Mapping[str, Any]
) -> str:
    """The equity and drawdown chart with the start and last figures."""
    chart = report_svg.equity_chart(
        pd.DatetimeIndex(equity.index),
        equity["equity"].to_numpy(),
        equity["balance"].to_numpy(),
        start_capital,
        _drawdown_window(metrics, equity),
    )
    final_equity = float(equity["equity"].iloc[-1])
    final_balance = float(equity["balance"].iloc[-1])
    open_pnl = format_money(final_equity - final_balance, signed=True)
    facts = (
        f"Start capital {format_money(start_capital)}; last mark: equity "
        f"{format_money(final_equity)}, balance {format_money(final_balance)} "
        f"(open P&amp;L {open_pnl})."
    )
    chart_legend = legend(
        ("sw equity", "Equity (mark-to-market, end of each UTC day)"),
        ("sw balance", "Balance (realised)"),
        ("sw capital", "Start capital"),
        ("sw dd", "Drawdown: equity / running peak - 1, the start capital counting as a peak"),
        ("sw shade", "Maximum drawdown, peak to recovery (or the last day)"),
    )
    return (
        section_open("equity", "Equity and drawdown", facts)
        + chart_legend + f'<figure class="wide">{chart}</figure></section>'
    )
