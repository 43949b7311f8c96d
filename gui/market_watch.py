"""Market Watch: every symbol of the session with its live bid, ask, spread, day and tick time.

A pure view: the main window hands over the engine snapshot's quotes (throttled) and the
table updates in place, one ``dataChanged`` per changed row, so a trader can keep a row
selected and read it while prices move.  A symbol missing from an update keeps its last row,
as MT5 keeps a quiet symbol listed with its last tick.

The day's figures come from a ``day_source`` (``app.symbol_bars.SymbolBars.day_stats``: the
symbol's bid bars of the current server day): "Daily %" is MT5's daily change, the bid
against the **previous day's close** (blank while the data holds no earlier day), and High
and Low are the day's bid extremes.  They are recomputed at most once a second.

A row opens its symbol's chart by double-click, by the context menu's "Chart window", or
by dragging it onto the chart area (the drag carries ``SYMBOL_MIME``).  "Compact view"
keeps Symbol, Bid, Ask and Daily % only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.toolbox.format import (
    LOSS,
    PROFIT,
    TICK_DOWN,
    TICK_UP,
    digits_from_spread,
    figures_font,
    format_price,
    price_digits,
    utc_clock,
)
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

#: Model columns; the view shows the day's figures before the time (``VISUAL_ORDER``).
HEADERS = ("Symbol", "Bid", "Ask", "Spread", "Time (UTC)", "Daily %", "High", "Low")
VISUAL_ORDER = (0, 1, 2, 3, 5, 6, 7, 4)
#: Columns the compact view hides: Spread, Time, High, Low.
COMPACT_HIDDEN = (3, 4, 6, 7)
#: What a dragged row carries: the symbol's name, UTF-8.
SYMBOL_MIME = "application/x-fxcluster-symbol"
#: Day figures are recomputed at most this often (seconds of wall time).
DAY_REFRESH_S = 1.0
_TOOLTIPS = {
    5: "Daily change: the bid against the previous server day's close, in percent "
       "(MT5's basis); blank while the data holds no earlier day",
    6: "The server day's highest bid so far", 7: "The server day's lowest bid so far",
}


class QuoteLike(Protocol):
    """What a Market Watch row needs (``engine.snapshot.QuoteView`` has these fields)."""

    @property
    def symbol(self) -> str: ...
    @property
    def bid(self) -> float: ...
    @property
    def ask(self) -> float: ...
    @property
    def spread_points(self) -> float: ...
    @property
    def time(self) -> datetime | None: ...


def _direction_colour(new: float, old: float | None, previous: QColor | None) -> QColor | None:
    """Blue after an uptick, red after a downtick; an unchanged price keeps its colour."""
    if old is None or new == old:
        return previous
    return TICK_UP if new > old else TICK_DOWN


class _WatchModel(KeyedTableModel):
    """The table model, with the day columns' basis as header tool tips."""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _TOOLTIPS.get(section)
        return super().headerData(section, orientation, role)


class _SymbolTable(QTableView):
    """The table, whose rows drag out as their symbol (``SYMBOL_MIME`` and plain text)."""

    def startDrag(self, _actions: Qt.DropAction) -> None:
        index = self.currentIndex()
        if not index.isValid():
            return
        drag = QDrag(self)
        drag.setMimeData(symbol_mime(str(self.model().index(index.row(), 0).data())))
        drag.exec(Qt.DropAction.CopyAction)


def symbol_mime(symbol: str) -> QMimeData:
    """The drag payload of a Market Watch row."""
    mime = QMimeData()
    mime.setData(SYMBOL_MIME, symbol.encode("utf-8"))
    mime.setText(symbol)
    return mime


def symbol_from_mime(mime: QMimeData) -> str | None:
    """The symbol a drop carries (None: not a Market Watch row)."""
    if not mime.hasFormat(SYMBOL_MIME):
        return None
    text = bytes(mime.data(SYMBOL_MIME).data()).decode("utf-8", "replace").strip()
    return text or None


class MarketWatch(QWidget):
    """The Market Watch table; feed it with ``update_quotes`` (any order, any subset).

    ``digits`` maps symbol -> the broker's decimal places; without an entry the digits are
    read off the quote's spread in points, then guessed from the symbol and price.
    """

    #: A symbol whose chart the trader asked for (double-click or "Chart window").
    chartRequested = Signal(str)

    def __init__(self, digits: Mapping[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._digits: dict[str, int] = dict(digits or {})
        self._last: dict[str, tuple[float, float]] = {}
        self._colours: dict[str, tuple[QColor | None, QColor | None]] = {}
        self._sized = False
        self._day_source: Callable[[str], Any] | None = None
        self._day: dict[str, Any] = {}
        self._day_at = -math.inf
        self.model = _WatchModel(HEADERS, numeric_columns=(1, 2, 3, 4, 5, 6, 7),
                                     figures_font=figures_font(self.font()), parent=self)
        self.view = self._table()
        self.compact = QAction("Compact view", self)
        self.compact.setCheckable(True)
        self.compact.toggled.connect(self.set_compact)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    def _table(self) -> QTableView:
        """The terminal's table look (``gui.toolbox.model.read_only_table``) on a table
        that drags rows out, rows 5 px tighter so 16 symbols fit the dock at 1600x900."""
        view = read_only_table(self.model, self, view=_SymbolTable(self))
        rows = view.verticalHeader()
        rows.setMinimumSectionSize(self.fontMetrics().height())
        rows.setDefaultSectionSize(self.fontMetrics().height() + 1)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setDragEnabled(True)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        for visual, logical in enumerate(VISUAL_ORDER):
            header.moveSection(header.visualIndex(logical), visual)
        view.doubleClicked.connect(self._double_clicked)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        return view

    # ------------------------------------------------------------------ charts, layout

    def symbol_at(self, row: int) -> str | None:
        if not 0 <= row < self.model.rowCount():
            return None
        return str(self.model.row(row).key)

    def _double_clicked(self, index: QModelIndex) -> None:
        symbol = self.symbol_at(index.row())
        if symbol is not None:
            self.chartRequested.emit(symbol)

    def context_menu(self, row: int) -> QMenu:
        """The row's menu: "Chart window" (this symbol) and the compact-view switch."""
        menu = QMenu(self)
        symbol = self.symbol_at(row)
        chart = menu.addAction("Chart window")
        chart.setEnabled(symbol is not None)
        if symbol is not None:
            chart.triggered.connect(lambda: self.chartRequested.emit(symbol))
        menu.addSeparator()
        menu.addAction(self.compact)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        row = self.view.indexAt(pos).row()
        self.context_menu(row).exec(self.view.viewport().mapToGlobal(pos))

    def set_compact(self, on: bool) -> None:
        """Show only Symbol, Bid, Ask and Daily % (on) or every column."""
        for column in COMPACT_HIDDEN:
            self.view.setColumnHidden(column, on)
        if self.compact.isChecked() != on:
            self.compact.setChecked(on)

    def set_day_source(self, source: Callable[[str], Any] | None) -> None:
        """Where the day's figures come from: symbol -> ``DayStats`` or None."""
        self._day_source = source
        self._day_at = -math.inf

    def rows_height(self, rows: int | None = None) -> int:
        """Pixels the header and ``rows`` rows (default: those listed) need, to size the
        dock so every symbol is in view."""
        count = max(self.model.rowCount() if rows is None else rows, 1)
        return self.view.horizontalHeader().sizeHint().height() + \
            count * self.view.verticalHeader().defaultSectionSize() + 4

    def digits(self, symbol: str) -> int | None:
        """The decimal places in use for ``symbol`` (None before its first quote)."""
        return self._digits.get(symbol)

    def update_quotes(self, quotes: Sequence[QuoteLike]) -> None:
        """Apply a batch of quotes: new symbols are appended, known ones change in place."""
        self._refresh_day([q.symbol for q in quotes])
        for quote in quotes:
            self.model.upsert(self._row(quote))
        if not self._sized and self.model.rowCount() > 0:
            self._size_columns()

    def _row(self, quote: QuoteLike) -> Row:
        symbol = quote.symbol
        digits = self._digits.get(symbol)
        if digits is None:
            digits = getattr(quote, "digits", None)  # the broker's, when the quote carries it
        if digits is None:
            digits = digits_from_spread(quote.bid, quote.ask, quote.spread_points)
            if digits is None:
                digits = price_digits(symbol, quote.bid)
            self._digits[symbol] = digits  # fixed once, so the column never jitters
        last = self._last.get(symbol)
        bid_colour, ask_colour = self._colours.get(symbol, (None, None))
        bid_colour = _direction_colour(quote.bid, last[0] if last else None, bid_colour)
        ask_colour = _direction_colour(quote.ask, last[1] if last else None, ask_colour)
        self._last[symbol] = (quote.bid, quote.ask)
        self._colours[symbol] = (bid_colour, ask_colour)
        change, high, low = self._day_cells(symbol, quote.bid, digits)
        return Row(
            key=symbol,
            cells=(symbol, format_price(quote.bid, digits), format_price(quote.ask, digits),
                   f"{quote.spread_points:.0f}", utc_clock(quote.time), change, high, low),
            foreground=(None, bid_colour, ask_colour, None, None, _change_colour(change)),
            payload=quote,
        )

    def _refresh_day(self, symbols: Sequence[str]) -> None:
        now = time.monotonic()
        if self._day_source is None or now - self._day_at < DAY_REFRESH_S:
            return
        self._day_at = now
        for symbol in symbols:
            self._day[symbol] = self._day_source(symbol)

    def _day_cells(self, symbol: str, bid: float, digits: int) -> tuple[str, str, str]:
        day = self._day.get(symbol)
        if day is None:
            return "", "", ""
        change = round(day.change_pct(bid), 2) + 0.0  # + 0.0: no "-0.00%"
        change_text = f"{change:+.2f}%" if math.isfinite(change) else ""
        return change_text, format_price(day.high, digits), format_price(day.low, digits)

    def _size_columns(self) -> None:
        """Columns sized once, on the first fill: resizing on every tick costs a full pass
        over the rows and makes the columns twitch as digits change."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for column in range(1, len(HEADERS)):
            header.resizeSection(column, header.sectionSize(column) + 12)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._sized = True


def _change_colour(text: str) -> QColor | None:
    """Green for a rise on the day, red for a fall (as the figure reads)."""
    if not text or text.startswith("+0.00%"):
        return None
    return PROFIT if text.startswith("+") else LOSS
