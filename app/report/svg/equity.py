"""The equity chart: equity and balance over the days, and the drawdown under them."""

from __future__ import annotations

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
from app.report.svg.paths import min_max_downsample, path_data, step_path_data
from app.report.svg.scales import (
    Frame,
    LinearScale,
    money_tick_labels,
    nice_ticks,
    padded_range,
    percent_tick_labels,
    time_ticks,
)

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

    parts = [svg_open(width, height, "Equity, balance and drawdown")]
    if shaded is not None:
        x1 = float(np.clip(x_scale(_epoch_days(shaded[0])), top.left, top.right))
        x2 = float(np.clip(x_scale(_epoch_days(shaded[1])), top.left, top.right))
        parts.append(rect(x1, top.top, x2 - x1, top.height, "shade"))
        parts.append(rect(x1, bottom.top, x2 - x1, bottom.height, "shade"))
    parts.append(x_grid(top, tick_x))
    parts.append(x_grid(bottom, tick_x))
    parts.append(y_axis(top, y_scale, y_ticks, money_tick_labels(y_ticks)))
    parts.append(y_axis(bottom, dd_scale, dd_ticks, percent_tick_labels(dd_ticks)))
    capital_y = float(y_scale(start_capital))
    parts.append(line(top.left, capital_y, top.right, capital_y, "capital"))

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
    parts.append(line(bottom.left, zero_y, bottom.right, zero_y, "zero"))

    parts.append(rect(top.left, top.top, top.width, top.height, "frame"))
    parts.append(rect(bottom.left, bottom.top, bottom.width, bottom.height, "frame"))
    parts.append(text(top.left, top.top - 9, "Equity and balance", "panel"))
    parts.append(text(bottom.left, bottom.top - 9, "Drawdown from the running peak", "panel"))
    parts.append(x_labels(bottom, tick_x, [label for _, label in ticks]))
    parts.append("</svg>")
    return "".join(parts)
