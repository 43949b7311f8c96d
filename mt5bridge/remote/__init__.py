"""A terminal in another process: ``TerminalServer`` serves it, ``RemoteTerminal`` talks to it.

A real MetaTrader 5 terminal is a process of its own: kill the Python program that trades
through it and the terminal still holds the positions, the deal history and the clock, and
the next program that attaches sees all of it.  Crash-recovery tests need the simulator to
behave the same way, so ``TerminalServer`` holds a ``SimTerminal`` (or anything with the
``MetaTrader5`` module's surface) and serves it over ``multiprocessing.connection``, and
``RemoteTerminal`` is a client with the module's surface that can be handed to
``LiveTerminal(module=...)`` exactly like the real package.

How the link behaves, and why:

- **Nobody in without the secret**: every server makes a new random secret
  (``secrets.token_bytes``) and writes it to a file only its owner can read (mode 0600 from
  its creation; ``--secret-file``, default a new private temporary folder), and prints the
  file's path, never the secret.  A client reads that file (``secret_file=``,
  ``--secret-file``) and both sides prove they hold the secret with an HMAC challenge in
  each direction before a single request is read (``link``).  Whoever can read the file can
  drive the terminal: it is the whole access control, as a local TCP port is open to every
  local user.
- **This machine only, unless asked**: the default is a Unix socket in a private temporary
  folder (mode 0700) on POSIX, else a localhost TCP port.  A TCP address that other
  machines can reach (``0.0.0.0``, a LAN address) is refused unless ``--allow-remote`` is
  given, and that requires TLS (``--tls-cert``/``--tls-key`` on the server, ``--tls-ca`` on
  the client); a client does not speak to a remote address without TLS either.
- **No code on the wire**: messages are typed JSON (``codec``): plain values, tuples,
  dicts, the MetaTrader5 structs by name and field values, numpy arrays as raw bytes with
  their dtype, datetimes, the simulator's configuration dataclasses.  Anything else is
  refused on both sides, and a message that is not one of these drops the connection.
  Exceptions travel as a type name and a message, rebuilt as themselves only for the types
  on ``wire.EXCEPTION_TYPES``.  There is no pickle in either direction.
- **Bounded**: a connection that has not completed the handshake within
  ``LinkLimits.handshake_timeout_s`` (5 s) is dropped; at most ``max_connections`` (16)
  that proved the secret are served at once, and one more is told so and closed without a
  thread; at most ``max_handshakes`` (64) wait in the handshake, and one more closes the
  oldest of them, so idle connections that hold no secret cannot keep a client out; a
  frame header announcing more than ``max_request_bytes`` (4 MiB) drops the connection
  before its body is read.
- **One call at a time**: every client gets its own server thread, and the terminal is
  called under one lock, together with the ``last_error()`` that follows, so the terminal
  sees a single caller as it does in-process.  Replies are encoded and sent outside the
  lock, so a slow or frozen client never holds up the others.
- **Same calls, same errors**: the server calls the real method with the caller's
  positional and keyword arguments, so ``positions_get("EURUSD")`` or
  ``copy_rates_from(symbol=...)`` raise the very ``TypeError`` they raise in-process; any
  exception from the terminal is sent back and re-raised as the same type with the same
  message (the server-side traceback is kept in its ``server_traceback`` attribute).  No
  exception in the terminal ever ends the server or the client's session.
- **Results**: the server sends the terminal's structs (ours, or the real package's) by
  name and field values, nested ones included (the ``request`` inside an
  ``OrderSendResult``), and the client rebuilds the same ``mt5bridge.structs`` types; numpy
  arrays come back with exactly their dtype (the packed 60-byte MT5 rows included).
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
``main.py terminal-server``): the first line on stdout is the address to connect to, the
second the secret file to give the client.  ``main.py terminal-server --module MetaTrader5``
serves the real package instead, under a Windows Python (``module_server``), and
``--write-zipapp`` writes that server as one file (``zipapp``).

The package: ``address`` (where a server listens; loopback or not), ``secret`` (the secret
and its file), ``codec`` (values as typed JSON), ``wire`` (requests, replies and
exceptions), ``link`` (frames, limits, the handshake, TLS), ``server``
(``TerminalServer``), ``client`` (``RemoteTerminal``), ``launch`` (the synthetic
terminal served from the command line), ``module_server`` (a module with the MetaTrader5
surface served) and ``zipapp`` (the one-file server).
"""

from __future__ import annotations

from mt5bridge.remote.address import Address, format_address, is_loopback, parse_address
from mt5bridge.remote.client import (
    DEFAULT_TIMEOUT_S,
    RemoteFeedView,
    RemoteLinkError,
    RemoteTerminal,
)
from mt5bridge.remote.codec import WireError
from mt5bridge.remote.codec import dumps as encode_message
from mt5bridge.remote.codec import loads as decode_message
from mt5bridge.remote.launch import add_server_options, main, run_server, synthetic_terminal
from mt5bridge.remote.link import (
    LinkLimits,
    client_tls_context,
    server_tls_context,
)
from mt5bridge.remote.server import TerminalServer
from mt5bridge.remote.wire import (
    EXCEPTION_TYPES,
    MT5_FUNCTIONS,
    PROTOCOL_VERSION,
    RemoteTerminalError,
)

# The link's own errors are named by the package in tracebacks and logs, as they always were.
for _kind in (RemoteTerminalError, RemoteLinkError):
    _kind.__module__ = __name__
del _kind

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "EXCEPTION_TYPES",
    "MT5_FUNCTIONS",
    "PROTOCOL_VERSION",
    "Address",
    "LinkLimits",
    "RemoteFeedView",
    "RemoteLinkError",
    "RemoteTerminal",
    "RemoteTerminalError",
    "TerminalServer",
    "WireError",
    "add_server_options",
    "client_tls_context",
    "decode_message",
    "encode_message",
    "format_address",
    "is_loopback",
    "main",
    "parse_address",
    "run_server",
    "server_tls_context",
    "synthetic_terminal",
]
