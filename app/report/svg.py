"""Inline SVG charts of the backtest report, drawn from numpy arrays without a plotting library.

The report must be one self-contained file a trader can mail or archive, so its charts are
SVG text written here: no matplotlib (not a dependency), no script, no external style. Charts
use the page's CSS classes (``.grid``, ``.tick`` ...) so that the markup stays small, and every
coordinate is rounded to 0.1 of a viewBox unit.

Long series are reduced with :func:`min_max_downsample` (the lowest and the highest value of
each pixel column, in time order) before they are drawn: a year of M30 TDI is ~12,500 bars per
cluster, far more than the ~1,100 pixel columns of a chart, and min/max per column keeps every
spike a plain stride would drop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

#: viewBox width of every full-width chart; the page scales it to the column width.
CHART_WIDTH = 1200

_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
_DAY_STEPS = (1, 2, 7, 14)
_HOUR_STEPS = (1, 2, 3, 6, 12)


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Frame:
    """The plot area of a chart, in viewBox units."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class LinearScale:
    """Maps the data interval [lo, hi] onto the pixel interval [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, values: np.ndarray | float) -> np.ndarray:
        span = self.hi - self.lo
        fraction = (np.asarray(values, dtype=np.float64) - self.lo) / span
        return self.start + fraction * (self.end - self.start)


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    target = max(target, 2)
    magnitude = 10.0 ** math.floor(math.log10((hi - lo) / target))
    best: list[float] = []
    for multiple in (0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0):
        step = multiple * magnitude
        first = math.ceil(lo / step - 1e-9) * step
        count = math.floor((hi - first) / step + 1e-9) + 1
        ticks = [round(first + i * step, 12) for i in range(max(count, 0))]
        if not best or abs(len(ticks) - target) < abs(len(best) - target):
            best = ticks
    return best


def padded_range(values: np.ndarray, pad: float = 0.06) -> tuple[float, float]:
    """[min, max] of the finite values widened by ``pad`` of the span (or +-1% if flat)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0):
        half = max(abs(lo) * 0.01, 1e-6)
        return lo - half, hi + half
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


def time_ticks(start: pd.Timestamp, end: pd.Timestamp, max_ticks: int = 12) -> list[
    tuple[pd.Timestamp, str]
]:
    """Calendar-aligned ticks (hours, days, Mondays, month starts) and their labels.

    The step is the smallest of 1-12 hours, 1-2 days, a week, two weeks, or 1 to 120 months
    that gives at most ``max_ticks`` ticks, so labels never overlap at the chart's width.
    """
    if end <= start:
        return [(start, start.strftime("%Y-%m-%d"))]
    span_hours = (end - start) / pd.Timedelta(hours=1)
    for hours in _HOUR_STEPS:
        if span_hours / hours <= max_ticks:
            stamps = pd.date_range(start.ceil(f"{hours}h"), end, freq=f"{hours}h")
            return [(t, t.strftime("%d %b %H:%M")) for t in stamps]
    span_days = span_hours / 24.0
    for days in _DAY_STEPS:
        if span_days / days <= max_ticks:
            if days == 7:
                stamps = pd.date_range(start.ceil("D"), end, freq="W-MON")
            elif days == 14:
                stamps = pd.date_range(start.ceil("D"), end, freq="W-MON")[::2]
            else:
                stamps = pd.date_range(start.ceil("D"), end, freq=f"{days}D")
            return [(t, t.strftime("%d %b")) for t in stamps]
    first_month = (start + pd.offsets.MonthBegin(0)).normalize()
    months = pd.date_range(first_month, end, freq="MS")
    for step in _MONTH_STEPS:
        chosen = [t for t in months if (t.year * 12 + t.month - 1) % step == 0]
        if len(chosen) <= max_ticks:
            break
    labels: list[tuple[pd.Timestamp, str]] = []
    for position, stamp in enumerate(chosen):
        if step >= 12:
            label = stamp.strftime("%Y")
        elif position == 0 or stamp.month <= step:
            label = stamp.strftime("%b %Y")
        else:
            label = stamp.strftime("%b")
        labels.append((stamp, label))
    return labels


def min_max_downsample(
    x: np.ndarray, y: np.ndarray, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 points per bucket of consecutive samples: the lowest and the highest, in order.

    NaN values are ignored; a bucket that is all NaN gives one NaN point, which breaks the
    drawn line (a warm-up period or a data gap stays visible). Series short enough to draw
    whole (``len <= 2 * buckets``) are returned unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    count = y.size
    if buckets < 1 or count <= 2 * buckets:
        return x, y
    starts = np.unique(np.linspace(0, count, buckets + 1).astype(np.int64)[:-1])
    sizes = np.diff(np.append(starts, count))
    lows = np.fmin.reduceat(y, starts)
    highs = np.fmax.reduceat(y, starts)
    positions = np.arange(count)
    first_low = np.minimum.reduceat(
        np.where(y == np.repeat(lows, sizes), positions, count), starts
    )
    first_high = np.minimum.reduceat(
        np.where(y == np.repeat(highs, sizes), positions, count), starts
    )
    empty = np.isnan(lows)
    first = np.where(empty, starts, np.minimum(first_low, first_high))
    second = np.where(empty, starts, np.maximum(first_low, first_high))
    order = np.column_stack((first, second)).ravel()
    xs = x[order]
    ys = y[order]
    ys[np.repeat(empty, 2)] = np.nan
    return xs, ys


def path_data(xs: np.ndarray, ys: np.ndarray) -> str:
    """SVG path commands through the points; a NaN coordinate starts a new sub-path."""
    parts: list[str] = []
    pen_down = False
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if math.isnan(x) or math.isnan(y):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return "".join(parts)


def step_path_data(xs: np.ndarray, ys: np.ndarray) -> str:
    """A staircase through the points (hold each value until the next x)."""
    if xs.size == 0:
        return ""
    stairs_x = np.repeat(xs, 2)[1:]
    stairs_y = np.repeat(ys, 2)[:-1]
    return path_data(stairs_x, stairs_y)


# --------------------------------------------------------------------------- elements


def _text(x: float, y: float, content: str, css: str = "", anchor: str = "start") -> str:
    klass = f' class="{css}"' if css else ""
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{x:.1f}" y="{y:.1f}"{klass}{anchor_attr}>{escape(content)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, css: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{css}" />'


def _rect(x: float, y: float, width: float, height: float, css: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" '
        f'height="{max(height, 0.0):.1f}" class="{css}" />'
    )


def _svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
    )


def _y_axis(frame: Frame, scale: LinearScale, ticks: Sequence[float], labels: Sequence[str]) -> str:
    parts = []
    for value, label in zip(ticks, labels, strict=True):
        y = float(scale(value))
        parts.append(_line(frame.left, y, frame.right, y, "grid"))
        parts.append(_text(frame.left - 8, y + 4, label, "tick", "end"))
    return "".join(parts)


def _x_grid(frame: Frame, positions: Sequence[float]) -> str:
    return "".join(_line(x, frame.top, x, frame.bottom, "grid") for x in positions)


def _x_labels(frame: Frame, positions: Sequence[float], labels: Sequence[str]) -> str:
    parts = []
    for x, label in zip(positions, labels, strict=True):
        parts.append(_line(x, frame.bottom, x, frame.bottom + 4, "tickmark"))
        parts.append(_text(x, frame.bottom + 17, label, "tick", "middle"))
    return "".join(parts)


def money_tick_labels(ticks: Sequence[float]) -> list[str]:
    """Axis labels for amounts: thousands separators, decimals only when the step needs them."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = 0 if step >= 1 else min(6, math.ceil(-math.log10(step)) + 1)
    return [f"{value:,.{decimals}f}" for value in ticks]


def percent_tick_labels(ticks: Sequence[float]) -> list[str]:
    """Axis labels for fractions shown as percentages (0.05 -> 5%)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = 0 if step * 100 >= 1 else min(4, math.ceil(-math.log10(step * 100)) + 1)
    return [f"{value * 100:.{decimals}f}%" for value in ticks]


def _number_labels(ticks: Sequence[float]) -> list[str]:
    return [f"{value:+g}" if value else "0" for value in ticks]


# --------------------------------------------------------------------------- equity chart

_NS_PER_DAY = 86_400e9


def _epoch_days(stamps: pd.DatetimeIndex | pd.Timestamp) -> np.ndarray | float:
    """Days since 1970-01-01 UTC as floats, whatever the index's time unit (ns, us, s)."""
    if isinstance(stamps, pd.Timestamp):
        return stamps.as_unit("ns").value / _NS_PER_DAY
    return stamps.as_unit("ns").asi8 / _NS_PER_DAY


def equity_chart(
    days: pd.DatetimeIndex,
    equity: np.ndarray,
    balance: np.ndarray,
    start_capital: float,
    shaded: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> str:
    """Equity and balance (top) and drawdown from the running peak (bottom), one time axis.

    The drawdown counts the start capital as a peak, as the metrics do. ``shaded`` marks an
    interval on both panels (the maximum drawdown from its peak to its recovery).
    """
    width, height = CHART_WIDTH, 520
    top = Frame(left=92, top=26, width=width - 92 - 24, height=300)
    bottom = Frame(left=top.left, top=top.bottom + 36, width=top.width, height=124)
    stamps = _epoch_days(days)
    if stamps.size == 1:
        x_lo, x_hi = stamps[0] - 1.0, stamps[0] + 1.0
    else:
        x_lo, x_hi = float(stamps[0]), float(stamps[-1])
    x_scale = LinearScale(x_lo, x_hi, top.left, top.right)

    peaks = np.maximum.accumulate(np.concatenate(([start_capital], equity)))[1:]
    drawdown = equity / peaks - 1.0

    y_lo, y_hi = padded_range(np.concatenate((equity, balance, [start_capital])))
    y_scale = LinearScale(y_lo, y_hi, top.bottom, top.top)
    y_ticks = nice_ticks(y_lo, y_hi, 6)
    dd_floor = min(float(np.nanmin(drawdown)) * 1.08, -0.001)
    dd_scale = LinearScale(dd_floor, 0.0, bottom.bottom, bottom.top)
    dd_ticks = [t for t in nice_ticks(dd_floor, 0.0, 3) if t <= 0.0]

    start = pd.Timestamp(x_lo * _NS_PER_DAY, tz="UTC")
    end = pd.Timestamp(x_hi * _NS_PER_DAY, tz="UTC")
    ticks = time_ticks(start, end, 12)
    tick_x = [float(x_scale(_epoch_days(t))) for t, _ in ticks]

    parts = [_svg_open(width, height, "Equity, balance and drawdown")]
    if shaded is not None:
        x1 = float(np.clip(x_scale(_epoch_days(shaded[0])), top.left, top.right))
        x2 = float(np.clip(x_scale(_epoch_days(shaded[1])), top.left, top.right))
        parts.append(_rect(x1, top.top, x2 - x1, top.height, "shade"))
        parts.append(_rect(x1, bottom.top, x2 - x1, bottom.height, "shade"))
    parts.append(_x_grid(top, tick_x))
    parts.append(_x_grid(bottom, tick_x))
    parts.append(_y_axis(top, y_scale, y_ticks, money_tick_labels(y_ticks)))
    parts.append(_y_axis(bottom, dd_scale, dd_ticks, percent_tick_labels(dd_ticks)))
    capital_y = float(y_scale(start_capital))
    parts.append(_line(top.left, capital_y, top.right, capital_y, "capital"))

    buckets = int(top.width)
    bx, by = min_max_downsample(stamps, balance, buckets)
    parts.append(f'<path class="balance" d="{step_path_data(x_scale(bx), y_scale(by))}" />')
    ex, ey = min_max_downsample(stamps, equity, buckets)
    parts.append(f'<path class="equity" d="{path_data(x_scale(ex), y_scale(ey))}" />')

    dx, dy = min_max_downsample(stamps, drawdown, buckets)
    px, py = x_scale(dx), dd_scale(dy)
    zero_y = float(dd_scale(0.0))
    finite = ~np.isnan(py)
    if finite.any():
        area = path_data(px[finite], py[finite])
        area += f"L{px[finite][-1]:.1f},{zero_y:.1f}L{px[finite][0]:.1f},{zero_y:.1f}Z"
        parts.append(f'<path class="ddfill" d="{area}" />')
        parts.append(f'<path class="ddline" d="{path_data(px, py)}" />')
    parts.append(_line(bottom.left, zero_y, bottom.right, zero_y, "zero"))

    parts.append(_rect(top.left, top.top, top.width, top.height, "frame"))
    parts.append(_rect(bottom.left, bottom.top, bottom.width, bottom.height, "frame"))
    parts.append(_text(top.left, top.top - 9, "Equity and balance", "panel"))
    parts.append(_text(bottom.left, bottom.top - 9, "Drawdown from the running peak", "panel"))
    parts.append(_x_labels(bottom, tick_x, [label for _, label in ticks]))
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- TDI chart


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

    parts = [_svg_open(width, height, label)]
    if bands.exit is not None:
        upper, lower = float(y_scale(bands.exit)), float(y_scale(-bands.exit))
        parts.append(_rect(frame.left, upper, frame.width, lower - upper, "zone-exit"))

    if count:
        tick_x, tick_labels = _bar_axis_ticks(times, x_scale)
        parts.append(_x_grid(frame, tick_x))
        parts.append(_x_labels(frame, tick_x, tick_labels))
    y_ticks = nice_ticks(-limit, limit, 6)
    parts.append(_y_axis(frame, y_scale, y_ticks, _number_labels(y_ticks)))

    zero = float(y_scale(0.0))
    for level, css, name in (
        (bands.stop, "band-stop", "TS"),
        (bands.entry, "band-entry", "E"),
        (bands.exit, "band-exit", "X"),
    ):
        if level is None or level >= limit:
            continue
        upper, lower = float(y_scale(level)), float(y_scale(-level))
        parts.append(_line(frame.left, upper, frame.right, upper, css))
        parts.append(_line(frame.left, lower, frame.right, lower, css))
        label_x, label_css = frame.right + 6, f"{css}-label"
        if lower - upper < 26:  # the two labels would overlap: one on the zero line
            parts.append(_text(label_x, zero + 4, f"\u00b1{name} {level:g}", label_css))
        else:
            parts.append(_text(label_x, upper + 4, f"+{name} {level:g}", label_css))
            parts.append(_text(label_x, lower + 4, f"-{name} {level:g}", label_css))
    parts.append(_line(frame.left, zero, frame.right, zero, "zero"))

    clipped = np.clip(tdi, -limit, limit)
    bx, by = min_max_downsample(np.arange(count, dtype=np.float64), clipped, int(frame.width))
    parts.append(f'<path class="tdi" d="{path_data(x_scale(bx), y_scale(by))}" />')

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
        connectors.append(_line(ex, ey, xx, xy, f"trade {css}"))
        exits.append(
            f'<circle cx="{xx:.1f}" cy="{xy:.1f}" r="4" class="exit {css}">'
            f"<title>{escape(trade.exit_label)}</title></circle>"
        )
    parts.extend(connectors)
    parts.extend(entries)
    parts.extend(exits)
    parts.append(_rect(frame.left, frame.top, frame.width, frame.height, "frame"))
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- bar chart


def bar_chart(labels: Sequence[str], counts: Sequence[int], total: int) -> str:
    """Horizontal bars, one per label, with the count and its share of ``total``."""
    row, label_width, value_width = 24, 70, 110
    width = 460
    height = row * len(labels) + 8
    bar_space = width - label_width - value_width
    largest = max(max(counts, default=0), 1)
    parts = [_svg_open(width, height, "Baskets per exit code")]
    for position, (label, count) in enumerate(zip(labels, counts, strict=True)):
        y = 4 + position * row
        length = bar_space * count / largest
        css = "bar" if count else "bar empty"
        parts.append(_text(label_width - 8, y + 16, label, "barlabel", "end"))
        parts.append(_rect(label_width, y + 4, max(length, 1.0), row - 8, css))
        share = f"{count / total:.0%}" if total else "n/a"
        parts.append(_text(label_width + length + 6, y + 16, f"{count:,}  ({share})", "barvalue"))
    parts.append("</svg>")
    return "".join(parts)
