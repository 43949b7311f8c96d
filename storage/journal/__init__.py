"""The trade journal on SQLite: the ``engine.ports.Journal`` implementation.

One file per account, WAL mode, rows written through sqlite-utils.  Three promises, each
tested:

- **One transaction per write.**  Every public write takes the write lock up front
  (``BEGIN IMMEDIATE``) and commits before returning, so a killed process leaves every
  returned-from write on disk and nothing half-written.  ``synchronous=FULL`` by default
  also makes it survive a power cut (see ``storage.migrations``); backtests may pass NORMAL.
- **Idempotent on natural keys.**  Each write is an upsert on its key (basket id, request
  id, deal ticket, ...), and a field given as None (or NaN) never overwrites a value
  already there: replaying events after a crash cannot duplicate or erase anything, and a
  result arriving after its request completes the same row.
- **Readable anywhere.**  Plain tables, UTC text times, JSON text for raw dicts; exports
  and backups go through SQLite (backup API), never a file copy of a live WAL database.

The connection is shared by the engine thread and GUI readers under one lock; SQLite
calls are short, so readers never wait long.

Layout: ``connection`` (opening, the lock, the ``_write`` and ``_snapshot`` transactions),
``writes``, ``queries``, ``maintenance`` and ``rows`` (row -> record converters).  Each part is
a mixin on the one connection, and :class:`SqliteJournal` composes them: the engine's
``Journal`` port is a flat set of methods, which the mixins provide as they are, where a facade
would have repeated every signature once more only to pass the call on.
"""

from __future__ import annotations

from storage.journal.maintenance import JournalMaintenance, JournalSummary
from storage.journal.queries import JournalQueries
from storage.journal.writes import JournalWrites

__all__ = ["JournalSummary", "SqliteJournal"]


class SqliteJournal(JournalWrites, JournalMaintenance, JournalQueries):
    """The journal of one account in one SQLite file (see the module docstring)."""
