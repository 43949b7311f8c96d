"""Warnings and errors logged while a command runs, as one line each on standard error.

Without a handler, Python prints a logged warning as its bare text ("EURUSD: -0.0018 lots
rounds to 0 ..."), with nothing to tell it from the command's own output, and a record
carrying an exception prints its whole traceback.  Here each record is one line led by its
level, ``warning: ...`` or ``error: ...``, as the command's own errors are; an exception is
its type and message on the same line (the crash report keeps tracebacks, not the
terminal).  Installed by ``main.py`` when it runs as the program, so commands run inside
another program (the tests) log as that program decides.
"""

from __future__ import annotations

import logging
import sys

from app.cli.crash import one_line
from engine.events import NOTICES


class LogLines(logging.Handler):
    """One line per record at WARNING and above, and per notice (``engine.events.NOTICES``:
    e.g. "info: terminal connection restored" after the warning of its loss); standard
    error looked up at each line (it may be replaced while the process runs)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name == NOTICES

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                text = f"{text}: {type(error).__name__}: {error}"
            sys.stderr.write(f"{record.levelname.lower()}: {one_line(text)}\n")
        except Exception:  # a closed stream: logging's own report, never a crash
            self.handleError(record)


def install_log_lines() -> None:
    """Give the root logger a ``LogLines`` handler (once)."""
    root = logging.getLogger()
    if not any(isinstance(handler, LogLines) for handler in root.handlers):
        root.addHandler(LogLines())
