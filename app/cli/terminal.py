"""``main.py terminal-server``: a simulated MT5 terminal served to other processes.

The terminal outlives the programs trading through it, like a real one, which is what the
crash-recovery tests and external tools need.  The command only registers the options;
building and serving the terminal is ``mt5bridge.remote``'s launcher, shared with
``python -m mt5bridge.remote --serve``.
"""

from __future__ import annotations

import argparse

from mt5bridge.remote import add_server_options, run_server


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "terminal-server", help="serve a simulated MT5 terminal to other processes",
        description="Run a simulated MetaTrader 5 terminal on the synthetic market in this "
        "process and serve it to other processes (mt5bridge.remote.RemoteTerminal), so it "
        "outlives the programs trading through it, like a real terminal.  The first line "
        "on stdout is the address.",
    )
    add_server_options(parser)
    parser.set_defaults(func=run_server)
