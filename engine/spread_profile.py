"""A symbol's spread by time of day: the median spread (points) per UTC weekday and hour.

Bars without an ask (HistData has bids only) need a modelled spread.  A fixed spread misses
what a trader pays most: spreads widen several-fold around the New York 17:00 rollover
(EURUSD on Dukascopy, February 2019: 3 points most of the day, 12 at 22:00 UTC, 6 at
23:00).  A ``SpreadProfile`` holds one figure per (weekday, UTC hour), 7 x 24, and looks a
vector of bar times up in one indexing step (a backtest replays millions of bars).

Estimating (``SpreadTally``): ticks are added a block at a time, so a file larger than
memory can be estimated.  Each tick's spread is ``(ask - bid) / point`` rounded to a tenth
of a point (whole-point data, as Dukascopy and MT5 exports are, is counted exactly), and
counted in the cell of its UTC weekday and hour; a median needs only these counts.  Ticks
without a price on either side, or with ask below bid, are left out (and counted).

Cells are filled in this order, and each cell records how (``fill``):

- ``measured``: the cell's own ticks, when it has at least ``MIN_CELL_TICKS`` of them;
- ``hour``: else the median of all ticks of that UTC hour over the weekdays that have it
  (with two days of ticks, Monday and Tuesday, the other weekdays get the pooled Monday
  and Tuesday figure of the hour);
- ``all``: else the median of every tick of the file(s).

The median counts ticks, not seconds: a busy minute weighs more than a quiet one, as it
does for a strategy whose exits fire on ticks.  Hours are UTC: the rollover sits at 17:00
New York, which is 22:00 UTC in winter and 21:00 UTC under US daylight saving, so a profile
estimated in one season puts the rollover an hour off in the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FILLS",
    "MIN_CELL_TICKS",
    "WEEKDAYS",
    "SpreadProfile",
    "SpreadTally",
    "cell_index",
]

#: Weekday names in ``SpreadProfile`` row order (Monday first, as ``datetime.weekday``).
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: How a cell got its figure (see the module note); ``scaled`` marks a profile derived from
#: another symbol's.
FILLS: tuple[str, ...] = ("measured", "hour", "all", "scaled")
#: Fewest ticks a cell needs to stand on its own: a median of a handful of quotes is one
#: quote's accident (22:00 UTC, the thinnest hour of the Dukascopy file, still has 1,757).
MIN_CELL_TICKS = 10
#: Spreads are counted in tenths of a point.
_STEPS_PER_POINT = 10
_CELLS = 7 * 24
_SHAPE = (7, 24)
#: 1970-01-01 was a Thursday: weekday (Monday = 0) of day number d is (d + 3) % 7.
_EPOCH_WEEKDAY = 3


def cell_index(times_s: np.ndarray) -> np.ndarray:
    """The flat (weekday * 24 + hour) cell of each UTC time in epoch seconds (vectorised)."""
    t = np.asarray(times_s, dtype=np.int64)
    days = t // 86_400
    return ((days + _EPOCH_WEEKDAY) % 7) * 24 + (t // 3_600) % 24


@dataclass(frozen=True, eq=False)
class SpreadProfile:
    """The median spread in points of ``symbol`` per (weekday, UTC hour).

    - ``points``: 7 x 24 spreads in points, finite and >= 0 (row 0 is Monday);
    - ``point``: the symbol's point (price units per point), > 0, so the profile converts
      to prices on its own, whatever broker's spec is at hand;
    - ``ticks``: 7 x 24 tick counts behind each cell (0 where filled);
    - ``fill``: 7 x 24 of ``FILLS``, how each cell got its figure;
    - ``source``: one line saying where the figures come from.
    """

    symbol: str
    point: float
    points: np.ndarray
    ticks: np.ndarray = field(default_factory=lambda: np.zeros(_SHAPE, dtype=np.int64))
    fill: np.ndarray = field(default_factory=lambda: np.full(_SHAPE, "measured"))
    source: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.point, float | int) and math.isfinite(self.point)
                and self.point > 0):
            raise ValueError(f"{self.symbol}: point must be a positive number, got {self.point!r}")
        points = np.array(self.points, dtype=np.float64)
        ticks = np.array(self.ticks, dtype=np.int64)
        fill = np.array(self.fill, dtype=object).astype(str)
        for name, value in (("points", points), ("ticks", ticks), ("fill", fill)):
            if value.shape != _SHAPE:
                raise ValueError(f"{self.symbol}: {name} must be 7 x 24, got {value.shape}")
        if not np.isfinite(points).all() or (points < 0).any():
            raise ValueError(f"{self.symbol}: spreads must be finite and >= 0")
        unknown = set(fill.ravel()) - set(FILLS)
        if unknown:
            raise ValueError(f"{self.symbol}: unknown fill {sorted(unknown)[0]!r}")
        for name, value in (("points", points), ("ticks", ticks), ("fill", fill)):
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def median_points(self) -> float:
        """The median of the 168 cells (each hour of the week once)."""
        return float(np.median(self.points))

    def spread_points_at(self, times_s: np.ndarray) -> np.ndarray:
        """The spread in points at each UTC time (epoch seconds)."""
        return self.points.ravel()[cell_index(times_s)]

    def spread_at(self, times_s: np.ndarray) -> np.ndarray:
        """The spread in price units at each UTC time (epoch seconds), a whole number of
        points: a quote sits on the symbol's price grid, so the modelled ask does too (a
        scaled profile's 7.5 points quotes as 8; halves round to even)."""
        return np.rint(self.spread_points_at(times_s)) * self.point

    def scaled(self, symbol: str, point: float, factor: float, source: str) -> SpreadProfile:
        """This profile's shape for another symbol: every cell x ``factor``, in its points."""
        if not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"{symbol}: scale factor must be finite and >= 0, got {factor!r}")
        return SpreadProfile(symbol, point, np.round(self.points * factor, 6),
                             np.zeros(_SHAPE, dtype=np.int64), np.full(_SHAPE, "scaled"),
                             source)

    def same_as(self, other: SpreadProfile) -> bool:
        """Equal figures, counts, fills, symbol and point (the source line aside)."""
        return (self.symbol == other.symbol and self.point == other.point
                and np.array_equal(self.points, other.points)
                and np.array_equal(self.ticks, other.ticks)
                and np.array_equal(self.fill, other.fill))


class SpreadTally:
    """Spread counts per (weekday, hour) cell, added a block of ticks at a time."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._counts = np.empty(0, dtype=np.int64)
        self.ticks = 0
        self.left_out = 0
        self.first_msc: int | None = None
        self.last_msc: int | None = None

    def add(self, time_msc: np.ndarray, bid: np.ndarray, ask: np.ndarray, point: float) -> None:
        """Count a block of ticks (UTC epoch milliseconds, prices in price units)."""
        times = np.asarray(time_msc, dtype=np.int64)
        spread = (np.asarray(ask, dtype=np.float64) - np.asarray(bid, dtype=np.float64)) / point
        usable = np.isfinite(spread) & (spread >= 0)
        self.left_out += int((~usable).sum())
        times, spread = times[usable], spread[usable]
        if not len(times):
            return
        self.ticks += len(times)
        first, last = int(times.min()), int(times.max())
        self.first_msc = first if self.first_msc is None else min(self.first_msc, first)
        self.last_msc = last if self.last_msc is None else max(self.last_msc, last)
        steps = np.rint(spread * _STEPS_PER_POINT).astype(np.int64)
        keys = cell_index(times // 1000) * (1 << 40) + steps
        merged = np.concatenate([self._keys, keys])
        weights = np.concatenate([self._counts, np.ones(len(keys), dtype=np.int64)])
        self._keys, inverse = np.unique(merged, return_inverse=True)
        self._counts = np.bincount(inverse, weights=weights).astype(np.int64)

    def profile(self, symbol: str, point: float, source: str = "") -> SpreadProfile:
        """The profile of the ticks counted so far (see the module note for the fills)."""
        if self.ticks == 0:
            raise ValueError(f"{symbol}: no ticks with both a bid and an ask to estimate from")
        cells = self._keys >> 40
        steps = self._keys & ((1 << 40) - 1)
        points = np.empty(_CELLS)
        ticks = np.zeros(_CELLS, dtype=np.int64)
        fill = np.empty(_CELLS, dtype=object)
        overall = _median(steps, self._counts)
        hours = cells % 24
        for cell in range(_CELLS):
            mine = cells == cell
            ticks[cell] = int(self._counts[mine].sum())
            if ticks[cell] >= MIN_CELL_TICKS:
                points[cell], fill[cell] = _median(steps[mine], self._counts[mine]), "measured"
                continue
            ticks[cell] = 0
            same_hour = hours == cell % 24
            if self._counts[same_hour].sum() >= MIN_CELL_TICKS:
                points[cell] = _median(steps[same_hour], self._counts[same_hour])
                fill[cell] = "hour"
            else:
                points[cell], fill[cell] = overall, "all"
        return SpreadProfile(symbol, float(point), points.reshape(_SHAPE),
                             ticks.reshape(_SHAPE), fill.reshape(_SHAPE), source)


def _median(steps: np.ndarray, counts: np.ndarray) -> float:
    """The median spread in points of ``counts[i]`` ticks at ``steps[i]`` tenths of a point
    (the mean of the two middle ticks for an even count, as ``numpy.median``)."""
    order = np.argsort(steps, kind="stable")
    steps, counts = steps[order], counts[order]
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    low = steps[int(np.searchsorted(cumulative, (total - 1) // 2, side="right"))]
    high = steps[int(np.searchsorted(cumulative, total // 2, side="right"))]
    return float(low + high) / (2 * _STEPS_PER_POINT)
