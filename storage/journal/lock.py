"""The journal's writer lock (``storage.writer_lock``) and what a refused writer is told.

Readers (``journal summary``/``export``/``backup`` and the console's History) take no lock:
SQLite's WAL lets them read while the writer writes.
"""

from __future__ import annotations

from pathlib import Path

from storage.journal.errors import JournalInUse, JournalUnwritable
from storage.writer_lock import WriterLock, current_holder, lock_path

__all__ = ["WriterLock", "acquire_journal_lock", "lock_path", "refuse_if_written"]


def acquire_journal_lock(journal: Path) -> WriterLock:
    """Take the journal's writer lock, or raise ``JournalInUse`` naming the holder (never
    waits) or ``JournalUnwritable`` where the lock file cannot be made."""
    return WriterLock.acquire(
        journal,
        in_use=lambda holder: JournalInUse(
            f"{journal}: already open for writing by {holder}; one writer per journal: stop "
            f"that run first, or give another --journal (journal summary and export read "
            f"it meanwhile)"),
        unwritable=lambda reason: JournalUnwritable(
            f"{journal}: {reason}: the folder is read-only; give another --journal"),
        linked=lambda names: JournalInUse(
            f"{journal}: the file has {names} names (hard links), and its writer lock guards "
            f"only this one: one writer per journal cannot be ensured; give a journal with one "
            f"name (a copy: cp {journal.name} NEW.sqlite)"),
    )


def refuse_if_written(journal: Path, what: str) -> None:
    """Raise ``JournalInUse`` when a process is writing ``journal`` now: ``what`` (e.g. "a
    backup") would replace it under that writer, whose rows would then go to a file no
    longer there and the replacement's be overwritten by its log."""
    holder = current_holder(journal)
    if holder is not None:
        raise JournalInUse(f"{journal}: open for writing by {holder}; {what} would replace "
                           f"it under that writer: stop it first, or give another path")
