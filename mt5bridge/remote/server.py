"""``TerminalServer``: one terminal served to other processes, one call at a time.

Each connection gets its own thread and its own session (attached by ``initialize()``,
detached by ``shutdown()``); the terminal is called under one lock together with the
``last_error()`` that follows, and replies are encoded and sent outside it, so a slow or
frozen client never holds up the others.  Nobody gets a thread for free: the connection cap
is checked before one is started, and a connection that has not proved it holds the secret
within the handshake timeout is dropped.  See ``mt5bridge.remote`` for the whole design.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import UserError
from mt5bridge.remote.address import (
    Address,
    check_local_path,
    format_address,
    is_loopback,
    parse_address,
    remove_stale_socket,
    unix_sockets_usable,
)
from mt5bridge.remote.codec import WireError
from mt5bridge.remote.link import (
    BUSY,
    FrameTooLarge,
    HandshakeRefused,
    LinkClosed,
    LinkLimits,
    recv_frame,
    send_frame,
    server_handshake,
    shutdown,
)
from mt5bridge.remote.private_dir import new_private_dir
from mt5bridge.remote.secret import new_secret, read_secret_file, write_secret_file
from mt5bridge.remote.wire import (
    BATCH,
    CALL,
    HELLO,
    MT5_FUNCTIONS,
    NO_IPC,
    OK,
    PROTOCOL_VERSION,
    RAISE,
    SUCCESS,
    describe_exception,
    read_request,
    reply,
)

log = logging.getLogger(__name__)

#: Functions a connection may call before ``initialize()`` attached it.
_UNGATED = frozenset({"initialize", "shutdown", "last_error"})
#: Module attributes that are not functions but are read like the module's.
_MODULE_ATTRIBUTES = frozenset({"__version__", "__author__"})
_BACKLOG = 64
_SECRET_NAME = "secret"
_UNIX_FAMILY = getattr(socket, "AF_UNIX", None)
#: At most one warning per this many seconds about refused or dropped connections.
_LOG_EVERY_S = 10.0


class _Session:
    """One client connection: whether ``initialize()`` attached it to the terminal."""

    __slots__ = ("attached",)

    def __init__(self) -> None:
        self.attached = False


class TerminalServer:
    """Serves one terminal object to other processes (see ``mt5bridge.remote``).

    ``start()`` binds the address, writes a new secret to ``secret_file`` and serves from
    background threads; ``stop()`` (or leaving the ``with`` block) closes every connection
    and removes the socket and the secret file.  ``address`` and ``secret_file`` are known
    once started.

    ``address``: None for a Unix socket in a new private folder (localhost TCP where there
    are no Unix sockets), a socket path, or ``(host, port)``.  A host that is not loopback
    is refused unless ``allow_remote`` is set, which also requires ``tls`` (an
    ``ssl.SSLContext`` for the server side, see ``link.server_tls_context``).
    ``secret_file``: where to write the new secret (default: a new private folder); a
    file that exists is refused, never replaced.  ``shared_secret_file``: instead, serve
    with the secret already in this file (made beforehand, e.g. on the client's side of a
    Wine prefix, where the client can vouch for its owner and mode); it is left in place.
    ``sim_controls``: whether the simulator's ``sim_*`` controls are served besides the
    MetaTrader5 functions (True for a simulated terminal; a module served with
    ``--module`` gets them only when asked for).
    """

    def __init__(self, terminal: Any, address: Address | None = None, *,
                 secret_file: str | os.PathLike[str] | None = None, allow_remote: bool = False,
                 tls: ssl.SSLContext | None = None, limits: LinkLimits | None = None,
                 shared_secret_file: str | os.PathLike[str] | None = None,
                 sim_controls: bool = True) -> None:
        self._terminal = terminal
        self._requested = parse_address(address) if address is not None else None
        if self._requested is not None:
            check_server_address(self._requested, allow_remote, tls)
        if shared_secret_file is not None and secret_file is not None:
            raise UserError("give a secret file to write or a shared one to read, not both")
        self._shared_secret = shared_secret_file is not None
        if shared_secret_file is not None:
            secret_file = shared_secret_file
            self._secret = read_secret_file(Path(shared_secret_file))
        else:
            self._secret = new_secret()
        self._secret_path = Path(secret_file).absolute() if secret_file is not None else None
        self._sim_controls = sim_controls
        self._tls = tls
        self.limits = limits or LinkLimits()
        self._terminal_lock = threading.Lock()
        self._clients_lock = threading.Lock()
        self._clients: dict[int, tuple[socket.socket, threading.Thread]] = {}
        #: The clients still in the handshake, oldest first (``LinkLimits.max_handshakes``).
        self._handshaking: dict[int, socket.socket] = {}
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._address: Address | None = None
        self._accept_thread: threading.Thread | None = None
        self._tempdirs: list[str] = []
        self._secret_written = False
        #: Connections accepted so far (each client thread is named by its number).
        self.connections_accepted = 0
        #: Connections turned away at the cap or dropped in the handshake.
        self.connections_refused = 0
        self._quiet_until = 0.0
        self._unlogged = 0

    def __repr__(self) -> str:
        where = format_address(self.address) if self._listener is not None else "not started"
        return f"TerminalServer({where}, {self._terminal!r})"

    def __enter__(self) -> TerminalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> Address:
        if self._address is None:
            raise RuntimeError("the terminal server is not started")
        return self._address

    @property
    def secret_file(self) -> Path:
        """The file holding this server's secret (mode 0600), for clients to read."""
        if self._address is None or self._secret_path is None:
            raise RuntimeError("the terminal server is not started")
        return self._secret_path

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
        try:
            if self._secret_path is None:
                self._secret_path = Path(self._private_dir()) / _SECRET_NAME
            if not self._shared_secret:
                write_secret_file(self._secret_path, self._secret)
                self._secret_written = True
            self._listener, self._address = self._listen()
        except BaseException:
            self._cleanup()
            raise
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="terminal-server-accept")
        self._accept_thread.start()
        log.info("terminal server listening at %s (secret file %s)",
                 format_address(self.address), self._secret_path)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the listener and every client connection; idempotent."""
        listener = self._listener
        if listener is None or self._stopping.is_set():
            return
        self._stopping.set()
        shutdown(listener)  # wakes accept() where closing alone would not
        _wake(self.address)  # ... and where shutting a listener down does not either
        if self._accept_thread is not None:
            self._accept_thread.join(timeout_s)
        with contextlib.suppress(OSError):
            listener.close()
        with self._clients_lock:
            clients = list(self._clients.values())
            for sock, _ in clients:
                shutdown(sock)
        for _, thread in clients:
            thread.join(timeout_s)
        self._cleanup()
        log.info("terminal server stopped")

    def wait(self) -> None:
        """Block until ``stop()`` is called from another thread."""
        self._stopping.wait()

    # -- listening ---------------------------------------------------------------------------

    def _private_dir(self) -> str:
        """One new folder only this user may enter (mode 0700), for the socket and secret
        (``mt5bridge.remote.private_dir``: dead servers' folders are removed first)."""
        if not self._tempdirs:
            self._tempdirs.append(new_private_dir())
        return self._tempdirs[0]

    def _cleanup(self) -> None:
        if self._secret_written and self._secret_path is not None:
            with contextlib.suppress(OSError):
                self._secret_path.unlink()
            self._secret_written = False
        if isinstance(self._address, str):
            with contextlib.suppress(OSError):
                os.unlink(self._address)
        for folder in self._tempdirs:
            shutil.rmtree(folder, ignore_errors=True)
        self._tempdirs.clear()

    def _listen(self) -> tuple[socket.socket, Address]:
        requested = self._requested
        if requested is None:
            if unix_sockets_usable():
                path = os.path.join(self._private_dir(), "terminal.sock")
                try:
                    return _bind_unix(path), path
                except OSError as exc:  # e.g. a socket path beyond the 107-byte limit
                    log.info("no Unix socket (%s); serving on localhost TCP", exc)
            requested = ("127.0.0.1", 0)
        if isinstance(requested, tuple):
            return _bind_tcp(requested)
        remove_stale_socket(requested)
        return _bind_unix(requested), requested

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    break
                log.warning("terminal server: accept failed: %s", exc)
                self._stopping.wait(0.1)  # e.g. out of file descriptors: do not spin
                continue
            if self._stopping.is_set():
                sock.close()
                break
            if sock.family != _UNIX_FAMILY:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._admit(sock)

    def _admit(self, sock: socket.socket) -> None:
        """Start a thread for ``sock``, or turn it away at the cap without one."""
        evicted = None
        with self._clients_lock:
            stopping = self._stopping.is_set()
            proved = len(self._clients) - len(self._handshaking)
            full = proved >= self.limits.max_connections
            if not (full or stopping):
                if len(self._handshaking) >= self.limits.max_handshakes:
                    oldest = next(iter(self._handshaking))  # dicts keep insertion order
                    evicted = self._handshaking.pop(oldest)
                self.connections_accepted += 1
                number = self.connections_accepted
                thread = threading.Thread(target=self._serve_client, args=(sock, number),
                                          daemon=True, name=f"terminal-client-{number}")
                self._clients[number] = (sock, thread)
                self._handshaking[number] = sock
        if evicted is not None:  # its thread meets the closed socket and ends
            with contextlib.suppress(OSError):
                evicted.shutdown(socket.SHUT_RDWR)
        if stopping:
            sock.close()
            return
        if full:
            self._refused(f"{self.limits.max_connections} connections already")
            with contextlib.suppress(OSError):
                if self._tls is None:  # a TLS client would first need a handshake
                    sock.setblocking(False)
                    send_frame(sock, BUSY)
            sock.close()
            return
        thread.start()

    def _refused(self, reason: str) -> None:
        """Count a connection turned away or dropped, and say so at most every few seconds:
        a flood of connections must not become a flood of log lines."""
        with self._clients_lock:
            self.connections_refused += 1
            now = time.monotonic()
            if now < self._quiet_until:
                self._unlogged += 1
                return
            self._quiet_until = now + _LOG_EVERY_S
            unlogged, self._unlogged = self._unlogged, 0
        more = f" ({unlogged} more since the last such line)" if unlogged else ""
        log.warning("terminal server: connection refused or dropped: %s%s", reason, more)

    # -- one client ----------------------------------------------------------------------------

    def _serve_client(self, sock: socket.socket, number: int) -> None:
        try:
            conn = self._handshake(sock, number)
            with self._clients_lock:
                self._handshaking.pop(number, None)
            if conn is None:
                return
            with self._clients_lock:
                if number in self._clients:
                    self._clients[number] = (conn, self._clients[number][1])
            if self._stopping.is_set():
                return
            self._serve_requests(conn, number)
        finally:
            with self._clients_lock:
                self._handshaking.pop(number, None)
                entry = self._clients.pop(number, None)
            with contextlib.suppress(OSError):
                (entry[0] if entry else sock).close()

    def _handshake(self, sock: socket.socket, number: int) -> socket.socket | None:
        """The connection once it proved it holds the secret (over TLS when configured)."""
        deadline = time.monotonic() + self.limits.handshake_timeout_s
        try:
            sock.settimeout(self.limits.handshake_timeout_s)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
            server_handshake(sock, self._secret, deadline)
            sock.settimeout(None)
            return sock
        except (HandshakeRefused, FrameTooLarge, LinkClosed, TimeoutError, ssl.SSLError,
                OSError) as exc:
            if not self._stopping.is_set():
                self._refused(f"client {number} in the handshake: {_reason(exc)}")
            with contextlib.suppress(OSError):
                sock.close()
            return None

    def _serve_requests(self, conn: socket.socket, number: int) -> None:
        session = _Session()
        limit = self.limits.max_request_bytes
        while True:
            try:
                data = recv_frame(conn, limit)
            except FrameTooLarge as exc:
                log.warning("terminal client %d dropped: %s", number, exc)
                return
            except OSError:
                return  # the client closed, exited or was killed
            try:
                answer = self._reply(session, data)
            except WireError as exc:
                log.warning("terminal client %d dropped: unreadable request (%s)", number, exc)
                return
            try:
                send_frame(conn, answer)
            except OSError:
                # Gone mid-call: the call was executed, as with a real terminal whose
                # client dies after sending an order.
                log.info("terminal client %d vanished before its reply", number)
                return

    def _reply(self, session: _Session, data: bytes) -> bytes:
        """The encoded answer to one request; ``WireError`` for a message that is none."""
        op, name, args, kwargs = read_request(data)
        error: tuple[int, str] | None = None
        try:
            if op == BATCH:
                status, value, error = self._run_batch(session, args)
            elif op == HELLO:
                status, value = OK, self._hello(args)
            else:
                status, value, error = self._run(session, op, name, args, kwargs)
        except Exception as exc:  # never die for one request
            status, value = RAISE, describe_exception(exc)
        return reply(status, value, error)

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
        allowed = (head in MT5_FUNCTIONS or head in _MODULE_ATTRIBUTES
                   or (self._sim_controls and head.startswith("sim_")))
        if not allowed or any(part.startswith("_") for part in rest):
            raise AttributeError(f"the terminal server does not offer {name!r}")
        value = getattr(self._terminal, head)
        for part in rest:
            value = getattr(value, part)
        return value

    def _last_error(self) -> tuple[int, str]:
        code, message = self._terminal.last_error()
        return int(code), str(message)


def check_server_address(address: Address, allow_remote: bool,
                         tls: ssl.SSLContext | None) -> None:
    """Loopback by default; another host only when asked for, and then only over TLS."""
    check_local_path(address)
    if not isinstance(address, tuple):
        if tls is not None:
            raise UserError(f"{address}: TLS is for a TCP address (HOST:PORT), not a Unix socket")
        return
    where = format_address(address)
    if not is_loopback(address):
        if not allow_remote:
            raise UserError(f"--address {where} is reachable from other machines: the terminal "
                            "server listens on loopback only unless --allow-remote is given "
                            "(with --tls-cert and --tls-key)")
        if tls is None:
            raise UserError(f"--allow-remote needs TLS: give --tls-cert and --tls-key to serve "
                            f"at {where}")


def _bind_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _bind_tcp(address: tuple[str, int]) -> tuple[socket.socket, Address]:
    host, port = address
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    family, kind, proto, _, where = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(where)
        sock.listen(_BACKLOG)
    except OSError:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    return sock, (bound_host, bound_port)


def _wake(address: Address) -> None:
    """Connect once, so that a thread blocked in ``accept()`` returns."""
    with contextlib.suppress(OSError):
        if isinstance(address, tuple):
            host = address[0] if address[0] not in ("0.0.0.0", "::", "") else "localhost"
            socket.create_connection((host, address[1]), timeout=0.5).close()
        else:
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.settimeout(0.5)
            try:
                probe.connect(address)
            finally:
                probe.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the handshake timeout"
    return str(exc) or type(exc).__name__
