"""From the engine's thread to the GUI thread.

The engine publishes events on its own thread, at whatever rate the replay runs: thousands
a second at max speed.  Emitting a queued Qt signal per event would flood the GUI's event
loop, so the bridge buffers events in a thread-safe deque and a GUI-thread timer drains it
in batches, keeping only the latest TDI value of each cluster (the table shows one number
per cluster) and every other event in order.  The widgets then receive plain Qt signals on
the GUI thread.  The engine's latest snapshot is read the same way, at the same pace (the
one the engine's thread built: reading never builds one on the GUI thread).  The engine
rebuilds its snapshot at most five times a second and the bridge drains ten times a
second, so a snapshot already handed over is handed over again only after
``RESEND_S``: every widget that reads it would redo its work for nothing (measured in
``bench/README.md``, console section), but what the window shows beside the snapshot's
figures (the replay's end once the engine has stopped) still follows.
"""

from __future__ import annotations

import collections
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

from engine.events import EngineEvent, TdiUpdated
from engine.runner import Engine

#: Most events handed to the widgets per drain (the rest wait for the next tick).
MAX_EVENTS_PER_DRAIN = 400
#: Seconds before a snapshot already handed over is handed over again.
RESEND_S = 1.0


class EngineBridge(QObject):
    events = Signal(object)  # list[EngineEvent], in order, on the GUI thread
    snapshot = Signal(object)  # EngineSnapshot

    def __init__(self, engine: Engine, interval_ms: int = 100,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._buffer: collections.deque[EngineEvent] = collections.deque()
        self._lock = threading.Lock()
        self._unsubscribe = engine.subscribe(self._on_engine_event)
        self._last_snapshot: object | None = None
        self._last_sent = -float("inf")
        #: Snapshots handed to the widgets so far (the tests count them).
        self.snapshots_emitted = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def _on_engine_event(self, event: EngineEvent) -> None:  # engine thread
        with self._lock:
            self._buffer.append(event)

    def drain(self) -> None:
        with self._lock:
            items = list(self._buffer)
            self._buffer.clear()
        if items:
            latest_tdi: dict[tuple[str, str], int] = {}
            for i, ev in enumerate(items):
                if isinstance(ev, TdiUpdated):
                    latest_tdi[(ev.cluster, ev.timeframe)] = i
            keep = [ev for i, ev in enumerate(items)
                    if not isinstance(ev, TdiUpdated)
                    or latest_tdi[(ev.cluster, ev.timeframe)] == i
                    or ev.timeframe != "M1"]  # every signal-bar close is kept
            for start in range(0, len(keep), MAX_EVENTS_PER_DRAIN):
                self.events.emit(keep[start:start + MAX_EVENTS_PER_DRAIN])
        snap = self.engine.latest_snapshot()
        now = time.monotonic()
        if snap is not None and (snap is not self._last_snapshot
                                 or now - self._last_sent >= RESEND_S):
            self._last_snapshot, self._last_sent = snap, now
            self.snapshots_emitted += 1
            self.snapshot.emit(snap)

    def close(self) -> None:
        self._timer.stop()
        self._unsubscribe()
