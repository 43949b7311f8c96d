"""A backtest killed outright leaves its scratch folders (a journal of several MB among
them) in the temporary directory; the next backtest removes them, and nothing that may
still be in use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.backtest.scratch import scratch_folder
from mt5bridge.remote.private_dir import OWNER_FILE

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the sweep is POSIX only")

#: What ``main.py backtest`` holds while it runs: the journal's folder, the run's inside it.
HOLD_BOTH = ("import sys; from app.backtest.scratch import scratch_folder\n"
             "with scratch_folder('backtest-journal-') as a, scratch_folder('backtest-') as b:\n"
             "    (a / 'journal.sqlite').write_bytes(b'x' * 4096)\n"
             "    print(a, b, sep='\\n', flush=True); sys.stdin.read()\n")


def holding_process(tmp: Path) -> tuple[list[Path], subprocess.Popen]:
    child = subprocess.Popen([sys.executable, "-c", HOLD_BOTH], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "TMPDIR": str(tmp)},
                             cwd=Path(__file__).resolve().parents[3])
    assert child.stdout is not None
    return [Path(child.stdout.readline().strip()) for _ in range(2)], child


def test_the_folders_of_a_killed_backtest_are_removed_by_the_next(tmp_path, monkeypatch):
    # Arrange: one backtest killed with SIGKILL, one still running
    killed, victim = holding_process(tmp_path)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    running, live = holding_process(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    try:
        # Act
        with scratch_folder("backtest-journal-") as aside, scratch_folder("backtest-") as work:
            # Assert
            assert not any(folder.exists() for folder in killed)
            assert all(folder.is_dir() for folder in running)
            assert (work / OWNER_FILE).read_text() == f"{os.getpid()}\n"
        assert not aside.exists() and not work.exists()
    finally:
        live.communicate("")
    assert list(tmp_path.iterdir()) == []
