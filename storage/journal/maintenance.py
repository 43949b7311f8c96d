"""Looking after the journal file: a summary, an integrity check, an online backup, a CSV
export and row counts.

Exports and backups go through SQLite (backup API, one read snapshot), never a file copy of a
live WAL database.  A damaged journal is said to be damaged, in one line, before any of them
starts: a summary of half the pages, or a backup of broken ones, would only hide it.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError
from engine.records import AccountIdentity, ClusterStats, EquitySnapshot
from storage.csv_export import safe_writer
from storage.journal.errors import damaged, translate
from storage.journal.lock import refuse_if_written
from storage.journal.queries import JournalQueries
from storage.journal.rows import Row, _equity
from storage.journal_schema import JOURNAL_TABLES


@dataclass(frozen=True)
class JournalSummary:
    """What ``journal summary`` prints: size, activity, results, health."""

    path: Path
    schema_version: int
    table_rows: Mapping[str, int]
    last_run: Row | None
    open_baskets: int
    closed_baskets: int
    net_pnl: float
    last_equity: EquitySnapshot | None
    clusters: tuple[ClusterStats, ...]
    integrity: str
    #: The account the journal belongs to (None: no run has named one yet).
    account: AccountIdentity | None = None
    #: Of ``open_baskets``, those opened over a simulator that is gone (another account
    #: epoch than the last run's): no position backs them any more.
    left_open: int = 0


class JournalMaintenance(JournalQueries):
    """The ``journal`` command's operations.  On the queries because a summary includes the
    per-cluster results."""

    def table_counts(self) -> dict[str, int]:
        return {
            table: int(self._scalar(f"SELECT COUNT(*) FROM {table}"))
            for table in JOURNAL_TABLES
        }

    def integrity_check(self) -> str:
        """``ok`` or SQLite's first complaint (``PRAGMA integrity_check``)."""
        rows = self._rows("PRAGMA integrity_check")
        return "; ".join(str(next(iter(r.values()))) for r in rows[:5])

    def summary(self) -> JournalSummary:
        """What ``journal summary`` prints; a damaged journal raises ``JournalDamaged``."""
        integrity = self.integrity_check()
        if integrity != "ok":
            raise damaged(self.path, integrity)
        with self._snapshot():
            last_run = self._rows("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1")
            counts = self._rows(
                "SELECT SUM(closed_at IS NULL) AS open, SUM(closed_at IS NOT NULL) AS closed, "
                "TOTAL(pnl) AS pnl FROM baskets WHERE opened_at IS NOT NULL"
            )[0]
            left_open = self._scalar(
                "SELECT COUNT(*) FROM baskets AS b LEFT JOIN runs AS r ON r.run_id = b.run_id "
                "WHERE b.closed_at IS NULL AND b.opened_at IS NOT NULL "
                "AND COALESCE(r.epoch, '') <> ?",
                (last_run[0]["epoch"] if last_run else "",),
            )
            # the last run's own last mark: runs of a demo or a replay start at the same
            # market dates, so the latest market time may be another run's
            equity = self._rows(
                "SELECT * FROM equity WHERE run_id = ? ORDER BY time DESC, rowid DESC LIMIT 1",
                (last_run[0]["run_id"] if last_run else "",))
            return JournalSummary(
                path=self.path,
                schema_version=self.schema_version,
                table_rows=self.table_counts(),
                last_run=last_run[0] if last_run else None,
                open_baskets=int(counts["open"] or 0),
                closed_baskets=int(counts["closed"] or 0),
                net_pnl=float(counts["pnl"]),
                last_equity=_equity(equity[0]) if equity else None,
                clusters=tuple(self.cluster_stats()),
                integrity=integrity,
                account=self.bound_account(),
                left_open=int(left_open or 0),
            )

    def backup(self, destination: Path | str, *, overwrite: bool = False) -> Path:
        """Write a consistent copy with SQLite's online backup API, then check it.

        The copy is built under a temporary name of its own (two backups to one file at
        once each build their own) and moved into place, so a failed backup never leaves a
        half-written file where a good one was expected.  Without ``overwrite`` the move is
        a hard link, which fails if the file appeared meanwhile: a copy made at the same
        moment by another process is never replaced.  The copy is its owner's only (0600),
        as the journal is; a backup onto the journal itself is refused.
        """
        from storage.journal.connection import _create_private

        destination = Path(destination)
        _refuse_self(Path(self.path), destination)
        if destination.exists() and not overwrite:
            raise _exists(destination)
        refuse_if_written(destination, "a backup")  # a journal a run is writing, replaced
        self.check_damage()
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial-{uuid.uuid4().hex[:12]}")
        try:
            _create_private(partial)  # 0600 as the journal: the same account and trades
            target = sqlite3.connect(str(partial))
            try:
                with self._lock:
                    self._conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
                verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
        except BaseException as exc:
            for leftover in (partial, *(partial.with_name(partial.name + side)
                                        for side in ("-journal", "-wal", "-shm"))):
                leftover.unlink(missing_ok=True)  # SQLite's own files beside the copy too
            if isinstance(exc, sqlite3.Error):
                raise _backup_error(self.path, destination, exc) from exc
            raise
        if verdict != "ok":
            partial.unlink(missing_ok=True)
            raise UserError(f"{destination}: backup failed its integrity check ({verdict})")
        try:
            _move_into_place(partial, destination, overwrite=overwrite)
        finally:
            partial.unlink(missing_ok=True)
        return destination

    def export_csv(
        self,
        out_dir: Path | str,
        tables: Sequence[str] | None = None,
        *,
        overwrite: bool = False,
    ) -> dict[str, int]:
        """Write ``<table>.csv`` per table from one consistent snapshot; return row counts.

        NULL is written as an empty field; times stay UTC text; raw dicts stay JSON text.
        """
        chosen = list(tables) if tables else list(JOURNAL_TABLES)
        unknown = [t for t in chosen if t not in JOURNAL_TABLES]
        if unknown:
            raise UserError(
                f"unknown journal table(s): {', '.join(unknown)} "
                f"(tables: {', '.join(JOURNAL_TABLES)})"
            )
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise UserError(f"{out}: is a file; --out names the folder the CSV files go to")
        self.check_damage()
        targets = {table: out / f"{table}.csv" for table in chosen}
        clashes = [str(p) for p in targets.values() if p.exists()]
        if clashes and not overwrite:
            raise UserError(f"{clashes[0]}: already exists (use --force to replace it)")
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, int] = {}
        with self._snapshot():  # every table from the same committed state
            for table, target in targets.items():
                written[table] = self._export_table(table, target)
        return written

    def _export_table(self, table: str, target: Path) -> int:
        cursor = self._conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        header = [d[0] for d in cursor.description]
        count = 0
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = safe_writer(handle)  # formula-like text is written as text
            writer.writerow(header)
            for row in cursor:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        return count


def _backup_error(source: Path, destination: Path, exc: sqlite3.Error) -> Exception:
    """A backup that failed, named by the file at fault: the copy's side for a write the
    disk refused (full, read-only, not there), the journal's for anything it read wrong."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name == "SQLITE_FULL" or name.startswith(("SQLITE_READONLY", "SQLITE_IOERR",
                                                  "SQLITE_CANTOPEN")):
        return UserError(f"{destination}: the backup could not be written there ({detail}); "
                         f"nothing was left in its place and the journal is unchanged")
    return translate(source, exc) or exc


def _exists(destination: Path) -> UserError:
    return UserError(f"{destination}: already exists (use --force to replace it)")


def _move_into_place(partial: Path, destination: Path, *, overwrite: bool) -> None:
    """``partial`` becomes ``destination``: replacing it with ``overwrite``, else only if
    there is still nothing there (a hard link cannot replace; where the file system has no
    hard links, the check just made stands)."""
    if overwrite:
        os.replace(partial, destination)
        return
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise _exists(destination) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK):
            raise
        if destination.exists():
            raise _exists(destination) from None
        os.replace(partial, destination)


def _refuse_self(journal: Path, destination: Path) -> None:
    """A backup onto the journal it copies (``--out X --journal X --force``) would replace
    the journal with its own copy and report success: refused."""
    try:
        same = destination.exists() and os.path.samefile(journal, destination)
    except OSError:
        same = False
    if same or destination.resolve() == journal.resolve():
        raise UserError(f"{destination}: is the journal being backed up; give another file "
                        "for the backup")
