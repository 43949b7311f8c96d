"""Alerts: a sound and a pop-up when the account's state worsens or an order is rejected.

Worse means ACTIVE -> CLOSE_ONLY -> HALTED, or the terminal connection dropping; an
improvement (a lock released, a re-arm, the connection back) is silent.  An order is
rejected when a trading command comes back not done (``CommandDone`` not ok for an open,
close, flatten or single-symbol order) or a leg does not fill (the engine's ``execution``
error line).  The pop-up is the system tray's message where a tray exists, else the
banner's notice (a non-modal line in the window, never a modal box that would stop the
trader's hand); the tray's text never carries markup (``gui.plain_text.notification_text``:
an alert can quote data, a calendar title or a broker's message).  The sound is
``QApplication.beep`` (no multimedia module is needed).

Alerts can be switched off with a checkable action whose state is kept in the console's
settings, so the choice survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon

from engine.events import CommandDone, EngineEvent, LogLine
from engine.snapshot import STATE_RANK
from gui.plain_text import notification_text

#: Commands that trade: one not done is a rejected order.
ORDER_COMMANDS = frozenset({"OpenBasket", "CloseBasket", "ClosePosition", "FlattenAll",
                            "PlaceOrder"})
SETTING = "alerts/enabled"


def severity(snap: Any) -> tuple[int, bool]:
    """(rank of the account state, disconnected): each part only ever alerts upwards."""
    return STATE_RANK.get(snap.account_state, 0), not snap.connected


class AlertCenter(QObject):
    """Decides when to alert and raises each alert once (see the module docstring)."""

    def __init__(self, settings: QSettings, notice: Callable[[str], None],
                 parent: QObject | None = None, *,
                 beep: Callable[[], None] = QApplication.beep) -> None:
        super().__init__(parent)
        self._settings = settings
        self._notice = notice
        self._beep = beep
        #: A session starting halted alerts once: the baseline is an ACTIVE, connected account.
        self._last = (0, False)
        #: Every alert raised, oldest first (the console's record; tests read it).
        self.raised: list[str] = []
        self.action = QAction("Alerts", self)
        self.action.setCheckable(True)
        self.action.setChecked(_truthy(settings.value(SETTING, True)))
        self.action.setToolTip("Beep and show a message when the account's risk state worsens "
                               "or an order is rejected")
        self.action.toggled.connect(self._remember)
        self._tray: QSystemTrayIcon | None = None

    @property
    def enabled(self) -> bool:
        return self.action.isChecked()

    def on_snapshot(self, snap: Any) -> None:
        now = severity(snap)
        rank, down = now
        worse = rank > self._last[0] or (down and not self._last[1])
        self._last = now
        if not worse:
            return
        if down and rank <= STATE_RANK["CLOSE_ONLY"]:
            self.alert("Terminal DISCONNECTED: no new entries")
        else:
            self.alert(f"Account {snap.account_state}: {snap.account_reason}")

    def on_events(self, events: list[EngineEvent]) -> None:
        for ev in events:
            if isinstance(ev, CommandDone) and not ev.ok and ev.command in ORDER_COMMANDS:
                self.alert(f"{ev.command} rejected: {ev.message}")
            elif isinstance(ev, LogLine) and ev.level == "ERROR" and \
                    ev.text.startswith("execution:"):
                self.alert(f"Order rejected: {ev.text.removeprefix('execution:').strip()}")

    def alert(self, text: str) -> None:
        """Raise one alert: remembered always, heard and shown when alerts are on."""
        self.raised.append(text)
        if not self.enabled:
            return
        self._beep()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray_icon().showMessage("FX Cluster Console", notification_text(text),
                                          QSystemTrayIcon.MessageIcon.Warning, 10_000)
        else:
            self._notice(text)

    def _tray_icon(self) -> QSystemTrayIcon:
        if self._tray is None:
            icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.show()
        return self._tray

    def _remember(self, on: bool) -> None:
        self._settings.setValue(SETTING, bool(on))
        self._settings.sync()


def _truthy(value: object) -> bool:
    """QSettings' INI format gives booleans back as the strings "true"/"false"."""
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"
