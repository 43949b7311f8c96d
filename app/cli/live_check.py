"""``main.py live-check``: rehearse the live path against the trader's terminal, trading nothing.

Prints a pass/fail table (``--json``: the same rows for a program) with the fix of each
failure; exit 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for bad
input.  The checks are ``app.livecheck``'s; the terminal is found as ``run --live`` finds
it (``mt5bridge.terminals.open_terminal_module``).
"""

from __future__ import annotations

import argparse

from app.cli.args import add_clusters_option, add_config_option, chosen_clusters
from app.cli.terminal import add_terminal_options
from engine.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "live-check", help="rehearse live trading against the MetaTrader 5 terminal "
        "(no order is sent)",
        description="Connect to the MetaTrader 5 terminal as a live session does and check, "
        "one row each: the connection and build, the account and its margin mode, the Algo "
        "Trading switch, the server clock, the imported news calendar, every configured "
        "symbol (the broker's name, trade and filling modes), every market now, and "
        "order_check of a minimal basket of each cluster, both sides.  No order is sent.  "
        "Exit 0 when nothing failed (warnings allowed), 1 when a check failed.")
    add_terminal_options(p)  # as run --live and gui --live have them
    add_config_option(p)
    add_clusters_option(p)
    p.add_argument("--login", type=int, metavar="N",
                   help="the account to log in to (default: the terminal's); the password is "
                   "read from $FXCLUSTER_MT5_PASSWORD or the OS keyring")
    p.add_argument("--server", metavar="S", help="the account's trade server (with --login)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.livecheck import run_live_check
    from engine.config import load_engine_config
    from mt5bridge.terminals import open_terminal_module

    if args.login is not None and args.login <= 0:
        raise UserError(f"--login: {args.login} is not an account number")
    if args.server is not None and args.login is None:
        raise UserError("--server goes with --login")
    config = chosen_clusters(load_engine_config(args.config), args.clusters)
    module = open_terminal_module(args.terminal, allow_remote=args.allow_remote)
    report = run_live_check(module, config, address=args.terminal, login=args.login,
                            server=args.server,
                            # the shipped clusters, as run --live fits them to the broker
                            fit_to_broker=args.config is None and not args.clusters)
    print(report.as_json() if args.json else report.as_table())
    return report.exit_status
