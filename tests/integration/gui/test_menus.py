"""The console's menu bar: its menus, MT5's shortcuts, what the actions do, the layout reset
and About (offscreen Qt, a real window on a demo session at 1x)."""

from __future__ import annotations

import pytest
from helpers.engine_setup import SYMBOLS, config

from app.console import settings_path
from app.sessions import demo_session
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from gui.main_window import MainWindow
from gui.menus import about_text, product_version

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, 1.0), speed=1.0)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    w.start()
    yield w
    w.shutdown()


def docks(window) -> dict[str, QDockWidget]:
    return {d.objectName(): d for d in window.findChildren(QDockWidget)}


def test_menus_and_their_shortcuts_are_mt5s(window):
    menus = window.menus
    shortcut = {key: action.shortcut().toString() for key, action in menus.actions.items()}

    assert [a.text() for a in window.menuBar().actions()] == ["&File", "&View", "&Tools",
                                                              "&Help"]
    assert shortcut["new_order"] == "F9"
    assert shortcut["MarketWatch"] == "Ctrl+M"
    assert shortcut["Toolbox"] == "Ctrl+T"
    assert shortcut["full_screen"] == "F11"
    assert shortcut["exit"] == "Ctrl+Q"
    assert {"open_replay", "import_calendar", "export_history", "Clusters", "Equity",
            "reset_layout", "flatten_all", "about"} <= set(menus.actions)


def test_ctrl_t_and_ctrl_m_toggle_the_toolbox_and_market_watch(window, qtbot):
    window.activateWindow()
    toolbox, watch = docks(window)["Toolbox"], docks(window)["MarketWatch"]

    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)

    assert not toolbox.isVisible() and not watch.isVisible()
    window.menus.actions["Toolbox"].trigger()
    assert toolbox.isVisible()


def test_tools_menu_shares_the_toolbars_risk_actions(window):
    # Flatten all, Re-arm and the alerts switch are the toolbar's actions: the menu item is
    # disabled exactly when the toolbar's is (nothing open, nothing to re-arm)
    actions = window.menus.actions
    assert actions["flatten_all"] is window.risk.flatten
    assert actions["rearm"] is window.risk.rearm_action
    assert actions["alerts"] is window.risk.alerts.action
    assert not actions["flatten_all"].isEnabled()  # nothing open yet


def test_reset_layout_restores_the_default_docks_and_clears_the_saved_one(window, qtbot):
    # Arrange: a trader's arrangement, saved
    d = docks(window)
    d["Toolbox"].setFloating(True)
    d["MarketWatch"].hide()
    window.removeDockWidget(d["Equity"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d["Equity"])
    d["Equity"].show()
    window._save_layout()
    saved = QSettings(str(settings_path()), QSettings.Format.IniFormat)
    assert saved.value("state") is not None
    # Act
    window.menus.actions["reset_layout"].trigger()
    # Assert
    area = window.dockWidgetArea
    assert not d["Toolbox"].isFloating() and d["MarketWatch"].isVisible()
    assert area(d["Clusters"]) == area(d["MarketWatch"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert area(d["Toolbox"]) == area(d["Equity"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    after = QSettings(str(settings_path()), QSettings.Format.IniFormat)
    assert after.value("state") is None and after.value("geometry") is None
    assert "layout reset" in window.statusBar().currentMessage()


def test_full_screen_toggles(window, qtbot):
    action = window.menus.actions["full_screen"]
    action.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT_MS)
    action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=WAIT_MS)


def test_about_names_version_data_directory_and_mode(window):
    text = about_text(window)

    assert product_version() in text
    assert f"Data directory: {settings_path().parent}" in text
    assert "Mode: demo" in text and "journal.sqlite" in text
