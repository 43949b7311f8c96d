"""The terminal server for a Windows Python: the standard library, numpy and one file.

Inside a Wine prefix the trader's Windows Python has ``MetaTrader5`` and numpy and nothing of
the product.  These tests hold the server to that: its modules import and run with the
product's heavy dependencies blocked (``sys.modules[name] = None`` makes their import fail),
and ``terminal-server --write-zipapp`` writes one ``.pyz`` of exactly the server's modules,
which serves the test module (``tests/helpers/fake_mt5_module.py``) in its own process to a
client that trades through it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.paths import HELPERS, REPO_ROOT

import main as cli
from mt5bridge import constants as c
from mt5bridge.live import ConnectionState, LiveConfig, LiveTerminal
from mt5bridge.remote import RemoteTerminal
from mt5bridge.remote.zipapp import SERVER_FILES
from mt5bridge.servertime import ServerTimeZone

#: What the Windows Python does not have: importing any of them fails in these tests.
BLOCKED = ("pandas", "pyarrow", "PySide6", "shiboken6", "pyqtgraph", "numba", "sqlite_utils",
           "sqlite3", "statsmodels", "scipy", "rich", "keyring", "rpyc", "app", "storage",
           "gui")
#: Blocks them, then runs the rest of the script.
PRELUDE = f"import sys\nfor name in {BLOCKED!r}:\n    sys.modules[name] = None\n"
CHILD_TIMEOUT_S = 60
START_MSC = 1_704_672_000_000  # the test module's start: Monday 2024-01-08 00:00 UTC
HOUR = 3_600_000


def python(script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE + script, *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S)


def module_names(files: tuple[str, ...]) -> set[str]:
    names = set()
    for name in files:
        parts = name.removesuffix(".py").split("/")
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_server_runs_with_the_products_heavy_dependencies_blocked(tmp_path):
    # Arrange: import the entry point, make a secret and print its help, all with the
    # blocked modules unimportable
    script = """
import json
from mt5bridge.remote.module_server import main
assert main([\"--make-secret\", sys.argv[1]]) == 0
try:
    main([\"--help\"])
except SystemExit as exc:
    assert exc.code == 0
ours = sorted(m for m in sys.modules if m.split('.')[0] in ('engine', 'mt5bridge'))
third = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('numpy',)})
print(json.dumps([ours, third]))
"""
    # Act
    done = python(script, str(tmp_path / "secret"), cwd=REPO_ROOT,
                  env={"PYTHONPATH": str(REPO_ROOT)})

    # Assert
    assert done.returncode == 0, done.stderr
    ours, third = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(ours) <= module_names(SERVER_FILES), set(ours) - module_names(SERVER_FILES)
    assert set(ours) == module_names(SERVER_FILES), "the zipapp holds a module nobody imports"
    assert third == ["numpy"]
    assert (tmp_path / "secret").is_file()


@pytest.fixture
def pyz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "fxcluster-terminal.pyz"
    assert cli.main(["terminal-server", "--write-zipapp", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    return target


def test_the_zipapp_holds_exactly_the_servers_modules_and_runs_alone(pyz, tmp_path):
    # Act: its help and a secret, from a folder without the product, dependencies blocked
    script = ("import runpy\nsys.argv = sys.argv[1:]\n"
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    helped = python(script, str(pyz), "--help", cwd=tmp_path, env={"PYTHONPATH": ""})
    made = python(script, str(pyz), "--make-secret", str(tmp_path / "s"), cwd=tmp_path,
                  env={"PYTHONPATH": ""})

    # Assert
    names = zipfile.ZipFile(pyz).namelist()
    assert sorted(n for n in names if n.endswith(".py")) == sorted([*SERVER_FILES, "__main__.py"])
    assert helped.returncode == 0, helped.stderr
    assert "--module NAME" in helped.stdout and "--secret-from PATH" in helped.stdout
    assert made.returncode == 0 and Path(made.stdout.strip()) == tmp_path / "s", made.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_the_zipapp_serves_the_test_module_and_a_client_trades(pyz, tmp_path):
    # Arrange: the one file run as the Windows Python runs it, the served module beside it
    # (not the product: PYTHONPATH is the helpers' folder only)
    server = subprocess.Popen(
        [sys.executable, str(pyz), "--module", "fake_mt5_module", "--simulator-controls",
         "--tcp"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(HELPERS)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address, secret_file = (server.stdout.readline().strip() for _ in range(2))
        assert address, server.stderr.read()
        remote = RemoteTerminal(address, secret_file=secret_file)
        assert remote.initialize()
        remote.sim_advance_to(START_MSC + 3 * HOUR)
        live = LiveTerminal(remote, LiveConfig(symbols=("EURUSD", "USDJPY"),
                                               server_tz=ServerTimeZone()),
                            sleep=lambda _s: None, utc_now=lambda: remote.sim_now_msc() / 1000)

        # Act
        live.connect()
        results = [live.order_send({
            "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": 0.1, "type": side,
            "price": getattr(live.symbol_info_tick(symbol), "ask" if side == 0 else "bid"),
            "deviation": 20, "magic": 710001, "comment": "basket 1"})
            for symbol, side in (("EURUSD", c.ORDER_TYPE_BUY), ("USDJPY", c.ORDER_TYPE_SELL))]
        positions = live.positions_get()
        remote.close()
    finally:
        server.send_signal(signal.SIGTERM)
        status = server.wait(timeout=CHILD_TIMEOUT_S)
        banner = server.stderr.read()
        server.stdout.close()
        server.stderr.close()

    # Assert
    assert live.state is ConnectionState.CONNECTED
    assert [r.retcode for r in results] == [c.TRADE_RETCODE_DONE] * 2
    assert [p.symbol for p in positions] == ["EURUSD", "USDJPY"]
    assert f"with the server of {pyz}" in banner, banner
    assert status == 0
