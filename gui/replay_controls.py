"""The replay's clock controls: progress, "Jump to" that follows the clock, and the end.

A replay stops at the end of its data (``app.console.EndOfDataPacer`` holds the clock, the
engine's worker stops at a known end); this watcher notices it on the GUI thread, fills
the progress bar and shows a bar across the top of the window with two choices, replay
the same data again or open other files.  Nothing is modal: the charts, the History and
the Journal stay usable while the notice is up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QObject, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QToolBar,
)

from app.console import replay_finished

#: "Jump to" proposes this far ahead of the clock (a jump backwards cannot be done).
JUMP_AHEAD_MS = 3_600_000


class ReplayEndBar(QToolBar):
    """"Replay finished ... [Replay again] [Open other files...]", hidden until the end."""

    replayAgain = Signal()
    openAnother = Signal()

    def __init__(self, parent: QMainWindow) -> None:
        super().__init__("Replay finished", parent)
        self.setObjectName("ReplayEndBar")
        self.setMovable(False)
        self.label = QLabel()
        self.label.setStyleSheet("font-weight: bold; padding: 0 8px;")
        self.addWidget(self.label)
        self.again = QPushButton("Replay again")
        self.again.clicked.connect(self.replayAgain)
        self.addWidget(self.again)
        self.other = QPushButton("Open other files...")
        self.other.clicked.connect(self.openAnother)
        self.addWidget(self.other)
        self.setVisible(False)

    def show_end(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(True)


class ReplayWatcher(QObject):
    """Progress of a replay and its end, polled on the GUI thread.

    ``now_msc``: the engine's clock; ``finished``: whether the data has ended (the
    pacer's and the worker's word).  ``ended`` fires once."""

    ended = Signal(str)

    POLL_MS = 250

    def __init__(self, progress: QProgressBar, start_msc: int, end_msc: int | None,
                 now_msc: Callable[[], int], finished: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = progress
        self.start_msc = start_msc
        self.end_msc = end_msc
        self.now_msc = now_msc
        self.finished = finished
        self.done = False
        if end_msc is None:
            progress.setRange(0, 0)  # busy: the end of these files is not known in advance
        else:
            progress.setRange(0, 1000)
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def fraction(self, now_msc: int) -> float:
        if self.end_msc is None or self.end_msc <= self.start_msc:
            return 0.0
        return max(0.0, min((now_msc - self.start_msc) / (self.end_msc - self.start_msc), 1.0))

    def poll(self) -> None:
        if self.done:
            return
        now = self.now_msc()
        if self.end_msc is not None:
            self.progress.setValue(int(self.fraction(now) * 1000))
            self.progress.setFormat(f"%p%  {_utc(now):%Y-%m-%d}")
        if replay_finished(None, now, self.end_msc) or self.finished():
            self.done = True
            self._timer.stop()
            self.progress.setRange(0, 1000)
            self.progress.setValue(1000)
            self.progress.setFormat("100%  end of data")
            self.ended.emit(f"Replay finished: the data ends {_utc(now):%Y-%m-%d %H:%M} UTC.")


def follow_clock(edit: QDateTimeEdit, now_msc: int) -> None:
    """"Jump to" proposes an hour after the clock, unless the trader is editing it."""
    if edit.hasFocus():
        return
    edit.setMinimumDateTime(QDateTime.fromMSecsSinceEpoch(now_msc, QTimeZone.utc()))
    edit.setDateTime(QDateTime.fromMSecsSinceEpoch(now_msc + JUMP_AHEAD_MS, QTimeZone.utc()))


def install_replay_end(window: QMainWindow, progress: QProgressBar, start_msc: int,
                       end_msc: int | None, now_msc: Callable[[], int],
                       finished: Callable[[], bool]) -> tuple[ReplayEndBar, ReplayWatcher]:
    """The end bar (under the main toolbar) and the watcher that shows it."""
    bar = ReplayEndBar(window)
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    watcher = ReplayWatcher(progress, start_msc, end_msc, now_msc, finished, parent=window)
    watcher.ended.connect(bar.show_end)
    return bar, watcher


def _utc(msc: int) -> datetime:
    return datetime.fromtimestamp(msc / 1000, tz=UTC)
