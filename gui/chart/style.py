"""Light-theme look shared by the charts (MT5-like: white plot area, grey grid, green/red P&L).

Styling is applied per plot rather than through ``pg.setConfigOptions`` so that the charts
look the same whatever global options the rest of the console sets.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPen

BACKGROUND = "#ffffff"
AXIS = "#4a4a4a"
TEXT = "#202020"
PROFIT = "#1a9641"
LOSS = "#d7191c"
FLAT = "#7f7f7f"
TDI_LINE = "#1f3b73"
ENTRY_MARKER = "#1f3b73"
ENTRY_BAND = "#e08a00"
EXIT_BAND = "#2a9d8f"
STOP_BAND = "#c0392b"
CROSSHAIR = "#808080"
GRID = "#e9e9e9"
BALANCE = "#1f3b73"
EQUITY = "#2a9d8f"
#: Distinct on white and readable for 6 legs (tab10 without the greens/reds used for P&L).
LEG_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#7f7f7f")
#: Width of every left axis, so that stacked panes line up and share the x axis exactly.
LEFT_AXIS_WIDTH = 56


def leg_colour(position: int) -> str:
    return LEG_COLOURS[position % len(LEG_COLOURS)]


def tick_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.0)
    return font


def style_plot(plot: pg.PlotItem) -> None:
    """Dark axes, an opaque light grid under the data, a fixed-width left axis.

    The grid is drawn by the axes with an opaque light pen rather than pyqtgraph's default
    translucent one: blending the grid lines over the whole pane doubled the cost of a
    frame.  The axes sit below the view box so the grid never crosses the curves.
    """
    font = tick_font()
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        axis.setTickPen(pg.mkPen(GRID))
        axis.setTickFont(font)
        axis.setStyle(tickAlpha=255, maxTickLevel=1)
        axis.setZValue(-200)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    plot.showGrid(x=True, y=True)


def dashed(colour: str, width: float = 1.0) -> QPen:
    return pg.mkPen(colour, width=width, style=Qt.PenStyle.DashLine)
