"""Where a terminal server listens, and the key that lets a process in.

Shared by the server (which binds the address) and the client (which connects to it), and
by the command line, which prints the address as one line another process reads back.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import sys

from engine.errors import UserError

#: A Unix socket path (or Windows pipe name), or a ``(host, port)`` TCP address.
Address = str | tuple[str, int]

#: Environment variable whose value, when set, is the default authentication key.
AUTHKEY_ENV = "FXCLUSTER_SIM_AUTHKEY"
DEFAULT_AUTHKEY = b"fxcluster-simulated-terminal"

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
    """``$FXCLUSTER_SIM_AUTHKEY`` when set, else the built-in key (see ``mt5bridge.remote``)."""
    value = os.environ.get(AUTHKEY_ENV, "")
    return value.encode("utf-8") if value else DEFAULT_AUTHKEY


def unix_sockets_usable() -> bool:
    """Whether this platform serves on Unix sockets (else: localhost TCP)."""
    return hasattr(socket, "AF_UNIX") and sys.platform != "win32"


def remove_stale_socket(path: str) -> None:
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
