"""``--terminal rpyc://HOST:PORT``: an mt5linux server, read and traded without pickle.

The server is a real RPyC classic server (``tests/helpers/rpyc_classic_server.py``: RPyC's
``ThreadedServer`` with ``SlaveService``, as mt5linux runs it under Wine) on 127.0.0.1 in its
own process, whose ``MetaTrader5`` is the simulated terminal's test module.  Every answer
is compared with the same call on an identical terminal in this process.  The test drives
the served terminal's clock through its own classic connection (``conn.modules``): what the
client under test never does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from helpers.fake_mt5_module import DEFAULT_OPTIONS, build_terminal
from helpers.paths import HELPERS, REPO_ROOT

from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge import terminals
from mt5bridge.live import ConnectionState, LiveConfig, LiveTerminal
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.structs import (
    MT5_RATES_DTYPE,
    MT5_TICKS_DTYPE,
    OrderSendResult,
    StructSequence,
    TradeRequest,
)

rpyc = pytest.importorskip("rpyc", reason="the mt5linux extra (rpyc) is not installed")

from mt5bridge.mt5linux_client import Mt5LinuxTerminal  # noqa: E402

START_MSC = 1_704_672_000_000  # the test module's start: Monday 2024-01-08 00:00 UTC
HOUR = 3_600_000
SYMBOLS = tuple(DEFAULT_OPTIONS["symbols"])
BASKET = (("EURUSD", c.ORDER_TYPE_BUY), ("GBPUSD", c.ORDER_TYPE_SELL),
          ("USDCHF", c.ORDER_TYPE_BUY), ("AUDUSD", c.ORDER_TYPE_SELL))
CHILD_TIMEOUT_S = 60


class ClassicServer:
    """The RPyC classic server process, and a classic connection for the test's own use."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "rpyc_classic_server.py")], cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            pytest.fail(f"no RPyC server: {line} {self.proc.stderr.read()}")
        self.port = int(line)
        self.address = f"rpyc://127.0.0.1:{self.port}"
        try:
            self._control = rpyc.classic.connect("127.0.0.1", self.port)
        except BaseException:
            self.close()
            raise
        #: The served module, to move its clock as a replay would.
        self.module = self._control.modules["MetaTrader5"]

    def close(self) -> None:
        if getattr(self, "_control", None) is not None:
            self._control.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=CHILD_TIMEOUT_S)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def server() -> Iterator[ClassicServer]:
    served = ClassicServer()
    try:
        yield served
    finally:
        served.close()


@pytest.fixture
def client(server: ClassicServer) -> Iterator[Any]:
    module = terminals.open_terminal_module(server.address)
    yield module
    module.close()


def assert_same(remote_value: object, local_value: object) -> None:
    """Equal values of exactly the same types: struct types, nested structs, numpy dtypes."""
    assert type(remote_value) is type(local_value), (remote_value, local_value)
    if isinstance(local_value, np.ndarray):
        assert remote_value.dtype == local_value.dtype
        assert remote_value.tobytes() == local_value.tobytes()
    elif isinstance(local_value, tuple):
        assert len(remote_value) == len(local_value)
        for r, v in zip(remote_value, local_value, strict=True):
            assert_same(r, v)
        if isinstance(local_value, StructSequence):
            assert list(remote_value._asdict()) == list(local_value._asdict())
    else:
        assert remote_value == local_value


def order(term: object, symbol: str, side: int, **extra: object) -> dict[str, object]:
    tick = term.symbol_info_tick(symbol)
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": 0.1, "type": side,
            "price": tick.ask if side == c.ORDER_TYPE_BUY else tick.bid, "deviation": 20,
            "magic": 710001, "comment": "basket 1",
            "type_filling": c.ORDER_FILLING_IOC, "type_time": c.ORDER_TIME_GTC, **extra}


def test_reads_equal_the_simulated_terminals_own(server, client):
    # Arrange
    local = build_terminal()
    for term in (server.module, local):
        term.sim_advance_to(START_MSC + 2 * HOUR)
    for term in (client, local):
        assert term.initialize()
        for symbol in SYMBOLS:
            assert term.symbol_select(symbol, True)
    aware = datetime(2024, 1, 8, 1, tzinfo=UTC)

    # Act / Assert
    for call in (lambda t: t.account_info(), lambda t: t.terminal_info(),
                 lambda t: t.version(), lambda t: t.last_error(), lambda t: t.symbols_total(),
                 lambda t: t.symbols_get(), lambda t: t.symbols_get(group="*USD*"),
                 lambda t: t.symbol_info("XAUUSD"), lambda t: t.symbol_info_tick("EURUSD"),
                 lambda t: t.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 500),
                 lambda t: t.copy_rates_from("USDJPY", c.TIMEFRAME_M5, aware, 50),
                 lambda t: t.copy_rates_range("GBPUSD", c.TIMEFRAME_M1, aware,
                                              datetime(2024, 1, 8, 2, tzinfo=UTC)),
                 lambda t: t.copy_ticks_from("GBPUSD", aware, 1000, c.COPY_TICKS_ALL),
                 lambda t: t.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1),
                 lambda t: t.order_check(order(t, "EURUSD", c.ORDER_TYPE_BUY)),
                 lambda t: t.positions_get(), lambda t: t.orders_total(),
                 lambda t: t.symbol_info("NOPE"), lambda t: t.last_error()):
        assert_same(call(client), call(local))
    assert client.copy_rates_from_pos("EURUSD", 1, 0, 5).dtype == MT5_RATES_DTYPE
    assert client.copy_ticks_from("GBPUSD", aware, 5, c.COPY_TICKS_ALL).dtype == MT5_TICKS_DTYPE
    assert client.__version__ == local.__version__


def test_live_terminal_trades_a_basket_as_on_the_simulated_terminal(server, client):
    # Arrange
    local = build_terminal()
    clocks = (lambda: server.module.sim_now_msc() / 1000, lambda: local.sim_now_msc() / 1000)
    lives = [LiveTerminal(term, LiveConfig(symbols=SYMBOLS, server_tz=ServerTimeZone()),
                          sleep=lambda _s: None, utc_now=clock)
             for term, clock in zip((client, local), clocks, strict=True)]
    for term in (server.module, local):
        term.sim_advance_to(START_MSC + 3 * HOUR)
    for live in lives:
        live.connect()

    # Act: the basket leg by leg, closed an hour later
    opened = [[live.order_send(order(live, s, side)) for s, side in BASKET] for live in lives]
    held = [live.positions_get() for live in lives]
    for term in (server.module, local):
        term.sim_advance_to(START_MSC + 4 * HOUR)
    closed = [[live.order_send(order(live, s, c.ORDER_TYPE_SELL - side, position=r.order))
               for (s, side), r in zip(BASKET, results, strict=True)]
              for live, results in zip(lives, opened, strict=True)]
    since = datetime(2024, 1, 7, tzinfo=UTC)
    deals = [live.history_deals_get(since, datetime(2024, 1, 9, tzinfo=UTC)) for live in lives]

    # Assert
    assert all(type(r) is OrderSendResult and type(r.request) is TradeRequest
               for r in opened[0] + closed[0])
    assert [r.retcode for r in opened[0] + closed[0]] == [c.TRADE_RETCODE_DONE] * 8
    assert [(p.symbol, p.magic) for p in held[0]] == [(s, 710001) for s, _ in BASKET]
    for remote_value, local_value in zip([*opened[0], *closed[0], held[0], deals[0]],
                                         [*opened[1], *closed[1], held[1], deals[1]],
                                         strict=True):
        assert_same(remote_value, local_value)
    assert sum(d.magic == 710001 for d in deals[0]) == 8 and lives[0].positions_get() == ()
    assert lives[0].state is ConnectionState.CONNECTED


def test_the_warning_about_arbitrary_code_is_given_once(server, capsys, caplog, monkeypatch):
    # Arrange
    monkeypatch.setattr(terminals, "_warned", set())

    # Act
    for _ in range(2):
        terminals.open_terminal_module(server.address).close()

    # Assert
    err = capsys.readouterr().err
    assert err.count("warning: an mt5linux server (RPyC classic) executes any code") == 1
    assert sum("executes any code" in r.getMessage() for r in caplog.records) == 1


def test_an_address_on_another_machine_is_refused_without_allow_remote():
    with pytest.raises(UserError, match=r"^--terminal rpyc://192\.0\.2\.7:18812 is not on this "
                                        r"machine: give --allow-remote"):
        terminals.open_terminal_module("rpyc://192.0.2.7:18812")
    assert isinstance(terminals.open_terminal_module("rpyc://localhost"), Mt5LinuxTerminal)


def test_no_server_fails_initialize_with_the_modules_ipc_code(server):
    # Arrange: a port nobody listens on any more
    port = server.port
    server.close()
    client = Mt5LinuxTerminal("127.0.0.1", port, timeout_s=5)

    # Act
    attached = client.initialize()

    # Assert
    assert attached is False
    assert client.last_error()[0] == c.RES_E_INTERNAL_FAIL_INIT
    assert client.account_info() is None
    assert client.last_error() == (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP/SIGCONT")
def test_a_frozen_server_is_an_ipc_timeout_and_the_adapter_reconnects(server):
    # Arrange: calls time out after half a second; the adapter's first back-off wakes the
    # server again
    client = Mt5LinuxTerminal("127.0.0.1", server.port, timeout_s=0.5)
    errors: list[tuple[int, str]] = []
    states: list[ConnectionState] = []

    def wake(_seconds: float) -> None:
        errors.append(client.last_error())
        os.kill(server.proc.pid, signal.SIGCONT)

    live = LiveTerminal(client, LiveConfig(symbols=("EURUSD",), server_tz=ServerTimeZone()),
                        sleep=wake, on_state=lambda state, _detail: states.append(state))
    live.connect()

    # Act
    os.kill(server.proc.pid, signal.SIGSTOP)
    account = live.account_info()

    # Assert
    assert errors[0] == (c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
    assert account is not None and account.login > 0
    assert states[-2:] == [ConnectionState.RECONNECTING, ConnectionState.CONNECTED]
    client.close()


def test_arguments_the_wire_cannot_carry_are_refused(client):
    assert client.initialize()
    with pytest.raises(TypeError, match="cannot be sent to an mt5linux server"):
        client.symbol_info(object())
