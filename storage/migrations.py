"""Conventions shared by the product's SQLite files: opening, schema versions, UTC text.

Both the trade journal and the calendar database are plain SQLite files a trader can open
with any tool, so three things are fixed here once:

- **Identity**: ``PRAGMA application_id`` marks a file as ours, so pointing ``--journal`` at
  some other database is a clear error instead of a silent schema change.
- **Versions**: ``PRAGMA user_version`` is the schema version.  Opening a file at an older
  version runs each missing migration in its own transaction (DDL is transactional in
  SQLite), so an upgrade either completes or leaves the file as it was; a file from a newer
  release is refused rather than guessed at.
- **Time**: instants are stored as ISO 8601 UTC text with milliseconds and an explicit
  offset, ``2019-12-06T13:30:00.000+00:00``.  Fixed width makes text order equal time
  order (range queries use the index), and pandas, Datasette or a spreadsheet read it
  without knowing an epoch convention.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import UserError

#: WAL with FULL syncs the log on every commit: a committed row survives a power cut, not
#: only a killed process.  NORMAL (survives a killed process, may lose the last commits on
#: power loss) is for replay and backtest journals that can be regenerated.
SYNCHRONOUS_MODES = ("FULL", "NORMAL")

#: How long a writer waits for another connection's lock before failing (milliseconds).
BUSY_TIMEOUT_MS = 10_000

#: How long a reader gives an empty file to become a database (seconds): another process
#: that has just created the file writes SQLite's header within milliseconds, so only a file
#: that stays empty this long is refused as one.
CREATION_WAIT_S = 1.0


@dataclass(frozen=True)
class Migration:
    """The step that brings a file from ``version - 1`` to ``version``.

    ``statements`` run in order inside one transaction; ``after`` (optional) runs last in the
    same transaction for data moves that SQL alone cannot express.
    """

    version: int
    description: str
    statements: tuple[str, ...]
    after: Callable[[sqlite3.Connection], None] | None = None


@dataclass(frozen=True)
class SchemaSpec:
    """What a kind of file is called, how it is marked, and how it evolved."""

    name: str
    application_id: int
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        versions = [m.version for m in self.migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"{self.name}: migrations must be numbered 1..N, got {versions}")

    @property
    def latest(self) -> int:
        return len(self.migrations)


def utc_text(value: datetime) -> str:
    """The stored form of an instant (see the module docstring); naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r} cannot be stored; use an aware UTC time")
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def optional_utc_text(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def parse_utc_text(text: str) -> datetime:
    """Read back a stored instant as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_parse_utc_text(text: str | None) -> datetime | None:
    return None if text is None else parse_utc_text(text)


def connect(path: Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are always explicit (``BEGIN``).

    The driver's implicit transactions would otherwise wrap our writes in ways that commit
    or hold locks at surprising points.  ``check_same_thread`` is off because the owner
    serialises access with a lock (the GUI reads while the engine thread writes).
    """
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
    conn = sqlite3.connect(
        str(path),
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def open_database(
    path: Path,
    spec: SchemaSpec,
    *,
    create: bool,
    synchronous: str = "FULL",
) -> sqlite3.Connection:
    """Open (or create) a file of kind ``spec`` at the latest schema, in WAL mode.

    Raises UserError, naming the file, when it is missing (and ``create`` is False), is not
    an SQLite database, is another application's database, or comes from a newer release.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise UserError(f"{path}: no {spec.name} found (check the path)")
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.is_dir():
        raise UserError(f"{path}: is a directory, expected a {spec.name} file")
    elif not create and not wait_until_not_empty(path):  # SQLite would make it a database
        raise UserError(f"{path}: an empty file, not a readable {spec.name} (left as it is)")
    try:
        conn = connect(path, synchronous=synchronous)
    except sqlite3.OperationalError as exc:  # SQLite says "unable to open": say where
        raise UserError(f"{path}: the {spec.name} cannot be opened or created there "
                        f"({exc}; check that its folder exists and can be written)") from exc
    try:
        _check_identity(conn, path, spec)
        if not create and not _has_content(conn):
            raise UserError(f"{path}: an empty SQLite database, not a readable {spec.name} "
                            "(left as it is)")
        _ensure_wal(conn)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        migrate(conn, spec)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _open_failure(path, spec, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _has_content(conn: sqlite3.Connection) -> bool:
    """Whether the database holds a table, given ``CREATION_WAIT_S`` for one: a reader must
    not give an SQLite file with nothing in it the schema (a read would write), but a file
    another process is creating holds its tables a moment after SQLite wrote its header."""
    deadline = time.monotonic() + CREATION_WAIT_S
    while True:
        with read_transaction(conn):
            tables = user_tables(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        if tables or version:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _open_failure(path: Path, spec: SchemaSpec, exc: sqlite3.DatabaseError) -> UserError:
    """One line for a file that cannot be opened: unwritable when an upgrade needs a write,
    damaged or foreign otherwise."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    if name.startswith("SQLITE_READONLY"):
        return UserError(f"{path}: the {spec.name} needs an upgrade to schema version "
                         f"{spec.latest}, but it is read-only ({exc}); make it writable once")
    if name == "SQLITE_FULL" or name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return UserError(f"{path}: the {spec.name} could not be opened ({exc}); check the "
                         f"disk (is it full?) and the folder's permissions")
    if name.startswith("SQLITE_CORRUPT"):
        return UserError(f"{path}: the {spec.name} is damaged ({exc}); restore it from a "
                         f"backup")
    return UserError(f"{path}: not a readable {spec.name} ({exc})")


def wait_until_not_empty(path: Path, wait_s: float = CREATION_WAIT_S) -> bool:
    """Whether ``path`` holds anything, given ``wait_s`` to start holding it: a file another
    process has only just created is empty for the instant before SQLite writes to it."""
    deadline = time.monotonic() + wait_s
    while path.stat().st_size == 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _ensure_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode unless it is already.

    Changing the mode needs the file to itself, and SQLite may answer "database is locked"
    at once rather than wait (when another process creates the same new file at that
    moment): that is retried within the busy timeout.  A file already in WAL mode, every
    file but a new one, is only asked."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") != "SQLITE_BUSY" \
                    or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """The reads inside see one committed state of the file (a transaction of their own,
    unless the connection is in one already): read apart, another process's commit could
    fall between them, e.g. a new file's first migration (its tables and its mark) or a
    calendar import (its events and its coverage)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        yield
    finally:
        if own:
            conn.execute("COMMIT")


def _check_identity(conn: sqlite3.Connection, path: Path, spec: SchemaSpec) -> None:
    with read_transaction(conn):
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = user_tables(conn)
    if application_id not in (0, spec.application_id):
        raise UserError(f"{path}: not {_a(spec.name)} (it belongs to another application)")
    if application_id == 0 and tables:
        raise UserError(f"{path}: not {_a(spec.name)} (an SQLite file with other tables)")
    if version > spec.latest:
        raise UserError(
            f"{path}: {spec.name} schema version {version} is newer than this release "
            f"understands ({spec.latest}); upgrade the program"
        )


def _a(name: str) -> str:
    """The name with its article, ``a trade journal`` but ``an economic calendar``: the
    refusals name any schema's file, so the article follows the name, not the sentence."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def user_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, spec: SchemaSpec) -> list[int]:
    """Apply every missing migration, each in its own transaction; return those applied.

    A file already at the latest version is only read: a reader of a read-only file (or of a
    journal another process writes) takes no write lock to find that out.
    """
    applied: list[int] = []
    if schema_version(conn) >= spec.latest:
        return applied
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read the version under the write lock: two processes opening an old file at
            # once must not both run the same migration.
            current = schema_version(conn)
            if current >= spec.latest:
                conn.execute("COMMIT")
                return applied
            step = spec.migrations[current]
            _run_statements(conn, step.statements)
            if step.after is not None:
                step.after(conn)
            if current == 0:
                conn.execute(f"PRAGMA application_id = {spec.application_id}")
            conn.execute(f"PRAGMA user_version = {step.version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(step.version)


def _run_statements(conn: sqlite3.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        conn.execute(statement)
