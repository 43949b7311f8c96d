"""SIGTERM and SIGHUP stop a command the way Ctrl+C does, in real ``main.py`` processes.

Measured before: a ``run --demo`` sent SIGTERM (``kill``, ``systemctl stop``) died where it
stood, its run left with no end and no reason in the journal; a backtest left its scratch
folder in the temporary directory; a sweep worker whose driver was killed left its trial's
scratch folder.  Each process here gets a temporary directory of its own (``TMPDIR``) so
that what it leaves there is seen.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.configs import short_window_config
from helpers.paths import REPO_ROOT, TEST_DATA

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: How long a process may take to reach the point a test stops it at.
START_TIMEOUT_S = 180.0


def _env(tmp_path: Path) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home"),
            "PYTHONPATH": str(REPO_ROOT), "TMPDIR": str(scratch)}


def _rows(journal: Path, sql: str) -> list[dict[str, Any]]:
    """Rows as a reader sees them (plain sqlite3); none while the file is being made."""
    if not journal.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql)]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _wait_until(proc: subprocess.Popen, ready: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the process ended (exit {proc.returncode}) before the point")
        if time.monotonic() > deadline:
            pytest.fail(f"the point was not reached within {START_TIMEOUT_S:g} s")
        time.sleep(0.02)


def _default_stop_signals() -> None:
    """In the child: SIGTERM and SIGHUP as a process normally starts with them, whatever
    this test runner's parent set (a runner under nohup ignores SIGHUP, and so would the
    child)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _demo(tmp_path: Path, journal: Path,
          preexec_fn: Any = _default_stop_signals) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "run", "--demo", "--days", "60",
                             "--journal", str(journal)], cwd=REPO_ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec_fn)


def _equity_marks(journal: Path) -> int:
    return len(_rows(journal, "SELECT time FROM equity"))


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_demo_run_stopped_by_a_signal_ends_its_run_in_the_journal(tmp_path, stop, status):
    # Arrange: a demo run under way (it has marked its equity)
    journal = tmp_path / "journal.sqlite"
    proc = _demo(tmp_path, journal)
    try:
        _wait_until(proc, lambda: _equity_marks(journal) >= 2)
        # Act
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Assert: stopped as Ctrl+C stops it, saying by what
    name = signal.Signals(stop).name
    assert proc.returncode == status, err
    [run] = _rows(journal, "SELECT ended_at, end_reason, last_equity FROM runs")
    last = _rows(journal, "SELECT time, equity FROM equity ORDER BY time DESC LIMIT 1")[0]
    said = [line for line in out.splitlines() if line.startswith("terminated by")]
    assert said == [f"terminated by {name} at {last['time'][:10]} {last['time'][11:16]} UTC"]
    assert (run["end_reason"], run["ended_at"], run["last_equity"]) == (
        f"terminated by {name}", last["time"], last["equity"])
    assert (tmp_path / "journal.sqlite.lock").read_text() == ""  # the writer let go
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sighup_does_not_stop_a_run_started_to_ignore_it(tmp_path):
    # Arrange: a demo run started as nohup starts one
    journal = tmp_path / "journal.sqlite"
    proc = _demo(tmp_path, journal,
                 preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        _wait_until(proc, lambda: _equity_marks(journal) >= 2)
        # Act
        proc.send_signal(signal.SIGHUP)
        marks = _equity_marks(journal)
        _wait_until(proc, lambda: _equity_marks(journal) >= marks + 3)  # still trading
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Assert
    assert proc.returncode == 143, err
    [run] = _rows(journal, "SELECT end_reason FROM runs")
    assert run["end_reason"] == "terminated by SIGTERM"


def test_ctrl_c_right_after_sigterm_does_not_cut_the_stop_short(tmp_path):
    # Arrange: a demo run under way, Ctrl+C's SIGINT at its default (a terminal's)
    journal = tmp_path / "journal.sqlite"

    def defaults() -> None:
        _default_stop_signals()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = _demo(tmp_path, journal, preexec_fn=defaults)
    try:
        _wait_until(proc, lambda: _equity_marks(journal) >= 2)
        # Act: SIGTERM, then Ctrl+C while the first stop is being carried out
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Assert: the first request's stop, whole: its status and the run's end journaled
    assert proc.returncode == 143, err
    [run] = _rows(journal, "SELECT ended_at, end_reason FROM runs")
    assert run["end_reason"] == "terminated by SIGTERM" and run["ended_at"] is not None


def test_a_backtest_stopped_by_sigterm_reports_the_days_before_and_leaves_no_scratch(tmp_path):
    # Arrange: a year's synthetic backtest, trading
    report = tmp_path / "report"
    proc = subprocess.Popen([sys.executable, "main.py", "backtest", "--market", "synthetic",
                             "--from", "2024-01-08", "--to", "2024-12-20", "--report",
                             str(report)], cwd=REPO_ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_stop_signals)
    try:
        # the run's journal is written in its scratch folder, moved in with the report
        _wait_until(proc, lambda: _a_backtest_is_trading(tmp_path / "tmp"))
        # Act
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Assert: the report of the days traded, marked incomplete, its journal with the
    # reason, and nothing left behind
    assert proc.returncode == 143, err
    assert "INCOMPLETE: terminated by SIGTERM at 2024-" in out
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["complete"] is False
    [run] = _rows(report / "journal.sqlite", "SELECT end_reason FROM runs")
    assert run["end_reason"] == "backtest terminated by SIGTERM"
    assert list((tmp_path / "tmp").iterdir()) == []


def _a_backtest_is_trading(scratch: Path) -> bool:
    """A backtest's journal in its scratch folder has marked equity: the run is trading."""
    return any(_equity_marks(journal) >= 2 for journal in scratch.rglob("*.sqlite"))


def _terminated_while_trading(tmp_path: Path, words: list[str]) -> tuple[int, str, str]:
    """``main.py WORDS`` sent SIGTERM once one of its backtests is trading: (status,
    stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "main.py", *words], cwd=REPO_ROOT,
                            env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_stop_signals)
    try:
        _wait_until(proc, lambda: _a_backtest_is_trading(tmp_path / "tmp"))
        proc.send_signal(signal.SIGTERM)  # lands inside the engine's loop of a backtest
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


@pytest.mark.parametrize("command", [
    ["sweep", "--study", "{tmp}/study.sqlite"],
    ["walkforward", "--folds", "2", "--report", "{tmp}/wf"],
])
def test_a_study_stopped_inside_a_backtest_stops_whole_and_records_no_cut_run(tmp_path,
                                                                              command):
    # Arrange: a sweep or walk-forward whose backtests run in this process
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2, 2.45]\n", encoding="utf-8")
    words = [w.format(tmp=tmp_path) for w in command]
    # Act
    status, out, err = _terminated_while_trading(tmp_path, [
        *words, "--market", "synthetic", "--clusters", "USD_MAJORS", "--from", "2024-01-08",
        "--to", "2024-06-28", "--grid", str(grid)])
    # Assert: the study stopped (before, it went on with its next run) and said why
    assert status == 143, out + err
    assert err.strip().splitlines()[-1] == "terminated by SIGTERM"
    assert not (tmp_path / "wf").exists()  # no report of part of a walk-forward
    study = tmp_path / "study.sqlite"
    # the cut trial is not a failed row (a trial that ended before the signal is stored)
    assert _rows(study, "SELECT id FROM trials WHERE status != 'done'") == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_audit_stopped_inside_a_backtest_stops_whole(tmp_path):
    # Arrange: an audit on the test slices (short windows), its runs in this process
    report, config = tmp_path / "audit", tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"), encoding="utf-8")
    # Act
    status, out, err = _terminated_while_trading(tmp_path, [
        "audit", "--data", str(TEST_DATA / "histdata"), "--config", str(config), "--seeds",
        "2", "--report", str(report)])
    # Assert: before, the cut run was an error line ("did not complete"), exit 2
    assert status == 143, out + err
    assert err.strip().splitlines()[-1] == "terminated by SIGTERM"
    assert not report.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
