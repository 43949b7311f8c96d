"""``main.py journal summary|export|backup`` through the real entry point."""

from __future__ import annotations

import csv
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import pytest

import main
from engine.records import BasketClose, BasketOpen, Deal, EquitySnapshot, PlannedLeg, RunStart
from storage.journal import SqliteJournal
from storage.journal_schema import JOURNAL_SCHEMA, JOURNAL_TABLES
from storage.paths import default_journal_path

T0 = datetime(2019, 2, 4, 14, 30, tzinfo=UTC)


@pytest.fixture
def cli(monkeypatch):
    """Run main.py with only this area's command registered."""
    monkeypatch.setattr(main, "COMMAND_MODULES", ("app.cli.journal",))

    def run(*argv: str) -> int:
        return main.main(list(argv))

    return run


def fill(path) -> None:
    with SqliteJournal.open(path) as journal:
        journal.start_run(RunStart("run-1", "replay", T0, "cfg-7f3a"))
        for i, pnl in enumerate((41.25, -30.0)):
            basket_id = f"C3-20190204T1430-{i:03d}"
            journal.open_basket(BasketOpen(
                basket_id, "run-1", "C3", "LONG", T0, -1.4, 300.0,
                (PlannedLeg("EURUSD", "BUY", 0.5), PlannedLeg("USDCHF", "BUY", 0.3)),
            ))
            journal.close_basket(
                BasketClose(basket_id, T0 + timedelta(hours=1 + i), -0.1, "MR", pnl, -7.0)
            )
        journal.record_deal(Deal(
            2**40 + 7, 2**40 + 6, 2**40 + 6, "EURUSD", 0, 0, 0.5, 1.1449, -3.5, 0.0, 0.0, 0.0,
            T0, 3003, "C3-20190204T1430-000", "C3-20190204T1430-000",
        ))
        journal.record_equity(EquitySnapshot("run-1", T0, 1e5, 100_011.25, 0, 1e5, 0, 0))


def test_summary_prints_runs_baskets_and_cluster_results(cli, tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)

    status = cli("journal", "summary", "--journal", str(path))

    out = capsys.readouterr().out
    assert status == 0
    assert f"version {JOURNAL_SCHEMA.latest}, integrity ok" in out
    assert "run-1 (replay)" in out
    assert "0 open, 2 closed, net P&L 11.25 (its one run together)" in out
    assert "C3" in out and "50%*" in out and "MR:2" in out
    # two baskets: the win% is marked as too few to judge by
    assert "* from fewer than 5 closed baskets: too few to judge a win% by" in out


def test_summary_says_it_pools_every_run_of_the_journal(cli, tmp_path, capsys):
    # Arrange
    path = tmp_path / "journal.sqlite"
    fill(path)
    with SqliteJournal.open(path) as journal:
        journal.start_run(RunStart("run-2", "replay", T0 + timedelta(minutes=1), "cfg-7f3a"))

    # Act
    status = cli("journal", "summary", "--journal", str(path))

    # Assert
    out = capsys.readouterr().out
    assert status == 0
    assert "net P&L 11.25 (all 2 runs in this journal together)" in out
    assert "(all 2 runs in this journal; closed baskets, P&L net of costs)" in out


def test_summary_gives_the_last_runs_own_equity_not_a_later_market_time_of_another(
        cli, tmp_path, capsys):
    # Arrange: run-1 marked as far as T0 + 3 days; run-2, started after it over the same
    # market dates (a demo or a replay again), only as far as T0 + 1 day
    path = tmp_path / "journal.sqlite"
    fill(path)
    with SqliteJournal.open(path) as journal:
        journal.record_equity(EquitySnapshot("run-1", T0 + timedelta(days=3), 1e5, 100_131.56,
                                             0, 1e5, 0, 0))
        journal.start_run(RunStart("run-2", "replay", T0 + timedelta(minutes=1), "cfg-7f3a"))
        journal.record_equity(EquitySnapshot("run-2", T0 + timedelta(days=1), 1e5, 99_990.0,
                                             0, 1e5, 0, 0))

    # Act
    status = cli("journal", "summary", "--journal", str(path))

    # Assert
    out = capsys.readouterr().out
    assert status == 0 and "run-2 (replay)" in out
    assert "equity    99,990.00 (balance 100,000.00) at 2019-02-05T14:30:00+00:00, the last " \
           "run's last mark" in out


def test_summary_uses_the_default_journal(cli, capsys):
    fill(default_journal_path())

    assert cli("journal", "summary") == 0
    assert str(default_journal_path()) in capsys.readouterr().out


def test_export_writes_one_csv_per_table(cli, tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)
    out_dir = tmp_path / "export"

    status = cli("journal", "export", "--journal", str(path), "--out", str(out_dir))

    assert status == 0
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{t}.csv" for t in JOURNAL_TABLES)
    with (out_dir / "baskets.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["pnl"] for r in rows] == ["41.25", "-30.0"]
    assert rows[0]["opened_at"] == "2019-02-04T14:30:00.000+00:00"
    with (out_dir / "deals.csv").open(newline="", encoding="utf-8") as handle:
        assert next(csv.DictReader(handle))["ticket"] == str(2**40 + 7)
    assert "baskets.csv: 2 rows" in capsys.readouterr().out


def test_export_of_chosen_tables_refuses_to_overwrite(cli, tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)
    out_dir = tmp_path / "export"
    args = ("journal", "export", "--journal", str(path), "--out", str(out_dir), "--table", "equity")

    assert cli(*args) == 0
    assert [p.name for p in out_dir.iterdir()] == ["equity.csv"]
    assert cli(*args) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli(*args, "--force") == 0


def test_backup_is_a_complete_standalone_database(cli, tmp_path):
    path = tmp_path / "journal.sqlite"
    fill(path)
    target = tmp_path / "backups" / "journal-backup.sqlite"

    status = cli("journal", "backup", "--journal", str(path), "--out", str(target))

    assert status == 0
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT COUNT(*) FROM baskets").fetchone()[0] == 2
    assert conn.execute("SELECT ticket FROM deals").fetchone()[0] == 2**40 + 7
    conn.close()
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no copy in progress


def test_backup_refuses_to_overwrite_without_force(cli, tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)
    target = tmp_path / "backup.sqlite"
    target.write_bytes(b"an older backup")

    assert cli("journal", "backup", "--journal", str(path), "--out", str(target)) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"an older backup"
    assert cli("journal", "backup", "--journal", str(path), "--out", str(target), "--force") == 0


def test_a_backup_is_readable_by_its_owner_only(cli, tmp_path):
    # Arrange: a journal, and a permissive umask
    path = tmp_path / "journal.sqlite"
    fill(path)
    target = tmp_path / "backup.sqlite"
    old_mask = os.umask(0o022)

    # Act
    try:
        status = cli("journal", "backup", "--journal", str(path), "--out", str(target))
    finally:
        os.umask(old_mask)

    # Assert: 0600, as the journal it copies
    assert status == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("spelling", ["same", "other"])
def test_a_backup_onto_the_journal_itself_is_refused(cli, tmp_path, capsys, spelling):
    # Arrange: --out names the journal, as written or by another path
    path = tmp_path / "journal.sqlite"
    fill(path)
    out = path if spelling == "same" else tmp_path / "sub" / ".." / "journal.sqlite"
    (tmp_path / "sub").mkdir()
    before = path.read_bytes()

    # Act
    status = cli("journal", "backup", "--journal", str(path), "--out", str(out), "--force")

    # Assert
    assert status == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {out}: is the journal being backed up; give another file for the backup"]
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "action", [("summary",), ("export", "--out", "x"), ("backup", "--out", "b")]
)
def test_missing_journal_is_a_one_line_error(cli, tmp_path, capsys, action):
    missing = tmp_path / "nowhere.sqlite"

    status = cli("journal", action[0], "--journal", str(missing), *action[1:])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "no trade journal found" in err
    assert not missing.exists()


def test_corrupt_journal_is_a_one_line_error(cli, tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"\x00garbage" * 512)

    status = cli("journal", "summary", "--journal", str(path))

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "not a readable trade journal" in err
