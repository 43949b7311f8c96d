"""Where the P&L came from: the costs split, long against short, the P&L histogram, and
each basket's excursions (MAE, MFE) by exit code.

Every figure is a sum, count or mean over the closed baskets' rows of ``trades.csv``
(columns ``pnl``, ``costs``, ``commission``, ``swap``, ``spread_cost``, ``mae``, ``mfe``,
``direction``, ``exit_code``), so each one recomputes from that file; a table whose columns
the trades do not have says so instead of showing zeros.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from app.report.format import NA, sign_class
from app.report.inputs import EXIT_CODES
from app.report.markup import section_open
from app.report.svg.histogram import pnl_histogram
from engine.formatting import format_money

_SPLIT = ("commission", "swap", "spread_cost")


def _money(value: float, css: bool = True) -> str:
    if not math.isfinite(value):
        return f'<td class="num na">{NA}</td>'
    klass = f"num {sign_class(value)}" if css else "num"
    return f'<td class="{klass}">{format_money(value, signed=True)}</td>'


def _closed(trades: pd.DataFrame) -> pd.DataFrame:
    return trades[trades["exit_time"].notna()]


def _costs_table(closed: pd.DataFrame) -> str:
    """Net P&L taken apart: before costs, spread, commission, swap; per cluster and in all."""
    if not all(column in closed.columns for column in _SPLIT):
        return '<p class="note">Not available: these trades have no costs split.</p>'
    groups = [("All", closed), *((name, g) for name, g in closed.groupby("cluster", sort=True))]
    rows = (
        ("Before costs (price P&L at the mid)", lambda g: float(
            (g["pnl"] - g["commission"] - g["swap"] - g["spread_cost"]).sum())),
        ("Spread (crossing the bid-ask, inside the fills)",
         lambda g: float(g["spread_cost"].sum())),
        ("Commission", lambda g: float(g["commission"].sum())),
        ("Swap", lambda g: float(g["swap"].sum())),
        ("Total costs", lambda g: float(g[list(_SPLIT)].to_numpy().sum())),
        ("Net P&L", lambda g: float(g["pnl"].sum())),
    )
    head = "".join(f'<th class="num">{escape(str(name))}</th>' for name, _ in groups)
    body = "".join(
        f'<tr data-row="{index}"><th scope="row">{escape(label)}</th>'
        + "".join(_money(figure(g)) for _, g in groups) + "</tr>"
        for index, (label, figure) in enumerate(rows)
    )
    return (f'<div class="scroll"><table class="costs"><thead><tr><th>Closed baskets</th>'
            f"{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _side_row(label: str, group: pd.DataFrame) -> str:
    count = len(group)
    hours = ((group["exit_time"] - group["entry_time"]).dt.total_seconds() / 3600.0).mean() \
        if count else math.nan
    won = f"{(group['pnl'] > 0).mean():.1%}" if count else NA
    net = float(group["pnl"].sum())
    average = net / count if count else math.nan
    return (f'<tr data-side="{escape(label)}"><th scope="row">{escape(label)}</th>'
            f'<td class="num">{count:,}</td><td class="num">{won}</td>{_money(net)}'
            f"{_money(average)}"
            f'<td class="num">{f"{hours:,.1f}" if math.isfinite(hours) else NA}</td></tr>')


def _sides_table(closed: pd.DataFrame) -> str:
    """Long baskets against short ones."""
    rows = "".join(_side_row(side, closed[closed["direction"] == side])
                   for side in ("LONG", "SHORT"))
    return (
        '<table class="sides"><thead><tr><th>Side</th><th class="num">Baskets</th>'
        '<th class="num">Won</th><th class="num">Net P&amp;L</th><th class="num">Avg P&amp;L'
        '</th><th class="num">Avg hours</th></tr></thead>'
        f"<tbody>{rows}</tbody><tfoot>{_side_row('All', closed)}</tfoot></table>"
    )


def _excursion_row(label: str, group: pd.DataFrame) -> str:
    count = len(group)
    if not count:
        return ""
    price = group["pnl"] - group["costs"]
    return (f'<tr data-code="{escape(label)}"><th scope="row">{escape(label)}</th>'
            f'<td class="num">{count:,}</td>{_money(float(group["mae"].mean()))}'
            f'{_money(float(group["mfe"].mean()))}{_money(float(price.mean()))}'
            f'{_money(float(group["mae"].min()))}{_money(float(group["mfe"].max()))}</tr>')


def _excursions_table(closed: pd.DataFrame) -> str:
    """MAE and MFE by exit code: how far baskets went against and for the trader."""
    if "mae" not in closed.columns or "mfe" not in closed.columns:
        return '<p class="note">Not available: these trades have no MAE and MFE.</p>'
    rows = "".join(_excursion_row(code, closed[closed["exit_code"] == code])
                   for code in EXIT_CODES)
    return (
        '<table class="excursions"><thead><tr><th>Exit</th><th class="num">Baskets</th>'
        '<th class="num">Avg MAE</th><th class="num">Avg MFE</th>'
        '<th class="num">Avg price P&amp;L at exit</th><th class="num">Worst MAE</th>'
        '<th class="num">Best MFE</th></tr></thead>'
        f"<tbody>{rows}</tbody><tfoot>{_excursion_row('All', closed)}</tfoot></table>"
    )


def breakdown_section(trades: pd.DataFrame) -> str:
    """Costs, sides, the histogram and the excursions of the closed baskets."""
    closed = _closed(trades)
    if closed.empty:
        return (section_open("breakdown", "Where the P&L came from")
                + '<p class="note">No basket was closed in this run.</p></section>')
    histogram = pnl_histogram(closed["pnl"].to_numpy())
    return (
        section_open(
            "breakdown", "Where the P&L came from",
            "Closed baskets only; amounts in the account currency, negative = paid. Each "
            "figure is a sum or mean over the closed rows of trades.csv.")
        + "<h3>Costs split</h3>"
        + '<p class="lead">Net P&amp;L = price P&amp;L at the mid + spread + commission + '
        "swap (columns <code>spread_cost</code>, <code>commission</code>, <code>swap</code>; "
        "the spread is already inside the fill prices, not a further charge).</p>"
        + _costs_table(closed)
        + '<div class="split even"><div><h3>Long and short</h3>'
        + '<p class="lead">Won: net P&amp;L above zero. Hours: entry to exit.</p>'
        + _sides_table(closed) + "</div><div><h3>Excursions (MAE, MFE)</h3>"
        + '<p class="lead">Per basket, the lowest (MAE) and highest (MFE) price P&amp;L while '
        "open, marked at every M1 close at the prices a close would get, with 0 at the fills "
        "and the exit's price P&amp;L included; commission and swap left out (trades.csv "
        "<code>mae</code>, <code>mfe</code>).</p>"
        + f'<div class="scroll">{_excursions_table(closed)}</div></div></div>'
        + "<h3>Net P&amp;L per basket</h3>"
        + '<p class="lead">Closed baskets counted in bins of equal width, each bin from its '
        "left edge (included) to its right edge; hover a bar for its bin and count.</p>"
        + f'<figure class="wide">{histogram}</figure></section>'
    )

