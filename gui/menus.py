"""The console's menu bar (File, View, Tools, Help), its shortcuts, and the layout reset.

The menus only reach what the window already does: opening a replay, importing a calendar,
exporting the history, flattening, re-arming, the alerts switch (when the window has them)
and New Order all call the window's or its panels' own methods, so a menu item and the
button beside it can never do two different things.

Shortcuts follow MetaTrader 5: F9 New Order, Ctrl+M Market Watch, Ctrl+T Toolbox, F11 full
screen; Ctrl+Q exits.  They are application-wide, so they work whichever panel has the
focus.

Reset layout puts every panel back where a first start puts it (``MainWindow.
default_layout``) and clears the saved arrangement from the console's settings, so the
next start opens in the default layout too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QMessageBox

#: The docks a first start arranges, their area and the View menu's shortcut.
DOCKS: tuple[tuple[str, str, Qt.DockWidgetArea, str], ...] = (
    ("Clusters", "Clusters", Qt.DockWidgetArea.LeftDockWidgetArea, ""),
    ("MarketWatch", "Market Watch", Qt.DockWidgetArea.LeftDockWidgetArea, "Ctrl+M"),
    ("Toolbox", "Toolbox", Qt.DockWidgetArea.BottomDockWidgetArea, "Ctrl+T"),
    ("Equity", "Equity", Qt.DockWidgetArea.BottomDockWidgetArea, ""),
)
#: The settings keys the window saves its arrangement under (``MainWindow._save_layout``).
LAYOUT_KEYS = ("geometry", "state")


def product_version() -> str:
    """The installed package's version ("not installed" when run from a bare checkout)."""
    try:
        return metadata.version("fxcluster")
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class Menus:
    """The menu bar's actions by name (tests and other parts reach them here)."""

    bar: QMenuBar
    actions: dict[str, QAction] = field(default_factory=dict)
    menus: dict[str, QMenu] = field(default_factory=dict)


def _action(menus: Menus, menu: QMenu, key: str, text: str, slot: Callable[[], Any] | None,
            shortcut: str = "") -> QAction:
    action = QAction(text, menu)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    menus.actions[key] = action
    return action


def _docks(window: Any) -> dict[str, QDockWidget]:
    return {d.objectName(): d for d in window.findChildren(QDockWidget)}


def install_menus(window: Any) -> Menus:
    """Build the menu bar on ``window`` (a ``MainWindow``) and return its actions."""
    menus = Menus(window.menuBar())
    _file_menu(window, menus)
    _view_menu(window, menus)
    _tools_menu(window, menus)
    _help_menu(window, menus)
    return menus


def _file_menu(window: Any, menus: Menus) -> None:
    menu = menus.menus["File"] = menus.bar.addMenu("&File")
    _action(menus, menu, "open_replay", "Open replay...", window._open_replay, "Ctrl+O")
    _action(menus, menu, "import_calendar", "Import calendar...",
            window.toolbox.calendar.import_files)
    _action(menus, menu, "export_history", "Export history (CSV)...",
            window.toolbox.history.export_csv)
    menu.addSeparator()
    _action(menus, menu, "exit", "Exit", window.close, "Ctrl+Q")


def _view_menu(window: Any, menus: Menus) -> None:
    menu = menus.menus["View"] = menus.bar.addMenu("&View")
    docks = _docks(window)
    for name, title, _area, shortcut in DOCKS:
        dock = docks.get(name)
        if dock is None:
            continue
        toggle = dock.toggleViewAction()
        toggle.setText(title)
        if shortcut:
            toggle.setShortcut(QKeySequence(shortcut))
            toggle.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        menu.addAction(toggle)
        menus.actions[name] = toggle
    menu.addSeparator()
    full = _action(menus, menu, "full_screen", "Full screen", None, "F11")
    full.setCheckable(True)
    full.toggled.connect(lambda on: window.showFullScreen() if on else window.showNormal())
    _action(menus, menu, "reset_layout", "Reset layout", lambda: reset_layout(window))


def _tools_menu(window: Any, menus: Menus) -> None:
    menu = menus.menus["Tools"] = menus.bar.addMenu("&Tools")
    orders = getattr(window, "orders", None)
    if orders is not None:  # New Order (gui/order_dialog.py) owns its F9 action
        menu.addAction(orders.new_order_action)
        menus.actions["new_order"] = orders.new_order_action
    risk = getattr(window, "risk", None)
    if risk is not None:  # the toolbar's own actions (gui/risk_controls.py): one enabled state
        for name, action in (("flatten_all", risk.flatten), ("rearm", risk.rearm_action)):
            menu.addAction(action)
            menus.actions[name] = action
        menu.addSeparator()
        menu.addAction(risk.alerts.action)
        menus.actions["alerts"] = risk.alerts.action
    else:
        _action(menus, menu, "flatten_all", "Flatten all...", window.flatten_all)


def _help_menu(window: Any, menus: Menus) -> None:
    menu = menus.menus["Help"] = menus.bar.addMenu("&Help")
    _action(menus, menu, "about", "About", lambda: show_about(window))


def about_text(window: Any) -> str:
    """Version, data directory, mode and journal: what a bug report needs first."""
    from app.console import settings_path

    session = window.session
    journal = getattr(getattr(session, "journal", None), "path", None)
    lines = [f"FX Cluster Console {product_version()}",
             f"Mode: {session.mode.value}",
             f"Data directory: {settings_path().parent}"]
    if journal is not None:
        lines.append(f"Journal: {journal}")
    return "\n".join(lines)


def about_box(window: Any) -> QMessageBox:
    """The About box; its text is shown literally (it holds file paths, which are data)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About FX Cluster Console",
                      about_text(window), QMessageBox.StandardButton.Ok, window)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def show_about(window: Any) -> None:
    about_box(window).exec()


def reset_layout(window: Any) -> None:
    """Every panel back to its first-start place and size; the saved arrangement cleared."""
    from app.console import settings_path

    docks = _docks(window)
    for name, _title, area, _shortcut in DOCKS:
        dock = docks.get(name)
        if dock is None:
            continue
        dock.setFloating(False)
        window.removeDockWidget(dock)
        window.addDockWidget(area, dock)
        dock.show()
    window.default_layout()
    s = QSettings(str(settings_path()), QSettings.Format.IniFormat)  # main_window.settings()
    for key in LAYOUT_KEYS:
        s.remove(key)
    s.sync()
    window.statusBar().showMessage("layout reset to the default", 5_000)
