"""The Toolbox Trade tab: open positions grouped by basket, with close actions, beside the
net currency exposure of every open position.

The columns are MT5's (Ticket, Time, Type, Volume, Symbol, Price, S/L, T/P, Price now, Swap,
Commission, Profit) plus "Net ccy", the basket's net exposure to its numeraire.  A basket is
what the engine trades, so positions are grouped under their basket id (the MT5 order
comment the engine writes) with the basket's totals on the group row; the group row counts
its legs in the Volume column rather than adding lots of different symbols.  Positions no
cluster owns (New Order's manual orders, another program's) sit under one "no basket" group.

Tickets are 64-bit.  They are shown as text and handed back from the Python objects the model
keeps; they never pass through a Qt integer role or an ``int`` signal, which are 32-bit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.dialogs.confirmations import ask
from gui.plain_text import plain_tip
from gui.toolbox.exposure import ExposureLike, ExposureTable
from gui.toolbox.format import (
    GROUP_BACKGROUND,
    figures_font,
    format_money,
    format_price,
    format_volume,
    money_colour,
    price_digits,
)

log = logging.getLogger(__name__)

#: The exposure table's width at first, pixels (the splitter lets it change).
EXPOSURE_WIDTH = 240

Index = QModelIndex | QPersistentModelIndex

HEADERS = ("Ticket", "Time (UTC)", "Type", "Volume", "Symbol", "Price", "S/L", "T/P",
           "Price now", "Swap", "Commission", "Profit", "Net ccy")
(TICKET, TIME, TYPE, VOLUME, SYMBOL, OPEN_PRICE, SL, TP, PRICE, SWAP, COMMISSION, PROFIT,
 NET) = range(13)
NUMERIC_COLUMNS = frozenset({VOLUME, OPEN_PRICE, SL, TP, PRICE, SWAP, COMMISSION, PROFIT, NET})
#: What each column's figure is (the header's tooltip): one definition per column.
HEADER_TIPS = {
    TIME: "when the position opened, UTC",
    TYPE: "buy or sell; a basket row: the basket's direction",
    VOLUME: "lots; a basket row counts its legs (lots of different symbols do not add)",
    OPEN_PRICE: "the position's opening price",
    SL: "stop loss price set on the position (blank: none); the terminal closes at it",
    TP: "take profit price set on the position (blank: none); the terminal closes at it",
    PRICE: "the price the position would close at now: bid for a buy, ask for a sell",
    SWAP: "swap booked so far (account currency)",
    COMMISSION: "commission paid so far (account currency)",
    PROFIT: "floating profit at 'Price now', without swap and commission, as MT5 shows it; "
            "a basket row adds its legs'",
    NET: "a basket's net exposure to its cluster's numeraire, as a share of its gross",
}


class BalanceLike(Protocol):
    """A basket's net exposure to its numeraire (``engine.snapshot.ClusterView`` has these)."""

    @property
    def numeraire(self) -> str: ...
    @property
    def net_numeraire(self) -> float: ...
    @property
    def net_numeraire_share(self) -> float: ...


def balance_text(balance: BalanceLike | None) -> str:
    """``USD +1.24%`` (net exposure to the numeraire as a share of gross), or blank."""
    if balance is None or not balance.numeraire or not math.isfinite(
            balance.net_numeraire_share):
        return ""
    return f"{balance.numeraire} {balance.net_numeraire_share:+.2%}"


def balance_tip(balance: BalanceLike | None) -> str | None:
    if not balance_text(balance):
        return None
    assert balance is not None
    return (f"net exposure to {balance.numeraire}, valued now: "
            f"{format_money(balance.net_numeraire)} ({balance.net_numeraire_share:+.2%} of "
            f"the legs' gross notional; + long {balance.numeraire})")


class PositionLike(Protocol):
    """What a Trade row needs (``engine.snapshot.PositionView`` has these fields)."""

    @property
    def ticket(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def volume(self) -> float: ...
    @property
    def price_open(self) -> float: ...
    @property
    def price_current(self) -> float: ...
    @property
    def swap(self) -> float: ...
    @property
    def profit(self) -> float: ...
    @property
    def comment(self) -> str: ...
    @property
    def cluster(self) -> str | None: ...
    @property
    def time(self) -> datetime | None: ...
    @property
    def sl(self) -> float: ...
    @property
    def tp(self) -> float: ...


@dataclass
class BasketGroup:
    """One basket's positions in display order; ``serial`` identifies it to Qt indexes."""

    basket_id: str
    serial: int
    cluster: str | None = None
    positions: list[PositionLike] = field(default_factory=list)
    #: The basket's net exposure to its numeraire (None: not an engine basket).
    balance: BalanceLike | None = None

    @property
    def swap(self) -> float:
        return sum(p.swap for p in self.positions)

    @property
    def profit(self) -> float:
        return sum(p.profit for p in self.positions)

    @property
    def commission(self) -> float:
        return sum(getattr(p, "commission", 0.0) for p in self.positions)

    @property
    def opened(self) -> datetime | None:
        times = [t for t in (getattr(p, "time", None) for p in self.positions) if t]
        return min(times) if times else None

    @property
    def label(self) -> str:
        return self.basket_id or "no basket"


def _group_key(position: PositionLike) -> str:
    """A cluster's position sits under its basket id (its comment); any other position
    (a manual order, another program's) under the "no basket" group."""
    return position.comment.strip() if position.cluster else ""


class PositionTreeModel(QAbstractItemModel):
    """Two levels: basket groups, then their positions; updated in place by ``set_positions``.

    An index's internal id is 0 for a group row and the group's serial for a position row,
    so ``parent()`` is a dictionary lookup and no Python object is pinned in a Qt pointer.
    """

    def __init__(self, digits: Mapping[str, int] | None = None, font: QFont | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._digit_map = digits
        self._font = font
        self._bold = QFont(font) if font is not None else QFont()
        self._bold.setBold(True)
        self._groups: list[BasketGroup] = []
        self._group_row: dict[str, int] = {}
        self._by_serial: dict[int, BasketGroup] = {}
        self._next_serial = 1
        self._balances: Mapping[str, BalanceLike] = {}

    # ------------------------------------------------------------------ Qt structure

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid():
            if parent.internalId() != 0:
                return QModelIndex()
            group = self._groups[parent.row()]
            if 0 <= row < len(group.positions) and 0 <= column < len(HEADERS):
                return self.createIndex(row, column, group.serial)
            return QModelIndex()
        if 0 <= row < len(self._groups) and 0 <= column < len(HEADERS):
            return self.createIndex(row, column, 0)
        return QModelIndex()

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == 0:
            return QModelIndex()
        group = self._by_serial.get(child.internalId())
        if group is None:
            return QModelIndex()
        return self.createIndex(self._group_row[group.basket_id], 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()].positions)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """Cell contents.  An exception escaping a Qt virtual call takes the whole process
        down with this Qt binding, so a malformed position shows a blank cell and is logged."""
        if not index.isValid():
            return None
        try:
            column = index.column()
            if index.internalId() == 0:
                return self._group_data(self._groups[index.row()], column, role)
            group = self._by_serial[index.internalId()]
            return self._position_data(group.positions[index.row()], column, role)
        except Exception:
            log.exception("Trade tab cannot show row %d column %d", index.row(), index.column())
            return None

    # ------------------------------------------------------------------ Python access

    def groups(self) -> list[BasketGroup]:
        return list(self._groups)

    def group_at(self, index: Index) -> BasketGroup | None:
        """The basket of a group row or of a position row."""
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._groups[index.row()]
        return self._by_serial.get(index.internalId())

    def position_at(self, index: Index) -> PositionLike | None:
        """The position of a position row (None for a group row)."""
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._by_serial[index.internalId()].positions[index.row()]

    def set_positions(self, positions: Sequence[PositionLike],
                      balances: Mapping[str, BalanceLike] | None = None) -> None:
        """Show exactly ``positions``: groups and rows appear, vanish and change in place.

        Existing groups and rows keep their place; new ones are appended, so a row the
        trader is looking at never jumps.  ``balances`` maps a basket id to its net
        numeraire exposure, shown on the basket's row.
        """
        self._balances = balances or {}
        incoming: dict[str, list[PositionLike]] = {}
        for position in positions:
            incoming.setdefault(_group_key(position), []).append(position)
        for row in range(len(self._groups) - 1, -1, -1):
            if self._groups[row].basket_id not in incoming:
                self._remove_group(row)
        for row, group in enumerate(self._groups):
            self._update_group(row, group, incoming[group.basket_id])
        fresh = [key for key in incoming if key not in self._group_row]
        if fresh:
            first = len(self._groups)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for key in fresh:
                group = BasketGroup(key, self._next_serial, _cluster_of(incoming[key]),
                                    list(incoming[key]), self._balances.get(key))
                self._next_serial += 1
                self._by_serial[group.serial] = group
                self._group_row[key] = len(self._groups)
                self._groups.append(group)
            self.endInsertRows()

    # ------------------------------------------------------------------ internals

    def _remove_group(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        group = self._groups.pop(row)
        del self._by_serial[group.serial]
        self._group_row = {g.basket_id: i for i, g in enumerate(self._groups)}
        self.endRemoveRows()

    def _update_group(self, row: int, group: BasketGroup,
                      positions: list[PositionLike]) -> None:
        parent = self.index(row, 0)
        before = _group_figures(group)
        group.balance = self._balances.get(group.basket_id)
        by_ticket = {p.ticket: p for p in positions}
        for child in range(len(group.positions) - 1, -1, -1):
            if group.positions[child].ticket not in by_ticket:
                self.beginRemoveRows(parent, child, child)
                del group.positions[child]
                self.endRemoveRows()
        for child, old in enumerate(group.positions):
            new = by_ticket[old.ticket]
            group.positions[child] = new
            if new != old:
                self.dataChanged.emit(self.index(child, 0, parent),
                                      self.index(child, len(HEADERS) - 1, parent))
        known = {p.ticket for p in group.positions}
        added = [p for p in positions if p.ticket not in known]
        if added:
            first = len(group.positions)
            self.beginInsertRows(parent, first, first + len(added) - 1)
            group.positions.extend(added)
            self.endInsertRows()
        cluster = _cluster_of(positions)
        if cluster is not None:
            group.cluster = cluster
        after = _group_figures(group)
        if after != before:
            self.dataChanged.emit(parent, self.index(row, len(HEADERS) - 1))

    def _digits(self, position: PositionLike) -> int:
        return price_digits(position.symbol, position.price_open, self._digit_map)

    def _position_data(self, p: PositionLike, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return _position_text(p, column, self._digits(p))
        if role == Qt.ItemDataRole.ForegroundRole and column == PROFIT:
            return money_colour(p.profit)
        return self._common(column, role, self._font)

    def _group_data(self, group: BasketGroup, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return _group_text(group, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == PROFIT:
            return money_colour(group.profit)
        if role == Qt.ItemDataRole.ToolTipRole and column == NET:
            tip = balance_tip(group.balance)  # names the configured numeraire
            return plain_tip(tip) if tip else None
        if role == Qt.ItemDataRole.ToolTipRole and column == TICKET:
            # the whole basket id (the cell elides it), shown literally
            return plain_tip(_group_text(group, column))
        if role == Qt.ItemDataRole.BackgroundRole:
            return GROUP_BACKGROUND
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        return self._common(column, role, None)

    @staticmethod
    def _common(column: int, role: int, font: QFont | None) -> object:
        if column in NUMERIC_COLUMNS:
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.FontRole:
                return font
        return None


def _price_or_blank(price: float, digits: int) -> str:
    """A stop level: blank when none is set (0), as MT5 leaves it."""
    return format_price(price, digits) if price else ""


def _position_text(p: PositionLike, column: int, digits: int) -> str | None:
    """A position row's cell, column by column as MT5's Trade tab."""
    texts: dict[int, Callable[[], str]] = {
        TICKET: lambda: str(p.ticket),
        TIME: lambda: _stamp(getattr(p, "time", None)),
        TYPE: lambda: p.side.lower(),
        VOLUME: lambda: format_volume(p.volume),
        SYMBOL: lambda: p.symbol,
        OPEN_PRICE: lambda: format_price(p.price_open, digits),
        SL: lambda: _price_or_blank(getattr(p, "sl", 0.0), digits),
        TP: lambda: _price_or_blank(getattr(p, "tp", 0.0), digits),
        PRICE: lambda: format_price(p.price_current, digits),
        SWAP: lambda: format_money(p.swap),
        COMMISSION: lambda: format_money(getattr(p, "commission", 0.0)),
        PROFIT: lambda: format_money(p.profit),
    }
    text = texts.get(column)
    return text() if text is not None else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _stamp(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _group_figures(group: BasketGroup) -> tuple[object, ...]:
    """What a group row shows: a change in any of these repaints the row."""
    return tuple(_group_text(group, column) for column in range(len(HEADERS)))


def _group_text(group: BasketGroup, column: int) -> str:
    """A basket row's cell: its label, legs, direction, totals and net numeraire exposure."""
    count = len(group.positions)
    if column == TICKET:
        return group.label
    if column == TIME:
        return _stamp(group.opened)
    if column == TYPE:
        direction = getattr(group.balance, "direction", None)
        return str(direction).lower() if direction else ""
    if column == VOLUME:
        return _count(count, "leg" if group.cluster else "position")
    if column == SYMBOL:
        return group.cluster or ""
    if column == SWAP:
        return format_money(group.swap)
    if column == COMMISSION:
        return format_money(group.commission)
    if column == PROFIT:
        return format_money(group.profit)
    if column == NET:
        return balance_text(group.balance)
    return ""


def _cluster_of(positions: Sequence[PositionLike]) -> str | None:
    return next((p.cluster for p in positions if p.cluster), None)


class TradeTab(QWidget):
    """Open positions by basket, and the three close actions, each confirmed first.

    The tab only asks: it emits ``closeLegRequested(ticket)``, ``closeBasketRequested(
    cluster)`` or ``flattenAllRequested()`` and the main window submits the command.
    """

    closeLegRequested = Signal(object)  # the ticket, a Python int (64-bit safe)
    closeBasketRequested = Signal(str)  # the cluster whose basket to close
    flattenAllRequested = Signal()

    def __init__(self, digits: Mapping[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: Holds a demo or replay clock around a confirmation (the window sets it).
        self.hold_clock: Callable[[], AbstractContextManager[Any]] = nullcontext
        self._sized = False
        self.model = PositionTreeModel(digits, figures_font(self.font()), self)
        self.view = QTreeView(self)
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.header().setStretchLastSection(False)
        self.model.rowsInserted.connect(self._expand_new_groups)
        self.view.selectionModel().currentRowChanged.connect(self._update_buttons)

        self.close_leg_button = QPushButton("Close leg")
        self.close_basket_button = QPushButton("Close basket")
        self.flatten_button = QPushButton("Flatten all")
        self.close_leg_button.clicked.connect(self.request_close_leg)
        self.close_basket_button.clicked.connect(self.request_close_basket)
        self.flatten_button.clicked.connect(self.request_flatten_all)
        self.summary = QLabel()  # rich text of counts and a sum: no data text in it
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.exposure = ExposureTable(self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.exposure)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([1000, EXPOSURE_WIDTH])

        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 2, 4, 2)
        buttons.addWidget(self.summary, 1)
        for button in (self.close_leg_button, self.close_basket_button, self.flatten_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(buttons)
        self._update_summary()
        self._update_buttons()

    # ------------------------------------------------------------------ feeding

    def update_positions(self, positions: Sequence[PositionLike],
                         balances: Mapping[str, BalanceLike] | None = None,
                         exposures: Sequence[ExposureLike] | None = None) -> None:
        """Show the terminal's open positions (throttled by the caller), in place, with each
        engine basket's net numeraire exposure (``balances`` by basket id) and, when given,
        the net exposure per currency of all of them (``exposures``)."""
        self.model.set_positions(positions, balances)
        if exposures is not None:
            self.exposure.update_exposures(exposures)
        if not self._sized and self.model.rowCount() > 0:
            self._size_columns()
        self._update_summary()
        self._update_buttons()

    # ------------------------------------------------------------------ actions

    def confirm(self, title: str, text: str) -> bool:
        """Ask before closing anything; tests replace this method to answer for the trader."""
        return ask(self, title, text)  # shown literally: it names symbols and baskets

    def _confirmed(self, title: str, text: str) -> bool:
        """``confirm`` with the simulated clock held while the trader decides (the window
        sets ``hold_clock``), so the market in the question is the one the close meets."""
        with self.hold_clock():
            return self.confirm(title, text)

    def selected_position(self) -> PositionLike | None:
        return self.model.position_at(self.view.currentIndex())

    def selected_group(self) -> BasketGroup | None:
        return self.model.group_at(self.view.currentIndex())

    def request_close_leg(self) -> bool:
        """Close the selected position after confirmation; True when the request went out."""
        position = self.selected_position()
        if position is None:
            return False
        text = (f"Close {position.side.lower()} {format_volume(position.volume)} "
                f"{position.symbol}, ticket {position.ticket}?\n\nThe rest of its basket "
                f"stays open.")
        if not self._confirmed("Close leg", text):
            return False
        self.closeLegRequested.emit(int(position.ticket))
        return True

    def request_close_basket(self) -> bool:
        """Close the selected basket (all its legs) after confirmation."""
        group = self.selected_group()
        if group is None or not group.cluster:
            return False
        text = (f"Close basket {group.label} of {group.cluster} ({len(group.positions)} "
                f"positions, profit {format_money(group.profit)})?")
        if not self._confirmed("Close basket", text):
            return False
        self.closeBasketRequested.emit(group.cluster)
        return True

    def request_flatten_all(self) -> bool:
        """Close every open position after confirmation."""
        groups = self.model.groups()
        count = sum(len(g.positions) for g in groups)
        if count == 0:
            return False
        baskets = [g for g in groups if g.cluster]  # the "no basket" group is not one
        outside = count - sum(len(g.positions) for g in baskets)
        where = f"{len(baskets)} basket(s)" + (
            f" and {outside} outside any basket" if outside else "")
        text = (f"Close ALL {count} open positions: {where} "
                f"(profit {format_money(sum(g.profit for g in groups))})?")
        if not self._confirmed("Flatten all", text):
            return False
        self.flattenAllRequested.emit()
        return True

    # ------------------------------------------------------------------ internals

    def _show_menu(self, point: QPoint) -> None:
        index = self.view.indexAt(point)
        if index.isValid():
            self.view.setCurrentIndex(index)
        menu = QMenu(self)
        leg = menu.addAction("Close leg", self.request_close_leg)
        leg.setEnabled(self.selected_position() is not None)
        basket = menu.addAction("Close basket", self.request_close_basket)
        group = self.selected_group()
        basket.setEnabled(group is not None and bool(group.cluster))
        menu.addSeparator()
        flatten = menu.addAction("Flatten all", self.request_flatten_all)
        flatten.setEnabled(self.model.rowCount() > 0)
        menu.popup(self.view.viewport().mapToGlobal(point))

    def _expand_new_groups(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        for row in range(first, last + 1):
            self.view.expand(self.model.index(row, 0))

    def _update_buttons(self, *_: object) -> None:
        group = self.selected_group()
        self.close_leg_button.setEnabled(self.selected_position() is not None)
        self.close_basket_button.setEnabled(group is not None and bool(group.cluster))
        self.flatten_button.setEnabled(self.model.rowCount() > 0)

    def _update_summary(self) -> None:
        groups = self.model.groups()
        count = sum(len(g.positions) for g in groups)
        baskets = sum(1 for g in groups if g.cluster)
        profit = sum(g.profit for g in groups)
        colour = money_colour(profit) or QColor("black")
        self.summary.setText(
            f"{_count(count, 'position')}, {_count(baskets, 'basket')} &nbsp; Profit: "
            f"<span style='color:{colour.name()}'><b>{format_money(profit)}</b></span>"
        )

    def _size_columns(self) -> None:
        """Sized once from the first fill (see ``MarketWatch._size_columns``)."""
        header = self.view.header()
        for column in range(len(HEADERS)):
            self.view.resizeColumnToContents(column)
            header.resizeSection(column, header.sectionSize(column) + 8)
        # room for a basket id (bold, indented), a group's "12 positions" and a price in
        # the stop columns, whatever the first fill held
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        figures = QFontMetrics(figures_font(self.font()))
        # the Ticket column fits a ticket, as MT5's does: a basket id is elided in the middle
        # (its cluster and direction are in Symbol and Type, the whole id in the tooltip), so
        # Profit stays in view at 1600x900
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        widest = {TICKET: metrics.horizontalAdvance("5100000000001") + 36,
                  VOLUME: metrics.horizontalAdvance("12 positions") + 8}
        for column in (OPEN_PRICE, SL, TP, PRICE):
            widest[column] = figures.horizontalAdvance("0000.00000") + 8
        for column, width in widest.items():
            header.resizeSection(column, max(header.sectionSize(column), width))
        header.resizeSection(TICKET, widest[TICKET])
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._sized = True
