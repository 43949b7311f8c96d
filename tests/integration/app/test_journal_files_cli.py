"""A journal file that is damaged, read-only, immutable or on a full disk: one line and exit 2
from every command that meets it, no traceback, no crash.log, and the journal left consistent.

Each command runs as a real process (``main.py``) on a real journal written by a real demo run.
Two conditions depend on privileges: a read-only file stops only a user who is not root
(root writes it anyway), and only root may make a file immutable (``chattr +i``); each case
skips, saying why, where it cannot be made.  The full disk is a real file-size limit
(``RLIMIT_FSIZE``) on the command's process: the kernel refuses the journal's writes as a full
disk would, unprivileged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

from main import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file limits and modes")

DEMO_DAY = ["run", "--demo", "--days", "1", "--clusters", "USD_MAJORS,GOLD_HAVENS"]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def command(home: Path, *argv: str, preexec: Callable[[], None] | None = None) -> Outcome:
    env = {**os.environ, "FXCLUSTER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "main.py", *argv], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=preexec)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line(outcome: Outcome, home: Path, *needles: str) -> None:
    assert outcome.code == 2, outcome
    lines = outcome.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not (home / "crash.log").exists()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A journal of the default demo account with a day of trading in it."""
    path = tmp_path / "journal.sqlite"
    assert main([*DEMO_DAY, "--journal", str(path)]) == 0
    return path


def integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


# --------------------------------------------------------------------------- damaged page


def damage_page_of(path: Path, table: str) -> None:
    """Overwrite the header of ``table``'s root page, as a failing disk would."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * 16)


@pytest.mark.parametrize("action", [
    ["journal", "summary"],
    ["journal", "export", "--out", "{tmp}/export"],
    ["journal", "backup", "--out", "{tmp}/backup.sqlite"],
    DEMO_DAY,
])
def test_a_damaged_page_is_said_by_every_command(journal, home, tmp_path, action):
    # Arrange
    damage_page_of(journal, "deals")
    before = journal.read_bytes()
    argv = [word.format(tmp=tmp_path) for word in action]

    # Act
    outcome = command(home, *argv, "--journal", str(journal))

    # Assert
    assert_one_line(outcome, home, f"{journal}: the journal is damaged (")
    assert journal.read_bytes() == before, "a damaged journal is left as it is"
    assert not (tmp_path / "backup.sqlite").exists()


# --------------------------------------------------------------------------- read-only, immutable


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    if getattr(os, "geteuid", lambda: -1)() == 0:
        pytest.skip("root writes a read-only file anyway; the immutable case stands for it here")
    path.chmod(0o444)
    try:
        yield
    finally:
        path.chmod(0o644)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    try:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        pytest.skip("no chattr here to make a file immutable; the read-only case stands for it")
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here ({made.stderr.strip()}): only root "
                    f"may; the read-only case stands for it")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("condition", [read_only, immutable], ids=["read-only", "immutable"])
def test_a_journal_a_run_cannot_write_stops_it_in_one_line(journal, home, condition):
    # Arrange
    before = journal.read_bytes()

    # Act
    with condition(journal):
        run = command(home, *DEMO_DAY, "--journal", str(journal))
        summary = command(home, "journal", "summary", "--journal", str(journal))

    # Assert
    assert_one_line(run, home, f"{journal}: the journal is read-only or immutable")
    assert summary.code == 0 and "integrity ok" in summary.out, summary
    assert journal.read_bytes() == before


# --------------------------------------------------------------------------- full disk


def file_size_limit(limit: int) -> Callable[[], None]:
    """For the child: files may not grow beyond ``limit`` bytes (the kernel answers a write
    past it as it answers one on a full disk; ignoring SIGXFSZ keeps the process alive)."""
    import resource  # POSIX only

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_stops_the_run_in_one_line_and_leaves_the_journal_consistent(tmp_path,
                                                                                  home):
    # Arrange
    journal = tmp_path / "journal.sqlite"

    # Act: a run that outgrows the space, then one with space again
    full = command(home, "run", "--demo", "--days", "5", "--journal", str(journal),
                   preexec=file_size_limit(600_000))
    checked = integrity(journal)
    again = command(home, *DEMO_DAY, "--journal", str(journal))

    # Assert
    assert_one_line(full, home, f"{journal}: the journal could not be read or written (",
                    "was not journaled", "is it full?")
    assert checked == "ok"
    assert again.code == 0, again
    conn = sqlite3.connect(journal)
    runs = conn.execute("SELECT end_reason FROM runs ORDER BY started_at, rowid").fetchall()
    conn.close()
    assert runs == [("interrupted",), ("end of run",)]
