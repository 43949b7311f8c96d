"""Which object plays the ``MetaTrader5`` module for a live session: ``--terminal ADDRESS``.

``open_terminal_module(None)`` is the locally installed ``MetaTrader5`` package (Windows);
an address is a terminal served by another process over the product's own authenticated
wire (``mt5bridge.remote``): ``HOST:PORT`` or a Unix socket path.  Whatever comes back is
handed to ``LiveTerminal(module=...)``, so the rest of the live path does not know where
the terminal is.

A TCP address that other machines can reach is refused unless ``allow_remote``: whoever
reaches a terminal can trade the account.  The client proves it holds the server's secret;
the secret file the server printed is named by ``$FXCLUSTER_TERMINAL_SECRET``, and a
server on another machine is reached over TLS only (its CA file in
``$FXCLUSTER_TERMINAL_CA``).
"""

from __future__ import annotations

import os
from typing import Any

from engine.errors import UserError

__all__ = ["CA_ENV", "SECRET_ENV", "open_terminal_module"]

#: The environment variable naming the terminal server's secret file (its second line).
SECRET_ENV = "FXCLUSTER_TERMINAL_SECRET"
#: The CA file a terminal server on another machine's certificate chains to (TLS).
CA_ENV = "FXCLUSTER_TERMINAL_CA"


def open_terminal_module(address: str | None, *, allow_remote: bool = False) -> Any:
    """An object with the ``MetaTrader5`` module's surface (see the module docstring)."""
    if address is None:
        from mt5bridge.live import _import_metatrader5

        return _import_metatrader5()
    if address.startswith("rpyc://"):
        raise UserError(f"--terminal {address}: mt5linux (rpyc://) terminals are not "
                        "supported by this build; serve the terminal with "
                        "'main.py terminal-server --module MetaTrader5'")
    from mt5bridge.remote import RemoteTerminal, format_address, is_loopback, parse_address

    where = parse_address(address)
    if not allow_remote and not is_loopback(where):
        raise UserError(f"--terminal {format_address(where)} is not on this machine: give "
                        "--allow-remote to trade through a terminal on another one")
    secret_file = os.environ.get(SECRET_ENV)
    if not secret_file:
        raise UserError(f"--terminal {format_address(where)}: set {SECRET_ENV} to the "
                        "terminal server's secret file (the second line it printed)")
    return RemoteTerminal(where, secret_file=secret_file,
                          tls_ca=os.environ.get(CA_ENV) or None)
