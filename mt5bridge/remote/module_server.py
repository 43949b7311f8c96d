"""Serve an importable module with the ``MetaTrader5`` surface: the real package, above all.

The official ``MetaTrader5`` package exists for Windows only.  A trader on Linux or macOS
runs the terminal under Wine with a Windows Python beside it; that Python runs this server
(``main.py terminal-server --module MetaTrader5``, or the one-file ``.pyz`` written by
``--write-zipapp``, see ``mt5bridge.remote.zipapp``) and the product trades through it from
the other side with ``--terminal ADDRESS`` (``mt5bridge.terminals``).

It is ``TerminalServer`` with the module in place of the simulator: the same secret-file
handshake, the same typed wire (no pickle, no code), and only the module's MetaTrader5
functions callable (``wire.MT5_FUNCTIONS``, the list of the reference API); the simulator's
``sim_*`` controls are served only with ``--simulator-controls`` (tests serving a simulated
terminal as a module).  The module's results keep their types: its structs cross by name and
field values and come back as the product's struct types of the same name, its numpy arrays
with exactly their dtype.

Only the standard library, numpy and the served module are imported on this side: the
Windows Python inside Wine needs nothing else installed (``tests`` check it with pandas,
pyarrow, PySide6, numba and sqlite-utils blocked).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import UserError
from mt5bridge.remote.address import parse_address
from mt5bridge.remote.launch import (
    add_link_options,
    check_link_options,
    link_tls,
    serve_until_stopped,
)
from mt5bridge.remote.secret import new_secret, write_secret_file
from mt5bridge.remote.server import TerminalServer, check_server_address
from mt5bridge.remote.wire import MT5_FUNCTIONS

#: Where this server's code is: a checkout of the product, or the one-file server (.pyz).
SERVER_HOME = Path(__file__).resolve().parents[2]
#: What a module must offer to be served: the calls every client makes first.
REQUIRED_FUNCTIONS = ("initialize", "shutdown", "last_error", "account_info", "order_send")


def add_module_options(parser: argparse.ArgumentParser) -> None:
    """``--module`` and the one-file install's options (the address options are separate)."""
    group = parser.add_argument_group("a module with the MetaTrader5 surface")
    group.add_argument("--module", default=None, metavar="NAME",
                       help="serve this importable module instead of a simulated terminal: "
                       "MetaTrader5 (the real package, under a Windows Python)")
    group.add_argument("--simulator-controls", action="store_true",
                       help="with --module: also serve the module's sim_* controls (a "
                       "simulated terminal served as a module, for tests)")
    group.add_argument("--make-secret", default=None, metavar="PATH",
                       help="write a new secret to PATH (mode 0600; must not exist yet) for "
                       "a server started with --secret-from PATH, print PATH and exit")


def load_module(name: str) -> Any:
    """The module to serve; one line naming what is missing when it cannot be."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        hint = (" (install it into this Python: pip install MetaTrader5 numpy; it exists "
                "for Windows only, so run this under a Windows Python, natively or in Wine)"
                if name == "MetaTrader5" else "")
        raise UserError(f"--module {name}: cannot import it: {exc}{hint}") from None
    missing = [f for f in REQUIRED_FUNCTIONS if not callable(getattr(module, f, None))]
    if missing:
        raise UserError(f"--module {name}: not the MetaTrader5 surface (no "
                        f"{', '.join(missing)})")
    return module


def make_secret(path: str) -> int:
    """``--make-secret PATH``: a secret for a server to read with ``--secret-from``."""
    write_secret_file(Path(path), new_secret())
    print(Path(path).absolute(), flush=True)
    return 0


def serve_module(args: argparse.Namespace) -> int:
    """Import ``args.module`` and serve it until Ctrl+C or SIGTERM."""
    check_link_options(args)
    tls = link_tls(args)
    if args.address is not None:
        check_server_address(parse_address(args.address), args.allow_remote, tls)
    module = load_module(args.module)
    address = ("127.0.0.1", 0) if args.tcp else args.address
    server = TerminalServer(module, address, secret_file=args.secret_file,
                            shared_secret_file=args.secret_from, allow_remote=args.allow_remote,
                            tls=tls, sim_controls=args.simulator_controls)
    offered = sum(callable(getattr(module, f, None)) for f in MT5_FUNCTIONS)
    what = (f"module {args.module} ({offered} of the {len(MT5_FUNCTIONS)} MetaTrader5 "
            f"functions{', simulator controls' if args.simulator_controls else ''}) with the "
            f"server of {SERVER_HOME}")
    return serve_until_stopped(server, args.address, what)


def run(args: argparse.Namespace) -> int:
    """The module server's actions: make a secret, or serve the module."""
    if args.make_secret is not None:
        return make_secret(args.make_secret)
    if args.module is None:
        raise UserError("--module NAME is required (e.g. --module MetaTrader5)")
    return serve_module(args)


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the MetaTrader5 module of this Python to the trading console on "
        "another system (Linux or macOS beside Wine) over an authenticated, typed link.  The "
        "first line on stdout is the address, the second the secret file clients need.",
    )
    add_module_options(parser)
    add_link_options(parser)
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """The one-file server's entry point (and ``python -m mt5bridge.remote.module_server``)."""
    parser = build_parser(prog or Path(sys.argv[0]).name)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
