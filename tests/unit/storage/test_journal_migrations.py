"""Schema versions: version-1 and version-2 journals upgrade in place; foreign or newer files
are refused."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

from engine.errors import UserError
from engine.model import ClusterState, OrderPurpose, RunMode
from engine.records import AccountIdentity, NewsAction, RunStart
from storage.journal import SqliteJournal
from storage.journal_schema import JOURNAL_SCHEMA
from storage.migrations import connect, migrate

V1_SQL = TEST_DATA / "journal" / "journal_v1.sql"
V2_SQL = TEST_DATA / "journal" / "journal_v2.sql"


def make_v1_journal(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SQL.read_text(encoding="utf-8"))
    conn.close()
    return path


def make_v2_journal(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V2_SQL.read_text(encoding="utf-8"))
    conn.close()
    return path


def schema_of(path: Path) -> dict[str, object]:
    """Tables with their columns (name, type, not null, default, pk) and index names."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )]
    layout: dict[str, object] = {
        table: [row[1:] for row in conn.execute(f"PRAGMA table_info({table})")]
        for table in tables
    }
    layout["indexes"] = sorted(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ))
    conn.close()
    return layout


def test_v1_fixture_is_a_version_1_journal(tmp_path):
    path = make_v1_journal(tmp_path / "old.sqlite")

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("PRAGMA application_id").fetchone()[0] == JOURNAL_SCHEMA.application_id
    conn.close()


def test_v1_file_upgrades_in_place_keeping_every_row(tmp_path):
    path = make_v1_journal(tmp_path / "old.sqlite")

    with SqliteJournal.open(path, create=False) as journal:
        assert journal.schema_version == JOURNAL_SCHEMA.latest
        counts = journal.table_counts()
        [closed] = journal.basket_history()
        [still_open] = journal.open_baskets()
        [pending] = journal.pending_requests()
        states = journal.cluster_states()
        # a record written before records named their run holds in any account epoch
        scoped = journal.cluster_states(epoch="sim-another")
        tdi = journal.tdi_history("C3")

    assert counts == {
        "runs": 1, "tdi_snapshots": 3, "baskets": 2, "legs": 3, "orders": 2, "deals": 2,
        "equity": 2, "cluster_states": 1, "manual_commands": 0, "news_actions": 0,
        "refusals": 0, "errors": 0, "external_positions": 0, "external_marks": 0,
    }
    assert closed.basket_id == "C3-20190204T1430-001"
    assert closed.closing is not None and closed.closing.pnl == 41.25
    assert math.isnan(closed.opening.risk_budget)  # not journaled by version 1
    assert [leg.symbol for leg in closed.opening.legs] == ["EURUSD", "USDCHF"]
    assert still_open.basket.basket_id == "C1-20190205T0930-001"
    assert pending.request_id == "req-0002"
    assert pending.purpose is OrderPurpose.UNKNOWN
    assert still_open.deals == ()
    assert states["C2"].state is ClusterState.CLOSE_ONLY
    assert states["C2"].who == "unknown"
    assert states["C2"].expires_at == datetime(2019, 2, 5, 16, 0, tzinfo=UTC)
    assert scoped == states
    assert [s.timeframe for s in tdi] == ["M30", "M30"]


def test_upgraded_file_keeps_64_bit_tickets_and_accepts_new_records(tmp_path):
    path = make_v1_journal(tmp_path / "old.sqlite")

    with SqliteJournal.open(path) as journal:
        news = NewsAction(datetime(2019, 2, 5, 13, 0, tzinfo=UTC), "C1", "BLOCK_ENTRY",
                          datetime(2019, 2, 5, 13, 30, tzinfo=UTC), "USD", "HIGH", "NFP")
        journal.record_news_action(news)
        tickets = journal.deal_tickets()
        deals = journal.deals_for_basket("C3-20190204T1430-001")
        assert journal.news_actions() == [news]

    assert tickets == {4294967297, 4294967299}
    assert [d.fee for d in deals] == [0.0, 0.0]


def test_upgraded_file_has_exactly_the_fresh_schema(tmp_path):
    upgraded = make_v1_journal(tmp_path / "old.sqlite")
    SqliteJournal.open(upgraded).close()
    fresh = tmp_path / "fresh.sqlite"
    SqliteJournal.open(fresh).close()

    assert schema_of(upgraded) == schema_of(fresh)


def test_failed_migration_leaves_the_file_as_it_was(tmp_path):
    path = make_v1_journal(tmp_path / "old.sqlite")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE manual_commands (x)")  # makes migration 2 fail half-way
    conn.commit()
    conn.close()

    with pytest.raises(UserError, match="manual_commands"):
        SqliteJournal.open(path)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM cluster_locks").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM baskets").fetchone()[0] == 2
    conn.close()


def test_reopening_a_current_file_migrates_nothing(tmp_path):
    path = tmp_path / "journal.sqlite"
    SqliteJournal.open(path).close()
    conn = connect(path)

    applied = migrate(conn, JOURNAL_SCHEMA)

    assert applied == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == JOURNAL_SCHEMA.latest
    conn.close()


def test_fresh_file_runs_every_migration_from_version_1(tmp_path):
    conn = connect(tmp_path / "new.sqlite")

    assert migrate(conn, JOURNAL_SCHEMA) == list(range(1, JOURNAL_SCHEMA.latest + 1))
    conn.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    SqliteJournal.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 9")
    conn.close()

    with pytest.raises(UserError, match="newer than this release"):
        SqliteJournal.open(path)


def test_foreign_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()

    with pytest.raises(UserError, match="not a trade journal"):
        SqliteJournal.open(path)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()


def test_garbage_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)

    with pytest.raises(UserError, match="not a readable trade journal") as caught:
        SqliteJournal.open(path)

    assert "\n" not in str(caught.value)


def test_missing_file_is_created_only_when_asked(tmp_path):
    with pytest.raises(UserError, match="no trade journal found"):
        SqliteJournal.open(tmp_path / "missing.sqlite", create=False)

    SqliteJournal.open(tmp_path / "sub" / "new.sqlite").close()
    assert (tmp_path / "sub" / "new.sqlite").exists()


# --------------------------------------------------------------------------- version 2


LIVE_BASKET = "USD_MAJORS-20240304T0900-001"
DEMO_CLOSED = "USD_MAJORS-20240108T1030-001"
DEMO_OPEN = "USD_MAJORS-20240108T1030-002"


def test_v2_fixture_is_a_version_2_journal(tmp_path):
    path = make_v2_journal(tmp_path / "old.sqlite")

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("PRAGMA application_id").fetchone()[0] == JOURNAL_SCHEMA.application_id
    conn.close()


def test_v2_file_upgrades_keeping_every_row_and_giving_each_run_its_epoch(tmp_path):
    # Arrange: the old default journal, a live run and two demo runs mixed in one file
    path = make_v2_journal(tmp_path / "old.sqlite")

    # Act
    with SqliteJournal.open_reader(path) as journal:
        version = journal.schema_version
        counts = journal.table_counts()
        runs = {r["run_id"]: r for r in journal.runs()}
        open_epochs = {b.basket.basket_id: b.epoch for b in journal.open_baskets()}
        deals = journal._rows("SELECT ticket, account, epoch, basket_id FROM deals ORDER BY ticket")
        orders = dict(journal._conn.execute("SELECT request_id, epoch FROM orders").fetchall())
        [news] = journal.news_actions()
        bound = journal.bound_account()
        [closed] = journal.basket_history()

    # Assert
    assert version == JOURNAL_SCHEMA.latest
    assert counts == {
        "runs": 3, "tdi_snapshots": 3, "baskets": 3, "legs": 3, "orders": 3, "deals": 2,
        "equity": 3, "cluster_states": 1, "manual_commands": 1, "news_actions": 1,
        "refusals": 1, "errors": 1, "external_positions": 0, "external_marks": 0,
    }
    assert {r: runs[r]["epoch"] for r in runs} == {
        "live-5e1f0a2b": "", "demo-0c4d9e71": "demo-0c4d9e71", "demo-8a3b6f20": "demo-8a3b6f20"}
    assert open_epochs == {LIVE_BASKET: "", DEMO_OPEN: "demo-8a3b6f20"}
    assert deals == [
        {"ticket": 2, "account": "", "epoch": "demo-8a3b6f20", "basket_id": DEMO_OPEN},
        {"ticket": 811223344, "account": "", "epoch": "", "basket_id": LIVE_BASKET},
    ]
    assert orders == {"live-5e1f0a2b:000001": "", "demo-0c4d9e71:000001": "demo-0c4d9e71",
                      "demo-8a3b6f20:000001": "demo-8a3b6f20"}
    assert news.run_id == "demo-8a3b6f20" and news.title == "CPI m/m"
    assert bound is None  # bound by the next run that names its account
    assert closed.basket_id == DEMO_CLOSED and closed.closing.pnl == 52.5


def test_upgraded_v2_file_has_exactly_the_fresh_schema(tmp_path):
    upgraded = make_v2_journal(tmp_path / "old.sqlite")
    SqliteJournal.open(upgraded).close()
    fresh = tmp_path / "fresh.sqlite"
    SqliteJournal.open(fresh).close()

    assert schema_of(upgraded) == schema_of(fresh)


def test_the_first_run_on_an_upgraded_journal_closes_the_books_of_the_killed_one(tmp_path):
    path = make_v2_journal(tmp_path / "old.sqlite")
    demo = AccountIdentity(RunMode.DEMO, "FxCluster-Demo", 52_700_001, "USD")

    with SqliteJournal.open(path, account=demo) as journal:
        journal.start_run(RunStart("demo-new", RunMode.DEMO,
                                   datetime(2024, 1, 8, tzinfo=UTC), "cfg", account=demo,
                                   epoch="sim-new"))
        runs = {r["run_id"]: r for r in journal.runs()}
        bound = journal.bound_account()

    assert bound == demo
    killed = runs["demo-8a3b6f20"]
    assert (killed["end_reason"], killed["last_equity"]) == ("interrupted", 99_991.3)
    assert killed["ended_at"] == "2024-01-08T11:00:00.000+00:00"
    assert runs["demo-0c4d9e71"]["end_reason"] == "end of run"
