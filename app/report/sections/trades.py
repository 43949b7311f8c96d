"""The trades table: one row per basket, sortable by clicking a column heading.

Each cell that sorts by number carries its value in ``data-v`` (times as epoch nanoseconds),
so the page's script sorts without parsing the shown text.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from app.report.format import format_instant, sign_class
from app.report.markup import section_open
from engine.formatting import format_money

_HEADERS: tuple[tuple[str, bool], ...] = (
    ("#", True), ("Basket", False), ("Cluster", False), ("Side", False),
    ("Entry (UTC)", False), ("Exit (UTC)", False), ("Hours", True), ("Entry TDI", True),
    ("Exit TDI", True), ("Exit", False), ("P&L", True), ("Costs", True),
)


def _number_cell(value: float, text: str, css: str = "") -> str:
    sort_key = f"{value:.10g}" if math.isfinite(value) else ""
    return f'<td class="num {css}" data-v="{sort_key}">{escape(text)}</td>'


def _tdi_cell_text(value: float) -> str:
    return f"{value:+.2f}" if math.isfinite(value) else ""


#: The costs split and the excursions, when the trades have them: (column, heading).
_SPLIT: tuple[tuple[str, str], ...] = (
    ("commission", "Commission"), ("swap", "Swap"), ("spread_cost", "Spread"),
    ("mae", "MAE"), ("mfe", "MFE"),
)


def _money_cell(value: float) -> str:
    return _number_cell(value, format_money(value, signed=True) if math.isfinite(value) else "")


def _trade_row(number: int, row: Any, split: tuple[str, ...]) -> str:
    entry = row.entry_time
    is_open = pd.isna(row.exit_time)
    hours = (
        (row.exit_time - entry).total_seconds() / 3600.0 if not is_open else float("nan")
    )
    pnl_text = (
        format_money(row.pnl, signed=True) if math.isfinite(row.pnl)
        else ("open" if is_open else "")
    )
    costs_text = format_money(row.costs, signed=True) if math.isfinite(row.costs) else ""
    return (
        f'<tr class="{"open" if is_open else ""}">'
        + _number_cell(number, str(number))
        + f"<td>{escape(row.basket_id)}</td><td>{escape(row.cluster)}</td>"
        + f'<td class="{row.direction.lower()}">{escape(row.direction)}</td>'
        + f'<td data-v="{entry.value}">{escape(format_instant(entry))}</td>'
        + (
            '<td data-v="">open</td>'
            if is_open
            else f'<td data-v="{row.exit_time.value}">{escape(format_instant(row.exit_time))}</td>'
        )
        + _number_cell(hours, f"{hours:,.1f}" if math.isfinite(hours) else "")
        + _number_cell(row.entry_tdi, _tdi_cell_text(row.entry_tdi))
        + _number_cell(row.exit_tdi, _tdi_cell_text(row.exit_tdi))
        + f"<td>{escape(row.exit_code)}</td>"
        + _number_cell(row.pnl, pnl_text, sign_class(row.pnl) if math.isfinite(row.pnl) else "")
        + _number_cell(row.costs, costs_text)
        + "".join(_money_cell(getattr(row, column)) for column in split)
        + "</tr>"
    )


def trades_section(trades: pd.DataFrame) -> str:
    """Every basket with its times, TDI, exit code, P&L and costs; closed totals at the foot."""
    if trades.empty:
        return (
            section_open("trades", "Trades")
            + '<p class="note">No basket was opened in this run.</p></section>'
        )
    split = tuple(column for column, _ in _SPLIT if column in trades.columns)
    rows = "".join(
        _trade_row(number, row, split)
        for number, row in enumerate(trades.itertuples(index=False), start=1)
    )
    closed = trades[trades["exit_time"].notna()]
    net, costs = float(closed["pnl"].sum()), float(closed["costs"].sum())
    headers = (*_HEADERS, *((name, True) for column, name in _SPLIT if column in split))
    head = "".join(
        f'<th class="{"num" if numeric else ""}" title="click to sort">{escape(name)}</th>'
        for name, numeric in headers
    )
    split_foot = "".join(
        # a sum of excursions means nothing: their column stays empty at the foot
        '<td class="num"></td>' if column in ("mae", "mfe") else
        f'<td class="num">{format_money(float(closed[column].sum()), signed=True)}</td>'
        for column in split
    )
    foot = (
        f'<tr><th colspan="10">{len(closed):,} closed basket(s), total</th>'
        f'<td class="num {sign_class(net)}">{format_money(net, signed=True)}</td>'
        f'<td class="num">{format_money(costs, signed=True)}</td>{split_foot}</tr>'
    )
    return (
        section_open(
            "trades", "Trades",
            "One row per basket; P&amp;L is net of costs in the account currency, costs are "
            "negative when paid. Costs are what the journal books beside the fills "
            "(commission + swap); the spread column is what crossing the bid-ask spread took, "
            "already inside the P&amp;L through the fill prices (legs.csv has each leg). "
            "MAE and MFE: the basket's lowest and highest price P&amp;L while open (see "
            "Where the P&amp;L came from). Click a column heading to sort.",
        )
        + f'<div class="scroll tall"><table class="trades sortable"><thead><tr>{head}</tr>'
        f"</thead><tbody>{rows}</tbody><tfoot>{foot}</tfoot></table></div></section>"
    )
