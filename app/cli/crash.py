"""The crash log: where an unexpected error's full report goes, so the user reads one line.

A crash log that cannot be written (a read-only data directory, a ``crash.log`` that is a
directory, a full disk) must not turn one line into two tracebacks: the error is still one
line, which then says that the log could not be written and where it was tried.
"""

from __future__ import annotations

import errno
import sys
import traceback
from datetime import UTC, datetime


def report_crash(exc: BaseException) -> str:
    """Append ``exc``'s traceback to the crash log; say where it went, or why it did not.

    The returned phrase completes the one line the user reads: ``details in PATH`` or
    ``the crash log could not be written to PATH: REASON``.
    """
    from storage.paths import crash_log_path
    from storage.writer_lock import masked_command_line

    where = "the data directory"
    try:
        path = crash_log_path()
        where = str(path)
        with path.open("a", encoding="utf-8") as log:
            # the command as the lock files show it: a secret-looking option's value hidden
            log.write(f"--- {datetime.now(UTC).isoformat()} {masked_command_line(sys.argv)}\n")
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


#: Failures of the file system that a path, a disk or a permission causes, not the program.
_FILE_SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES,
                                 errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                                 errno.EEXIST, errno.ENAMETOOLONG, errno.EFBIG})


def file_error_line(exc: OSError) -> str | None:
    """One line for a path that cannot be read or written (``/proc/x``, a read-only or full
    disk, a folder where a file should be), naming the path; None for an OSError that is
    not about a path or a disk (the program's own failure: the crash log takes it)."""
    if exc.errno not in _FILE_SYSTEM_ERRNOS:
        return None
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return one_line(reason)
    target = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return one_line(f"{exc.filename}{target}: {reason}")
