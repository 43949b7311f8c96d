"""A price chart of one symbol, as MT5 draws one: bid candles, bid and ask lines, trades.

A pure view.  It reads bars from a source with ``bars(symbol, timeframe)`` and
``version(symbol)`` (``app.symbol_bars.SymbolBars``: M1 bid bars aggregated on the broker's
server clock, UTC labels) when ``refresh`` is called (the chart area calls it at most every
250 ms, only for the chart in view), and is handed the current quote, the open positions
and the run's deals on this symbol.

- x is the bar index, so weekends leave no gap; ``gui.chart.axis.BarIndexAxis`` labels it
  with the bars' UTC times.  The mouse wheel zooms, a drag pans (both along x); the price
  axis fits the candles in view, as MT5's auto-scroll does.  While the newest bar is in view
  the chart follows new bars; after panning back it stays put until panned to the end.
- The bid line (grey) and the ask line (red) carry their price at the right edge.
- Each deal of the run's baskets on this symbol is a triangle at the deal's price in the
  bar that holds its time: up and blue for a buy, down and red for a sell (MT5's colours);
  filled for an entry, hollow for an exit, with a dotted line from a leg's entry to its exit.
- Each open position draws its open price (dashed, in its side's colour) and its S/L and T/P
  when it has them, labelled with ticket, side and volume.
- The crosshair reads the bar under the mouse (UTC time, O/H/L/C) and the price at the
  cursor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.console import symbol_digits
from app.symbol_bars import TIMEFRAME_SECONDS, TIMEFRAMES
from app.symbol_marks import DealMark
from gui.chart import style
from gui.chart.axis import BarIndexAxis
from gui.chart.candles import CandleItem
from gui.chart.timeframe_buttons import chart_header
from gui.plain_text import plain_tip

#: Candles in view when a chart opens or changes timeframe (MT5 shows about this many).
DEFAULT_VISIBLE_BARS = 150
#: The most candles one view may hold (zooming out stops there).
MAX_VISIBLE_BARS = 5_000
#: Empty room right of the newest candle, in pixels: the bid and ask labels sit there
#: rather than over the newest candles (at least 4 bars).
_RIGHT_MARGIN_PX = 110
_RIGHT_MARGIN_BARS = 4
BID_COLOUR = "#6e6e6e"
ASK_COLOUR = "#d7191c"
BUY_COLOUR = "#1f5fbf"
SELL_COLOUR = "#d7191c"
SL_COLOUR = "#d7191c"
TP_COLOUR = "#1a9641"


class BarSource(Protocol):
    def bars(self, symbol: str, timeframe: str) -> np.ndarray: ...
    def version(self, symbol: str) -> int: ...


def bar_containing(times_ms: np.ndarray, time_ms: np.ndarray) -> np.ndarray:
    """Index of the bar whose open time is the last at or before each time (-1: before the
    first bar)."""
    return np.searchsorted(times_ms, time_ms, side="right") - 1


class SymbolChart(QWidget):
    """One symbol's candles with its quotes, positions and the run's deals."""

    #: The timeframe shown, whenever it changes.
    timeframeChanged = Signal(str)

    def __init__(self, symbol: str, source: BarSource, timeframe: str = "M15",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if timeframe not in TIMEFRAME_SECONDS:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        self.symbol = symbol
        self.source = source
        self._timeframe = timeframe
        self._digits = symbol_digits(symbol)
        self._times = np.empty(0, dtype=np.int64)
        self._bars = np.empty(0)
        self._loaded: tuple[int, str] | None = None  # (source version, timeframe) shown
        self._follow = True
        self._bid = math.nan
        self._ask = math.nan
        self._marks: list[DealMark] = []
        self._positions: list[Any] = []
        self._position_lines: list[pg.InfiniteLine] = []
        self._hover: int | None = None
        self._build()

    # ----------------------------------------------------------------- construction
    def _build(self) -> None:
        self._title, header, self.tf_buttons = chart_header(
            self, TIMEFRAMES, self._timeframe, self.set_timeframe,
            tip=lambda tf: f"{tf} candles of the bid", min_width=38)
        self._readout = QLabel()
        self._readout.setTextFormat(Qt.TextFormat.RichText)
        self._readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._readout.setMinimumWidth(1)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setPointSizeF(8.5)
        self._readout.setFont(font)
        self._readout.setContentsMargins(8, 0, 6, 0)

        self.axis = BarIndexAxis("bottom")
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": self.axis})
        self.plot_widget.setBackground(style.BACKGROUND)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        style.style_plot(self.plot)
        self.plot.showAxis("right")
        self.plot.hideAxis("left")
        self.plot.getAxis("right").setWidth(style.LEFT_AXIS_WIDTH + 8)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        box = self.plot.getViewBox()
        box.setMouseEnabled(x=True, y=False)
        box.sigXRangeChanged.connect(self._on_x_range_changed)

        self.candles = CandleItem()
        self.plot.addItem(self.candles)
        self.bid_line = self._price_line(BID_COLOUR, "Bid", above=False)
        self.ask_line = self._price_line(ASK_COLOUR, "Ask", above=True)
        #: Entry -> exit of each leg, dotted in the entry's colour (as MT5 draws them).
        self.trade_lines = {side: pg.PlotCurveItem(
            pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DotLine), connect="pairs")
            for side, colour in (("BUY", BUY_COLOUR), ("SELL", SELL_COLOUR))}
        for curve in self.trade_lines.values():
            self.plot.addItem(curve)
        self.entry_marks = pg.ScatterPlotItem(size=11, hoverable=True, tip=self._mark_tip)
        self.exit_marks = pg.ScatterPlotItem(size=11, hoverable=True, tip=self._mark_tip)
        for item in (self.entry_marks, self.exit_marks):
            item.setZValue(20)
            self.plot.addItem(item)
        pen = pg.mkPen(style.CROSSHAIR, width=1, style=Qt.PenStyle.DashLine)
        self.cross_x = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.cross_y = pg.InfiniteLine(
            angle=0, movable=False, pen=pen,
            label="", labelOpts={"position": 0.02, "color": style.TEXT,
                                 "fill": pg.mkBrush(255, 255, 255, 220)})
        for line in (self.cross_x, self.cross_y):
            line.setVisible(False)
            line.setZValue(30)
            self.plot.addItem(line, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved,
                                           rateLimit=60, slot=lambda a: self._on_mouse(a[0]))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self._readout)
        layout.addWidget(self.plot_widget, 1)
        self._update_title()

    def _price_line(self, colour: str, name: str, *, above: bool) -> pg.InfiniteLine:
        """A quote line whose label sits at the right edge, the ask's above its line and
        the bid's below, so the two never cover each other."""
        anchor = (1, 1) if above else (1, 0)
        line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(colour, width=1),
            label=name, labelOpts={"position": 0.99, "color": "#ffffff",
                                   "fill": pg.mkBrush(colour), "anchors": [anchor, anchor]})
        line.setVisible(False)
        line.setZValue(10)
        self.plot.addItem(line, ignoreBounds=True)
        return line

    # -------------------------------------------------------------------- public API
    def timeframe(self) -> str:
        return self._timeframe

    def set_timeframe(self, timeframe: str) -> None:
        """Show ``timeframe`` candles (the newest ``DEFAULT_VISIBLE_BARS`` in view)."""
        if timeframe not in TIMEFRAME_SECONDS:
            raise ValueError(f"unknown timeframe {timeframe!r}")
        self.tf_buttons[timeframe].setChecked(True)
        if timeframe == self._timeframe:
            return
        self._timeframe = timeframe
        self._follow = True
        self._loaded = None
        self.refresh()
        self.timeframeChanged.emit(timeframe)

    def refresh(self) -> bool:
        """Reload the bars if the source or the timeframe moved; True when redrawn."""
        version = self.source.version(self.symbol)
        if self._loaded == (version, self._timeframe):
            return False
        first_load = self._loaded is None or self._loaded[1] != self._timeframe
        bars = self.source.bars(self.symbol, self._timeframe)
        grew = len(bars) - len(self._times)
        self._loaded = (version, self._timeframe)
        self._bars = bars
        self._times = bars["time"].astype(np.int64) * 1000
        self.axis.set_times(self._times, TIMEFRAME_SECONDS[self._timeframe] * 1000.0)
        self.candles.set_data(bars["open"], bars["high"], bars["low"], bars["close"])
        n = len(bars)
        box = self.plot.getViewBox()
        box.setLimits(xMin=-MAX_VISIBLE_BARS / 2, xMax=n + MAX_VISIBLE_BARS / 2,
                      maxXRange=MAX_VISIBLE_BARS, minXRange=10)
        if first_load:
            self.show_last_bars(DEFAULT_VISIBLE_BARS)
        elif self._follow and grew > 0:
            low, high = self.visible_range()
            self.plot.setXRange(low + grew, high + grew, padding=0)
        self._place_marks()
        self._fit_prices()
        self._update_readout(self._hover)
        self._update_title()
        return True

    def show_last_bars(self, count: int = DEFAULT_VISIBLE_BARS) -> None:
        n = len(self._times)
        width = self.plot.getViewBox().width()
        margin = max(_RIGHT_MARGIN_BARS, count * _RIGHT_MARGIN_PX / width if width > 200 else 0)
        high = n - 1 + margin
        self.plot.setXRange(high - count, high, padding=0)
        self._follow = True
        self._fit_prices()

    def visible_range(self) -> tuple[float, float]:
        low, high = self.plot.getViewBox().viewRange()[0]
        return float(low), float(high)

    def set_quote(self, bid: float, ask: float) -> None:
        """The current bid and ask: the two horizontal lines and their labels."""
        self._bid, self._ask = float(bid), float(ask)
        for line, value, name in ((self.bid_line, self._bid, "Bid"),
                                  (self.ask_line, self._ask, "Ask")):
            shown = math.isfinite(value) and value > 0
            line.setVisible(shown)
            if shown:
                line.setValue(value)
                line.label.setFormat(f"{name} {value:.{self._digits}f}")
        self._update_title()

    def set_marks(self, marks: Sequence[DealMark]) -> None:
        """The run's deals on this symbol (entries and exits of basket legs)."""
        self._marks = [m for m in marks if m.symbol == self.symbol]
        self._place_marks()

    def set_positions(self, positions: Sequence[Any]) -> None:
        """Open positions (``engine.snapshot.PositionView``): open price, S/L, T/P lines."""
        mine = [p for p in positions if p.symbol == self.symbol]
        key = [(p.ticket, p.price_open, _level(p, "sl"), _level(p, "tp"), p.volume)
               for p in mine]
        if key == [(p.ticket, p.price_open, _level(p, "sl"), _level(p, "tp"), p.volume)
                   for p in self._positions]:
            return
        self._positions = mine
        for line in self._position_lines:
            self.plot.removeItem(line)
        self._position_lines = []
        for p in mine:
            colour = BUY_COLOUR if p.side == "BUY" else SELL_COLOUR
            text = f"#{p.ticket} {p.side.lower()} {p.volume:g}"
            self._add_level(p.price_open, colour, text, Qt.PenStyle.DashLine)
            for attr, name, level_colour in (("sl", "S/L", SL_COLOUR), ("tp", "T/P", TP_COLOUR)):
                level = _level(p, attr)
                if level > 0:
                    self._add_level(level, level_colour, f"#{p.ticket} {name}",
                                    Qt.PenStyle.DashDotLine)

    def position_levels(self) -> list[tuple[str, float]]:
        """(label, price) of each position line, for display checks."""
        return [(line.label.format, float(line.value())) for line in self._position_lines]

    def mark_points(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """x (bar index) and y (price) of the entry and the exit triangles."""
        out = {}
        for name, item in (("entry", self.entry_marks), ("exit", self.exit_marks)):
            xs, ys = item.getData()
            out[name] = (np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
        return out

    def times_ms(self) -> np.ndarray:
        """Open time of each candle (index i -> x = i)."""
        return self._times

    def readout_text(self) -> str:
        return self._readout.text()

    # ------------------------------------------------------------------- internals
    def _add_level(self, price: float, colour: str, text: str, pen_style: Qt.PenStyle) -> None:
        line = pg.InfiniteLine(
            pos=price, angle=0, movable=False,
            pen=pg.mkPen(colour, width=1, style=pen_style),
            label=text, labelOpts={"position": 0.02, "color": colour,
                                   "fill": pg.mkBrush(255, 255, 255, 215),
                                   "anchors": [(0, 1), (0, 1)]})
        line.setZValue(5)
        self.plot.addItem(line, ignoreBounds=True)
        self._position_lines.append(line)

    def _place_marks(self) -> None:
        """Triangles at each deal's price, in the bar holding its time (none before the
        first bar); a dotted line from each leg's entry to its exit."""
        marks = self._marks
        if not marks or len(self._times) == 0:
            for item in (self.entry_marks, self.exit_marks):
                item.setData([], [])
            for curve in self.trade_lines.values():
                curve.setData([], [])
            return
        xs = bar_containing(self._times, np.array([m.time_ms for m in marks], dtype=np.int64))
        entries, exits = [], []
        for x, mark in zip(xs.tolist(), marks, strict=True):
            if x < 0:
                continue
            spot = {"pos": (float(x), mark.price), "data": mark,
                    "symbol": "t1" if mark.side == "BUY" else "t"}
            colour = BUY_COLOUR if mark.side == "BUY" else SELL_COLOUR
            if mark.entry:
                spot.update(brush=pg.mkBrush(colour), pen=pg.mkPen(colour))
                entries.append(spot)
            else:
                spot.update(brush=pg.mkBrush("#ffffff"), pen=pg.mkPen(colour, width=2))
                exits.append(spot)
        self.entry_marks.setData(entries)
        self.exit_marks.setData(exits)
        for side, curve in self.trade_lines.items():
            curve.setData(*self._leg_segments(xs, marks, side))

    @staticmethod
    def _leg_segments(xs: np.ndarray, marks: Sequence[DealMark], side: str,
                      ) -> tuple[list, list]:
        """Entry -> exit pairs of the legs entered on ``side`` (a basket has one leg a
        symbol: one entry deal and one exit deal here)."""
        opened: dict[str, tuple[float, float]] = {}
        seg_x: list[float] = []
        seg_y: list[float] = []
        for x, mark in zip(xs.tolist(), marks, strict=True):
            if x < 0:
                continue
            if mark.entry and mark.side == side:
                opened[mark.basket_id] = (float(x), mark.price)
            elif mark.basket_id in opened:
                x0, y0 = opened.pop(mark.basket_id)
                seg_x += [x0, float(x)]
                seg_y += [y0, mark.price]
        return seg_x, seg_y

    @staticmethod
    def _mark_tip(x: float, y: float, data: object) -> str:
        # journal data (basket ids), shown literally
        return plain_tip(data.describe()) if isinstance(data, DealMark) else ""

    def _fit_prices(self) -> None:
        """Fit the price axis to the candles in view (and the quote lines near them)."""
        low, high = self.visible_range()
        extremes = self.candles.visible_extremes(low, high)
        self.candles.set_window(low, high)
        if extremes is None:
            return
        bottom, top = extremes
        pad = max((top - bottom) * 0.06, 10 ** -self._digits * 5)
        self.plot.setYRange(bottom - pad, top + pad, padding=0)

    def _on_x_range_changed(self, _box: object, x_range: tuple[float, float]) -> None:
        self._follow = x_range[1] >= len(self._times) - 1
        self._fit_prices()

    def _on_mouse(self, scene_pos: QPointF) -> None:
        box = self.plot.getViewBox()
        n = len(self._times)
        if not n or not box.sceneBoundingRect().contains(scene_pos):
            self._clear_hover()
            return
        point = box.mapSceneToView(scene_pos)
        index = round(min(max(point.x(), 0.0), n - 1.0))
        self._hover = index
        self.cross_x.setValue(index)
        self.cross_y.setValue(point.y())
        self.cross_y.label.setFormat(f"{point.y():.{self._digits}f}")
        for line in (self.cross_x, self.cross_y):
            line.setVisible(True)
        self._update_readout(index, point.y())

    def _clear_hover(self) -> None:
        if self._hover is None:
            return
        self._hover = None
        for line in (self.cross_x, self.cross_y):
            line.setVisible(False)
        self._update_readout(None)

    def leaveEvent(self, event: object) -> None:
        self._clear_hover()
        super().leaveEvent(event)  # type: ignore[arg-type]

    def _update_readout(self, index: int | None, price: float | None = None) -> None:
        """The bar under the mouse (the newest when None): UTC time and OHLC of the bid."""
        n = len(self._times)
        if n == 0:
            self._readout.setText(escape(f"{self._timeframe}: no bars yet"))
            return
        index = n - 1 if index is None else min(max(index, 0), n - 1)
        bar = self._bars[index]
        d = self._digits
        when = datetime.fromtimestamp(int(self._times[index]) / 1000, UTC)
        parts = [f"<b>{self._timeframe}</b> {when:%a %Y-%m-%d %H:%M} UTC"]
        parts += [f"{k} <b>{float(bar[name]):.{d}f}</b>" for k, name in
                  (("O", "open"), ("H", "high"), ("L", "low"), ("C", "close"))]
        parts.append(f"ticks {int(bar['tick_volume'])}")
        if price is not None:
            parts.append(f"cursor <b>{price:.{d}f}</b>")
        self._readout.setText("&nbsp;&nbsp;".join(parts))

    def _update_title(self) -> None:
        d = self._digits
        quote = ""
        if math.isfinite(self._bid) and math.isfinite(self._ask):
            quote = (f"&nbsp;&nbsp;<span style='color:{BID_COLOUR}'>Bid {self._bid:.{d}f}</span>"
                     f"&nbsp;&nbsp;<span style='color:{ASK_COLOUR}'>Ask {self._ask:.{d}f}</span>")
        self._title.setText(f"<b>{escape(self.symbol)}</b>, {self._timeframe} "
                            f"<span style='color:{style.AXIS}'>(bid candles, UTC; "
                            f"H4/D1 on the server day)</span>{quote}")


def _level(position: Any, name: str) -> float:
    """A position's S/L or T/P (0 when it has none or the view does not carry it)."""
    value = getattr(position, name, 0.0)
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
