"""A trial's warnings are kept for its row, not printed: its own thread's only."""

from __future__ import annotations

import logging
import threading

from app.sweep.trial_log import KEPT_LINES, captured_log

ENGINE = logging.getLogger("engine.runner")


def test_a_trials_warnings_are_counted_and_kept_and_nothing_is_printed(capsys):
    # Act
    with captured_log() as log:
        for n in range(KEPT_LINES + 5):
            ENGINE.warning("EURUSD: -0.0018 lots rounds to 0 (%d)", n)
        ENGINE.info("not a warning")
        ENGINE.error("account HALTED: MAX_DRAWDOWN")

    # Assert
    kept = log.result()
    assert kept["count"] == KEPT_LINES + 6
    assert len(kept["lines"]) == KEPT_LINES
    assert kept["lines"][0] == "WARNING EURUSD: -0.0018 lots rounds to 0 (0)"
    assert capsys.readouterr().err == ""


def test_nothing_logged_is_no_result_and_the_handlers_get_records_again_after(caplog):
    # Act
    with captured_log() as log:
        pass
    ENGINE.warning("after the trial")

    # Assert
    assert log.result() is None
    assert [r.getMessage() for r in caplog.records] == ["after the trial"]


def test_another_threads_records_are_not_the_trials():
    # Arrange
    def other() -> None:
        ENGINE.warning("from another trial's thread")

    # Act
    with captured_log() as log:
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        ENGINE.warning("this trial's")

    # Assert
    assert log.result() == {"count": 1, "lines": ["WARNING this trial's"]}


def test_other_handlers_do_not_see_the_trials_records():
    # Arrange: a handler someone configured on the root logger
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    root = logging.getLogger()
    keep = Keep(logging.INFO)
    root.addHandler(keep)
    old = root.level
    root.setLevel(logging.INFO)
    try:
        # Act
        with captured_log():
            ENGINE.warning("kept for the row")
            ENGINE.info("an info line")
        ENGINE.warning("outside a trial")
    finally:
        root.removeHandler(keep)
        root.setLevel(old)

    # Assert
    assert seen == ["an info line", "outside a trial"]
