"""The bar chart of baskets per exit code."""

from __future__ import annotations

from collections.abc import Sequence

from app.report.svg.elements import rect, svg_open, text


def bar_chart(labels: Sequence[str], counts: Sequence[int], total: int) -> str:
    """Horizontal bars, one per label, with the count and its share of ``total``."""
    row, label_width, value_width = 24, 70, 110
    width = 460
    height = row * len(labels) + 8
    bar_space = width - label_width - value_width
    largest = max(max(counts, default=0), 1)
    parts = [svg_open(width, height, "Baskets per exit code")]
    for position, (label, count) in enumerate(zip(labels, counts, strict=True)):
        y = 4 + position * row
        length = bar_space * count / largest
        css = "bar" if count else "bar empty"
        parts.append(text(label_width - 8, y + 16, label, "barlabel", "end"))
        parts.append(rect(label_width, y + 4, max(length, 1.0), row - 8, css))
        share = f"{count / total:.0%}" if total else "n/a"
        parts.append(text(label_width + length + 6, y + 16, f"{count:,}  ({share})", "barvalue"))
    parts.append("</svg>")
    return "".join(parts)
