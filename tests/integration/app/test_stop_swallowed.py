"""A stop signal whose exception something swallowed still stops the run between steps.

An exception raised by a signal handler at an arbitrary point can be lost: in a ``__del__``
or a callback run from C, Python prints "Exception ignored" and goes on.  A demo run sent
SIGTERM (2 runs in 65 under a stress loop) then ran to its end, the request gone.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import sys
from datetime import UTC, datetime

import pytest
from helpers.engine_setup import config, session

from app.backtest import BacktestSpec, run_backtest
from app.runs import run_headless
from app.termination import stop_signals_interrupt

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM raised in-process")


def test_a_swallowed_sigterm_stops_the_run_at_the_next_step(tmp_path):
    # Arrange: a 20-day demo run whose first day's status line swallows a SIGTERM
    demo = session(tmp_path, start=False)
    lines: list[str] = []

    def echo(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:  # the start line, then the first day's
            with contextlib.suppress(KeyboardInterrupt):
                signal.raise_signal(signal.SIGTERM)

    # Act
    with stop_signals_interrupt():
        status = run_headless(demo, days=20, echo=echo)
    # Assert: stopped on the first day, as a signal that reached the loop would stop it
    assert status == 143
    assert lines[2] == "terminated by SIGTERM at 2024-01-09 00:00 UTC"
    conn = sqlite3.connect(tmp_path / "journal.sqlite")
    [(ended, reason)] = conn.execute("SELECT ended_at, end_reason FROM runs").fetchall()
    conn.close()
    assert (ended, reason) == ("2024-01-09T00:00:00.000+00:00", "terminated by SIGTERM")


def test_a_swallowed_sigterm_stops_a_backtest_at_the_next_midnight():
    # Arrange: a synthetic month whose first day's progress swallows a SIGTERM
    spec = BacktestSpec(config(), "synthetic", start=datetime(2024, 1, 8, tzinfo=UTC),
                        end=datetime(2024, 2, 8, tzinfo=UTC))
    calls: list[float] = []

    def progress(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 1:
            with contextlib.suppress(KeyboardInterrupt):
                signal.raise_signal(signal.SIGTERM)

    # Act
    with stop_signals_interrupt():
        result = run_backtest(spec, progress=progress)
    # Assert: the report of the days before, marked as the signal would have marked it
    assert str(result.interrupted) == "terminated by SIGTERM"
    assert result.complete is False
    assert result.notes[-1] == "terminated by SIGTERM at 2024-01-10 00:00 UTC"
    assert len(calls) == 1
