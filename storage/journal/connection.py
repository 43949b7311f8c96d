"""The journal's SQLite connection: opening (schema upgrade, pragmas, the writer lock, the
account the journal belongs to), the lock shared by the engine thread and GUI readers, and the
two transaction shapes every other part uses.

``_write`` is the one way to change the file (one IMMEDIATE transaction per public write,
or, in a backtest's journal, one per simulated day: ``_write``'s docstring);
``_snapshot`` is the way to read several tables that must agree.  Both, and every read, turn
a damaged page, a read-only file or a full disk into one-line errors
(``storage.journal.errors``).

Statements go to the ``sqlite3`` connection as they are: no per-write schema lookups, and
each SQL text is prepared once (``sqlite3`` caches the prepared statements by their text).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from engine.records import AccountIdentity
from storage.journal.errors import (
    JournalOfAnotherAccount,
    JournalUnwritable,
    damaged,
    sqlite_errors,
)
from storage.journal.lock import WriterLock, acquire_journal_lock
from storage.journal.rows import Row
from storage.journal_schema import JOURNAL_SCHEMA
from storage.migrations import open_database, schema_version
from storage.paths import default_journal_path


def _check_writable(path: Path) -> None:
    """Refuse, before anything is opened, a journal a run could not write: SQLite would
    open a read-only or immutable file read-only without a word and fail at the first write."""
    if path.is_file() and not os.access(path, os.W_OK):
        raise JournalUnwritable(
            f"{path}: the journal is read-only or immutable, and a run writes it: make it "
            f"writable, or give another --journal (journal summary and export read it as it is)")
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise JournalUnwritable(
            f"{path}: its folder {folder} is read-only, and a journal writes its log and lock "
            f"files beside it: give another --journal")


class JournalConnection:
    """One journal file's connection and lock; the base every part of the journal builds on."""

    def __init__(self, conn: sqlite3.Connection, path: Path,
                 writer_lock: WriterLock | None = None) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._writer_lock = writer_lock
        self.path = path
        #: The account key, epoch and run id of the run being journaled (``start_run``):
        #: deals and orders are written under the first two, lock records under the run.
        self._account_key = ""
        self._epoch = ""
        self._run_id = ""
        #: Whether writes accumulate in one transaction per simulated day (a backtest's run,
        #: from ``start_run`` to ``end_run``), and the UTC day of the open one.
        self._day_batches = False
        self._batch_day = 0

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        create: bool = True,
        synchronous: str = "FULL",
        account: AccountIdentity | None = None,
        writer: bool | None = None,
    ) -> Self:
        """Open the journal at ``path`` (default: the default demo account's), upgrading its
        schema.

        A writer (``writer``, by default ``create``) takes the journal's writer lock
        (``storage.journal.lock``: a second writer is refused naming the first), refuses a
        read-only, immutable or damaged file at once, and, given ``account``, binds the
        journal to that account or refuses a journal that belongs to another.
        ``create=False`` is for tools that only inspect: a missing file is then a UserError,
        and no lock is taken.
        """
        resolved = Path(path) if path is not None else default_journal_path()
        writer = create if writer is None else writer
        if writer and account is not None and resolved.is_file() \
                and resolved.stat().st_size > 0:
            # Another account's journal is refused before its writer lock is asked for: that
            # it belongs elsewhere is the answer, whoever is writing it now.  An empty file is
            # a journal another writer has only begun to create: the lock decides that case.
            with cls.open(resolved, create=False, writer=False) as peek:
                bound = peek.bound_account()
            if bound is not None and bound != account:
                raise JournalOfAnotherAccount(resolved, bound, account)
        lock = None
        if writer and (create or resolved.exists()):
            _check_writable(resolved)
            resolved.parent.mkdir(parents=True, exist_ok=True)
            lock = acquire_journal_lock(resolved)
            _create_private(resolved)
        try:
            conn = open_database(resolved, JOURNAL_SCHEMA, create=create, synchronous=synchronous)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        journal = cls(conn, resolved, lock)
        try:
            if writer:
                journal.check_damage()
            if writer and account is not None:
                journal.bind(account)
        except BaseException:
            journal.close()
            raise
        return journal

    @classmethod
    def open_reader(cls, path: Path | str) -> Self:
        """An existing journal for reading (the History views, summaries): no writer lock,
        so it opens while a run writes."""
        return cls.open(path, create=False, writer=False)

    def close(self) -> None:
        """Close the file; a backtest's writes of its last simulated day are committed first."""
        with self._lock:
            try:
                self._end_day_batches()
            finally:
                self._conn.close()
                if self._writer_lock is not None:
                    self._writer_lock.release()

    @property
    def is_writer(self) -> bool:
        """Whether this connection holds the journal's writer lock."""
        return self._writer_lock is not None and self._writer_lock.held

    def check_damage(self) -> None:
        """Raise ``JournalDamaged`` unless SQLite's quick check finds every page whole.

        A run writes new pages and never reads most old ones, so without this it would go on
        journaling into a damaged file without a word.  Measured: 0.3 s for a 287 MB journal
        (700 000 deals) in the page cache, on the 2-core development machine.
        """
        with self._lock, sqlite_errors(self.path):
            rows = self._conn.execute("PRAGMA quick_check(5)").fetchall()
        verdict = "; ".join(str(r[0]) for r in rows)
        if verdict != "ok":
            raise damaged(self.path, verdict)

    # ------------------------------------------------------------------ the account

    def bound_account(self) -> AccountIdentity | None:
        """The account this journal belongs to (None: no run has named one yet)."""
        rows = self._rows("SELECT * FROM journal_account WHERE id = 1")
        if not rows:
            return None
        row = rows[0]
        return AccountIdentity(row["mode"], row["server"], int(row["login"]), row["currency"])

    def bind(self, account: AccountIdentity) -> None:
        """Bind the journal to ``account``, or raise ``JournalOfAnotherAccount``."""
        with self._write():
            self._bind(account)

    def _bind(self, account: AccountIdentity) -> None:
        """In a write transaction: the binding check (and the binding, the first time)."""
        bound = self.bound_account()
        if bound is None:
            self._conn.execute(
                "INSERT INTO journal_account (id, mode, server, login, currency, bound_at) "
                "VALUES (1, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))",
                (account.mode.value, account.server, account.login, account.currency))
        elif bound != account:
            raise JournalOfAnotherAccount(self.path, bound, account)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock, sqlite_errors(self.path):
            return schema_version(self._conn)

    @contextlib.contextmanager
    def _write(self, when: datetime | None = None, *, single: bool = False) -> Iterator[None]:
        """One write transaction holding SQLite's write lock from its first statement.

        IMMEDIATE avoids the deferred-transaction trap where a read lock cannot be upgraded
        because another connection wrote meanwhile (SQLITE_BUSY without waiting).  A write
        that fails is rolled back whole (SQLite may have done so itself: a full disk).

        A backtest's journal (``_day_batches``) keeps one transaction open per simulated
        day instead: ``when``, the simulated time of the record written, past the open
        day commits that day's writes first.  Each write is a savepoint inside the day, so a
        write that fails is still undone whole and the day's earlier writes stay.  A crash
        loses at most the simulated day being written, and a backtest is re-run, never
        resumed; demo and live journals keep a commit per write.

        ``single``: the write is one statement.  In a day batch it then needs no savepoint:
        SQLite undoes a failed statement whole and keeps the transaction (a backtest writes
        a signal row and a refusal at thousands of bars).
        """
        with self._lock, sqlite_errors(self.path):
            if self._day_batches:
                self._enter_day(when)
                if single:
                    yield
                    return
                begin, done, undo = ("SAVEPOINT journal_write", "RELEASE journal_write",
                                     ("ROLLBACK TO journal_write", "RELEASE journal_write"))
            else:
                begin, done, undo = "BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)
            try:
                # begun inside the try: a Ctrl+C or stop signal raised as the BEGIN
                # returns must still roll it back, or the next write finds a transaction
                # open ("cannot start a transaction within a transaction")
                self._conn.execute(begin)
                yield
            except BaseException:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        for statement in undo:
                            self._conn.execute(statement)
                raise
            self._conn.execute(done)

    def _enter_day(self, when: datetime | None) -> None:
        """In day batches: commit the open day when ``when`` is on a later UTC day, and make
        sure a day's transaction is open (``when`` None: a write of the open day)."""
        if when is None:
            day = self._batch_day
        elif when.tzinfo is UTC:  # the engine's clock: no conversion to make
            day = when.toordinal()
        else:
            day = when.astimezone(UTC).toordinal()
        if self._conn.in_transaction and day > self._batch_day:
            self._conn.execute("COMMIT")
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
            self._batch_day = max(day, self._batch_day)

    def _synchronous(self) -> int:
        """The connection's ``PRAGMA synchronous``: 1 NORMAL, 2 FULL (``open``'s choice)."""
        return int(self._scalar("PRAGMA synchronous"))

    def _start_day_batches(self) -> None:
        """From now on, one transaction per simulated day (a backtest's run)."""
        self._day_batches = True
        self._batch_day = 0

    def _end_day_batches(self) -> None:
        """Commit the open day, if any, and go back to a transaction per write."""
        with self._lock:
            if not self._day_batches:
                return
            self._day_batches = False
            with sqlite_errors(self.path):
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must agree (a basket with its orders and deals) see one
        committed state, even while another process writes (WAL read transaction)."""
        with self._lock, sqlite_errors(self.path):
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        with self._lock, sqlite_errors(self.path):
            cursor = self._conn.cursor()
            cursor.row_factory = sqlite3.Row
            return [dict(row) for row in cursor.execute(sql, params).fetchall()]

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock, sqlite_errors(self.path):
            row = self._conn.execute(sql, params).fetchone()
            return None if row is None else row[0]


def _create_private(path: Path) -> None:
    """A new journal is made readable by its owner only (0600, whatever the umask): it holds
    the account's number, its server and every trade.  SQLite gives its ``-wal`` and
    ``-shm`` files the database's own mode, so they follow.  An existing file keeps the
    mode its owner gave it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
