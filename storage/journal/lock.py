"""The journal's writer lock (``storage.writer_lock``) and what a refused writer is told.

Readers (``journal summary``/``export``/``backup`` and the console's History) take no lock:
SQLite's WAL lets them read while the writer writes.
"""

from __future__ import annotations

from pathlib import Path

from storage.journal.errors import JournalInUse, JournalUnwritable
from storage.writer_lock import WriterLock, lock_path

__all__ = ["WriterLock", "acquire_journal_lock", "lock_path"]


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
    )
