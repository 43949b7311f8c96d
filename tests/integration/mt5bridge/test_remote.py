"""The simulated terminal across a process boundary: ``TerminalServer`` and ``RemoteTerminal``.

Every round trip is compared with the same call on an in-process ``SimTerminal`` built
from the same feed, so "works remotely" means "gives the same answer, of the same type, with
the same ``last_error``".  Servers run in a background thread of the test process unless
the test is about processes; child processes are started with ``sys.executable``, read with
timeouts and always killed at the end.  Who may connect, and what the wire refuses, is in
``test_remote_security.py``.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import REPO_ROOT

import main as cli
from engine.errors import ConfigError, UserError
from mt5bridge import constants as c
from mt5bridge.live import IPC_ERROR_CODES, ConnectionState, LiveConfig, LiveTerminal
from mt5bridge.remote import (
    MT5_FUNCTIONS,
    RemoteLinkError,
    RemoteTerminal,
    RemoteTerminalError,
    TerminalServer,
    decode_message,
    encode_message,
    format_address,
    parse_address,
    synthetic_terminal,
)
from mt5bridge.remote import main as remote_main
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim import FaultConfig, SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed
from mt5bridge.sim.market import MarketConfig
from mt5bridge.structs import (
    OrderSendResult,
    StructSequence,
    Tick,
    TradeDeal,
    TradePosition,
    TradeRequest,
)

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")
START = int(datetime(2019, 1, 15, 10, tzinfo=UTC).timestamp() * 1000)  # a Tuesday
MINUTE, HOUR = 60_000, 3_600_000
CHILD_TIMEOUT_S = 60


def make_terminal(**config: object) -> SimTerminal:
    """The terminal every in-thread server holds, and its in-process twin."""
    return SimTerminal(walk_feed(SYMBOLS, START, START + 3 * HOUR, seed=7), SimConfig(**config))


def prepare(term: object) -> None:
    """What both twins go through before a comparison."""
    assert term.initialize()
    term.sim_advance_to(START + 30 * MINUTE)
    for symbol in SYMBOLS:
        assert term.symbol_select(symbol, True)


def buy(term: object, symbol: str = "EURUSD", volume: float = 0.1, **extra: object):
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume,
               "type": c.ORDER_TYPE_BUY, "price": term.symbol_info_tick(symbol).ask,
               "deviation": 20, "magic": 7001, "comment": "basket 1"}
    request.update(extra)
    return term.order_send(request)


def assert_same(remote_value: object, local_value: object) -> None:
    """Equal values of the same types, struct field order and numpy dtypes included."""
    assert type(remote_value) is type(local_value)
    if isinstance(local_value, np.ndarray):
        assert remote_value.dtype == local_value.dtype
        np.testing.assert_array_equal(remote_value, local_value)
    elif isinstance(local_value, tuple):
        assert len(remote_value) == len(local_value)
        for r, v in zip(remote_value, local_value, strict=True):
            assert_same(r, v)
        if isinstance(local_value, StructSequence):
            assert list(remote_value._asdict().items()) == list(local_value._asdict().items())
    else:
        assert remote_value == local_value


def connect(srv: TerminalServer, address: object = None, **options: object) -> RemoteTerminal:
    """A client of ``srv`` that reads the server's secret file, as every client does."""
    return RemoteTerminal(srv.address if address is None else address,
                          secret_file=srv.secret_file, **options)


@pytest.fixture
def server() -> Iterator[TerminalServer]:
    with TerminalServer(make_terminal()) as srv:
        yield srv


@pytest.fixture
def remote(server: TerminalServer) -> Iterator[RemoteTerminal]:
    with connect(server) as client:
        yield client


@pytest.fixture
def twins(remote: RemoteTerminal) -> tuple[RemoteTerminal, SimTerminal]:
    local = make_terminal()
    for term in (remote, local):
        prepare(term)
    return remote, local


@pytest.fixture
def spawn() -> Iterator:
    """Start ``sys.executable`` children in the repository; kill whatever is left at the end."""
    children: list[subprocess.Popen] = []
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))

    def start(*args: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env, text=True,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=CHILD_TIMEOUT_S)
        child.stdout.close()
        child.stderr.close()


def read_line(child: subprocess.Popen) -> str:
    """The child's next stdout line, or a failure (with its stderr) if none comes in time."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(child.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=CHILD_TIMEOUT_S)
    except queue.Empty:
        child.kill()
        pytest.fail(f"no line from the child in {CHILD_TIMEOUT_S} s: {child.stderr.read()}")
    if not line:
        child.wait(timeout=CHILD_TIMEOUT_S)
        pytest.fail(f"the child exited ({child.returncode}) early: {child.stderr.read()}")
    return line.strip()


# -- values on the wire ----------------------------------------------------------------------


def test_structs_cross_the_wire_where_they_do_not_pickle():
    request = TradeRequest((1, 7, 0, "EURUSD", 0.1, 1.1, 0.0, 0.0, 0.0, 20, 0, 0, 0, 0, "x",
                            0, 0))
    result = OrderSendResult((10009, 2, 3, 0.1, 1.1, 1.09, 1.1, "done", 1, 0, request))

    back = decode_message(encode_message((result, None, [Tick((1, 1.0, 1.1, 0.0, 0, 1000, 6,
                                                                0.0))])))

    assert_same(back[0], result)
    assert type(back[0].request) is TradeRequest
    assert back[1] is None and type(back[2][0]) is Tick


def test_addresses_read_back_from_their_text():
    assert parse_address("127.0.0.1:5555") == ("127.0.0.1", 5555)
    assert parse_address("/tmp/fx/terminal.sock") == "/tmp/fx/terminal.sock"
    for address in (("127.0.0.1", 80), ("::1", 8080), "/tmp/a:b/terminal.sock"):
        assert parse_address(format_address(address)) == address


# -- round trips, compared with the in-process terminal --------------------------------------


def test_the_constants_are_the_module_constants(remote):
    for name, value in c.MT5_CONSTANTS.items():
        assert getattr(remote, name) == value
    assert len(c.MT5_CONSTANTS) == 223


def test_the_client_has_every_module_function(remote, shared_reference):
    import json

    api = json.loads((shared_reference / "mt5_api.json").read_text())

    assert set(MT5_FUNCTIONS) == set(api["functions"])
    assert all(callable(getattr(remote, name)) for name in api["functions"])


@pytest.mark.parametrize("call", [
    lambda t: t.symbol_info("EURUSD"),
    lambda t: t.symbol_info_tick("GBPUSD"),
    lambda t: t.account_info(),
    lambda t: t.terminal_info(),
    lambda t: t.version(),
    lambda t: t.symbols_total(),
    lambda t: t.positions_total(),
    lambda t: t.order_calc_margin(c.ORDER_TYPE_BUY, "USDJPY", 1.0, 110.0),
    lambda t: t.order_check({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.5,
                             "type": c.ORDER_TYPE_SELL, "price": 1.14}),
], ids=["symbol_info", "symbol_info_tick", "account_info", "terminal_info", "version",
        "symbols_total", "positions_total", "order_calc_margin", "order_check"])
def test_single_results_equal_the_in_process_ones(twins, call):
    remote, local = twins

    remote_value, local_value = call(remote), call(local)

    assert local_value is not None
    assert_same(remote_value, local_value)
    assert remote.last_error() == local.last_error() == (1, "Success")


def test_an_order_result_comes_back_with_its_request_struct(twins):
    remote, local = twins

    remote_result, local_result = buy(remote), buy(local)

    assert type(remote_result) is OrderSendResult
    assert type(remote_result.request) is TradeRequest
    assert remote_result.retcode == c.TRADE_RETCODE_DONE
    assert_same(remote_result, local_result)


def test_tuples_of_structs_equal_the_in_process_ones(twins):
    remote, local = twins
    for term in twins:
        first = buy(term, "EURUSD")
        buy(term, "USDJPY", volume=0.2)
        term.sim_advance_to(START + 40 * MINUTE)
        term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                         "type": c.ORDER_TYPE_SELL, "position": first.order, "deviation": 20,
                         "price": term.symbol_info_tick("EURUSD").bid})
        assert term.market_book_add("GBPUSD")
    ticket = remote.positions_get()[0].ticket
    span = (START // 1000, (START + 4 * HOUR) // 1000)

    calls = [
        lambda t: t.positions_get(),
        lambda t: t.positions_get(symbol="USDJPY"),
        lambda t: t.positions_get(symbol="AUDUSD"),
        lambda t: t.orders_get(),
        lambda t: t.history_deals_get(*span),
        lambda t: t.history_deals_get(position=ticket),
        lambda t: t.history_orders_get(*span, group="*USD*"),
        lambda t: t.symbols_get(group="*JPY*"),
        lambda t: t.market_book_get("GBPUSD"),
    ]
    for call in calls:
        remote_value, local_value = call(remote), call(local)
        assert isinstance(local_value, tuple)
        assert_same(remote_value, local_value)
    assert type(remote.positions_get()[0]) is TradePosition
    assert [type(d) for d in remote.history_deals_get(*span)] == [TradeDeal] * 4
    assert remote.orders_get() == ()


def test_numpy_arrays_equal_the_in_process_ones(twins):
    remote, local = twins
    server_now_s = (START + 2 * HOUR + 30 * MINUTE) // 1000  # server time is UTC+2h
    calls = [
        lambda t: t.copy_rates_from("EURUSD", c.TIMEFRAME_M1, server_now_s, 10),
        lambda t: t.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_M5, 0, 4),
        lambda t: t.copy_rates_range("USDJPY", c.TIMEFRAME_M1, server_now_s - 600,
                                     server_now_s),
        lambda t: t.copy_ticks_from("EURUSD", server_now_s - 60, 50, c.COPY_TICKS_ALL),
        lambda t: t.copy_ticks_range("GBPUSD", server_now_s - 120, server_now_s,
                                     c.COPY_TICKS_INFO),
        lambda t: t.copy_ticks_range("GBPUSD", server_now_s - 120, server_now_s,
                                     c.COPY_TICKS_TRADE),
    ]
    for call in calls:
        remote_value, local_value = call(remote), call(local)
        assert isinstance(local_value, np.ndarray)
        assert_same(remote_value, local_value)
    assert len(remote.copy_rates_from("EURUSD", c.TIMEFRAME_M1, server_now_s, 10)) == 10


@pytest.mark.parametrize("call", [
    lambda t: t.symbol_info("NOPE"),
    lambda t: t.symbol_info_tick("AUDUSD"),
    lambda t: t.copy_rates_from_pos("EURUSD", 12345, 0, 10),
    lambda t: t.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1,
                            "type": c.ORDER_TYPE_BUY, "price": 1.1}),
    lambda t: t.order_send("not a request"),
    lambda t: t.history_deals_get(position="x"),
], ids=["unknown symbol", "symbol not quoted", "bad timeframe", "int volume", "no dict",
        "bad filter"])
def test_failures_give_none_and_the_same_last_error(twins, call):
    remote, local = twins

    remote_value, local_value = call(remote), call(local)

    assert remote_value is None and local_value is None
    assert remote.last_error() == local.last_error() != (1, "Success")
    remote.account_info()
    assert remote.last_error() == (1, "Success")


def test_a_false_result_and_its_last_error_come_back(twins):
    remote, local = twins

    assert remote.symbol_select("NOPE", True) is False
    assert local.symbol_select("NOPE", True) is False
    assert remote.last_error() == local.last_error() == (c.RES_E_NOT_FOUND, "Terminal: Not found")


@pytest.mark.parametrize("call", [
    lambda t: t.positions_get("EURUSD"),
    lambda t: t.orders_get("EURUSD"),
    lambda t: t.symbols_get("*USD*"),
    lambda t: t.symbol_info(symbol="EURUSD"),
    lambda t: t.copy_rates_from(symbol="EURUSD", timeframe=1, date_from=0, count=5),
    lambda t: t.copy_rates_from_pos("EURUSD", 1.5, 0, 10),
    lambda t: t.copy_rates_from("EURUSD", c.TIMEFRAME_M1, 10**30, 5),
    lambda t: t.order_calc_profit(c.ORDER_TYPE_BUY, "EURUSD", 1.0),
], ids=["positions_get positional", "orders_get positional", "symbols_get positional",
        "symbol_info keyword", "copy_rates_from keywords", "float timeframe", "date overflow",
        "missing argument"])
def test_wrong_argument_styles_raise_the_same_exception(twins, call):
    remote, local = twins
    with pytest.raises(Exception) as local_error:
        call(local)

    with pytest.raises(type(local_error.value)) as remote_error:
        call(remote)

    assert type(remote_error.value) is type(local_error.value)
    assert str(remote_error.value) == str(local_error.value)
    assert remote.last_error() == local.last_error()


def test_simulator_control_round_trips(twins):
    remote, local = twins
    for term in twins:
        term.sim_set_faults(FaultConfig(seed=3, requote=1.0))
        buy(term)
        term.sim_set_algo_trading(False)

    assert_same(buy(remote), buy(local))
    assert remote.sim_faults_fired() == local.sim_faults_fired()
    assert remote.sim_stats() == local.sim_stats()
    assert remote.sim_symbols() == local.sim_symbols() == SYMBOLS
    assert remote.sim_now_msc() == local.sim_now_msc() == START + 30 * MINUTE
    assert remote.sim_config == local.sim_config
    feed = remote.sim_feed
    assert (feed.symbols, feed.start_msc, feed.end_msc, feed.next_time()) == (
        tuple(local.sim_feed.symbols), local.sim_feed.start_msc, local.sim_feed.end_msc,
        local.sim_feed.next_time())


def test_advancing_the_clock_gives_the_same_ticks(twins):
    remote, local = twins

    counts = [term.sim_advance_to(START + 45 * MINUTE) for term in twins]

    assert counts[0] == counts[1] > 0
    assert_same(remote.sim_last_ticks(), local.sim_last_ticks())


def test_a_batch_runs_its_calls_in_order_in_one_round_trip(twins):
    remote, local = twins

    processed, ticks, tick = remote.batch([
        ("sim_advance_to", (START + 31 * MINUTE,), {}),
        ("sim_last_ticks", (), {}),
        ("symbol_info_tick", ("EURUSD",), {}),
    ])

    assert processed == local.sim_advance_to(START + 31 * MINUTE)
    assert_same(ticks, local.sim_last_ticks())
    assert_same(tick, local.symbol_info_tick("EURUSD"))


def test_the_server_offers_no_private_attributes(remote):
    with pytest.raises(AttributeError, match="does not offer '_trade'"):
        remote.batch([("_trade", (), {})])
    with pytest.raises(AttributeError, match="does not offer"):
        remote.batch([("sim_feed._ticks", (), {})])


# -- exceptions inside the terminal ----------------------------------------------------------


class ExplodingTerminal(SimTerminal):
    """A terminal whose methods fail in the ways a bug would make them fail."""

    def symbol_info_tick(self, symbol: object, /) -> object:
        if symbol == "GBPUSD":
            raise ZeroDivisionError("division by zero in the quote")
        return super().symbol_info_tick(symbol)

    def account_info(self) -> object:
        raise ConfigError("broker.toml", "leverage", "must be positive")

    def version(self) -> object:
        class LocalFailure(Exception):
            pass

        raise LocalFailure("a type the client cannot import")

    def sim_unsendable(self) -> object:
        return threading.Lock()


def test_exceptions_in_the_terminal_come_back_and_the_server_keeps_serving():
    terminal = ExplodingTerminal(walk_feed(SYMBOLS, START, START + HOUR), SimConfig())
    with TerminalServer(terminal) as srv, connect(srv) as remote:
        prepare(remote)

        with pytest.raises(ZeroDivisionError, match=r"^division by zero in the quote$"):
            remote.symbol_info_tick("GBPUSD")
        with pytest.raises(ConfigError) as config_error:
            remote.account_info()
        with pytest.raises(RemoteTerminalError, match="LocalFailure: a type the client"):
            remote.version()
        with pytest.raises(TypeError, match=r"^a _thread\.lock cannot be sent to or from"):
            remote.batch([("sim_unsendable", (), {})])

        assert str(config_error.value) == "broker.toml: leverage: must be positive"
        assert (config_error.value.key, config_error.value.reason) == ("leverage",
                                                                        "must be positive")
        assert "in account_info" in config_error.value.server_traceback
        assert remote.symbol_info_tick("EURUSD") is not None
        with connect(srv) as other:
            assert other.initialize() and other.symbol_info_tick("EURUSD") is not None


# -- sessions, lost links, authentication ----------------------------------------------------


def test_shutdown_detaches_only_the_caller(server):
    with connect(server) as first, connect(server) as second:
        assert first.initialize() and second.initialize()

        first.shutdown()

        assert first.account_info() is None
        assert first.last_error() == (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
        assert second.account_info() is not None
        assert first.initialize() and first.account_info() is not None


def test_a_client_must_initialize_before_mt5_calls(server):
    with connect(server) as remote:
        assert remote.symbol_info("EURUSD") is None
        assert remote.last_error() == (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
        assert remote.sim_now_msc() == START  # sim_* open the link on demand

        assert remote.symbol_info("EURUSD") is None  # linked, but not attached
        assert remote.initialize()
        assert remote.symbol_info("EURUSD") is not None


def test_a_client_whose_server_is_gone_fails_like_a_lost_mt5_link():
    srv = TerminalServer(make_terminal()).start()
    remote = connect(srv)
    assert remote.initialize()

    srv.stop()

    assert remote.account_info() is None
    assert remote.last_error()[0] in (c.RES_E_INTERNAL_FAIL_SEND, c.RES_E_INTERNAL_FAIL_RECEIVE)
    assert remote.positions_get() is None
    assert remote.last_error() == (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
    assert remote.symbol_select("EURUSD", True) is False
    assert remote.initialize() is False
    assert remote.last_error()[0] == c.RES_E_INTERNAL_FAIL_INIT
    assert remote.last_error()[1].startswith("IPC initialize failed, no terminal server at ")
    assert all(code in IPC_ERROR_CODES for code in range(-10005, -9999))
    with pytest.raises(RemoteLinkError) as link_error:
        remote.sim_now_msc()
    assert isinstance(link_error.value, ConnectionError)


def test_a_client_for_an_address_without_server_is_created_and_fails_softly(tmp_path):
    remote = RemoteTerminal(str(tmp_path / "nobody.sock"), secret_file=tmp_path / "secret")

    assert remote.initialize(timeout=1000) is False
    assert remote.last_error()[0] == c.RES_E_INTERNAL_FAIL_INIT
    assert not remote.connected


def test_a_wrong_secret_is_refused(server):
    stranger = RemoteTerminal(server.address, secret=b"not the secret of this server")

    assert stranger.initialize() is False
    assert stranger.last_error()[0] == c.RES_E_INTERNAL_FAIL_INIT
    assert "refused the secret" in stranger.last_error()[1]
    with pytest.raises(RemoteLinkError, match="refused the secret"):
        stranger.sim_now_msc()
    with connect(server) as friend:
        assert friend.initialize()


class GateTerminal:
    """A terminal whose ``symbol_info_tick`` answers only once the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def initialize(self, *args: object, **kwargs: object) -> bool:
        return True

    def last_error(self) -> tuple[int, str]:
        return 1, "Success"

    def symbol_info_tick(self, symbol: object, /) -> None:
        self.gate.wait(CHILD_TIMEOUT_S)


def test_a_reply_that_does_not_come_in_time_is_an_ipc_timeout():
    terminal = GateTerminal()
    with TerminalServer(terminal) as srv, connect(srv) as remote:
        assert remote.initialize()
        remote.timeout_s = 0  # the gate is closed: the reply cannot be there yet

        assert remote.symbol_info_tick("EURUSD") is None

        assert remote.last_error() == (c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
        assert not remote.connected
        terminal.gate.set()
        remote.timeout_s = CHILD_TIMEOUT_S
        assert remote.initialize()


def test_stop_ends_idle_connections_and_removes_the_socket(server):
    clients = [connect(server) for _ in range(3)]
    for client in clients:
        client.sim_now_msc()
    path = server.address

    server.stop()

    assert server.active_clients == 0
    assert not os.path.exists(path)
    assert not os.path.exists(os.path.dirname(path))


def test_a_server_on_localhost_tcp(twins):
    _, local = twins
    with TerminalServer(make_terminal(), ("127.0.0.1", 0)) as srv:
        host, port = srv.address
        with connect(srv, f"{host}:{port}") as remote:
            prepare(remote)
            assert (host, port > 0) == ("127.0.0.1", True)
            assert_same(remote.symbol_info_tick("USDJPY"), local.symbol_info_tick("USDJPY"))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: Unix socket paths are limited to about 100 bytes."""
    with tempfile.TemporaryDirectory(prefix="fxrt-") as folder:
        yield Path(folder)


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
def test_a_stale_socket_is_replaced_and_a_live_one_is_refused(short_dir):
    path = str(short_dir / "terminal.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # bound, never listening: what a killed server leaves behind
    stale.close()

    with TerminalServer(make_terminal(), path) as srv, connect(srv, path) as remote:
        assert srv.address == path and remote.initialize()
        with pytest.raises(UserError, match="already listening"):
            TerminalServer(make_terminal(), path).start()
    (short_dir / "file").write_text("data")
    with pytest.raises(UserError, match="is not a socket"):
        TerminalServer(make_terminal(), str(short_dir / "file")).start()


# -- concurrency -----------------------------------------------------------------------------


class CountingTerminal:
    """Not thread-safe on purpose: a read-modify-write that loses updates if calls overlap."""

    def __init__(self) -> None:
        self.count = 0
        self.inside = 0
        self.most_inside = 0

    def last_error(self) -> tuple[int, str]:
        return 1, "Success"

    def sim_bump(self) -> int:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        seen = self.count
        time.sleep(0)  # hand the GIL to the other threads (no wait): overlapping calls lose counts
        self.count = seen + 1
        self.inside -= 1
        return self.count


def test_concurrent_clients_are_served_one_call_at_a_time():
    terminal = CountingTerminal()
    threads, rounds = 4, 50
    errors: list[BaseException] = []
    with TerminalServer(terminal) as srv:

        def client() -> None:
            try:
                with connect(srv) as remote:
                    for _ in range(rounds):
                        remote.batch([("sim_bump", (), {}), ("sim_bump", (), {})])
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=client) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(CHILD_TIMEOUT_S)

    assert errors == []
    assert terminal.count == threads * rounds * 2
    assert terminal.most_inside == 1


def test_one_client_object_can_be_shared_by_threads(twins):
    remote, local = twins
    expected = local.symbol_info_tick("EURUSD")
    results: list[object] = []

    def worker() -> None:
        results.extend(remote.symbol_info_tick("EURUSD") for _ in range(50))

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(CHILD_TIMEOUT_S)

    assert len(results) == 150
    assert all(r == expected and type(r) is Tick for r in results)


# -- the live adapter over the link ----------------------------------------------------------


def test_live_terminal_trades_through_a_remote_terminal(server):
    remote = connect(server)
    remote.sim_advance_to(START + MINUTE)
    sleeps: list[float] = []
    live = LiveTerminal(remote, LiveConfig(symbols=SYMBOLS, server_tz=ServerTimeZone()),
                        sleep=sleeps.append, utc_now=lambda: remote.sim_now_msc() / 1000)

    live.connect()
    opened = live.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                              "volume": 0.1, "type": c.ORDER_TYPE_BUY, "magic": 7001,
                              "price": live.symbol_info_tick("EURUSD").ask, "deviation": 20,
                              "comment": "basket 1"})
    positions = live.positions_get(symbol="EURUSD")
    remote.sim_advance_to(START + 5 * MINUTE)
    closed = live.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                              "volume": 0.1, "type": c.ORDER_TYPE_SELL, "magic": 7001,
                              "position": opened.order, "deviation": 20,
                              "price": live.symbol_info_tick("EURUSD").bid})
    deals = live.history_deals_get(position=opened.order)

    assert live.state is ConnectionState.CONNECTED
    assert opened.retcode == closed.retcode == c.TRADE_RETCODE_DONE
    assert [(p.ticket, p.magic, p.comment) for p in positions] == [
        (opened.order, 7001, "basket 1")]
    assert live.positions_get() == ()
    assert [(type(d), d.entry) for d in deals] == [(TradeDeal, c.DEAL_ENTRY_IN),
                                                   (TradeDeal, c.DEAL_ENTRY_OUT)]
    assert sleeps == []


def test_live_terminal_reconnects_and_gives_up_through_the_link(server):
    remote = connect(server)
    sleeps: list[float] = []
    live = LiveTerminal(remote, LiveConfig(symbols=SYMBOLS, server_tz=ServerTimeZone(),
                                           reconnect_attempts=2),
                        sleep=sleeps.append, utc_now=lambda: START / 1000)
    live.connect()

    remote.sim_disconnect()
    after_drop = live.positions_get()
    server.stop()
    after_stop = live.positions_get()

    assert after_drop == ()  # reconnected through shutdown + initialize, then retried
    assert after_stop is None
    assert live.state is ConnectionState.DISCONNECTED
    assert sleeps == [1.0, 1.0, 2.0]


# -- processes -------------------------------------------------------------------------------

CHILD_CLIENT = """
import sys
from mt5bridge import constants as c
from mt5bridge.remote import RemoteTerminal

remote = RemoteTerminal(sys.argv[1], secret_file=sys.argv[3])
assert remote.initialize()
remote.sim_advance_to(int(sys.argv[2]))
assert remote.symbol_select("EURUSD", True)
result = remote.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.3,
                            "type": c.ORDER_TYPE_BUY, "deviation": 20, "magic": 42,
                            "price": remote.symbol_info_tick("EURUSD").ask})
print(result.order, remote.sim_now_msc(), flush=True)
while True:  # busy with calls when it is killed
    remote.positions_get()
    remote.symbol_info_tick("EURUSD")
"""


def test_a_killed_client_leaves_its_position_and_clock_to_the_next(server, spawn):
    child = spawn("-c", CHILD_CLIENT, format_address(server.address), str(START + 20 * MINUTE),
                  str(server.secret_file))
    ticket, clock = map(int, read_line(child).split())

    child.kill()  # SIGKILL on POSIX: no cleanup of any kind
    child.wait(timeout=CHILD_TIMEOUT_S)

    with connect(server) as successor:
        assert successor.initialize()
        positions = successor.positions_get()
        deals = successor.history_deals_get(position=ticket)
        assert [(p.ticket, p.volume, p.magic) for p in positions] == [(ticket, 0.3, 42)]
        assert [d.entry for d in deals] == [c.DEAL_ENTRY_IN]
        assert clock == START + 20 * MINUTE == successor.sim_now_msc()
        assert successor.sim_advance_to(clock + MINUTE) > 0
        assert successor.sim_now_msc() == clock + MINUTE


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and Unix sockets")
def test_the_command_line_server_serves_the_synthetic_market(spawn):
    options = ["--seed", "3", "--symbols", "EURUSD,USDJPY", "--warmup-days", "1",
               "--select", "EURUSD,USDJPY"]
    child = spawn("-m", "mt5bridge.remote", "--serve", *options)
    address, secret_file = read_line(child), read_line(child)
    market = MarketConfig(seed=3, symbols=("EURUSD", "USDJPY"), warmup_days=1)
    local = synthetic_terminal(market, SimConfig(market_seed=3, selected=("EURUSD", "USDJPY")))
    remote = RemoteTerminal(address, secret_file=secret_file)

    for term in (remote, local):
        assert term.initialize()
        term.sim_advance_to(market.start_msc + 2 * HOUR)
    assert_same(remote.symbol_info_tick("USDJPY"), local.symbol_info_tick("USDJPY"))
    assert_same(remote.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 200),
                local.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 200))
    assert_same(remote.sim_last_ticks(), local.sim_last_ticks())

    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=CHILD_TIMEOUT_S) == 0
    assert not os.path.exists(address)
    assert not os.path.exists(secret_file)
    assert remote.account_info() is None
    assert remote.last_error()[0] in IPC_ERROR_CODES


def test_command_line_errors_are_one_line_and_exit_2(capsys):
    assert remote_main(["--serve", "--symbols", "EURUSD,NOPE", "--warmup-days", "1"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: synthetic market: symbols: unknown symbol(s) NOPE;")

    assert cli.main(["terminal-server", "--symbols", "NOPE"]) == 2
    assert capsys.readouterr().err.count("\n") == 1

    for argv in (["--symbols", "EURUSD"], ["--serve", "--start", "monday"]):
        with pytest.raises(SystemExit) as exit_info:
            remote_main(argv)
        assert exit_info.value.code == 2


def test_the_served_account_epoch_reaches_every_client(server):
    # Arrange: the epoch names this life of the served account (compare=False in SimConfig,
    # so an equality of configs would not notice it missing).
    served = server.terminal.sim_config.account_epoch

    # Act
    with connect(server) as first, connect(server) as second:
        epochs = (first.sim_config.account_epoch, second.sim_config.account_epoch)

    # Assert: restarted engines reconcile against the same account life, not a new one.
    assert served != ""
    assert epochs == (served, served)
