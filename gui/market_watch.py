"""Market Watch: the symbols the engine trades with their live bid, ask, spread and tick time.

A pure view: the main window hands over the engine snapshot's quotes (throttled) and the
table updates in place, one ``dataChanged`` per changed row, so a trader can keep a row
selected and read it while prices move.  A symbol missing from an update keeps its last row,
as MT5 keeps a quiet symbol listed with its last tick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QVBoxLayout, QWidget

from gui.toolbox.format import (
    TICK_DOWN,
    TICK_UP,
    digits_from_spread,
    figures_font,
    format_price,
    price_digits,
    utc_clock,
)
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

HEADERS = ("Symbol", "Bid", "Ask", "Spread", "Time (UTC)")


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


class MarketWatch(QWidget):
    """The Market Watch table; feed it with ``update_quotes`` (any order, any subset).

    ``digits`` maps symbol -> the broker's decimal places; without an entry the digits are
    read off the quote's spread in points, then guessed from the symbol and price.
    """

    def __init__(self, digits: Mapping[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._digits: dict[str, int] = dict(digits or {})
        self._last: dict[str, tuple[float, float]] = {}
        self._colours: dict[str, tuple[QColor | None, QColor | None]] = {}
        self._sized = False
        self.model = KeyedTableModel(HEADERS, numeric_columns=(1, 2, 3, 4),
                                     figures_font=figures_font(self.font()), parent=self)
        self.view = read_only_table(self.model, self)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setHighlightSections(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    def digits(self, symbol: str) -> int | None:
        """The decimal places in use for ``symbol`` (None before its first quote)."""
        return self._digits.get(symbol)

    def update_quotes(self, quotes: Sequence[QuoteLike]) -> None:
        """Apply a batch of quotes: new symbols are appended, known ones change in place."""
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
        return Row(
            key=symbol,
            cells=(symbol, format_price(quote.bid, digits), format_price(quote.ask, digits),
                   f"{quote.spread_points:.0f}", utc_clock(quote.time)),
            foreground=(None, bid_colour, ask_colour),
            payload=quote,
        )

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
