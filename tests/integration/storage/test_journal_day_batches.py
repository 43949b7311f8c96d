"""A backtest's journal commits once per simulated day; every other journal once per write.

A backtest's run in a journal opened with ``synchronous=NORMAL`` (the sessions' choice for
simulated accounts) keeps one transaction open per simulated UTC day: a crash loses at most
the day being written (a backtest is re-run, never resumed), and the writes cost no commit
each.  The rows are the same either way, and the writer's own reads see the open day.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

from engine.records import (
    BasketClose,
    BasketOpen,
    EquitySnapshot,
    OrderResult,
    PlannedLeg,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from storage.journal import SqliteJournal

DAY1 = datetime(2019, 4, 1, 10, 0, tzinfo=UTC)
DAY2 = datetime(2019, 4, 2, 0, 0, tzinfo=UTC)
RUN = "bt-1"


def equity(when: datetime, value: float = 1e5) -> EquitySnapshot:
    return EquitySnapshot(RUN, when, 1e5, value, 0.0, 1e5, 0.0, 0.0)


def basket(basket_id: str, when: datetime) -> BasketOpen:
    return BasketOpen(basket_id, RUN, "C1", "LONG", when, -1.4, 250.0,
                      (PlannedLeg("EURUSD", "BUY", 0.1), PlannedLeg("GBPUSD", "SELL", 0.1)))


def committed(path: Path, table: str) -> int:
    """Rows of ``table`` another connection sees: what is on disk, committed."""
    with sqlite3.connect(path) as other:
        return other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def open_backtest(path: Path, synchronous: str = "NORMAL", mode: str = "backtest"):
    journal = SqliteJournal.open(path, synchronous=synchronous)
    journal.start_run(RunStart(RUN, mode, DAY1 - timedelta(hours=10), "cfg"))
    return journal


def test_a_backtest_commits_its_writes_when_the_simulated_day_changes(tmp_path):
    path = tmp_path / "journal.sqlite"
    journal = open_backtest(path)
    try:
        # Act: a day's writes, then the first write of the next day, then the run's end
        journal.record_equity(equity(DAY1))
        journal.open_basket(basket("B-1", DAY1 + timedelta(minutes=30)))
        day1_before_day2 = committed(path, "equity"), committed(path, "baskets")
        journal.record_equity(equity(DAY2))
        after_day2 = committed(path, "equity"), committed(path, "baskets")
        journal.end_run(RunEnd(RUN, DAY2 + timedelta(hours=1), "end of backtest"))
        after_end = committed(path, "equity")

        # Assert
        assert day1_before_day2 == (0, 0)  # the open day is one transaction
        assert after_day2 == (1, 1)  # day 1 committed; day 2 open
        assert after_end == 2  # the run's end commits the last day
    finally:
        journal.close()


def test_the_writer_reads_the_open_day(tmp_path):
    journal = open_backtest(tmp_path / "journal.sqlite")
    try:
        # Act
        journal.record_equity(equity(DAY1, 100_123.0))
        journal.open_basket(basket("B-1", DAY1))

        # Assert: reports and the History read through the writer see every row
        assert [e.equity for e in journal.equity_series(run_id=RUN)] == [100_123.0]
        assert [b.basket.basket_id for b in journal.open_baskets()] == ["B-1"]
    finally:
        journal.close()


def test_a_failing_write_is_undone_alone_and_the_day_goes_on(tmp_path):
    path = tmp_path / "journal.sqlite"
    journal = open_backtest(path)
    try:
        journal.record_equity(equity(DAY1))

        # Act: a result for a request never journaled is refused inside the open day
        with pytest.raises(ValueError, match="never journaled"):
            journal.record_result(OrderResult("nope", DAY1, 10009, 1, 1, 0.1, 1.1, "done"))
        journal.open_basket(basket("B-1", DAY1))
        journal.close()

        # Assert: the day's other writes are all on disk
        assert (committed(path, "equity"), committed(path, "baskets"),
                committed(path, "orders")) == (1, 1, 0)
    finally:
        journal.close()


@pytest.mark.parametrize(("mode", "synchronous"), [("demo", "FULL"), ("replay", "NORMAL"),
                                                   ("backtest", "FULL"), ("live", "FULL")])
def test_every_other_journal_commits_each_write(tmp_path, mode, synchronous):
    path = tmp_path / "journal.sqlite"
    journal = open_backtest(path, synchronous, mode)
    try:
        # Act
        journal.record_equity(equity(DAY1))
        journal.open_basket(basket("B-1", DAY1))

        # Assert: on disk as soon as each write returns
        assert (committed(path, "equity"), committed(path, "baskets")) == (1, 1)
    finally:
        journal.close()


def _write_run(journal: SqliteJournal) -> None:
    """Two days of a run, with the upserts a run makes: a close completing a basket, a TDI
    snapshot written again with a missing (NaN) figure, which keeps the one stored."""
    journal.record_tdi(TdiSnapshot(RUN, "C1", DAY1, -1.5, 0.2, 3.0, 0.6, "ENTER"))
    journal.open_basket(basket("B-1", DAY1))
    journal.record_equity(equity(DAY1))
    journal.record_tdi(TdiSnapshot(RUN, "C1", DAY1, -1.5, math.nan, 3.0, 0.6, "ENTER", "again"))
    journal.record_equity(equity(DAY2, 100_050.0))
    journal.close_basket(BasketClose("B-1", DAY2, 0.1, "TP", 50.0, -1.0, "target"))
    journal.end_run(RunEnd(RUN, DAY2 + timedelta(hours=1), "end of backtest"))


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    tables = ("runs", "baskets", "legs", "tdi_snapshots", "equity")
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def test_day_batches_write_the_same_rows_as_a_commit_per_write(tmp_path):
    # Arrange: the same run into a batched (NORMAL) and a per-write (FULL) journal
    for name, synchronous in (("batched", "NORMAL"), ("each", "FULL")):
        with open_backtest(tmp_path / f"{name}.sqlite", synchronous) as journal:
            # Act
            _write_run(journal)

    # Assert
    batched, each = _dump(tmp_path / "batched.sqlite"), _dump(tmp_path / "each.sqlite")
    assert batched == each
    with sqlite3.connect(tmp_path / "batched.sqlite") as conn:
        phi, reason = conn.execute("SELECT phi, reason FROM tdi_snapshots").fetchone()
    assert (phi, reason) == (0.2, "again")  # the missing phi kept, the reason written again


KILLED_WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime, timedelta
    from engine.records import BasketOpen, EquitySnapshot, PlannedLeg, RunStart
    from storage.journal import SqliteJournal

    DAY1 = datetime(2019, 4, 1, 10, 0, tzinfo=UTC)
    DAY2 = DAY1 + timedelta(hours=14)
    journal = SqliteJournal.open(sys.argv[1], synchronous="NORMAL")
    journal.start_run(RunStart("bt-1", "backtest", DAY1, "cfg"))
    leg = (PlannedLeg("EURUSD", "BUY", 0.1),)
    journal.record_equity(EquitySnapshot("bt-1", DAY1, 1e5, 1e5, 0.0, 1e5, 0.0, 0.0))
    journal.open_basket(BasketOpen("B-1", "bt-1", "C1", "LONG", DAY1, -1.4, 250.0, leg))
    journal.record_equity(EquitySnapshot("bt-1", DAY2, 1e5, 1e5, 0.0, 1e5, 0.0, 0.0))
    journal.open_basket(BasketOpen("B-2", "bt-1", "C1", "LONG", DAY2, -1.4, 250.0, leg))
    print("day 2 written", flush=True)
    sys.stdin.readline()
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_killed_backtest_loses_at_most_the_day_being_written(tmp_path):
    # Arrange: a backtest writer killed in the middle of its second simulated day
    path = tmp_path / "journal.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    writer = subprocess.Popen([sys.executable, str(script), str(path)], cwd=REPO_ROOT,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "day 2 written"

    # Act
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    writer.stdin.close()
    writer.stdout.close()

    # Assert: the first day whole, the second gone, the file sound
    with SqliteJournal.open(path, create=False) as journal:
        assert [b.basket.basket_id for b in journal.open_baskets()] == ["B-1"]
        assert len(journal.equity_series(run_id="bt-1")) == 1
        assert [r["run_id"] for r in journal.runs()] == ["bt-1"]
        assert journal.integrity_check() == "ok"
