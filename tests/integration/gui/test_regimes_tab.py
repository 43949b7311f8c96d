"""The Toolbox's Regimes tab: the correlation clusters' regimes from hand-built ClusterViews,
on a real widget."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from engine.kinds.correlation_params import CorrelationParams
from engine.snapshot import ClusterView, EngineSnapshot
from gui.main_window import MainWindow
from gui.toolbox import Toolbox
from gui.toolbox.format import LOSS, PROFIT
from gui.toolbox.regimes import (
    ACTION,
    BROKEN_BACKGROUND,
    EMPTY_TEXT,
    HEADERS,
    HELD,
    REGIME,
    RHO_FAST,
    RULE,
    SCORE,
    RegimesTab,
    correlation_params_of,
)

DIAGNOSTICS = ("rho_fast", "rho_fast_lo", "rho_fast_hi", "rho_slow", "regime_bars")


def view(name: str, symbols: tuple[str, ...], *, kind: str = "correlation",
         score: float = 0.0, rhos: tuple[float, ...] = (math.nan,) * 4, regime: str = "",
         bars: int = 0, direction: str | None = None) -> ClusterView:
    return ClusterView(name, symbols, score, math.nan, 2.0, 0.5, "ACTIVE", "", None,
                       direction, 0.0, None, kind=kind,
                       diagnostics=tuple(zip(DIAGNOSTICS, (*rhos, float(bars)), strict=True)),
                       regime=regime, regime_bars=bars)


SPX_GOLD = view("SPX_GOLD", ("SPXUSD", "XAUUSD"), score=2.3516, regime="broken", bars=7,
                rhos=(-0.4724, -0.7451, -0.0862, -0.5342))
OIL_CAD = view("OIL_CAD", ("BCOUSD", "USDCAD"), score=-1.25, regime="normal", bars=130,
               rhos=(-0.2339, -0.5871, 0.1914, -0.3655), direction="LONG")
WARMING = view("IDX_BOND", ("SPXUSD", "USTUSD"), score=math.nan)
FX = view("USD_MAJORS", ("EURUSD", "GBPUSD", "USDJPY"), kind="tdi", score=-1.4)
PARAMS = {"SPX_GOLD": CorrelationParams(targets=("USD_MAJORS", "GOLD")),
          "OIL_CAD": CorrelationParams(action="trade", weights=(1.0, 1.0), rule="sign_flip")}


def cell(tab: RegimesTab, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole):
    return tab.model.data(tab.model.index(row, column), role)


def test_only_correlation_clusters_are_shown_with_their_figures(qtbot) -> None:
    # Arrange
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tab.set_params(PARAMS)
    # Act
    tab.update_views([FX, SPX_GOLD, OIL_CAD, WARMING])
    # Assert
    assert tab.row_texts() == [
        ("SPX_GOLD", "SPXUSD / XAUUSD", "crossing 24/240", "-0.472 [-0.745, -0.086]",
         "-0.534", "+2.35", "2 / 0.5", "broken", "7 bars", "locked: USD_MAJORS, GOLD"),
        ("OIL_CAD", "BCOUSD / USDCAD", "sign_flip 24/240", "-0.234 [-0.587, +0.191]",
         "-0.365", "-1.25", "2 / 0.5", "normal", "130 bars", "trade +BCOUSD +USDCAD, LONG open"),
        ("IDX_BOND", "SPXUSD / USTUSD", "—", "—", "—", "—", "2 / 0.5", "warming up", "—", "—"),
    ]
    assert not tab.view.isHidden() and tab.title.text() != EMPTY_TEXT


def test_regimes_are_coloured(qtbot) -> None:
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tab.set_params(PARAMS)
    tab.update_views([SPX_GOLD, OIL_CAD])
    assert cell(tab, 0, REGIME, Qt.ItemDataRole.ForegroundRole) == LOSS
    assert cell(tab, 0, REGIME, Qt.ItemDataRole.BackgroundRole) == BROKEN_BACKGROUND
    assert cell(tab, 0, ACTION, Qt.ItemDataRole.ForegroundRole) == LOSS
    assert cell(tab, 1, REGIME, Qt.ItemDataRole.ForegroundRole) == PROFIT
    assert cell(tab, 1, REGIME, Qt.ItemDataRole.BackgroundRole) is None


def test_a_lock_reads_lock_while_the_regime_holds(qtbot) -> None:
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tab.set_params(PARAMS)
    tab.update_views([dataclasses.replace(SPX_GOLD, regime="normal", regime_bars=1)])
    assert tab.row_texts()[0][ACTION] == "lock USD_MAJORS, GOLD"


def test_a_cluster_not_active_says_so_with_its_reason(qtbot) -> None:
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tab.set_params(PARAMS)
    paused = dataclasses.replace(OIL_CAD, state="CLOSE_ONLY", reason="PauseCluster by gui",
                                 direction=None)
    tab.update_views([paused])
    assert tab.row_texts()[0][ACTION] == \
        "trade +BCOUSD +USDCAD | cluster CLOSE_ONLY: PauseCluster by gui"


def test_updates_in_place_and_the_empty_line(qtbot) -> None:
    # Arrange
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tab.show()
    inserted: list[int] = []
    tab.model.rowsInserted.connect(lambda *_: inserted.append(1))
    # Act
    tab.update_views([FX])
    empty_shown = (tab.view.isVisible(), tab.title.text())
    tab.update_views([SPX_GOLD])
    tab.update_views([dataclasses.replace(SPX_GOLD, regime_bars=8)])
    # Assert
    assert empty_shown == (False, EMPTY_TEXT)
    assert tab.view.isVisible() and len(inserted) == 1
    assert tab.row_texts()[0][HELD] == "8 bars"


def test_each_figure_names_its_basis_in_its_header(qtbot) -> None:
    tab = RegimesTab()
    qtbot.addWidget(tab)
    tips = [tab.model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            for c in range(len(HEADERS))]
    assert "log returns" in tips[RHO_FAST] and "Fisher-z" in tips[RHO_FAST]
    assert "atanh" in tips[SCORE] and "windows" in tips[RULE]


def test_the_toolbox_has_the_tab(qtbot) -> None:
    toolbox = Toolbox()
    qtbot.addWidget(toolbox)
    assert toolbox.tabText(toolbox.indexOf(toolbox.regimes)) == "Regimes"
    assert toolbox.regimes.title.text() == EMPTY_TEXT


def test_settings_are_found_in_the_cluster_specs() -> None:
    @dataclasses.dataclass(frozen=True)
    class Spec:
        name: str
        correlation: CorrelationParams | None = None

    specs = [Spec("USD_MAJORS"), Spec("SPX_GOLD", PARAMS["SPX_GOLD"]), "not a spec"]
    assert correlation_params_of(specs) == {"SPX_GOLD": PARAMS["SPX_GOLD"]}


def test_the_main_window_feeds_the_tab_from_its_snapshots(qtbot, tmp_path) -> None:
    # Arrange: a demo console, not started, so only this snapshot reaches it
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    window = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(window)
    snap = EngineSnapshot(datetime(2024, 1, 9, 14, 30, tzinfo=UTC), (FX, SPX_GOLD), "ACTIVE",
                          "", 100_000.0, 100_000.0, 0.0, 0.0, 0.0, True, "FRESH")
    empty_before = window.toolbox.regimes.title.text()
    # Act
    window.on_snapshot(snap)
    # Assert
    assert empty_before == EMPTY_TEXT
    assert [row[0] for row in window.toolbox.regimes.row_texts()] == ["SPX_GOLD"]
    window.shutdown()
