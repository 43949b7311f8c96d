"""The trials store: one SQLite file per study, one row per trial a sweep has run.

A trial is one backtest of one configuration on one span (a fold's in-sample or
out-of-sample span, or the whole period), with all the study's clusters or one alone.  Its
row is keyed by a **content id**, the SHA-256 of what determines its figures
(``app.sweep.plan`` builds it), so a rerun of the same study finds the trials it already
has and runs only the rest (resume), and a changed grid, fold, data file or source file
gives new ids instead of silently reusing stale figures.

Conventions are the product's (``storage.migrations``): ``application_id`` marks the file,
``user_version`` is its schema, instants are ISO 8601 UTC text.  Each trial is written in
one transaction, so a driver killed at any instant leaves whole rows only; there is one
writer (the sweep's driver), readers (``sweep list``, ``sweep show``) may read meanwhile
(WAL).

Columns: ``status`` is ``done`` or ``failed`` (a failed trial keeps its error and still
counts toward the number of trials tried); ``sharpe``, ``total_return``, ``max_drawdown``
and ``baskets`` are copies of the figures in ``metrics`` (the run's ``metrics.json``
figures as JSON) so a query can sort by them; ``daily_returns`` is JSON
``[[date, return], ...]`` on the run's metrics basis.  ``started_at``/``finished_at`` and
``seconds`` are the only columns that differ between two runs of the same trial.

``cluster`` (schema version 2) is the cluster a trial ran alone, when the study's grid asks
for one trial per cluster (``[sweep] unit = "cluster"``); NULL when the trial ran all the
study's clusters together, as every trial did before the column existed (a version 1 file is
migrated in place, its rows NULL).  A row read back has the ``cluster`` key only when it is
set, so a together trial reads exactly as it did before: readers take a missing key (or
None) as "together".

``log`` (schema version 3) is what the trial logged at WARNING and above instead of printing
it (``app.sweep.trial_log``): ``{"count": N, "lines": [...]}`` as JSON, NULL when nothing;
a row has the key only when it is set.  Migrating an older file records how many trials it
held in the setting ``trials_before_log``: theirs is not known.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UserError
from storage.migrations import (
    CREATION_WAIT_S,
    Migration,
    SchemaSpec,
    open_database,
    read_transaction,
    wait_until_not_empty,
)
from storage.writer_lock import WriterLock, current_holder

#: ``FXTR`` in ASCII: marks the file as a trials store (``PRAGMA application_id``).
TRIALS_APPLICATION_ID = 0x46585452

STATUSES = ("done", "failed")

TRIALS_SCHEMA = SchemaSpec(
    name="trials store",
    application_id=TRIALS_APPLICATION_ID,
    migrations=(
        Migration(
            version=1,
            description="trials and the study's settings",
            statements=(
                """CREATE TABLE study (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                )""",
                """CREATE TABLE trials (
                    id TEXT PRIMARY KEY,
                    config INTEGER NOT NULL,
                    params TEXT NOT NULL,
                    fold INTEGER NOT NULL,
                    sample TEXT NOT NULL,
                    span_from TEXT,
                    span_to TEXT,
                    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
                    error TEXT,
                    sharpe REAL,
                    total_return REAL,
                    max_drawdown REAL,
                    baskets INTEGER,
                    metrics TEXT,
                    daily_returns TEXT,
                    data_fingerprint TEXT NOT NULL,
                    code_version TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT NOT NULL,
                    seconds REAL NOT NULL
                )""",
                "CREATE INDEX trials_by_config ON trials (config, fold, sample)",
            ),
        ),
        Migration(
            version=2,
            description="the cluster a trial ran alone (NULL: all clusters together)",
            statements=("ALTER TABLE trials ADD COLUMN cluster TEXT",),
        ),
        Migration(
            version=3,
            description="a trial's warnings and errors (NULL: it logged none)",
            statements=(
                "ALTER TABLE trials ADD COLUMN log TEXT",
                # the trials already there ran before logs were kept: their NULL is "not
                # known", not "nothing logged"; the study says how many they are
                "INSERT INTO study (key, value) SELECT 'trials_before_log', COUNT(*) "
                "FROM trials HAVING COUNT(*) > 0",
            ),
        ),
    ),
)

#: The columns every row has, in table order (``cluster`` follows them: :data:`CLUSTER`).
COLUMNS = ("id", "config", "params", "fold", "sample", "span_from", "span_to", "status",
           "error", "sharpe", "total_return", "max_drawdown", "baskets", "metrics",
           "daily_returns", "data_fingerprint", "code_version", "started_at", "finished_at",
           "seconds")
#: The columns that differ between two runs of the same trial (when and how long).
TIMING_COLUMNS = ("started_at", "finished_at", "seconds")
_JSON_COLUMNS = ("params", "metrics", "daily_returns", "log")
#: The column of a trial run on one cluster alone; a row has the key only when it is set.
CLUSTER = "cluster"
#: The trial's warnings and errors (``app.sweep.trial_log``: their count and the first
#: lines, JSON; schema version 3); a row has the key only when the trial logged any.
LOG = "log"
_OPTIONAL = (CLUSTER, LOG)
_STORED = (*COLUMNS, *_OPTIONAL)


@dataclass(frozen=True)
class TrialRow:
    """One stored trial; ``params``, ``metrics`` and ``daily_returns`` decoded from JSON."""

    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def cluster(self) -> str | None:
        """The cluster the trial ran alone, or None: all the study's clusters together."""
        return self.values.get(CLUSTER)

    def results(self) -> dict[str, Any]:
        """Everything but the timings: equal for two runs of the same trial."""
        return {k: v for k, v in self.values.items() if k not in TIMING_COLUMNS}


def _decoded(columns: Sequence[str], stored: Sequence[Any]) -> dict[str, Any]:
    """A row's values: JSON columns decoded, ``cluster`` and ``log`` only when set (module
    docstring)."""
    values = {k: (json.loads(v) if k in _JSON_COLUMNS and v is not None else v)
              for k, v in zip(columns, stored, strict=True)}
    for key in _OPTIONAL:
        if key in values and values[key] is None:
            del values[key]
    return values


class StudyInUse(UserError):
    """Another sweep holds the study's writer lock."""


class TrialsStore:
    """A study's trials file, opened (created) at the latest schema.

    A sweep opens it as its ``writer``: it takes the study's writer lock
    (``storage.writer_lock``), so that a second sweep on the same study at the same time is
    refused naming the first instead of running every trial again beside it."""

    #: The study's writer lock while a writer holds the file (None for readers).
    _lock: WriterLock | None = None

    def __init__(self, path: Path, *, create: bool = True, writer: bool = False) -> None:
        self.path = Path(path)
        self._lock: WriterLock | None = None
        if writer:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = WriterLock.acquire(
                self.path,
                in_use=lambda holder: StudyInUse(
                    f"{self.path}: a sweep is already running on this study ({holder}); "
                    f"let it finish, or give another study file (sweep show reads it "
                    f"meanwhile)"),
                unwritable=lambda reason: UserError(
                    f"{self.path}: the {TRIALS_SCHEMA.name} cannot be opened or created there "
                    f"({reason}; check that its folder exists and can be written)"),
                linked=lambda names: StudyInUse(
                    f"{self.path}: the file has {names} names (hard links), and its writer "
                    f"lock guards only this one: one sweep per study cannot be ensured; give "
                    f"a study file with one name (a copy)"))
        try:
            self._conn = open_database(self.path, TRIALS_SCHEMA, create=create)
        except BaseException:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.abandon()  # a refused file gets no lock file beside it
            raise

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> TrialsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")  # inside: a stop raised as it returns
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- writing (the driver only) -------------------------------------------------------

    def put_setting(self, key: str, value: Any) -> None:
        """A study setting (JSON), kept from the first run unless it is missing."""
        with self._transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO study (key, value) VALUES (?, ?)",
                         (key, json.dumps(value, sort_keys=True)))

    def record(self, row: dict[str, Any]) -> None:
        """Write one trial in its own transaction (a rerun of a failed trial replaces it)."""
        if row.get("status") not in STATUSES:
            raise ValueError(f"trial status must be one of {STATUSES}, got {row.get('status')!r}")
        values = [json.dumps(row.get(k), allow_nan=False) if k in _JSON_COLUMNS else row.get(k)
                  for k in _STORED]
        marks = ", ".join("?" for _ in _STORED)
        with self._transaction() as conn:
            conn.execute(f"INSERT OR REPLACE INTO trials ({', '.join(_STORED)}) "
                         f"VALUES ({marks})", values)

    # -- reading -------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM study")}

    def ids(self, statuses: Sequence[str] = STATUSES) -> set[str]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._conn.execute(f"SELECT id FROM trials WHERE status IN ({marks})",
                                  tuple(statuses))
        return {i for (i,) in rows}

    def rows(self) -> list[TrialRow]:
        """Every trial, in configuration, cluster (together first), fold and sample order.

        A file still at schema 1 (opened read-only, so not migrated) reads too: its trials
        are all together."""
        present = {name for _, name, *_ in self._conn.execute("PRAGMA table_info(trials)")}
        stored = [c for c in _STORED if c in present]
        order = "config, cluster" if CLUSTER in present else "config"
        cursor = self._conn.execute(f"SELECT {', '.join(stored)} FROM trials "
                                    f"ORDER BY {order}, fold, sample, id")
        return [TrialRow(_decoded(stored, r)) for r in cursor]

    def counts(self) -> dict[str, int]:
        """Trials by status (both keys always present)."""
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self._conn.execute("SELECT status, COUNT(*) FROM trials "
                                            "GROUP BY status"):
            out[status] = n
        return out


# -- read-only opening (the study's report and the console's Research tab) -----------------


def open_read_only(path: Path) -> TrialsStore:
    """The study at ``path`` opened with SQLite's ``mode=ro``: never written, not even
    migrated, so a report or the console can read a study a running sweep is writing (WAL
    lets a reader see every committed trial).  One clear line when it is missing, is not a
    trials store, or needs an upgrade a read-only opening cannot make."""
    path, name = Path(path), TRIALS_SCHEMA.name
    if not path.is_file():
        raise UserError(f"{path}: no {name} found (check the path)")
    if not wait_until_not_empty(path):
        raise UserError(f"{path}: an empty file, not a readable {name} (left as it is)")
    deadline = time.monotonic() + CREATION_WAIT_S
    while True:
        conn = _connect_read_only(path)
        try:
            identity, version = _identity(conn)
        except sqlite3.DatabaseError as exc:
            identity, version, unreadable = -1, -1, exc
        else:
            unreadable = None
        # a study another process is creating: its header written, its migrations not yet
        being_created = (identity, version) == (0, 0) or (
            identity == TRIALS_APPLICATION_ID and 0 < version < TRIALS_SCHEMA.latest)
        if not being_created or time.monotonic() >= deadline:
            break
        conn.close()
        time.sleep(0.01)
    if unreadable is not None:
        problem = f"not a readable {name} ({unreadable})"
    else:
        problem = ("" if identity == TRIALS_APPLICATION_ID and version == TRIALS_SCHEMA.latest
                   else f"not a {name}" if identity != TRIALS_APPLICATION_ID
                   else f"{name} schema version {version} is newer than this release "
                   "understands" if version > TRIALS_SCHEMA.latest
                   else f"the {name} needs an upgrade to schema version "
                   f"{TRIALS_SCHEMA.latest}; run 'sweep show' on it once")
    if problem:
        conn.close()
        raise UserError(f"{path}: {problem}")
    store = TrialsStore.__new__(TrialsStore)
    store.path, store._conn = path, conn
    return store


def _at_rest(path: Path) -> bool:
    """Whether nothing has the study open: no ``-wal`` or ``-shm`` beside it (SQLite makes
    them for the first connection and removes them at the last one's close, every trial
    then in the file itself) and no sweep holding its writer lock.  Such a file is read as
    it stands, as an immutable one, making nothing beside it."""
    if current_holder(path) is not None:
        return False
    return not any(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))


def _identity(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(application_id, user_version)``, read in one transaction."""
    with read_transaction(conn):
        identity = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    return int(identity), int(version)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """``mode=ro``, or on read-only media (a read-only mount, an archive, a share) the
    file as immutable.

    A reader of a WAL database needs its ``-shm`` index beside it, and makes one if it is
    missing; where the folder cannot be written that fails ("unable to open database
    file").  Nobody can write the study there either, so it is read as an immutable file
    (no locks, no index).  A ``-wal`` file left beside it would hold trials an immutable
    read does not see: that is refused in one line instead.

    A study at rest (``_at_rest``) is read as immutable too: a ``mode=ro`` reader of a WAL
    database makes ``-wal`` and ``-shm`` beside it and, being read-only, cannot remove them,
    so a report on a finished study left both behind.  A study a sweep is writing, or one
    another connection has open, is read with ``mode=ro`` (its files are there already)."""
    uri = path.resolve().as_uri()
    if _at_rest(path):
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError:
        if os.access(path.parent, os.W_OK):
            return conn  # another reason: the caller's reading says it in one line
    except sqlite3.DatabaseError:
        return conn  # not a database: likewise
    conn.close()
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        raise UserError(f"{path}: the study is on read-only media with trials still in "
                        f"{wal.name}; open it once where it can be written")
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
