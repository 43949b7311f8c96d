"""Series to SVG path data, long series first reduced to what the chart's pixels can show."""

from __future__ import annotations

import math

import numpy as np


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
