"""A flat table model that updates in place: rows keyed, diffed, never reset per update.

Every Toolbox table but the position tree is a list of rows with a natural key (a symbol, a
basket id, a command id, an event).  Resetting the model on each update would drop the
trader's selection and scroll position five times a second and re-layout the whole view, so
``set_rows`` works out what changed and tells the view exactly that: rows removed, rows
inserted, and ``dataChanged`` over the cells whose text or colour moved.

Payloads (records, tickets) stay Python objects on the model, reached with ``payload(row)``;
they never travel through a ``QVariant``, which would cut a 64-bit ticket to 32 bits.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Row:
    """One table row: display text per column, optional per-cell text and cell colours.

    ``foreground``/``background`` are per column (shorter tuples leave the rest default);
    ``payload`` is whatever the owning widget needs back when the row is selected.
    """

    key: Hashable
    cells: tuple[str, ...]
    foreground: tuple[QColor | None, ...] = ()
    background: tuple[QColor | None, ...] = ()
    payload: object = None

    def looks_like(self, other: Row) -> bool:
        """Same text and colours: nothing to repaint (payload changes are invisible)."""
        return (self.cells == other.cells and self.foreground == other.foreground
                and self.background == other.background)


def _changed_columns(old: Row, new: Row, width: int) -> tuple[int, int] | None:
    changed = [
        c for c in range(width)
        if _at(old.cells, c) != _at(new.cells, c)
        or _at(old.foreground, c) != _at(new.foreground, c)
        or _at(old.background, c) != _at(new.background, c)
    ]
    return (changed[0], changed[-1]) if changed else None


def _at(values: tuple[object, ...], column: int) -> object:
    return values[column] if column < len(values) else None


class KeyedTableModel(QAbstractTableModel):
    """Rows keyed by ``Row.key``; ``set_rows`` applies the difference in place.

    ``numeric_columns`` are right-aligned in a fixed-pitch font so figures line up.
    """

    def __init__(self, headers: Sequence[str], numeric_columns: Sequence[int] = (),
                 figures_font: QFont | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._numeric = frozenset(numeric_columns)
        self._font = figures_font
        self._rows: list[Row] = []
        self._row_of: dict[Hashable, int] = {}

    # ------------------------------------------------------------------ Qt interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if (orientation == Qt.Orientation.Horizontal and section in self._numeric
                and role == Qt.ItemDataRole.TextAlignmentRole):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _at(row.cells, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return _at(row.foreground, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return _at(row.background, column)
        if column in self._numeric:
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.FontRole:
                return self._font
        return None

    # ------------------------------------------------------------------ python interface

    def row(self, row: int) -> Row:
        return self._rows[row]

    def payload(self, row: int) -> object:
        return self._rows[row].payload

    def keys(self) -> list[Hashable]:
        return [r.key for r in self._rows]

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Make the table show ``rows`` (in this order) with the fewest view notifications.

        Vanished keys are removed and new ones inserted as contiguous blocks; surviving rows
        that changed get one ``dataChanged`` over their changed columns.  Only when the
        surviving rows come in a different order (a re-sort) is the layout rebuilt.
        """
        wanted = {r.key: r for r in rows}
        if len(wanted) != len(rows):
            raise ValueError("set_rows: two rows share a key")
        self._remove_missing(wanted)
        survivors = [r.key for r in rows if r.key in self._row_of]
        if survivors != self.keys():
            self._reorder(survivors)
        self._insert_new(rows)
        self._update_changed(rows)

    def upsert(self, row: Row) -> None:
        """Replace the row with ``row.key`` in place, or append it."""
        at = self._row_of.get(row.key)
        if at is None:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
            self._row_of[row.key] = len(self._rows)
            self._rows.append(row)
            self.endInsertRows()
            return
        old = self._rows[at]
        self._rows[at] = row
        span = _changed_columns(old, row, len(self._headers))
        if span is not None:
            self.dataChanged.emit(self.index(at, span[0]), self.index(at, span[1]))

    # ------------------------------------------------------------------ internals

    def _remove_missing(self, wanted: dict[Hashable, Row]) -> None:
        doomed = [i for i, r in enumerate(self._rows) if r.key not in wanted]
        if not doomed:
            return
        # Walk runs of consecutive rows from the bottom so earlier row numbers stay valid.
        end = doomed[-1]
        start = end
        for i in reversed(doomed[:-1]):
            if i == start - 1:
                start = i
                continue
            self._remove_block(start, end)
            start = end = i
        self._remove_block(start, end)
        self._reindex()

    def _remove_block(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)
        del self._rows[first : last + 1]
        self.endRemoveRows()

    def _insert_new(self, rows: Sequence[Row]) -> None:
        position = 0
        pending: list[Row] = []
        for row in rows:
            if row.key in self._row_of:
                if pending:
                    self._insert_block(position, pending)
                    position += len(pending)
                    pending = []
                position += 1
            else:
                pending.append(row)
        if pending:
            self._insert_block(position, pending)

    def _insert_block(self, first: int, block: list[Row]) -> None:
        self.beginInsertRows(QModelIndex(), first, first + len(block) - 1)
        self._rows[first:first] = block
        for i in range(first, len(self._rows)):
            self._row_of[self._rows[i].key] = i
        self.endInsertRows()

    def _update_changed(self, rows: Sequence[Row]) -> None:
        width = len(self._headers)
        for i, new in enumerate(rows):
            old = self._rows[i]
            if old is new or old.looks_like(new):
                self._rows[i] = new
                continue
            self._rows[i] = new
            span = _changed_columns(old, new, width)
            if span is not None:
                self.dataChanged.emit(self.index(i, span[0]), self.index(i, span[1]))

    def _reorder(self, keys: Sequence[Hashable]) -> None:
        """A re-sort of the surviving rows: persistent indexes (selection) move with their keys."""
        self.layoutAboutToBeChanged.emit()
        old_keys = self.keys()
        self._rows = [self._rows[self._row_of[k]] for k in keys]
        self._reindex()
        moved_from: list[QModelIndex] = []
        moved_to: list[QModelIndex] = []
        for persistent in self.persistentIndexList():
            key = old_keys[persistent.row()] if persistent.row() < len(old_keys) else None
            target = self._row_of.get(key) if key is not None else None
            moved_from.append(persistent)
            moved_to.append(QModelIndex() if target is None
                            else self.index(target, persistent.column()))
        self.changePersistentIndexList(moved_from, moved_to)
        self.layoutChanged.emit()

    def _reindex(self) -> None:
        self._row_of = {r.key: i for i, r in enumerate(self._rows)}


def read_only_table(model: QAbstractTableModel, parent: QWidget, *,
                    alternating: bool = True, view: QTableView | None = None) -> QTableView:
    """A list view as the terminal shows its tables: whole rows selected, nothing editable,
    no grid, no row numbers, one line a row sized to the font (``view``: a subclass to set
    up instead of a plain ``QTableView``)."""
    view = view if view is not None else QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(alternating)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(parent.fontMetrics().height() + 6)
    return view
