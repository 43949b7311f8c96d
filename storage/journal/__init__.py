"""The trade journal on SQLite: the ``engine.ports.Journal`` implementation.

One file per account, WAL mode, rows written by fixed SQL statements on the ``sqlite3``
connection.  Five promises, each tested:

- **One account.**  A journal is bound to the account of its first run (server, login,
  currency and mode); opening it for another account is refused in one line.  Deals are keyed
  by account, account epoch and ticket, so no run overwrites another's (``engine.records.
  RunStart`` says what an epoch is).
- **One writer.**  Opening a journal for writing takes an operating-system lock on a file
  beside it (``storage.journal.lock``); a second writer is refused, naming the first.  Readers
  take no lock.
- **One transaction per write.**  Every public write takes the write lock up front
  (``BEGIN IMMEDIATE``) and commits before returning, so a killed process leaves every
  returned-from write on disk and nothing half-written.  ``synchronous=FULL`` by default
  also makes it survive a power cut (see ``storage.migrations``); backtests may pass NORMAL.
  A backtest's run in a NORMAL journal commits once per simulated day instead (each write
  still a savepoint of its own): a crash loses at most the day being written, and a
  backtest is re-run, never resumed.  Demo, live and replay journals keep a commit per write.
- **Idempotent on natural keys.**  Each write is an upsert on its key (basket id, request
  id, account + epoch + deal ticket, ...), and a field given as None (or NaN) never
  overwrites a value already there: replaying events after a crash cannot duplicate or
  erase anything, and a result arriving after its request completes the same row.
- **Readable anywhere.**  Plain tables, UTC text times, JSON text for raw dicts; exports
  and backups go through SQLite (backup API), never a file copy of a live WAL database.

The connection is shared by the engine thread and GUI readers under one lock; SQLite
calls are short, so readers never wait long.

A damaged page, a read-only or immutable file and a full disk are one-line errors naming the
file (``storage.journal.errors``); a writer checks the pages when it opens the file.

Layout: ``connection`` (opening, the lock, the account, the ``_write`` and ``_snapshot``
transactions), ``writes``, ``queries``, ``maintenance``, ``rows`` (row -> record
converters), ``lock`` (the writer lock) and ``errors``.  Each part is
a mixin on the one connection, and :class:`SqliteJournal` composes them: the engine's
``Journal`` port is a flat set of methods, which the mixins provide as they are, where a facade
would have repeated every signature once more only to pass the call on.
"""

from __future__ import annotations

from storage.journal.errors import (
    JournalDamaged,
    JournalFull,
    JournalInUse,
    JournalOfAnotherAccount,
    JournalUnwritable,
)
from storage.journal.external import JournalExternal
from storage.journal.maintenance import JournalMaintenance, JournalSummary
from storage.journal.queries import JournalQueries
from storage.journal.writes import JournalWrites

__all__ = [
    "JournalDamaged",
    "JournalFull",
    "JournalInUse",
    "JournalOfAnotherAccount",
    "JournalSummary",
    "JournalUnwritable",
    "SqliteJournal",
]


class SqliteJournal(JournalExternal, JournalWrites, JournalMaintenance, JournalQueries):
    """The journal of one account in one SQLite file (see the module docstring)."""
