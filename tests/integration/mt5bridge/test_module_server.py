"""``terminal-server --module``: a module with the MetaTrader5 surface served over the link.

The served module is ``tests/helpers/fake_mt5_module.py``: an importable module whose
functions are a simulated terminal's (real methods, not mocks), as the real package's are
the terminal's.  The server runs as ``main.py terminal-server --module ...`` in its own
process on a real socket; every answer is compared with the same call on an identical
terminal in this process (``build_terminal``), and ``LiveTerminal`` trades a basket through
it, as ``run --live --terminal ADDRESS`` does.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers.fake_mt5_module import DEFAULT_OPTIONS, build_terminal
from helpers.paths import REPO_ROOT

import main as cli
from engine.errors import UserError
from engine.model import RunMode
from mt5bridge import constants as c
from mt5bridge.live import IPC_ERROR_CODES, ConnectionState, LiveConfig, LiveTerminal
from mt5bridge.remote import RemoteTerminal, TerminalServer
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.structs import (
    MT5_RATES_DTYPE,
    MT5_TICKS_DTYPE,
    STRUCT_FIELDS,
    OrderSendResult,
    StructSequence,
    TradeRequest,
)
from mt5bridge.terminals import SECRET_ENV, open_terminal_module

MODULE = "tests.helpers.fake_mt5_module"
START_MSC = 1_704_672_000_000  # DEFAULT_OPTIONS' start: Monday 2024-01-08 00:00 UTC
HOUR = 3_600_000
BASKET = (("EURUSD", c.ORDER_TYPE_BUY), ("GBPUSD", c.ORDER_TYPE_SELL),
          ("USDCHF", c.ORDER_TYPE_BUY), ("AUDUSD", c.ORDER_TYPE_SELL))
CHILD_TIMEOUT_S = 60
SYMBOLS = tuple(DEFAULT_OPTIONS["symbols"])


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """``main.py`` children in the repository; whatever is left is killed at the end."""
    children: list[subprocess.Popen] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        child = subprocess.Popen(
            [sys.executable, "main.py", *args], cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}, text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=CHILD_TIMEOUT_S)
        child.stdout.close()
        child.stderr.close()


def first_lines(child: subprocess.Popen, n: int = 2) -> list[str]:
    """The server's address and secret file (its first two lines), or its error."""
    lines = []
    read: queue.Queue[str] = queue.Queue()
    for _ in range(n):
        threading.Thread(target=lambda: read.put(child.stdout.readline()), daemon=True).start()
        try:
            line = read.get(timeout=CHILD_TIMEOUT_S)
        except queue.Empty:
            child.kill()
            pytest.fail(f"no line from the server in {CHILD_TIMEOUT_S} s")
        if not line:
            child.wait(timeout=CHILD_TIMEOUT_S)
            pytest.fail(f"the server exited ({child.returncode}): {child.stderr.read()}")
        lines.append(line.strip())
    return lines


@pytest.fixture
def served(spawn: Callable[..., subprocess.Popen]) -> tuple[str, str, subprocess.Popen]:
    """The test module served with its simulator controls: address, secret file, process."""
    child = spawn("terminal-server", "--module", MODULE, "--simulator-controls")
    address, secret_file = first_lines(child)
    return address, secret_file, child


def prepared(term: object, at_msc: int = START_MSC + 2 * HOUR) -> object:
    assert term.initialize()
    term.sim_advance_to(at_msc)
    for symbol in SYMBOLS:
        assert term.symbol_select(symbol, True)
    return term


def assert_same(remote_value: object, local_value: object) -> None:
    """Equal values of exactly the same types: struct types, nested structs, numpy dtypes."""
    assert type(remote_value) is type(local_value)
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
            "magic": 710001, "comment": "basket 1", "type_filling": c.ORDER_FILLING_IOC,
            "type_time": c.ORDER_TIME_GTC, **extra}


def live_over(module: object, utc_now: Callable[[], float]) -> LiveTerminal:
    live = LiveTerminal(module, LiveConfig(symbols=SYMBOLS, server_tz=ServerTimeZone()),
                        sleep=lambda _s: None, utc_now=utc_now)
    live.connect()
    return live


# -- the module's answers, over the link ---------------------------------------------------------


def test_a_served_module_answers_with_the_module_types_and_values(served):
    # Arrange
    address, secret_file, _ = served
    remote = prepared(RemoteTerminal(address, secret_file=secret_file))
    local = prepared(build_terminal())
    since = START_MSC // 1000 + 3600

    # Act / Assert: every kind of result, compared with the same call in process
    for call in (lambda t: t.account_info(), lambda t: t.terminal_info(),
                 lambda t: t.version(), lambda t: t.symbols_total(),
                 lambda t: t.symbols_get(), lambda t: t.symbol_info("XAUUSD"),
                 lambda t: t.symbol_info_tick("EURUSD"),
                 lambda t: t.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1),
                 lambda t: t.order_check(order(t, "EURUSD", c.ORDER_TYPE_BUY)),
                 lambda t: t.positions_get(), lambda t: t.last_error()):
        assert_same(call(remote), call(local))
    rates = remote.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 500)
    ticks = remote.copy_ticks_from("GBPUSD", since, 1000, c.COPY_TICKS_ALL)
    assert rates.dtype == MT5_RATES_DTYPE and rates.dtype.itemsize == 60 and len(rates) == 500
    assert ticks.dtype == MT5_TICKS_DTYPE and len(ticks) > 0
    assert_same(rates, local.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 500))
    assert_same(ticks, local.copy_ticks_from("GBPUSD", since, 1000, c.COPY_TICKS_ALL))
    sent = remote.order_send(order(remote, "EURUSD", c.ORDER_TYPE_BUY))
    assert type(sent) is OrderSendResult and type(sent.request) is TradeRequest
    assert_same(sent, local.order_send(order(local, "EURUSD", c.ORDER_TYPE_BUY)))
    assert_same(remote.positions_get(), local.positions_get())
    remote.close()


def test_live_terminal_trades_a_basket_through_the_served_module(served, monkeypatch):
    # Arrange: the module as --terminal ADDRESS finds it, and an identical terminal here
    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    module = open_terminal_module(address)
    local = build_terminal()
    for term in (module, local):
        term.sim_advance_to(START_MSC + 3 * HOUR)
    remote_live = live_over(module, lambda: module.sim_now_msc() / 1000)
    local_live = live_over(local, lambda: local.sim_now_msc() / 1000)

    # Act: open the basket leg by leg, an hour later close it
    opened = [[live.order_send(order(live, s, side)) for s, side in BASKET]
              for live in (remote_live, local_live)]
    held = [live.positions_get() for live in (remote_live, local_live)]
    for term in (module, local):
        term.sim_advance_to(START_MSC + 4 * HOUR)
    closed = [[live.order_send(order(live, s, c.ORDER_TYPE_SELL - side, position=r.order))
               for (s, side), r in zip(BASKET, results, strict=True)]
              for live, results in zip((remote_live, local_live), opened, strict=True)]
    deals = [live.history_deals_get(START_MSC // 1000, START_MSC // 1000 + 86_400)
             for live in (remote_live, local_live)]

    # Assert
    assert isinstance(module, RemoteTerminal)
    assert remote_live.state is ConnectionState.CONNECTED
    assert [r.retcode for r in opened[0] + closed[0]] == [c.TRADE_RETCODE_DONE] * 8
    assert [(p.symbol, p.magic, p.comment) for p in held[0]] == [
        (s, 710001, "basket 1") for s, _ in BASKET]
    for remote_value, local_value in zip(opened[0] + closed[0] + [held[0], deals[0]],
                                         opened[1] + closed[1] + [held[1], deals[1]],
                                         strict=True):
        assert_same(remote_value, local_value)
    assert remote_live.positions_get() == ()
    remote_live.close()


def test_only_the_metatrader5_functions_are_served_without_simulator_controls(spawn):
    # Arrange
    child = spawn("terminal-server", "--module", MODULE)
    address, secret_file = first_lines(child)
    remote = RemoteTerminal(address, secret_file=secret_file)

    # Act
    attached = remote.initialize()
    account = remote.account_info()
    refused = {}
    for name in ("sim_now_msc", "build_terminal", "TERMINAL", "__getattr__", "options_from_env"):
        with pytest.raises(AttributeError) as info:
            remote._call_sim("call", name)
        refused[name] = str(info.value)

    # Assert
    assert attached and account is not None and account.login > 0
    assert all("does not offer" in text for text in refused.values()), refused
    assert "32 of the 32 MetaTrader5 functions" in _stop(child)


def _stop(child: subprocess.Popen) -> str:
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=CHILD_TIMEOUT_S) == 0
    return child.stderr.read()


@pytest.mark.skipif(sys.platform == "win32", reason="file modes and SIGTERM are POSIX")
def test_a_secret_made_beforehand_is_served_and_left_in_place(spawn, tmp_path):
    # Arrange: the secret made where the client runs, as for a server inside Wine
    secret = tmp_path / "terminal.secret"
    assert cli.main(["terminal-server", "--make-secret", str(secret)]) == 0
    child = spawn("terminal-server", "--module", MODULE, "--tcp", "--secret-from", str(secret))
    address, secret_file = first_lines(child)

    # Act
    remote = RemoteTerminal(address, secret_file=secret)
    attached = remote.initialize()
    login = remote.account_info().login
    remote.close()
    _stop(child)

    # Assert
    assert secret_file == str(secret)
    assert attached and login > 0
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.is_file(), "a shared secret file outlives the server"


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "says"), [
    (["terminal-server", "--module", "MetaTrader5"],
     "error: --module MetaTrader5: cannot import it: No module named 'MetaTrader5' (install"),
    (["terminal-server", "--module", "json"],
     "error: --module json: not the MetaTrader5 surface (no initialize, shutdown"),
    (["terminal-server", "--simulator-controls"],
     "error: --simulator-controls goes with --module"),
    (["run", "--demo", "--terminal", "127.0.0.1:18813"], "error: --terminal goes with --live"),
    (["gui", "--demo", "--from", "2019-10-28"],
     "error: --from and --to go with --replay or --store"),
    (["run", "--live", "--terminal", "10.1.2.3:18813"],
     "error: --terminal 10.1.2.3:18813 is not on this machine: give --allow-remote"),
    (["run", "--live", "--terminal", "rpyc://192.0.2.7:18812"],
     "error: --terminal rpyc://192.0.2.7:18812 is not on this machine: give --allow-remote"),
    (["run", "--live", "--terminal", "127.0.0.1:18813"],
     f"error: --terminal 127.0.0.1:18813: set {SECRET_ENV} to the terminal server's secret"),
    (["run", "--live", "--terminal", "localhost:99999"],
     "error: --terminal localhost:99999: port 99999 is not a number from 0 to 65535; give "
     "HOST:PORT (e.g. 127.0.0.1:18813), rpyc://HOST:PORT or a socket path with a '/'"),
])
def test_command_line_mistakes_are_one_line_and_exit_2(argv, says, capsys, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    if "MetaTrader5" in argv and "MetaTrader5" in sys.modules:
        pytest.skip("the MetaTrader5 package is installed here")

    status = cli.main(argv)

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(says), err
    assert err.count("\n") == 1


def test_no_address_is_this_pythons_metatrader5_package_as_before():
    if "MetaTrader5" in sys.modules:
        pytest.skip("the MetaTrader5 package is installed here")
    with pytest.raises(UserError, match="the MetaTrader5 package is not installed"):
        open_terminal_module(None)


def test_run_live_terminal_opens_the_served_accounts_journal(served, monkeypatch, tmp_path):
    # Arrange
    from app.cli.run import build_session

    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    parser = cli.build_parser()
    args = parser.parse_args(["run", "--live", "--terminal", address,
                              "--clusters", "USD_MAJORS"])

    # Act
    session = build_session(args)
    try:
        account = session.terminal.account_info()
        journal_file = Path(session.journal.path).name
        mode, module = session.mode, session.terminal._mt5
    finally:
        session.close()
        session.terminal.close()

    # Assert
    assert mode is RunMode.LIVE
    assert isinstance(module, RemoteTerminal)
    assert journal_file.startswith("live-") and journal_file.endswith(f"-{account.login}.sqlite")


@pytest.mark.parametrize("imported", [True, False], ids=["a calendar imported", "none"])
def test_a_live_session_filters_news_with_the_imported_calendar(served, monkeypatch,
                                                                  imported):
    # Arrange: the data directory's calendar, as main.py import calendar leaves it (or none)
    from app.cli.run import build_session
    from engine.news import CalendarState
    from storage.calendar import default_calendar_path, import_calendar_files

    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    if imported:
        import_calendar_files([REPO_ROOT / "tests" / "data" / "calendar" /
                               "forexfactory_events_2019-11-20_2019-12-31_UTC.csv"],
                              default_calendar_path())
    args = cli.build_parser().parse_args(["run", "--live", "--terminal", address,
                                          "--clusters", "USD_MAJORS"])

    # Act
    session = build_session(args)
    try:
        news, notes = session.engine.news, list(session.notes)
        state = news.state(session.engine.now())
        december = news.windows(datetime(2019, 12, 6, tzinfo=UTC),
                                datetime(2019, 12, 7, tzinfo=UTC), ["USD"])
    finally:
        session.close()
        session.terminal.close()

    # Assert: the imported events filter the live engine (stale today: the file is of 2019,
    # so the stale policy holds entries back); without a calendar the filter is off, said
    if imported:
        assert state is CalendarState.STALE and december
        assert not [n for n in notes if "calendar" in n]
    else:
        assert state is CalendarState.DISABLED and december == []
        assert [n for n in notes if "no economic calendar imported" in n]


def test_gui_live_terminal_builds_the_consoles_live_session(served, monkeypatch):
    # Arrange
    from engine.config import load_engine_config
    from gui.app import build

    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    args = argparse.Namespace(live=True, replay=None, store=None, speed=None, journal=None,
                              seed=0, terminal=address, allow_remote=False)

    # Act
    run = build(args, load_engine_config(None).with_clusters(["USD_MAJORS"]))
    try:
        mode, module = run.session.mode, run.session.terminal._mt5
    finally:
        run.session.close()
        run.session.terminal.close()

    # Assert
    assert mode is RunMode.LIVE and isinstance(module, RemoteTerminal)


def _live_run_session(address: str, *extra: str):
    from app.cli.run import build_session

    return build_session(cli.build_parser().parse_args(["run", "--live", "--terminal", address,
                                                         *extra]))


def test_the_shipped_clusters_are_fitted_to_what_the_broker_offers(served, monkeypatch):
    # Arrange: the served broker offers EURUSD, GBPUSD, AUDUSD, USDCHF, USDJPY and XAUUSD
    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)

    # Act: the live run on the shipped configuration, no cluster chosen
    session = _live_run_session(address)
    try:
        clusters = list(session.engine.signals)
        notes = list(session.notes)
        traded = set(session.terminal.config.symbols)
    finally:
        session.close()
        session.terminal.close()

    # Assert: the two clusters it can feed run; each other one is named with what it lacks
    assert clusters == ["USD_MAJORS", "GOLD_HAVENS"]
    assert traded == {"EURUSD", "GBPUSD", "AUDUSD", "USDCHF", "USDJPY", "XAUUSD"}
    assert "USD_CAD_JPY left out: the broker does not offer USDCAD" in notes
    assert "EUR_CROSSES left out: the broker does not offer EURCHF, EURGBP, EURJPY" in notes
    assert len([n for n in notes if " left out: " in n]) == 6


def test_a_chosen_cluster_the_broker_cannot_feed_is_refused(served, monkeypatch):
    # Arrange
    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)

    # Act / Assert: a choice is taken as given, and its missing symbol named
    with pytest.raises(UserError, match="does not offer USDCAD"):
        _live_run_session(address, "--clusters", "USD_CAD_JPY")


def test_the_live_console_shows_no_clock_controls_and_ignores_them(served, monkeypatch, qtbot):
    # Arrange: the console's window on a live session (the worker not started)
    from engine.config import load_engine_config
    from gui.app import build
    from gui.main_window import MainWindow

    address, secret_file, _ = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    args = argparse.Namespace(live=True, replay=None, store=None, speed=None, journal=None,
                              seed=0, terminal=address, allow_remote=False)
    run = build(args, load_engine_config(None).with_clusters(["USD_MAJORS"]))
    window = MainWindow(run.session, run.pacer, speed=run.speed)
    qtbot.addWidget(window)
    clock = run.pacer.now_msc()
    try:
        # Act: what the hidden controls would do
        window.step_bar()
        window.set_speed(100.0)
        window.jump(clock + 3_600_000)

        # Assert: no control shown, and the live clock neither paused nor moved ahead
        hidden = [(a.isVisible(), a.isEnabled()) for a in window.clock_actions]
        paused, now = run.pacer.paused, run.pacer.now_msc()
    finally:
        window.shutdown()
        run.session.close()
        run.session.terminal.close()
    assert hidden == [(False, False)] * 7
    assert not paused
    assert now < clock + 3_600_000


def test_a_lost_server_is_a_lost_mt5_link_for_the_live_adapter(served, monkeypatch):
    # Arrange
    address, secret_file, child = served
    monkeypatch.setenv(SECRET_ENV, secret_file)
    module = open_terminal_module(address)
    live = live_over(module, lambda: 0.0)

    # Act
    _stop(child)
    tick = live.symbol_info_tick("EURUSD")

    # Assert
    assert tick is None
    assert module.last_error()[0] in IPC_ERROR_CODES
    assert live.state is ConnectionState.DISCONNECTED


# -- what the real package returns -------------------------------------------------------------


def _package_struct(name: str) -> type:
    """A struct type shaped as the package's: a tuple subclass of that name from no module
    of ours, with ``_asdict()`` and nothing else (the package's are C struct sequences)."""
    fields = STRUCT_FIELDS[name]

    def _asdict(self: tuple) -> dict[str, object]:
        return dict(zip(fields, self, strict=True))

    return type(name, (tuple,), {"__module__": "builtins", "__slots__": (), "_asdict": _asdict})


def _package_module(local: object) -> types.ModuleType:
    """A module answering as the package does: its own struct types and dtypes."""
    package = types.ModuleType("MetaTrader5")
    request_type = _package_struct("TradeRequest")
    result_type = _package_struct("OrderSendResult")
    rates_dtype = np.dtype({"names": list(MT5_RATES_DTYPE.names),
                            "formats": ["<i8", "<f8", "<f8", "<f8", "<f8", "<u8", "<i4", "<u8"],
                            "offsets": [0, 8, 16, 24, 32, 40, 48, 52], "itemsize": 60})

    def order_send(request: dict[str, object]) -> tuple:
        ours = local.order_send(request)
        return result_type((*ours[:-1], request_type(tuple(ours.request))))

    def copy_rates_from_pos(*args: object) -> np.ndarray:
        return local.copy_rates_from_pos(*args).astype(rates_dtype)

    for name in ("initialize", "shutdown", "last_error", "account_info", "symbol_info_tick"):
        setattr(package, name, getattr(local, name))
    package.order_send, package.copy_rates_from_pos = order_send, copy_rates_from_pos
    return package


def test_the_packages_own_structs_and_dtypes_come_back_as_the_products_types():
    # Arrange: the package's look-alike served in process, its answers checked by type
    local = prepared(build_terminal())
    package = _package_module(local)
    with TerminalServer(package, sim_controls=False) as server:
        remote = RemoteTerminal(server.address, secret_file=server.secret_file)

        # Act
        assert remote.initialize()
        sent = remote.order_send(order(remote, "EURUSD", c.ORDER_TYPE_BUY))
        rates = remote.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10)
        remote.close()

    # Assert
    assert type(sent) is OrderSendResult and type(sent.request) is TradeRequest
    assert sent.retcode == c.TRADE_RETCODE_DONE and sent.request.symbol == "EURUSD"
    assert rates.dtype == MT5_RATES_DTYPE and rates.dtype.itemsize == 60
    assert rates.tobytes() == local.copy_rates_from_pos("EURUSD", 1, 0, 10).tobytes()
