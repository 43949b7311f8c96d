"""One writer per journal: an operating-system lock on a file beside the journal.

Two engines writing one journal interleave their runs (two ``run --demo`` at once once left 92
deals of 152), and SQLite's own locks only serialise single transactions.  So whoever opens a
journal for writing first takes an exclusive lock on ``<journal>.lock`` and keeps it while the
journal is open; a second writer is refused at once with the holder's process id and command,
which the holder writes into the lock file.  Readers (``journal summary``/``export``/``backup``
and the console's History) take no lock: SQLite's WAL lets them read while the writer writes.

The lock is the operating system's, not a marker file: it goes when its holder goes, however
it dies (a SIGKILL included), so a crashed run never blocks the next one.  POSIX uses
``fcntl.flock`` on the whole file; Windows ``msvcrt.locking`` on one byte far past the holder
text, so that the text itself stays readable to the process that is refused.  The lock file is
never deleted (deleting it would let a second writer lock a new file of the same name while
the first still holds the old one); its text is cleared when the holder lets go.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage.journal.errors import JournalInUse, JournalUnwritable

#: Where the Windows lock byte lies: far beyond any holder text.
_WINDOWS_LOCK_OFFSET = 1 << 30
#: The holder text is one line, at most this long.
_HOLDER_MAX = 300
#: Options whose value must never be written where other users can read it.
_SECRET_OPTION = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def lock_path(journal: Path) -> Path:
    """The lock file beside the journal's real file: a journal reached through a symbolic
    link (or a folder that is one) has the same lock as by its own path."""
    real = Path(os.path.realpath(journal))
    return real.with_name(real.name + ".lock")


def _command_line(argv: list[str]) -> str:
    """The command that holds the lock, with any secret-looking option's value hidden."""
    words: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            words.append("***")
            hide_next = False
            continue
        name, eq, _value = word.partition("=")
        if word.startswith("-") and _SECRET_OPTION.search(name):
            if eq:
                words.append(f"{name}=***")
            else:
                words.append(word)
                hide_next = True
            continue
        words.append(word)
    return " ".join(words)


def _holder_text() -> str:
    text = (f"pid {os.getpid()} ({_command_line([Path(sys.argv[0]).name, *sys.argv[1:]])}) "
            f"since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    return text[:_HOLDER_MAX].replace("\n", " ")


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, _HOLDER_MAX).decode("utf-8", "replace").strip()
    return text or "another process (it has not said which yet)"


class WriterLock:
    """The writer lock of one journal, held from ``acquire`` until ``release``."""

    def __init__(self, journal: Path, fd: int) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, journal: Path) -> WriterLock:
        """Take the lock or raise ``JournalInUse`` naming the holder (never waits)."""
        path = lock_path(journal)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalUnwritable(
                f"{journal}: cannot create its writer lock {path.name} ({exc.strerror}): the "
                f"folder is read-only; give another --journal") from exc
        try:
            if not _try_lock(fd):
                raise JournalInUse(
                    f"{journal}: already open for writing by {_read_holder(fd)}; one writer "
                    f"per journal: stop that run first, or give another --journal "
                    f"(journal summary and export read it meanwhile)")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (_holder_text() + "\n").encode("utf-8"))
        except BaseException:
            os.close(fd)
            raise
        return cls(journal, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Clear the holder text and let go (the lock file stays; see the module docstring)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        except OSError:
            pass  # closing the descriptor releases the lock all the same
        finally:
            os.close(fd)
