"""``main.py live-check --terminal ADDRESS`` over a real socket, and its bad input.

A ``main.py terminal-server`` child serves the simulated terminal (a broker with the ``.a``
suffix) on a localhost TCP port over the product's own wire; ``main.py live-check`` runs as
a second child against that address, exactly as a user on Linux runs it against the real
terminal's server.  The simulated terminal's clock is the check's "now", so the verdicts
do not depend on the day the tests run.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers.calendars import import_daily_calendar
from helpers.paths import REPO_ROOT

import main
from mt5bridge.remote import RemoteTerminal

TIMEOUT_S = 60.0
SYMBOLS = "EURUSD,GBPUSD,AUDUSD,USDCHF"
#: Where ``--terminal ADDRESS`` finds the terminal server's secret file.
SECRET_FILE_ENV = "FXCLUSTER_TERMINAL_SECRET"


def _line(child: subprocess.Popen) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(child.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=TIMEOUT_S)
    except queue.Empty:
        child.kill()
        pytest.fail(f"no line from the terminal server in {TIMEOUT_S} s")
    if not line:
        pytest.fail(f"the terminal server exited early: {child.stderr.read()}")
    return line.strip()


@pytest.fixture(autouse=True)
def _current_calendar(tmp_path: Path) -> None:
    """The trader has imported a calendar covering the served broker's week."""
    import_daily_calendar(tmp_path, date(2019, 1, 13), 8)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``main.py terminal-server`` child on a localhost TCP port: (address, secret file)."""
    secret = tmp_path / "secret"
    child = subprocess.Popen(
        [sys.executable, "main.py", "terminal-server", "--tcp", "--secret-file", str(secret),
         "--symbols", SYMBOLS, "--symbol-suffix", ".a", "--start", "2019-01-15T10:00",
         "--warmup-days", "1"],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        address, secret_file = _line(child), _line(child)
        yield address, Path(secret_file)
    finally:
        child.terminate()
        try:
            child.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=TIMEOUT_S)
        child.stdout.close()
        child.stderr.close()


def live_check(address: str, secret_file: Path, *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **{SECRET_FILE_ENV: str(secret_file)})
    return subprocess.run(
        [sys.executable, "main.py", "live-check", "--terminal", address, "--clusters",
         "USD_MAJORS", *options], cwd=REPO_ROOT, env=env, text=True, capture_output=True,
        timeout=TIMEOUT_S)


def test_live_check_over_the_terminal_server_passes_a_ready_broker(served):
    # Arrange
    address, secret_file = served

    # Act
    done = live_check(address, secret_file, "--json")

    # Assert
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    verdicts = {row["check"]: row["verdict"] for row in report["checks"]}
    assert set(verdicts.values()) == {"PASS"}
    assert {"basket USD_MAJORS long", "basket USD_MAJORS short", "market AUDUSD"} <= set(
        verdicts)
    rows = {row["check"]: row["detail"] for row in report["checks"]}
    assert rows["symbol EURUSD"].startswith("EURUSD.a at the broker (its suffix)")
    assert rows["server time"].startswith("GMT+2/+3 (US DST), detected")
    assert report["clock"] == "2019-01-15 10:00:00 UTC (the simulated terminal's clock)"
    assert report["terminal"] == f"the terminal at {address}"


def test_algo_trading_switched_off_at_the_terminal_fails_with_its_fix(served):
    # Arrange: the trader's switch, flipped through the wire
    address, secret_file = served
    with RemoteTerminal(address, secret_file=secret_file) as remote:
        remote.sim_set_algo_trading(False)

    # Act
    done = live_check(address, secret_file)

    # Assert
    assert done.returncode == 1 and done.stderr == ""
    algo = [line for line in done.stdout.splitlines() if line.startswith("algo trading")]
    assert algo and "FAIL" in algo[0] and "10027" in done.stdout
    words = " ".join(done.stdout.split())  # the table wraps its details
    assert 'fix: press "Algo Trading" in the terminal\'s toolbar' in words
    assert 'Expert Advisors > "Allow algorithmic trading"' in words
    assert words.endswith("1 failed, 0 warnings, 15 passed: not ready: fix the failures above")


def test_no_terminal_server_at_the_address_is_a_failed_connection(monkeypatch, capsys,
                                                                 tmp_path):
    # Arrange: a port nobody listens on, a secret file that was never written
    monkeypatch.setenv(SECRET_FILE_ENV, str(tmp_path / "secret"))

    # Act
    status = main.main(["live-check", "--terminal", "127.0.0.1:9", "--clusters",
                        "USD_MAJORS"])

    # Assert
    out = capsys.readouterr().out
    assert status == 1
    assert out.splitlines()[4].startswith("connection  FAIL    cannot connect to MetaTrader 5")
    assert "fix: start the terminal server at 127.0.0.1:9" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--terminal", "192.0.2.1:18813"], "is not on this machine: give --allow-remote"),
    (["--clusters", "NOPE"], "--clusters: unknown cluster(s): NOPE"),
    (["--server", "Broker-Live"], "--server goes with --login"),
    (["--login", "0"], "--login: 0 is not an account number"),
    (["--terminal", "127.0.0.1:18813"], f"set {SECRET_FILE_ENV}"),
], ids=["remote-address", "unknown-cluster", "server-alone", "login-zero", "no-secret"])
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, argv, message):
    # Arrange
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)

    # Act
    status = main.main(["live-check", *argv])

    # Assert
    err = capsys.readouterr().err
    assert status == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture
def module_served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``main.py terminal-server --module``, the path a Linux user's Wine server takes, with a
    module whose functions are a simulated terminal's (a broker with the ``.a`` suffix)."""
    secret = tmp_path / "secret"
    options = {"symbols": SYMBOLS.split(","), "symbol_suffix": ".a"}
    child = subprocess.Popen(
        [sys.executable, "main.py", "terminal-server", "--module",
         "tests.helpers.fake_mt5_module", "--simulator-controls", "--tcp", "--secret-file",
         str(secret)],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT),
                                FXCLUSTER_FAKE_MT5=json.dumps(options)),
        text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        address, secret_file = _line(child), _line(child)
        yield address, Path(secret_file)
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT_S)
        child.stdout.close()
        child.stderr.close()


def test_live_check_over_a_served_module_finds_the_suffix_and_checks_the_baskets(
        module_served, tmp_path):
    # Arrange: the module's market starts on 2024-01-08
    address, secret_file = module_served
    import_daily_calendar(tmp_path, date(2024, 1, 7), 8)

    # Act
    done = live_check(address, secret_file, "--json")

    # Assert
    report = json.loads(done.stdout)
    verdicts = {row["check"]: row["verdict"] for row in report["checks"]}
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in verdicts.values()
    assert verdicts["basket USD_MAJORS long"] == verdicts["basket USD_MAJORS short"] == "PASS"
    rows = {row["check"]: row["detail"] for row in report["checks"]}
    assert rows["symbol EURUSD"].startswith("EURUSD.a at the broker (its suffix)")
    assert report["clock"].endswith("(the simulated terminal's clock)")
