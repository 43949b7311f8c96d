"""The sweep's bar on a terminal (finished/total, running, failed, best so far, ETA), and
nothing of it on a pipe; the study's summary on stdout either way."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.helpers.paths import REPO_ROOT

BAR_MARKS = ("━", "ETA", "\x1b[")


def _command(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2, 2.45]\n", encoding="utf-8")
    return [sys.executable, "main.py", "sweep", "--market", "synthetic", "--clusters",
            "USD_MAJORS", "--from", "2024-01-08", "--to", "2024-01-19", "--folds", "1",
            "--grid", str(grid), "--study", str(tmp_path / "study.sqlite")]


def _env(tmp_path):
    env = {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("COLUMNS", None)
    return env


def _read_all(fd):
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


def test_on_a_terminal_the_sweep_draws_its_counts_and_an_eta(tmp_path):
    leader, follower = pty.openpty()
    child = subprocess.Popen(_command(tmp_path), cwd=REPO_ROOT, env=_env(tmp_path),
                             stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    screen = _read_all(leader).decode("utf-8", "replace")
    out = child.stdout.read().decode() if child.stdout else ""
    assert child.wait(timeout=300) == 0
    os.close(leader)

    assert "sweep 4/4" in screen and "0 running, 0 failed, best IS Sharpe -" in screen
    assert "ETA" in screen and "100%" in screen
    assert out.startswith("sweep: 4 trials planned") and "━" not in out


def test_on_a_pipe_the_sweep_prints_only_its_summary(tmp_path):
    done = subprocess.run(_command(tmp_path), cwd=REPO_ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert not any(mark in done.stdout for mark in BAR_MARKS)
    assert done.stdout.splitlines()[0].startswith("sweep: 4 trials planned")
