"""The trials store: whole rows in, the same rows out; counts; its identity as a file."""

from __future__ import annotations

import os
import sqlite3

import pytest
from helpers.mounts import mounted_tmpfs

from engine.errors import UserError
from storage.trials import COLUMNS, TrialsStore


def _row(ident: str, status: str = "done", sharpe: float | None = 1.25) -> dict:
    return {"id": ident, "config": 1, "params": {"entry": 1.2}, "fold": 1, "sample": "is",
            "span_from": "2024-01-08T00:00:00+00:00", "span_to": "2024-01-12T00:00:00+00:00",
            "status": status, "error": None if status == "done" else "ValueError: bad",
            "sharpe": sharpe, "total_return": 0.01, "max_drawdown": 0.002, "baskets": 3,
            "metrics": {"returns": {"sharpe": sharpe}}, "daily_returns": [["2024-01-08", 0.001]],
            "data_fingerprint": "d" * 64, "code_version": "c" * 64,
            "started_at": "2024-01-01T00:00:00.000+00:00",
            "finished_at": "2024-01-01T00:00:01.000+00:00", "seconds": 1.0}


def test_a_recorded_trial_reads_back_as_written(tmp_path):
    # Arrange
    row = _row("a" * 64)
    # Act
    with TrialsStore(tmp_path / "study.sqlite") as store:
        store.record(row)
    with TrialsStore(tmp_path / "study.sqlite", create=False) as store:
        back = store.rows()
    # Assert
    assert [r.values for r in back] == [{k: row[k] for k in COLUMNS}]


def test_what_a_trial_logged_reads_back_and_a_trial_that_logged_nothing_has_no_log_key(tmp_path):
    # Arrange
    log = {"count": 2, "lines": ["WARNING a", "ERROR account HALTED: MAX_DRAWDOWN"]}
    # Act
    with TrialsStore(tmp_path / "study.sqlite") as store:
        store.record({**_row("a" * 64), "log": log})
        store.record(_row("b" * 64))
        back = {r["id"][0]: r.values for r in store.rows()}
    # Assert
    assert back["a"]["log"] == log
    assert "log" not in back["b"]


def test_counts_and_ids_include_failed_trials(tmp_path):
    with TrialsStore(tmp_path / "study.sqlite") as store:
        store.record(_row("a" * 64))
        store.record(_row("b" * 64, status="failed", sharpe=None))
        assert store.counts() == {"done": 1, "failed": 1}
        assert store.ids() == {"a" * 64, "b" * 64}
        assert store.ids(("done",)) == {"a" * 64}


def test_a_status_other_than_done_or_failed_is_refused(tmp_path):
    with TrialsStore(tmp_path / "study.sqlite") as store, pytest.raises(ValueError):
        store.record(_row("a" * 64, status="running"))


def test_a_missing_study_is_one_clear_error_when_reading(tmp_path):
    with pytest.raises(UserError, match="no trials store found"):
        TrialsStore(tmp_path / "none.sqlite", create=False)


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE things (x)")
    conn.close()
    with pytest.raises(UserError, match="not a trials store"):
        TrialsStore(path)


def test_settings_keep_the_first_value(tmp_path):
    with TrialsStore(tmp_path / "study.sqlite") as store:
        store.put_setting("grid", {"file": "a.toml"})
        store.put_setting("grid", {"file": "b.toml"})
        assert store.settings() == {"grid": {"file": "a.toml"}}


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a filesystem mounted read-only (a tmpfs mounted, written, remounted
    ``ro``): what an archive, a read-only share or a write-protected stick is.  Needs the
    right to mount; skipped with that reason where it is missing."""
    with mounted_tmpfs(tmp_path / "media") as folder:
        yield folder


def _remount_read_only(folder) -> None:
    import subprocess

    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True,
                   capture_output=True)


def test_a_study_on_read_only_media_reads_back(read_only_folder):
    # Arrange: a study written and closed, then its filesystem made read-only
    from storage.trials import open_read_only

    path = read_only_folder / "study.sqlite"
    with TrialsStore(path) as store:
        store.record(_row("a"))
        store.record(_row("b", status="failed", sharpe=None))
    _remount_read_only(read_only_folder)

    # Act
    store = open_read_only(path)
    try:
        counts, ids = store.counts(), store.ids()
    finally:
        store.close()

    # Assert: every trial, and nothing written beside it
    assert counts == {"done": 1, "failed": 1}
    assert set(ids) == {"a", "b"}
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["study.sqlite"]


def test_a_study_on_read_only_media_with_trials_in_its_wal_is_one_clear_error(
        read_only_folder, tmp_path):
    # Arrange: a copy taken mid-study (the writer's WAL holding a trial) put on the media
    import shutil

    from storage.trials import open_read_only

    source = tmp_path / "study.sqlite"
    writer = TrialsStore(source)
    writer._conn.execute("PRAGMA wal_autocheckpoint = 0")
    writer.record(_row("a"))
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{source}{suffix}", read_only_folder / f"study.sqlite{suffix}")
    writer.close()
    _remount_read_only(read_only_folder)

    # Act / Assert
    with pytest.raises(UserError, match=r"read-only media with trials still in "
                                         r"study\.sqlite-wal"):
        open_read_only(read_only_folder / "study.sqlite")


def test_a_study_with_a_second_name_through_a_hard_link_is_refused_for_writing(tmp_path):
    # Arrange
    path = tmp_path / "study.sqlite"
    TrialsStore(path, writer=True).close()
    os.link(path, tmp_path / "hard.sqlite")

    # Act / Assert
    with pytest.raises(UserError, match=r"has 2 names \(hard links\)"):
        TrialsStore(tmp_path / "hard.sqlite", writer=True)


def test_reading_a_finished_study_leaves_nothing_beside_it(tmp_path):
    # Arrange: a study written and closed (its -wal and -shm gone with the writer)
    from storage.trials import open_read_only

    path = tmp_path / "study.sqlite"
    with TrialsStore(path) as store:
        store.record(_row("a"))
    before = sorted(p.name for p in tmp_path.iterdir())

    # Act
    store = open_read_only(path)
    try:
        ids = store.ids()
    finally:
        store.close()

    # Assert
    assert ids == {"a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["study.sqlite"]


def test_a_study_being_written_is_read_with_every_committed_trial(tmp_path):
    # Arrange: a writer still open, its trials in the WAL
    from storage.trials import open_read_only

    path = tmp_path / "study.sqlite"
    writer = TrialsStore(path, writer=True)
    writer._conn.execute("PRAGMA wal_autocheckpoint = 0")
    writer.record(_row("a"))

    # Act
    store = open_read_only(path)
    try:
        ids = store.ids()
    finally:
        store.close()
        writer.close()

    # Assert
    assert ids == {"a"}


def test_a_file_refused_as_a_study_gets_no_lock_file_beside_it(tmp_path):
    # Arrange
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")

    # Act / Assert
    with pytest.raises(UserError, match="not a readable trials store"):
        TrialsStore(path, writer=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert path.read_text() == "hello\n"


def test_a_lock_file_already_there_stays_when_the_file_is_refused(tmp_path):
    # Arrange: the lock file is never deleted by anyone but the holder that made it
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    (tmp_path / "notes.txt.lock").write_text("")

    # Act / Assert
    with pytest.raises(UserError, match="not a readable trials store"):
        TrialsStore(path, writer=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "notes.txt.lock"]
