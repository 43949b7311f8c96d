"""The Toolbox Calendar tab: economic events, each cluster's news blackouts, and import.

The trader needs to see why a cluster is standing aside ("NFP in 20 minutes") and whether
the calendar is current; the tab lists the events of a window, filtered by currency and
minimum impact, beside the blackout windows the news filter computed for each cluster.

Import runs on a worker thread (a month of CSV takes a moment and the console must keep
painting prices); its outcome comes back to the GUI thread as a queued signal and is shown
as one line in the tab, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.console import ImportOutcome, one_line, run_import
from engine.calendar import EconomicEvent
from engine.model import Impact
from engine.ports import EventCalendar
from gui.plain_text import plain_label
from gui.toolbox.format import ERROR_TEXT, figures_font, utc_stamp
from gui.toolbox.model import KeyedTableModel, Row, read_only_table
from gui.worker_results import ResultPump

EVENT_HEADERS = ("Time (UTC)", "Currency", "Impact", "Event", "Actual", "Forecast", "Previous")
BLACKOUT_HEADERS = ("From (UTC)", "To (UTC)", "Currency", "Impact", "Event")
EVENT_IMPACT_COLUMN = 2
#: Actual, Forecast, Previous: hidden while no listed event has a value in them.
OPTIONAL_EVENT_COLUMNS = (4, 5, 6)
BLACKOUT_IMPACT_COLUMN = 3
ALL = "All"

#: Impact cell colours, as calendar sites grade releases (background, text).
IMPACT_COLOURS: dict[Impact, QColor] = {
    Impact.HIGH: QColor(224, 64, 56),
    Impact.MEDIUM: QColor(244, 160, 48),
    Impact.LOW: QColor(246, 218, 76),
    Impact.HOLIDAY: QColor(184, 184, 184),
}
_IMPACT_TEXT_COLOURS: dict[Impact, QColor] = {Impact.HIGH: QColor("white")}
IMPACT_NAMES: dict[Impact, str] = {
    Impact.NONE: "None",
    Impact.HOLIDAY: "Holiday",
    Impact.LOW: "Low",
    Impact.MEDIUM: "Medium",
    Impact.HIGH: "High",
}
#: The minimum-impact filter's choices, lowest first.
IMPACT_FILTERS: tuple[tuple[str, Impact], ...] = (
    ("All impacts", Impact.NONE),
    ("Low and above", Impact.LOW),
    ("Medium and above", Impact.MEDIUM),
    ("High only", Impact.HIGH),
)

Blackout = tuple[datetime, datetime, EconomicEvent]


def _impact_cells(impact: Impact, column: int, width: int) -> tuple[
        tuple[QColor | None, ...], tuple[QColor | None, ...]]:
    foreground: list[QColor | None] = [None] * width
    background: list[QColor | None] = [None] * width
    foreground[column] = _IMPACT_TEXT_COLOURS.get(impact)
    background[column] = IMPACT_COLOURS.get(impact)
    return tuple(foreground), tuple(background)


def _event_identity(event: EconomicEvent) -> Hashable:
    if event.source and event.source_id:
        return (event.source, event.source_id)
    return (event.time, event.currency, event.title)


def _keyed(events: Sequence[EconomicEvent]) -> list[tuple[Hashable, EconomicEvent]]:
    """Stable row keys; a release a source lists twice gets a second, numbered key."""
    seen: dict[Hashable, int] = {}
    keyed = []
    for event in events:
        identity = _event_identity(event)
        seen[identity] = seen.get(identity, 0) + 1
        keyed.append(((identity, seen[identity]), event))
    return keyed


class CalendarTab(QWidget):
    """Events of a window with filters, per-cluster blackouts, and file import.

    ``db_path`` is the SQLite calendar imports go to (None: the product's default one).  A
    successful import emits ``calendarImported(calendar)`` with the reopened calendar; the
    receiver owns it from then on (the tab never closes a calendar).
    """

    calendarImported = Signal(object)
    #: The one-line outcome of every import, success or not.
    importFinished = Signal(str)

    def __init__(self, db_path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self._calendar: EventCalendar | None = None
        self._window: tuple[datetime, datetime] | None = None
        self._events: list[EconomicEvent] = []
        self._blackouts: dict[str, list[Blackout]] = {}
        self._importing = False
        self._events_sized = False
        self._blackouts_sized = False
        font = figures_font(self.font())

        self.currency_combo = QComboBox()
        self.currency_combo.addItem(ALL)
        self.currency_combo.setMinimumContentsLength(5)
        self.impact_combo = QComboBox()
        self.impact_combo.addItems([label for label, _ in IMPACT_FILTERS])
        self.count_label = plain_label()
        self.status = plain_label()  # import outcomes: file names, parse errors
        self.import_button = QPushButton("Import...")
        self.events_model = KeyedTableModel(EVENT_HEADERS, (4, 5, 6), font, self)
        self.events_view = read_only_table(self.events_model, self)
        self.cluster_combo = QComboBox()
        self.cluster_combo.setMinimumContentsLength(8)
        self.blackout_model = KeyedTableModel(BLACKOUT_HEADERS, (), font, self)
        self.blackout_view = read_only_table(self.blackout_model, self)

        filters = QHBoxLayout()
        filters.setContentsMargins(4, 4, 4, 2)
        filters.addWidget(QLabel("Currency"))
        filters.addWidget(self.currency_combo)
        filters.addSpacing(8)
        filters.addWidget(QLabel("Impact"))
        filters.addWidget(self.impact_combo)
        filters.addSpacing(12)
        filters.addWidget(self.count_label)
        filters.addStretch(1)
        filters.addWidget(self.status)
        filters.addWidget(self.import_button)

        blackout_box = QWidget()
        blackout_layout = QVBoxLayout(blackout_box)
        blackout_layout.setContentsMargins(4, 0, 0, 0)
        blackout_layout.setSpacing(2)
        cluster_row = QHBoxLayout()
        cluster_row.addWidget(QLabel("<b>News blackouts</b> of cluster"))
        cluster_row.addWidget(self.cluster_combo)
        cluster_row.addStretch(1)
        blackout_layout.addLayout(cluster_row)
        blackout_layout.addWidget(self.blackout_view, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.events_view)
        splitter.addWidget(blackout_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)

        self.currency_combo.currentIndexChanged.connect(self._show_events)
        self.impact_combo.currentIndexChanged.connect(self._show_events)
        self.cluster_combo.currentIndexChanged.connect(self._show_blackouts)
        self.import_button.clicked.connect(self.import_files)
        self._pump = ResultPump(self)  # the import's outcome, back on the GUI thread
        self._show_events()

    # ------------------------------------------------------------------ feeding

    def set_calendar(self, calendar: EventCalendar | None, start: datetime,
                     end: datetime) -> None:
        """List ``calendar``'s events with ``start <= time <= end`` (UTC)."""
        self._calendar = calendar
        self._window = (start, end)
        try:
            self._events = [] if calendar is None else list(calendar.events_between(start, end))
        except Exception as exc:
            self._events = []
            self._show_status(f"Cannot read the calendar: {one_line(exc)}", error=True)
        self._refill_currencies()
        self._show_events()

    def set_blackouts(self, windows: Mapping[str, Sequence[Blackout]]) -> None:
        """Each cluster's blackout windows (``NewsFilter.windows``), shown for one cluster."""
        self._blackouts = {name: list(items) for name, items in windows.items()}
        current = self.cluster_combo.currentText()
        names = sorted(self._blackouts)
        if names != [self.cluster_combo.itemText(i) for i in range(self.cluster_combo.count())]:
            self.cluster_combo.blockSignals(True)
            self.cluster_combo.clear()
            self.cluster_combo.addItems(names)
            if current in self._blackouts:
                self.cluster_combo.setCurrentText(current)
            self.cluster_combo.blockSignals(False)
        self._show_blackouts()

    def select_cluster(self, name: str) -> None:
        """Show ``name``'s blackouts (the main window follows the cluster table's selection)."""
        self.cluster_combo.setCurrentText(name)

    def visible_events(self) -> list[EconomicEvent]:
        return [self.events_model.payload(r)  # type: ignore[misc]
                for r in range(self.events_model.rowCount())]

    def set_currency_filter(self, currency: str) -> None:
        self.currency_combo.setCurrentText(currency)

    def set_min_impact(self, impact: Impact) -> None:
        for i, (_, level) in enumerate(IMPACT_FILTERS):
            if level is impact:
                self.impact_combo.setCurrentIndex(i)
                return
        raise ValueError(f"no impact filter for {impact}")

    # ------------------------------------------------------------------ import

    def ask_open_paths(self) -> list[Path]:
        """Files to import (tests replace this to skip the dialog)."""
        names, _ = QFileDialog.getOpenFileNames(
            self, "Import calendar", "",
            "Calendar files (*.xml *.csv);;All files (*)")
        return [Path(n) for n in names]

    def import_files(self) -> bool:
        """Import the chosen files on a worker thread; False when nothing was started."""
        if self._importing:
            return False
        paths = self.ask_open_paths()
        if not paths:
            return False
        self._importing = True
        self.import_button.setEnabled(False)
        self._show_status(f"Importing {len(paths)} file(s)...")
        db_path = self.db_path
        self._pump.run(lambda: run_import(paths, db_path), self._finish_import,
                       name="calendar-import")
        return True

    def _finish_import(self, outcome: ImportOutcome) -> None:
        self._importing = False
        self.import_button.setEnabled(True)
        self._show_status(outcome.message, error=not outcome.ok)
        if outcome.calendar is not None:
            window = self._window
            spans = outcome.coverage()
            if spans:  # show what was just imported
                window = (min(s.start for s in spans), max(s.end for s in spans))
            if window is not None:
                self.set_calendar(outcome.calendar, *window)
            else:
                self._calendar = outcome.calendar
            self.calendarImported.emit(outcome.calendar)
        self.importFinished.emit(outcome.message)

    # ------------------------------------------------------------------ internals

    def _refill_currencies(self) -> None:
        currencies = sorted({e.currency for e in self._events} - {"ALL"})
        current = self.currency_combo.currentText()
        existing = [self.currency_combo.itemText(i)
                    for i in range(1, self.currency_combo.count())]
        if currencies == existing:
            return
        if current != ALL and current not in currencies:
            currencies = sorted({*currencies, current})  # keep the trader's choice
        self.currency_combo.blockSignals(True)
        self.currency_combo.clear()
        self.currency_combo.addItems([ALL, *currencies])
        self.currency_combo.setCurrentText(current)
        self.currency_combo.blockSignals(False)

    def _show_events(self) -> None:
        currency = self.currency_combo.currentText()
        wanted = None if currency == ALL else frozenset({currency})
        minimum = IMPACT_FILTERS[max(self.impact_combo.currentIndex(), 0)][1]
        shown = [e for e in self._events
                 if e.impact.rank >= minimum.rank and e.applies_to(wanted)]
        width = len(EVENT_HEADERS)
        rows = []
        for key, event in _keyed(shown):
            foreground, background = _impact_cells(event.impact, EVENT_IMPACT_COLUMN, width)
            rows.append(Row(
                key=key,
                cells=(event.time.strftime("%Y-%m-%d %a %H:%M"), event.currency,
                       IMPACT_NAMES[event.impact], event.title, event.actual, event.forecast,
                       event.previous),
                foreground=foreground,
                background=background,
                payload=event,
            ))
        self.events_model.set_rows(rows)
        self._hide_empty_columns(rows)
        if not self._events_sized and rows:
            _size_once(self.events_view, stretch_column=3)
            self._events_sized = True
        self.count_label.setText(self._count_text(len(rows)))

    def _hide_empty_columns(self, rows: Sequence[Row]) -> None:
        """Actual, Forecast and Previous are shown only when a listed event has one: most
        calendars (and the synthetic market's) carry none, and three empty columns took the
        width the event names need."""
        for column in OPTIONAL_EVENT_COLUMNS:
            empty = not any(str(row.cells[column] or "").strip() for row in rows)
            self.events_view.setColumnHidden(column, empty)

    def _count_text(self, shown: int) -> str:
        text = f"{shown} of {len(self._events)} events"
        if self._calendar is None or self._window is None:
            return "No calendar loaded" if self._calendar is None else text
        try:
            covered = self._calendar.coverage_end(self._window[0])
        except Exception:
            covered = None
        if covered is None:
            return f"{text}, calendar not covering {utc_stamp(self._window[0])}"
        return f"{text}, covered to {utc_stamp(covered)}"

    def _show_blackouts(self) -> None:
        windows = self._blackouts.get(self.cluster_combo.currentText(), [])
        width = len(BLACKOUT_HEADERS)
        rows = []
        for n, (start, end, event) in enumerate(windows):
            foreground, background = _impact_cells(event.impact, BLACKOUT_IMPACT_COLUMN, width)
            rows.append(Row(
                key=(start, end, _event_identity(event), n),
                cells=(utc_stamp(start), utc_stamp(end), event.currency,
                       IMPACT_NAMES[event.impact], event.title),
                foreground=foreground,
                background=background,
                payload=(start, end, event),
            ))
        self.blackout_model.set_rows(rows)
        if not self._blackouts_sized and rows:
            _size_once(self.blackout_view, stretch_column=4)
            self._blackouts_sized = True

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {ERROR_TEXT.name() if error else '#404040'}")
        self.status.setText(text)


def _size_once(view: QTableView, stretch_column: int) -> None:
    """Size to the first fill's contents; the title column takes the width left over."""
    view.resizeColumnsToContents()
    header = view.horizontalHeader()
    for column in range(header.count()):
        header.resizeSection(column, min(header.sectionSize(column) + 12, 420))
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)


__all__ = ["IMPACT_COLOURS", "CalendarTab", "ImportOutcome", "run_import"]
