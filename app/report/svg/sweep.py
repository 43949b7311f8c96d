"""The sweep page's drawings: the histogram of the trials' Sharpes (SVG) and the colour of
a heatmap cell.

The histogram is drawn from the bins ``sweep.json`` holds (edges and counts, computed once
by ``app.sweep.summary``), so the page shows exactly the file's figures; each bar carries
its bin and count (``data-lo``, ``data-hi``, ``data-count``) and a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.report.svg.elements import line, rect, svg_open, text
from app.report.svg.scales import Frame, LinearScale, nice_ticks, number_tick_labels

#: A heatmap cell's ground at the scale's ends: a loss red and a gain green, pale enough
#: for the dark figures written on them (the page's --neg and --pos, lightened).
_LOW, _MID, _HIGH = (248, 187, 187), (255, 255, 255), (170, 222, 181)


def sharpe_histogram(edges: Sequence[float], counts: Sequence[int], label: str) -> str:
    """Bars of trials per Sharpe bin (bins ``[left, right)``), negative bins red."""
    if not counts:
        return ""
    width, height = 1200, 260
    frame = Frame(left=64, top=14, width=width - 64 - 20, height=height - 14 - 46)
    x = LinearScale(float(edges[0]), float(edges[-1]), frame.left, frame.right)
    top = max(max(counts), 1)
    y = LinearScale(0.0, top * 1.08, frame.bottom, frame.top)
    parts = [svg_open(width, height, "Histogram of the trials' Sharpe ratios")]
    for value in (t for t in nice_ticks(0.0, top * 1.08, 5) if float(t).is_integer()):
        parts.append(line(frame.left, float(y(value)), frame.right, float(y(value)), "grid"))
        parts.append(text(frame.left - 8, float(y(value)) + 4, f"{value:,.0f}", "tick", "end"))
    for left, right, count in zip(edges[:-1], edges[1:], counts, strict=True):
        x1, x2 = float(x(left)), float(x(right))
        css = "hbar loss" if right <= 0 else "hbar win"
        parts.append(
            f'<g data-lo="{left:.10g}" data-hi="{right:.10g}" data-count="{int(count)}">'
            f"<title>{left:+.2f} to {right:+.2f}: {int(count)} trial(s)</title>"
            + rect(x1 + 0.5, float(y(count)), x2 - x1 - 1, float(y(0)) - float(y(count)), css)
            + "</g>")
    ticks = nice_ticks(float(edges[0]), float(edges[-1]), 10)
    for value, tick in zip(ticks, number_tick_labels(ticks), strict=True):
        px = float(x(value))
        parts.append(line(px, frame.bottom, px, frame.bottom + 4, "tickmark"))
        parts.append(text(px, frame.bottom + 17, tick, "tick", "middle"))
    if edges[0] < 0 < edges[-1]:
        parts.append(line(float(x(0.0)), frame.top, float(x(0.0)), frame.bottom, "zero"))
    parts.append(line(frame.left, frame.bottom, frame.right, frame.bottom, "zero"))
    parts.append(text(frame.left + frame.width / 2, height - 6, label, "tick", "middle"))
    parts.append("</svg>")
    return "".join(parts)


def heat_colour(value: float | None, lo: float, hi: float, kind: str) -> str:
    """A cell's CSS colour; ``kind`` ``signed``: red below 0, green above, white at 0,
    scaled by the larger magnitude (a Sharpe, a return); ``higher``: white at ``lo`` to
    green at ``hi`` (baskets); ``lower``: white at ``lo`` to red at ``hi`` (a drawdown).
    None or NaN (an empty cell): no colour."""
    if value is None or not math.isfinite(value):
        return ""
    if kind == "signed":
        scale = max(abs(lo), abs(hi)) or 1.0
        share, end = min(abs(value) / scale, 1.0), (_HIGH if value >= 0 else _LOW)
    else:
        share = (value - lo) / (hi - lo) if hi > lo else 0.0
        end = _HIGH if kind == "higher" else _LOW
    rgb = (round(m + (e - m) * share) for m, e in zip(_MID, end, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)
