"""The console as a user starts it: a real process, a real X server, a real signal.

Offscreen tests cannot see a missing system library of Qt's xcb platform (a fresh machine
aborted with "Could not load the Qt platform plugin xcb") nor what Ctrl+C does to the event
loop.  These run ``main.py`` in a child process: under Xvfb with the xcb platform (it must
paint and close cleanly by ``--quit-after``; the screenshot is kept, in
``$FXCLUSTER_ARTIFACTS`` when set), and offscreen with SIGINT sent to it.

Xvfb comes from the system (``scripts/setup-linux --test`` installs it).  Without it the X
test is skipped, unless ``FXCLUSTER_REQUIRE_XVFB=1`` (CI sets it) turns the skip into a
failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and X11")

#: The console as a user starts it; faulthandler makes a native crash name its place.
CONSOLE = (sys.executable, "-X", "faulthandler", "main.py", "gui")

#: Seconds the child gets to reach a state (start, paint, close); generous for a loaded CI.
PATIENCE_S = 90.0

GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
image = QGuiApplication.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
colours = {image.pixel(x, y)
           for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
print(image.width(), image.height(), len(colours))
"""


def _child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(FXCLUSTER_HOME=str(home), PYTHONPATH=str(REPO_ROOT), **extra)
    return env


def _wait_for_running_session(home: Path, proc: subprocess.Popen[str]) -> str:
    """The run id once the engine has journaled its run start (the window is up by then)."""
    journal = home / "journals" / "demo.sqlite"
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the console exited early: {proc.communicate()[1][-2000:]}"
        if journal.exists():
            try:
                with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as conn:
                    row = conn.execute("SELECT run_id FROM runs WHERE ended_at IS NULL").fetchone()
            except sqlite3.Error:
                row = None
            if row:
                return str(row[0])
        time.sleep(0.2)
    raise AssertionError("the console did not start within the patience")


def _run_end(home: Path, run_id: str) -> tuple[str | None, str | None]:
    with sqlite3.connect(home / "journals" / "demo.sqlite") as conn:
        row = conn.execute("SELECT ended_at, end_reason FROM runs WHERE run_id = ?",
                           (run_id,)).fetchone()
    return row[0], row[1]


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A private X server at 1600x900 for one test; its display name (":N")."""
    binary = shutil.which("Xvfb")
    if binary is None:
        if os.environ.get("FXCLUSTER_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb is required (FXCLUSTER_REQUIRE_XVFB=1) but not installed: "
                        "run scripts/setup-linux --test")
        pytest.skip("Xvfb is not installed (scripts/setup-linux --test installs it)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([binary, "-displayfd", str(write_end), "-screen", "0",
                               "1600x900x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        display = ":" + announced.readline().strip()
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=30)


def _window_titles(display: str) -> str:
    tool = shutil.which("xwininfo")
    if tool is None:
        return ""
    return subprocess.run([tool, "-root", "-tree"], capture_output=True, text=True,
                          env={**os.environ, "DISPLAY": display}, timeout=30).stdout


def _artifact_dir(tmp_path: Path) -> Path:
    where = os.environ.get("FXCLUSTER_ARTIFACTS")
    path = Path(where) if where else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_console_paints_on_a_real_x_server_and_quits_cleanly(xvfb_display, tmp_path):
    # Arrange: the console as the README starts it, on the xcb platform of a real X server
    home = tmp_path / "home"
    env = _child_env(home, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    console = subprocess.Popen([*CONSOLE, "--quit-after", "20"],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    screenshot = _artifact_dir(tmp_path) / "console-xvfb.png"

    # Act: wait for the running session, let it paint, grab the screen, let it quit itself
    _wait_for_running_session(home, console)
    time.sleep(4)
    grab = subprocess.run([sys.executable, "-c", GRAB, str(screenshot)], env=env,
                          capture_output=True, text=True, timeout=PATIENCE_S)
    titles = _window_titles(xvfb_display)
    _out, err = console.communicate(timeout=PATIENCE_S)

    # Assert: a full-size, painted screen; the window was the console's; a clean exit
    assert grab.returncode == 0, grab.stderr[-2000:]
    width, height, colours = (int(v) for v in grab.stdout.split())
    assert (width, height) == (1600, 900)
    assert colours > 40, f"the screen is nearly blank ({colours} colours): {screenshot}"
    if shutil.which("xwininfo"):
        assert "FX Cluster Console" in titles
    assert console.returncode == 0, err[-2000:]
    assert "Could not load the Qt platform plugin" not in err
    assert "Traceback" not in err


def _default_closing_signals() -> None:
    """In the child: the signals as a process normally starts with them, whatever this test
    runner's parent set (a background job ignores SIGINT, one under nohup SIGHUP)."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.parametrize(("stop", "status", "ended"), [
    (signal.SIGINT, 130, "console closed"),  # Ctrl+C
    pytest.param(getattr(signal, "SIGHUP", None), 129, "terminated by SIGHUP", id="SIGHUP",
                 marks=pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX")),
    pytest.param(getattr(signal, "SIGTERM", None), 143, "terminated by SIGTERM",
                 id="SIGTERM"),
])
def test_ctrl_c_closes_the_console_like_its_close_button(tmp_path, stop, status, ended):
    # Arrange: a running console (offscreen: the signal path does not depend on the display)
    home = tmp_path / "home"
    env = _child_env(home, QT_QPA_PLATFORM="offscreen")
    console = subprocess.Popen([*CONSOLE, "--quit-after", "120"],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=_default_closing_signals)
    run_id = _wait_for_running_session(home, console)

    # Act
    console.send_signal(stop)
    _out, err = console.communicate(timeout=PATIENCE_S)

    # Assert: the shell's status for the signal, no traceback, and the window's own close
    # path ran
    assert console.returncode == status, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    ended_at, reason = _run_end(home, run_id)
    assert ended_at is not None and reason == ended
    assert (home / "console.ini").exists()  # the layout is saved on close


@pytest.mark.parametrize(("extra", "message"), [
    (["--study", "{home}/nowhere.sqlite", "--quit-after", "4"], "{home}/nowhere.sqlite"),
    (["--study", "{home}/not-a-study.sqlite", "--quit-after", "4"],
     "{home}/not-a-study.sqlite"),
    (["--quit-after", "-5"], "error: --quit-after: -5 is not a number of seconds"),
    (["--quit-after", "nan"], "error: --quit-after: nan is not a number of seconds"),
])
def test_a_study_or_quit_time_that_cannot_be_is_refused_before_the_window(tmp_path, extra,
                                                                         message):
    # Arrange: a file that is not a study database
    home = tmp_path / "home"
    home.mkdir()
    (home / "not-a-study.sqlite").write_text("not a database")
    words = [word.format(home=home) for word in extra]

    # Act
    done = subprocess.run([*CONSOLE, *words], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=_child_env(home, QT_QPA_PLATFORM="offscreen"), timeout=60)

    # Assert: one line, exit 2, no window run
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message.format(home=home) in lines[0]
