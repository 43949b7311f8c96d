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

The package: ``address`` (where a server listens, the key), ``wire`` (what a message holds
and how values and exceptions are encoded), ``server`` (``TerminalServer``), ``client``
(``RemoteTerminal``) and ``launch`` (the synthetic terminal served from the command line).
"""

from __future__ import annotations

from mt5bridge.remote.address import (
    AUTHKEY_ENV,
    DEFAULT_AUTHKEY,
    Address,
    default_authkey,
    format_address,
    parse_address,
)
from mt5bridge.remote.client import (
    DEFAULT_TIMEOUT_S,
    RemoteFeedView,
    RemoteLinkError,
    RemoteTerminal,
)
from mt5bridge.remote.launch import add_server_options, main, run_server, synthetic_terminal
from mt5bridge.remote.server import TerminalServer
from mt5bridge.remote.wire import (
    MT5_FUNCTIONS,
    PROTOCOL_VERSION,
    EncodedStruct,
    RemoteTerminalError,
    _RaisedError,
    decode_value,
    encode_value,
)

# The classes that cross the link (and the link's own errors) keep the module path they had
# when this package was one module.  A pickle names a class by that path, so the bytes on the
# wire stay exactly what they were, older clients and servers still read them, and
# tracebacks and logs name the errors as before.  ``_RaisedError`` is imported here only so
# that unpickling finds it as ``mt5bridge.remote._RaisedError``.
for _kind in (EncodedStruct, _RaisedError, RemoteTerminalError, RemoteLinkError):
    _kind.__module__ = __name__
del _kind

__all__ = [
    "AUTHKEY_ENV",
    "DEFAULT_AUTHKEY",
    "DEFAULT_TIMEOUT_S",
    "MT5_FUNCTIONS",
    "PROTOCOL_VERSION",
    "Address",
    "EncodedStruct",
    "RemoteFeedView",
    "RemoteLinkError",
    "RemoteTerminal",
    "RemoteTerminalError",
    "TerminalServer",
    "add_server_options",
    "decode_value",
    "default_authkey",
    "encode_value",
    "format_address",
    "main",
    "parse_address",
    "run_server",
    "synthetic_terminal",
]
