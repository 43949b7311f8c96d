"""The console's status bar: the account as MT5 shows it, and the engine's own figures.

MT5's terminal shows Balance, Equity, Margin, Free margin and Margin level at the foot of
its Trade tab; here they sit in the window's status bar, always visible whatever panel is
open, beside what the engine adds: the connection, the market clock (UTC and server), the
day's P&L and the risk in use.  The labels are permanent widgets on the right; the message
area on the left stays free for ``showMessage`` (a failed command, what the engine waits
for).

Each figure says its basis in its tooltip: they are the terminal's ``account_info`` values
as the latest engine snapshot carries them, not recomputed here.
"""

from __future__ import annotations

import math
from typing import Protocol

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.formatting import format_money

#: Label key -> what its figure is (the tooltip).
FIELDS: dict[str, str] = {
    "connection": "the terminal connection the engine sees",
    "time": "the market clock: UTC, and the broker's server time",
    "balance": "account balance: deposits plus closed P&L (terminal account_info.balance)",
    "equity": "balance plus floating P&L of open positions (account_info.equity)",
    "margin": "margin held by open positions (account_info.margin)",
    "free_margin": "equity minus margin (account_info.margin_free)",
    "margin_level": "equity / margin x 100 (account_info.margin_level); blank without "
                    "positions, as MT5",
    "daily": "today's P&L: equity minus equity at the trading day's start (17:00 New York)",
    "risk": "risk in use: the open baskets' risk budgets (their hard-stop losses), and their "
            "share of equity",
}


class SnapshotLike(Protocol):
    """What the bar reads (``engine.snapshot.EngineSnapshot`` has these fields)."""

    connected: bool
    balance: float
    equity: float
    margin: float
    free_margin: float
    margin_level: float
    daily_pnl: float
    open_risk: float


def _money(value: float) -> str:
    return format_money(value) if math.isfinite(value) else "-"


def status_texts(snap: SnapshotLike) -> dict[str, str]:
    """The text of each account label (a pure function: the tests read it, the bar shows it)."""
    level = snap.margin_level
    risk_pct = snap.open_risk / snap.equity * 100 if snap.equity else 0.0
    return {
        # blank while connected (the toolbar says so): the bar's width goes to the figures
        "connection": "" if snap.connected else "DISCONNECTED",
        "balance": f"Balance: {_money(snap.balance)}",
        "equity": f"Equity: {_money(snap.equity)}",
        "margin": f"Margin: {_money(snap.margin)}",
        "free_margin": f"Free margin: {_money(snap.free_margin)}",
        "margin_level": (f"Margin level: {level:,.2f}%" if math.isfinite(level) and level > 0
                         else "Margin level: -"),
        "daily": f"Day P&L: {format_money(snap.daily_pnl, signed=True)}",
        "risk": f"Risk in use: {_money(snap.open_risk)} ({risk_pct:.2f}%)"
                if math.isfinite(risk_pct) else "Risk in use: -",
    }


class ConsoleStatusBar(QStatusBar):
    """Permanent labels for the account and the clock; the message area stays free."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ConsoleStatusBar")
        self.labels: dict[str, QLabel] = {}
        for key, tip in FIELDS.items():
            label = QLabel()
            label.setObjectName(f"status_{key}")
            label.setToolTip(tip)
            label.setContentsMargins(4, 0, 4, 0)
            self.addPermanentWidget(label)
            self.labels[key] = label
        # styled once: a style sheet set with every snapshot re-polished the label each time
        self.labels["connection"].setStyleSheet("color: #c62828; font-weight: bold")

    def show_snapshot(self, snap: SnapshotLike, clock: str) -> None:
        """Show ``snap``'s account figures and the market ``clock`` text."""
        for key, text in status_texts(snap).items():
            self.labels[key].setText(text)
        connection = self.labels["connection"]
        connection.setVisible(bool(connection.text()))
        self.labels["time"].setText(clock)
