"""A worker's result reaches the GUI thread through a queue, never through Qt from the worker.

``gui.worker_results.ResultPump`` replaced workers that emitted a widget's signal when they
finished: a tab closed meanwhile could crash the process.  These tests run real threads
and real widgets.
"""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from gui.worker_results import ResultPump


def test_the_result_arrives_on_the_gui_thread(qtbot):
    # Arrange
    widget = QWidget()
    qtbot.addWidget(widget)
    pump = ResultPump(widget)
    got: list[tuple[int, bool]] = []

    # Act: the work runs elsewhere, the callback here
    pump.run(lambda: 6 * 7, lambda value: got.append(
        (value, threading.current_thread() is threading.main_thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=5_000)

    # Assert
    assert got == [(42, True)]


def test_work_finishing_after_its_widget_is_gone_is_dropped_quietly(qtbot):
    # Arrange: the work waits until the widget has been deleted
    widget = QWidget()
    pump = ResultPump(widget)
    release, finished, got = threading.Event(), threading.Event(), []

    def work() -> int:
        release.wait(5)
        finished.set()
        return 1

    pump.run(work, got.append)

    # Act: the widget goes, then the work ends
    widget.deleteLater()
    qtbot.wait(50)
    release.set()
    assert finished.wait(5)
    qtbot.wait(100)

    # Assert: nobody was called, nothing crashed
    assert got == []


def test_a_failing_work_is_logged_and_stops_the_polling(qtbot, caplog):
    # Arrange
    widget = QWidget()
    qtbot.addWidget(widget)
    pump = ResultPump(widget)
    got: list[object] = []

    # Act
    pump.run(lambda: 1 / 0, got.append, name="divide")
    qtbot.waitUntil(lambda: not pump._timer.isActive(), timeout=5_000)

    # Assert
    assert got == []
    assert "divide failed" in caplog.text
