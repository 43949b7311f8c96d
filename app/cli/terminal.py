"""``main.py terminal-server``: a terminal served to other processes.

By default a simulated MT5 terminal: it outlives the programs trading through it, like a
real one, which is what the crash-recovery tests and external tools need.  With ``--module
MetaTrader5`` (under a Windows Python, natively or in Wine) it serves the real package, so
``run --live --terminal ADDRESS`` and ``gui --live --terminal ADDRESS`` trade from Linux or
macOS (``mt5bridge.remote.module_server``); ``--write-zipapp FILE.pyz`` writes that server as
one file for the Windows Python (``mt5bridge.remote.zipapp``), ``--make-secret PATH`` a
secret for it to read with ``--secret-from``.  The command only registers the options;
building and serving the terminal is ``mt5bridge.remote``'s launcher, shared with
``python -m mt5bridge.remote --serve``.

The options are the launcher's own (``add_server_options``), and importing the launcher
loads the whole remote link (numpy, the codec): a quarter of a second that every other
command's start-up would pay.  So they are added when this command's parser is first used
(its arguments read or its help printed), not when ``main.py`` builds the parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from engine.errors import UserError

#: ``--terminal`` and ``--allow-remote`` of every live command (``run``, ``gui``,
#: ``live-check``): where the MetaTrader5 module is (``mt5bridge.terminals``).
TERMINAL_HELP = ("where the MetaTrader5 module is: HOST:PORT or a socket path "
                 "of 'terminal-server --module MetaTrader5' (its secret file in "
                 "$FXCLUSTER_TERMINAL_SECRET), or rpyc://HOST:PORT of an mt5linux server; "
                 "default: the MetaTrader5 package of this Python (Windows)")
ALLOW_REMOTE_HELP = ("allow a --terminal address on another machine (our server is then "
                     "reached over TLS only: its CA file in $FXCLUSTER_TERMINAL_CA)")


def add_terminal_options(parser: argparse._ActionsContainer) -> None:
    """``--terminal ADDRESS`` and ``--allow-remote``, read by ``open_terminal_module``."""
    parser.add_argument("--terminal", default=None, metavar="ADDRESS", help=TERMINAL_HELP)
    parser.add_argument("--allow-remote", action="store_true", help=ALLOW_REMOTE_HELP)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "terminal-server", help="serve a simulated MT5 terminal, or the MetaTrader5 module, "
        "to other processes",
        description="Run a simulated MetaTrader 5 terminal on the synthetic market in this "
        "process and serve it to other processes (mt5bridge.remote.RemoteTerminal), so it "
        "outlives the programs trading through it, like a real terminal; or, with --module "
        "MetaTrader5, serve the real package of this (Windows) Python.  The first line on "
        "stdout is the address, the second the secret file.",
    )
    defer_arguments(parser, _add_server_options)
    parser.set_defaults(func=run)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    from mt5bridge.remote import add_server_options
    from mt5bridge.remote.module_server import add_module_options

    add_server_options(parser)
    add_module_options(parser)
    parser.add_argument("--write-zipapp", default=None, metavar="FILE.pyz",
                        help="write the one-file server (standard library, numpy and the "
                        "served module only) for 'python.exe FILE.pyz --module MetaTrader5 "
                        "...' under a Windows Python, and exit")


def run(args: argparse.Namespace) -> int:
    from mt5bridge.remote import run_server

    if args.write_zipapp is not None:
        return _write_zipapp(args.write_zipapp)
    if args.module is not None or args.make_secret is not None:
        from mt5bridge.remote.module_server import run as run_module_server

        return run_module_server(args)
    if args.simulator_controls:
        raise UserError("--simulator-controls goes with --module (the simulated terminal "
                        "always serves its controls)")
    return run_server(args)


def _write_zipapp(target: str) -> int:
    from mt5bridge.remote.zipapp import write_server_zipapp

    try:
        path = write_server_zipapp(target)
    except OSError as exc:
        raise UserError(f"--write-zipapp {target}: {exc.strerror or exc}") from None
    print(path, flush=True)
    print(f"one-file terminal server written; under the terminal's Windows Python: python.exe "
          f"{path.name} --module MetaTrader5 --address 127.0.0.1:18813 --secret-from SECRET",
          file=sys.stderr)
    return 0


def defer_arguments(parser: argparse.ArgumentParser,
                    add: Callable[[argparse.ArgumentParser], None]) -> None:
    """Have ``add(parser)`` define ``parser``'s arguments the first time the parser reads a
    command line or formats its help, so an unused command costs nothing to register.

    The two methods are shadowed on this one parser object only, and the shadows remove
    themselves before ``add`` runs: afterwards the parser is an ordinary one.
    """

    def complete() -> None:
        for name in ("parse_known_args", "format_help", "format_usage"):
            vars(parser).pop(name, None)
        add(parser)

    def parse_known_args(*args: Any, **kwargs: Any) -> Any:
        complete()
        return parser.parse_known_args(*args, **kwargs)

    def format_help() -> str:
        complete()
        return parser.format_help()

    def format_usage() -> str:
        complete()
        return parser.format_usage()

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
    parser.format_help = format_help  # type: ignore[method-assign]
    parser.format_usage = format_usage  # type: ignore[method-assign]
