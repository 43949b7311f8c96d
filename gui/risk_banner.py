"""The account banner: the risk state a trader cannot miss, at the top of the window.

A drawdown halt once showed only as one warning line in a three-row log while every cluster
read ACTIVE in green.  The banner is a fixed strip above the panels (not a dock: it cannot
be closed) that says, in large type and colour, whether the engine may open baskets:
ACTIVE / CLOSE_ONLY / HALTED with the reason and since when (market time, UTC, and how long
in market time), plus what else restricts trading now: Algo Trading off, a news blackout
(which release, until when), a stale calendar, a lost connection.  It also carries the
latest alert when the system tray cannot show one (``gui.alerts``).

The text is built by pure functions of the engine's snapshot (``banner_lines``), so what the
banner says is tested without pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from engine.events import EngineEvent, NewsBlackout
from gui.plain_text import plain_label, plain_tip

#: (background, text) per account state: green, amber, red as in the Clusters table.
COLOURS = {"ACTIVE": ("#1b7f3b", "#ffffff"), "CLOSE_ONLY": ("#b26a00", "#ffffff"),
           "HALTED": ("#c62828", "#ffffff")}
#: The strip's height limit (px): the state in large type and two lines of notes.
BANNER_MAX_HEIGHT = 78
#: A blackout note names its clusters up to this many, else counts them (tooltip: all).
NAMED_CLUSTERS = 3
NOTE_STYLE = "background:#fff4e0; color:#5f3b00; border:1px solid #b26a00; padding:2px 6px;"


def span(delta: timedelta) -> str:
    """``2d 3h``, ``3h 05m``, ``12m``: how long, to the minute."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


@dataclass(frozen=True)
class BannerText:
    state: str
    headline: str
    detail: str
    notes: tuple[str, ...]


def banner_lines(snap: Any, blackouts: dict[str, NewsBlackout]) -> BannerText:
    """What the banner says for ``snap`` (an ``EngineSnapshot``); ``blackouts`` maps a
    cluster to the latest ``NewsBlackout`` event heard for it (the release's title)."""
    state = snap.account_state or "ACTIVE"
    reason = snap.account_reason or ""
    code, _, sentence = reason.partition(": ")
    if state == "ACTIVE":
        headline = "ACCOUNT ACTIVE"
        detail = "the engine may open baskets"
    else:
        headline = f"ACCOUNT {state.replace('_', ' ')}" + (f" \u2014 {code}" if code else "")
        detail = sentence or reason
        since = getattr(snap, "account_since", None)
        if since is not None:
            detail += (f"  |  since {since:%Y-%m-%d %H:%M} UTC (market time), "
                       f"{span(snap.time - since)} ago")
        if state == "HALTED" and getattr(snap, "rearmable", False):
            detail += "  |  no entries until you re-arm"
    notes = []
    if not getattr(snap, "automation", True):
        notes.append("Algo Trading OFF: no automatic entries (exits and stops still run)")
    if not snap.connected:
        notes.append("DISCONNECTED from the terminal")
    if snap.calendar_state == "STALE":
        notes.append("News calendar STALE: import a current one (Calendar tab)")
    notes.extend(_blackout_notes(snap, blackouts))
    if state == "ACTIVE" and notes:
        detail = "no account lock; what the notes name still holds entries back"
    return BannerText(state, headline, detail, tuple(notes))


def _blackout_notes(snap: Any, blackouts: dict[str, NewsBlackout]) -> list[str]:
    """One note per release blacking out clusters now: which release, until when."""
    by_release: dict[tuple[str, str, datetime], list[str]] = {}
    for view in snap.clusters:
        until = view.blackout_until
        if until is None or until <= snap.time:
            continue
        event = blackouts.get(view.name)
        title = (event.currency, event.title) if event is not None else ("", "news")
        by_release.setdefault((*title, until), []).append(view.name)
    notes = []
    for (currency, title, until), clusters in sorted(by_release.items(), key=lambda i: i[0][2]):
        what = f"{currency} {title}".strip()
        who = ", ".join(clusters) if len(clusters) <= NAMED_CLUSTERS else \
            f"{len(clusters)} clusters"
        notes.append(f"News blackout: {what} until {until:%H:%M} UTC ({who})")
    return notes


class RiskBanner(QFrame):
    """The strip: a large state label, its detail line, the restriction notes and the latest
    alert notice (with a button to dismiss it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RiskBanner")
        self._blackouts: dict[str, NewsBlackout] = {}
        # every label here shows data (reason texts, release titles, cluster names, alert
        # messages): plain text, never markup (gui.plain_text)
        self.state_label = plain_label("ACCOUNT \u2014")
        font = QFont(self.state_label.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.6)
        font.setBold(True)
        self.state_label.setFont(font)
        self.detail_label = plain_label()
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label = plain_label()
        self.notes_label.setStyleSheet(NOTE_STYLE)
        self.notes_label.setVisible(False)
        self.notice_label = plain_label()
        self.notice_label.setStyleSheet(NOTE_STYLE)
        self.notice_label.setWordWrap(True)
        for label in (self.notes_label, self.notice_label):
            label.setMaximumWidth(600)
        self.notice_dismiss = QPushButton("Dismiss")
        self.notice_dismiss.clicked.connect(self.clear_notice)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.state_label)
        text.addWidget(self.detail_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.addLayout(text, 3)
        row.addWidget(self.notes_label, 2)
        row.addWidget(self.notice_label, 2)
        row.addWidget(self.notice_dismiss)
        self.clear_notice()
        # a strip, not a panel: its height never grows with the text beside the state
        self.setMaximumHeight(BANNER_MAX_HEIGHT)
        self.text = BannerText("ACTIVE", "", "", ())
        self._paint("ACTIVE")

    def on_events(self, events: list[EngineEvent]) -> None:
        """Remember each cluster's latest blackout release (the snapshot has only the end)."""
        for ev in events:
            if isinstance(ev, NewsBlackout):
                self._blackouts[ev.cluster] = ev

    def update_snapshot(self, snap: Any) -> None:
        text = banner_lines(snap, self._blackouts)
        if text == self.text:
            return
        if text.state != self.text.state:
            self._paint(text.state)
        self.text = text
        self.state_label.setText(text.headline)
        self.detail_label.setText(text.detail)
        self.notes_label.setText("\n".join(text.notes))
        self.notes_label.setToolTip(plain_tip(self._blackout_tip(snap)))
        self.notes_label.setVisible(bool(text.notes))

    def _blackout_tip(self, snap: Any) -> str:
        """Every cluster in a blackout now, with its release and end."""
        lines = []
        for view in snap.clusters:
            if view.blackout_until is not None and view.blackout_until > snap.time:
                event = self._blackouts.get(view.name)
                what = f"{event.currency} {event.title}" if event is not None else "news"
                lines.append(f"{view.name}: {what} until {view.blackout_until:%H:%M} UTC")
        return "\n".join(lines)

    def show_notice(self, text: str) -> None:
        """The latest alert, until dismissed (where no system tray can show it)."""
        self.notice_label.setText(text)
        self.notice_label.setVisible(True)
        self.notice_dismiss.setVisible(True)

    def clear_notice(self) -> None:
        self.notice_label.clear()
        self.notice_label.setVisible(False)
        self.notice_dismiss.setVisible(False)

    def _paint(self, state: str) -> None:
        background, foreground = COLOURS.get(state, COLOURS["HALTED"])
        self.setStyleSheet(f"#RiskBanner {{ background:{background}; }} "
                           f"#RiskBanner > QLabel {{ color:{foreground}; }}")
        self.notes_label.setStyleSheet(NOTE_STYLE)
        self.notice_label.setStyleSheet(NOTE_STYLE)
