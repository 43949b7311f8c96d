"""Time axes for the charts: a bar-index axis without weekend gaps, and a UTC calendar axis.

FX closes from Friday evening to Sunday evening.  Plotted against calendar time, every
week would carry a two-day flat gap; plotted against the bar index, the bars sit side by
side and the axis labels each tick with its bar's UTC time instead.  Ticks go where the bar
times cross a round boundary (a 4-hour mark, a UTC midnight, a Monday, a month), so the
first bar after a weekend gets its own label (e.g. "Sun 07 22:00").
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
#: Month steps are encoded as negative numbers of months (calendar months are not fixed).
MONTH_STEPS = (-1, -3, -6, -12)

#: Candidate tick steps, smallest first: fixed lengths in ms, then calendar months.
TICK_STEPS: tuple[int, ...] = (
    MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS,
    HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 4 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS,
    DAY_MS, WEEK_MS, *MONTH_STEPS,
)
_AVERAGE_MONTH_MS = 30.44 * DAY_MS
#: 1970-01-05 was a Monday: week buckets start on Mondays.
_MONDAY_OFFSET_MS = 4 * DAY_MS


def step_length_ms(step: int) -> float:
    """A step's nominal length (months count as 30.44 days), to compare against a span."""
    return -step * _AVERAGE_MONTH_MS if step < 0 else float(step)


def choose_step(bar_period_ms: float, bars_per_tick: float) -> int:
    """The smallest step at least as long as the trading time between two wanted ticks."""
    wanted = bar_period_ms * bars_per_tick
    for step in TICK_STEPS:
        if step_length_ms(step) >= wanted:
            return step
    return TICK_STEPS[-1]


def time_buckets(times_ms: np.ndarray, step: int) -> np.ndarray:
    """Which step-long bucket each time falls in (UTC; weeks start Monday, months on the 1st)."""
    times_ms = np.asarray(times_ms, dtype=np.int64)
    if step < 0:
        months = times_ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
        return months // (-step)
    if step == WEEK_MS:
        return (times_ms - _MONDAY_OFFSET_MS) // WEEK_MS
    return times_ms // step


def boundary_indices(times_ms: np.ndarray, first: int, last: int, step: int) -> np.ndarray:
    """Indices in [first, last] whose bar starts a new bucket (the first bar after a gap too).

    Bar 0 counts only when it sits exactly on a boundary: nothing before it says it opens a
    new bucket.
    """
    n = len(times_ms)
    first = max(first, 0)
    last = min(last, n - 1)
    if n == 0 or last < first:
        return np.empty(0, dtype=np.int64)
    lo = max(first - 1, 0)
    buckets = time_buckets(times_ms[lo: last + 1], step)
    crossings = np.flatnonzero(buckets[1:] != buckets[:-1]) + lo + 1
    crossings = crossings[crossings >= first]
    if first == 0 and _on_boundary(int(times_ms[0]), step):
        crossings = np.concatenate(([0], crossings))
    return crossings.astype(np.int64)


def _on_boundary(time_ms: int, step: int) -> bool:
    if step < 0:
        moment = datetime.fromtimestamp(time_ms / 1000, UTC)
        return moment.day == 1 and (moment.month - 1) % (-step) == 0 and \
            time_ms % DAY_MS == 0
    if step == WEEK_MS:
        return (time_ms - _MONDAY_OFFSET_MS) % WEEK_MS == 0
    return time_ms % step == 0


def thin_out(indices: np.ndarray, min_gap: float, preferred: np.ndarray | None = None,
             ) -> list[int]:
    """Keep ticks at least ``min_gap`` bars apart (labels must not overlap).

    Earlier ticks win, except that a ``preferred`` tick (a session open after a gap) replaces
    the kept tick it collides with: the first bar after a weekend is the one worth a label.
    """
    keep_first = preferred if preferred is not None else np.zeros(len(indices), dtype=bool)
    kept: list[int] = []
    kept_preferred: list[bool] = []
    for index, wins in zip(indices.tolist(), keep_first.tolist(), strict=True):
        if not kept or index - kept[-1] >= min_gap:
            kept.append(int(index))
            kept_preferred.append(bool(wins))
        elif wins and not kept_preferred[-1]:
            kept[-1] = int(index)
            kept_preferred[-1] = True
    return kept


def after_gap(times_ms: np.ndarray, indices: np.ndarray, bar_period_ms: float) -> np.ndarray:
    """Which of ``indices`` open a session: more than two bar periods since the bar before."""
    positions = indices[indices > 0]
    flags = np.zeros(len(indices), dtype=bool)
    gaps = times_ms[positions] - times_ms[positions - 1]
    flags[indices > 0] = gaps > 2 * bar_period_ms
    return flags


def full_label(time_ms: int) -> str:
    """The crosshair's time: weekday, date and time, e.g. "Mon 2024-01-08 14:30"."""
    return datetime.fromtimestamp(time_ms / 1000, UTC).strftime("%a %Y-%m-%d %H:%M")


def tick_labels(times_ms: list[int], step: int) -> list[str]:
    """Compact labels for ticks ``step`` apart; a new day/year shows the date where it matters.

    Intraday steps label the first tick and every change of day as "Mon 08 14:30" (or
    "Mon 08" at midnight) and the rest "14:30"; day steps show "Mon 08", adding the time for
    a bar that opens off midnight (the Sunday open); weeks show "08 Jan"; months "Jan 2024"
    at the first tick and each new year, "Mar" otherwise.
    """
    labels: list[str] = []
    previous: datetime | None = None
    for time_ms in times_ms:
        moment = datetime.fromtimestamp(time_ms / 1000, UTC)
        at_midnight = moment.hour == 0 and moment.minute == 0
        if step < 0:
            new_year = previous is None or previous.year != moment.year
            labels.append(moment.strftime("%b %Y" if new_year else "%b"))
        elif step >= WEEK_MS:
            labels.append(moment.strftime("%d %b"))
        elif step >= DAY_MS:
            labels.append(moment.strftime("%a %d" if at_midnight else "%a %d %H:%M"))
        else:
            new_day = previous is None or previous.date() != moment.date()
            if new_day:
                labels.append(moment.strftime("%a %d" if at_midnight else "%a %d %H:%M"))
            else:
                labels.append(moment.strftime("%H:%M"))
        previous = moment
    return labels


class BarIndexAxis(pg.AxisItem):
    """Bottom axis of an index-plotted chart: ticks at round UTC times, labels in UTC.

    ``set_times`` hands it the bar times (a view; the chart calls it after every append).
    The step is the smallest whose ticks are at least ``tick_pixels`` apart; ticks that still
    come closer than ``label_pixels`` (the Sunday open next to Monday's midnight) are dropped.
    """

    def __init__(self, orientation: str = "bottom", tick_pixels: float = 70.0,
                 label_pixels: float = 62.0, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self._times = np.empty(0, dtype=np.int64)
        self._period_ms = float(MINUTE_MS)
        self.tick_pixels = tick_pixels
        self.label_pixels = label_pixels

    def set_times(self, times_ms: np.ndarray, bar_period_ms: float) -> None:
        """The bars' times (index i -> times_ms[i]) and their typical spacing."""
        self._times = times_ms
        self._period_ms = float(bar_period_ms) if bar_period_ms > 0 else float(MINUTE_MS)
        self.picture = None
        self.update()

    def label_at(self, index: int) -> str:
        """The full UTC time of bar ``index`` ("" outside the data)."""
        if not 0 <= index < len(self._times):
            return ""
        return full_label(int(self._times[index]))

    def tickValues(self, minVal: float, maxVal: float, size: float,
                   ) -> list[tuple[float, list[float]]]:
        """One tick level: the bars that open a new bucket of the chosen step."""
        times = self._times
        if len(times) == 0 or size <= 0 or maxVal <= minVal:
            return []
        bars_per_pixel = (maxVal - minVal) / size
        step = choose_step(self._period_ms, bars_per_pixel * self.tick_pixels)
        indices = boundary_indices(times, math.ceil(minVal), math.floor(maxVal), step)
        preferred = after_gap(times, indices, self._period_ms)
        kept = thin_out(indices, bars_per_pixel * self.label_pixels, preferred)
        return [(float(step), [float(i) for i in kept])]

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float) -> list[str]:
        """Labels from the bar times; ``spacing`` carries the step chosen in ``tickValues``."""
        n = len(self._times)
        indices = [round(v) for v in values]
        if not all(0 <= i < n for i in indices):
            return ["" for _ in values]
        return tick_labels([int(self._times[i]) for i in indices], int(spacing))


class UtcDateAxis(pg.DateAxisItem):
    """Calendar-time axis in UTC (x in epoch seconds), whatever the machine's time zone."""

    def __init__(self, orientation: str = "bottom", **kwargs: object) -> None:
        super().__init__(orientation=orientation, utcOffset=0, **kwargs)


def value_decimals(spacing: float) -> int:
    """Decimals that tell ticks ``spacing`` apart: 0.2 apart needs one ("99,999.8",
    "100,000.0"), not none ("100000, 100000")."""
    if not math.isfinite(spacing) or spacing <= 0:
        return 2
    return max(0, min(6, -math.floor(math.log10(spacing) + 1e-9)))


class ValueAxis(pg.AxisItem):
    """A value axis whose ticks are all distinct and read as amounts (thousands separated),
    with the unit in every tick (``suffix``, e.g. "%") rather than in an axis label that
    would overprint the ticks in a narrow pane."""

    def __init__(self, orientation: str = "left", suffix: str = "", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.suffix = suffix
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = value_decimals(spacing * scale)
        return [f"{v * scale:,.{decimals}f}{self.suffix}" for v in values]
