"""A trial's warnings and errors, kept for its row instead of printed.

A backtest logs what a trader should know about a run: a leg that rounds to zero lots, the
account halted at its drawdown limit.  Printed by every
worker of a study, hundreds of such lines bury the progress bar and cannot be told apart
(which trial said what?).  So while a trial runs, the records of its own thread at WARNING
and above are taken from Python's logging (none reaches the terminal) and kept: the number
of them, and the first :data:`KEPT_LINES` as ``LEVEL text``.  They are part of the trial's
result, deterministic like its figures: the same trial logs the same lines in any executor.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: How many of a trial's lines its row keeps (the count covers them all).
KEPT_LINES = 20


class _TrialLog(logging.Handler):
    """Takes the records of one thread: a worker may run trials on several threads."""

    def __init__(self, thread: int) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.count = 0
        self.lines: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.lines) < KEPT_LINES:
            self.lines.append(f"{record.levelname} {record.getMessage()}")

    def result(self) -> dict[str, Any] | None:
        """``{"count": N, "lines": [...]}``, or None when the trial logged nothing."""
        return {"count": self.count, "lines": list(self.lines)} if self.count else None


class _Silent(logging.Filter):
    """Keeps the captured thread's records from every other handler of the root logger."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread or record.levelno < logging.WARNING


@contextmanager
def captured_log() -> Iterator[_TrialLog]:
    """The root logger's records of this thread at WARNING and above, for the ``with``
    block: kept by the returned handler and shown by no other.  (With a handler on the
    root logger, Python's last-resort printing to stderr does not happen either.)"""
    root = logging.getLogger()
    thread = threading.get_ident()
    handler, silent = _TrialLog(thread), _Silent(thread)
    others = list(root.handlers)
    for other in others:
        other.addFilter(silent)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for other in others:
            other.removeFilter(silent)
