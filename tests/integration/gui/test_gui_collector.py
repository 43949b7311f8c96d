"""Garbage cycles holding Qt objects die on the GUI thread while a console is open
(gui/collector.py: a cycle freed on the engine thread deadlocked the two threads)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from gui.collector import GuiThreadCollector


def _allocate_containers(count: int) -> None:
    """What an engine thread does all day: make and drop many small containers (enough to
    fill the collector's youngest generation many times over)."""
    for i in range(count):
        garbage = [i, (i,), {"i": i}]
        del garbage


def test_a_cycle_with_a_qobject_is_freed_on_the_gui_thread_not_on_a_busy_worker(qtbot) -> None:
    # Arrange
    collector = GuiThreadCollector(tick_ms=20)
    freed_on: list[int] = []
    orphan = QObject()
    orphan.me = orphan  # a reference cycle through the wrapper
    weakref.finalize(orphan, lambda: freed_on.append(threading.get_ident()))
    del orphan
    try:
        # Act
        worker = threading.Thread(target=_allocate_containers, args=(200_000,))
        worker.start()
        worker.join()
        freed_before_tick = list(freed_on)
        qtbot.waitUntil(lambda: len(freed_on) > 0, timeout=5_000)
    finally:
        collector.stop()
    # Assert
    assert freed_before_tick == []
    assert freed_on == [threading.main_thread().ident]


def test_automatic_collection_is_off_while_a_collector_runs_and_back_after_the_last(qtbot) -> None:
    # Arrange
    assert gc.isenabled()
    # Act
    first = GuiThreadCollector()
    second = GuiThreadCollector()
    during = gc.isenabled()
    first.stop()
    after_first = gc.isenabled()
    second.stop()
    second.stop()  # twice is harmless
    # Assert
    assert (during, after_first, gc.isenabled()) == (False, False, True)


def test_a_collector_leaves_collection_off_when_it_was_off_before(qtbot) -> None:
    # Arrange
    gc.disable()
    try:
        # Act
        collector = GuiThreadCollector()
        collector.stop()
        # Assert
        assert not gc.isenabled()
    finally:
        gc.enable()
