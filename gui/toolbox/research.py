"""The Toolbox's Research tab: a sweep's study file, read-only: its trials, its counts, the
DSR of each fold's choice, the PBO and a heatmap.

A study is opened with "Open study..." (or ``gui --study FILE``) through
``app.sweep.reading`` (SQLite's read-only mode: the console never writes a study, and can
read one a running sweep is writing; "Refresh" reads the trials finished since).  Every
figure is ``app.sweep.summary``'s, the functions ``sweep report`` writes ``sweep.json``
with, so the tab and the report agree.  The table sorts on any column (numbers as numbers,
an undefined figure below every defined one); the heatmap shows a chosen metric by two
chosen parameters.

The summary line's figures (the DSR and, above all, the PBO: C(16, 8) = 12,870 splits, a
few seconds) are computed on a worker thread, so opening or refreshing a study never
freezes the console; the table and the heatmap show at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.sweep import summary
from app.sweep.reading import StudyFile, read_study
from engine.errors import UserError
from gui.plain_text import plain_label, plain_tip
from gui.toolbox.format import LOSS, MISSING, PROFIT, figures_font
from gui.toolbox.model import read_only_table
from gui.toolbox.research_heatmap import HeatmapView
from gui.worker_results import ResultPump

Index = QModelIndex | QPersistentModelIndex

HEADERS = ("Trial", "Config", "Parameters", "Group", "Fold", "Sample", "Status", "Sharpe",
           "Return", "Max DD", "Baskets")
CONFIG, PARAMS, GROUP, FOLD, SAMPLE, STATUS, SHARPE, RETURN, MAX_DD, BASKETS = range(1, 11)
NUMERIC = (CONFIG, FOLD, SHARPE, RETURN, MAX_DD, BASKETS)
HEADER_TIPS = {
    GROUP: "together: the trial ran all the study's clusters in one account; a cluster's "
           "name: it ran that cluster alone",
    SAMPLE: "is: in-sample (chooses), oos: out-of-sample (judged), all: the whole period",
    SHARPE: "Annualised Sharpe of the trial's daily returns (its metrics)",
    RETURN: "Total return of the trial",
    MAX_DD: "Maximum drawdown of the trial's daily equity",
    BASKETS: "Closed baskets",
}
#: Where the table keeps each cell's sort key (numbers sort as numbers).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NO_STUDY = "No study open. A study is the file 'main.py sweep --study FILE' writes."
FILE_FILTER = "Sweep studies (*.sqlite *.db);;All files (*)"
NO_PARAMETER = "(none)"
COMPUTING = "Computing the selections' DSR and the PBO..."


def _number(value: Any, spec: str, *, percent: bool = False) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return MISSING
    return f"{value * 100:{spec}}%" if percent else f"{value:{spec}}"


def _sort_key(value: Any) -> tuple[int, Any]:
    """Undefined below every number; text after numbers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return (0, 0.0)
    return (1, value) if isinstance(value, int | float) else (2, str(value))


def params_text(params: Mapping[str, Any] | None) -> str:
    return " ".join(f"{k}={v}" for k, v in (params or {}).items()) or "defaults"


def trial_cells(row: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A trial's cells (text) and their sort keys."""
    values = (row["id"][:10], row["config"], params_text(row["params"]),
              summary.group_of(row), row["fold"], row["sample"], row["status"],
              row.get("sharpe"), row.get("total_return"), row.get("max_drawdown"),
              row.get("baskets"))
    texts = (values[0], str(row["config"]), values[2], values[3], str(row["fold"]),
             row["sample"], row["status"], _number(row.get("sharpe"), ".2f"),
             _number(row.get("total_return"), "+.2f", percent=True),
             _number(row.get("max_drawdown"), ".2f", percent=True),
             MISSING if row.get("baskets") is None else str(row["baskets"]))
    return texts, tuple(_sort_key(v) for v in values)


class TrialsModel(QAbstractTableModel):
    """One row per trial, read-only; sort keys under :data:`SORT_ROLE`."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Mapping[str, Any]] = []
        self._cells: list[tuple[tuple[str, ...], tuple[Any, ...]]] = []
        self._font = figures_font()

    def set_trials(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._cells = [trial_cells(r) for r in self._rows]
        self.endResetModel()

    def trial(self, row: int) -> Mapping[str, Any]:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        texts, keys = self._cells[index.row()]
        column, row = index.column(), self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return texts[column]
        if role == SORT_ROLE:
            return keys[column]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == STATUS and row.get("error"):
            return plain_tip(row["error"])  # the sweep's error text, shown literally
        if column in NUMERIC and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if column in NUMERIC and role == Qt.ItemDataRole.FontRole:
            return self._font
        return None

    @staticmethod
    def _colour(row: Mapping[str, Any], column: int) -> object:
        if column == STATUS and row["status"] == "failed":
            return LOSS
        key = {SHARPE: "sharpe", RETURN: "total_return"}.get(column)
        value = row.get(key) if key else None
        if isinstance(value, int | float) and math.isfinite(value) and value:
            return PROFIT if value > 0 else LOSS
        return None


class SortProxy(QSortFilterProxyModel):
    """Sorts on the model's :data:`SORT_ROLE` keys (tuples: Qt's own comparison cannot)."""

    def lessThan(self, left: Index, right: Index) -> bool:
        return bool(left.data(SORT_ROLE) < right.data(SORT_ROLE))


def _selection_text(s: Mapping[str, Any]) -> str:
    group = "" if s["group"] == summary.TOGETHER else f" {s['group']}"
    if s["config"] is None:
        return f"fold {s['fold']}{group}: {s['note']}"
    dsr = s["dsr"] or {}
    oos = s["out_of_sample"] or {}
    judged = f" → OOS {_number(oos.get('sharpe'), '.2f')}" if s["out_of_sample"] else ""
    return (f"fold {s['fold']}{group}: config {s['config']}, IS Sharpe "
            f"{_number(s['in_sample']['sharpe'], '.2f')}{judged}, DSR "
            f"{_number(dsr.get('dsr'), '.3f')} (N {dsr.get('trials')})")


def _pbo_text(p: Mapping[str, Any]) -> str:
    group = "" if p["group"] == summary.TOGETHER else f" {p['group']}"
    if not p["computed"]:
        return f"PBO{group}: {p['note'].split(':')[0]}"
    return (f"PBO{group} {_number(p['pbo'], '.3f')} (S {p['blocks']}, T {p['periods']} days, "
            f"{len(p['configurations'])} configs)")


def summary_text(doc: Mapping[str, Any]) -> str:
    """The counts, each fold's choice with its DSR, and the PBO, on one line."""
    c = doc["counts"]
    parts = [f"{c['tried']} trials tried ({c['done']} done, {c['failed']} failed), "
             f"{c['configurations']} configurations × {c['spans']} spans"]
    parts += [_selection_text(s) for s in doc["selections"]]
    parts += [_pbo_text(p) for p in doc["pbo"]]
    return " · ".join(parts)


def summary_tip(doc: Mapping[str, Any]) -> str:
    """The bases of the summary line's figures."""
    basis = doc["pbo"][0]["basis"] if doc["pbo"] else ""
    notes = [f"fold {s['fold']} {s['group']}: {s['note']}" for s in doc["selections"]
             if s["note"]] + [p["note"] for p in doc["pbo"] if p["note"]]
    returns = doc.get("returns_basis") or {}
    daily = (f"Daily returns on the {returns['name']} basis ({returns['label']})"
             if returns.get("name") else f"Returns basis: {returns.get('label', 'not stated')}")
    return "\n\n".join([doc["counts"]["basis"], "Sharpe: " + summary.HEATMAP_METRICS["sharpe"],
                        daily, doc["selection_basis"], doc["dsr_basis"], basis, *notes])


class ResearchTab(QWidget):
    """``open_study(path)`` reads a study (read-only) and shows it; ``refresh`` reads it
    again.  ``choose_file`` asks for a study's path ('' when cancelled): a file dialog by
    default.  ``summaryShown`` is emitted once the summary line shows the study's figures."""

    summaryShown = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 choose_file: Callable[[QWidget], str] | None = None) -> None:
        super().__init__(parent)
        self._choose = choose_file or _file_dialog
        self.study: StudyFile | None = None
        self.summary: dict[str, Any] | None = None
        self._generation = 0
        self.open_button = QPushButton("Open study...")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setEnabled(False)
        self.refresh_button.setToolTip("Read the study again: the trials a running sweep "
                                       "finished since")
        # the study's path, figures, parameter names and errors: data, shown literally
        self.path_label = plain_label()
        self.summary_label = plain_label(NO_STUDY)
        self.summary_label.setWordWrap(True)
        self.model = TrialsModel()
        self.proxy = SortProxy()
        self.proxy.setSourceModel(self.model)
        self.table = read_only_table(self.proxy, self)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(CONFIG, Qt.SortOrder.AscendingOrder)  # then fold, sample
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.metric_combo, self.sample_combo = QComboBox(), QComboBox()
        self.metric_combo.addItems(list(summary.HEATMAP_METRICS))
        self.sample_combo.addItems(list(summary.HEATMAP_SAMPLES))
        self.heatmap = HeatmapView()
        self.heatmap_note = plain_label()
        self.heatmap_note.setWordWrap(True)
        self._layout()
        self.open_button.clicked.connect(self.choose_study)
        self.refresh_button.clicked.connect(self.refresh)
        self._pump = ResultPump(self)
        for combo in (self.x_combo, self.y_combo, self.metric_combo, self.sample_combo):
            combo.currentIndexChanged.connect(self._draw_heatmap)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.path_label, 1)
        pickers = QHBoxLayout()
        for name, combo in (("x", self.x_combo), ("y", self.y_combo),
                            ("metric", self.metric_combo), ("", self.sample_combo)):
            if name:
                pickers.addWidget(QLabel(name))
            pickers.addWidget(combo, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(pickers)
        right_layout.addWidget(self.heatmap, 1)
        right_layout.addWidget(self.heatmap_note)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([3000, 2000])  # the table 60%: its columns are the study
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.summary_label)
        layout.addWidget(split, 1)

    # -- opening and reading -----------------------------------------------------------

    def choose_study(self) -> None:
        path = self._choose(self)
        if path:
            self.open_study(Path(path))

    def open_study(self, path: Path) -> bool:
        """Read the study at ``path`` and show it; False (the reason shown) when it cannot
        be read."""
        try:
            study = read_study(Path(path))
        except UserError as exc:
            self._generation += 1  # a summary still computing is no longer wanted
            self.summary_label.setText(f"Cannot open the study: {exc}")
            return False
        self.study = study
        self.path_label.setText(str(study.path))
        self.refresh_button.setEnabled(True)
        self._show(study)
        return True

    def refresh(self) -> bool:
        return self.open_study(self.study.path) if self.study is not None else False

    def _show(self, study: StudyFile) -> None:
        self._generation += 1
        self.summary = None
        self.summary_label.setText(COMPUTING)
        self.summary_label.setToolTip("")
        self.model.set_trials(study.rows)
        self.table.resizeColumnsToContents()
        self._fill_pickers(study.rows)
        generation = self._generation
        self._pump.run(  # the figures of plain data, on a worker thread
            lambda: summary.study_summary(study.rows, study.settings, heatmaps=[]),
            lambda doc: self._take_summary(generation, doc), name="research-summary")

    def _take_summary(self, generation: int, doc: dict[str, Any]) -> None:
        if generation != self._generation:
            return  # a newer read is on its way
        self.summary = doc
        self.summary_label.setText(summary_text(doc))
        self.summary_label.setToolTip(plain_tip(summary_tip(doc)))
        self.summaryShown.emit()

    def _fill_pickers(self, rows: Sequence[Mapping[str, Any]]) -> None:
        names = summary.parameters(rows)
        default = summary.default_heatmap(rows)
        x = self.x_combo.currentText() if self.x_combo.currentText() in names else (
            default.x if default else (names[0] if names else ""))
        y = self.y_combo.currentText() if self.y_combo.currentText() in names else (
            (default.y if default else None) or NO_PARAMETER)
        for combo, items, current in ((self.x_combo, names, x),
                                      (self.y_combo, [NO_PARAMETER, *names], y)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.setCurrentText(current)
            combo.blockSignals(False)
        self._draw_heatmap()

    def heatmap_spec(self) -> summary.HeatmapSpec | None:
        """The pickers' heatmap; None when no parameter is chosen or x equals y."""
        x, y = self.x_combo.currentText(), self.y_combo.currentText()
        if not x or x == y:
            return None
        return summary.HeatmapSpec(x, None if y == NO_PARAMETER else y,
                                   self.metric_combo.currentText(),
                                   self.sample_combo.currentText())

    def _draw_heatmap(self) -> None:
        spec = self.heatmap_spec() if self.study is not None else None
        if spec is None:
            self.heatmap.clear()
            note = ("" if self.study is None else "No trial in the study yet."
                    if not self.study.rows else "Choose two different parameters.")
            self.heatmap_note.setText(note)
            return
        result = summary.heatmap(self.study.rows if self.study else (), spec)
        self.heatmap.show_map(result)
        basis = result["metric_basis"]
        self.heatmap_note.setText(f"{basis[:1].upper()}{basis[1:]}, {result['sample']}: "
                                  "median per cell (n trials)")
        self.heatmap_note.setToolTip(plain_tip(result["rule"]))


def _file_dialog(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open study", "", FILE_FILTER)
    return path
