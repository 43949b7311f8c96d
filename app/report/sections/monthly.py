"""Monthly returns: a year-by-month table of the mark-to-market equity's returns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app.report.markup import section_open, title_attr
from engine.formatting import format_money

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def monthly_returns(equity: pd.Series, start_capital: float) -> pd.DataFrame:
    """Calendar-month returns: month-end equity / previous month-end equity - 1.

    The first month is measured against ``start_capital``; a month without a mark is NaN and
    the next month is measured against the last month-end before it. Rows are years,
    columns 1..12 and ``"year"`` (year-end equity / previous year-end equity - 1).
    """
    marks = pd.Series(np.asarray(equity, dtype=np.float64), index=pd.DatetimeIndex(equity.index))
    if marks.empty:
        return pd.DataFrame(columns=[*range(1, 13), "year"], dtype=np.float64)
    month_end = marks.groupby([marks.index.year, marks.index.month]).last()
    previous = np.concatenate(([start_capital], month_end.to_numpy()[:-1]))
    by_month = month_end.to_numpy() / previous - 1.0
    year_end = marks.groupby(marks.index.year).last()
    previous_year = np.concatenate(([start_capital], year_end.to_numpy()[:-1]))
    table = pd.DataFrame(
        np.nan, index=pd.Index(year_end.index, name="year"), columns=[*range(1, 13), "year"]
    )
    for (year, month), value in zip(month_end.index, by_month, strict=True):
        table.loc[year, month] = value
    table["year"] = year_end.to_numpy() / previous_year - 1.0
    return table


def _month_cell(value: float, scale: float, key: str, partial: str) -> str:
    if not math.isfinite(value):
        return f'<td class="num empty" data-month="{key}"></td>'
    strength = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    colour = "26,127,55" if value > 0 else "207,34,46"
    style = f"background:rgba({colour},{0.08 + 0.42 * strength:.2f})" if value else ""
    mark = '<sup title="partial month">*</sup>' if partial else ""
    return (
        f'<td class="num" data-month="{key}" style="{style}"{title_attr(partial)}>'
        f"{value * 100:+.2f}%{mark}</td>"
    )


def _partial_months(days: pd.DatetimeIndex) -> dict[str, str]:
    """The first and last months when the marks do not cover them (3 days of slack for a
    weekend or holiday): their return is not a full month's."""
    out: dict[str, str] = {}
    first, last = days[0], days[-1]
    if first.day > 3:
        out[first.strftime("%Y-%m")] = f"partial month: from {first.date()}"
    month_end = last + pd.offsets.MonthEnd(0)
    if (month_end - last).days > 3:
        key = last.strftime("%Y-%m")
        out[key] = (out[key] + f" to {last.date()}") if key in out else (
            f"partial month: to {last.date()}"
        )
    return out


def monthly_section(equity: pd.DataFrame, start_capital: float) -> str:
    """The monthly returns table, each cell tinted by its size, partial months marked."""
    table = monthly_returns(equity["equity"], start_capital)
    values = table[list(range(1, 13))].to_numpy(dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    scale = float(np.quantile(finite, 0.9)) if finite.size else 0.0
    partial = _partial_months(pd.DatetimeIndex(equity.index))
    year_scale = max(scale * 3.0, 1e-9)
    rows = []
    for year, row in table.iterrows():
        cells = [
            _month_cell(float(row[m]), scale, f"{year}-{m:02d}", partial.get(f"{year}-{m:02d}", ""))
            for m in range(1, 13)
        ]
        cells.append(_month_cell(float(row["year"]), year_scale, f"{year}", "").replace(
            'class="num"', 'class="num total"'))
        rows.append(f'<tr><th scope="row">{year}</th>{"".join(cells)}</tr>')
    head = "".join(f'<th class="num">{m}</th>' for m in _MONTHS)
    footnote = (
        '<p class="note">* partial month: the marks start or end inside it.</p>' if partial else ""
    )
    lead = (
        "Month-end equity / previous month-end equity - 1 on the daily mark-to-market equity; "
        f"the first month against the start capital ({format_money(start_capital)}). Year: "
        "year-end equity / previous year-end equity - 1."
    )
    return (
        section_open("monthly", "Monthly returns", lead)
        + f'<div class="scroll"><table class="monthly"><thead><tr><th>Year</th>{head}'
        f'<th class="num">Year</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        f"{footnote}</section>"
    )
