"""One writer per journal, between real processes: the second is refused naming the first,
readers are not, and the lock goes when its holder dies, however it dies.

Two ``run --demo`` on one journal at once used to both exit 0, interleaving their runs (the
journal ended with 92 deals of 152).
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

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

#: A process that opens the journal for writing, says so, and waits to be killed.
HOLDER = textwrap.dedent(
    """
    import sys
    from storage.journal import SqliteJournal

    journal = SqliteJournal.open(sys.argv[1])
    print("HOLDING", flush=True)
    sys.stdin.readline()
    """
)

DEMO_DAY = ["run", "--demo", "--days", "1", "--clusters", "USD_MAJORS,GOLD_HAVENS"]


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "FXCLUSTER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1"}


def main_py(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *argv], cwd=REPO_ROOT, env=env(home),
                          capture_output=True, text=True, timeout=300)


def hold(journal: Path, home: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(journal)], cwd=REPO_ROOT,
                              env=env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.strip() == "HOLDING", holder.stderr.read() if holder.stderr else line
    return holder


def test_a_second_writing_process_is_refused_until_the_first_dies(tmp_path):
    # Arrange: a process holds the journal open for writing
    home = tmp_path / "home"
    journal = tmp_path / "journal.sqlite"
    holder = hold(journal, home)
    try:
        # Act
        refused = main_py(home, *DEMO_DAY, "--journal", str(journal))
        summary = main_py(home, "journal", "summary", "--journal", str(journal))
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=60)
        after = main_py(home, *DEMO_DAY, "--journal", str(journal))
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=60)

    # Assert
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"error: {journal}: already open for writing by pid {holder.pid} (")
    assert "one writer per journal" in line
    assert not (home / "crash.log").exists()
    assert summary.returncode == 0, summary.stderr  # a reader takes no lock
    assert after.returncode == 0, after.stderr  # the holder's death let go of the lock
    conn = sqlite3.connect(journal)
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    conn.close()


def test_two_demo_runs_at_once_on_one_journal_one_is_refused(tmp_path):
    # Arrange
    home = tmp_path / "home"
    journal = tmp_path / "journal.sqlite"
    argv = [sys.executable, "main.py", "run", "--demo", "--days", "5", "--journal", str(journal)]

    # Act: two real runs started together
    runs = [subprocess.Popen(argv, cwd=REPO_ROOT, env=env(home), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(run.wait(timeout=300), *run.communicate(timeout=60)) for run in runs]

    # Assert: one traded, the other said why not; the journal holds exactly one run
    codes = sorted(code for code, _out, _err in outcomes)
    assert codes == [0, 2], outcomes
    [(_code, _out, err)] = [o for o in outcomes if o[0] == 2]
    assert "already open for writing by pid" in err and len(err.splitlines()) == 1
    conn = sqlite3.connect(journal)
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    conn.close()
