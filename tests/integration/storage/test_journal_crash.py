"""A killed writer: every committed row survives, the file stays sound, the crash window shows.

The writer is a real child process killed with SIGKILL (no chance to clean up), the way a
crashed or force-closed console dies.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

from storage.journal import SqliteJournal

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL to kill the writer"
)

WRITER_PRELUDE = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta

    from engine.records import (
        BasketOpen, Deal, EquitySnapshot, OrderRequest, PlannedLeg, RunStart,
    )
    from storage.journal import SqliteJournal

    T0 = datetime(2019, 2, 4, 0, 0, tzinfo=UTC)
    journal = SqliteJournal.open(sys.argv[1])
    journal.start_run(RunStart("run-kill", "backtest", T0, "cfg"))
    print("run run-kill", flush=True)
    """
)

LOOP_WRITER = WRITER_PRELUDE + textwrap.dedent(
    """
    for i in range(1, 1_000_000):
        t = T0 + timedelta(minutes=i)
        basket_id = f"K-{i:06d}"
        journal.open_basket(BasketOpen(
            basket_id, "run-kill", "C1", "LONG", t, -1.3, 250.0,
            (PlannedLeg("EURUSD", "BUY", 0.1), PlannedLeg("GBPUSD", "SELL", 0.1)),
        ))
        print(f"basket {basket_id}", flush=True)
        ticket = 2**40 + i
        journal.record_deal(Deal(
            ticket, ticket, ticket, "EURUSD", 0, 0, 0.1, 1.1449, -0.7, 0.0, 0.0, 0.0,
            t, 3001, basket_id, basket_id,
        ))
        print(f"deal {ticket}", flush=True)
        journal.record_equity(
            EquitySnapshot("run-kill", t, 1e5, 1e5 + i, 0.0, 1e5, 0.0, 250.0)
        )
        print(f"equity {i}", flush=True)
    """
)

IN_FLIGHT_WRITER = WRITER_PRELUDE + textwrap.dedent(
    """
    t = T0 + timedelta(minutes=30)
    journal.open_basket(BasketOpen(
        "C1-20190204T0030-001", "run-kill", "C1", "SHORT", t, 1.4, 250.0,
        (PlannedLeg("EURUSD", "SELL", 0.1),),
    ))
    journal.record_request(OrderRequest(
        "req-1", "C1-20190204T0030-001", "ENTRY", "EURUSD", "SELL", 0.1, 1.1449, 10, 3001,
        "C1-20190204T0030-001", 1, t, {"action": 1, "symbol": "EURUSD"},
    ))
    print("sent req-1", flush=True)
    sys.stdin.readline()  # order_send is in flight: the process dies here
    """
)


def _start_writer(tmp_path: Path, script: str, journal_path: Path) -> subprocess.Popen[str]:
    script_path = tmp_path / "writer.py"
    script_path.write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, str(script_path), str(journal_path)],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], wanted: int) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while len(lines) < wanted:
        line = process.stdout.readline()
        if not line:
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"writer exited early after {len(lines)} lines: {stderr}")
        lines.append(line.strip())
    return lines


def _kill(process: subprocess.Popen[str]) -> list[str]:
    """SIGKILL the writer; return what it had printed but we had not read yet."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    rest = process.stdout.read() if process.stdout else ""
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return [line.strip() for line in rest.splitlines() if line.strip()]


def test_sigkill_mid_run_keeps_every_committed_row(tmp_path):
    journal_path = tmp_path / "journal.sqlite"
    writer = _start_writer(tmp_path, LOOP_WRITER, journal_path)
    printed = _read_until(writer, 301)  # the run line + 100 baskets, deals and equity rows

    printed += _kill(writer)

    raw = sqlite3.connect(journal_path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with SqliteJournal.open(journal_path, create=False) as journal:
        baskets = {b.basket.basket_id for b in journal.open_baskets()}
        tickets = journal.deal_tickets()
        equity_points = len(journal.equity_series(run_id="run-kill"))
        assert [r["run_id"] for r in journal.runs()] == ["run-kill"]
        for line in printed:
            kind, key = line.split()
            if kind == "basket":
                assert key in baskets
            elif kind == "deal":
                assert int(key) in tickets
            elif kind == "equity":
                assert equity_points >= int(key)
        assert len(journal.open_baskets()[0].basket.opening.legs) == 2
        assert journal.integrity_check() == "ok"


def test_crash_between_request_and_result_is_visible_on_reopen(tmp_path):
    journal_path = tmp_path / "journal.sqlite"
    writer = _start_writer(tmp_path, IN_FLIGHT_WRITER, journal_path)
    assert _read_until(writer, 2)[-1] == "sent req-1"

    _kill(writer)

    with SqliteJournal.open(journal_path, create=False) as journal:
        [pending] = journal.pending_requests()
        assert pending.request_id == "req-1"
        assert pending.raw == {"action": 1, "symbol": "EURUSD"}
        [open_basket] = journal.open_baskets()
        assert open_basket.basket.basket_id == "C1-20190204T0030-001"
        assert [(o.request.request_id, o.result) for o in open_basket.orders] == [("req-1", None)]
