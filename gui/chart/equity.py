"""Equity chart: balance (steps) and equity on top, drawdown from the running peak below.

Calendar time on x (UTC): the account's equity does move over a weekend only by swaps, and
a flat stretch there is truthful, unlike on the cluster chart.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.chart import style
from gui.chart.axis import UtcDateAxis, ValueAxis
from gui.chart.buffer import GrowableArray


def drawdown_percent(equity: np.ndarray) -> np.ndarray:
    """``equity / running peak - 1`` in percent; NaN where no positive peak exists yet.

    NaN equity values are skipped by the running peak (``fmax``) and give NaN drawdown.
    """
    equity = np.asarray(equity, dtype=np.float64)
    if len(equity) == 0:
        return np.empty(0)
    peak = np.fmax.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, (equity / peak - 1.0) * 100.0, np.nan)


class EquityChart(QWidget):
    """Balance and equity with drawdown; ``append`` is amortised O(1) (growable buffers)."""

    #: A deferred ``append`` redraws at most this often.  A redraw of both panes costs
    #: 15-25 ms however few points arrived, and a max-speed replay appends a point at every
    #: snapshot (five a second): redrawing each one was about a tenth of the GUI thread's
    #: time (``bench/README.md``, console section).
    DEFERRED_REDRAW_MS = 1000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._times = GrowableArray(np.float64)
        self._balance = GrowableArray(np.float64)
        self._equity = GrowableArray(np.float64)
        self._drawdown = GrowableArray(np.float64)
        self._peak = math.nan
        #: Redraws so far (the tests count them).
        self.redraws = 0
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(self.DEFERRED_REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._build()
        self._redraw()

    def _build(self) -> None:
        self._summary = QLabel()
        self._summary.setTextFormat(Qt.TextFormat.RichText)
        self._summary.setContentsMargins(8, 4, 6, 0)
        # wraps rather than holding the dock wide: the Toolbox beside it needs the width
        self._summary.setWordWrap(True)
        self._plots = pg.GraphicsLayoutWidget()
        self._plots.setBackground(style.BACKGROUND)
        self._plots.ci.layout.setContentsMargins(2, 2, 8, 2)
        self._plots.ci.layout.setVerticalSpacing(0)
        self._top_axis = UtcDateAxis("bottom")
        self._top_axis.setStyle(showValues=False)
        self._top_axis.setHeight(4)
        self.equity_plot: pg.PlotItem = self._plots.addPlot(
            row=0, col=0, axisItems={"bottom": self._top_axis, "left": ValueAxis("left")})
        self.drawdown_plot: pg.PlotItem = self._plots.addPlot(
            row=1, col=0, axisItems={"bottom": UtcDateAxis("bottom"),
                                     "left": ValueAxis("left", suffix="%")})
        self._plots.ci.layout.setRowStretchFactor(0, 3)
        self._plots.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.equity_plot, self.drawdown_plot):
            style.style_plot(plot)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=True, y=False)
            plot.getViewBox().setAutoVisible(y=True)
        self.drawdown_plot.setXLink(self.equity_plot)
        # No axis labels (they overprinted the ticks in this narrow pane) and no legend over
        # the curve: the ticks carry the unit, and the summary line above names the curves
        # in their colours.
        for plot in (self.equity_plot, self.drawdown_plot):
            plot.getAxis("left").setWidth(64)  # both panes' plots line up
        self.balance_curve: pg.PlotDataItem = self.equity_plot.plot(
            pen=pg.mkPen(style.BALANCE, width=1.4), stepMode="left", name="Balance")
        self.equity_curve: pg.PlotDataItem = self.equity_plot.plot(
            pen=pg.mkPen(style.EQUITY, width=1.2), name="Equity", connect="finite")
        self.drawdown_curve: pg.PlotDataItem = self.drawdown_plot.plot(
            pen=pg.mkPen(style.LOSS, width=1.0), fillLevel=0.0,
            brush=pg.mkBrush(215, 25, 28, 60), connect="finite")
        self.balance_curve.setZValue(10)  # the steps stay visible over a noisy equity line
        for curve in (self.equity_curve, self.drawdown_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._summary)
        layout.addWidget(self._plots, 1)

    def set_series(self, times_ms: np.ndarray, balance: np.ndarray, equity: np.ndarray) -> None:
        """Replace the whole series.  Times must not go backwards (x is calendar time)."""
        times = np.asarray(times_ms, dtype=np.int64).reshape(-1)
        balance = np.asarray(balance, dtype=np.float64).reshape(-1)
        equity = np.asarray(equity, dtype=np.float64).reshape(-1)
        if not len(times) == len(balance) == len(equity):
            raise ValueError(f"times_ms, balance and equity differ in length: "
                             f"{len(times)}, {len(balance)}, {len(equity)}")
        if len(times) > 1 and np.any(np.diff(times) < 0):
            bad = int(np.argmax(np.diff(times) < 0)) + 1
            raise ValueError(f"times_ms go backwards at index {bad}")
        drawdown = drawdown_percent(equity)
        self._times.replace(times / 1000.0)
        self._balance.replace(balance)
        self._equity.replace(equity)
        self._drawdown.replace(drawdown)
        finite = equity[np.isfinite(equity)]
        self._peak = float(finite.max()) if len(finite) else math.nan
        self._redraw()

    def append(self, time_ms: int, balance: float, equity: float, *,
               defer: bool = False) -> None:
        """One new point; the running peak is kept, so the drawdown costs O(1).

        ``defer``: redraw within ``DEFERRED_REDRAW_MS`` rather than now, once for every
        point appended meanwhile (the console's snapshots)."""
        seconds = int(time_ms) / 1000.0
        if len(self._times) and seconds < self._times.view()[-1]:
            raise ValueError(f"time {int(time_ms)} is older than the newest point "
                             f"{int(self._times.view()[-1] * 1000)}")
        equity = float(equity)
        if math.isfinite(equity):
            self._peak = equity if math.isnan(self._peak) else max(self._peak, equity)
        if self._peak > 0 and math.isfinite(equity):
            drawdown = (equity / self._peak - 1.0) * 100.0
        else:
            drawdown = math.nan
        self._times.append(seconds)
        self._balance.append(float(balance))
        self._equity.append(equity)
        self._drawdown.append(drawdown)
        if not defer:
            self._redraw()
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def drawdown_values(self) -> np.ndarray:
        """The plotted drawdown in percent (a copy)."""
        return self._drawdown.view().copy()

    def summary_text(self) -> str:
        return self._summary.text()

    def _redraw(self) -> None:
        self._redraw_timer.stop()
        self.redraws += 1
        x = self._times.view()
        self.balance_curve.setData(x, self._balance.view())
        self.equity_curve.setData(x, self._equity.view())
        self.drawdown_curve.setData(x, self._drawdown.view())
        if len(x) == 0:
            self._summary.setText("<span style='color:#777'>No equity data</span>")
            return
        drawdown = self._drawdown.view()
        worst = float(np.nanmin(drawdown)) if np.isfinite(drawdown).any() else math.nan
        self._keep_a_readable_range()
        self._summary.setText(
            # each figure stays with its name when the line wraps in a narrow pane
            f"<span style='color:{style.BALANCE}'>━&nbsp;Balance</span>&nbsp;"
            f"<b>{self._balance.view()[-1]:,.2f}</b>&nbsp;&nbsp; "
            f"<span style='color:{style.EQUITY}'>━&nbsp;Equity</span>&nbsp;"
            f"<b>{self._equity.view()[-1]:,.2f}</b>&nbsp;&nbsp; "
            f"Drawdown&nbsp;<b style='color:{style.LOSS}'>{drawdown[-1]:.2f}%</b>&nbsp;&nbsp; "
            f"Max&nbsp;drawdown&nbsp;<b style='color:{style.LOSS}'>{worst:.2f}%</b>")

    #: The account pane shows at least this share of the equity (0.1%: 100 on 100,000), so
    #: a flat start reads "99,950 .. 100,050", not three ticks that differ in the fifth digit.
    MIN_RANGE_SHARE = 0.001
    #: The drawdown pane shows at least 0 .. -this (percent).
    MIN_DRAWDOWN_RANGE = 0.1
    #: Both panes show at least this much time (seconds): a session's first marks, seconds
    #: apart, read on a minutes axis ("05:30 05:35"), not on fractions of a second.
    MIN_TIME_RANGE_S = 30 * 60.0

    def _keep_a_readable_range(self) -> None:
        last = float(self._equity.view()[-1])
        level = abs(last) if math.isfinite(last) else 0.0
        self.equity_plot.getViewBox().setLimits(
            minYRange=max(level * self.MIN_RANGE_SHARE, 1.0), minXRange=self.MIN_TIME_RANGE_S)
        self.drawdown_plot.getViewBox().setLimits(minYRange=self.MIN_DRAWDOWN_RANGE,
                                                  minXRange=self.MIN_TIME_RANGE_S)
