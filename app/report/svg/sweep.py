"""The sweep page's drawings: the histogram of the trials' Sharpes (SVG) and the colour of
a heatmap cell.

The histogram is drawn from the bins ``sweep.json`` holds (edges and counts, computed once
by ``app.sweep.summary``), so the page shows exactly the file's figures; each bar carries
its bin and count (``data-lo``, ``data-hi``, ``data-count``) and a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.report.svg.histogram import histogram_bars
from app.report.svg.scales import number_tick_labels

#: A heatmap cell's ground at the scale's ends: a loss red and a gain green, pale enough
#: for the dark figures written on them (the page's --neg and --pos, lightened).
_LOW, _MID, _HIGH = (248, 187, 187), (255, 255, 255), (170, 222, 181)


def sharpe_histogram(edges: Sequence[float], counts: Sequence[int], label: str) -> str:
    """Bars of trials per Sharpe bin (bins ``[left, right)``), negative bins red."""
    if not counts:
        return ""
    return histogram_bars(edges, counts, height=260,
                          title="Histogram of the trials' Sharpe ratios", noun="trial",
                          bin_format="+.2f", tick_labels=number_tick_labels, axis_label=label)


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
