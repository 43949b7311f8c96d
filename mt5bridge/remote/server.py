"""``TerminalServer``: one terminal served to other processes, one call at a time.

Each connection gets its own thread and its own session (attached by ``initialize()``,
detached by ``shutdown()``); the terminal is called under one lock together with the
``last_error()`` that follows, and replies are pickled and sent outside it, so a slow or
frozen client never holds up the others.  See ``mt5bridge.remote`` for the whole design.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import socket
import tempfile
import threading
from collections.abc import Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import (
    Client,
    Connection,
    Listener,
    answer_challenge,
    deliver_challenge,
)
from typing import Any

from mt5bridge.remote.address import (
    Address,
    default_authkey,
    format_address,
    parse_address,
    remove_stale_socket,
    unix_sockets_usable,
)
from mt5bridge.remote.wire import (
    BATCH,
    CALL,
    HELLO,
    MT5_FUNCTIONS,
    NO_IPC,
    OK,
    PICKLE_PROTOCOL,
    PROTOCOL_VERSION,
    RAISE,
    SUCCESS,
    decode_value,
    describe_exception,
    encode_value,
)

log = logging.getLogger(__name__)

#: Functions a connection may call before ``initialize()`` attached it.
_UNGATED = frozenset({"initialize", "shutdown", "last_error"})
#: Module attributes that are not functions but are read like the module's.
_MODULE_ATTRIBUTES = frozenset({"__version__", "__author__"})
_BACKLOG = 16


class _Session:
    """One client connection: whether ``initialize()`` attached it to the terminal."""

    __slots__ = ("attached",)

    def __init__(self) -> None:
        self.attached = False


class TerminalServer:
    """Serves one terminal object to other processes (see ``mt5bridge.remote``).

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
        #: Connections accepted so far (each client thread is named by its number).
        self.connections_accepted = 0

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
            if unix_sockets_usable():
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
        remove_stale_socket(requested)
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
            if op == BATCH:
                status, value, error = self._run_batch(session, args)
            elif op == HELLO:
                status, value = OK, self._hello(args)
            else:
                status, value, error = self._run(session, op, name, args, kwargs)
        except Exception as exc:  # a malformed request: answer it, never die
            status, value = RAISE, describe_exception(exc)
        try:
            payload = encode_value(value) if status == OK else value
            return pickle.dumps((status, payload, error), protocol=PICKLE_PROTOCOL)
        except Exception as exc:  # e.g. a result that cannot be pickled
            return pickle.dumps((RAISE, describe_exception(exc), error), protocol=PICKLE_PROTOCOL)

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
            if is_mt5 and name == "shutdown":
                session.attached = False  # detach this client only; the terminal stays up
                return OK, None, SUCCESS
            if is_mt5 and not session.attached and name not in _UNGATED:
                return OK, MT5_FUNCTIONS[name], NO_IPC
            try:
                target = self._resolve(name)
                value = target(*args, **kwargs) if op == CALL else target
            except Exception as exc:
                return RAISE, describe_exception(exc), self._last_error() if is_mt5 else None
            if name == "initialize":
                session.attached = bool(value)
            return OK, value, self._last_error() if is_mt5 else None

    def _run_batch(self, session: _Session, calls: Sequence[tuple[str, tuple, dict]]
                   ) -> tuple[str, Any, tuple[int, str] | None]:
        results: list[Any] = []
        last_error: tuple[int, str] | None = None
        for name, args, kwargs in calls:
            status, value, error = self._run(session, CALL, name, args, kwargs)
            if error is not None:
                last_error = error
            if status == RAISE:
                return status, value, last_error
            results.append(value)
        return OK, results, last_error

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
        family = socket.AF_UNIX if unix_sockets_usable() else socket.AF_INET
        sock = socket.fromfd(conn.fileno(), family, socket.SOCK_STREAM)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
