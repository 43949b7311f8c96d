"""The Toolbox Journal tab: the engine's log lines and the trader's command audit trail.

The log is append-only and bounded: it keeps the last ``max_lines`` lines (5,000 by default)
so a console left running for weeks does not grow without limit; the journal database keeps
the full record.  Lines arrive one by one, so the model inserts at the bottom and drops from
the top instead of rebuilding anything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.records import ManualCommand
from gui.plain_text import plain_tip
from gui.toolbox.format import ERROR_TEXT, WARNING_TEXT, figures_font
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

Index = QModelIndex | QPersistentModelIndex

MAX_LOG_LINES = 5_000
#: The market time of a line (the engine's clock: virtual in demo and replay) and, last,
#: the wall-clock time the console received it: one "Time" column mixed the two.
LOG_HEADERS = ("Market time (UTC)", "Level", "Message", "Wall clock (UTC)")
AUDIT_HEADERS = ("Market time (UTC)", "Source", "Command", "Arguments", "Result")
MESSAGE_COLUMN = 2
AUDIT_COMMAND_COLUMN = 2
PENDING = "pending"

_LEVEL_COLOURS: dict[str, QColor] = {
    "WARNING": WARNING_TEXT,
    "ERROR": ERROR_TEXT,
    "CRITICAL": ERROR_TEXT,
}


def _log_time(value: datetime) -> str:
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _wall_time(value: datetime) -> str:
    """When the console received a line: the time of day is what a trader compares."""
    return value.astimezone(UTC).strftime("%H:%M:%S") if value.tzinfo else \
        value.strftime("%H:%M:%S")


def format_arguments(arguments: Mapping[str, Any]) -> str:
    """``key=value`` pairs in the order given: compact enough for one table cell."""
    return ", ".join(f"{key}={value}" for key, value in arguments.items())


class LogModel(QAbstractTableModel):
    """The last ``max_lines`` log lines, oldest first."""

    def __init__(self, max_lines: int = MAX_LOG_LINES, font: QFont | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if max_lines < 1:
            raise ValueError(f"max_lines must be >= 1, got {max_lines}")
        self.max_lines = max_lines
        self._font = font
        self._lines: deque[tuple[str, str, str, str]] = deque()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LOG_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return LOG_HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        line = self._lines[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return line[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == MESSAGE_COLUMN:
            # the whole line, however narrow the column, shown literally (log text is data)
            return plain_tip(line[MESSAGE_COLUMN])
        if role == Qt.ItemDataRole.ForegroundRole:
            return _LEVEL_COLOURS.get(line[1])
        if role == Qt.ItemDataRole.FontRole and index.column() in (0, 3):
            return self._font
        return None

    def line(self, row: int) -> tuple[str, str, str, str]:
        return self._lines[row]

    def append(self, when: datetime, level: str, text: str,
               received: datetime | None = None) -> None:
        """Add a line at the bottom (``when``: market time; ``received``: wall clock, now
        by default); drop the oldest once over ``max_lines``."""
        row = len(self._lines)
        wall = received if received is not None else datetime.now(UTC)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.append((_log_time(when), level.upper(), text, _wall_time(wall)))
        self.endInsertRows()
        excess = len(self._lines) - self.max_lines
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            for _ in range(excess):
                self._lines.popleft()
            self.endRemoveRows()


def _table(model: QAbstractTableModel, parent: QWidget) -> QTableView:
    view = read_only_table(model, parent, alternating=False)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _titled(title: str, view: QTableView) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 2, 0, 0)
    layout.setSpacing(2)
    label = QLabel(f"<b>{title}</b>")
    layout.addWidget(label)
    layout.addWidget(view, 1)
    return box


class JournalTab(QWidget):
    """Engine log on the left, audit trail of manual commands on the right: side by side,
    each gets the Toolbox's whole height (stacked, the log was three rows tall)."""

    def __init__(self, max_lines: int = MAX_LOG_LINES, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = figures_font(self.font())
        self.log_model = LogModel(max_lines, font, self)
        self.log_view = _table(self.log_model, self)
        self.audit_model = KeyedTableModel(AUDIT_HEADERS, (), font, self)
        self.audit_view = _table(self.audit_model, self)
        self._audit_sized = False
        stamp = self.fontMetrics().horizontalAdvance("0000-00-00 00:00:00") + 24
        header = self.log_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.resizeSection(0, stamp)
        header.resizeSection(1, self.fontMetrics().horizontalAdvance("WARNING") + 24)
        header.resizeSection(3, self.fontMetrics().horizontalAdvance("Wall clock (UTC)") + 24)
        header.setSectionResizeMode(MESSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.log_view.setWordWrap(False)
        audit = self.audit_view.horizontalHeader()
        audit.resizeSection(0, stamp)
        # a command name is never cut: the column grows with the longest one listed
        audit.setSectionResizeMode(AUDIT_COMMAND_COLUMN,
                                   QHeaderView.ResizeMode.ResizeToContents)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(_titled("Engine log", self.log_view))
        splitter.addWidget(_titled("Audit trail", self.audit_view))
        splitter.setStretchFactor(0, 7)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([700, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def append_log(self, time: datetime, level: str, text: str,
                   received: datetime | None = None) -> None:
        """Add a log line at market ``time``; the view follows the bottom unless scrolled
        up."""
        bar = self.log_view.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2
        self.log_model.append(time, level, text, received)
        if following:
            self.log_view.scrollToBottom()

    def set_audit(self, commands: Sequence[ManualCommand]) -> None:
        """Show the audit trail (oldest first), updating rows whose result came in."""
        self.audit_model.set_rows([_audit_row(c) for c in commands])
        if not self._audit_sized and commands:
            self.audit_view.resizeColumnsToContents()
            header = self.audit_view.horizontalHeader()
            header.setSectionResizeMode(AUDIT_COMMAND_COLUMN,
                                        QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
            self._audit_sized = True


def _audit_row(command: ManualCommand) -> Row:
    """The engine journals results as ``ok: ...`` or ``failed: ...``; failures read red and
    a command still waiting for its result reads amber."""
    result = PENDING if command.result is None else command.result
    colour = None
    if command.result is None:
        colour = WARNING_TEXT
    elif command.result.lower().startswith(("failed", "rejected")):
        colour = ERROR_TEXT
    return Row(
        key=command.command_id,
        cells=(_log_time(command.time), command.source, command.command,
               format_arguments(command.arguments), result),
        foreground=(None, None, None, None, colour),
        payload=command,
    )
