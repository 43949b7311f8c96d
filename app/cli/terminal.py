"""``main.py terminal-server``: a simulated MT5 terminal served to other processes.

The terminal outlives the programs trading through it, like a real one, which is what the
crash-recovery tests and external tools need.  The command only registers the options;
building and serving the terminal is ``mt5bridge.remote``'s launcher, shared with
``python -m mt5bridge.remote --serve``.

The options are the launcher's own (``add_server_options``), and importing the launcher
loads the whole remote link (numpy, the codec): a quarter of a second that every other
command's start-up would pay.  So they are added when this command's parser is first used
(its arguments read or its help printed), not when ``main.py`` builds the parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "terminal-server", help="serve a simulated MT5 terminal to other processes",
        description="Run a simulated MetaTrader 5 terminal on the synthetic market in this "
        "process and serve it to other processes (mt5bridge.remote.RemoteTerminal), so it "
        "outlives the programs trading through it, like a real terminal.  The first line "
        "on stdout is the address.",
    )
    defer_arguments(parser, _add_server_options)
    parser.set_defaults(func=run)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    from mt5bridge.remote import add_server_options

    add_server_options(parser)


def run(args: argparse.Namespace) -> int:
    from mt5bridge.remote import run_server

    return run_server(args)


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
