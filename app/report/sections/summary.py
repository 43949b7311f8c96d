"""The headline cards: the ten figures a trader looks at first, each with its context.

A card's tooltip is the metric's definition; an undefined figure shows "n/a" with the reason
from the metrics' notes instead of the context line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from app.report.format import NA, format_metric
from app.report.inputs import basis_label_of, notes_of, section_of
from app.report.markup import attr, section_open
from engine.formatting import format_money

#: (metrics section, key, card name), in the order the cards are shown.
_HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("returns", "total_return", "Total return"),
    ("returns", "cagr", "CAGR"),
    ("returns", "sharpe", "Sharpe"),
    ("returns", "sortino", "Sortino"),
    ("returns", "max_drawdown", "Max drawdown"),
    ("returns", "calmar", "Calmar"),
    ("baskets", "profit_factor", "Profit factor"),
    ("baskets", "win_rate", "Win rate"),
    ("baskets", "baskets", "Baskets"),
    ("significance", "dsr", "DSR"),
)


def _headline_context(metrics: Mapping[str, Any], key: str) -> str:
    returns, baskets = section_of(metrics, "returns"), section_of(metrics, "baskets")
    significance = section_of(metrics, "significance")
    if key == "total_return" and returns.get("final_equity") is not None:
        start = returns.get("start_capital")
        start_text = format_money(start) if isinstance(start, int | float) else NA
        return f"{start_text} to {format_money(returns['final_equity'])}"
    if key == "max_drawdown" and returns.get("max_drawdown_trough_date"):
        return (
            f"peak {returns.get('max_drawdown_peak_date')}, trough "
            f"{returns.get('max_drawdown_trough_date')}"
        )
    if key == "baskets":
        return (
            f"{baskets.get('wins', 0):,} won, {baskets.get('losses', 0):,} lost, "
            f"{baskets.get('open_baskets', 0):,} open"
        )
    label = basis_label_of(metrics)
    if key == "dsr" and significance.get("trials") is not None:
        psr, _ = format_metric("psr", significance.get("psr"))
        return f"N = {significance['trials']} trial(s); PSR {psr} ({label})"
    if key in ("sharpe", "sortino"):
        return f"annualised ({label})"
    if key == "profit_factor" and baskets.get("gross_profit") is not None:
        gross_loss = baskets.get("gross_loss")
        loss_text = format_money(gross_loss) if isinstance(gross_loss, int | float) else NA
        return f"gross profit {format_money(baskets['gross_profit'])} / loss {loss_text}"
    if key == "calmar":
        return "CAGR / max drawdown"
    if key == "win_rate" and isinstance(baskets.get("average_pnl"), int | float):
        return f"average P&L {format_money(baskets['average_pnl'], signed=True)}"
    return ""


def summary_section(metrics: Mapping[str, Any]) -> str:
    """The headline cards."""
    cards = []
    for section_name, key, name in _HEADLINE:
        section = section_of(metrics, section_name)
        value = section.get(key)
        text, css = format_metric(key, value) if key in section else ("missing", "na")
        basis = str(section.get(f"{key}_basis", ""))
        note = notes_of(section).get(key, "")
        if key not in section:
            note = f"the metrics have no {section_name}.{key}"
        context = note or _headline_context(metrics, key)
        if note and isinstance(value, int | float) and math.isfinite(value):
            # a figure that stands with a caveat (few returns): its own context stays
            context = "; ".join(c for c in (_headline_context(metrics, key), note) if c)
        context_css = "note" if note else "context"
        cards.append(
            f'<div class="card" data-metric="{attr(key)}" title="{attr(basis)}">'
            f'<div class="name">{escape(name)}</div>'
            f'<div class="value {css}">{escape(text)}</div>'
            f'<div class="{context_css}">{escape(context)}</div></div>'
        )
    return (
        section_open("summary", "Summary", "Hover a figure for its definition; every figure "
                     "is listed with its definition in the appendix at the end.")
        + f'<div class="cards">{"".join(cards)}</div></section>'
    )
