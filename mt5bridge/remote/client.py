"""``RemoteTerminal``: the ``MetaTrader5`` module's surface, answered by a terminal server.

It can be handed to ``LiveTerminal(module=...)`` exactly like the real package: the same
functions with the same arguments, the module's constants, a cached ``last_error()``, and
on a lost link the module's own failure values and IPC codes instead of exceptions.  The
``sim_*`` control calls, which are no MT5 surface, raise ``RemoteLinkError`` instead.  See
``mt5bridge.remote`` for the whole design.
"""

from __future__ import annotations

import contextlib
import math
import pickle
import select
import threading
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from typing import TYPE_CHECKING, Any

from mt5bridge import constants as c
from mt5bridge.remote.address import (
    AUTHKEY_ENV,
    Address,
    default_authkey,
    format_address,
    parse_address,
)
from mt5bridge.remote.wire import (
    BATCH,
    CALL,
    GET,
    HELLO,
    MT5_FUNCTIONS,
    NO_IPC,
    OK,
    PICKLE_PROTOCOL,
    PROTOCOL_VERSION,
    RAISE,
    SUCCESS,
    decode_value,
    encode_value,
    rebuild_exception,
)

if TYPE_CHECKING:
    from mt5bridge.sim.config import SimConfig

#: How long a client waits for a reply: the module's own ``initialize`` timeout.
DEFAULT_TIMEOUT_S = 60.0


class RemoteLinkError(ConnectionError):
    """The terminal server cannot be reached, or stopped answering.

    ``code`` and ``mt5_message`` are what an MT5 function reports through ``last_error()``
    for the same failure.
    """

    def __init__(self, message: str, code: int = c.RES_E_INTERNAL_FAIL_CONNECT,
                 mt5_message: str = "No IPC connection") -> None:
        super().__init__(message)
        self.code = code
        self.mt5_message = mt5_message


class RemoteTerminal:
    """The ``MetaTrader5`` module's surface, served by a ``TerminalServer`` (``mt5bridge.remote``).

    Creating one never fails: the link opens on ``initialize()`` (or on the first ``sim_*``
    call), so an engine can be built while the terminal is still starting, as with the
    real package.  Thread-safe: calls from several threads are sent one at a time.
    """

    __version__ = ""
    __author__ = ""

    def __init__(self, address: Address, *, authkey: bytes | None = None,
                 timeout_s: float | None = DEFAULT_TIMEOUT_S) -> None:
        self._address = parse_address(address)
        self._authkey = authkey if authkey is not None else default_authkey()
        #: Seconds to wait for each reply (None: forever); may be changed at any time.
        self.timeout_s = timeout_s
        self._conn: Connection | None = None
        self._poller: Any = None  # select.poll on the link, where it exists
        self._lock = threading.Lock()
        self._last_error: tuple[int, str] = SUCCESS

    def __repr__(self) -> str:
        state = "connected" if self._conn is not None else "not connected"
        return f"RemoteTerminal({format_address(self._address)}, {state})"

    def __enter__(self) -> RemoteTerminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def address(self) -> Address:
        return self._address

    @property
    def connected(self) -> bool:
        """Whether the link to the server is open (not whether ``initialize()`` succeeded)."""
        return self._conn is not None

    def close(self) -> None:
        """Close the link; the server keeps the terminal and its state."""
        with self._lock:
            self._drop()

    def last_error(self) -> tuple[int, str]:
        """The outcome of this client's last MT5 call (cached: no round trip)."""
        return self._last_error

    # -- the link ----------------------------------------------------------------------------

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
            self._poller = None

    def _answered(self, conn: Connection) -> bool:
        """Whether a reply arrives within ``timeout_s`` (a poll object is cheaper than
        ``Connection.poll``, which builds a selector on every call)."""
        if self.timeout_s is None:
            return True
        if self._poller is None:
            return conn.poll(self.timeout_s)
        return bool(self._poller.poll(math.ceil(self.timeout_s * 1000)))

    def _open(self) -> None:
        where = format_address(self._address)
        try:
            conn = Client(self._address, authkey=self._authkey)
        except AuthenticationError as exc:
            raise RemoteLinkError(f"the terminal server at {where} refused the authentication "
                                  f"key (set ${AUTHKEY_ENV} alike on both sides)") from exc
        except (OSError, EOFError) as exc:
            raise RemoteLinkError(f"no terminal server at {where} ({exc or type(exc).__name__})"
                                  ) from exc
        self._conn = conn
        if hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(conn.fileno(), select.POLLIN)
        status, info, _ = self._exchange((HELLO, "", (PROTOCOL_VERSION,), {}))
        if status != OK or not isinstance(info, dict) or info.get("protocol") != PROTOCOL_VERSION:
            self._drop()
            raise RemoteLinkError(f"the terminal server at {where} speaks another protocol "
                                  f"version ({info!r})")
        self.__version__ = info["__version__"]
        self.__author__ = info["__author__"]

    def _exchange(self, request: tuple) -> tuple[str, Any, tuple[int, str] | None]:
        """Send one request and read its reply; drop the link on any transport failure."""
        conn = self._conn
        if conn is None:
            raise RemoteLinkError("not connected to the terminal server")
        where = format_address(self._address)
        data = pickle.dumps(request, protocol=PICKLE_PROTOCOL)
        try:
            conn.send_bytes(data)
        except OSError as exc:
            self._drop()
            raise RemoteLinkError(f"terminal server at {where}: send failed ({exc})",
                                  c.RES_E_INTERNAL_FAIL_SEND, "IPC send failed") from exc
        try:
            answered = self._answered(conn)
            reply = conn.recv_bytes() if answered else b""
        except (EOFError, OSError) as exc:
            self._drop()
            raise RemoteLinkError(f"terminal server at {where}: the link broke "
                                  f"({exc or type(exc).__name__})",
                                  c.RES_E_INTERNAL_FAIL_RECEIVE, "IPC recv failed") from exc
        if not answered:
            self._drop()  # a late reply would answer the next request
            raise RemoteLinkError(f"terminal server at {where}: no reply within "
                                  f"{self.timeout_s:g} s", c.RES_E_INTERNAL_FAIL_TIMEOUT,
                                  "IPC timeout")
        try:
            return pickle.loads(reply)
        except Exception as exc:
            raise RemoteLinkError(f"terminal server at {where}: unreadable reply ({exc})",
                                  c.RES_E_INTERNAL_FAIL, "IPC call failed") from exc

    @staticmethod
    def _result(status: str, value: Any) -> Any:
        if status == RAISE:
            raise rebuild_exception(value)
        return decode_value(value)

    def _call_mt5(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        failure = MT5_FUNCTIONS[name]
        with self._lock:
            if self._conn is None:
                if name == "shutdown":
                    self._last_error = SUCCESS
                    return None
                if name != "initialize":
                    self._last_error = NO_IPC
                    return failure
                try:
                    self._open()
                except RemoteLinkError as exc:
                    self._last_error = (c.RES_E_INTERNAL_FAIL_INIT,
                                        f"IPC initialize failed, {exc}")
                    return failure
            try:
                status, value, error = self._exchange(
                    (CALL, name, encode_value(args), encode_value(kwargs)))
            except RemoteLinkError as exc:
                self._last_error = (exc.code, exc.mt5_message)
                return failure
            if error is not None:
                self._last_error = (int(error[0]), str(error[1]))
        return self._result(status, value)

    def _call_sim(self, op: str, name: str, args: tuple = (),
                  kwargs: dict[str, Any] | None = None) -> Any:
        with self._lock:
            if self._conn is None:
                self._open()
            status, value, _ = self._exchange((op, name, encode_value(args), kwargs or {}))
        return self._result(status, value)

    def batch(self, calls: Sequence[tuple[str, tuple, dict[str, Any]]]) -> list[Any]:
        """Run several calls in one round trip, in order, under one terminal lock.

        ``calls`` are ``(name, args, kwargs)``; the result is the list of their results.
        The first call that raises stops the batch and its exception is raised (the calls
        before it have run).  Meant for replay loops (``sim_advance_to`` then
        ``sim_last_ticks``); MT5 calls in a batch update ``last_error()`` like single calls.
        Link failures raise ``RemoteLinkError``.
        """
        request = [(name, encode_value(tuple(args)), dict(kwargs)) for name, args, kwargs in calls]
        with self._lock:
            if self._conn is None:
                self._open()
            status, value, error = self._exchange((BATCH, "", request, {}))
            if error is not None:
                self._last_error = (int(error[0]), str(error[1]))
        return self._result(status, value)

    # -- simulator control (the SimTerminal's sim_* methods) ------------------------------------

    def sim_advance_to(self, t_msc: int) -> int:
        """Consume the feed up to UTC ``t_msc``; the number of ticks processed."""
        return self._call_sim(CALL, "sim_advance_to", (t_msc,))

    def sim_now_msc(self) -> int:
        """The terminal's virtual clock (UTC epoch milliseconds)."""
        return self._call_sim(CALL, "sim_now_msc")

    def sim_last_ticks(self) -> Any:
        """The ticks (``TICK_DTYPE``) consumed by the last ``sim_advance_to`` of any client."""
        return self._call_sim(CALL, "sim_last_ticks")

    def sim_symbols(self) -> tuple[str, ...]:
        return self._call_sim(CALL, "sim_symbols")

    def sim_set_algo_trading(self, enabled: bool) -> None:
        return self._call_sim(CALL, "sim_set_algo_trading", (enabled,))

    def sim_disconnect(self, failed_reconnects: int = 0) -> None:
        """Drop the terminal's simulated IPC link (every client sees -10004)."""
        return self._call_sim(CALL, "sim_disconnect", (failed_reconnects,))

    def sim_reconnect(self) -> None:
        return self._call_sim(CALL, "sim_reconnect")

    def sim_set_faults(self, faults: Any) -> None:
        return self._call_sim(CALL, "sim_set_faults", (faults,))

    def sim_faults_fired(self) -> dict[str, int]:
        return self._call_sim(CALL, "sim_faults_fired")

    def sim_stats(self) -> dict[str, int]:
        return self._call_sim(CALL, "sim_stats")

    @property
    def sim_config(self) -> SimConfig:
        """A copy of the served terminal's configuration."""
        return self._call_sim(GET, "sim_config")

    @property
    def sim_feed(self) -> RemoteFeedView:
        """Read-only view of the served terminal's feed (the feed itself stays in the server)."""
        return RemoteFeedView(self)


def _mt5_function(name: str) -> Callable[..., Any]:
    def function(self: RemoteTerminal, *args: Any, **kwargs: Any) -> Any:
        return self._call_mt5(name, args, kwargs)

    function.__name__ = name
    function.__qualname__ = f"RemoteTerminal.{name}"
    function.__doc__ = (f"``MetaTrader5.{name}``, run by the terminal server with these very "
                        "arguments.")
    return function


for _name in MT5_FUNCTIONS:
    if _name != "last_error":
        setattr(RemoteTerminal, _name, _mt5_function(_name))
for _name, _value in c.MT5_CONSTANTS.items():
    setattr(RemoteTerminal, _name, _value)
del _name, _value


class RemoteFeedView:
    """What a replay loop may ask of the served terminal's feed: bounds and the next tick.

    ``ticks_until`` is deliberately absent: only the terminal consumes its feed.
    """

    def __init__(self, remote: RemoteTerminal) -> None:
        self._remote = remote

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._remote._call_sim(GET, "sim_feed.symbols"))

    @property
    def start_msc(self) -> int:
        return self._remote._call_sim(GET, "sim_feed.start_msc")

    @property
    def end_msc(self) -> int | None:
        return self._remote._call_sim(GET, "sim_feed.end_msc")

    def next_time(self) -> int | None:
        return self._remote._call_sim(CALL, "sim_feed.next_time")
