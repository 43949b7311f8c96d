"""The journal's SQLite connection: opening (schema upgrade, pragmas), the lock shared by
the engine thread and GUI readers, and the two transaction shapes every other part uses.

``_write`` is the one way to change the file (one IMMEDIATE transaction per public write);
``_snapshot`` is the way to read several tables that must agree.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from storage.journal.rows import Row
from storage.journal_schema import JOURNAL_SCHEMA
from storage.migrations import open_database, schema_version
from storage.paths import default_journal_path


class JournalConnection:
    """One journal file's connection and lock; the base every part of the journal builds on."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        create: bool = True,
        synchronous: str = "FULL",
    ) -> Self:
        """Open the journal at ``path`` (default: the demo account's), upgrading its schema.

        ``create=False`` is for tools that only inspect: a missing file is then a UserError.
        """
        resolved = Path(path) if path is not None else default_journal_path()
        conn = open_database(resolved, JOURNAL_SCHEMA, create=create, synchronous=synchronous)
        return cls(conn, resolved)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction holding SQLite's write lock from its first statement.

        IMMEDIATE avoids the deferred-transaction trap where a read lock cannot be upgraded
        because another connection wrote meanwhile (SQLITE_BUSY without waiting).
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must agree (a basket with its orders and deals) see one
        committed state, even while another process writes (WAL read transaction)."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = sqlite3.Row
            return [dict(row) for row in cursor.execute(sql, params).fetchall()]
