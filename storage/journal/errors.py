"""What goes wrong with a journal file, said in one line that names the file.

SQLite reports a damaged page, a read-only or immutable file and a full disk as exceptions
deep inside whichever query meets them; left alone they reach the trader as a traceback, or
not at all while a run writes pages that are still whole.  ``sqlite_errors`` turns those
conditions (and only those: a constraint or a programming error stays what it is) into
``UserError``s, which the command line prints as one line with exit status 2 and the console
shows as one status line.

A write that fails is rolled back whole (one transaction per write), so every message that
follows a failed write can say that the journal is consistent: the change that failed is
simply not in it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from engine.errors import DataError, UserError
from engine.records import AccountIdentity


class JournalDamaged(DataError):
    """The file's pages do not hold together (``database disk image is malformed``)."""


class JournalUnwritable(UserError):
    """The journal cannot be written: a read-only or immutable file or folder, or I/O."""


class JournalFull(UserError):
    """The disk (or the file's size limit) is full."""


class JournalInUse(UserError):
    """Another process holds the journal's writer lock."""


class JournalOfAnotherAccount(UserError):
    """The journal is bound to another account than the one a session trades."""

    def __init__(self, path: Path, bound: AccountIdentity, wanted: AccountIdentity) -> None:
        self.path = path
        self.bound = bound
        self.wanted = wanted
        super().__init__(
            f"{path}: this journal belongs to the {bound.describe()}, not the "
            f"{wanted.describe()} this session trades; each account keeps a journal of its "
            f"own: give another --journal (a backtest: another --report folder), or none for "
            f"the account's default")


def damaged(path: Path, detail: str) -> JournalDamaged:
    return JournalDamaged(
        f"{path}: the journal is damaged ({detail}); restore it from a backup (journal "
        f"backup), or start a new journal with --journal; it is left as it is")


def translate(path: Path, exc: sqlite3.Error) -> UserError | None:
    """The one-line error for an SQLite failure caused by the file or the disk, else None."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return damaged(path, detail)
    if name == "SQLITE_FULL":
        return JournalFull(
            f"{path}: the disk is full ({detail}); the change that did not fit was not "
            f"journaled and the journal is consistent: free some space and start again")
    if name.startswith("SQLITE_READONLY"):
        return JournalUnwritable(
            f"{path}: the journal cannot be written ({detail}): the file or its folder is "
            f"read-only or immutable; change that, or give another --journal")
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return JournalUnwritable(
            f"{path}: the journal could not be read or written ({detail}); the change that "
            f"failed was not journaled: check the disk (is it full?) and start again")
    return None


@contextlib.contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
    """Raise the one-line error of ``translate`` for failures of the file or the disk."""
    try:
        yield
    except sqlite3.Error as exc:
        error = translate(path, exc)
        if error is None:
            raise
        raise error from exc
