"""Demo runs in one journal keep every run's rows, and a killed demo run stays as it was.

Measured before: running ``run --demo --days 1 --journal J`` twice left the first run's
baskets with no deals (the second simulator numbered its deals from the same start and
overwrote them), and after a SIGKILL the restart "reconciled" the killed run's open baskets
against a fresh simulator, booking each as MANUAL with P&L 0.0 and a close before its open.
The runs here are real ``main.py`` processes on a real journal file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.paths import REPO_ROOT

from main import main

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

#: No kill point within this long means the run never had a closed and an open basket.
KILL_TIMEOUT_S = 180.0


@dataclass
class Book:
    """The journal as a reader sees it (plain sqlite3, no product code)."""

    runs: dict[str, dict[str, Any]]
    baskets: dict[str, dict[str, Any]]
    legs: dict[str, int]
    deals: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    equity: list[dict[str, Any]]

    def baskets_of(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {b: row for b, row in self.baskets.items() if row["run_id"] == run_id}

    def deals_of(self, basket_id: str) -> list[dict[str, Any]]:
        return [d for d in self.deals if d["basket_id"] == basket_id]

    def entries_filled(self, basket_id: str) -> bool:
        ins = [d for d in self.deals_of(basket_id) if d["entry"] == 0]
        return len(ins) == self.legs.get(basket_id, -1)


def read(path: Path) -> Book:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        def rows(sql: str) -> list[dict[str, Any]]:
            return [dict(r) for r in conn.execute(sql)]

        legs: dict[str, int] = defaultdict(int)
        for leg in rows("SELECT basket_id FROM legs"):
            legs[leg["basket_id"]] += 1
        return Book(
            runs={r["run_id"]: r for r in rows("SELECT * FROM runs ORDER BY rowid")},
            baskets={b["basket_id"]: b for b in rows("SELECT * FROM baskets ORDER BY rowid")},
            legs=dict(legs),
            deals=rows("SELECT * FROM deals ORDER BY rowid"),
            orders=rows("SELECT * FROM orders ORDER BY rowid"),
            equity=rows("SELECT * FROM equity ORDER BY time, rowid"),
        )
    finally:
        conn.close()


def net(deals: list[dict[str, Any]]) -> float:
    return sum(d["profit"] + d["commission"] + d["swap"] + d["fee"] for d in deals)


def assert_books_add_up(book: Book, run_id: str) -> None:
    """Every basket of the run has its deals; a closed one's P&L is theirs to the cent;
    every filled order's deal is a row of the run's epoch and of the order's basket."""
    epoch = book.runs[run_id]["epoch"]
    baskets = book.baskets_of(run_id)
    assert baskets, f"{run_id} opened no basket"
    for basket_id, row in baskets.items():
        deals = book.deals_of(basket_id)
        assert deals and all(d["epoch"] == epoch for d in deals), basket_id
        if row["closed_at"] is not None:
            assert abs(row["pnl"] - net(deals)) < 0.005, (basket_id, row["pnl"], net(deals))
    by_key = {(d["epoch"], d["ticket"]): d for d in book.deals}
    for order in book.orders:
        if order["basket_id"] in baskets and order["retcode"] == 10009 and order["deal"]:
            assert order["epoch"] == epoch
            assert by_key[(epoch, order["deal"])]["basket_id"] == order["basket_id"]


def test_two_demo_runs_in_one_journal_keep_all_their_deals(tmp_path):
    # Arrange
    journal = tmp_path / "journal.sqlite"

    # Act: the same demo twice, on the same journal
    codes = [main(["run", "--demo", "--days", "3", "--journal", str(journal)]) for _ in range(2)]

    # Assert
    assert codes == [0, 0]
    book = read(journal)
    first, second = book.runs
    assert book.runs[first]["epoch"] != book.runs[second]["epoch"]
    for run_id in (first, second):
        assert_books_add_up(book, run_id)
    tickets = [{d["ticket"] for d in book.deals if d["epoch"] == book.runs[r]["epoch"]}
               for r in (first, second)]
    assert tickets[0] & tickets[1], "the two simulators numbered their deals alike"
    assert len(book.deals) == len(tickets[0]) + len(tickets[1])


# --------------------------------------------------------------------------- SIGKILL


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "FXCLUSTER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1"}


def kill_point(journal: Path) -> bool:
    """The running run has closed a basket and holds one open with every leg filled."""
    if not journal.exists():
        return False
    try:
        book = read(journal)
    except sqlite3.Error:
        return False  # the file is being created
    running = [r for r, row in book.runs.items() if row["ended_at"] is None]
    if not running:
        return False
    baskets = book.baskets_of(running[0])
    closed = [b for b, row in baskets.items() if row["closed_at"] is not None]
    held = [b for b, row in baskets.items()
            if row["closed_at"] is None and book.entries_filled(b)]
    return bool(closed and held)


def run_until_killed(journal: Path, home: Path) -> None:
    """Start a long demo run and SIGKILL it at a kill point.  The run is stopped (SIGSTOP)
    while the point is checked again, so the journal cannot move between check and kill."""
    proc = subprocess.Popen([sys.executable, "main.py", "run", "--demo", "--days", "20",
                             "--journal", str(journal)], cwd=REPO_ROOT, env=env(home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + KILL_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the demo ended (exit {proc.returncode}) before a kill point: "
                            f"{proc.stderr.read() if proc.stderr else ''}")
            if kill_point(journal):
                os.kill(proc.pid, signal.SIGSTOP)
                if kill_point(journal):
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=60)
                    return
                os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.01)
        pytest.fail(f"no kill point within {KILL_TIMEOUT_S:g} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def test_a_killed_demo_run_keeps_its_baskets_and_the_restart_books_nothing(tmp_path):
    # Arrange: a demo run killed with a basket closed and one open
    home = tmp_path / "home"
    journal = tmp_path / "journal.sqlite"
    run_until_killed(journal, home)
    at_kill = read(journal)
    [killed] = [r for r, row in at_kill.runs.items() if row["ended_at"] is None]
    last_equity = [e for e in at_kill.equity if e["run_id"] == killed][-1]

    # Act: the demo again on the same journal
    restart = subprocess.run([sys.executable, "main.py", "run", "--demo", "--days", "1",
                              "--journal", str(journal)], cwd=REPO_ROOT, env=env(home),
                             capture_output=True, text=True, timeout=300)

    # Assert
    assert restart.returncode == 0, restart.stderr
    after = read(journal)
    run = after.runs[killed]
    assert (run["end_reason"], run["last_equity"], run["ended_at"]) == (
        "interrupted", last_equity["equity"], last_equity["time"])
    # The killed run's baskets and deals are exactly as they were at the kill ...
    assert after.baskets_of(killed) == at_kill.baskets_of(killed)
    epoch = at_kill.runs[killed]["epoch"]
    assert [d for d in after.deals if d["epoch"] == epoch] == \
        [d for d in at_kill.deals if d["epoch"] == epoch]
    # ... with their real P&L, the open ones still open with their legs ...
    assert_books_add_up(after, killed)
    held = [b for b, row in after.baskets_of(killed).items() if row["closed_at"] is None]
    assert held and all(after.entries_filled(b) for b in held)
    # ... and nothing anywhere booked as MANUAL, or closed before it opened.
    assert [b for b, row in after.baskets.items() if row["exit_code"] == "MANUAL"] == []
    assert [b for b, row in after.baskets.items()
            if row["closed_at"] is not None and row["closed_at"] < row["opened_at"]] == []
    [new] = [r for r in after.runs if r not in at_kill.runs]
    assert after.runs[new]["end_reason"] == "end of run"
    assert after.runs[new]["epoch"] != epoch
    assert not (home / "crash.log").exists()
