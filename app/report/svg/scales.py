"""Where things go on a chart: the plot frame, linear scales, axis ticks and their labels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
_DAY_STEPS = (1, 2, 7, 14)
_HOUR_STEPS = (1, 2, 3, 6, 12)

TimeTicks = list[tuple[pd.Timestamp, str]]


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


def time_ticks(start: pd.Timestamp, end: pd.Timestamp, max_ticks: int = 12) -> TimeTicks:
    """Calendar-aligned ticks (hours, days, Mondays, month starts) and their labels.

    The step is the smallest of 1-12 hours, 1-2 days, a week, two weeks, or 1 to 120 months
    that gives at most ``max_ticks`` ticks, so labels never overlap at the chart's width.
    """
    if end <= start:
        return [(start, start.strftime("%Y-%m-%d"))]
    span_hours = (end - start) / pd.Timedelta(hours=1)
    ticks = _hour_ticks(start, end, span_hours, max_ticks)
    if ticks is None:
        ticks = _day_ticks(start, end, span_hours / 24.0, max_ticks)
    if ticks is None:
        ticks = _month_ticks(start, end, max_ticks)
    return ticks


def _hour_ticks(
    start: pd.Timestamp, end: pd.Timestamp, span_hours: float, max_ticks: int
) -> TimeTicks | None:
    """Every 1 to 12 hours, labelled with day and time; None when the span is too long."""
    for hours in _HOUR_STEPS:
        if span_hours / hours <= max_ticks:
            stamps = pd.date_range(start.ceil(f"{hours}h"), end, freq=f"{hours}h")
            return [(t, t.strftime("%d %b %H:%M")) for t in stamps]
    return None


def _day_ticks(
    start: pd.Timestamp, end: pd.Timestamp, span_days: float, max_ticks: int
) -> TimeTicks | None:
    """Every day, two days, Monday or other Monday; None when the span is too long."""
    for days in _DAY_STEPS:
        if span_days / days <= max_ticks:
            if days == 7:
                stamps = pd.date_range(start.ceil("D"), end, freq="W-MON")
            elif days == 14:
                stamps = pd.date_range(start.ceil("D"), end, freq="W-MON")[::2]
            else:
                stamps = pd.date_range(start.ceil("D"), end, freq=f"{days}D")
            return [(t, t.strftime("%d %b")) for t in stamps]
    return None


def _month_ticks(start: pd.Timestamp, end: pd.Timestamp, max_ticks: int) -> TimeTicks:
    """Month starts every 1 to 120 months (aligned to the calendar), the year where it changes."""
    first_month = (start + pd.offsets.MonthBegin(0)).normalize()
    months = pd.date_range(first_month, end, freq="MS")
    for step in _MONTH_STEPS:
        chosen = [t for t in months if (t.year * 12 + t.month - 1) % step == 0]
        if len(chosen) <= max_ticks:
            break
    labels: TimeTicks = []
    for position, stamp in enumerate(chosen):
        if step >= 12:
            label = stamp.strftime("%Y")
        elif position == 0 or stamp.month <= step:
            label = stamp.strftime("%b %Y")
        else:
            label = stamp.strftime("%b")
        labels.append((stamp, label))
    return labels


def exact_decimals(values: Sequence[float], most: int = 6) -> int:
    """The fewest decimals (0 to ``most``) that write every value exactly, so that no two
    ticks print alike and none is rounded: 2.5 needs one (a 2.5-step axis printed with none
    read "-2%" for -2.5%)."""
    for decimals in range(most + 1):
        if all(abs(round(v, decimals) - v) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return decimals
    return most


def money_tick_labels(ticks: Sequence[float]) -> list[str]:
    """Axis labels for amounts: thousands separators, exactly the decimals the ticks need."""
    decimals = exact_decimals(ticks)
    return [f"{value + 0.0:,.{decimals}f}" for value in ticks]


def percent_tick_labels(ticks: Sequence[float]) -> list[str]:
    """Axis labels for fractions shown as percentages (0.05 -> 5%, -0.025 -> -2.5%), each
    exact."""
    percents = [value * 100 + 0.0 for value in ticks]  # no "-0%"
    decimals = exact_decimals(percents, most=4)
    return [f"{value:.{decimals}f}%" for value in percents]


def number_tick_labels(ticks: Sequence[float]) -> list[str]:
    """Axis labels for plain numbers with their sign (the TDI axis)."""
    return [f"{value:+g}" if value else "0" for value in ticks]
