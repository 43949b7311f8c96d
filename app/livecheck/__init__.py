"""``live-check``: the live path rehearsed against the trader's terminal, without trading.

It connects exactly as a live session does (``LiveTerminal`` over whatever plays the
``MetaTrader5`` module: the installed package, or a terminal served over a bridge; the
broker's suffix and the server clock detected), then checks, one row each: the connection
and the terminal's build; the account, its margin mode (and what netting means for
baskets); the Algo Trading switch (off: every ``order_send`` returns 10027); the server
clock and how it was found; the imported news calendar (would a session started now trade,
or refuse every entry on a stale calendar); every configured symbol (the broker's name,
Market Watch, trade mode, the filling mode the adapter sends); every market now
(``order_check`` of the smallest volume: 10018 is a closed market, a warning); and
``order_check`` of a minimal basket of each cluster, both sides, with its retcode and
margin.  Nothing is sent with ``order_send``, and no journal is opened.

The package: ``connect`` (the adapter, the missing symbols, the clock), ``terminal_checks``,
``calendar_check``, ``symbol_checks``, ``baskets``, ``retcodes`` (the request and what
refusals mean) and ``report`` (rows, verdicts, the table and JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.basis_start import resolve_basis, without_auto
from app.livecheck.baskets import MARGIN_NOTE, basket_checks
from app.livecheck.calendar_check import calendar_check
from app.livecheck.connect import Connection, connect, format_utc, terminal_clock
from app.livecheck.report import Check, LiveCheckReport, Verdict
from app.livecheck.symbol_checks import market_check, missing_symbol_check, symbol_check
from app.livecheck.terminal_checks import (
    account_check,
    algo_trading_check,
    connection_check,
    margin_mode_check,
    server_time_check,
)
from app.sessions import cluster_needs, clusters_lacking
from engine.config import EngineConfig
from engine.errors import UserError
from mt5bridge.live import LiveConfig

__all__ = ["Check", "LiveCheckReport", "Verdict", "run_live_check"]


def run_live_check(module: Any, config: EngineConfig, *, address: str | None = None,
                   login: int | None = None, server: str | None = None,
                   clock: Callable[[], float] | None = None,
                   fit_to_broker: bool = False) -> LiveCheckReport:
    """Every check against the terminal ``module`` plays (see the package docstring).

    ``address`` is the ``--terminal`` it was reached at (None: the installed package, or
    a module handed over in this process); ``clock`` (UTC seconds) is "now", by default
    the simulated terminal's own clock if it is one, else this machine's.
    ``fit_to_broker`` (the shipped clusters, none chosen): as a live session, the clusters
    the broker cannot feed are left out, which is a warning, and the rest are checked.
    """
    where = (f"the terminal at {address}" if address
             else f"the MetaTrader 5 terminal ({type(module).__name__})")
    if clock is None:
        clock, clock_name = terminal_clock(module)
    else:
        clock_name = "the given clock"
    report = LiveCheckReport(where, f"{format_utc(clock())} ({clock_name})")
    symbols = without_auto(config.symbols)
    live = LiveConfig(login=login, server=server, symbols=symbols)
    connection = connect(module, live, clock)
    left_out = _left_out(config, connection) if fit_to_broker else {}
    if left_out:
        config = config.with_clusters([c.name for c in config.clusters
                                       if c.name not in left_out])
        symbols = without_auto(config.symbols)
        connection = replace(connection, missing=(), refusal="")
    report.add(connection_check(connection, address))
    if left_out:
        report.add(left_out_check(left_out, [c.name for c in config.clusters]))
    adapter = connection.adapter
    if adapter is None:
        return report
    try:
        report.add(account_check(adapter, login))
        report.add(margin_mode_check(adapter, config.clusters))
        report.add(algo_trading_check(adapter))
        present = [s for s in symbols if s not in connection.missing]
        report.add(server_time_check(adapter, present, clock))
        report.add(calendar_check(config.news, clock()))
        for symbol in symbols:
            report.add(missing_symbol_check(symbol) if symbol in connection.missing
                       else symbol_check(adapter, symbol))
        for symbol in present:
            report.add(market_check(adapter, symbol, clock))
        try:
            config = resolve_basis(config, adapter, int(clock()))
        except UserError as exc:
            report.add(Check("baskets", Verdict.FAIL, str(exc),
                             "check the basis clusters' contracts at the broker"))
            return report
        for row in basket_checks(adapter, config, connection.missing):
            report.add(row)
        report.notes.append(MARGIN_NOTE)
    finally:
        adapter.close()
    return report


def _left_out(config: EngineConfig, connection: Connection) -> dict[str, list[str]]:
    """The clusters a live session on the shipped clusters leaves out, with the symbols the
    broker lacks; empty when none is, or when none could run (then every missing symbol
    fails its row, as for clusters the user chose)."""
    if connection.adapter is None or not connection.missing:
        return {}
    needed = {s for c in config.clusters for s in cluster_needs(config, c)}
    lacking = clusters_lacking(config, needed - set(connection.missing))
    left_out = {name: symbols for name, symbols in lacking.items() if symbols}
    return left_out if len(left_out) < len(config.clusters) else {}


def left_out_check(left_out: dict[str, list[str]], kept: list[str]) -> Check:
    return Check("clusters", Verdict.WARN,
                 "the broker lacks symbols of the shipped clusters: a live session leaves out "
                 + "; ".join(f"{name} (no {', '.join(symbols)})"
                             for name, symbols in left_out.items())
                 + f", and trades {', '.join(kept)}",
                 "to trade them, show all symbols in the terminal's Market Watch (right click "
                 "> Show All) and check the broker's names for them; to trade only some "
                 "clusters, choose them (--clusters or --config)")
