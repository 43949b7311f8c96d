"""Long commands show a progress bar with an ETA on a terminal, and nothing of it elsewhere.

The commands run as a user runs them (``python main.py ...`` in a child process), once with
stderr on a pipe and once on a pseudo-terminal (``pty.openpty``).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.progress import CommandProgress

ROOT = Path(__file__).resolve().parents[3]
#: Two synthetic weeks: a backtest of a few seconds.
BACKTEST = ["backtest", "--market", "synthetic", "--seed", "3", "--from", "2024-01-08",
            "--to", "2024-01-12", "--clusters", "USD_MAJORS"]
#: What only a drawn bar writes: rich's bar glyph, the ETA label, cursor control.
BAR_MARKS = ("━", "ETA", "\x1b[")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    return env


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_backtest_on_a_pipe_prints_no_bar_and_the_usual_summary(tmp_path):
    done = subprocess.run([sys.executable, "main.py", *BACKTEST, "--report",
                           str(tmp_path / "r")], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert not any(mark in done.stderr + done.stdout for mark in BAR_MARKS)
    lines = done.stdout.splitlines()
    assert lines[0].split(" baskets (")[0].isdigit() and "final balance" in lines[0]
    assert lines[1].startswith("report: ")


@pytest.mark.slow
def test_backtest_on_a_terminal_draws_a_bar_with_an_eta(tmp_path):
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, "main.py", *BACKTEST, "--report",
                              str(tmp_path / "r")], cwd=ROOT, env=_env(tmp_path),
                             stdout=subprocess.PIPE, stderr=follower, text=False)
    os.close(follower)
    screen = _read_all(leader).decode("utf-8", "replace")
    out = child.stdout.read().decode() if child.stdout else ""
    assert child.wait(timeout=300) == 0
    os.close(leader)

    assert "backtest" in screen and "━" in screen and "ETA" in screen and "100%" in screen
    assert "final balance" in out and "━" not in out


def test_the_bar_is_quiet_on_a_stream_that_is_not_a_terminal(tmp_path):
    stream = (tmp_path / "err.txt").open("w+", encoding="utf-8")

    with CommandProgress("job", stream=stream) as bar:
        bar.update(0.5)
        bar.update(1.0, "job: done")

    stream.seek(0)
    assert not bar.active and stream.read() == ""


def test_a_forced_bar_shows_the_label_the_share_and_never_goes_back(tmp_path):
    stream = (tmp_path / "err.txt").open("w+", encoding="utf-8")

    with CommandProgress("job", stream=stream, force=True) as bar:
        bar.update(0.75, "job: three quarters")
        bar.update(0.25)

    stream.seek(0)
    text = stream.read()
    assert "job: three quarters" in text and "75%" in text and "25%" not in text.split("75%")[-1]
