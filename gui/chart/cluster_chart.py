"""The console's charts: the selected cluster (TDI, legs, trades) and the account's equity.

Both are pure views: the main window feeds them plain arrays and they emit Qt signals for
what the user does.  ``ClusterChart`` plots against the bar index so weekends leave no gap
(``gui.chart.axis.BarIndexAxis`` labels the index with UTC times); ``EquityChart`` lives in
``gui.chart.equity`` and is re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.console import symbol_digits
from engine.cluster import DEFAULT_TDI_STOP
from gui.chart import style
from gui.chart.axis import BarIndexAxis
from gui.chart.buffer import BarSeries
from gui.chart.equity import EquityChart
from gui.chart.timeframe_buttons import chart_header
from gui.chart.trades import LINE_GROUPS, TradeMarks, TradeTable, place_trades
from gui.plain_text import plain_tip

__all__ = ["DEFAULT_VISIBLE_BARS", "TIMEFRAMES", "ClusterChart", "EquityChart", "signal_tdi_at"]

TIMEFRAMES = ("M30", "M1")
#: Bars shown when data arrives (about 12 trading days of M30); pan/zoom reach the rest.
DEFAULT_VISIBLE_BARS = 600
#: Empty room right of the newest bar, as a share of the visible bars.
_RIGHT_MARGIN = 0.03
_GROUP_COLOURS = {"profit": style.PROFIT, "loss": style.LOSS, "flat": style.FLAT,
                  "open": style.FLAT}


class ClusterChart(QWidget):
    """The selected cluster: TDI pane with bands and trades over the legs pane.

    x is the bar index of the active timeframe (M30 history or the M1 view), shared by both
    panes.  The legs are each member's close relative to its close at the first visible bar,
    in percent, so they are re-based whenever the view pans.  While the newest bar is in view
    the chart follows new bars; after panning back it stays put until panned to the end.
    """

    #: "M30" or "M1", whenever the view switches (button click or ``set_timeframe``).
    timeframeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None,
                 visible_bars: int = DEFAULT_VISIBLE_BARS) -> None:
        super().__init__(parent)
        self._visible_bars = max(int(visible_bars), 10)
        self._name = ""
        self._symbols: tuple[str, ...] = ()
        self._entry = math.nan
        self._exit = math.nan
        self._stop = DEFAULT_TDI_STOP
        self._series: dict[str, BarSeries] = {tf: BarSeries() for tf in TIMEFRAMES}
        self._trades = TradeTable.build(())
        self._marks: TradeMarks | None = None
        self._timeframe = "M30"
        #: What the signal view (the "M30" key) is called: the cluster's own timeframe.
        self._signal_tf = "M30"
        self._score_name = "TDI"
        self._follow = True
        self._hover_index: int | None = None
        self._legs_key: tuple[int, int] = (-1, -1)
        self._legs: dict[str, np.ndarray] = {}
        self._x = np.arange(1024, dtype=np.float64)
        self._readout_plain = ""
        self._build()
        self._show_series()

    # ----------------------------------------------------------------- construction
    def _build(self) -> None:
        self._title, header, self._tf_buttons = chart_header(
            self, TIMEFRAMES, self._timeframe, self.set_timeframe,
            tip=lambda tf: f"Show the {tf} view", min_width=42)
        self._clock = QLabel()
        self._clock.setToolTip("The market clock (UTC), from the same engine snapshot as the "
                               "status bar's")
        self._clock.setContentsMargins(8, 0, 6, 0)
        # a fixed size: the text changes with every snapshot, and a label whose size hint
        # may change makes the chart lay itself out again each time (measured in
        # bench/README.md, console section)
        self._clock.setText("market 0000-00-00 00:00 UTC")
        self._clock.setFixedSize(self._clock.sizeHint())
        self._clock.setText("")
        self._readout = QLabel()
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        # a long readout (six legs) must not widen the window: it wraps between legs, so
        # every symbol stays readable at 1600x900
        self._readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._readout.setWordWrap(True)
        self._readout.setMinimumWidth(1)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setPointSizeF(8.5)
        self._readout.setFont(font)
        self._readout.setContentsMargins(8, 0, 6, 0)

        self._plots = pg.GraphicsLayoutWidget()
        self._plots.setBackground(style.BACKGROUND)
        self._plots.ci.layout.setContentsMargins(2, 2, 8, 2)
        self._plots.ci.layout.setVerticalSpacing(0)
        self._tdi_axis = BarIndexAxis("bottom")
        self._legs_axis = BarIndexAxis("bottom")
        self.tdi_plot: pg.PlotItem = self._plots.addPlot(
            row=0, col=0, axisItems={"bottom": self._tdi_axis})
        self.legs_plot: pg.PlotItem = self._plots.addPlot(
            row=1, col=0, axisItems={"bottom": self._legs_axis})
        self._plots.ci.layout.setRowStretchFactor(0, 3)
        self._plots.ci.layout.setRowStretchFactor(1, 2)
        for plot in (self.tdi_plot, self.legs_plot):
            style.style_plot(plot)
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
        self._tdi_axis.setStyle(showValues=False)
        self._tdi_axis.setHeight(4)
        self.legs_plot.setXLink(self.tdi_plot)
        self.tdi_plot.setLabel("left", "TDI", color=style.AXIS)
        self._tdi_label = "TDI"
        self.legs_plot.setLabel("left", "Legs %", color=style.AXIS)
        for plot in (self.tdi_plot, self.legs_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)  # percent read as written
        self.tdi_plot.getViewBox().disableAutoRange()
        legs_box = self.legs_plot.getViewBox()
        legs_box.disableAutoRange(axis="x")
        legs_box.enableAutoRange(axis="y")
        legs_box.setAutoVisible(y=True)

        self._zero_line = pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#c8c8c8"))
        self.tdi_plot.addItem(self._zero_line, ignoreBounds=True)
        self.bands: dict[str, pg.InfiniteLine] = {}
        band_colours = {"stop": style.STOP_BAND, "E": style.ENTRY_BAND, "X": style.EXIT_BAND}
        for kind, colour in band_colours.items():
            for sign in "+-":
                line = pg.InfiniteLine(
                    0.0, angle=0, movable=False, pen=style.dashed(colour),
                    label="", labelOpts={"position": 0.99, "color": colour,
                                         "fill": (255, 255, 255, 210),
                                         "anchors": [(1, 1), (1, 1)] if sign == "+"
                                         else [(1, 0), (1, 0)]})
                line.setZValue(20)  # the labels' white fill sits over the TDI line
                self.tdi_plot.addItem(line, ignoreBounds=True)
                self.bands[f"{sign}{kind}"] = line

        self.tdi_curve: pg.PlotDataItem = self.tdi_plot.plot(
            pen=pg.mkPen(style.TDI_LINE, width=1), connect="finite")
        self._fast_curve(self.tdi_curve)
        self.trade_lines: dict[str, pg.PlotDataItem] = {}
        for group in LINE_GROUPS:
            pen = style.dashed(_GROUP_COLOURS[group], 1.3) if group == "open" else \
                pg.mkPen(_GROUP_COLOURS[group], width=1.6)
            self.trade_lines[group] = self.tdi_plot.plot(pen=pen, connect="pairs")
        self.entry_markers = pg.ScatterPlotItem(
            size=12, pen=pg.mkPen("#ffffff", width=0.8), brush=pg.mkBrush(style.ENTRY_MARKER),
            hoverable=True, tip=self._entry_tip)
        self.exit_markers = pg.ScatterPlotItem(
            size=9, pen=pg.mkPen("#ffffff", width=0.8), symbol="o", hoverable=True,
            tip=self._exit_tip)
        self._exit_brushes = {group: pg.mkBrush(colour)
                              for group, colour in _GROUP_COLOURS.items()}
        for item in (*self.trade_lines.values(), self.entry_markers, self.exit_markers):
            item.setZValue(30)
            if item.scene() is None:
                self.tdi_plot.addItem(item)

        self.legend = self.legs_plot.addLegend(
            offset=(6, 4), brush=pg.mkBrush(255, 255, 255, 210), pen=pg.mkPen("#d0d0d0"),
            labelTextColor=style.TEXT, labelTextSize="8pt", verSpacing=-4)
        self.leg_curves: dict[str, pg.PlotDataItem] = {}

        self._crosshair = [pg.InfiniteLine(angle=90, movable=False,
                                           pen=style.dashed(style.CROSSHAIR))
                           for _ in (self.tdi_plot, self.legs_plot)]
        for plot, line in zip((self.tdi_plot, self.legs_plot), self._crosshair, strict=True):
            line.setVisible(False)
            line.setZValue(50)
            plot.addItem(line, ignoreBounds=True)

        self.tdi_plot.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        self._plots.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._plots.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        readout_row = QHBoxLayout()
        readout_row.setContentsMargins(0, 0, 0, 0)
        readout_row.addWidget(self._readout, 1)
        readout_row.addWidget(self._clock, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(readout_row)
        layout.addWidget(self._plots, 1)

    @staticmethod
    def _fast_curve(curve: pg.PlotDataItem) -> None:
        """Draw only the visible bars, peak-downsampled when zoomed out (20,000-bar history)."""
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")

    # ---------------------------------------------------------------------- contract
    def set_cluster(self, name: str, symbols: Sequence[str], entry: float, exit_band: float,
                    tdi_stop: float = DEFAULT_TDI_STOP, score_name: str = "TDI",
                    timeframe: str = "M30") -> None:
        """Show a new cluster: clears every series and trade, sets the bands and the title.
        ``score_name``: what its kind's score is called (TDI, z, ...): the score pane's label;
        ``timeframe``: its signal bars (M30, H1, D1...), what the signal view is called (the
        view keeps the key "M30" whatever the bars are)."""
        symbols = tuple(symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"cluster {name}: symbols repeat: {', '.join(symbols)}")
        self._check_levels(entry, exit_band, tdi_stop)
        self._name = name
        self._symbols = symbols
        self._score_name = score_name
        self._signal_tf = timeframe
        signal_button = self._tf_buttons["M30"]
        signal_button.setText(timeframe)
        signal_button.setToolTip(f"Show the {timeframe} view (the signal's bars)")
        self._stop = float(tdi_stop)
        self._series = {tf: BarSeries(symbols) for tf in TIMEFRAMES}
        self._trades = TradeTable.build(())
        self._marks = None
        for curve in self.leg_curves.values():
            self.legs_plot.removeItem(curve)
        self.legend.clear()
        self.leg_curves = {}
        for position, symbol in enumerate(symbols):
            curve = self.legs_plot.plot(pen=pg.mkPen(style.leg_colour(position), width=1),
                                        name=escape(symbol), connect="finite")  # legend: HTML
            self._fast_curve(curve)
            self.leg_curves[symbol] = curve
        self.legend.setColumnCount(max(len(symbols), 1))
        self._apply_levels(entry, exit_band)
        self._show_series()

    def set_thresholds(self, entry: float, exit_band: float) -> None:
        """The trader changed E or X while running: move the bands, keep the data."""
        if (float(entry), float(exit_band)) == (self._entry, self._exit):
            return  # called with every snapshot; nothing to redraw
        self._check_levels(entry, exit_band, self._stop)
        self._apply_levels(entry, exit_band)
        self._update_tdi_range()

    def set_history(self, times_ms: np.ndarray, tdi: np.ndarray,
                    closes: Mapping[str, np.ndarray]) -> None:
        """Replace the M30 history (``tdi`` may hold NaN during warm-up).

        A refresh keeps what the trader is looking at: while following, the newest bars stay
        in view; after panning back, the same first bar (by time) stays at the left edge.
        """
        series = self._series["M30"]
        anchor = self._view_anchor() if self._timeframe == "M30" else None
        series.replace(times_ms, tdi, closes)
        if self._timeframe == "M30":
            self._show_series(anchor)

    def append_bar(self, time_ms: int, tdi: float, closes: Mapping[str, float]) -> None:
        """One new M30 bar (a bar with the newest time replaces it).  Amortised O(1) buffers;
        the curves get views and draw only the visible bars."""
        added = self._series["M30"].append(time_ms, tdi, closes)
        if self._timeframe == "M30":
            self._on_data_grew(added)

    def set_m1(self, times_ms: np.ndarray, closes: Mapping[str, np.ndarray],
               provisional_tdi: np.ndarray | None = None) -> None:
        """Replace the M1 view's bars; without ``provisional_tdi`` its TDI pane has no line."""
        self._series["M1"].replace(times_ms, provisional_tdi, closes)
        if self._timeframe == "M1":
            self._show_series()

    def show_notice(self, html: str) -> None:
        """A line in place of the cluster's title: why there is no cluster to show."""
        self._title.setText(f"<span style='color:#a05a00'>{html}</span>")

    def set_clock(self, text: str) -> None:
        """The market clock, set with the status bar's from one snapshot."""
        self._clock.setText(text)

    def set_trades(self, trades: Sequence[Mapping[str, Any]]) -> None:
        """Replace the cluster's trades (open ones have ``exit_time_ms`` None).

        Raises ``ValueError`` naming the trade for a missing key or a direction other than
        LONG/SHORT; nothing is changed then.
        """
        self._trades = TradeTable.build(trades)
        self._marks = None
        self._place_trades()

    def timeframe(self) -> str:
        return self._timeframe

    def _shown_timeframe(self) -> str:
        """The active view's name as shown: the cluster's signal timeframe, or M1."""
        return self._signal_tf if self._timeframe == "M30" else self._timeframe

    # ------------------------------------------------------------------ extra public
    def set_timeframe(self, timeframe: str) -> None:
        """Switch between the M30 and M1 views; emits ``timeframeChanged`` on a change."""
        if timeframe not in TIMEFRAMES:
            raise ValueError(f"timeframe {timeframe!r} is not one of {', '.join(TIMEFRAMES)}")
        self._tf_buttons[timeframe].setChecked(True)
        if timeframe == self._timeframe:
            return
        self._timeframe = timeframe
        self._marks = None
        self._show_series()
        self.timeframeChanged.emit(timeframe)

    def band_levels(self) -> dict[str, float]:
        """Where the bands are drawn, by name ("+E", "-X", "+stop", ...)."""
        return {name: float(line.value()) for name, line in self.bands.items()}

    def crosshair_text(self) -> str:
        """The value readout as plain text (the hovered bar, else the newest bar)."""
        return self._readout_plain

    def crosshair_index(self) -> int | None:
        """The hovered bar index, None when the mouse is not over the panes."""
        return self._hover_index

    def trade_marks(self) -> TradeMarks | None:
        """What the trades placed on the TDI pane (markers, lines, hidden count)."""
        return self._marks

    def leg_values(self, symbol: str) -> np.ndarray:
        """The plotted leg in percent of its first visible close (a copy)."""
        return self._legs.get(symbol, np.empty(0)).copy()

    def visible_range(self) -> tuple[float, float]:
        low, high = self.tdi_plot.getViewBox().viewRange()[0]
        return float(low), float(high)

    def show_last_bars(self, count: int | None = None) -> None:
        """Put the newest ``count`` bars (default: the visible-bars setting) in view, following."""
        n = len(self._active())
        count = self._visible_bars if count is None else max(int(count), 2)
        low = max(n - count, 0) - 0.5
        high = max(n - 1, low + 10) + max(1.0, _RIGHT_MARGIN * (n - 1 - low))
        self._follow = True
        self.tdi_plot.setXRange(low, high, padding=0)
        self._refresh_legs()
        self._update_tdi_range()

    # ---------------------------------------------------------------------- drawing
    def _active(self) -> BarSeries:
        return self._series[self._timeframe]

    def _xs(self, n: int) -> np.ndarray:
        if len(self._x) < n:
            self._x = np.arange(max(2 * n, 1024), dtype=np.float64)
        return self._x[:n]

    @staticmethod
    def _check_levels(entry: float, exit_band: float, tdi_stop: float) -> None:
        for label, value in (("entry", entry), ("exit_band", exit_band), ("tdi_stop", tdi_stop)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")

    def _apply_levels(self, entry: float, exit_band: float) -> None:
        self._entry = float(entry)
        self._exit = float(exit_band)
        levels = {"stop": self._stop, "E": self._entry, "X": self._exit}
        for kind, level in levels.items():
            for sign, factor in (("+", 1.0), ("-", -1.0)):
                line = self.bands[f"{sign}{kind}"]
                line.setValue(factor * level)
                line.label.setFormat(f"{sign}{kind} {level:.2f}")
        symbols = escape(" ".join(self._symbols))
        self._title.setText(
            f"<b>{escape(self._name)}</b>&nbsp;&nbsp;<span style='color:#555'>{symbols}"
            f"&nbsp;&nbsp;E {self._entry:.2f} · X {self._exit:.2f} · stop {self._stop:.2f}"
            "</span>")

    def _sync_axes(self) -> None:
        series = self._active()
        times = series.times.view()
        period = series.bar_period_ms()
        self._tdi_axis.set_times(times, period)
        self._legs_axis.set_times(times, period)

    def _set_limits(self, n: int) -> None:
        span = self._visible_bars
        self.tdi_plot.getViewBox().setLimits(xMin=-0.1 * span, xMax=max(n, 10) - 1 + 0.5 * span,
                                             minXRange=10)

    def _view_anchor(self) -> tuple[int, float] | None:
        """(time of the first visible bar, visible width) when panned back, else None."""
        series = self._active()
        n = len(series)
        if self._follow or n == 0:
            return None
        low, high = self.visible_range()
        return int(series.times.view()[self._first_visible(n)]), high - low

    def _show_series(self, anchor: tuple[int, float] | None = None) -> None:
        """Redraw everything for the active timeframe: its newest bars, or from ``anchor``."""
        series = self._active()
        n = len(series)
        self._sync_axes()
        score = self._score_name
        label = score if self._timeframe == "M30" else f"{score} (last {self._signal_tf} close)"
        if label != self._tdi_label:  # setting it lays the axis out again, even unchanged
            self._tdi_label = label
            self.tdi_plot.setLabel("left", escape(label), color=style.AXIS)  # axis labels: HTML
        self.tdi_curve.setData(self._xs(n), series.tdi.view())
        self._set_limits(n)
        self._legs_key = (-1, -1)
        self._hover_index = None
        for line in self._crosshair:
            line.setVisible(False)
        if anchor is None or n == 0:
            self.show_last_bars()
        else:
            first = int(np.searchsorted(series.times.view(), anchor[0]))
            self.tdi_plot.setXRange(first, first + anchor[1], padding=0)
            self._refresh_legs()
            self._update_tdi_range()
        self._place_trades()
        self._update_readout(None)

    def _on_data_grew(self, added: bool) -> None:
        """Incremental redraw after an append: views into the buffers, no full rebuild."""
        series = self._active()
        n = len(series)
        self._sync_axes()
        self.tdi_curve.setData(self._xs(n), series.tdi.view())
        if added:
            self._set_limits(n)
            if self._follow:
                low, high = self.visible_range()
                self.tdi_plot.setXRange(low + 1, high + 1, padding=0)
        self._refresh_legs(force=not added)
        if len(self._trades):
            self._place_trades()
        self._update_tdi_range()
        if self._hover_index is None:
            self._update_readout(None)

    def _first_visible(self, n: int) -> int:
        low = self.visible_range()[0]
        return min(max(math.ceil(low), 0), max(n - 1, 0))

    def _refresh_legs(self, force: bool = False) -> None:
        """Re-base the legs on the first visible bar; skipped when neither it nor n moved."""
        series = self._active()
        n = len(series)
        anchor = self._first_visible(n)
        if not force and (anchor, n) == self._legs_key:
            return
        self._legs_key = (anchor, n)
        x = self._xs(n)
        for symbol, curve in self.leg_curves.items():
            closes = series.closes[symbol].view()
            tail = closes[anchor:]
            usable = np.flatnonzero(np.isfinite(tail) & (tail > 0))
            if len(usable) == 0:
                values = np.full(n, np.nan)
            else:
                values = (closes / tail[usable[0]] - 1.0) * 100.0
            self._legs[symbol] = values
            curve.setData(x, values)

    def _update_tdi_range(self) -> None:
        """Symmetric y range that always shows the stop bands and the visible TDI."""
        series = self._active()
        low, high = self.visible_range()
        first = max(math.floor(low), 0)
        last = min(math.ceil(high) + 1, len(series))
        visible = series.tdi.view()[first:last]
        finite = visible[np.isfinite(visible)]
        extent = max(self._stop, self._entry if math.isfinite(self._entry) else 0.0) * 1.12
        if len(finite):
            extent = max(extent, float(np.max(np.abs(finite))) * 1.08)
        self.tdi_plot.setYRange(-extent, extent, padding=0)

    def _on_x_range_changed(self, _box: object, x_range: tuple[float, float]) -> None:
        n = len(self._active())
        self._follow = x_range[1] >= n - 1
        self._refresh_legs()
        self._update_tdi_range()

    def _place_trades(self) -> None:
        """Place the trades on the active bars; the scatters are only touched on a change."""
        series = self._active()
        marks = place_trades(self._trades, series.times.view(), series.tdi.view(),
                             series.bar_period_ms())
        if not marks.same_markers(self._marks):
            self.entry_markers.setData(
                x=marks.entry_x, y=marks.entry_y, symbol=marks.entry_symbols,
                data=marks.entry_rows)
            self.exit_markers.setData(
                x=marks.exit_x, y=marks.exit_y,
                brush=[self._exit_brushes[g] for g in marks.exit_groups],
                data=marks.exit_rows)
        previous = self._marks.lines if self._marks is not None else {}
        for group, curve in self.trade_lines.items():
            xs, ys = marks.lines[group]
            old = previous.get(group)
            if old is None or not (np.array_equal(old[0], xs) and np.array_equal(old[1], ys)):
                curve.setData(xs, ys)
        self._marks = marks

    # a marker's tip carries journal data (basket ids, exit codes): shown literally
    def _entry_tip(self, x: float, y: float, data: object) -> str:
        row = int(data)  # type: ignore[call-overload]
        return plain_tip(self._trades.describe_entry(row, y))

    def _exit_tip(self, x: float, y: float, data: object) -> str:
        row = int(data)  # type: ignore[call-overload]
        return plain_tip(self._trades.describe_exit(row, y))

    # -------------------------------------------------------------------- crosshair
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        """Follow the mouse with a vertical line through both panes and read the values."""
        n = len(self._active())
        for plot in (self.tdi_plot, self.legs_plot):
            box = plot.getViewBox()
            if n and box.sceneBoundingRect().contains(scene_pos):
                x = box.mapSceneToView(scene_pos).x()
                self._hover(round(min(max(x, 0.0), n - 1.0)))
                return
        self._clear_hover()

    def _hover(self, index: int) -> None:
        self._hover_index = index
        for line in self._crosshair:
            line.setValue(index)
            line.setVisible(True)
        self._update_readout(index)

    def _clear_hover(self) -> None:
        if self._hover_index is None:
            return
        self._hover_index = None
        for line in self._crosshair:
            line.setVisible(False)
        self._update_readout(None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hide the crosshair when the mouse leaves the plots."""
        if event.type() == QEvent.Type.Leave:
            self._clear_hover()
        return super().eventFilter(watched, event)

    def _update_readout(self, index: int | None) -> None:
        """Time, TDI and each leg at ``index`` (the newest bar when None)."""
        series = self._active()
        n = len(series)
        if n == 0:
            self._readout_plain = f"{self._shown_timeframe()}: no bars"
            self._readout.setText(escape(self._readout_plain))
            return
        index = n - 1 if index is None else min(max(index, 0), n - 1)
        when = self._tdi_axis.label_at(index)
        tdi = float(series.tdi.view()[index])
        tdi_text = f"{tdi:+.2f}" if math.isfinite(tdi) else "n/a"
        tdi_name = (self._score_name if self._timeframe == "M30"
                    else f"{self._score_name}({self._signal_tf})")
        shown = self._shown_timeframe()
        plain = [f"{shown} {when}", f"{tdi_name} {tdi_text}"]
        rich = [f"<b>{escape(shown)}</b> {escape(when)}",
                f"{escape(tdi_name)} <b style='color:{style.TDI_LINE}'>{tdi_text}</b>"]
        for position, symbol in enumerate(self._symbols):
            close = float(series.closes[symbol].view()[index])
            legs = self._legs.get(symbol)
            pct = float(legs[index]) if legs is not None and index < len(legs) else math.nan
            close_text = f"{close:.{symbol_digits(symbol)}f}" if math.isfinite(close) else "n/a"
            pct_text = f"{pct:+.2f}%" if math.isfinite(pct) else "n/a"
            plain.append(f"{symbol} {close_text} ({pct_text})")
            rich.append(f"<span style='color:{style.leg_colour(position)}'>{escape(symbol)}</span> "
                        f"{close_text} ({pct_text})")
        self._readout_plain = "  ".join(plain)
        # non-breaking inside an item, a breakable space between items
        self._readout.setText("&nbsp; ".join(item.replace(" ", "&nbsp;").replace(
            "<span&nbsp;", "<span ").replace("<b&nbsp;", "<b ") for item in rich))


def signal_tdi_at(times_ms: np.ndarray, bar_times_ms: np.ndarray,
                  tdi: np.ndarray) -> np.ndarray:
    """The TDI of the last signal bar closed at each of ``times_ms`` (NaN before the first).

    The M1 view's TDI pane: the engine computes the TDI at signal-bar closes (M30) and
    re-evaluates it each minute only for an open basket's exits, so the M1 view shows the
    value in force, stepping at each close, labelled as such.  ``bar_times_ms`` are the
    signal bars' open times; a bar's value is known from its close.
    """
    out = np.full(len(times_ms), np.nan)
    if not len(bar_times_ms) or not len(times_ms):
        return out
    period = int(np.median(np.diff(bar_times_ms))) if len(bar_times_ms) > 1 else 1_800_000
    closes = np.asarray(bar_times_ms, dtype=np.int64) + period
    index = np.searchsorted(closes, np.asarray(times_ms, dtype=np.int64), "right") - 1
    known = index >= 0
    out[known] = np.asarray(tdi, dtype=np.float64)[index[known]]
    return out
