"""Where a terminal server listens, and whether that address stays on this machine.

Shared by the server (which binds the address) and the client (which connects to it), and
by the command line, which prints the address as one line another process reads back.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import stat
import sys

from engine.errors import UserError

#: A Unix socket path, or a ``(host, port)`` TCP address.
Address = str | tuple[str, int]

_TCP_TEXT = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


def parse_address(text: Address) -> Address:
    """``host:port`` is TCP; anything else is a Unix socket path."""
    if isinstance(text, tuple):
        host, port = text
        return str(host), int(port)
    match = _TCP_TEXT.match(text)
    if match is None:
        return text
    return match["host"].strip("[]"), int(match["port"])


#: The highest TCP port; a larger number would be taken modulo 65536 by the resolver (a
#: server asked for port 99999 listened on 34463).
MAX_PORT = 65_535


def address_option(text: str, option: str, other_forms: str = "") -> Address:
    """``parse_address`` for an address typed on the command line (``option``: the option
    that names it, for the error), with one rule more: text with a ``:`` and no ``/`` or
    ``\\`` is meant as HOST:PORT, so it is refused in one line when it is not one, instead
    of becoming a socket file of that name in the current folder (``localhost:80x``) or
    a port the resolver wraps (``localhost:99999``).  A socket path whose name holds a colon
    says it is a path with a ``/`` (``./a:b``), as the help asks of a socket path.
    ``other_forms`` adds what else the option takes to the error's list."""
    address = parse_address(text)
    if isinstance(address, tuple):
        if address[1] <= MAX_PORT:
            return address
    elif ":" not in text or "/" in text or "\\" in text:
        return address  # a socket path
    host, _, typed = text.rpartition(":")
    if not typed:
        why = "no port after the ':'"
    elif not typed.isdigit() or int(typed) > MAX_PORT:
        why = f"port {typed} is not a number from 0 to {MAX_PORT}"
    else:
        why = f"{host!r} is not a host name or an IP address (IPv6 in brackets: [::1]:PORT)"
    raise UserError(f"{option} {text}: {why}; give HOST:PORT (e.g. 127.0.0.1:18813)"
                    f"{other_forms} or a socket path with a '/' (e.g. ./{text})")


def format_address(address: Address) -> str:
    """The address as one line of text that ``parse_address`` reads back."""
    if isinstance(address, tuple):
        host, port = address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return address


def is_loopback(address: Address) -> bool:
    """Whether a connection to (or a listener on) ``address`` stays on this machine.

    A Unix socket always does.  A TCP host does when it is a loopback IP (127.0.0.0/8,
    ``::1``) or a name every one of whose addresses is one (``localhost``); an empty host or
    ``0.0.0.0`` listens on every interface, so it does not.  A name that does not resolve
    is not loopback: refusing is the safe answer.
    """
    if not isinstance(address, tuple):
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback
                               for info in infos)


def check_local_path(address: Address) -> None:
    """Refuse what the link does not serve on: Windows named pipes."""
    if isinstance(address, str) and address.startswith("\\\\"):
        raise UserError(f"{address}: named pipes are not served; use HOST:PORT on this machine "
                        "(e.g. 127.0.0.1:5555)")


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
