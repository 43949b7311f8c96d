"""A file another process is creating at that moment is neither refused nor misnamed.

Two processes that open the same new journal, calendar or study at once see it in the states
its creator passes through: an empty file (created, nothing written yet), an SQLite header
with no tables (WAL mode set, the first migration not yet committed), the finished file.
Each state is set up here on a real file, and the other process's step is a real second
connection (or a thread doing what the creator does), at the moment it would hurt.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import storage.migrations as migrations
from storage.calendar import CALENDAR_SCHEMA
from storage.journal import SqliteJournal
from storage.journal_schema import JOURNAL_SCHEMA
from storage.migrations import open_database, wait_until_not_empty
from storage.trials import TRIALS_SCHEMA, TrialsStore, open_read_only

SCHEMAS = [JOURNAL_SCHEMA, CALENDAR_SCHEMA, TRIALS_SCHEMA]


def header_only(path: Path) -> Path:
    """The file as its creator leaves it after setting WAL mode, before its first migration."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return path


def later(action, delay_s: float = 0.05) -> threading.Timer:
    timer = threading.Timer(delay_s, action)
    timer.start()
    return timer


@pytest.mark.parametrize("spec", SCHEMAS, ids=lambda s: s.name)
def test_the_identity_is_read_whole_while_the_creator_commits_its_first_migration(
        tmp_path, monkeypatch, spec):
    # Arrange: a header-only file; the creator's first migration commits between this
    # opener's reading the file's mark and its reading the tables
    path = header_only(tmp_path / "new.sqlite")
    read_tables = migrations.user_tables
    creators: list[sqlite3.Connection] = []
    opener: list[sqlite3.Connection] = []

    def creator_commits_first(conn: sqlite3.Connection) -> list[str]:
        if not opener:  # the first call is this opener's; the creator's own read goes by
            opener.append(conn)
            creators.append(open_database(path, spec, create=True))
        return read_tables(conn)

    monkeypatch.setattr(migrations, "user_tables", creator_commits_first)

    # Act: without one read transaction this said "not a ... (an SQLite file with other
    # tables)": the mark read before the commit, the tables after it
    conn = open_database(path, spec, create=True)

    # Assert
    assert migrations.schema_version(conn) == spec.latest
    conn.close()
    creators[0].close()


def test_a_reader_waits_for_the_empty_file_of_a_journal_being_created(tmp_path):
    # Arrange: the instant after a writer created the file, before SQLite wrote to it
    path = tmp_path / "journal.sqlite"
    path.touch()
    creator = later(lambda: SqliteJournal.open(path).close())

    # Act
    with SqliteJournal.open_reader(path) as journal:
        runs = journal.runs()
    creator.join()

    # Assert: the new journal, read
    assert runs == []


def test_an_empty_file_that_stays_empty_is_still_refused(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()

    assert wait_until_not_empty(path, wait_s=0.05) is False
    with pytest.raises(Exception, match="an empty file, not a readable trade journal"):
        SqliteJournal.open_reader(path)
    assert path.stat().st_size == 0


def test_a_study_read_while_its_sweep_creates_it_is_read_when_made(tmp_path):
    # Arrange: a header-only study whose sweep commits its migrations a moment later
    path = header_only(tmp_path / "study.sqlite")
    creator = later(lambda: TrialsStore(path).close())

    # Act
    store = open_read_only(path)
    creator.join()

    # Assert
    assert store.counts() == {status: 0 for status in store.counts()}
    store.close()


def test_an_empty_study_that_stays_empty_is_said_to_be_empty(tmp_path):
    path = tmp_path / "study.sqlite"
    path.touch()

    with pytest.raises(Exception, match="an empty file, not a readable trials store"):
        open_read_only(path)


def test_a_reader_waits_for_the_tables_of_a_journal_being_created(tmp_path):
    # Arrange: the header of a journal whose writer commits its first migration a moment later
    path = header_only(tmp_path / "journal.sqlite")
    creator = later(lambda: SqliteJournal.open(path).close())

    # Act
    with SqliteJournal.open_reader(path) as journal:
        runs = journal.runs()
    creator.join()

    # Assert
    assert runs == []


@pytest.mark.parametrize("spec", SCHEMAS, ids=lambda s: s.name)
def test_an_sqlite_file_with_nothing_in_it_is_refused_by_a_reader_and_left_as_it_is(
        tmp_path, monkeypatch, spec):
    # Arrange: an SQLite database with no table (as a tool that only opened it leaves it)
    path = header_only(tmp_path / "nothing.sqlite")
    before = path.read_bytes()
    monkeypatch.setattr(migrations, "CREATION_WAIT_S", 0.05)

    # Act / Assert: a read does not write the schema into it
    with pytest.raises(Exception, match=f"an empty SQLite database, not a readable {spec.name}"):
        open_database(path, spec, create=False)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists() or \
        path.with_name(path.name + "-wal").stat().st_size == 0
