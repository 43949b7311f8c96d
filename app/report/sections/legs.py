"""Per-leg detail: every leg of every basket as ``legs.csv`` has it, in a sortable table.

The row of a leg is what its deals booked (``app.backtest.legs`` defines each column): side,
lots, the volume-weighted fill prices at the opening and the closing, and the money; a
basket's P&L in the trades table is the sum of its legs' here.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from app.report.format import format_instant, sign_class
from app.report.markup import section_open
from engine.formatting import format_money

#: (column, heading, kind): kind "text", "time", "lots", "price" or "money".
_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("basket_id", "Basket", "text"), ("symbol", "Symbol", "text"), ("side", "Side", "text"),
    ("lots", "Lots", "lots"), ("open_time", "Open (UTC)", "time"),
    ("open_price", "Open price", "price"), ("close_time", "Close (UTC)", "time"),
    ("close_price", "Close price", "price"), ("profit", "Profit", "money"),
    ("commission", "Commission", "money"), ("swap", "Swap", "money"),
    ("spread_cost", "Spread", "money"), ("pnl", "P&L", "money"),
)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _cell(kind: str, value: Any) -> str:
    if kind == "text":
        return f"<td>{escape('' if value is None else str(value))}</td>"
    if kind == "time":
        stamp = pd.Timestamp(value) if value is not None and not pd.isna(value) else None
        if stamp is None:
            return '<td data-v="">open</td>'
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        return f'<td data-v="{stamp.value}">{escape(format_instant(stamp))}</td>'
    number = _number(value)
    if not math.isfinite(number):
        return '<td class="num" data-v=""></td>'
    if kind == "money":
        text, css = format_money(number, signed=True), sign_class(number)
    elif kind == "lots":
        text, css = f"{number:g}", ""
    else:
        text, css = f"{number:.10g}", ""
    return f'<td class="num {css}" data-v="{number:.10g}">{escape(text)}</td>'


def legs_section(legs: pd.DataFrame | None) -> str:
    """The legs table, or why there is none."""
    lead = ("One row per leg (legs.csv): lots bought or sold, volume-weighted fill prices, "
            "and the money its deals booked; a basket's P&amp;L is the sum of its legs'. "
            "Click a column heading to sort.")
    if legs is None:
        return (section_open("legs", "Legs", lead)
                + '<p class="note">Not available: this report was given no legs.</p></section>')
    if legs.empty:
        return (section_open("legs", "Legs", lead)
                + '<p class="note">No basket was opened in this run.</p></section>')
    missing = [column for column, _, _ in _COLUMNS if column not in legs.columns]
    if missing:
        return (section_open("legs", "Legs", lead) + '<p class="note">Not available: the '
                f"legs lack column(s) {escape(', '.join(missing))}.</p></section>")
    head = "".join(
        f'<th class="{"" if kind in ("text", "time") else "num"}" title="click to sort">'
        f"{escape(name)}</th>" for _, name, kind in _COLUMNS)
    rows = "".join(
        "<tr>" + "".join(_cell(kind, value) for (_, _, kind), value in
                         zip(_COLUMNS, row, strict=True)) + "</tr>"
        for row in legs[[column for column, _, _ in _COLUMNS]].itertuples(index=False,
                                                                         name=None))
    return (section_open("legs", "Legs", lead)
            + f'<div class="scroll tall"><table class="legs sortable"><thead><tr>{head}</tr>'
            f"</thead><tbody>{rows}</tbody></table></div></section>")
