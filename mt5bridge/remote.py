"""A terminal in another process: ``TerminalServer`` serves it, ``RemoteTerminal`` talks to it.

A real MetaTrader 5 terminal is a process of its own: kill the Python program that trades
through it and the terminal still holds the positions, the deal history and the clock, and
the next program that attaches sees all of it.  Crash-recovery tests need the simulator to
behave the same way, so ``TerminalServer`` holds a ``SimTerminal`` (or anything with the
``MetaTrader5`` module's surface) and serves it over ``multiprocessing.connection``, and
``RemoteTerminal`` is a client with the module's surface that can be handed to
``LiveTerminal(module=...)`` exactly like the real package.

How the link behaves, and why:

- **Transport**: a Unix socket in a private temporary folder (mode 0700) on POSIX; a
  localhost TCP port where Unix sockets are unavailable (Windows) or the socket path would
  be too long.  Connections authenticate with an HMAC challenge on ``authkey`` (default:
  ``$FXCLUSTER_SIM_AUTHKEY``, else a fixed key: the simulator holds no real money, the key
  only keeps unrelated processes from driving it).  Messages are pickles, so only ever
  serve to processes you trust with the key.
- **One call at a time**: every client gets its own server thread, and the terminal is
  called under one lock, together with the ``last_error()`` that follows, so the terminal
  sees a single caller as it does in-process.  Replies are pickled and sent outside the
  lock, so a slow or frozen client never holds up the others.
- **Same calls, same errors**: the server calls the real method with the caller's
  positional and keyword arguments, so ``positions_get("EURUSD")`` or
  ``copy_rates_from(symbol=...)`` raise the very ``TypeError`` they raise in-process; any
  exception from the terminal is sent back and re-raised as the same type with the same
  message (the server-side traceback is kept in its ``server_traceback`` attribute).  No
  exception in the terminal ever ends the server or the client's session.
- **Results**: the terminal's structs do not pickle (the real ones do not either), so the
  server sends them as ``EncodedStruct(name, values)``, nested ones included (the
  ``request`` inside an ``OrderSendResult``), and the client rebuilds the same
  ``mt5bridge.structs`` types.  numpy arrays, tuples, ``None`` and plain values travel as
  they are.
- **last_error()**: each MT5 reply carries the terminal's ``last_error()`` taken under the
  same lock as the call; the client caches it, so ``last_error()`` costs no round trip and
  always describes *this* client's last call, as the real module's per-process state does.
  ``sim_*`` calls leave it alone, as in-process.
- **Sessions, as with a real terminal**: each connection is a separate "process" attached
  to the terminal.  ``initialize()`` is passed to the terminal (credentials, simulated
  reconnect failures) and attaches the connection when it succeeds; until then, and after
  ``shutdown()``, the connection's MT5 calls fail with ``(-10004, 'No IPC connection')``
  without reaching the terminal.  ``shutdown()`` detaches only the caller: the terminal
  stays up for every other client, and a killed client simply vanishes.
- **Lost server: MT5-like, not exceptions.**  When the server cannot be reached, MT5
  functions return their failure value (``None``, or ``False`` for ``initialize``,
  ``login``, ``symbol_select`` and ``market_book_add/release``) and set ``last_error()`` to
  the module's IPC codes: -10001 send failed, -10002 receive failed, -10005 no answer within
  ``timeout_s``, -10004 no connection, -10003 ``initialize()`` could not reach the server.
  That is exactly what ``LiveTerminal`` already handles (reconnect with backoff by calling
  ``shutdown()`` + ``initialize()``, which re-opens the link).  Only ``initialize()``
  re-opens a broken link, as with the real module.  The ``sim_*`` control methods are no
  MT5 surface and nobody handles IPC codes for them, so they raise ``RemoteLinkError`` (a
  ``ConnectionError``) instead, and open the link on demand.

Run a simulated terminal on the synthetic market in its own process with
``python -m mt5bridge.remote --serve [--seed N --symbols A,B ...]`` (or
``main.py terminal-server``): the first line on stdout is the address to connect to.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import math
import os
import pickle
import re
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from multiprocessing import AuthenticationError
from multiprocessing.connection import (
    Client,
    Connection,
    Listener,
    answer_challenge,
    deliver_challenge,
)
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge import structs

if TYPE_CHECKING:
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market_config import MarketConfig
    from mt5bridge.sim.terminal import SimTerminal

__all__ = [
    "AUTHKEY_ENV",
    "DEFAULT_AUTHKEY",
    "DEFAULT_TIMEOUT_S",
    "MT5_FUNCTIONS",
    "Address",
    "EncodedStruct",
    "RemoteFeedView",
    "RemoteLinkError",
    "RemoteTerminal",
    "RemoteTerminalError",
    "TerminalServer",
    "decode_value",
    "default_authkey",
    "encode_value",
    "format_address",
    "main",
    "parse_address",
    "register",
    "synthetic_terminal",
]

log = logging.getLogger(__name__)

#: A Unix socket path (or Windows pipe name), or a ``(host, port)`` TCP address.
Address = str | tuple[str, int]

#: Environment variable whose value, when set, is the default authentication key.
AUTHKEY_ENV = "FXCLUSTER_SIM_AUTHKEY"
DEFAULT_AUTHKEY = b"fxcluster-simulated-terminal"
#: How long a client waits for a reply: the module's own ``initialize`` timeout.
DEFAULT_TIMEOUT_S = 60.0
PROTOCOL_VERSION = 1

#: The module's 32 functions, each with what it returns when the terminal is unreachable.
MT5_FUNCTIONS: dict[str, Any] = {
    "initialize": False,
    "shutdown": None,
    "login": False,
    "version": None,
    "terminal_info": None,
    "account_info": None,
    "copy_ticks_from": None,
    "copy_ticks_range": None,
    "copy_rates_from": None,
    "copy_rates_from_pos": None,
    "copy_rates_range": None,
    "positions_total": None,
    "positions_get": None,
    "orders_total": None,
    "orders_get": None,
    "history_orders_total": None,
    "history_orders_get": None,
    "history_deals_total": None,
    "history_deals_get": None,
    "order_check": None,
    "order_send": None,
    "order_calc_margin": None,
    "order_calc_profit": None,
    "symbol_info": None,
    "symbol_info_tick": None,
    "symbol_select": False,
    "symbols_total": None,
    "symbols_get": None,
    "market_book_add": False,
    "market_book_release": False,
    "market_book_get": None,
    "last_error": None,
}

#: Functions a connection may call before ``initialize()`` attached it.
_UNGATED = frozenset({"initialize", "shutdown", "last_error"})
#: Module attributes that are not functions but are read like the module's.
_MODULE_ATTRIBUTES = frozenset({"__version__", "__author__"})

_OK, _RAISE = "ok", "raise"
_CALL, _GET, _BATCH, _HELLO = "call", "get", "batch", "hello"
_SUCCESS = (c.RES_S_OK, "Success")
_NO_IPC = (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
_BACKLOG = 16
_PICKLE = pickle.HIGHEST_PROTOCOL
_STRUCT_TYPES: dict[str, type[structs.StructSequence]] = {
    name: getattr(structs, name) for name in structs.STRUCT_FIELDS
}
#: The structs with a struct inside (``request``); the others hold plain values only.
_NESTING_STRUCTS = frozenset({"OrderSendResult", "OrderCheckResult"})


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


class RemoteTerminalError(Exception):
    """The terminal raised an exception whose type does not exist in the client process."""


# -- addresses ---------------------------------------------------------------------------------

_TCP_TEXT = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


def parse_address(text: Address) -> Address:
    """``host:port`` is TCP; anything else is a Unix socket path (or a Windows pipe name)."""
    if isinstance(text, tuple):
        host, port = text
        return str(host), int(port)
    match = _TCP_TEXT.match(text)
    if match is None:
        return text
    return match["host"].strip("[]"), int(match["port"])


def format_address(address: Address) -> str:
    """The address as one line of text that ``parse_address`` reads back."""
    if isinstance(address, tuple):
        host, port = address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return address


def default_authkey() -> bytes:
    """``$FXCLUSTER_SIM_AUTHKEY`` when set, else the built-in key (see the module docstring)."""
    value = os.environ.get(AUTHKEY_ENV, "")
    return value.encode("utf-8") if value else DEFAULT_AUTHKEY


def _unix_sockets_usable() -> bool:
    return hasattr(socket, "AF_UNIX") and sys.platform != "win32"


# -- values on the wire ------------------------------------------------------------------------


class EncodedStruct(NamedTuple):
    """A terminal struct in picklable form: its type name and its values in field order."""

    name: str
    values: tuple


def encode_value(value: Any) -> Any:
    """Replace every terminal struct in ``value`` (tuples, lists, dicts) by an ``EncodedStruct``.

    Works for the real package's structs too: they are recognised by type name.
    """
    if isinstance(value, tuple):
        kind = type(value)
        if kind is tuple:
            return tuple(encode_value(v) for v in value) if value else value
        name = kind.__name__
        if name in _STRUCT_TYPES and hasattr(value, "_asdict"):
            if name in _NESTING_STRUCTS:
                return EncodedStruct(name, tuple(encode_value(v) for v in value))
            return EncodedStruct(name, tuple(value))
        return value
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    return value


def decode_value(value: Any) -> Any:
    """The inverse of ``encode_value``: ``EncodedStruct`` back to ``mt5bridge.structs`` types."""
    if isinstance(value, EncodedStruct):
        name = value.name
        if name in _NESTING_STRUCTS:
            return _STRUCT_TYPES[name](decode_value(v) for v in value.values)
        return _STRUCT_TYPES[name](value.values)
    if type(value) is tuple:
        return tuple(decode_value(v) for v in value) if value else value
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: decode_value(v) for k, v in value.items()}
    return value


class _RaisedError(NamedTuple):
    """An exception raised in the server, in a form that always pickles."""

    module: str
    qualname: str
    args: tuple
    message: str
    server_traceback: str
    pickled: bytes | None
    state: dict[str, Any]


def _describe_exception(exc: BaseException) -> _RaisedError:
    pickled: bytes | None = None
    with contextlib.suppress(Exception):
        blob = pickle.dumps(exc, protocol=_PICKLE)
        back = pickle.loads(blob)
        if type(back) is type(exc) and str(back) == str(exc):
            pickled = blob
    args: tuple = exc.args
    try:
        pickle.dumps(args, protocol=_PICKLE)
    except Exception:
        args = (str(exc),)
    state = {k: v for k, v in getattr(exc, "__dict__", {}).items() if k != "__notes__"}
    try:
        pickle.dumps(state, protocol=_PICKLE)
    except Exception:
        state = {}
    kind = type(exc)
    return _RaisedError(kind.__module__, kind.__qualname__, args, str(exc),
                        "".join(traceback.format_exception(exc)), pickled, state)


def _rebuild_exception(raised: _RaisedError) -> BaseException:
    """The same exception type with the same message, or ``RemoteTerminalError``."""
    exc: BaseException | None = None
    if raised.pickled is not None:
        with contextlib.suppress(Exception):
            exc = pickle.loads(raised.pickled)
    if exc is None:
        with contextlib.suppress(Exception):
            kind: Any = importlib.import_module(raised.module)
            for part in raised.qualname.split("."):
                kind = getattr(kind, part)
            if isinstance(kind, type) and issubclass(kind, Exception):
                # Bypass a custom __init__ (ConfigError takes three arguments, not the message).
                candidate = kind.__new__(kind, *raised.args)
                Exception.__init__(candidate, *raised.args)
                candidate.__dict__.update(raised.state)
                if str(candidate) == raised.message:
                    exc = candidate
    if exc is None:
        exc = RemoteTerminalError(f"{raised.qualname}: {raised.message}")
    # An attribute, not a note: pytest.raises(match=...) reads notes, and the message must
    # match exactly as it does in-process.
    with contextlib.suppress(AttributeError):
        exc.server_traceback = raised.server_traceback  # type: ignore[attr-defined]
    return exc


# -- the server --------------------------------------------------------------------------------


class _Session:
    """One client connection: whether ``initialize()`` attached it to the terminal."""

    __slots__ = ("attached",)

    def __init__(self) -> None:
        self.attached = False


class TerminalServer:
    """Serves one terminal object to other processes (see the module docstring).

    ``start()`` binds the address and serves from background threads; ``stop()`` (or
    leaving the ``with`` block) closes every connection and removes the socket.  ``address``
    is known once started.
    """

    def __init__(self, terminal: Any, address: Address | None = None, *,
                 authkey: bytes | None = None) -> None:
        self._terminal = terminal
        self._requested = parse_address(address) if address is not None else None
        self._authkey = authkey if authkey is not None else default_authkey()
        if not isinstance(self._authkey, bytes) or not self._authkey:
            raise ValueError("authkey must be non-empty bytes")
        self._terminal_lock = threading.Lock()
        self._clients_lock = threading.Lock()
        self._clients: dict[int, tuple[Connection, threading.Thread]] = {}
        self._stopping = threading.Event()
        self._listener: Listener | None = None
        self._accept_thread: threading.Thread | None = None
        self._tempdir: str | None = None
        #: Connections accepted so far, and terminal calls answered (for reports and tests).
        self.connections_accepted = 0
        self.calls_served = 0

    def __repr__(self) -> str:
        where = format_address(self.address) if self._listener is not None else "not started"
        return f"TerminalServer({where}, {self._terminal!r})"

    def __enter__(self) -> TerminalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> Address:
        if self._listener is None:
            raise RuntimeError("the terminal server is not started")
        return parse_address(self._listener.address)

    @property
    def terminal(self) -> Any:
        return self._terminal

    @property
    def active_clients(self) -> int:
        with self._clients_lock:
            return len(self._clients)

    def start(self) -> TerminalServer:
        if self._listener is not None:
            raise RuntimeError("the terminal server is already started")
        self._listener = self._listen()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="terminal-server-accept")
        self._accept_thread.start()
        log.info("terminal server listening at %s", format_address(self.address))
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the listener and every client connection; idempotent."""
        listener = self._listener
        if listener is None or self._stopping.is_set():
            return
        self._stopping.set()
        # accept() does not notice a closed listener on every platform: connect once to wake it.
        with contextlib.suppress(OSError, EOFError):
            Client(listener.address).close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout_s)
        with contextlib.suppress(OSError):
            listener.close()
        with self._clients_lock:
            clients = list(self._clients.values())
            for conn, _ in clients:
                _interrupt(conn)
        for _, thread in clients:
            thread.join(timeout_s)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
        log.info("terminal server stopped")

    def wait(self) -> None:
        """Block until ``stop()`` is called from another thread."""
        self._stopping.wait()

    # -- listening ---------------------------------------------------------------------------

    def _listen(self) -> Listener:
        requested = self._requested
        if requested is None:
            if _unix_sockets_usable():
                self._tempdir = tempfile.mkdtemp(prefix="fxcluster-terminal-")
                try:
                    return Listener(os.path.join(self._tempdir, "terminal.sock"), "AF_UNIX",
                                    backlog=_BACKLOG)
                except OSError as exc:  # e.g. a socket path beyond the 107-byte limit
                    log.info("no Unix socket (%s); serving on localhost TCP", exc)
                    shutil.rmtree(self._tempdir, ignore_errors=True)
                    self._tempdir = None
            return Listener(("127.0.0.1", 0), "AF_INET", backlog=_BACKLOG)
        if isinstance(requested, tuple):
            return Listener(requested, "AF_INET", backlog=_BACKLOG)
        if requested.startswith("\\\\"):
            return Listener(requested, "AF_PIPE", backlog=_BACKLOG)
        _remove_stale_socket(requested)
        return Listener(requested, "AF_UNIX", backlog=_BACKLOG)

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                conn = listener.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    break
                log.warning("terminal server: accept failed: %s", exc)
                self._stopping.wait(0.1)  # e.g. out of file descriptors: do not spin
                continue
            if self._stopping.is_set():
                conn.close()
                break
            self.connections_accepted += 1
            number = self.connections_accepted
            thread = threading.Thread(target=self._serve_client, args=(conn, number),
                                      daemon=True, name=f"terminal-client-{number}")
            with self._clients_lock:
                self._clients[number] = (conn, thread)
            thread.start()

    # -- one client ----------------------------------------------------------------------------

    def _serve_client(self, conn: Connection, number: int) -> None:
        try:
            # The handshake runs here, not in accept(): a client that connects and never
            # answers must not stop others from connecting.
            try:
                deliver_challenge(conn, self._authkey)
                answer_challenge(conn, self._authkey)
            except (AuthenticationError, EOFError, OSError) as exc:
                if not self._stopping.is_set():
                    log.warning("terminal client %d refused: %s", number, exc or type(exc).__name__)
                return
            session = _Session()
            while True:
                try:
                    data = conn.recv_bytes()
                except (EOFError, OSError):
                    break  # the client closed, exited or was killed
                reply = self._reply(session, data)
                try:
                    conn.send_bytes(reply)
                except OSError:
                    # Gone mid-call: the call was executed, as with a real terminal whose
                    # client dies after sending an order.
                    log.info("terminal client %d vanished before its reply", number)
                    break
        finally:
            with self._clients_lock:
                self._clients.pop(number, None)
                conn.close()

    def _reply(self, session: _Session, data: bytes) -> bytes:
        """The pickled answer to one request; never raises."""
        error: tuple[int, str] | None = None
        try:
            op, name, args, kwargs = pickle.loads(data)
            if op == _BATCH:
                status, value, error = self._run_batch(session, args)
            elif op == _HELLO:
                status, value = _OK, self._hello(args)
            else:
                status, value, error = self._run(session, op, name, args, kwargs)
        except Exception as exc:  # a malformed request: answer it, never die
            status, value = _RAISE, _describe_exception(exc)
        try:
            payload = encode_value(value) if status == _OK else value
            return pickle.dumps((status, payload, error), protocol=_PICKLE)
        except Exception as exc:  # e.g. a result that cannot be pickled
            return pickle.dumps((_RAISE, _describe_exception(exc), error), protocol=_PICKLE)

    def _hello(self, args: tuple) -> dict[str, Any]:
        terminal = self._terminal
        return {
            "protocol": PROTOCOL_VERSION,
            "client_protocol": args[0] if args else None,
            "terminal": repr(terminal),
            "__version__": str(getattr(terminal, "__version__", "")),
            "__author__": str(getattr(terminal, "__author__", "")),
        }

    def _run(self, session: _Session, op: str, name: str, args: tuple,
             kwargs: dict[str, Any]) -> tuple[str, Any, tuple[int, str] | None]:
        """One call (or attribute read) under the terminal lock, with its last_error."""
        args, kwargs = decode_value(args), decode_value(kwargs)
        is_mt5 = name in MT5_FUNCTIONS
        with self._terminal_lock:
            self.calls_served += 1
            if is_mt5 and name == "shutdown":
                session.attached = False  # detach this client only; the terminal stays up
                return _OK, None, _SUCCESS
            if is_mt5 and not session.attached and name not in _UNGATED:
                return _OK, MT5_FUNCTIONS[name], _NO_IPC
            try:
                target = self._resolve(name)
                value = target(*args, **kwargs) if op == _CALL else target
            except Exception as exc:
                return _RAISE, _describe_exception(exc), self._last_error() if is_mt5 else None
            if name == "initialize":
                session.attached = bool(value)
            return _OK, value, self._last_error() if is_mt5 else None

    def _run_batch(self, session: _Session, calls: Sequence[tuple[str, tuple, dict]]
                   ) -> tuple[str, Any, tuple[int, str] | None]:
        results: list[Any] = []
        last_error: tuple[int, str] | None = None
        for name, args, kwargs in calls:
            status, value, error = self._run(session, _CALL, name, args, kwargs)
            if error is not None:
                last_error = error
            if status == _RAISE:
                return status, value, last_error
            results.append(value)
        return _OK, results, last_error

    def _resolve(self, name: str) -> Any:
        head, *rest = name.split(".")
        allowed = head in MT5_FUNCTIONS or head.startswith("sim_") or head in _MODULE_ATTRIBUTES
        if not allowed or any(part.startswith("_") for part in rest):
            raise AttributeError(f"the terminal server does not offer {name!r}")
        value = getattr(self._terminal, head)
        for part in rest:
            value = getattr(value, part)
        return value

    def _last_error(self) -> tuple[int, str]:
        code, message = self._terminal.last_error()
        return int(code), str(message)


def _interrupt(conn: Connection) -> None:
    """Wake a thread blocked reading ``conn`` (closing the descriptor would not)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        family = socket.AF_UNIX if _unix_sockets_usable() else socket.AF_INET
        sock = socket.fromfd(conn.fileno(), family, socket.SOCK_STREAM)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


def _remove_stale_socket(path: str) -> None:
    """Remove a socket file left by a killed server; refuse a live one or a regular file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise UserError(f"{path} exists and is not a socket: choose another --address")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
        return
    finally:
        probe.close()
    raise UserError(f"a terminal server is already listening at {path}")


# -- the client --------------------------------------------------------------------------------


class RemoteTerminal:
    """The ``MetaTrader5`` module's surface, served by a ``TerminalServer`` (module docstring).

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
        self._last_error: tuple[int, str] = _SUCCESS
        #: What the server said about itself when the link last opened.
        self.server_info: dict[str, Any] = {}

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
        status, info, _ = self._exchange((_HELLO, "", (PROTOCOL_VERSION,), {}))
        if status != _OK or not isinstance(info, dict) or info.get("protocol") != PROTOCOL_VERSION:
            self._drop()
            raise RemoteLinkError(f"the terminal server at {where} speaks another protocol "
                                  f"version ({info!r})")
        self.server_info = info
        self.__version__ = info["__version__"]
        self.__author__ = info["__author__"]

    def _exchange(self, request: tuple) -> tuple[str, Any, tuple[int, str] | None]:
        """Send one request and read its reply; drop the link on any transport failure."""
        conn = self._conn
        if conn is None:
            raise RemoteLinkError("not connected to the terminal server")
        where = format_address(self._address)
        data = pickle.dumps(request, protocol=_PICKLE)
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
        if status == _RAISE:
            raise _rebuild_exception(value)
        return decode_value(value)

    def _call_mt5(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        failure = MT5_FUNCTIONS[name]
        with self._lock:
            if self._conn is None:
                if name == "shutdown":
                    self._last_error = _SUCCESS
                    return None
                if name != "initialize":
                    self._last_error = _NO_IPC
                    return failure
                try:
                    self._open()
                except RemoteLinkError as exc:
                    self._last_error = (c.RES_E_INTERNAL_FAIL_INIT,
                                        f"IPC initialize failed, {exc}")
                    return failure
            try:
                status, value, error = self._exchange(
                    (_CALL, name, encode_value(args), encode_value(kwargs)))
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
            status, value, error = self._exchange((_BATCH, "", request, {}))
            if error is not None:
                self._last_error = (int(error[0]), str(error[1]))
        return self._result(status, value)

    # -- simulator control (the SimTerminal's sim_* methods) ------------------------------------

    def sim_advance_to(self, t_msc: int) -> int:
        """Consume the feed up to UTC ``t_msc``; the number of ticks processed."""
        return self._call_sim(_CALL, "sim_advance_to", (t_msc,))

    def sim_now_msc(self) -> int:
        """The terminal's virtual clock (UTC epoch milliseconds)."""
        return self._call_sim(_CALL, "sim_now_msc")

    def sim_last_ticks(self) -> Any:
        """The ticks (``TICK_DTYPE``) consumed by the last ``sim_advance_to`` of any client."""
        return self._call_sim(_CALL, "sim_last_ticks")

    def sim_symbols(self) -> tuple[str, ...]:
        return self._call_sim(_CALL, "sim_symbols")

    def sim_set_algo_trading(self, enabled: bool) -> None:
        return self._call_sim(_CALL, "sim_set_algo_trading", (enabled,))

    def sim_disconnect(self, failed_reconnects: int = 0) -> None:
        """Drop the terminal's simulated IPC link (every client sees -10004)."""
        return self._call_sim(_CALL, "sim_disconnect", (failed_reconnects,))

    def sim_reconnect(self) -> None:
        return self._call_sim(_CALL, "sim_reconnect")

    def sim_set_faults(self, faults: Any) -> None:
        return self._call_sim(_CALL, "sim_set_faults", (faults,))

    def sim_faults_fired(self) -> dict[str, int]:
        return self._call_sim(_CALL, "sim_faults_fired")

    def sim_stats(self) -> dict[str, int]:
        return self._call_sim(_CALL, "sim_stats")

    @property
    def sim_config(self) -> SimConfig:
        """A copy of the served terminal's configuration."""
        return self._call_sim(_GET, "sim_config")

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
        return tuple(self._remote._call_sim(_GET, "sim_feed.symbols"))

    @property
    def start_msc(self) -> int:
        return self._remote._call_sim(_GET, "sim_feed.start_msc")

    @property
    def end_msc(self) -> int | None:
        return self._remote._call_sim(_GET, "sim_feed.end_msc")

    def next_time(self) -> int | None:
        return self._remote._call_sim(_CALL, "sim_feed.next_time")


# -- a simulated terminal on the synthetic market, and the command line ------------------------


def synthetic_terminal(market: MarketConfig | None = None,
                       sim: SimConfig | None = None) -> SimTerminal:
    """A ``SimTerminal`` fed by the synthetic market: what ``--serve`` serves."""
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket
    from mt5bridge.sim.terminal import SimTerminal

    return SimTerminal(SyntheticMarket(market or MarketConfig()), sim or SimConfig())


def _utc_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or ISO date-time (e.g. 2019-01-07 or 2019-01-07T08:00)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--serve`` / ``terminal-server``: market, broker and address."""
    market = parser.add_argument_group("synthetic market")
    market.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    market.add_argument("--symbols", type=_names, default=None, metavar="A,B,...",
                        help="symbols quoted (default: all 16 the simulated broker lists)")
    market.add_argument("--start", type=_utc_datetime, default=None, metavar="DATE",
                        help="first tick, UTC (default 2019-01-07)")
    market.add_argument("--end", type=_utc_datetime, default=None, metavar="DATE",
                        help="end of the feed, UTC, exclusive (default: endless)")
    market.add_argument("--warmup-days", type=int, default=35, metavar="N",
                        help="days of M1 history before the start (default 35)")
    market.add_argument("--ticks-per-minute", type=float, default=8.0, metavar="X",
                        help="mean ticks per minute for a symbol of average liquidity "
                        "(default 8)")
    broker = parser.add_argument_group("simulated broker")
    broker.add_argument("--balance", type=float, default=100_000.0,
                        help="starting balance in USD (default 100000)")
    broker.add_argument("--symbol-suffix", default="", metavar="SUFFIX",
                        help="broker suffix on every symbol name, e.g. .a (default none)")
    broker.add_argument("--select", type=_names, default=(), metavar="A,B,...",
                        help="symbols already in Market Watch (default none)")
    link = parser.add_argument_group("address")
    where = link.add_mutually_exclusive_group()
    where.add_argument("--address", default=None, metavar="PATH|HOST:PORT",
                       help="Unix socket path or HOST:PORT (default: a socket in a new "
                       "temporary folder)")
    where.add_argument("--tcp", action="store_true",
                       help="listen on a free localhost TCP port")


def run_server(args: argparse.Namespace) -> int:
    """Build the terminal, print the address as the first stdout line, serve until stopped."""
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market import MarketConfig

    market_options: dict[str, Any] = {
        "seed": args.seed, "warmup_days": args.warmup_days,
        "ticks_per_minute": args.ticks_per_minute, "end": args.end,
    }
    if args.symbols:
        market_options["symbols"] = args.symbols
    if args.start is not None:
        market_options["start"] = args.start
    terminal = synthetic_terminal(
        MarketConfig(**market_options),
        SimConfig(market_seed=args.seed, balance=args.balance,
                  symbol_suffix=args.symbol_suffix, selected=tuple(args.select)),
    )
    address: Address | None = ("127.0.0.1", 0) if args.tcp else args.address
    try:
        server = TerminalServer(terminal, address)
        server.start()
    except OSError as exc:
        raise UserError(f"cannot listen at {args.address or 'localhost'}: {exc}") from None
    previous = _stop_on_sigterm()
    try:
        print(format_address(server.address), flush=True)
        print(f"serving {terminal!r} at {format_address(server.address)}; "
              "Ctrl+C or SIGTERM stops", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)  # signals interrupt the sleep
    except (KeyboardInterrupt, _StopServing):
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


class _StopServing(Exception):
    """Raised by the SIGTERM handler to leave the serving loop cleanly."""


def _stop_on_sigterm() -> Any:
    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut stop()
        raise _StopServing()

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "terminal-server", help="serve a simulated MT5 terminal to other processes",
        description="Run a simulated MetaTrader 5 terminal on the synthetic market in this "
        "process and serve it to other processes (mt5bridge.remote.RemoteTerminal), so it "
        "outlives the programs trading through it, like a real terminal.  The first line "
        "on stdout is the address.",
    )
    add_server_options(parser)
    parser.set_defaults(func=run_server)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mt5bridge.remote --serve [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m mt5bridge.remote",
        description="Serve a simulated MetaTrader 5 terminal on the synthetic market to "
        "other processes.  The first line on stdout is the address.",
    )
    parser.add_argument("--serve", action="store_true", required=True,
                        help="build the terminal and serve it until SIGTERM or Ctrl+C")
    add_server_options(parser)
    args = parser.parse_args(argv)
    try:
        return run_server(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy: pickled classes (EncodedStruct) must
    # be importable by clients as mt5bridge.remote.
    from mt5bridge.remote import main as _main

    sys.exit(_main())
