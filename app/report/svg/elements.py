"""SVG elements the charts are made of: text, lines, rectangles, axes and grid lines.

Charts use the page's CSS classes (``.grid``, ``.tick`` ...) instead of inline styles so that
the markup stays small, and every coordinate is rounded to 0.1 of a viewBox unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from app.report.svg.scales import Frame, LinearScale

#: viewBox width of every full-width chart; the page scales it to the column width.
CHART_WIDTH = 1200


def text(x: float, y: float, content: str, css: str = "", anchor: str = "start") -> str:
    """A text element (``content`` is escaped)."""
    klass = f' class="{css}"' if css else ""
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{x:.1f}" y="{y:.1f}"{klass}{anchor_attr}>{escape(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, css: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{css}" />'


def rect(x: float, y: float, width: float, height: float, css: str) -> str:
    """A rectangle; a negative size is drawn as empty rather than refused by the browser."""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" '
        f'height="{max(height, 0.0):.1f}" class="{css}" />'
    )


def svg_open(width: float, height: float, label: str) -> str:
    """The opening tag of a chart, scaled to its container, labelled for screen readers."""
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
    )


def y_axis(frame: Frame, scale: LinearScale, ticks: Sequence[float], labels: Sequence[str]) -> str:
    """Horizontal grid lines at the ticks, labelled left of the frame."""
    parts = []
    for value, label in zip(ticks, labels, strict=True):
        y = float(scale(value))
        parts.append(line(frame.left, y, frame.right, y, "grid"))
        parts.append(text(frame.left - 8, y + 4, label, "tick", "end"))
    return "".join(parts)


def x_grid(frame: Frame, positions: Sequence[float]) -> str:
    """Vertical grid lines at the given x positions."""
    return "".join(line(x, frame.top, x, frame.bottom, "grid") for x in positions)


def x_labels(frame: Frame, positions: Sequence[float], labels: Sequence[str]) -> str:
    """Tick marks and labels under the frame."""
    parts = []
    for x, label in zip(positions, labels, strict=True):
        parts.append(line(x, frame.bottom, x, frame.bottom + 4, "tickmark"))
        parts.append(text(x, frame.bottom + 17, label, "tick", "middle"))
    return "".join(parts)
