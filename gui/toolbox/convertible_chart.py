"""The Convertible tab's chart: the bonds' delta in shares and the hedge held, over time.

Both in shares on one axis: ``bonds x delta`` (what the hedge should be short) and the hedge
held, drawn short as a positive number, so a hedged book shows two lines on top of each
other; the band is drawn around the delta.  Calendar time (UTC) on x, one point per check.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.chart import style
from gui.chart.axis import UtcDateAxis, ValueAxis

DELTA_COLOUR = "#ff7f0e"
HELD_COLOUR = "#1f3b73"
BAND_COLOUR = "#b0b0b0"


class HedgeChart(QWidget):
    """``set_points`` replaces the curves (a check is a point; a few thousand at most)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": UtcDateAxis("bottom"),
                                                    "left": ValueAxis("left")})
        self.plot_widget.setBackground(style.BACKGROUND)
        plot = self.plot_widget.getPlotItem()
        style.style_plot(plot)
        plot.setMenuEnabled(False)
        # bottom right: the hedge of a long convertible grows with the stock, up and right
        legend = plot.addLegend(offset=(-6, -4), labelTextSize="8pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.delta_curve = plot.plot([], [], pen=pg.mkPen(DELTA_COLOUR, width=2),
                                     name="bonds × delta (shares)")
        self.held_curve = plot.plot([], [], pen=pg.mkPen(HELD_COLOUR, width=2),
                                    stepMode=None, name="hedge held short (shares)")
        band_pen = pg.mkPen(BAND_COLOUR, style=Qt.PenStyle.DashLine)
        self.upper = plot.plot([], [], pen=band_pen)
        self.lower = plot.plot([], [], pen=band_pen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self.setToolTip("Orange: bonds x delta, the shares the hedge should be short (the "
                        "target's size). Blue: the hedge held at the terminal, short shares "
                        "as a positive number. Dashed: the band around the target; outside "
                        "it the hedger trades back to the target.")

    def set_points(self, times_s: np.ndarray, delta_shares: np.ndarray, held: np.ndarray,
                   band: float) -> None:
        """Times in UTC epoch seconds; ``held`` signed (short negative); ``band`` in shares."""
        short = -np.asarray(held, dtype=np.float64)
        self.delta_curve.setData(times_s, delta_shares)
        # the hedge changes only at checks: a step line shows when it was traded
        if len(times_s) > 1:
            self.held_curve.setData(np.repeat(times_s, 2)[1:], np.repeat(short, 2)[:-1])
        else:
            self.held_curve.setData(times_s, short)
        self.upper.setData(times_s, np.asarray(delta_shares) + band)
        self.lower.setData(times_s, np.asarray(delta_shares) - band)
