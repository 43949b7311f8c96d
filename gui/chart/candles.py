"""Candlesticks as one graphics item, drawn from a cached ``QPicture`` of the visible bars.

x is the bar index (the chart has no weekend gaps); y is the price.  Drawing every candle of
a 70,000-bar M1 history on each repaint would stall the GUI thread, and pyqtgraph's
per-item alternatives cost a Python object per bar.  This item keeps the OHLC arrays and
records, into a ``QPicture``, only the candles in the x range being shown (plus a margin so
a small pan reuses the picture); a repaint replays the picture, and the picture is rebuilt
only when the data or that window change.  When more candles are visible than the plot has
pixels for, a candle shrinks to its high-low line.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPicture

#: Body fill of a rising (close >= open) and a falling candle, and their outlines.
UP_FILL = QColor("#26a69a")
DOWN_FILL = QColor("#ef5350")
UP_LINE = QColor("#1b7a71")
DOWN_LINE = QColor("#b23431")
#: Body width as a share of the bar spacing.
BODY_WIDTH = 0.7
#: Extra bars recorded either side of the visible window.
_MARGIN = 0.5


class CandleItem(pg.GraphicsObject):
    """OHLC candles at x = 0..n-1; ``set_data`` replaces them, ``set_window`` says which
    part is shown (the chart calls it when the view's x range changes)."""

    def __init__(self) -> None:
        super().__init__()
        self._open = np.empty(0)
        self._high = np.empty(0)
        self._low = np.empty(0)
        self._close = np.empty(0)
        self._window = (0, -1)  # first and last index recorded
        self._wanted = (0.0, -1.0)
        self._picture: QPicture | None = None
        self._bodies = True
        self._bounds = QRectF()

    def __len__(self) -> int:
        return len(self._open)

    def set_data(self, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                 close: np.ndarray) -> None:
        """Replace the candles (equal-length arrays, index order)."""
        n = len(open_)
        if not (len(high) == len(low) == len(close) == n):
            raise ValueError("open, high, low and close must have the same length")
        self._open = np.asarray(open_, dtype=np.float64)
        self._high = np.asarray(high, dtype=np.float64)
        self._low = np.asarray(low, dtype=np.float64)
        self._close = np.asarray(close, dtype=np.float64)
        self.prepareGeometryChange()
        if n:
            self._bounds = QRectF(-1.0, float(np.nanmin(self._low)), n + 1.0,
                                  float(np.nanmax(self._high) - np.nanmin(self._low)))
        else:
            self._bounds = QRectF()
        self._picture = None
        self.update()

    def ohlc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The candles drawn: open, high, low and close by index."""
        return self._open, self._high, self._low, self._close

    def set_window(self, low: float, high: float) -> None:
        """The visible x range; the picture is rebuilt when it leaves the recorded one."""
        self._wanted = (low, high)
        first, last = self._window
        if self._picture is not None and first <= max(low, 0) and \
                last >= min(high, len(self) - 1) and self._bodies == self._want_bodies():
            return
        self._picture = None
        self.update()

    def visible_extremes(self, low: float, high: float) -> tuple[float, float] | None:
        """(lowest low, highest high) of the candles in [low, high], None when there are none."""
        first = max(math.floor(low), 0)
        last = min(math.ceil(high), len(self) - 1)
        if last < first:
            return None
        lows = self._low[first:last + 1]
        highs = self._high[first:last + 1]
        if not np.isfinite(lows).any():
            return None
        return float(np.nanmin(lows)), float(np.nanmax(highs))

    def _record(self) -> QPicture:
        low, high = self._wanted
        span = max(high - low, 10.0)
        first = max(math.floor(low - _MARGIN * span), 0)
        last = min(math.ceil(high + _MARGIN * span), len(self) - 1)
        self._window = (first, last)
        picture = QPicture()
        painter = QPainter(picture)
        if last >= first:
            self._draw(painter, first, last)
        painter.end()
        return picture

    def _want_bodies(self) -> bool:
        """Bodies are drawn at 3 px a bar or more (below that they are unreadable)."""
        view = self.getViewBox()
        pixels = view.width() if view is not None else 1000.0
        return pixels / max(self._wanted[1] - self._wanted[0], 1.0) >= 3.0

    def _draw(self, painter: QPainter, first: int, last: int) -> None:
        bodies = self._bodies = self._want_bodies()
        o = self._open[first:last + 1]
        c = self._close[first:last + 1]
        h = self._high[first:last + 1]
        lo = self._low[first:last + 1]
        up = c >= o
        half = BODY_WIDTH / 2
        for rising, line, fill in ((True, UP_LINE, UP_FILL), (False, DOWN_LINE, DOWN_FILL)):
            rows = np.flatnonzero((up == rising) & np.isfinite(o))
            pen = QPen(line)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLines([QLineF(first + i, lo[i], first + i, h[i]) for i in rows])
            if not bodies:
                continue
            painter.setBrush(QBrush(fill))
            painter.drawRects([QRectF(first + i - half, min(o[i], c[i]), BODY_WIDTH,
                                      abs(c[i] - o[i])) for i in rows])

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._picture is None:
            self._picture = self._record()
        painter.drawPicture(QPointF(0.0, 0.0), self._picture)

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)
