"""The console's central area: the cluster chart and any number of symbol charts, as tabs.

Tabs rather than tiles: at 1600x900 the central area is about 800x560 pixels, too small to
tile two candle charts usefully, and a tab keeps each chart full size, as MT5's tabbed chart
windows do.  The cluster chart is the first tab and cannot be closed; a symbol chart opens
from Market Watch (double-click, "Chart window", or a row dropped here), closes with its
tab's button, and opening a symbol again brings its tab to the front.

The area owns the symbol charts' refresh: the snapshot's quotes and positions are handed to
every open chart (cheap: lines only), while candles are reloaded at most every
``REFRESH_MS`` and only for the chart in view (a hidden tab catches up when shown).  The
run's basket deals are re-read from the journal when a basket opened or closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QMimeData, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QGraphicsView, QTabWidget, QWidget

from engine.events import BasketClosed, BasketOpened
from gui.chart.symbol_chart import BarSource, SymbolChart
from gui.market_watch import symbol_from_mime

#: Candle reloads at most this often (the cluster chart's pace).
REFRESH_MS = 250


class ChartArea(QTabWidget):
    """Tabs: ``cluster_chart`` first, then one ``SymbolChart`` per opened symbol."""

    #: A symbol chart was opened or brought to the front.
    symbolShown = Signal(str)

    def __init__(self, cluster_chart: QWidget, source: BarSource | None,
                 marks: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.marks = marks  # app.symbol_marks.RunMarks, or None without a journal
        self.cluster_chart = cluster_chart
        self.setDocumentMode(True)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setAcceptDrops(True)
        self.addTab(cluster_chart, "Cluster")
        self._no_close(0)
        self._charts: dict[str, SymbolChart] = {}
        self._quotes: dict[str, tuple[float, float]] = {}
        self._positions: Sequence[Any] = ()
        self._marks_due = True
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.tabCloseRequested.connect(self.close_tab)
        self.currentChanged.connect(lambda _i: self.refresh())
        self._pass_drops_up(cluster_chart)

    def _no_close(self, index: int) -> None:
        bar = self.tabBar()
        for side in (bar.ButtonPosition.RightSide, bar.ButtonPosition.LeftSide):
            bar.setTabButton(index, side, None)  # type: ignore[arg-type]

    @staticmethod
    def _pass_drops_up(widget: QWidget) -> None:
        """Plots are graphics views, which take drops for their scene; a symbol dropped on
        a chart must reach this area instead."""
        for view in widget.findChildren(QGraphicsView):
            view.setAcceptDrops(False)
            view.viewport().setAcceptDrops(False)

    # ------------------------------------------------------------------ charts

    def symbols(self) -> list[str]:
        """The symbols with an open chart, in tab order."""
        found = [self.widget(i) for i in range(self.count())]
        return [w.symbol for w in found if isinstance(w, SymbolChart)]

    def chart(self, symbol: str) -> SymbolChart | None:
        return self._charts.get(symbol)

    def open_symbol(self, symbol: str) -> SymbolChart | None:
        """Show ``symbol``'s chart, opening a tab for it the first time (None when the
        session has no bars for it)."""
        chart = self._charts.get(symbol)
        if chart is None:
            if self.source is None or symbol not in self.source:  # type: ignore[operator]
                return None
            chart = SymbolChart(symbol, self.source)
            self._pass_drops_up(chart)
            self._charts[symbol] = chart
            bid, ask = self._quotes.get(symbol, (float("nan"), float("nan")))
            chart.set_quote(bid, ask)
            chart.set_positions(self._positions)
            if self.marks is not None:
                self.marks.refresh()  # a trader's click: read what the journal has now
                chart.set_marks(self.marks.for_symbol(symbol))
            self.addTab(chart, symbol)
        self.setCurrentWidget(chart)
        chart.refresh()
        self.symbolShown.emit(symbol)
        return chart

    def close_tab(self, index: int) -> None:
        chart = self.widget(index)
        if not isinstance(chart, SymbolChart):
            return  # the cluster chart stays
        self.removeTab(index)
        self._charts.pop(chart.symbol, None)
        chart.deleteLater()

    # ------------------------------------------------------------------ updates

    def stop(self) -> None:
        """No more reads: the console is closing, and the journal the deals are read from
        with it.  A refresh already scheduled, or one a tab change asks for while the
        window is torn down, would read a closed database."""
        self._stopped = True
        self._timer.stop()

    def on_snapshot(self, snap: Any) -> None:
        """Quotes and positions to every open chart; a candle refresh is scheduled."""
        self._quotes = {q.symbol: (q.bid, q.ask) for q in snap.quotes}
        self._positions = tuple(snap.positions)
        for symbol, chart in self._charts.items():
            bid, ask = self._quotes.get(symbol, (float("nan"), float("nan")))
            chart.set_quote(bid, ask)
            chart.set_positions(self._positions)
        if self._charts and not self._timer.isActive():
            self._timer.start()

    def on_events(self, events: Sequence[Any]) -> None:
        """A basket opened or closed: the deals on the charts are read again."""
        if any(isinstance(ev, BasketOpened | BasketClosed) for ev in events):
            self._marks_due = True
            if self._charts and not self._timer.isActive():
                self._timer.start()

    def refresh(self) -> None:
        """Reload the candles of the chart in view; the deals of every chart when due."""
        if self._stopped:
            return
        if self._marks_due and self.marks is not None and self._charts:
            self._marks_due = False
            self.marks.refresh()
            for symbol, chart in self._charts.items():
                chart.set_marks(self.marks.for_symbol(symbol))
        current = self.currentWidget()
        if isinstance(current, SymbolChart):
            current.refresh()

    # ------------------------------------------------------------------ drops

    def symbol_of_drop(self, mime: QMimeData) -> str | None:
        """The symbol a drop carries if this area can chart it."""
        symbol = symbol_from_mime(mime)
        if symbol is None or self.source is None or symbol not in self.source:  # type: ignore[operator]
            return None
        return symbol

    def drop(self, mime: QMimeData) -> bool:
        """Open the chart of a dropped Market Watch row; False when it carries none."""
        symbol = self.symbol_of_drop(mime)
        if symbol is None:
            return False
        self.open_symbol(symbol)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.symbol_of_drop(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.symbol_of_drop(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()
