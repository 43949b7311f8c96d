"""The Clusters table: one row per cluster, and every manual override of the engine.

Rows are keyed by cluster name and updated in place from the engine's snapshot; the
columns are sized once.  The State column shows the *effective* state (a halted account
makes every cluster read HALTED; the cluster's own setting is in the tooltip), the P&L
column one labelled definition.  Closing a basket asks to confirm (default No); opening
one by hand is previewed by the window; the confirmation and the threshold dialog go
through overridable methods so tests can answer them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd
from gui.dialogs.confirmations import ask
from gui.dialogs.thresholds import ThresholdsDialog
from gui.kind_columns import score_name, score_text, signal_text, signal_tip
from gui.plain_text import plain_tip

COLUMNS = ("Cluster", "Symbols", "Score", "State", "Basket", "P&L (net)", "Net ccy",
           "News until", "Signal", "E", "X")
#: What a column's figure is: its header tooltip (one definition per column).
HEADER_TIPS = {
    2: "The cluster's score at the last signal bar, what E and X apply to: the TDI of a tdi "
       "cluster, the spread's z-score of a pair (z), the correlation z statistic of a "
       "regime cluster (corr z)",
    3: "The state the cluster trades under: the stricter of the account's state and the "
       "cluster's own setting (its own setting is in the cell's tooltip)",
    5: "Net P&L of the open basket: the legs' price profit (the Trade tab's Profit) + swap + "
       "commission paid + the commission still due to close. What closing now would book, "
       "and the figure the basket's take-profit and hard stop compare",
    8: "The kind's key diagnostics: the TDI's eigengap; a pair's Engle-Granger p-value and "
       "half-life (bars); a regime's fast and slow correlation and state; or the code of "
       "the lock that keeps automatic entries out (the tooltip has every figure)",
}
#: What each button does, and what Pause and Halt block.
ACTION_TIPS = {
    "pause": "Pause (CLOSE_ONLY): blocks new baskets on this cluster, automatic and by hand; "
             "an open basket keeps all its exits",
    "halt": "Halt (HALTED): blocks new baskets on this cluster, automatic and by hand, until "
            "you resume it; an open basket stays until its exits or you close it",
    "resume": "Resume: clears this cluster's own pause or halt (an account halt stays until "
              "the account is re-armed)",
    "close": "Close this cluster's open basket at market",
    "long": "Preview and open a LONG basket by hand",
    "short": "Preview and open a SHORT basket by hand",
    "thresholds": "Edit this cluster's entry threshold E and exit band X",
}
#: The column of the open basket's net exposure to the cluster's numeraire.
NET_COLUMN = 6
STATE_COLOURS = {"ACTIVE": "#1b7f3b", "CLOSE_ONLY": "#b26a00", "HALTED": "#c62828"}
#: A restricted state also tints its cell, so a halted table reads as one at a glance.
STATE_BACKGROUNDS = {"CLOSE_ONLY": "#fff4e0", "HALTED": "#fde7e7"}


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


def applicable(v: Any) -> frozenset[str]:
    """The actions that apply to a cluster as the engine shows it: no Pause on a paused
    cluster, no Resume on one the trader did not pause or halt, no Close without a basket,
    no Open with a basket, while the cluster may not open one, or on a cluster that only
    watches (a regime with ``action = "lock"`` opens no basket)."""
    own = getattr(v, "own_state", v.state)
    keys = {"thresholds"}
    if own == "ACTIVE":
        keys.add("pause")
    if own != "HALTED":
        keys.add("halt")
    if own != "ACTIVE":
        keys.add("resume")
    if v.basket_id:
        keys.add("close")
    elif v.state == "ACTIVE" and math.isfinite(v.tdi) and getattr(v, "trades", True):
        keys |= {"long", "short"}
    return frozenset(keys)


def state_text(v: Any) -> str:
    """The bare state when the account's state rules the cluster (the banner says why, the
    tooltip adds the cluster's own setting), else the cluster's own state with its reason
    code (``CLOSE_ONLY (CLUSTER_DAILY_LOSS)``)."""
    if v.state == "ACTIVE" or v.reason.startswith("account "):
        return v.state
    code = v.reason.split(":")[0].strip()
    return f"{v.state} ({code})" if code else v.state


def state_tip(v: Any) -> str:
    """The effective state's reason, and the cluster's own setting underneath it."""
    own, own_reason = getattr(v, "own_state", v.state), getattr(v, "own_reason", v.reason)
    lines = [f"{v.state}: {v.reason}" if v.reason else v.state]
    if own != v.state or own_reason != v.reason:
        lines.append(f"cluster's own setting: {own}" + (f" ({own_reason})" if own_reason
                                                          else ""))
    return "\n".join(lines)


def pnl_tip(v: Any) -> str:
    """The net P&L's parts, so the figure can be recomputed from what the console shows."""
    profit, paid, to_close = (getattr(v, k, 0.0) for k in ("profit", "paid", "to_close"))
    realised = v.pnl - profit - paid - to_close
    text = (f"P&L (net) {v.pnl:+,.2f} = Profit {profit:+,.2f} + swap and commission paid "
            f"{paid:+,.2f} + commission to close {to_close:+,.2f}")
    if abs(realised) >= 0.005:
        text += f" + closed legs {realised:+,.2f}"
    return text


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
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
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
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 5, 6, 9, 10):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = self._tip(v, col)  # names, symbols, reasons: data, shown literally
            return plain_tip(tip) if tip else None
        if role == Qt.ItemDataRole.BackgroundRole and col == 3 and v.state in STATE_BACKGROUNDS:
            return QBrush(QColor(STATE_BACKGROUNDS[v.state]))
        return None

    @staticmethod
    def _tip(v: Any, col: int) -> str | None:
        if col == 3:
            return state_tip(v)
        if col == 5 and v.basket_id:
            return pnl_tip(v)
        if col in (0, 1):
            return " ".join(v.symbols)
        if col == 4 and v.basket_id:
            return v.basket_id
        if col == NET_COLUMN:
            return net_numeraire_tip(v)
        if col in (2, 8):
            return signal_tip(v)
        return None

    @staticmethod
    def _text(v: Any, col: int) -> str:
        if col == 0:
            return v.name
        if col == 1:
            return " ".join(v.symbols)
        if col == 2:
            return score_text(v)
        if col == 3:
            return state_text(v)
        if col == 4:
            return v.direction if v.basket_id else ""
        if col == 5:
            return f"{v.pnl:+,.2f}" if v.basket_id else ""
        if col == NET_COLUMN:
            return net_numeraire_text(v)
        if col == 7:
            return f"{v.blackout_until:%a %H:%M} UTC" if v.blackout_until else ""
        if col == 8:
            return signal_text(v)
        if col == 9:
            return f"{v.entry:.2f}"
        return f"{v.exit_band:.2f}"


class ClustersPanel(QWidget):
    """The table plus the command buttons; emits engine commands.

    Opening a basket by hand is a request (``openRequested``): the window previews it
    (``gui.dialogs.basket_preview``) before anything is sent.  Buttons and the context menu
    offer only what applies to the selected cluster (``applicable``).
    """

    command = Signal(object)  # an engine.commands.Command
    selected = Signal(str)  # cluster name
    openRequested = Signal(str, str)  # cluster, "LONG" or "SHORT"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: Holds a demo or replay clock around a confirmation (the window sets it).
        self.hold_clock: Callable[[], AbstractContextManager[Any]] = nullcontext
        self.model = ClustersModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        # one text line a row, so every cluster fits the dock at 1600x900; the members are
        # in the chart's header and in the Cluster cell's tooltip, not a squeezed column
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8)
        self.table.setColumnHidden(COLUMNS.index("Symbols"), True)
        # the kind's signal next to its score and state, where a narrow dock still shows it
        # (a visual move: the model's columns keep their order)
        header = self.table.horizontalHeader()
        header.moveSection(header.visualIndex(COLUMNS.index("Signal")),
                           header.visualIndex(COLUMNS.index("Basket")))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._sized = False
        #: A cluster's TDI stop (the bound E must stay under), for the E/X dialog; the
        #: window sets it from the engine's cluster descriptions.
        self.tdi_stop_of: Callable[[str], float | None] = lambda _name: None
        buttons = QHBoxLayout()
        self.actions: dict[str, QAction] = {}
        for key, label in (("pause", "Pause"), ("halt", "Halt"), ("resume", "Resume"),
                           ("close", "Close basket"), ("long", "Open long"),
                           ("short", "Open short"), ("thresholds", "Edit E/X")):
            action = QAction(label, self)
            action.setToolTip(ACTION_TIPS[key])
            action.triggered.connect(lambda _=False, k=key: self.trigger(k))
            self.actions[key] = action
            button = QPushButton(label)
            button.setToolTip(ACTION_TIPS[key])
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._enable_actions()

    def update_clusters(self, views: tuple[Any, ...]) -> None:
        self.model.update(views)
        if not self._sized and views:
            header = self.table.horizontalHeader()
            for col in range(len(COLUMNS)):
                if col != 1:
                    self.table.setColumnWidth(col, max(self.table.sizeHintForColumn(col),
                                                       header.sectionSizeHint(col)) + 6)
            # room for live values: a state that may become CLOSE_ONLY; with other kinds than
            # the TDI, a regime's pause and their longer signal text (the TDI's is a number)
            text = self.table.fontMetrics().horizontalAdvance
            widths = {2: 58, 3: text("CLOSE_ONLY") + 16, 4: 58, 5: 78, NET_COLUMN: 90}
            if any(getattr(v, "kind", "tdi") != "tdi" for v in views):
                widths |= {3: text("CLOSE_ONLY (REGIME)") + 16,
                           8: text("ρ -0.86 · slow -0.74 · broken 12") + 12}
            for col, width in widths.items():
                self.table.setColumnWidth(col, max(self.table.columnWidth(col), width))
            # the symbols take what is left (full list in the tooltip)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
            self._sized = True
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)
        self._enable_actions()

    def current(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.view(rows[0].row()).name

    def current_view(self) -> Any | None:
        name = self.current()
        return None if name is None else self.model.view(self.model.names().index(name))

    def select(self, name: str) -> None:
        if name in self.model.names():
            self.table.selectRow(self.model.names().index(name))

    def _on_selection(self, *_args: object) -> None:
        self._enable_actions()
        name = self.current()
        if name:
            self.selected.emit(name)

    def _enable_actions(self) -> None:
        view = self.current_view()
        allowed = applicable(view) if view is not None else frozenset()
        for key, action in self.actions.items():
            action.setEnabled(key in allowed)

    def _context_menu(self, pos: Any) -> None:
        self._enable_actions()
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for action in self.actions.values():
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # -- the dialogs (overridable for tests) --------------------------------------------------

    def confirm(self, title: str, text: str) -> bool:
        return ask(self, title, text)

    def _confirmed(self, title: str, text: str) -> bool:
        """``confirm`` with the simulated clock held while the trader decides (the window
        sets ``hold_clock``: ``RiskControls.hold_clock``), so the P&L in the question is
        the one the close meets."""
        with self.hold_clock():
            return self.confirm(title, text)

    def ask_thresholds(self, name: str, entry: float,
                       exit_band: float) -> tuple[float, float] | None:
        view = self.current_view()
        score = score_name(view) if view is not None and view.name == name else "TDI"
        dialog = ThresholdsDialog(name, entry, exit_band, self.tdi_stop_of(name), self,
                                  score=score)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def trigger(self, key: str) -> None:
        view = self.current_view()
        if view is None or not self.actions[key].isEnabled():
            return
        name = view.name
        command: cmd.Command | None = None
        if key == "pause":
            command = cmd.PauseCluster(cluster=name, source="gui")
        elif key == "halt":
            command = cmd.HaltCluster(cluster=name, source="gui")
        elif key == "resume":
            command = cmd.ResumeCluster(cluster=name, source="gui")
        elif key == "close":
            if self._confirmed("Close basket", f"Close {view.basket_id} of {name} at market?\n"
                                               f"P&L (net) now {view.pnl:+,.2f}"):
                command = cmd.CloseBasket(cluster=name, source="gui")
        elif key in ("long", "short"):
            self.openRequested.emit(name, key.upper())
        elif key == "thresholds":
            answer = self.ask_thresholds(name, view.entry, view.exit_band)
            if answer is not None:
                command = cmd.SetThresholds(cluster=name, entry=answer[0], exit_band=answer[1],
                                            source="gui")
        if command is not None:
            self.command.emit(command)
