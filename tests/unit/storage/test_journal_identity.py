"""A journal belongs to one account, keeps every run's rows, and has one writer.

Real SQLite files throughout; the writer lock between two processes, and the file conditions
through the commands, are in ``tests/integration/storage/test_journal_writers.py`` and
``tests/integration/app/test_journal_files_cli.py``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import UserError
from engine.model import RunMode
from engine.records import (
    AccountIdentity,
    BasketOpen,
    Deal,
    EquitySnapshot,
    NewsAction,
    OrderRequest,
    PlannedLeg,
    RunEnd,
    RunStart,
)
from storage.journal import (
    JournalDamaged,
    JournalFull,
    JournalInUse,
    JournalOfAnotherAccount,
    SqliteJournal,
)
from storage.paths import account_journal_path, default_journal_path, journals_dir

T0 = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
LIVE = AccountIdentity(RunMode.LIVE, "Broker-Live", 1001, "USD")
DEMO = AccountIdentity(RunMode.DEMO, "FxCluster-Demo", 52_700_001, "USD")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def deal(ticket: int, basket_id: str, profit: float = 0.0) -> Deal:
    return Deal(ticket, ticket, ticket, "EURUSD", 0, 0, 0.5, 1.1, -3.5, 0.0, profit, 0.0,
                at(1), 710001, basket_id, basket_id)


def basket(basket_id: str, run_id: str) -> BasketOpen:
    return BasketOpen(basket_id, run_id, "USD_MAJORS", "LONG", at(0), -1.3, 300.0,
                      (PlannedLeg("EURUSD", "BUY", 0.5),), 710001)


def start(journal: SqliteJournal, run_id: str, account: AccountIdentity | None = DEMO,
          epoch: str = "", minutes: float = 0) -> None:
    mode = account.mode if account is not None else RunMode.DEMO
    journal.start_run(RunStart(run_id, mode, at(minutes), "cfg", account=account, epoch=epoch))


# --------------------------------------------------------------------------- one account


def test_the_first_run_binds_the_journal_to_its_account(tmp_path):
    with SqliteJournal.open(tmp_path / "j.sqlite") as journal:
        assert journal.bound_account() is None

        start(journal, "demo-1")

        assert journal.bound_account() == DEMO
        [run] = journal.runs()
    assert (run["server"], run["login"], run["currency"], run["account"]) == (
        "FxCluster-Demo", 52_700_001, "USD", "FxCluster-Demo:52700001")


@pytest.mark.parametrize("other", [
    AccountIdentity(RunMode.LIVE, "Broker-Live", 1002, "USD"),     # another login
    AccountIdentity(RunMode.LIVE, "Broker-Live2", 1001, "USD"),    # another server
    AccountIdentity(RunMode.LIVE, "Broker-Live", 1001, "EUR"),     # another currency
    AccountIdentity(RunMode.DEMO, "Broker-Live", 1001, "USD"),     # the same, simulated
])
def test_a_live_journal_refuses_another_account(tmp_path, other):
    path = tmp_path / "live.sqlite"
    with SqliteJournal.open(path, account=LIVE) as journal:
        start(journal, "live-1", LIVE)

    with pytest.raises(JournalOfAnotherAccount) as refused:
        SqliteJournal.open(path, account=other)
    with SqliteJournal.open(path) as journal, pytest.raises(JournalOfAnotherAccount):
        start(journal, "other-1", other)

    message = str(refused.value)
    assert "\n" not in message and str(path) in message
    assert "live account 1001 on Broker-Live (USD)" in message
    assert other.describe() in message
    with SqliteJournal.open_reader(path) as journal:
        assert [r["run_id"] for r in journal.runs()] == ["live-1"]
        assert journal.bound_account() == LIVE


def test_an_empty_file_another_writer_has_just_created_is_no_refusal(tmp_path):
    # Arrange: the instant after another writer created the file, before SQLite wrote to it
    path = tmp_path / "live.sqlite"
    path.touch()

    # Act
    with SqliteJournal.open(path, account=LIVE) as journal:
        start(journal, "live-1", LIVE)

    # Assert: this writer made it a journal bound to its account
    with SqliteJournal.open_reader(path) as journal:
        assert journal.bound_account() == LIVE
        assert [r["run_id"] for r in journal.runs()] == ["live-1"]


def test_the_same_account_opens_its_journal_again(tmp_path):
    path = tmp_path / "live.sqlite"
    with SqliteJournal.open(path, account=LIVE) as journal:
        start(journal, "live-1", LIVE)

    with SqliteJournal.open(path, account=LIVE) as journal:
        start(journal, "live-2", LIVE)
        assert [r["run_id"] for r in journal.runs()] == ["live-1", "live-2"]


def test_default_journals_are_per_mode_and_account():
    replay = AccountIdentity(RunMode.REPLAY, "FxCluster-Replay", 31_415_926, "USD")
    odd = AccountIdentity(RunMode.LIVE, "My Broker/Live #2", 77, "EUR")

    assert default_journal_path() == journals_dir() / "demo.sqlite"
    assert account_journal_path(DEMO, primary=True) == journals_dir() / "demo.sqlite"
    assert account_journal_path(LIVE) == journals_dir() / "live-Broker-Live-1001.sqlite"
    assert account_journal_path(odd).name == "live-My_Broker_Live_2-77.sqlite"
    assert account_journal_path(replay).name == "replay-31415926.sqlite"
    assert account_journal_path(DEMO).name == "demo-52700001.sqlite"


def test_a_run_cannot_claim_an_account_of_another_mode():
    with pytest.raises(ValueError, match="a demo run cannot trade the live account"):
        RunStart("demo-1", RunMode.DEMO, T0, "cfg", account=LIVE)


# --------------------------------------------------------------------------- every run kept


def test_two_runs_of_fresh_simulators_keep_all_their_deals(tmp_path):
    # Arrange: two runs, each over its own simulator, which numbers deals from 2 again
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        for n, epoch in enumerate(("sim-a", "sim-b"), start=1):
            start(journal, f"demo-{n}", epoch=epoch, minutes=n)
            journal.open_basket(basket(f"USD_MAJORS-20240108T0900-00{n}", f"demo-{n}"))
            journal.record_request(OrderRequest(
                f"demo-{n}:000001", f"USD_MAJORS-20240108T0900-00{n}", "ENTRY", "EURUSD", "BUY",
                0.5, 1.1, 10, 710001, "c", 1, at(0)))
            for ticket in (2, 3):
                journal.record_deal(deal(ticket, f"USD_MAJORS-20240108T0900-00{n}", 10.0 * n))

        # Act
        first = journal.deals_for_basket("USD_MAJORS-20240108T0900-001")
        second = journal.deals_for_basket("USD_MAJORS-20240108T0900-002")
        counts = journal.table_counts()
        by_position = journal.deals_for_position(2, epoch="sim-a")
        orders = journal._rows("SELECT request_id, epoch, account FROM orders ORDER BY rowid")

    # Assert
    assert counts["deals"] == 4
    assert [(d.ticket, d.profit) for d in first] == [(2, 10.0), (3, 10.0)]
    assert [(d.ticket, d.profit) for d in second] == [(2, 20.0), (3, 20.0)]
    assert [d.basket_id for d in by_position] == ["USD_MAJORS-20240108T0900-001"]
    assert orders == [
        {"request_id": "demo-1:000001", "epoch": "sim-a", "account": DEMO.key},
        {"request_id": "demo-2:000001", "epoch": "sim-b", "account": DEMO.key},
    ]


def test_a_deal_journaled_again_in_the_same_epoch_is_one_row(tmp_path):
    # A terminal that outlives the engine: the restarted run journals the same deals again.
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        start(journal, "demo-1", epoch="served")
        journal.record_deal(deal(7, "B-1"))
        start(journal, "demo-2", epoch="served", minutes=5)
        journal.record_deal(deal(7, "B-1"))

        assert journal.table_counts()["deals"] == 1


def test_open_baskets_carry_the_epoch_of_the_run_that_opened_them(tmp_path):
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        start(journal, "demo-1", epoch="sim-a")
        journal.open_basket(basket("USD_MAJORS-20240108T0900-001", "demo-1"))
        start(journal, "demo-2", epoch="sim-b", minutes=1)
        journal.open_basket(basket("USD_MAJORS-20240108T0900-002", "demo-2"))

        epochs = {b.basket.basket_id: b.epoch for b in journal.open_baskets()}

    assert epochs == {"USD_MAJORS-20240108T0900-001": "sim-a",
                      "USD_MAJORS-20240108T0900-002": "sim-b"}


def test_two_runs_acting_on_the_same_news_keep_both_rows(tmp_path):
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        for run_id in ("demo-1", "demo-2"):
            journal.record_news_action(NewsAction(at(0), "USD_MAJORS", "BLOCK_ENTRY", at(30),
                                                  "USD", "HIGH", "CPI m/m", run_id=run_id))

        assert [a.run_id for a in journal.news_actions()] == ["demo-1", "demo-2"]


def test_a_new_run_marks_a_run_that_never_ended_as_interrupted(tmp_path):
    # Arrange: a run killed after two equity snapshots, one that ended cleanly
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        start(journal, "demo-1", epoch="sim-a")
        journal.record_equity(EquitySnapshot("demo-1", at(30), 1e5, 100_012.5, 0, 1e5, 0, 0))
        journal.end_run(RunEnd("demo-1", at(60), "end of run"))
        start(journal, "demo-2", epoch="sim-b", minutes=90)
        journal.record_equity(EquitySnapshot("demo-2", at(100), 1e5, 99_990.0, 0, 1e5, 0, 0))
        journal.record_equity(EquitySnapshot("demo-2", at(120), 1e5, 99_971.25, 0, 1e5, 0, 0))

    # Act: the next run starts
    with SqliteJournal.open(tmp_path / "j.sqlite", account=DEMO) as journal:
        start(journal, "demo-3", epoch="sim-c", minutes=200)
        runs = {r["run_id"]: r for r in journal.runs()}

    # Assert
    assert runs["demo-2"]["end_reason"] == "interrupted"
    assert runs["demo-2"]["ended_at"] == "2024-01-08T11:00:00.000+00:00"
    assert runs["demo-2"]["last_equity"] == 99_971.25
    assert runs["demo-1"]["end_reason"] == "end of run"
    assert runs["demo-1"]["last_equity"] == 100_012.5
    assert runs["demo-3"]["ended_at"] is None


# --------------------------------------------------------------------------- one writer


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    path = tmp_path / "j.sqlite"
    with SqliteJournal.open(path) as writer:
        assert writer.is_writer

        with pytest.raises(JournalInUse) as refused:
            SqliteJournal.open(path)
        with SqliteJournal.open_reader(path) as reader:
            assert not reader.is_writer and reader.runs() == []

    assert f"already open for writing by pid {os.getpid()} (" in str(refused.value)
    assert "\n" not in str(refused.value)
    SqliteJournal.open(path).close()  # closing let go of the lock
    assert Path(str(path) + ".lock").read_text() == ""


@pytest.mark.parametrize("link", ["the file", "its folder"])
def test_a_writer_reaching_the_journal_through_a_symbolic_link_meets_the_same_lock(
        tmp_path, link):
    # Arrange: the journal, and a second name for it through a link
    folder = tmp_path / "journals"
    folder.mkdir()
    path = folder / "j.sqlite"
    if link == "the file":
        other_name = tmp_path / "alias.sqlite"
        other_name.symlink_to(path)
    else:
        (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
        other_name = tmp_path / "alias" / "j.sqlite"

    # Act / Assert: two writers at once through the two names: the second is refused
    with SqliteJournal.open(path), pytest.raises(JournalInUse):
        SqliteJournal.open(other_name)
    assert sorted(p.name for p in folder.iterdir()) == ["j.sqlite", "j.sqlite.lock"]


@pytest.mark.skipif(not hasattr(os, "link"), reason="hard links")
def test_a_journal_with_a_second_name_through_a_hard_link_is_refused_for_writing(tmp_path):
    # Arrange: a journal, then a hard link to it (a lock beside each name would be two locks)
    path = tmp_path / "j.sqlite"
    SqliteJournal.open(path).close()
    os.link(path, tmp_path / "hard.sqlite")

    # Act / Assert: neither name is written; readers still read
    for name in (path, tmp_path / "hard.sqlite"):
        with pytest.raises(JournalInUse, match=r"has 2 names \(hard links\)") as refused:
            SqliteJournal.open(name)
        assert "\n" not in str(refused.value)
    with SqliteJournal.open(path, writer=False) as reader:
        assert reader.path == path


def test_a_journal_being_written_is_not_replaced_by_a_backup(tmp_path):
    # Arrange: a journal a writer holds, and another journal to back up onto it
    live, other = tmp_path / "live.sqlite", tmp_path / "other.sqlite"
    SqliteJournal.open(other).close()

    # Act / Assert: refused, naming the writer; the writer's file is still its own
    with SqliteJournal.open(live) as writer:
        inode = os.stat(live).st_ino
        with SqliteJournal.open(other, writer=False) as source, \
                pytest.raises(JournalInUse, match="open for writing by pid") as refused:
            source.backup(live, overwrite=True)
        assert "a backup would replace it" in str(refused.value)
        assert os.stat(live).st_ino == inode and writer.path == live


def test_the_lock_file_never_shows_a_secret(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite"
    monkeypatch.setattr("sys.argv", ["main.py", "run", "--live", "--password", "hunter2",
                                     "--api-key=abc123", "--journal", str(path)])
    with SqliteJournal.open(path):
        holder = Path(str(path) + ".lock").read_text()

    assert "hunter2" not in holder and "abc123" not in holder
    assert "--password *** --api-key=*** --journal" in holder


# --------------------------------------------------------------------------- damaged, full


def filled_journal(path: Path, deals: int = 50) -> Path:
    with SqliteJournal.open(path, account=DEMO) as journal:
        start(journal, "demo-1", epoch="sim-a")
        for ticket in range(2, 2 + deals):
            journal.record_deal(deal(ticket, "B-1"))
    return path


def damage_page_of(path: Path, table: str) -> None:
    """Overwrite the header of ``table``'s root page, as a failing disk would."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * 16)


@pytest.mark.parametrize("action", ["open for writing", "summary", "export", "backup"])
def test_a_damaged_page_is_said_whatever_meets_it(tmp_path, action):
    path = damage_page_of_filled(tmp_path)

    with pytest.raises(JournalDamaged) as caught:
        if action == "open for writing":
            SqliteJournal.open(path, account=DEMO)
        with SqliteJournal.open_reader(path) as journal:
            if action == "summary":
                journal.summary()
            elif action == "export":
                journal.export_csv(tmp_path / "out")
            else:
                journal.backup(tmp_path / "backup.sqlite")

    message = str(caught.value)
    assert message.startswith(f"{path}: the journal is damaged (") and "\n" not in message
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".backup", "backup"))]


def damage_page_of_filled(tmp_path: Path) -> Path:
    path = filled_journal(tmp_path / "j.sqlite")
    damage_page_of(path, "deals")
    return path


def test_a_full_disk_is_one_line_and_leaves_the_journal_consistent(tmp_path):
    # Simulated with SQLite's page limit on the real file: no unprivileged file system here
    # can be filled safely (the command-line test uses a file-size limit instead).
    path = tmp_path / "j.sqlite"
    written = 0
    with SqliteJournal.open(path, account=DEMO) as journal:
        start(journal, "demo-1", epoch="sim-a")
        pages = journal._scalar("PRAGMA page_count")
        journal._conn.execute(f"PRAGMA max_page_count = {pages + 3}")
        with pytest.raises(JournalFull) as caught:
            for ticket in range(2, 100_000):
                journal.record_deal(deal(ticket, "B-" + "x" * 200))
                written += 1
        journal._conn.execute("PRAGMA max_page_count = 1073741823")
        after = journal.table_counts()["deals"]
        journal.record_deal(deal(1, "B-after"))  # space again: the journal goes on

    message = str(caught.value)
    assert message.startswith(f"{path}: the disk is full (") and "\n" not in message
    assert "the journal is consistent" in message
    assert written > 0 and after == written
    with SqliteJournal.open_reader(path) as journal:
        assert journal.integrity_check() == "ok"
        assert journal.table_counts()["deals"] == written + 1


def test_a_reader_opens_while_a_writer_holds_sqlites_write_lock(tmp_path):
    # A journal at the current version is only read when opened: no write lock is taken, so
    # neither a writer's transaction nor a read-only file keeps a reader out.
    path = filled_journal(tmp_path / "j.sqlite", deals=3)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    conn.execute("BEGIN IMMEDIATE")  # another connection holds SQLite's write lock
    try:
        with SqliteJournal.open_reader(path) as journal:
            assert journal.table_counts()["deals"] == 3
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_journal_errors_are_user_errors():
    for error in (JournalDamaged, JournalFull, JournalInUse, JournalOfAnotherAccount):
        assert issubclass(error, UserError)


# --------------------------------------------------------------------------- backups at once


def test_a_backup_never_replaces_a_copy_another_made_meanwhile_without_force(tmp_path):
    # Arrange: another backup puts its copy in place after this one found the name free
    path = filled_journal(tmp_path / "j.sqlite")
    copy = tmp_path / "backup.sqlite"
    journal = SqliteJournal.open_reader(path)
    check_damage = journal.check_damage

    def other_copy_lands() -> None:
        check_damage()
        copy.write_bytes(b"the other process's copy")

    journal.check_damage = other_copy_lands

    # Act
    with pytest.raises(UserError) as refused:
        journal.backup(copy)
    journal.close()

    # Assert: refused in one line; the other copy as it was; nothing of this one left
    assert str(refused.value) == f"{copy}: already exists (use --force to replace it)"
    assert copy.read_bytes() == b"the other process's copy"
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["backup.sqlite"]


def test_backups_of_one_journal_to_one_file_at_once_each_build_their_own_copy(tmp_path):
    # Arrange: four readers of one journal, each backing up to the same file with --force
    path = filled_journal(tmp_path / "j.sqlite", deals=2_000)
    copy = tmp_path / "backup.sqlite"
    readers = [SqliteJournal.open_reader(path) for _ in range(4)]
    go = threading.Barrier(len(readers))
    failures: list[BaseException] = []

    def back_up(journal: SqliteJournal) -> None:
        go.wait()
        for _ in range(5):
            try:
                journal.backup(copy, overwrite=True)
            except BaseException as exc:  # every failure is the finding
                failures.append(exc)

    # Act
    threads = [threading.Thread(target=back_up, args=(r,)) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for reader in readers:
        reader.close()

    # Assert: every backup succeeded, the copy is whole, nothing half-built is left
    assert failures == []
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM deals").fetchone()[0] == 2_000
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["backup.sqlite"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_new_journal_and_its_log_are_readable_by_their_owner_only(tmp_path):
    # Arrange: the usual umask, under which a new file is readable by everyone
    previous = os.umask(0o022)
    try:
        # Act
        with SqliteJournal.open(tmp_path / "j.sqlite") as journal:
            journal.start_run(RunStart("run-1", "demo", datetime(2024, 1, 8, tzinfo=UTC),
                                       "cfg"))
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()
                     if not p.name.endswith(".lock")}
    finally:
        os.umask(previous)

    # Assert: the account's number, server and trades are the owner's to read
    assert modes["j.sqlite"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
