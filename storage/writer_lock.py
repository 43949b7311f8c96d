"""One writer per file: an operating-system lock on a file beside it.

Two engines writing one journal interleave their runs (two ``run --demo`` at once once left 92
deals of 152), two sweeps on one study run every trial twice, and SQLite's own locks only
serialise single transactions.  So whoever opens such a file for writing first takes an
exclusive lock on ``<file>.lock`` and keeps it while the file is open; a second writer is
refused at once with the holder's process id and command, which the holder writes into the
lock file.  Readers take no lock: SQLite's WAL lets them read while the writer writes.  The
refusals' words are the caller's (``storage.journal.lock``, ``storage.trials``).

The lock is the operating system's, not a marker file: it goes when its holder goes, however
it dies (a SIGKILL included), so a crashed run never blocks the next one.  POSIX uses
``fcntl.flock`` on the whole file; Windows ``msvcrt.locking`` on one byte far past the holder
text, so that the text itself stays readable to the process that is refused.  The lock file is
never deleted (deleting it would let a second writer lock a new file of the same name while
the first still holds the old one); its text is cleared when the holder lets go.  The one
exception is a lock file made for a file that was then refused (``WriterLock.abandon``: not a
database, say): nothing was written, and a refusal leaves nothing behind.  It lies
beside the file's real path, so a second name through a symbolic link meets the same lock.
A second name through a hard link would not (a lock beside it would be another file), so a
file with more than one hard link is refused for writing: two writers could otherwise reach
one database through two names, each with its own lock and its own write-ahead log, and
damage it (measured: two demo runs, one through each name, left its indexes inconsistent).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

#: Where the Windows lock byte lies: far beyond any holder text.
_WINDOWS_LOCK_OFFSET = 1 << 30
#: The holder text is one line, at most this long.
_HOLDER_MAX = 300
#: Options whose value must never be written where other users can read it.
_SECRET_OPTION = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def lock_path(target: Path) -> Path:
    """The lock file beside ``target``'s real file: a file reached through a symbolic link
    (or a folder that is one) has the same lock as by its own path."""
    real = Path(os.path.realpath(target))
    return real.with_name(real.name + ".lock")


def masked_command_line(argv: list[str]) -> str:
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
    text = (f"pid {os.getpid()} ({masked_command_line([Path(sys.argv[0]).name, *sys.argv[1:]])}) "
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


def current_holder(target: Path) -> str | None:
    """Who holds ``target``'s writer lock now (their holder text), or None: for a command
    about to replace or overwrite the file, which must not pull it from under its writer.
    Makes no lock file: where there is none, nobody has ever held the lock."""
    path = lock_path(target)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if not _try_lock(fd):
            return _read_holder(fd)
        _unlock(fd)
        return None
    finally:
        os.close(fd)


def _open_lock_file(path: Path) -> tuple[int, bool]:
    """The lock file's descriptor, and whether this call made the file."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        return os.open(path, os.O_RDWR), False


def _hard_links(target: Path) -> int:
    """How many names ``target``'s file has (0: it does not exist yet)."""
    try:
        return os.stat(target).st_nlink
    except OSError:
        return 0


def _read_holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, _HOLDER_MAX).decode("utf-8", "replace").strip()
    return text or "another process (it has not said which yet)"


class WriterLock:
    """The writer lock of one file, held from ``acquire`` until ``release``."""

    def __init__(self, target: Path, fd: int, *, created: bool = False) -> None:
        self.target = target
        self.path = lock_path(target)
        self._fd: int | None = fd
        #: Whether this holder made the lock file (none was there): ``abandon`` removes it.
        self.created = created

    @classmethod
    def acquire(cls, target: Path, *, in_use: Callable[[str], Exception],
                unwritable: Callable[[str], Exception],
                linked: Callable[[int], Exception]) -> WriterLock:
        """Take the lock of ``target`` or raise (never waits): ``in_use(holder)`` when
        another process holds it, ``holder`` naming that process; ``unwritable(reason)``
        when the lock file cannot be made; ``linked(names)`` when ``target`` has more than
        one hard link (see the module docstring)."""
        names = _hard_links(target)
        if names > 1:
            raise linked(names)
        path = lock_path(target)
        try:
            fd, created = _open_lock_file(path)
        except OSError as exc:
            raise unwritable(f"cannot create its writer lock {path.name} "
                             f"({exc.strerror})") from exc
        try:
            if not _try_lock(fd):
                raise in_use(_read_holder(fd))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (_holder_text() + "\n").encode("utf-8"))
        except BaseException:
            os.close(fd)
            raise
        return cls(target, fd, created=created)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def abandon(self) -> None:
        """Let go after the file itself was refused (not a database, say): a lock file this
        holder made goes too, so a refusal leaves nothing beside the file.  It is unlinked
        while still held: a writer that opened it meanwhile meets the same refused file."""
        if self._fd is not None and self.created:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.release()

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
