"""Work on a plain thread, its result handed to the GUI thread without touching Qt there.

A worker thread that emits a widget's signal when it finishes races the widget's
destruction: if the tab closes while the thread computes, the emit reaches a C++ object
being deleted and the process can crash (seen with several summaries of the Research tab
still computing for tabs a test had closed).  Here the thread only puts its result on a
Python queue; a timer owned by the widget takes it on the GUI thread and calls back.
When the widget goes, its timer goes with it, and a thread still running finishes into a
queue nobody reads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

__all__ = ["ResultPump"]

log = logging.getLogger(__name__)

#: How often the GUI thread looks for finished work (ms).
POLL_MS = 30


class ResultPump(QObject):
    """Runs callables on daemon threads and calls ``on_result`` with what they return, on
    the GUI thread, in the order they finish."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._done: queue.SimpleQueue[tuple[Callable[[Any], None] | None, Any]] = \
            queue.SimpleQueue()
        self._running = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._drain)

    def run(self, work: Callable[[], Any], on_result: Callable[[Any], None], *,
            name: str = "worker") -> None:
        """``work()`` on a new daemon thread; ``on_result(its value)`` later on this one."""
        done = self._done  # the thread sees the queue only, never this object

        def target() -> None:
            try:
                value = work()
            except Exception:  # the thread's failure goes to the log, not to the GUI
                log.exception("%s failed", name)
                done.put((None, None))
                return
            done.put((on_result, value))

        self._running += 1
        self._timer.start()
        threading.Thread(target=target, name=name, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                on_result, value = self._done.get_nowait()
            except queue.Empty:
                return
            self._running -= 1
            if self._running <= 0:
                self._running = 0
                self._timer.stop()
            if on_result is not None:
                on_result(value)
