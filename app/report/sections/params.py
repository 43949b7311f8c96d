"""Parameters and data: the run's settings as given, each cluster's settings, the data ranges.

A symbol without data in the period is highlighted here (and listed in the cross-checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from app.report.format import format_time, format_value
from app.report.inputs import flatten
from app.report.markup import section_open

#: Data-range keys that have their own column.
_RANGE_KEYS = ("first", "last", "rows", "source")


def _kv_table(title: str, mapping: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{escape(key)}</th><td>{escape(format_value(value))}</td></tr>"
        for key, value in flatten(mapping).items()
    )
    return f'<div class="kv"><h4>{escape(title)}</h4><table><tbody>{rows}</tbody></table></div>'


def _cluster_params_table(clusters: Mapping[str, Mapping[str, Any]]) -> str:
    if not clusters:
        return ""
    keys: dict[str, None] = {}
    for settings in clusters.values():
        keys.update(dict.fromkeys(settings))
    long_text = [k for k in keys if k == "why"]
    columns = [k for k in keys if k not in long_text] + long_text
    head = "".join(f"<th>{escape(k)}</th>" for k in columns)
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        + "".join(
            f'<td class="{"why" if k == "why" else ""}">'
            f"{escape(format_value(settings.get(k)) if k in settings else '')}</td>"
            for k in columns
        )
        + "</tr>"
        for name, settings in clusters.items()
    )
    return (
        '<h3>Clusters</h3><div class="scroll"><table class="params"><thead><tr><th>Cluster</th>'
        f"{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _range_row(symbol: Any, info: Any, extra: Mapping[str, None]) -> str:
    info = info if isinstance(info, Mapping) else {}
    count = info.get("rows")
    empty = count == 0
    count_text = f"{count:,}" if isinstance(count, int) else "unknown"
    return (
        f'<tr class="{"missing" if empty else ""}"><th scope="row">{escape(str(symbol))}</th>'
        f"<td>{escape(format_time(info.get('first')) or 'unknown')}</td>"
        f"<td>{escape(format_time(info.get('last')) or 'unknown')}</td>"
        f'<td class="num">{escape(count_text)}</td>'
        f"<td>{escape(format_value(info.get('source')))}</td>"
        + "".join(f"<td>{escape(format_value(info.get(k)))}</td>" for k in extra)
        + "</tr>"
    )


def _ranges_table(data_ranges: Mapping[str, Mapping[str, Any]]) -> str:
    if not data_ranges:
        return '<h3>Data ranges</h3><p class="note">No data range was given.</p>'
    extra: dict[str, None] = {}
    for info in data_ranges.values():
        if isinstance(info, Mapping):
            extra.update(dict.fromkeys(k for k in info if k not in _RANGE_KEYS))
    head = "".join(f"<th>{escape(str(k))}</th>" for k in extra)
    rows = "".join(_range_row(symbol, info, extra) for symbol, info in data_ranges.items())
    return (
        '<h3>Data ranges</h3><div class="scroll"><table class="params"><thead><tr>'
        '<th>Symbol</th><th>First</th><th>Last</th><th class="num">Rows</th><th>Source</th>'
        f'{head}</tr></thead><tbody>{rows}</tbody></table></div>'
    )


def params_section(
    params: Mapping[str, Any],
    clusters: Mapping[str, Mapping[str, Any]],
    data_ranges: Mapping[str, Mapping[str, Any]],
) -> str:
    """The clusters' settings, the other settings grouped by table, then the data ranges."""
    scalars = {
        k: v for k, v in params.items() if k != "clusters" and not isinstance(v, Mapping)
    }
    tables = [_kv_table("Run", scalars)] if scalars else []
    tables += [
        _kv_table(str(k), v) for k, v in params.items() if k != "clusters" and isinstance(
            v, Mapping)
    ]
    unreadable = params.get("clusters") if not clusters else None
    if unreadable:
        tables.append(_kv_table("clusters", {"clusters": unreadable}))
    return (
        section_open("params", "Parameters and data", "The run's settings as given.")
        + _cluster_params_table(clusters)
        + (f'<h3>Settings</h3><div class="kv-grid">{"".join(tables)}</div>' if tables else "")
        + _ranges_table(data_ranges)
        + "</section>"
    )
