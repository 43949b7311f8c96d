"""The window's risk controls: the account banner, alerts, and the toolbar's Algo Trading,
Flatten all and Re-arm actions, with the dialogs they open.

Kept out of ``gui.main_window`` so the window only wires them: it hands this object each
snapshot and batch of events, and adds its actions to the toolbar.

- **Algo Trading** pauses and resumes automation only (``commands.SetAutomation``): with it
  off the engine opens no basket by itself, while exits, stops and the risk rules keep
  running (as MT5 keeps server-side SL/TP).  It never changes a cluster's state and never
  re-arms the account.
- **Re-arm** is its own command, enabled only while an account lock is in force, behind a
  confirmation that states the new drawdown reference and the stop level in money.
- **Flatten all** states how many baskets and positions it closes and their P&L, defaults
  to No, and is disabled with nothing open.
- **Open a basket by hand** previews it first (``gui.dialogs.basket_preview``).

While a trading dialog is open in demo or replay, the console holds the simulated clock, so
the market the trader is looking at is the one the order meets; a live market cannot be
held, so there the engine refuses a basket whose prices moved beyond the deviation and the
dialog shows a fresh preview.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMainWindow, QToolBar

from engine import commands as cmd
from engine.events import EngineEvent
from gui.alerts import AlertCenter
from gui.dialogs.basket_preview import BasketPreviewDialog
from gui.dialogs.confirmations import flatten_text, open_counts, rearm_text
from gui.kind_columns import score_name
from gui.risk_banner import RiskBanner

ALGO_TIP = ("Algo Trading: automatic entries on or off. Off: the engine opens no basket by "
            "itself; exits, stops and the risk rules keep running (as MT5 keeps server-side "
            "SL/TP), and you may still open a basket by hand. It never changes a cluster's "
            "state and never re-arms the account")
REARM_TIP = ("Re-arm the account after a risk stop: clears the account's lock and restarts "
             "the drawdown reference at the current equity (asks first, with the figures)")
FLATTEN_TIP = "Close every basket and position at market (asks first, with the count and P&L)"


class RiskControls(QObject):
    """See the module docstring.  ``submit`` sends a command to the engine; ``confirm`` asks
    a yes/no question that defaults to No (the window's, which tests answer)."""

    def __init__(self, window: QMainWindow, settings: QSettings,
                 submit: Callable[[cmd.Command], None],
                 confirm: Callable[[str, str], bool]) -> None:
        super().__init__(window)
        self.window = window
        self._submit = submit
        self._confirm = confirm
        self._snap: Any = None
        self.dialog: BasketPreviewDialog | None = None
        self.banner = RiskBanner()
        self.banner_bar = QToolBar("Account")
        self.banner_bar.setObjectName("AccountBanner")
        self.banner_bar.setMovable(False)
        self.banner_bar.setFloatable(False)
        self.banner_bar.toggleViewAction().setVisible(False)  # cannot be hidden
        self.banner_bar.addWidget(self.banner)
        self.alerts = AlertCenter(settings, self.banner.show_notice, self)
        self.algo = QAction("Algo Trading", self)
        self.algo.setCheckable(True)
        self.algo.setChecked(True)
        self.algo.setToolTip(ALGO_TIP)
        self.algo.triggered.connect(self.set_automation)
        self.flatten = QAction("Flatten all", self)
        self.flatten.setToolTip(FLATTEN_TIP)
        self.flatten.setEnabled(False)
        self.flatten.triggered.connect(self.flatten_all)
        self.rearm_action = QAction("Re-arm", self)
        self.rearm_action.setToolTip(REARM_TIP)
        self.rearm_action.setEnabled(False)
        self.rearm_action.triggered.connect(self.rearm)

    def install(self, toolbar: QToolBar) -> None:
        """Add the actions to ``toolbar`` and the banner as a full-width row below it."""
        toolbar.addAction(self.algo)
        toolbar.addAction(self.flatten)
        toolbar.addAction(self.rearm_action)
        toolbar.addAction(self.alerts.action)
        self.window.addToolBarBreak()
        self.window.addToolBar(self.banner_bar)

    def keep_banner_visible(self) -> None:
        """A restored layout must not hide the banner."""
        self.banner_bar.setVisible(True)

    # ------------------------------------------------------------------ engine → widgets

    def on_snapshot(self, snap: Any) -> None:
        self._snap = snap
        self.banner.update_snapshot(snap)
        self.alerts.on_snapshot(snap)
        if self.algo.isChecked() != snap.automation:
            self.algo.setChecked(snap.automation)
        self.rearm_action.setEnabled(bool(snap.rearmable))
        baskets, positions = open_counts(snap)
        self.flatten.setEnabled(baskets + positions > 0)

    def on_events(self, events: list[EngineEvent]) -> None:
        self.banner.on_events(events)
        self.alerts.on_events(events)
        if self.dialog is not None:
            self.dialog.on_events(events)

    # ------------------------------------------------------------------ actions

    def set_automation(self, on: bool) -> None:
        self._submit(cmd.SetAutomation(enabled=bool(on), source="gui"))

    def flatten_all(self) -> None:
        snap = self._latest()
        if snap is None or sum(open_counts(snap)) == 0:
            return
        with self.hold_clock():
            if self._confirm("Flatten all", flatten_text(snap)):
                self._submit(cmd.FlattenAll(source="gui"))

    def rearm(self) -> None:
        snap = self._latest()
        if snap is None or not snap.rearmable:
            return
        with self.hold_clock():
            if self._confirm("Re-arm the account", rearm_text(snap)):
                self._submit(cmd.Rearm(source="gui"))

    def open_basket(self, cluster: str, direction: str) -> int:
        """Preview and (if confirmed) open a basket; returns the dialog's result code."""
        live = self._live()
        note = ("Live market: prices keep moving; the engine refuses the basket if a leg "
                "moved beyond the deviation" if live else
                "The simulated clock is held while this dialog is open")
        views = {v.name: v for v in getattr(self._latest(), "clusters", ())}
        score = score_name(views[cluster]) if cluster in views else "TDI"
        self.dialog = BasketPreviewDialog(cluster, direction, self._submit, clock_note=note,
                                          parent=self.window, score=score)
        try:
            with self.hold_clock():
                return self.run_dialog(self.dialog)
        finally:
            self.dialog.deleteLater()
            self.dialog = None

    def run_dialog(self, dialog: QDialog) -> int:
        """Show ``dialog`` and wait for the trader (overridable: tests drive the dialog)."""
        return dialog.exec()

    @contextmanager
    def hold_clock(self) -> Iterator[None]:
        """Hold a demo or replay clock while the trader decides; live cannot be held."""
        pacer = getattr(self.window, "pacer", None)
        hold = pacer is not None and not self._live() and not pacer.paused
        if hold:
            pacer.pause()
        try:
            yield
        finally:
            if hold:
                pacer.resume()

    def _live(self) -> bool:
        session = getattr(self.window, "session", None)
        mode = getattr(getattr(session, "mode", None), "value", "")
        return mode == "live"

    def _latest(self) -> Any:
        engine = getattr(self.window, "engine", None)
        latest = engine.latest_snapshot() if engine is not None else None
        return latest if latest is not None else self._snap
