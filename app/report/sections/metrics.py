"""Every metric of the run in a table with its definition, and the correlation matrix.

An undefined metric is shown as "n/a" with the reason from its section's ``notes``; a note
about a metric the section does not list still gets its own row, so no reason is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from app.report.format import NA, format_metric, label_of
from app.report.inputs import basis_definition_of, basis_label_of, notes_of, section_of
from app.report.markup import attr, section_open, title_attr


def _metric_keys(section: Mapping[str, Any]) -> list[str]:
    return [k for k in section if k != "notes" and not str(k).endswith("_basis")]


def _metric_rows(section: Mapping[str, Any], skip: Iterable[str] = ()) -> str:
    notes = notes_of(section)
    skipped = set(skip)
    rows = []
    for key in _metric_keys(section):
        if key in skipped:
            continue
        text, css = format_metric(key, section[key])
        basis = str(section.get(f"{key}_basis", ""))
        note = notes.get(key, "")
        note_html = f'<div class="note">{escape(note)}</div>' if note else ""
        rows.append(
            f'<tr data-metric="{attr(key)}"><th scope="row">{escape(label_of(key))}'
            f'<code>{escape(key)}</code></th>'
            f'<td class="num {css}"{title_attr(note)}>{escape(text)}</td>'
            f'<td class="basis">{escape(basis)}{note_html}</td></tr>'
        )
    for key, note in notes.items():
        if key not in section and key not in skipped:
            rows.append(
                f'<tr data-metric="{attr(key)}"><th scope="row">{escape(label_of(key))}'
                f'<code>{escape(key)}</code></th><td class="num na">{NA}</td>'
                f'<td class="basis"><div class="note">{escape(note)}</div></td></tr>'
            )
    return "".join(rows)


def _metric_table(
    title: str, section_name: str, section: Mapping[str, Any], skip: Iterable[str] = ()
) -> str:
    """One metrics section as Metric / Value / Definition rows (``skip``: drawn elsewhere)."""
    if not section:
        return (
            f'<div class="metric-group" data-section="{section_name}"><h3>{escape(title)}</h3>'
            f'<p class="note">Not available: the metrics have no "{section_name}" section.</p>'
            "</div>"
        )
    return (
        f'<div class="metric-group" data-section="{section_name}"><h3>{escape(title)}</h3>'
        '<table class="metrics"><thead><tr><th>Metric</th><th class="num">Value</th>'
        f"<th>Definition</th></tr></thead><tbody>{_metric_rows(section, skip)}</tbody></table>"
        "</div>"
    )


def _correlation_cell(row: Any, col: Any, value: Any) -> str:
    """One cell of the matrix, tinted red (positive) or blue (negative) by its strength."""
    if value is None:
        return f'<td class="num na">{NA}</td>'
    strength = min(abs(float(value)), 1.0)
    colour = "207,34,46" if value > 0 else "9,105,218"
    style = f"background:rgba({colour},{0.45 * strength:.2f})" if row != col else ""
    text = f"{float(value):+.2f}" if abs(float(value)) >= 0.005 else "0.00"
    return f'<td class="num" style="{style}">{text}</td>'


def _correlation_matrix(section: Mapping[str, Any]) -> str:
    matrix = section.get("correlation")
    if not isinstance(matrix, Mapping) or not matrix:
        return ""
    names = list(matrix)
    head = "".join(f"<th>{escape(str(n))}</th>" for n in names)
    rows = []
    for row in names:
        values = matrix[row] if isinstance(matrix[row], Mapping) else {}
        cells = "".join(_correlation_cell(row, col, values.get(col)) for col in names)
        rows.append(f'<tr><th scope="row">{escape(str(row))}</th>{cells}</tr>')
    note = notes_of(section).get("correlation", "")
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    basis = escape(str(section.get("correlation_basis", "")))
    return (
        '<h3 data-metric="correlation">Correlation of cluster daily returns</h3>'
        f'<p class="basis">{basis}</p><div class="scroll"><table class="matrix"><thead><tr>'
        f"<th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note_html}"
    )


def _config_table(config: Mapping[str, Any]) -> str:
    """The settings the metrics were computed with (risk-free rate, trials...)."""
    config_rows = "".join(
        f'<tr data-metric="config.{attr(str(k))}"><th scope="row">{escape(label_of(str(k)))}'
        f'<code>{escape(str(k))}</code></th><td class="num">'
        f"{escape(format_metric(str(k), v)[0] if v is not None else 'not given')}</td></tr>"
        for k, v in config.items()
    )
    return (
        '<div class="metric-group" data-section="config"><h3>How the metrics were computed</h3>'
        f'<table class="metrics"><tbody>{config_rows}</tbody></table></div>'
        if config_rows
        else ""
    )


def _basis_line(metrics: Mapping[str, Any]) -> str:
    """The days the return figures are measured on, stated once above them."""
    observations = section_of(metrics, "basis").get("observations")
    count = f" ({observations:,} returns)" if isinstance(observations, int) else ""
    return (
        f'<p class="basis" data-metric="basis"><strong>Returns basis: '
        f"{escape(basis_label_of(metrics))}</strong>{escape(count)}: "
        f"{escape(basis_definition_of(metrics))}. Volatility, Sharpe, Sortino, PSR, DSR, the "
        "z-test and the per-cluster figures use these days; the period, total return, CAGR "
        "and drawdown use every daily mark of equity.csv.</p>"
    )


def metrics_section(metrics: Mapping[str, Any]) -> str:
    """Every metric with its definition, by section, then the correlation matrix."""
    diversification = section_of(metrics, "diversification")
    groups = [
        _metric_table("Returns", "returns", section_of(metrics, "returns")),
        _metric_table("Significance", "significance", section_of(metrics, "significance")),
        _metric_table("Baskets", "baskets", section_of(metrics, "baskets")),
        _metric_table(
            "Diversification", "diversification", diversification, skip=("correlation",),
        ),
        _config_table(section_of(metrics, "config")),
    ]
    return (
        section_open(
            "metrics", "Appendix: every metric and its definition",
            "Every figure of the run with its definition (hover a headline card for the same "
            "text). n/a marks a figure that is undefined "
            "for this run, with the reason. Per-cluster figures are under Exits &amp; clusters.",
        )
        + _basis_line(metrics)
        + f'<div class="metric-grid">{"".join(groups)}</div>'
        + _correlation_matrix(diversification)
        + "</section>"
    )
