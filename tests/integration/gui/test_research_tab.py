"""The Toolbox's Research tab on real widgets and a real study file: opened read-only
(while its writer still has it open), the trials sortable, the counts/DSR/PBO line and the
heatmap equal to ``app.sweep.summary``'s figures, a refresh that finds the trials finished
since, and a bad file said in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from app.sweep import summary
from gui.plain_text import plain_tip
from gui.toolbox import Toolbox
from gui.toolbox.research import (
    COMPUTING,
    CONFIG,
    HEADERS,
    NO_STUDY,
    SHARPE,
    STATUS,
    ResearchTab,
    summary_text,
    summary_tip,
)
from gui.toolbox.research_heatmap import cell_label
from storage.trials import TrialsStore

GRID = [(1.2, 0.3), (1.2, 0.6), (2.0, 0.3), (2.0, 0.6), (2.45, 0.3), (2.45, 0.6)]


def trial(config, fold, sample, rng, *, failed=False):
    """One trial's row as the sweep's driver writes it (synthetic figures)."""
    entry, exit_band = GRID[config - 1]
    rets = [float(v) for v in rng.normal(0.0004 * config, 0.01, 24)]
    sharpe = float(np.mean(rets) / np.std(rets, ddof=1) * math.sqrt(252))
    base = 100 * fold + (0 if sample == "is" else 50)
    return {"id": f"t{config}{fold}{sample}", "config": config,
            "params": {"entry": entry, "exit": exit_band}, "fold": fold, "sample": sample,
            "span_from": None, "span_to": None, "status": "failed" if failed else "done",
            "error": "data gap" if failed else None, "sharpe": None if failed else sharpe,
            "total_return": None if failed else float(np.prod(1 + np.array(rets)) - 1),
            "max_drawdown": None if failed else 0.001 * config,
            "baskets": None if failed else 2 * config, "metrics": None,
            "daily_returns": None if failed else [[f"D{base + d:04d}", r]
                                                  for d, r in enumerate(rets)],
            "data_fingerprint": "f", "code_version": "c",
            "started_at": "2024-01-01T00:00:00+00:00",
            "finished_at": "2024-01-01T00:00:01+00:00", "seconds": 1.0}


@pytest.fixture()
def study(tmp_path):
    """A study being written: 6 configurations x 2 folds x 2 spans, one failed, the last
    trial not yet run; the writer keeps the file open."""
    rng = np.random.default_rng(3)
    store = TrialsStore(tmp_path / "study.sqlite")
    store.put_setting("created_with", {"folds": 2})
    for config in range(1, 7):
        for fold in (1, 2):
            for sample in ("is", "oos"):
                row = trial(config, fold, sample, rng, failed=(config, fold) == (5, 1)
                            and sample == "is")
                if (config, fold, sample) != (6, 2, "oos"):
                    store.record(row)
    yield store, rng
    store.close()


@pytest.fixture()
def tab(qtbot, study):
    store, _ = study
    widget = ResearchTab(choose_file=lambda parent: str(store.path))
    qtbot.addWidget(widget)
    widget.resize(1400, 320)
    widget.show()
    return widget


def _column(widget, column):
    proxy = widget.proxy
    return [proxy.index(r, column).data() for r in range(proxy.rowCount())]


def test_the_toolbox_has_the_research_tab_last_with_nothing_open(qtbot):
    # Arrange
    toolbox = Toolbox()
    qtbot.addWidget(toolbox)
    # Assert
    assert toolbox.tabText(toolbox.count() - 1) == "Research"
    assert toolbox.widget(toolbox.count() - 1) is toolbox.research
    assert toolbox.research.summary_label.text() == NO_STUDY
    assert not toolbox.research.refresh_button.isEnabled()


def test_open_study_shows_every_trial_and_the_summary_line(qtbot, tab, study):
    # Arrange
    store, _ = study
    rows = [r.values for r in store.rows()]
    doc = summary.study_summary(rows, store.settings(), heatmaps=[])
    # Act: the table at once, the summary line once its worker is done
    with qtbot.waitSignal(tab.summaryShown, timeout=30_000):
        qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
        assert tab.summary_label.text() == COMPUTING
    # Assert
    assert tab.summary == doc
    assert tab.proxy.rowCount() == 23 and tab.model.columnCount() == len(HEADERS)
    assert tab.summary_label.text() == summary_text(doc)
    assert tab.summary_label.text().startswith("23 trials tried (22 done, 1 failed)")
    assert "PBO" in tab.summary_label.text() and "DSR" in tab.summary_label.text()
    assert tab.path_label.text() == str(store.path)
    failed = _column(tab, STATUS).index("failed")
    assert tab.proxy.index(failed, STATUS).data(Qt.ItemDataRole.ToolTipRole) == \
        plain_tip("data gap")


def test_the_table_sorts_numbers_as_numbers_with_undefined_last(qtbot, tab, study):
    # Arrange
    store, _ = study
    tab.open_study(store.path)
    sharpes = sorted(r["sharpe"] for r in store.rows() if r["sharpe"] is not None)
    # Act
    tab.table.sortByColumn(SHARPE, Qt.SortOrder.DescendingOrder)
    # Assert
    shown = _column(tab, SHARPE)
    assert shown[:-1] == [f"{s:.2f}" for s in reversed(sharpes)] and shown[-1] == "—"
    tab.table.sortByColumn(CONFIG, Qt.SortOrder.AscendingOrder)
    assert _column(tab, CONFIG) == sorted(_column(tab, CONFIG), key=int)


def test_the_heatmap_is_the_summary_heatmap_of_the_chosen_parameters(qtbot, tab, study):
    # Arrange
    store, _ = study
    tab.open_study(store.path)
    rows = [r.values for r in store.rows()]
    # Assert: the default, the Sharpe by the first two parameters that vary
    assert (tab.x_combo.currentText(), tab.y_combo.currentText()) == ("entry", "exit")
    expected = summary.heatmap(rows, summary.HeatmapSpec("entry", "exit"))
    assert tab.heatmap.cells == [[f"{v:.2f}\nn={n}" for v, n in zip(m, c, strict=True)]
                                 for m, c in zip(expected["median"], expected["count"],
                                                 strict=True)]
    # Act: baskets by exit alone, out-of-sample
    tab.x_combo.setCurrentText("exit")
    tab.y_combo.setCurrentText("(none)")
    tab.metric_combo.setCurrentText("baskets")
    tab.sample_combo.setCurrentText("out-of-sample")
    # Assert
    again = summary.heatmap(rows, summary.HeatmapSpec("exit", None, "baskets",
                                                      "out-of-sample"))
    assert len(tab.heatmap.cells) == 1
    assert tab.heatmap.cells[0] == [cell_label("baskets", v, n) for v, n in
                                    zip(again["median"][0], again["count"][0], strict=True)]
    assert again["count"][0] == [6, 5]  # 3 configurations x 2 folds each; 6-2-oos not run


def test_the_same_parameter_twice_draws_nothing_and_says_so(qtbot, tab, study):
    # Arrange
    tab.open_study(study[0].path)
    # Act
    tab.y_combo.setCurrentText("entry")
    # Assert
    assert tab.heatmap.cells == []
    assert tab.heatmap_note.text() == "Choose two different parameters."


def test_refresh_reads_the_trials_a_running_sweep_finished_since(qtbot, tab, study):
    # Arrange: opened while the writer holds the file
    store, rng = study
    tab.open_study(store.path)
    # Act: the writer stores its last trial, then the tab refreshes
    store.record(trial(6, 2, "oos", rng))
    with qtbot.waitSignal(tab.summaryShown, timeout=30_000):
        qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    # Assert
    assert tab.proxy.rowCount() == 24
    assert tab.summary_label.text().startswith("24 trials tried")


def test_the_tab_never_writes_the_study(qtbot, tab, study):
    # Arrange
    store, _ = study
    store.close()
    before = store.path.read_bytes()
    # Act
    with qtbot.waitSignal(tab.summaryShown, timeout=30_000):
        tab.open_study(store.path)
    with qtbot.waitSignal(tab.summaryShown, timeout=30_000):
        tab.refresh()
    tab.metric_combo.setCurrentText("total_return")
    # Assert
    assert store.path.read_bytes() == before


def test_a_file_that_is_not_a_study_is_said_in_one_line(qtbot, tab, tmp_path):
    # Arrange
    other = tmp_path / "notes.sqlite"
    other.write_text("not a database", encoding="utf-8")
    # Act
    opened = tab.open_study(other)
    # Assert
    assert not opened and tab.study is None
    text = tab.summary_label.text()
    assert text.startswith("Cannot open the study: ") and "\n" not in text
    assert tab.proxy.rowCount() == 0


def test_gui_takes_a_study_to_open_at_start():
    # Arrange
    from pathlib import Path

    from main import build_parser
    # Act
    args = build_parser().parse_args(["gui", "--study", "study.sqlite"])
    # Assert
    assert args.study == Path("study.sqlite")


def test_the_summary_tip_states_the_trials_returns_basis(study):
    # Arrange: the trials' metrics state their basis, as a sweep's trials do
    store, _ = study
    rows = [r.values for r in store.rows()]
    for r in rows:
        r["metrics"] = {"basis": {"name": "calendar", "label": "daily, every day, sqrt 365",
                                  "definition": "one return per UTC day"}}
        if r["baskets"] is not None:
            r["baskets"] = 2  # fewer than the walk-forward's 5: each choice says so

    # Act
    tip = summary_tip(summary.study_summary(rows, store.settings(), heatmaps=[]))

    # Assert: the basis, and each choice's note
    assert "Daily returns on the calendar basis (daily, every day, sqrt 365)" in tip
    doc = summary.study_summary(rows, store.settings(), heatmaps=[])
    for s in doc["selections"]:
        if s["note"]:
            assert f"fold {s['fold']} {s['group']}: {s['note']}" in tip
    assert any(s["note"].startswith("chosen on") for s in doc["selections"])
