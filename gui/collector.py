"""Python's cyclic garbage collector, run on the GUI thread only while a console is open.

Why: the collector runs in whichever thread happens to allocate when a generation fills,
and the engine thread allocates most.  A reference cycle that holds a Qt object (a closed
dialog and its lambdas, a chart's items) is then freed on the engine thread: the QObject's
destructor runs there, takes a Qt lock the GUI thread may hold, and calls back into Python
for the GIL the GUI thread holds while it waits for that lock.  Both threads wait for ever
and the console freezes.  With automatic collection off while a window is open and a timer
collecting on the GUI thread, every Qt object in a cycle dies on the thread that owns it.

The timer keeps the collector's generations: the youngest every tick, the middle one every
``MIDDLE_EVERY`` ticks, everything every ``FULL_EVERY`` ticks.  The first window turns
automatic collection off and the last one closed turns it back on as it was.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: Milliseconds between two collections of the youngest generation (Python's own default
#: collects it every 700 net allocations: a few times a second in a busy console).
TICK_MS = 200
#: Ticks between collections of the middle generation (2 s).
MIDDLE_EVERY = 10
#: Ticks between full collections (20 s).
FULL_EVERY = 100

_open_collectors = 0
_enabled_before = True


class GuiThreadCollector(QObject):
    """Collects garbage on the thread that created it (the GUI thread) until ``stop``."""

    def __init__(self, parent: QObject | None = None, tick_ms: int = TICK_MS) -> None:
        super().__init__(parent)
        global _open_collectors, _enabled_before
        if _open_collectors == 0:
            _enabled_before = gc.isenabled()
        _open_collectors += 1
        gc.disable()
        self._ticks = 0
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """One tick: collect the generation due; returns the number of objects freed."""
        self._ticks += 1
        if self._ticks % FULL_EVERY == 0:
            return gc.collect(2)
        if self._ticks % MIDDLE_EVERY == 0:
            return gc.collect(1)
        return gc.collect(0)

    def stop(self) -> None:
        """Collect once more here, then give collection back to Python when this was the
        last open collector."""
        if self._stopped:
            return
        self._stopped = True
        global _open_collectors
        self._timer.stop()
        gc.collect()
        _open_collectors -= 1
        if _open_collectors == 0 and _enabled_before:
            gc.enable()
