"""The Toolbox's Basis tab: basis clusters from hand-built ClusterViews on a real widget,
its mispricing chart with the bands, and the Roll button."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from engine.kinds.basis_params import DIAGNOSTICS
from engine.snapshot import ClusterView
from gui.toolbox import Toolbox
from gui.toolbox.basis import (
    BREAK_EVEN,
    EMPTY_TEXT,
    HEADERS,
    MISPRICING,
    MODE,
    BasisTab,
)
from gui.toolbox.format import LOSS, PROFIT

#: log_basis, fair, mispricing, days, break_even, be_spread, be_commission, be_swap, carry
FIGURES = (23.4567, 18.0, 5.4567, 47.25, 3.75, 1.75, 0.0, 2.0, 0.0139)


def view(name: str, symbols: tuple[str, ...], *, kind: str = "basis", score: float = 5.4567,
         figures: tuple[float, ...] = FIGURES, lock: str = "",
         direction: str | None = None) -> ClusterView:
    return ClusterView(name, symbols, score, math.nan, 10.0, 2.0, "ACTIVE", "",
                       "GB-20191101T1000-001" if direction else None, direction, 0.0, None,
                       kind=kind, diagnostics=tuple(zip(DIAGNOSTICS, figures, strict=True)),
                       signal_lock=lock)


GOLD = view("GB", ("XAUUSD", "XAUUSD_Z19"))
RICH = view("SPXB", ("SPXUSD", "SPXUSD_Z19"), score=12.5, direction="SHORT",
            figures=(30.0, 17.5, 12.5, 20.0, 11.0, 9.0, 0.0, 2.0, 0.0139))
FX = ClusterView("USD", ("EURUSD", "GBPUSD", "USDJPY"), -1.4, 1.3, 1.2, 0.25, "ACTIVE", "",
                 None, None, 0.0, None)


def _history(name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    times = np.array([1_572_000_000_000 + 3_600_000 * i for i in range(4)], dtype=np.int64)
    return times, np.array([1.0, -4.5, math.nan, 5.4567]), {}


def test_only_basis_clusters_are_shown_with_their_figures(qtbot) -> None:
    # Arrange
    tab = BasisTab()
    qtbot.addWidget(tab)
    tab.trade_mode_of = {"XAUUSD_Z19": "full", "SPXUSD_Z19": "close only"}.get
    # Act
    tab.update_views([FX, GOLD, RICH])
    # Assert
    assert tab.row_texts() == [
        ("GB", "XAUUSD", "XAUUSD_Z19", "47.2", "full", "+23.46", "+18.00", "+5.46", "3.75",
         "10 / 2", "ACTIVE"),
        ("SPXB", "SPXUSD", "SPXUSD_Z19", "20.0", "close only", "+30.00", "+17.50", "+12.50",
         "11.00", "10 / 2", "SHORT GB-20191101T1000-001"),
    ]
    model = tab.model
    assert model.data(model.index(1, MISPRICING), Qt.ItemDataRole.ForegroundRole) == LOSS
    assert model.data(model.index(0, BREAK_EVEN), Qt.ItemDataRole.ForegroundRole) == PROFIT
    assert model.data(model.index(1, BREAK_EVEN), Qt.ItemDataRole.ForegroundRole) == LOSS
    assert model.data(model.index(1, MODE), Qt.ItemDataRole.ForegroundRole) == LOSS
    assert len(HEADERS) == 11


def test_a_lock_shows_its_code(qtbot) -> None:
    tab = BasisTab()
    qtbot.addWidget(tab)
    tab.update_views([view("GB", ("XAUUSD", "XAUUSD_Z19"),
                           lock="EXPIRY: 2.0 days to XAUUSD_Z19's expiry <= close_days 3")])
    assert tab.row_texts()[0][-1] == "EXPIRY"


def test_the_chart_draws_the_history_and_the_bands(qtbot) -> None:
    # Arrange
    tab = BasisTab()
    qtbot.addWidget(tab)
    tab.history_of = _history
    # Act
    tab.update_views([GOLD])
    # Assert: the curve is the engine's scores, at their bar times in seconds
    x, y = tab.chart_points()
    np.testing.assert_array_equal(x, [1_572_000_000 + 3600 * i for i in range(4)])
    np.testing.assert_array_equal(y, [1.0, -4.5, math.nan, 5.4567])
    levels = {name: line.value() for name, line in tab.bands.items()}
    assert levels == {"+E": 10.0, "-E": -10.0, "+X": 2.0, "-X": -2.0, "+BE": 3.75,
                      "-BE": -3.75}
    assert "GB: XAUUSD_Z19 vs XAUUSD, mispricing in bp" in tab.chart_title.text()


def test_roll_asks_for_the_selected_cluster(qtbot) -> None:
    tab = BasisTab()
    qtbot.addWidget(tab)
    tab.update_views([GOLD, RICH])
    tab.select("SPXB")
    with qtbot.waitSignal(tab.rollRequested) as blocker:
        tab.roll_button.click()
    assert blocker.args == ["SPXB"]


def test_empty_line_and_the_toolbox_tab(qtbot) -> None:
    toolbox = Toolbox()
    qtbot.addWidget(toolbox)
    toolbox.basis.update_views([FX])
    tabs = [toolbox.tabText(i) for i in range(toolbox.count())]
    assert "Basis" in tabs
    assert toolbox.basis.title.text() == EMPTY_TEXT
    assert not toolbox.basis.roll_button.isEnabled()


def test_the_console_shows_a_basis_cluster_and_rolls_it(qtbot, tmp_path) -> None:
    """A demo console on the example config (XAUUSD against its front gold contract): the
    tab shows the engine's figures, and the Roll button rolls the cluster to the next
    contract through the journaled command."""
    import sqlite3
    from pathlib import Path

    from app.sessions import demo_session
    from engine.config import load_engine_config
    from gui.main_window import MainWindow
    from mt5bridge.sim.pacing import Pacer

    # Arrange
    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "basis.toml"
    config_file = tmp_path / "basis.toml"
    config_file.write_text(example.read_text().replace("roll = true", "roll = false"))
    session = demo_session(load_engine_config(config_file), seed=0, symbols=("XAUUSD",),
                           journal_path=tmp_path / "journal.sqlite")
    window = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    window.start()
    tab = window.toolbox.basis
    try:
        qtbot.waitUntil(lambda: bool(tab.row_texts()) and tab.row_texts()[0][MODE] == "full",
                        timeout=60_000)
        first = tab.row_texts()[0]
        assert first[:3] == ("GOLD_BASIS", "XAUUSD", "XAUUSD_H24")
        assert window.chart.crosshair_text().startswith("H1")  # its signal bars, not M30
        # Act
        tab.select("GOLD_BASIS")
        tab.roll_button.click()
        # Assert
        qtbot.waitUntil(lambda: tab.row_texts()[0][2] == "XAUUSD_M24", timeout=60_000)
        with sqlite3.connect(tmp_path / "journal.sqlite") as db:
            rows = db.execute("SELECT source, command, result FROM manual_commands "
                              "WHERE command = 'RollContract'").fetchall()
        assert rows == [("gui", "RollContract",
                         "ok: GOLD_BASIS rolled from XAUUSD_H24 to XAUUSD_M24")]
    finally:
        window.shutdown()


def test_weekend_gaps_break_the_curve() -> None:
    from gui.toolbox.basis import with_gaps

    x, y = with_gaps(np.array([0.0, 1.0, 2.0, 3.0, 50.0, 51.0]),
                     np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0, 3.0, 4.0, 50.0, 51.0])
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0, 4.0, np.nan, 5.0, 6.0])
