"""Backtests step the idle minutes in one batch: the same run, decision for decision.

``run_sync(..., batch_idle=True)`` jumps over the minutes in which the engine holds nothing
(``Engine._idle_until``).  These tests run the same ten days of the demo market stepped
minute by minute and batched, and compare everything the journal holds: baskets, deals,
TDI snapshots, refusals, equity marks.
"""

from __future__ import annotations

import re
import sqlite3

from helpers.engine_setup import DAY_MS, SYMBOLS, config, session

from engine.loop import run_sync
from engine.model import ExitCode

#: Tables whose rows carry wall-clock or per-run identities rather than decisions.
_NOT_COMPARED = {"runs", "schema_version", "journal_owner", "journal_account", "sqlite_sequence"}


#: A simulated account's epoch: drawn afresh by every terminal.
_EPOCH = re.compile(r"sim-[0-9a-f]{32}")


def _same_run(value: object, run_id: str) -> object:
    if not isinstance(value, str):
        return value
    return _EPOCH.sub("EPOCH", value.replace(run_id, "RUN"))


def _journal_rows(path, run_id: str) -> dict[str, list[tuple]]:
    """Every table's rows in insertion order, the run's and the account's random ids
    replaced by markers."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: [tuple(_same_run(v, run_id) for v in row)
                        for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
                for table in tables if table not in _NOT_COMPARED}


def _run(tmp_path, name: str, *, batch_idle: bool) -> tuple[int, dict[str, list[tuple]]]:
    s = session(tmp_path, config(("USD_MAJORS", "GOLD_HAVENS", "USD_CAD_JPY")), name=name,
                symbols=(*SYMBOLS, "USDCAD"))
    e = s.engine
    steps = 0

    def count(_engine: object) -> None:
        nonlocal steps
        steps += 1

    run_sync(e, e.now_msc + 10 * DAY_MS, on_step=count, batch_idle=batch_idle)
    e.flatten_all(ExitCode.MANUAL, "end of test")
    e.stop("end")
    s.close()
    return steps, _journal_rows(tmp_path / name, e.run_id)


def test_batched_idle_minutes_journal_exactly_what_minute_steps_journal(tmp_path):
    # Arrange / Act: the same ten days stepped minute by minute, then with idle batching.
    minute_steps, by_minute = _run(tmp_path, "minutes.sqlite", batch_idle=False)
    batched_steps, batched = _run(tmp_path, "batched.sqlite", batch_idle=True)
    # Assert: the same journal row for row, in far fewer steps.
    assert by_minute["baskets"], "the run must trade for the comparison to mean anything"
    assert batched.keys() == by_minute.keys()
    for table, rows in by_minute.items():
        assert batched[table] == rows, table
    assert batched_steps < minute_steps / 2


def test_an_engine_holding_a_basket_steps_every_minute(tmp_path):
    # Arrange: run until a basket is open.
    s = session(tmp_path, config(), name="held.sqlite")
    e = s.engine
    e.start()
    t = (e.now_msc // 60_000 + 1) * 60_000
    while not e.baskets:
        e.step(t)
        t = e.next_step_after(t, 60_000, batch_idle=True)
    # Act
    after = e.next_step_after(t, 60_000, batch_idle=True)
    # Assert: the next step is the next minute, not the next half hour.
    assert after == t + 60_000
    s.close()
