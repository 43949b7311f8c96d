"""The P&L histogram: closed baskets counted in equal-width bins of their net P&L."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from app.report.svg.elements import line, rect, svg_open, text
from app.report.svg.scales import Frame, LinearScale, money_tick_labels, nice_ticks

_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def histogram_edges(values: np.ndarray, target_bins: int = 20) -> np.ndarray:
    """Bin edges of a round width (1, 2, 2.5 or 5 times a power of ten) on multiples of it,
    about ``target_bins`` bins covering every value, with 0 an edge so that no bin mixes
    gains and losses."""
    lo, hi = float(np.min(values)), float(np.max(values))
    raw = max((hi - lo) / target_bins, 0.01)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    width = next(m * magnitude for m in _NICE_STEPS if m * magnitude >= raw)
    first = math.floor(lo / width) * width
    count = max(math.floor((hi - first) / width) + 1, 1)
    return np.round(first + width * np.arange(count + 1), 10)


def histogram_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Values per bin, each bin [left, right): a value on an edge counts in the bin above."""
    index = np.searchsorted(edges, values, side="right") - 1
    return np.bincount(np.clip(index, 0, len(edges) - 2), minlength=len(edges) - 1)


def pnl_histogram(pnl: Sequence[float]) -> str:
    """Bars of the closed baskets' net P&L, losses red and gains green; each bar carries its
    bin and count (``data-lo``, ``data-hi``, ``data-count``) and a tooltip."""
    values = np.asarray(pnl, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ""
    edges = histogram_edges(values)
    return histogram_bars(edges, histogram_counts(values, edges), height=300,
                          title="Histogram of the closed baskets' net P&L", noun="basket",
                          bin_format="+,.2f", tick_labels=money_tick_labels,
                          axis_label="net P&L per basket (account currency)")


def histogram_bars(edges: Sequence[float], counts: Sequence[int], *, height: int, title: str,
                   noun: str, bin_format: str,
                   tick_labels: Callable[[Sequence[float]], Sequence[str]],
                   axis_label: str) -> str:
    """Bars of ``counts`` per bin ``[left, right)`` of ``edges``, bins at or below 0 red and
    the others green, 1200 wide: each bar carries its bin and count (``data-lo``,
    ``data-hi``, ``data-count``) and a tooltip naming what is counted (``noun``)."""
    width = 1200
    frame = Frame(left=64, top=14, width=width - 64 - 20, height=height - 14 - 46)
    x = LinearScale(float(edges[0]), float(edges[-1]), frame.left, frame.right)
    top = max(int(max(counts)), 1)
    y = LinearScale(0.0, top * 1.08, frame.bottom, frame.top)
    parts = [svg_open(width, height, title)]
    y_ticks = [t for t in nice_ticks(0.0, top * 1.08, 5) if float(t).is_integer()]
    for value in y_ticks:
        parts.append(line(frame.left, float(y(value)), frame.right, float(y(value)), "grid"))
        parts.append(text(frame.left - 8, float(y(value)) + 4, f"{value:,.0f}", "tick", "end"))
    for left, right, count in zip(edges[:-1], edges[1:], counts, strict=True):
        x1, x2 = float(x(left)), float(x(right))
        css = "hbar loss" if right <= 0 else "hbar win"
        parts.append(
            f'<g data-lo="{left:.10g}" data-hi="{right:.10g}" data-count="{int(count)}">'
            f"<title>{left:{bin_format}} to {right:{bin_format}}: {int(count)} {noun}(s)</title>"
            + rect(x1 + 0.5, float(y(count)), x2 - x1 - 1, float(y(0)) - float(y(count)), css)
            + "</g>")
    x_ticks = nice_ticks(float(edges[0]), float(edges[-1]), 10)
    for value, label in zip(x_ticks, tick_labels(x_ticks), strict=True):
        px = float(x(value))
        parts.append(line(px, frame.bottom, px, frame.bottom + 4, "tickmark"))
        parts.append(text(px, frame.bottom + 17, label, "tick", "middle"))
    if edges[0] < 0 < edges[-1]:
        parts.append(line(float(x(0.0)), frame.top, float(x(0.0)), frame.bottom, "zero"))
    parts.append(line(frame.left, frame.bottom, frame.right, frame.bottom, "zero"))
    parts.append(text(frame.left + frame.width / 2, height - 6, axis_label, "tick", "middle"))
    parts.append("</svg>")
    return "".join(parts)
