"""The top of the page: the navigation bar, the header with the run's facts, the run notes.

A run that did not finish says so in the navigation bar (which stays on screen while the
trader scrolls), in the header's status and in a banner with the reasons given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

import pandas as pd

from app.report.format import format_time
from app.report.markup import notes_list

#: The page's sections: (anchor, name in the navigation bar).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("equity", "Equity"),
    ("monthly", "Monthly"),
    ("breakdown", "Costs, sides, P&L"),
    ("exits", "Exits & clusters"),
    ("tdi", "TDI"),
    ("trades", "Trades"),
    ("legs", "Legs"),
    ("params", "Parameters"),
    ("metrics", "Appendix: metrics"),
)


def nav(complete: bool) -> str:
    """The sticky navigation bar with the run's status chip."""
    links = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name in SECTIONS)
    status = (
        '<span class="chip ok">Complete</span>'
        if complete
        else '<span class="chip bad">INCOMPLETE: partial results</span>'
    )
    return f'<nav class="top"><div class="inner">{status}{links}</div></nav>'


def _period_text(params: Mapping[str, Any], equity: pd.DataFrame) -> str:
    """The requested period and, when they differ, the days the equity marks cover."""
    first, last = equity.index[0].date(), equity.index[-1].date()
    marks = f"{first} to {last}"
    count = f"({len(equity):,} daily mark{'' if len(equity) == 1 else 's'})"
    period = params.get("period") if isinstance(params, Mapping) else None
    if isinstance(period, Mapping):
        start = period.get("start", period.get("from", period.get("first")))
        end = period.get("end", period.get("to", period.get("last")))
        requested = f"{format_time(start)} to {format_time(end)}"
    elif isinstance(period, list | tuple) and len(period) == 2:
        requested = f"{format_time(period[0])} to {format_time(period[1])}"
    elif period:
        requested = format_time(period)
    else:
        return f"{marks} {count}"
    if requested == marks:
        return f"{marks} {count}"
    return f"{requested}; equity marks {marks} {count}"


def _data_source_text(params: Mapping[str, Any], data_ranges: Mapping[str, Any]) -> str:
    for key in ("data_source", "source"):
        value = params.get(key)
        if value and not isinstance(value, Mapping):
            return str(value)
    data = params.get("data")
    if isinstance(data, Mapping) and data.get("source"):
        return str(data["source"])
    sources = sorted(
        {str(r.get("source")) for r in data_ranges.values() if isinstance(r, Mapping)}
        - {"None", ""}
    )
    return ", ".join(sources) if sources else "not given"


def header(
    title: str,
    params: Mapping[str, Any],
    data_ranges: Mapping[str, Any],
    equity: pd.DataFrame,
    names: Sequence[str],
    complete: bool,
    generated: datetime,
) -> str:
    """The title and the run's facts: period, clusters, data source, status, time."""
    rows: list[tuple[str, str, str]] = [
        ("Period", _period_text(params, equity), ""),
        ("Clusters", f"{len(names)}: {', '.join(names)}" if names else "none", ""),
        ("Data source", _data_source_text(params, data_ranges), ""),
    ]
    for key, name in (("tick_mode", "Tick mode"), ("spread_model", "Spreads"), ("seed", "Seed"),
                      ("config_hash", "Config")):
        if isinstance(params, Mapping) and params.get(key) not in (None, ""):
            rows.append((name, str(params[key]), ""))
    rows.append(
        ("Status", "Complete" if complete else "INCOMPLETE: stopped before the end of its period",
         "pos" if complete else "neg strong")
    )
    rows.append(("Generated", generated.strftime("%Y-%m-%d %H:%M:%S UTC"), ""))
    items = "".join(
        f'<div><dt>{escape(name)}</dt><dd class="{css}">{escape(value)}</dd></div>'
        for name, value, css in rows
    )
    return (
        f'<header id="top"><p class="kicker">Backtest report</p><h1>{escape(title)}</h1>'
        f'<dl class="meta">{items}</dl></header>'
    )


def incomplete_banner(notes: Sequence[str], equity: pd.DataFrame) -> str:
    """The alert at the top of a run that stopped early, with the reasons given."""
    last = equity.index[-1].date()
    reasons = notes_list(notes) or "<p>No reason was recorded.</p>"
    return (
        '<div class="banner" role="alert"><p><strong>INCOMPLETE:</strong> this run stopped '
        f"before the end of its period. Every figure below covers only the part that ran (up "
        f"to {last}); it is not the result of the run as configured.</p>{reasons}</div>"
    )


def run_notes(notes: Sequence[str]) -> str:
    """A complete run's notes, when it has any."""
    listed = notes_list(notes)
    return f'<div class="note-box"><h3>Run notes</h3>{listed}</div>' if listed else ""
