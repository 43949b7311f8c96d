"""Which MetaTrader5 module a live session trades through: ``--terminal ADDRESS``.

``open_terminal_module(address, allow_remote=...)`` returns an object with the
``MetaTrader5`` module's surface, for ``LiveTerminal(module=...)``:

- ``None``: the ``MetaTrader5`` package of this Python (Windows), as live trading always
  did, with the same one-line error where it is not installed;
- ``HOST:PORT`` or a Unix socket path: a terminal server of ours (``main.py terminal-server
  --module MetaTrader5`` under the terminal's Windows Python, natively or in Wine), reached
  with ``RemoteTerminal`` over the authenticated typed link.  Its secret file is
  ``$FXCLUSTER_TERMINAL_SECRET`` (the second line the server printed, or the file given to
  it with ``--secret-from``); for a socket path without it, the file ``secret`` beside the
  socket (where the server puts it by default).  A server on another machine is reached
  over TLS only: ``$FXCLUSTER_TERMINAL_CA`` names the CA file its certificate chains to;
- ``rpyc://HOST:PORT``: an mt5linux server (an RPyC classic server, default port 18812),
  through ``mt5bridge.mt5linux_client`` (the optional ``rpyc`` package).  Such a server runs
  any code sent to its port: a warning says so, once per process.

An address that other machines can reach is refused with one line unless ``allow_remote``
(``--allow-remote``): trading through a terminal elsewhere is a deliberate choice.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from engine.errors import UserError
from mt5bridge.remote.address import (
    Address,
    address_option,
    format_address,
    is_loopback,
    parse_address,
)

log = logging.getLogger(__name__)

#: The environment variables read for ``--terminal ADDRESS`` (our own server).
SECRET_ENV = "FXCLUSTER_TERMINAL_SECRET"
CA_ENV = "FXCLUSTER_TERMINAL_CA"
RPYC_SCHEME = "rpyc://"
#: How long a bridge waits for one answer: longer than the module's own ``initialize``
#: timeout (60 s), so that a terminal slow to start answers with the module's -10005 before
#: the link gives up on it.
BRIDGE_TIMEOUT_S = 90.0
#: mt5linux's port (RPyC classic's default) when ``rpyc://HOST`` names none.
MT5LINUX_DEFAULT_PORT = 18812

MT5LINUX_WARNING = ("an mt5linux server (RPyC classic) executes any code sent to its port: "
                    "whoever reaches {where} can run programs in the terminal's Windows "
                    "Python and trade the account; keep it on this machine, or use "
                    "'terminal-server --module MetaTrader5' (authenticated, no code)")
_warned: set[str] = set()


def open_terminal_module(address: str | None, *, allow_remote: bool = False) -> Any:
    """An object with the MetaTrader5 module's surface at ``address`` (see the module doc)."""
    if address is None:
        from mt5bridge.live import _import_metatrader5

        return _import_metatrader5()
    text = address.strip()
    if not text:
        raise UserError("--terminal: empty address (HOST:PORT, a socket path or "
                        "rpyc://HOST:PORT)")
    if text.lower().startswith(RPYC_SCHEME):
        return _mt5linux(text, allow_remote)
    return _our_server(text, allow_remote)


def _check_place(where: Address, text: str, allow_remote: bool) -> None:
    if not is_loopback(where) and not allow_remote:
        raise UserError(f"--terminal {text} is not on this machine: give --allow-remote to "
                        "trade through a terminal on another machine")


def _our_server(text: str, allow_remote: bool) -> Any:
    from mt5bridge.remote.client import RemoteTerminal

    where = address_option(text, "--terminal", ", rpyc://HOST:PORT")
    _check_place(where, text, allow_remote)
    secret = os.environ.get(SECRET_ENV) or None
    if secret is None and isinstance(where, str):
        secret = os.path.join(os.path.dirname(os.path.abspath(where)), "secret")
    if secret is None:
        raise UserError(f"--terminal {text}: set {SECRET_ENV} to the terminal server's secret "
                        "file (the second line it printed, or its --secret-from file)")
    return RemoteTerminal(where, secret_file=secret, tls_ca=os.environ.get(CA_ENV) or None,
                          timeout_s=BRIDGE_TIMEOUT_S)


def _mt5linux(text: str, allow_remote: bool) -> Any:
    rest = text[len(RPYC_SCHEME):].rstrip("/")
    where = parse_address(rest)
    if isinstance(where, str):  # no port: mt5linux's
        where = parse_address(f"{rest}:{MT5LINUX_DEFAULT_PORT}")
    if not isinstance(where, tuple) or not where[0]:
        raise UserError(f"--terminal {text}: not rpyc://HOST:PORT (e.g. rpyc://127.0.0.1:18812)")
    _check_place(where, text, allow_remote)
    from mt5bridge.mt5linux_client import Mt5LinuxTerminal

    terminal = Mt5LinuxTerminal(where[0], where[1], timeout_s=BRIDGE_TIMEOUT_S)
    warn_mt5linux(format_address(where))
    return terminal


def warn_mt5linux(where: str) -> None:
    """Say once per process, in the log and on stderr, what an mt5linux server allows."""
    if _warned:
        return
    _warned.add(where)
    message = MT5LINUX_WARNING.format(where=where)
    if log.hasHandlers():  # without any, logging would print it to stderr a second time
        log.warning(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)
