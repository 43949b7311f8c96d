"""The Clusters table: one row per cluster, and every manual override of the engine.

Rows are keyed by cluster name and updated in place from the engine's snapshot; the
columns are sized once.  Commands that trade (close basket, open by hand) ask to confirm;
the confirmation and the threshold dialog go through overridable methods so tests can
answer them.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd

COLUMNS = ("Cluster", "Symbols", "TDI", "State", "Basket", "P&L", "Net ccy", "News until",
           "Gap", "E", "X")
#: The column of the open basket's net exposure to the cluster's numeraire.
NET_COLUMN = 6
STATE_COLOURS = {"ACTIVE": "#1b7f3b", "CLOSE_ONLY": "#b26a00", "HALTED": "#c62828"}


def tdi_colour(tdi: float, entry: float) -> QColor | None:
    """Colour by distance to E: grey near zero, amber approaching, red/green beyond."""
    if not math.isfinite(tdi) or entry <= 0:
        return None
    x = abs(tdi) / entry
    if x >= 1.0:
        return QColor("#c62828") if tdi > 0 else QColor("#1565c0")
    if x >= 0.75:
        return QColor("#b26a00")
    return QColor("#5f6368")


Index = QModelIndex | QPersistentModelIndex


def net_numeraire_text(v: Any) -> str:
    """``USD +1.24%``: the open basket's net exposure to the numeraire, share of gross."""
    share = getattr(v, "net_numeraire_share", math.nan)
    if not v.basket_id or not getattr(v, "numeraire", "") or not math.isfinite(share):
        return ""
    return f"{v.numeraire} {share:+.2%}"


def net_numeraire_tip(v: Any) -> str:
    """What the Net ccy cell means, with the amount."""
    numeraire = getattr(v, "numeraire", "")
    if not numeraire:
        return "no currency common to every symbol: no numeraire"
    text = net_numeraire_text(v)
    if not text:
        return f"numeraire {numeraire}; no open basket"
    return (f"net exposure of the open basket to {numeraire}, valued now: "
            f"{v.net_numeraire:+,.2f} in the account currency, {v.net_numeraire_share:+.2%} "
            f"of the legs' gross notional (+ long {numeraire})")


class ClustersModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Any] = []  # ClusterView, in engine order

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def view(self, row: int) -> Any:
        return self._rows[row]

    def names(self) -> list[str]:
        return [v.name for v in self._rows]

    def update(self, views: tuple[Any, ...]) -> None:
        """In place: rows are added only when the cluster list changes."""
        if [v.name for v in views] != self.names():
            self.beginResetModel()
            self._rows = list(views)
            self.endResetModel()
            return
        changed = [i for i, (a, b) in enumerate(zip(self._rows, views, strict=True)) if a != b]
        self._rows = list(views)
        for i in changed:
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        v = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(v, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                c = tdi_colour(v.tdi, v.entry)
                return QBrush(c) if c else None
            if col == 3:
                return QBrush(QColor(STATE_COLOURS.get(v.state, "#000")))
            if col == 5 and v.basket_id:
                return QBrush(QColor("#1b7f3b" if v.pnl >= 0 else "#c62828"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 5, 6, 8, 9, 10):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 3 and v.reason:
            return v.reason
        if role == Qt.ItemDataRole.ToolTipRole and col == 1:
            return " ".join(v.symbols)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and v.basket_id:
            return v.basket_id
        if role == Qt.ItemDataRole.ToolTipRole and col == NET_COLUMN:
            return net_numeraire_tip(v)
        return None

    @staticmethod
    def _text(v: Any, col: int) -> str:
        if col == 0:
            return v.name
        if col == 1:
            return " ".join(v.symbols)
        if col == 2:
            return f"{v.tdi:+.2f}" if math.isfinite(v.tdi) else "warming up"
        if col == 3:
            return v.state + (f" ({v.reason})" if v.reason and v.state != "ACTIVE" else "")
        if col == 4:
            return v.direction if v.basket_id else ""
        if col == 5:
            return f"{v.pnl:+,.2f}" if v.basket_id else ""
        if col == NET_COLUMN:
            return net_numeraire_text(v)
        if col == 7:
            return f"{v.blackout_until:%a %H:%M} UTC" if v.blackout_until else ""
        if col == 8:
            return f"{v.eigengap:.2f}" if math.isfinite(v.eigengap) else ""
        if col == 9:
            return f"{v.entry:.2f}"
        return f"{v.exit_band:.2f}"


class ClustersPanel(QWidget):
    """The table plus the command buttons; emits engine commands."""

    command = Signal(object)  # an engine.commands.Command
    selected = Signal(str)  # cluster name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ClustersModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._sized = False
        buttons = QHBoxLayout()
        self.actions: dict[str, QAction] = {}
        for key, label in (("pause", "Pause"), ("halt", "Halt"), ("resume", "Resume"),
                           ("close", "Close basket"), ("long", "Open long"),
                           ("short", "Open short"), ("thresholds", "Edit E/X")):
            action = QAction(label, self)
            action.triggered.connect(lambda _=False, k=key: self.trigger(k))
            self.actions[key] = action
            button = QPushButton(label)
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def update_clusters(self, views: tuple[Any, ...]) -> None:
        self.model.update(views)
        if not self._sized and views:
            header = self.table.horizontalHeader()
            for col in range(len(COLUMNS)):
                if col != 1:
                    self.table.setColumnWidth(col, max(self.table.sizeHintForColumn(col),
                                                       header.sectionSizeHint(col)) + 6)
            widths = {2: 58, 4: 58, 5: 72, NET_COLUMN: 90}  # room for live values
            for col, width in widths.items():
                self.table.setColumnWidth(col, max(self.table.columnWidth(col), width))
            # the symbols take what is left (full list in the tooltip)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
            self._sized = True
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)

    def current(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.view(rows[0].row()).name

    def select(self, name: str) -> None:
        if name in self.model.names():
            self.table.selectRow(self.model.names().index(name))

    def _on_selection(self, *_args: object) -> None:
        name = self.current()
        if name:
            self.selected.emit(name)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        for action in self.actions.values():
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # -- the dialogs (overridable for tests) --------------------------------------------------

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_thresholds(self, entry: float, exit_band: float) -> tuple[float, float] | None:
        e, ok = QInputDialog.getDouble(self, "Entry threshold", "E (enter beyond |TDI| > E):",
                                       entry, 0.05, 10.0, 2)
        if not ok:
            return None
        x, ok = QInputDialog.getDouble(self, "Exit band", "X (exit when |TDI| < X):",
                                       exit_band, 0.01, 10.0, 2)
        return (e, x) if ok else None

    def trigger(self, key: str) -> None:
        name = self.current()
        if name is None:
            return
        view = self.model.view(self.model.names().index(name))
        command: cmd.Command | None = None
        if key == "pause":
            command = cmd.PauseCluster(cluster=name, source="gui")
        elif key == "halt":
            command = cmd.HaltCluster(cluster=name, source="gui")
        elif key == "resume":
            command = cmd.ResumeCluster(cluster=name, source="gui")
        elif key == "close":
            if view.basket_id and self.confirm("Close basket",
                                               f"Close {view.basket_id} of {name} at market?"):
                command = cmd.CloseBasket(cluster=name, source="gui")
        elif key in ("long", "short"):
            direction = key.upper()
            if self.confirm("Open basket", f"Open a {direction} {name} basket at market?"):
                command = cmd.OpenBasket(cluster=name, direction=direction, source="gui")
        elif key == "thresholds":
            answer = self.ask_thresholds(view.entry, view.exit_band)
            if answer is not None:
                command = cmd.SetThresholds(cluster=name, entry=answer[0], exit_band=answer[1],
                                            source="gui")
        if command is not None:
            self.command.emit(command)
