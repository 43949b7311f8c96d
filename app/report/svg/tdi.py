"""The TDI chart of one cluster: its TDI against bar number, its bands and its baskets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from app.report.svg.elements import (
    CHART_WIDTH,
    line,
    rect,
    svg_open,
    text,
    x_grid,
    x_labels,
    y_axis,
)
from app.report.svg.paths import min_max_downsample, path_data
from app.report.svg.scales import Frame, LinearScale, nice_ticks, number_tick_labels, time_ticks


@dataclass(frozen=True)
class Bands:
    """The cluster's thresholds: entry E, exit X and the TDI stop (all positive)."""

    entry: float | None
    exit: float | None
    stop: float


@dataclass(frozen=True)
class TradeMark:
    """One basket on a TDI chart, in bar positions and TDI units."""

    entry_x: float
    entry_y: float
    exit_x: float | None
    exit_y: float | None
    long: bool
    pnl: float
    entry_label: str
    exit_label: str


def tdi_limit(values: np.ndarray, stop: float) -> float:
    """Half-height of the TDI axis: beyond the stop, and past most spikes but at most 8.

    A TDI of 30 after a quiet week would otherwise squash the bands into a line; values
    beyond the limit are drawn at the edge.
    """
    finite = np.abs(values[np.isfinite(values)])
    peak = float(finite.max()) if finite.size else 0.0
    limit = max(stop * 1.2, min(peak * 1.05, 8.0))
    return math.ceil(limit * 2.0) / 2.0


def _bar_axis_ticks(
    times: pd.DatetimeIndex, x_scale: LinearScale, min_gap: float = 56.0
) -> tuple[list[float], list[str]]:
    """Calendar ticks placed on a bar-number axis.

    A tick lands on the first bar at or after its time. A day tick that falls in a gap (a
    weekend) would name a day that has no bar, so it is dropped; a month tick stays when the
    bar it lands on is in that month. Ticks closer than ``min_gap`` units are thinned.
    """
    positions_x: list[float] = []
    labels: list[str] = []
    for stamp, label in time_ticks(times[0], times[-1], 12):
        position = int(times.searchsorted(stamp))
        if position >= len(times):
            continue
        landed = times[position]
        same_day = landed.normalize() == stamp.normalize()
        same_month = stamp.day == 1 and (landed.year, landed.month) == (stamp.year, stamp.month)
        if not (same_day or same_month):
            continue
        x = float(x_scale(position))
        if positions_x and x - positions_x[-1] < min_gap:
            continue
        positions_x.append(x)
        labels.append(label)
    return positions_x, labels


def _triangle(x: float, y: float, up: bool) -> str:
    if up:
        return f"M{x:.1f},{y - 6:.1f}l5.5,9.5h-11z"
    return f"M{x:.1f},{y + 6:.1f}l5.5,-9.5h-11z"


def _pnl_css(pnl: float) -> str:
    if pnl > 0:
        return "win"
    if pnl < 0:
        return "loss"
    return "flat"


def _band_lines(frame: Frame, y_scale: LinearScale, bands: Bands, limit: float) -> list[str]:
    """The +-stop, +-E and +-X lines with their labels (a band beyond the axis is left out)."""
    parts: list[str] = []
    zero = float(y_scale(0.0))
    for level, css, name in (
        (bands.stop, "band-stop", "TS"),
        (bands.entry, "band-entry", "E"),
        (bands.exit, "band-exit", "X"),
    ):
        if level is None or level >= limit:
            continue
        upper, lower = float(y_scale(level)), float(y_scale(-level))
        parts.append(line(frame.left, upper, frame.right, upper, css))
        parts.append(line(frame.left, lower, frame.right, lower, css))
        label_x, label_css = frame.right + 6, f"{css}-label"
        if lower - upper < 26:  # the two labels would overlap: one on the zero line
            parts.append(text(label_x, zero + 4, f"\u00b1{name} {level:g}", label_css))
        else:
            parts.append(text(label_x, upper + 4, f"+{name} {level:g}", label_css))
            parts.append(text(label_x, lower + 4, f"-{name} {level:g}", label_css))
    return parts


def _trade_marks(
    trades: Sequence[TradeMark], x_scale: LinearScale, y_scale: LinearScale, limit: float
) -> list[str]:
    """Entry-to-exit connectors, then entries, then exits (so markers sit above the lines)."""
    connectors, entries, exits = [], [], []
    for trade in trades:
        ex = float(x_scale(trade.entry_x))
        ey = float(y_scale(float(np.clip(trade.entry_y, -limit, limit))))
        css = _pnl_css(trade.pnl)
        direction = "long" if trade.long else "short"
        entries.append(
            f'<path class="entry {direction}" d="{_triangle(ex, ey, trade.long)}">'
            f"<title>{escape(trade.entry_label)}</title></path>"
        )
        if trade.exit_x is None or trade.exit_y is None:
            continue
        xx = float(x_scale(trade.exit_x))
        xy = float(y_scale(float(np.clip(trade.exit_y, -limit, limit))))
        connectors.append(line(ex, ey, xx, xy, f"trade {css}"))
        exits.append(
            f'<circle cx="{xx:.1f}" cy="{xy:.1f}" r="4" class="exit {css}">'
            f"<title>{escape(trade.exit_label)}</title></circle>"
        )
    return [*connectors, *entries, *exits]


def tdi_chart(
    times: pd.DatetimeIndex,
    tdi: np.ndarray,
    bands: Bands,
    trades: Sequence[TradeMark],
    label: str,
) -> str:
    """TDI against bar number (weekend gaps skipped, as on the console's charts), the +-E,
    +-X and +-stop bands, entries (triangle up LONG, down SHORT) and exits coloured by P&L."""
    width, height = CHART_WIDTH, 300
    frame = Frame(left=56, top=12, width=width - 56 - 64, height=height - 12 - 30)
    count = tdi.size
    x_scale = LinearScale(-0.5, max(count - 0.5, 0.5), frame.left, frame.right)
    limit = tdi_limit(tdi, bands.stop)
    y_scale = LinearScale(-limit, limit, frame.bottom, frame.top)

    parts = [svg_open(width, height, label)]
    if bands.exit is not None:
        upper, lower = float(y_scale(bands.exit)), float(y_scale(-bands.exit))
        parts.append(rect(frame.left, upper, frame.width, lower - upper, "zone-exit"))

    if count:
        tick_x, tick_labels = _bar_axis_ticks(times, x_scale)
        parts.append(x_grid(frame, tick_x))
        parts.append(x_labels(frame, tick_x, tick_labels))
    y_ticks = nice_ticks(-limit, limit, 6)
    parts.append(y_axis(frame, y_scale, y_ticks, number_tick_labels(y_ticks)))

    parts.extend(_band_lines(frame, y_scale, bands, limit))
    zero = float(y_scale(0.0))
    parts.append(line(frame.left, zero, frame.right, zero, "zero"))

    clipped = np.clip(tdi, -limit, limit)
    bx, by = min_max_downsample(np.arange(count, dtype=np.float64), clipped, int(frame.width))
    parts.append(f'<path class="tdi" d="{path_data(x_scale(bx), y_scale(by))}" />')

    parts.extend(_trade_marks(trades, x_scale, y_scale, limit))
    parts.append(rect(frame.left, frame.top, frame.width, frame.height, "frame"))
    parts.append("</svg>")
    return "".join(parts)
