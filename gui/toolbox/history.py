"""The Toolbox History tab: closed baskets from the journal, filtered, exported, summarised.

The trader judges the engine by baskets, not legs, so the history lists one row per closed
basket and the summary line uses the same definitions as the backtest report
(``engine.metrics.basket_metrics``): the console and the report never disagree on a win rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.console import write_export_csv
from engine.metrics import BasketMetrics, basket_metrics
from engine.model import ExitCode
from engine.records import BasketRecord, HistoryFilter
from gui.plain_text import plain_label
from gui.toolbox.format import (
    ERROR_TEXT,
    MISSING,
    figures_font,
    format_money,
    money_colour,
    utc_stamp,
)
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

HEADERS = ("Basket", "Cluster", "Direction", "Opened (UTC)", "Closed (UTC)", "Hours",
           "Exit", "Entry TDI", "Exit TDI", "Costs", "P&L")
NUMERIC_COLUMNS = (5, 7, 8, 9, 10)
PNL_COLUMN = 10
ALL = "All"
#: QDateEdit cannot be empty: its minimum date stands for "no bound" and reads "Any".
NO_DATE = QDate(2000, 1, 1)
CSV_FIELDS = ("basket_id", "cluster", "direction", "opened_at", "closed_at", "holding_hours",
              "exit_code", "entry_tdi", "exit_tdi", "costs", "pnl", "detail", "run_id", "magic")


class HistoryReader(Protocol):
    """The journal query the tab needs (``storage.journal.SqliteJournal`` answers it)."""

    def basket_history(self, where: HistoryFilter | None = None) -> list[BasketRecord]: ...


def _holding_hours(record: BasketRecord) -> float:
    if record.closing is None:
        return math.nan
    return (record.closing.closed_at - record.opening.opened_at).total_seconds() / 3600.0


def _number(value: float, digits: int) -> str:
    return MISSING if not math.isfinite(value) else f"{value:.{digits}f}"


def summary_text(metrics: BasketMetrics) -> str:
    """The metrics line under the table (undefined figures shown as a dash)."""
    win_rate = MISSING if math.isnan(metrics.win_rate) else f"{metrics.win_rate:.1%}"
    pf = metrics.profit_factor
    profit_factor = "∞" if math.isinf(pf) else _number(pf, 2)
    return (f"Baskets: {metrics.baskets}   Win rate: {win_rate}   "
            f"Profit factor: {profit_factor}   "
            f"Net P&L: {format_money(metrics.net_pnl, signed=True)}   "
            f"Avg holding: {_number(metrics.average_holding_hours, 1)} h")


def write_history_csv(records: Iterable[BasketRecord], path: Path) -> int:
    """Write the rows as shown (UTC ISO times, P&L net of costs); return the row count.

    Through the one CSV writer of every export (``app.console.write_export_csv``): written
    to a temporary file and renamed, so a failed export never leaves half a file where an
    older complete one was, and a cluster name, comment or detail that a spreadsheet would
    run as a formula is written as text (numbers stay numbers).
    """
    return write_export_csv(path, CSV_FIELDS, _history_rows(records))


def _history_rows(records: Iterable[BasketRecord]) -> Iterator[list[object]]:
    for record in records:
        opening, closing = record.opening, record.closing
        if closing is None:
            continue
        yield [
            opening.basket_id, opening.cluster, opening.direction.value,
            opening.opened_at.isoformat(), closing.closed_at.isoformat(),
            f"{_holding_hours(record):.4f}", closing.exit_code.value,
            repr(opening.entry_tdi), repr(closing.exit_tdi), repr(closing.costs),
            repr(closing.pnl), closing.detail, opening.run_id, opening.magic,
        ]


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(NO_DATE)
    return edit


def _day_start(value: QDate) -> datetime:
    return datetime.combine(date(value.year(), value.month(), value.day()), time(), UTC)


class HistoryTab(QWidget):
    """Closed baskets matching the filters; ``refresh()`` re-reads the journal.

    The main window calls ``refresh_when_shown()`` when a basket closes: while the tab is
    hidden behind another the re-read waits until it is shown (a fast replay closes baskets
    several times a second, and each re-read is a journal query and a table rebuild).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stale = False
        #: Journal re-reads so far (the tests count them).
        self.refreshes = 0
        self._reader: HistoryReader | None = None
        self._records: list[BasketRecord] = []
        self._clusters: set[str] = set()
        self._sized = False

        self.cluster_combo = QComboBox()
        self.cluster_combo.addItem(ALL)
        self.cluster_combo.setMinimumContentsLength(8)
        self.from_date = _date_edit()
        self.to_date = _date_edit()
        self.exit_combo = QComboBox()
        self.exit_combo.addItems([ALL, *(code.value for code in ExitCode)])
        self.refresh_button = QPushButton("Refresh")
        self.export_button = QPushButton("Export CSV...")
        self.status = plain_label()  # export outcomes: paths, errors
        self.summary = plain_label()  # journal figures, or why there are none
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = KeyedTableModel(HEADERS, NUMERIC_COLUMNS, figures_font(self.font()), self)
        self.view = read_only_table(self.model, self)

        filters = QHBoxLayout()
        filters.setContentsMargins(4, 4, 4, 2)
        for label, widget in (("Cluster", self.cluster_combo), ("From", self.from_date),
                              ("To", self.to_date), ("Exit", self.exit_combo)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
            filters.addSpacing(8)
        filters.addWidget(self.refresh_button)
        filters.addStretch(1)
        filters.addWidget(self.status)
        filters.addWidget(self.export_button)
        footer = QHBoxLayout()
        footer.setContentsMargins(4, 2, 4, 2)
        footer.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(footer)

        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export_csv)
        self.cluster_combo.currentIndexChanged.connect(self.refresh)
        self.exit_combo.currentIndexChanged.connect(self.refresh)
        self.from_date.dateChanged.connect(self.refresh)
        self.to_date.dateChanged.connect(self.refresh)
        self._set_enabled()
        self._show_summary()
        self._size_columns()  # to the headers until the first rows arrive
        self._sized = False

    # ------------------------------------------------------------------ feeding

    def set_journal_reader(self, reader: HistoryReader | None) -> None:
        """Read history from ``reader`` (None: no journal open) and show it."""
        self._reader = reader
        self._set_enabled()
        self.refresh()

    def current_filter(self) -> HistoryFilter:
        """The filter the widgets describe; dates are whole UTC days, both ends inclusive."""
        cluster = self.cluster_combo.currentText()
        exit_code = self.exit_combo.currentText()
        since = until = None
        if self.from_date.date() != NO_DATE:
            since = _day_start(self.from_date.date())
        if self.to_date.date() != NO_DATE:
            until = _day_start(self.to_date.date()) + timedelta(days=1, microseconds=-1000)
        return HistoryFilter(
            cluster=None if cluster == ALL else cluster,
            since=since,
            until=until,
            exit_code=None if exit_code == ALL else ExitCode(exit_code),
        )

    def records(self) -> list[BasketRecord]:
        """The closed baskets currently listed (what Export writes)."""
        return list(self._records)

    def refresh_when_shown(self) -> None:
        """``refresh()`` now if the tab is in view, else when it is next shown."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Re-read the journal with the current filters; a read error is one status line."""
        self._stale = False
        self.refreshes += 1
        if self._reader is None:
            self._records = []
            self.model.set_rows([])
            self._show_summary()
            return
        try:
            records = self._reader.basket_history(self.current_filter())
        except Exception as exc:
            self._show_status(f"Cannot read the journal: {_one_line(exc)}", error=True)
            return
        self._records = [r for r in records if r.closing is not None]
        self._add_clusters(r.opening.cluster for r in self._records)
        self.model.set_rows([self._row(r) for r in reversed(self._records)])
        if not self._sized and self._records:
            self._size_columns()
        self._show_summary()
        self._show_status("")

    def ask_save_path(self) -> Path | None:
        """Where to export (tests replace this to skip the dialog)."""
        name, _ = QFileDialog.getSaveFileName(self, "Export history", "history.csv",
                                              "CSV files (*.csv)")
        return Path(name) if name else None

    def export_csv(self) -> int | None:
        """Write the listed baskets to a CSV file; returns the row count (None: cancelled
        or failed, with the reason in the status line)."""
        path = self.ask_save_path()
        if path is None:
            return None
        try:
            count = write_history_csv(self._records, path)
        except OSError as exc:
            self._show_status(f"Export failed: {_one_line(exc)}", error=True)
            return None
        self._show_status(f"Exported {count} baskets to {path.name}")
        return count

    # ------------------------------------------------------------------ internals

    def _row(self, record: BasketRecord) -> Row:
        opening, closing = record.opening, record.closing
        assert closing is not None
        return Row(
            key=opening.basket_id,
            cells=(opening.basket_id, opening.cluster, opening.direction.value,
                   utc_stamp(opening.opened_at), utc_stamp(closing.closed_at),
                   _number(_holding_hours(record), 1), closing.exit_code.value,
                   _number(opening.entry_tdi, 2), _number(closing.exit_tdi, 2),
                   format_money(closing.costs), format_money(closing.pnl)),
            foreground=(*([None] * PNL_COLUMN), money_colour(closing.pnl)),
            payload=record,
        )

    def _add_clusters(self, clusters: Iterable[str]) -> None:
        new = set(clusters) - self._clusters
        if not new:
            return
        self._clusters |= new
        current = self.cluster_combo.currentText()
        self.cluster_combo.blockSignals(True)
        self.cluster_combo.clear()
        self.cluster_combo.addItems([ALL, *sorted(self._clusters)])
        self.cluster_combo.setCurrentText(current)
        self.cluster_combo.blockSignals(False)

    def _show_summary(self) -> None:
        try:
            text = summary_text(basket_metrics(self._records))
        except ValueError as exc:  # a journaled basket the metrics refuse (exit before entry)
            text = f"No summary: {_one_line(exc)}"
        self.summary.setText(text)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        colour = ERROR_TEXT.name() if error else "#404040"
        self.status.setStyleSheet(f"color: {colour}")
        self.status.setText(text)

    def _set_enabled(self) -> None:
        enabled = self._reader is not None
        for widget in (self.refresh_button, self.export_button, self.cluster_combo,
                       self.from_date, self.to_date, self.exit_combo):
            widget.setEnabled(enabled)
        if not enabled:
            self._show_status("No journal open")

    def _size_columns(self) -> None:
        """Every column but the basket id fits its contents; the basket id takes what is
        left and is elided in the middle (its cluster has a column of its own), so the P&L,
        the last column, stays on screen in a 1000-pixel Toolbox."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for column in range(len(HEADERS)):
            header.resizeSection(column, header.sectionSize(column) + 12)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._sized = True


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

