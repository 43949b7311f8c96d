"""``RemoteTerminal``: the ``MetaTrader5`` module's surface, answered by a terminal server.

It can be handed to ``LiveTerminal(module=...)`` exactly like the real package: the same
functions with the same arguments, the module's constants, a cached ``last_error()``, and
on a lost link the module's own failure values and IPC codes instead of exceptions.  The
``sim_*`` control calls, which are no MT5 surface, raise ``RemoteLinkError`` instead.  See
``mt5bridge.remote`` for the whole design.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge.remote.address import (
    Address,
    check_local_path,
    format_address,
    is_loopback,
    parse_address,
)
from mt5bridge.remote.codec import WireError
from mt5bridge.remote.link import (
    DEFAULT_MAX_REPLY_BYTES,
    FrameTooLarge,
    HandshakeRefused,
    client_handshake,
    client_tls_context,
    recv_frame,
    send_frame,
)
from mt5bridge.remote.secret import check_secret, read_secret_file
from mt5bridge.remote.wire import (
    CALL,
    GET,
    HELLO,
    MT5_FUNCTIONS,
    NO_IPC,
    OK,
    PROTOCOL_VERSION,
    RAISE,
    SUCCESS,
    batch_request,
    read_reply,
    rebuild_exception,
    request,
)

if TYPE_CHECKING:
    from mt5bridge.sim.config import SimConfig

#: How long a client waits for a reply: the module's own ``initialize`` timeout.
DEFAULT_TIMEOUT_S = 60.0
#: How long connecting and the handshake may take (the server drops a slow one anyway).
CONNECT_TIMEOUT_S = 10.0


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

    The server's secret comes from ``secret_file`` (the file the server wrote, read again
    each time the link opens, so a restarted server is found) or, in-process, ``secret``.
    A server that is not on loopback is reached only over TLS: ``tls_ca`` is the CA file
    its certificate must chain to (or pass an ``ssl.SSLContext`` as ``tls``).

    Creating one never contacts the server: the link opens on ``initialize()`` (or on the
    first ``sim_*`` call), so an engine can be built while the terminal is still starting,
    as with the real package.  A client that could never connect safely (no secret, a
    remote address without TLS) is refused at once with ``UserError``.  Thread-safe:
    calls from several threads are sent one at a time.
    """

    __version__ = ""
    __author__ = ""

    def __init__(self, address: Address, *, secret_file: str | os.PathLike[str] | None = None,
                 secret: bytes | None = None, tls_ca: str | os.PathLike[str] | None = None,
                 tls: ssl.SSLContext | None = None,
                 timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES) -> None:
        self._address = parse_address(address)
        check_local_path(self._address)
        if secret_file is None and secret is None:
            raise UserError("a terminal client needs the server's secret: give its secret file "
                            "(--secret-file, printed by the server)")
        if secret_file is not None and secret is not None:
            raise UserError("give the terminal server's secret file or its secret, not both")
        self._secret_file = Path(secret_file) if secret_file is not None else None
        self._secret = check_secret(secret) if secret is not None else None
        if tls is None and tls_ca is not None:
            try:
                tls = client_tls_context(os.fspath(tls_ca))
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise UserError(f"--tls-ca {tls_ca}: cannot load "
                                f"({getattr(exc, 'strerror', None) or exc})") from None
        if tls is not None and not isinstance(self._address, tuple):
            raise UserError(f"{format_address(self._address)}: TLS is for a TCP address "
                            "(HOST:PORT), not a Unix socket")
        if tls is None and not is_loopback(self._address):
            raise UserError(f"{format_address(self._address)} is not on this machine: a remote "
                            "terminal server is reached over TLS only (give --tls-ca)")
        self._tls = tls
        #: Seconds to wait for each reply (None: forever); may be changed at any time.
        self.timeout_s = timeout_s
        self.max_reply_bytes = max_reply_bytes
        self._sock: socket.socket | None = None
        self._applied_timeout: float | None = None
        self._lock = threading.Lock()
        self._last_error: tuple[int, str] = SUCCESS

    def __repr__(self) -> str:
        state = "connected" if self._sock is not None else "not connected"
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
        return self._sock is not None

    def close(self) -> None:
        """Close the link; the server keeps the terminal and its state."""
        with self._lock:
            self._drop()

    def last_error(self) -> tuple[int, str]:
        """The outcome of this client's last MT5 call (cached: no round trip)."""
        return self._last_error

    # -- the link ----------------------------------------------------------------------------

    def _drop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _connect(self, where: str) -> socket.socket:
        address = self._address
        try:
            if isinstance(address, tuple):
                sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            elif not hasattr(socket, "AF_UNIX"):
                raise OSError("no Unix sockets on this system; use HOST:PORT")
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(CONNECT_TIMEOUT_S)
                try:
                    sock.connect(address)
                except OSError:
                    sock.close()
                    raise
        except OSError as exc:
            raise RemoteLinkError(f"no terminal server at {where} ({exc or type(exc).__name__})"
                                  ) from exc
        if self._tls is None:
            return sock
        try:
            return self._tls.wrap_socket(sock, server_hostname=address[0])
        except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
            sock.close()
            raise RemoteLinkError(f"the terminal server at {where} failed the TLS handshake "
                                  f"({exc})") from exc

    def _secret_now(self) -> bytes:
        if self._secret is not None:
            return self._secret
        assert self._secret_file is not None
        try:
            return read_secret_file(self._secret_file)
        except UserError as exc:
            raise RemoteLinkError(str(exc)) from None

    def _open(self) -> None:
        where = format_address(self._address)
        sock = self._connect(where)
        try:
            client_handshake(sock, self._secret_now(), time.monotonic() + CONNECT_TIMEOUT_S)
        except HandshakeRefused as exc:
            sock.close()
            raise RemoteLinkError(f"the terminal server at {where}: {exc}") from exc
        except RemoteLinkError:  # the secret file
            sock.close()
            raise
        except TimeoutError:
            sock.close()
            raise RemoteLinkError(f"the terminal server at {where} did not answer the "
                                  f"handshake within {CONNECT_TIMEOUT_S:g} s (is it stopped, "
                                  f"or frozen?)") from None
        except (OSError, EOFError) as exc:
            sock.close()
            raise RemoteLinkError(f"the terminal server at {where} closed the connection in "
                                  f"the handshake ({exc or type(exc).__name__})") from exc
        self._sock = sock
        self._applied_timeout = CONNECT_TIMEOUT_S
        status, info, _ = self._exchange(request(HELLO, "", (PROTOCOL_VERSION,)))
        if status != OK or not isinstance(info, dict) or info.get("protocol") != PROTOCOL_VERSION:
            self._drop()
            raise RemoteLinkError(f"the terminal server at {where} speaks another protocol "
                                  f"version ({info!r})")
        self.__version__ = str(info.get("__version__", ""))
        self.__author__ = str(info.get("__author__", ""))

    def _exchange(self, data: bytes) -> tuple[str, Any, tuple[int, str] | None]:
        """Send one request and read its reply; drop the link on any transport failure."""
        sock = self._sock
        if sock is None:
            raise RemoteLinkError("not connected to the terminal server")
        where = format_address(self._address)
        if self._applied_timeout != self.timeout_s:
            sock.settimeout(self.timeout_s)
            self._applied_timeout = self.timeout_s
        try:
            send_frame(sock, data)
        except OSError as exc:
            self._drop()
            raise RemoteLinkError(f"terminal server at {where}: send failed ({exc})",
                                  c.RES_E_INTERNAL_FAIL_SEND, "IPC send failed") from exc
        try:
            reply = recv_frame(sock, self.max_reply_bytes)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError) as exc:
            self._drop()  # a late reply would answer the next request
            raise RemoteLinkError(f"terminal server at {where}: no reply within "
                                  f"{self.timeout_s:g} s", c.RES_E_INTERNAL_FAIL_TIMEOUT,
                                  "IPC timeout") from exc
        except (FrameTooLarge, OSError) as exc:
            self._drop()
            raise RemoteLinkError(f"terminal server at {where}: the link broke "
                                  f"({exc or type(exc).__name__})",
                                  c.RES_E_INTERNAL_FAIL_RECEIVE, "IPC recv failed") from exc
        try:
            return read_reply(reply)
        except WireError as exc:
            self._drop()
            raise RemoteLinkError(f"terminal server at {where}: unreadable reply ({exc})",
                                  c.RES_E_INTERNAL_FAIL, "IPC call failed") from exc

    @staticmethod
    def _result(status: str, value: Any) -> Any:
        if status == RAISE:
            raise rebuild_exception(value)
        return value

    def _call_mt5(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        failure = MT5_FUNCTIONS[name]
        data = request(CALL, name, args, kwargs)  # TypeError for a value the wire refuses
        with self._lock:
            if self._sock is None:
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
                status, value, error = self._exchange(data)
            except RemoteLinkError as exc:
                self._last_error = (exc.code, exc.mt5_message)
                return failure
            if error is not None:
                self._last_error = (int(error[0]), str(error[1]))
        return self._result(status, value)

    def _call_sim(self, op: str, name: str, args: tuple = (),
                  kwargs: dict[str, Any] | None = None) -> Any:
        data = request(op, name, args, kwargs)
        with self._lock:
            if self._sock is None:
                self._open()
            status, value, _ = self._exchange(data)
        return self._result(status, value)

    def batch(self, calls: Sequence[tuple[str, tuple, dict[str, Any]]]) -> list[Any]:
        """Run several calls in one round trip, in order, under one terminal lock.

        ``calls`` are ``(name, args, kwargs)``; the result is the list of their results.
        The first call that raises stops the batch and its exception is raised (the calls
        before it have run).  Meant for replay loops (``sim_advance_to`` then
        ``sim_last_ticks``); MT5 calls in a batch update ``last_error()`` like single calls.
        Link failures raise ``RemoteLinkError``.
        """
        data = batch_request(calls)
        with self._lock:
            if self._sock is None:
                self._open()
            status, value, error = self._exchange(data)
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
