"""The crash log: where an unexpected error's full report goes, so the user reads one line.

A crash log that cannot be written (a read-only data directory, a ``crash.log`` that is a
directory, a full disk) must not turn one line into two tracebacks: the error is still one
line, which then says that the log could not be written and where it was tried.
"""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime


def report_crash(exc: BaseException) -> str:
    """Append ``exc``'s traceback to the crash log; say where it went, or why it did not.

    The returned phrase completes the one line the user reads: ``details in PATH`` or
    ``the crash log could not be written to PATH: REASON``.
    """
    from storage.paths import crash_log_path

    where = "the data directory"
    try:
        path = crash_log_path()
        where = str(path)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError as failure:
        if where == "the data directory" and failure.filename:
            where = str(failure.filename)
        reason = failure.strerror or type(failure).__name__
        return f"the crash log could not be written to {where}: {reason}"
    return f"details in {where}"


def one_line(text: str) -> str:
    """``text`` with its line breaks folded, so an error is always one line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())
