"""Exit codes and clusters: baskets by the rule that closed them, and per-cluster figures."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from app.report import svg as report_svg
from app.report.format import NA, format_metric, label_of, sign_class
from app.report.inputs import EXIT_CODES, notes_of, section_of
from app.report.markup import attr, notes_list, section_open, title_attr
from engine.formatting import format_money

EXIT_RULES: dict[str, str] = {
    "MR": "mean reversion: |TDI| back below X",
    "OS": "overshoot: TDI through the band to the other side",
    "TP": "take profit: basket P&L reached its target",
    "HS": "hard stop: basket loss reached its risk budget",
    "TS": "TDI stop: TDI beyond the stop against the position",
    "TO": "time stop: open longer than the bar limit",
    "NEWS": "flattened before a high-impact event",
    "MANUAL": "closed by the trader",
    "RISK": "closed by a portfolio or account limit",
    "EX": "expiry: a dated contract within its close-before-expiry days",
    "DC": "deal completed (a deal cluster's completion date or the trader's event)",
    "DB": "deal broken (a deal cluster's break date or the trader's event)",
}


def _exit_row(code: str, subset: pd.DataFrame, total: int) -> str:
    """One exit code: its rule, baskets, share and, when it closed any, their P&L."""
    count = len(subset)
    share = f"{count / total:.1%}" if total else NA
    if count:
        net = float(subset["pnl"].sum())
        average = net / count
        wins = f"{(subset['pnl'] > 0).mean():.0%}"
        money_cells = (
            f'<td class="num {sign_class(net)}">{format_money(net, signed=True)}</td>'
            f'<td class="num {sign_class(average)}">{format_money(average, signed=True)}</td>'
            f'<td class="num">{wins}</td>'
        )
    else:
        money_cells = '<td class="num muted">-</td>' * 3
    return (
        f'<tr class="{"" if count else "zero"}" data-code="{code}"><th scope="row">{code}</th>'
        f"<td>{escape(EXIT_RULES.get(code, ''))}</td><td class=\"num\">{count:,}</td>"
        f'<td class="num">{share}</td>{money_cells}</tr>'
    )


def _exit_table(trades: pd.DataFrame) -> tuple[str, str]:
    """The exits table and its bar chart."""
    closed = trades[trades["exit_time"].notna()]
    total = len(closed)
    rows, counts = [], []
    for code in EXIT_CODES:
        subset = closed[closed["exit_code"] == code]
        counts.append(len(subset))
        rows.append(_exit_row(code, subset, total))
    still_open = len(trades) - total
    if still_open:
        rows.append(
            f'<tr class="open"><th scope="row">open</th><td>still open at the end (not in the '
            f'shares)</td><td class="num">{still_open:,}</td><td class="num">-</td>'
            '<td class="num muted">-</td><td class="num muted">-</td><td class="num muted">-</td>'
            "</tr>"
        )
    net = float(closed["pnl"].sum())
    table = (
        '<table class="exits"><thead><tr><th>Code</th><th>Rule</th><th class="num">Baskets</th>'
        '<th class="num">Share</th><th class="num">Net P&amp;L</th><th class="num">Avg P&amp;L'
        f'</th><th class="num">Won</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        f'<tfoot><tr><th>All</th><td></td><td class="num">{total:,}</td>'
        f'<td class="num">{"100.0%" if total else NA}</td>'
        f'<td class="num {sign_class(net)}">'
        f'{format_money(net, signed=True)}</td><td></td><td></td></tr></tfoot></table>'
    )
    return table, report_svg.bar_chart(list(EXIT_CODES), counts, total)


def _cluster_table(metrics: Mapping[str, Any]) -> str:
    """Per-cluster figures, one column per cluster, each row with its definition."""
    clusters = section_of(metrics, "clusters")
    by_cluster = section_of(clusters, "by_cluster")
    if not by_cluster:
        if clusters:
            return '<p class="note">The metrics list no cluster.</p>'
        return '<p class="note">Not available: the metrics have no "clusters" section.</p>'
    bases = section_of(clusters, "basis")
    names = list(by_cluster)
    keys: dict[str, None] = dict.fromkeys(bases)
    for figures in by_cluster.values():
        if isinstance(figures, Mapping):
            keys.update(dict.fromkeys(k for k in figures if k != "notes"))
    head = "".join(f'<th class="num">{escape(str(n))}</th>' for n in names)
    rows, footnotes = [], []
    for key in keys:
        cells = []
        for name in names:
            figures = by_cluster[name] if isinstance(by_cluster[name], Mapping) else {}
            note = notes_of(figures).get(key, "")
            text, css = format_metric(key, figures.get(key)) if key in figures else (NA, "na")
            if note:
                footnotes.append(f"{name}, {label_of(key).lower()}: {note}")
            cells.append(f'<td class="num {css}"{title_attr(note)}>{escape(text)}</td>')
        basis = escape(str(bases.get(key, "")))
        rows.append(
            f'<tr data-metric="{attr(key)}"><th scope="row">{escape(label_of(key))}'
            f'<span class="basis">{basis}</span></th>{"".join(cells)}</tr>'
        )
    notes_html = (
        f'<div class="note-list"><h4>Notes</h4>{notes_list(footnotes)}</div>' if footnotes else ""
    )
    return (
        '<div class="scroll"><table class="clusters"><thead><tr><th>Metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{notes_html}"
    )


def exits_section(trades: pd.DataFrame, metrics: Mapping[str, Any]) -> str:
    """The exits table and chart, then the per-cluster figures."""
    table, chart = _exit_table(trades)
    return (
        section_open(
            "exits", "Exit codes and clusters",
            "Closed baskets by the rule that closed them (first matching rule wins).",
        )
        + f'<div class="split"><div>{table}</div><figure class="bars">{chart}</figure></div>'
        + "<h3>Per-cluster figures</h3>"
        + '<p class="lead">Each cluster\'s baskets and its daily returns on the unified capital '
        "pool; the grey line under each name is its definition.</p>"
        + _cluster_table(metrics)
        + "</section>"
    )
