"""The Toolbox's Basis tab: each ``basis`` cluster's cash, contract and mispricing.

A basis cluster trades a dated futures CFD against its cash CFD (``engine.kinds.basis``).
What a trader must see at a glance: which contract the cluster trades and how long it has
left (a futures CFD turns close-only before it expires: the broker's trade mode is shown
as read at the cluster's last bar), the log basis against its fair carry, the mispricing
(the score, in bp) against the break-even of a round trip, and the cluster's state and
lock.  Every figure is the engine's at the cluster's last closed signal bar (the
snapshot's ``ClusterView.diagnostics``), each column's basis in its header's tooltip.

Below the table, the selected cluster's mispricing history (the engine's
``cluster_history``: the score of its recent bars) with its bands: +-E (entries), +-X
(the MR exit) and +-break-even.  The Roll button sends ``RollContract`` for the selected
cluster: its open basket is closed (EX) and it trades the next contract from then on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.plain_text import plain_label
from gui.toolbox.format import LOSS, MISSING, PROFIT, figures_font
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

KIND = "basis"
HEADERS = ("Cluster", "Cash", "Contract", "Days", "Mode", "ln(F/S)", "Fair", "Mispricing",
           "Break-even", "E / X", "State")
DAYS, MODE, LOG_BASIS, FAIR, MISPRICING, BREAK_EVEN, THRESHOLDS, STATE = range(3, 11)
HEADER_TIPS = {
    DAYS: "Days from the last closed signal bar to the contract's expiration_time",
    MODE: "The contract's trade mode at the broker (symbol_info().trade_mode) at the "
          "cluster's last bar: full, then close only before expiry",
    LOG_BASIS: "ln(future close / cash close) at the last closed signal bar, in basis points",
    FAIR: "The fair basis: carry x years to expiry (ACT/365), in bp; the carry is rate - "
          "yield, or implied from the cash CFD's swaps (the tooltip of the row says which)",
    MISPRICING: "ln(F/S) - fair, in bp: the score. Below -E the future is cheap (LONG: buy "
                "it, sell the cash); above +E it is rich (SHORT)",
    BREAK_EVEN: "A round trip of both legs in bp of one leg's notional: spreads + 4 "
                "commissions + swap over the expected holding. E must be above it",
    THRESHOLDS: "The entry E and the exit band X in force, in bp of mispricing",
    STATE: "The cluster's state, its open basket, or the signal's lock (EXPIRY within "
           "close_days of expiry, BREAK_EVEN while E is not above the break-even)",
}
EMPTY_TEXT = ("No basis cluster in this configuration. A cluster with kind = \"basis\" "
              "trades a dated futures CFD against its cash CFD; its basis shows here.")
TITLE_TEXT = ("Basis at each cluster's last closed signal bar, every figure in basis points "
              "(bp): ln(F/S), the fair carry, the mispricing (the score) and the round "
              "trip's break-even; select a row for its history")
#: The chart's width (px): beside it the table keeps every column in view in a 1600 px window.
CHART_WIDTH = 440
CHART_TITLE = "{name}: {future} vs {cash}, mispricing in bp; ±E, ±X, ±break-even"


def _num(value: float, digits: int = 2, *, signed: bool = False) -> str:
    if not math.isfinite(value):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def state_text(view: Any) -> str:
    """The open basket, else the signal's lock code, else the cluster's state."""
    if view.direction:
        return f"{view.direction} {view.basket_id or ''}".strip()
    if view.state and view.state != "ACTIVE":
        return view.state
    lock = getattr(view, "signal_lock", "")
    return lock.split(":", 1)[0] if lock else view.state or MISSING


def basis_row(view: Any, trade_mode: str) -> Row:
    """One basis cluster's row."""
    d = dict(view.diagnostics)
    cash, future = (*view.symbols, "", "")[:2]
    score = view.tdi
    be = d.get("break_even", math.nan)
    cells = (view.name, cash, future, _num(d.get("days", math.nan), 1), trade_mode or MISSING,
             _num(d.get("log_basis", math.nan), signed=True),
             _num(d.get("fair", math.nan), signed=True), _num(score, signed=True),
             _num(be), f"{view.entry:g} / {view.exit_band:g}", state_text(view))
    beyond = math.isfinite(score) and abs(score) > view.entry
    fg: list[Any] = [None] * len(HEADERS)
    fg[MISPRICING] = LOSS if beyond else None
    fg[BREAK_EVEN] = LOSS if math.isfinite(be) and view.entry <= be else PROFIT
    fg[MODE] = LOSS if trade_mode and trade_mode != "full" else None
    return Row(view.name, cells, tuple(fg), payload=view)


def with_gaps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve broken where the market was closed (a weekend, a daily break): a point at
    NaN after every step longer than twice the usual bar, so no line spans the gap."""
    if len(x) < 3:
        return x, y
    steps = np.diff(x)
    gaps = np.flatnonzero(steps > 2 * np.median(steps)) + 1
    return (np.insert(x, gaps, x[gaps - 1] + np.median(steps)),
            np.insert(y, gaps, np.nan))


class BasisModel(KeyedTableModel):
    """The rows, with each figure's basis as its header's tooltip."""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return super().headerData(section, orientation, role)


class BasisTab(QWidget):
    """The table of basis clusters, the selected one's mispricing chart, the Roll button.

    ``history_of(name)`` gives (times ms, scores, closes) of the cluster's recent bars and
    ``trade_mode_of(symbol)`` the contract's trade mode (the engine's read methods, wired
    by the main window); ``rollRequested(cluster)`` asks for the roll.
    """

    rollRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history_of: Callable[[str], tuple[np.ndarray, np.ndarray, Any]] | None = None
        self.trade_mode_of: Callable[[str], str] = lambda _symbol: ""
        self._views: dict[str, Any] = {}
        self._selected = ""
        self._drawn: tuple[str, int, float, float] = ("", -1, math.nan, math.nan)
        self.title = QLabel(EMPTY_TEXT)
        self.title.setWordWrap(True)
        self.model = BasisModel(HEADERS, tuple(range(DAYS, THRESHOLDS + 1)),
                                figures_font(self.font()), self)
        self.view = read_only_table(self.model, self)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.setStyleSheet("QTableView::item { padding: 0px 6px; }")
        self.view.clicked.connect(lambda index: self.select(self.model.row(index.row()).key))
        self.roll_button = QPushButton("Roll to next contract")
        self.roll_button.setToolTip("Close the selected cluster's basket (EX) and trade the "
                                    "next contract from now on; journaled as a command")
        self.roll_button.setEnabled(False)
        self.roll_button.clicked.connect(self._roll)
        self.chart_title = plain_label()  # names the cluster and its symbols
        self.chart_title.setWordWrap(True)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("left", "bp")
        self.curve = self.plot.plot(pen=pg.mkPen((20, 60, 160), width=1.5))
        self.bands = {name: self.plot.addLine(y=0, pen=pg.mkPen(colour, style=style))
                      for name, colour, style in (
                          ("+E", (192, 0, 0), Qt.PenStyle.DashLine),
                          ("-E", (192, 0, 0), Qt.PenStyle.DashLine),
                          ("+X", (0, 128, 0), Qt.PenStyle.DotLine),
                          ("-X", (0, 128, 0), Qt.PenStyle.DotLine),
                          ("+BE", (150, 150, 150), Qt.PenStyle.DashDotLine),
                          ("-BE", (150, 150, 150), Qt.PenStyle.DashDotLine))}
        self._layout(self._chart_box())
        self.view.setVisible(False)
        self._chart.setVisible(False)

    def _chart_box(self) -> QWidget:
        box = QWidget(self)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.chart_title, 1)
        top.addWidget(self.roll_button)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        self._chart = box
        return box

    def _layout(self, chart: QWidget) -> None:
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.view, 1)  # the table takes what the chart leaves: at 1600 px
        chart.setFixedWidth(CHART_WIDTH)  # every column in view beside the chart
        row.addWidget(chart, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(row, 1)

    # ------------------------------------------------------------------ updates

    def update_views(self, views: Sequence[Any]) -> None:
        """Show the basis clusters among ``views`` (a snapshot's ``clusters``)."""
        mine = [v for v in views if getattr(v, "kind", "") == KIND]
        self._views = {v.name: v for v in mine}
        rows = [basis_row(v, self.trade_mode_of(v.symbols[1]) if len(v.symbols) > 1 else "")
                for v in mine]
        self.model.set_rows(rows)
        self.view.setVisible(bool(rows))
        self._chart.setVisible(bool(rows))
        self.title.setText(TITLE_TEXT if rows else EMPTY_TEXT)
        if rows and self._selected not in self._views:
            self._selected = rows[0].key  # type: ignore[assignment]
        self.roll_button.setEnabled(bool(rows))
        self._refresh_chart()

    def select(self, name: Any) -> None:
        self._selected = str(name)
        self._drawn = ("", -1, math.nan, math.nan)
        self._refresh_chart()

    def _refresh_chart(self) -> None:
        view = self._views.get(self._selected)
        if view is None or self.history_of is None:
            return
        times, scores, _closes = self.history_of(view.name)
        be = dict(view.diagnostics).get("break_even", math.nan)
        last = int(times[-1]) if len(times) else -1  # the history is bounded: its length
        key = (f"{view.name}:{'/'.join(view.symbols)}", last, view.entry, be)  # stops growing
        if key == self._drawn:
            return  # nothing new since the last drawing (a snapshot without a new bar)
        self._drawn = key
        x, y = with_gaps(np.asarray(times, dtype=np.float64) / 1000.0,
                         np.asarray(scores, dtype=np.float64))
        self.curve.setData(x, y, connect="finite")
        for name, level in (("E", view.entry), ("X", view.exit_band), ("BE", be)):
            for sign in (+1, -1):
                line = self.bands[f"{'+' if sign > 0 else '-'}{name}"]
                line.setVisible(math.isfinite(level))
                if math.isfinite(level):
                    line.setValue(sign * level)
        cash, future = (*view.symbols, "", "")[:2]
        self.chart_title.setText(CHART_TITLE.format(name=view.name, future=future, cash=cash))

    def _roll(self) -> None:
        if self._selected:
            self.rollRequested.emit(self._selected)

    # ------------------------------------------------------------------ reading

    def row_texts(self) -> list[tuple[str, ...]]:
        """The cells as shown, row by row (what a reader of the tab sees)."""
        return [self.model.row(i).cells for i in range(self.model.rowCount())]

    def chart_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The plotted (seconds, bp) of the mispricing curve."""
        x, y = self.curve.getData()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))
