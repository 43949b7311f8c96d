"""The Toolbox's Deals tab: the merger-arbitrage deals (``deal`` clusters) and their history.

MT5 has no deal feed: the trader states each deal (a ``[cluster.deal]`` table, or **Add
deal...** here) and the engine computes, at each deal's last closed signal bar, the offer's
value, the spread, its annualised return net of financing and the completion probability
the price implies (``engine.kinds.deal``).  One row per deal with those figures as the engine
published them (``ClusterView``: the score is minus the annualised net spread, the others in
``diagnostics``), the deal's status and the basket held; below, for the selected deal, the
gross spread (% of the target) and ``p`` over its recent bars, recomputed from the closes the
engine kept (``Engine.cluster_history``) with the same arithmetic, so the chart's last point
is the row's figure.  **Buy deal...** opens the selected deal's basket by hand (the basket
preview, then ``OpenBasket`` LONG); **Completed** and **Broken** report the deal's end
(``commands.DealEvent``): its basket closes with DC or DB.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.kinds.deal_history import deal_batch
from engine.kinds.deal_params import BROKEN, COMPLETED, OPEN, PENDING, DealParams
from gui.chart import style
from gui.chart.axis import UtcDateAxis
from gui.toolbox.format import LOSS, MISSING, PROFIT, figures_font
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

KIND = "deal"
HEADERS = ("Deal", "Legs", "Terms", "P", "Offer", "Spread", "Spr %", "Net %/yr", "p", "Days",
           "Status", "Position")
(TERMS, PRICE, OFFER, SPREAD, SPREAD_PCT, ANN_NET, PROB, DAYS, STATUS,
 POSITION) = range(2, 12)
HEADER_TIPS = {
    1: "The target, then the acquirer (stock terms)",
    TERMS: "The offer per target share: cash, an exchange ratio of acquirer shares, or both; "
           "and the trader's break price estimate",
    PRICE: "The target's close at the deal's last closed signal bar",
    OFFER: "Offer value per target share: cash + ratio x the acquirer's close",
    SPREAD: "Gross spread: offer - P, in the target's currency",
    SPREAD_PCT: "Gross spread in % of P",
    ANN_NET: "Spread % x 365 / days to close, less the financing of the legs (% a year of "
             "P: the long target's swap, and ratio x acquirer / P of the short's); the score "
             "E and X read (entry above E, exit below X)",
    PROB: "Implied completion probability p = (P - break) / (offer - break)",
    DAYS: "Calendar days from the bar's trading day to the expected close",
    STATUS: "pending (before the announcement), open, completed or broken; a lock's code "
            "when automatic entries are locked",
    POSITION: "The deal's basket: LONG target (short ratio x acquirer) and its P&L",
}
EMPTY_TEXT = ("No deal in this configuration. MT5 has no deal feed: add one with Add deal... "
              "or a cluster with kind = \"deal\"; its spread, annualised return and implied "
              "probability show here.")
TITLE_TEXT = ("Merger-arbitrage deals at each deal's last closed signal bar (the trader's "
              "terms; figures recomputable from P, the acquirer's close and the dates)")
#: How many of the selected deal's recent bars the chart draws.
CHART_BARS = 500

#: The history source: (times ms, scores, closes per symbol) of a cluster.
HistoryOf = Callable[[str], tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


def _number(value: float, digits: int, *, signed: bool = False, suffix: str = "") -> str:
    if not math.isfinite(value):
        return MISSING
    return (f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}") + suffix


def terms_text(params: DealParams | None, symbols: Sequence[str]) -> str:
    """``0.4 x PEP; break 50`` (the acquirer named), or a dash without the settings."""
    if params is None:
        return MISSING
    text = params.terms_text()
    if len(symbols) > 1:
        text = text.replace("acquirer", symbols[1])
    return f"{text}; break {params.break_price:g}"


def status_text(view: Any) -> str:
    regime = getattr(view, "regime", "") or PENDING
    lock = getattr(view, "signal_lock", "")
    code = lock.split(":", 1)[0] if lock and regime == OPEN else ""
    return f"{regime} ({code})" if code else regime


def position_text(view: Any) -> str:
    if not view.direction:
        return MISSING
    return f"{view.direction} {view.pnl:+,.2f}"


def deal_row(view: Any, params: DealParams | None) -> Row:
    """One deal's row (texts and colours) from its ``ClusterView``."""
    d = dict(view.diagnostics)
    figure = lambda name: float(d.get(name, math.nan) if d.get(name) is not None  # noqa: E731
                                else math.nan)
    cells = (view.name, " / ".join(view.symbols), terms_text(params, view.symbols),
             _number(figure("price"), 2), _number(figure("offer"), 2),
             _number(figure("spread"), 2, signed=True),
             _number(figure("spread_pct"), 2, signed=True, suffix="%"),
             # past the expected close there is no horizon left to annualise over
             _number(figure("ann_net"), 2, signed=True) if not figure("days") <= 0
             else "past close", _number(figure("p"), 3),
             _number(figure("days"), 0), status_text(view), position_text(view))
    regime = getattr(view, "regime", "")
    colour = {COMPLETED: PROFIT, BROKEN: LOSS}.get(regime)
    pnl = LOSS if view.direction and view.pnl < 0 else PROFIT if view.direction else None
    foreground = tuple(colour if c == STATUS else pnl if c == POSITION else None
                       for c in range(len(HEADERS)))
    return Row(view.name, cells, foreground, (), payload=view)


def deal_params_of(specs: Iterable[object]) -> dict[str, DealParams]:
    """Each deal cluster's settings by name, from the configuration's cluster specs."""
    return {str(getattr(s, "name", "")): s.params for s in specs  # type: ignore[attr-defined]
            if isinstance(getattr(s, "params", None), DealParams)}


def history_figures(times_ms: np.ndarray, closes: Mapping[str, np.ndarray],
                    symbols: Sequence[str], params: DealParams) -> pd.DataFrame:
    """The spread and ``p`` of each kept bar, by the model's own batch arithmetic (bar
    labels from the engine's times)."""
    frame = pd.DataFrame({s: np.asarray(closes[s], dtype=np.float64) for s in symbols},
                         index=np.asarray(times_ms, dtype=np.int64) // 1000)
    return deal_batch(frame, params, financing=(0.0, 0.0))


class DealsModel(KeyedTableModel):
    """The rows, with each figure's basis as its header's tooltip."""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return super().headerData(section, orientation, role)


class DealsTab(QWidget):
    """The deals table, the selected deal's history chart and the deal buttons."""

    #: The trader asked for the Add deal dialog.
    addDealRequested = Signal()
    #: (cluster, "completed" or "broken"): the trader reported the deal's end.
    dealEventRequested = Signal(str, str)
    #: The trader asked to buy the selected deal by hand (a LONG basket, previewed first).
    buyRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: dict[str, DealParams] = {}
        self._params_source: Callable[[], Mapping[str, DealParams]] | None = None
        self._history: HistoryOf | None = None
        self._drawn: tuple[str, int] | None = None
        self.title = QLabel(EMPTY_TEXT)
        self.title.setWordWrap(True)
        self.model = DealsModel(HEADERS, tuple(range(PRICE, STATUS)),
                                figures_font(self.font()), self)
        self.view = read_only_table(self.model, self)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.setStyleSheet("QTableView::item { padding: 0px 6px; }")
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self.add_button = QPushButton("Add deal...")
        self.buy_button = QPushButton("Buy deal...")
        self.buy_button.setToolTip("Open the selected deal's basket by hand: long the target "
                                   "(short ratio x acquirer), sized by the break; previewed "
                                   "first")
        self.completed_button = QPushButton("Completed")
        self.broken_button = QPushButton("Broken")
        self.completed_button.setToolTip("The selected deal completed: close its basket (DC)")
        self.broken_button.setToolTip("The selected deal broke: close its basket (DB)")
        self.add_button.clicked.connect(self.addDealRequested.emit)
        self.buy_button.clicked.connect(self._buy)
        self.completed_button.clicked.connect(lambda: self._event(COMPLETED))
        self.broken_button.clicked.connect(lambda: self._event(BROKEN))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.buy_button, self.completed_button,
                       self.broken_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self._chart = self._build_chart()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.title)
        table_layout.addWidget(self.view, 1)
        table_layout.addLayout(buttons)
        splitter.addWidget(table_side)
        splitter.addWidget(self._chart)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self._chart.setMinimumWidth(240)
        self.splitter = splitter
        self._sized = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 0)
        layout.addWidget(splitter)
        self._update_buttons()

    def _build_chart(self) -> pg.GraphicsLayoutWidget:
        chart = pg.GraphicsLayoutWidget()
        chart.setBackground(style.BACKGROUND)
        self.spread_plot: pg.PlotItem = chart.addPlot(row=0, col=0,
                                                      axisItems={"bottom": UtcDateAxis()})
        self.p_plot: pg.PlotItem = chart.addPlot(row=1, col=0,
                                                 axisItems={"bottom": UtcDateAxis()})
        self.p_plot.setXLink(self.spread_plot)
        for plot, label in ((self.spread_plot, "Spread % of P"), (self.p_plot, "p")):
            style.style_plot(plot)
            plot.setLabel("left", label, color=style.AXIS)
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
        self.spread_curve = self.spread_plot.plot(pen=pg.mkPen("#1f5fbf", width=1.4),
                                                  connect="finite")
        self.p_curve = self.p_plot.plot(pen=pg.mkPen("#2a8a2a", width=1.4), connect="finite")
        self.p_plot.setYRange(0.0, 1.05)
        return chart

    # ------------------------------------------------------------------ inputs

    def set_params(self, params: Mapping[str, DealParams]) -> None:
        """The deals' settings (the terms column and the chart read them)."""
        self._params = dict(params)

    def set_history_source(self, history: HistoryOf) -> None:
        """Where the chart reads a deal's recent closes (``Engine.cluster_history``)."""
        self._history = history

    def set_sources(self, params: Callable[[], Mapping[str, DealParams]],
                    history: HistoryOf) -> None:
        """Read the deals' settings at each update (a deal added while running joins) and
        the chart's closes from these."""
        self._params_source = params
        self._history = history

    def update_views(self, views: Sequence[Any]) -> None:
        """Show the deal clusters among ``views`` (a snapshot's ``clusters``)."""
        if self._params_source is not None:
            self._params = dict(self._params_source())
        rows = [deal_row(v, self._params.get(v.name)) for v in views if v.kind == KIND]
        self.model.set_rows(rows)
        self.title.setText(TITLE_TEXT if rows else EMPTY_TEXT)
        if rows and not self.view.selectionModel().hasSelection():
            self.view.selectRow(0)
        self._update_buttons()
        if self.isVisible():  # the chart reads the engine's history only when seen
            self._redraw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._sized:  # the table's figures first: two thirds of the first width
            self._sized = True
            width = max(self.width(), 600)
            self.splitter.setSizes([width * 2 // 3, width - width * 2 // 3])
        self._drawn = None
        self._redraw()

    # ------------------------------------------------------------------ reading

    def selected(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return str(self.model.row(rows[0].row()).key)

    def row_texts(self) -> list[tuple[str, ...]]:
        """The cells as shown, row by row (what a reader of the tab sees)."""
        return [self.model.row(i).cells for i in range(self.model.rowCount())]

    def chart_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times s, spread %, p) the chart draws now."""
        x, spread = self.spread_curve.getData()
        _, p = self.p_curve.getData()
        empty = np.empty(0)
        return (empty if x is None else x, empty if spread is None else spread,
                empty if p is None else p)

    # ------------------------------------------------------------------ actions

    def _selected_view(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()).payload if rows else None

    def _update_buttons(self) -> None:
        view = self._selected_view()
        live = view is not None and getattr(view, "regime", "") in (OPEN, PENDING)
        self.completed_button.setEnabled(live)
        self.broken_button.setEnabled(live)
        self.buy_button.setEnabled(view is not None and getattr(view, "regime", "") == OPEN
                                   and not view.direction)

    def _buy(self) -> None:
        name = self.selected()
        if name is not None:
            self.buyRequested.emit(name)

    def _event(self, event: str) -> None:
        name = self.selected()
        if name is not None:
            self.dealEventRequested.emit(name, event)

    def _on_selection(self) -> None:
        self._update_buttons()
        self._drawn = None
        self._redraw()

    def _redraw(self) -> None:
        name = self.selected()
        params = self._params.get(name) if name else None
        if name is None or params is None or self._history is None:
            self.spread_curve.setData([], [])
            self.p_curve.setData([], [])
            return
        times, _, closes = self._history(name)
        key = (name, int(times[-1]) if len(times) else 0)
        if key == self._drawn:
            return
        self._drawn = key
        view = self._selected_view()
        symbols = tuple(view.symbols) if view is not None else tuple(closes)
        if not len(times) or any(s not in closes for s in symbols):
            return
        times, closes = times[-CHART_BARS:], {s: closes[s][-CHART_BARS:] for s in symbols}
        table = history_figures(times, closes, symbols, params)
        shown = table["regime"].to_numpy() != PENDING  # the deal's figures from its announcement
        x = (times // 1000).astype(np.float64)[shown]
        self.spread_curve.setData(x, table["spread_pct"].to_numpy()[shown])
        self.p_curve.setData(x, table["p"].to_numpy()[shown])
        # pyqtgraph renders a plot title as HTML: the deal's name (the trader's) is escaped
        self.spread_plot.setTitle(f"{escape(name)}: gross spread (% of P) and implied p, "
                                  f"last {len(x)} bars", color=style.AXIS, size="8pt")
