"""Cross-checks of the inputs against each other, shown near the top of the page.

Basket counts, net P&L, symbols without data and baskets outside the equity period are
compared rather than silently trusted; a failure is listed, never hidden, and a pass names
only the checks that could be made.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from app.report.inputs import section_of
from app.report.markup import notes_list
from engine.formatting import format_money

#: A basket count or net P&L that differs by more than this between metrics and trades is
#: shown as a failed cross-check (P&L is rounded to cents in the journal).
_PNL_TOLERANCE = 0.005


def checks(
    metrics: Mapping[str, Any],
    trades: pd.DataFrame,
    equity: pd.DataFrame,
    data_ranges: Mapping[str, Any],
) -> str:
    """Cross-checks of the inputs against each other; failures are listed, never hidden,
    and a pass names only the checks that could be made."""
    closed = trades[trades["exit_time"].notna()]
    problems, passed = _metrics_against_trades(section_of(metrics, "baskets"), closed)
    problems += _baskets_outside(closed, equity)
    for symbol, info in data_ranges.items():
        if isinstance(info, Mapping) and info.get("rows") == 0:
            problems.append(f"symbol {symbol} has no data in the period (0 rows)")
    if problems:
        return (
            '<div class="checks bad"><h3>Cross-checks failed</h3>'
            f"{notes_list(problems)}</div>"
        )
    agree = f"{' and '.join(passed)} agree between the metrics and the trades; " if passed else ""
    symbols = f"no data range of the {len(data_ranges):,} listed is empty" if data_ranges else (
        "no data range was given"
    )
    return (
        f'<p class="checks ok">Cross-checks passed: {escape(agree)}every basket closed inside '
        f"the equity period; {symbols}.</p>"
    )


def _metrics_against_trades(
    baskets: Mapping[str, Any], closed: pd.DataFrame
) -> tuple[list[str], list[str]]:
    """(problems, checks made) of the metrics' basket count and net P&L against the trades."""
    problems: list[str] = []
    passed: list[str] = []
    counted = baskets.get("baskets")
    if isinstance(counted, int):
        if counted != len(closed):
            problems.append(
                f"the metrics count {counted:,} closed baskets but the trades table has "
                f"{len(closed):,}"
            )
        passed.append("the closed-basket count")
    net = baskets.get("net_pnl")
    if isinstance(net, int | float):
        summed = float(closed["pnl"].sum())
        if abs(net - summed) > _PNL_TOLERANCE:
            problems.append(
                f"the metrics' net P&L is {format_money(net, signed=True)} but the trades sum "
                f"to {format_money(summed, signed=True)}"
            )
        passed.append("the net P&L")
    return problems, passed


def _baskets_outside(closed: pd.DataFrame, equity: pd.DataFrame) -> list[str]:
    """A problem when a basket closed outside the days the equity marks cover."""
    start = equity.index[0]
    end = equity.index[-1] + pd.Timedelta(days=1)
    outside = closed[(closed["exit_time"] < start) | (closed["exit_time"] >= end)]
    if not len(outside):
        return []
    return [
        f"{len(outside):,} basket(s) closed outside the equity period {start.date()} to "
        f"{equity.index[-1].date()} (first: {outside['basket_id'].iloc[0] or '(no id)'})"
    ]
