"""Serve a simulated terminal on the synthetic market from the command line.

``python -m mt5bridge.remote --serve`` (and ``main.py terminal-server``, registered by
``app.cli.terminal``) build a ``SimTerminal`` on the synthetic market, print the address as
the first line on stdout and the path of the secret file as the second, and serve until
Ctrl+C or SIGTERM, which stop the server cleanly so the socket and the secret file are
removed.  The secret itself is never printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.errors import UserError
from mt5bridge.remote.address import Address, address_option, format_address, parse_address
from mt5bridge.remote.link import server_tls_context
from mt5bridge.remote.server import TerminalServer, check_server_address

if TYPE_CHECKING:
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market_config import MarketConfig
    from mt5bridge.sim.terminal import SimTerminal


def synthetic_terminal(market: MarketConfig | None = None,
                       sim: SimConfig | None = None) -> SimTerminal:
    """A ``SimTerminal`` fed by the synthetic market: what ``--serve`` serves."""
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket
    from mt5bridge.sim.terminal import SimTerminal

    return SimTerminal(SyntheticMarket(market or MarketConfig()), sim or SimConfig())


def _utc_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or ISO date-time (e.g. 2019-01-07 or 2019-01-07T08:00)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--serve`` / ``terminal-server``: market, broker and address."""
    add_market_options(parser)
    add_link_options(parser)


def add_market_options(parser: argparse.ArgumentParser) -> None:
    """The simulated terminal's options: its synthetic market and its broker."""
    market = parser.add_argument_group("synthetic market")
    market.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    market.add_argument("--symbols", type=_names, default=None, metavar="A,B,...",
                        help="symbols quoted (default: all 16 the simulated broker lists)")
    market.add_argument("--start", type=_utc_datetime, default=None, metavar="DATE",
                        help="first tick, UTC (default 2019-01-07)")
    market.add_argument("--end", type=_utc_datetime, default=None, metavar="DATE",
                        help="end of the feed, UTC, exclusive (default: endless)")
    market.add_argument("--warmup-days", type=int, default=35, metavar="N",
                        help="days of M1 history before the start (default 35)")
    market.add_argument("--ticks-per-minute", type=float, default=8.0, metavar="X",
                        help="mean ticks per minute for a symbol of average liquidity "
                        "(default 8)")
    broker = parser.add_argument_group("simulated broker")
    broker.add_argument("--balance", type=float, default=100_000.0,
                        help="starting balance in USD (default 100000)")
    broker.add_argument("--symbol-suffix", default="", metavar="SUFFIX",
                        help="broker suffix on every symbol name, e.g. .a (default none)")
    broker.add_argument("--select", type=_names, default=(), metavar="A,B,...",
                        help="symbols already in Market Watch (default none)")


def add_link_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Where the server listens, its secret and TLS: the same for every terminal served."""
    link = parser.add_argument_group("address")
    where = link.add_mutually_exclusive_group()
    where.add_argument("--address", "--listen", default=None, metavar="PATH|HOST:PORT",
                       help="Unix socket path or HOST:PORT (default: a socket in a new "
                       "temporary folder); a socket path with a ':' in its name needs a '/' "
                       "(./a:b), or it is read as HOST:PORT")
    where.add_argument("--tcp", action="store_true",
                       help="listen on a free localhost TCP port")
    secret = link.add_mutually_exclusive_group()
    secret.add_argument("--secret-file", default=None, metavar="PATH",
                        help="where to write the new secret clients need (mode 0600; must not "
                        "exist yet; default: a file in a new private temporary folder); the "
                        "path is the second line on stdout")
    secret.add_argument("--secret-from", default=None, metavar="PATH",
                        help="serve with the secret already in this file (made by "
                        "'terminal-server --make-secret PATH' where the clients run, e.g. "
                        "outside a Wine prefix); the file is left in place")
    link.add_argument("--allow-remote", action="store_true",
                      help="allow an --address other machines can reach (requires --tls-cert "
                      "and --tls-key); without it only loopback addresses are accepted")
    link.add_argument("--tls-cert", default=None, metavar="PEM",
                      help="TLS certificate chain of the server (with --tls-key)")
    link.add_argument("--tls-key", default=None, metavar="PEM",
                      help="TLS private key of the server (with --tls-cert)")
    return link


def check_link_options(args: argparse.Namespace) -> None:
    """The address and TLS options, before a terminal is built: one line for each mistake."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UserError("--tls-cert and --tls-key go together")
    tcp = args.tcp or (args.address is not None
                       and isinstance(address_option(args.address, "--address"), tuple))
    if args.tls_cert is not None and not tcp:
        raise UserError("--tls-cert: TLS is for a TCP address (--address HOST:PORT or --tcp)")


def link_tls(args: argparse.Namespace) -> Any:
    if args.tls_cert is None:
        return None
    try:
        return server_tls_context(args.tls_cert, args.tls_key)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise UserError(f"--tls-cert {args.tls_cert} / --tls-key {args.tls_key}: cannot load "
                        f"({getattr(exc, 'strerror', None) or exc})") from None


def run_server(args: argparse.Namespace) -> int:
    """Build the terminal, print the address and the secret file path, serve until stopped."""
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.market import MarketConfig

    check_link_options(args)
    tls = link_tls(args)
    if args.address is not None:  # refuse a bad address before building the market
        check_server_address(parse_address(args.address), args.allow_remote, tls)

    market_options: dict[str, Any] = {
        "seed": args.seed, "warmup_days": args.warmup_days,
        "ticks_per_minute": args.ticks_per_minute, "end": args.end,
    }
    if args.symbols:
        market_options["symbols"] = args.symbols
    if args.start is not None:
        market_options["start"] = args.start
    terminal = synthetic_terminal(
        MarketConfig(**market_options),
        SimConfig(market_seed=args.seed, balance=args.balance,
                  symbol_suffix=args.symbol_suffix, selected=tuple(args.select)),
    )
    address: Address | None = ("127.0.0.1", 0) if args.tcp else args.address
    server = TerminalServer(terminal, address, secret_file=args.secret_file,
                            shared_secret_file=args.secret_from,
                            allow_remote=args.allow_remote, tls=tls)
    return serve_until_stopped(server, args.address, repr(terminal))


def serve_until_stopped(server: TerminalServer, requested: str | None, what: str) -> int:
    """Start ``server``, print its address and secret file, serve until Ctrl+C or SIGTERM."""
    try:
        server.start()
    except OSError as exc:
        raise UserError(f"cannot listen at {requested or 'localhost'}: {exc}") from None
    previous = _stop_on_sigterm()
    try:
        print(format_address(server.address), flush=True)
        print(server.secret_file, flush=True)
        print(f"serving {what} at {format_address(server.address)}; clients read the "
              f"secret from {server.secret_file}; Ctrl+C or SIGTERM stops", file=sys.stderr,
              flush=True)
        while True:
            time.sleep(3600)  # signals interrupt the sleep
    except (KeyboardInterrupt, _StopServing):
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


class _StopServing(Exception):
    """Raised by the SIGTERM handler to leave the serving loop cleanly."""


def _stop_on_sigterm() -> Any:
    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut stop()
        raise _StopServing()

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mt5bridge.remote --serve [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m mt5bridge.remote",
        description="Serve a simulated MetaTrader 5 terminal on the synthetic market to "
        "other processes.  The first line on stdout is the address, the second the path of "
        "the secret file clients need.",
    )
    parser.add_argument("--serve", action="store_true", required=True,
                        help="build the terminal and serve it until SIGTERM or Ctrl+C")
    add_server_options(parser)
    args = parser.parse_args(argv)
    try:
        return run_server(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
