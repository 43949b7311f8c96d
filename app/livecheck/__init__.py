"""``live-check``: the live path rehearsed against the trader's terminal, without trading.

It connects exactly as a live session does (``LiveTerminal`` over whatever plays the
``MetaTrader5`` module: the installed package, or a terminal served over a bridge; the
broker's suffix and the server clock detected), then checks, one row each: the connection
and the terminal's build; the account, its margin mode (and what netting means for
baskets); the Algo Trading switch (off: every ``order_send`` returns 10027); the server
clock and how it was found; every configured symbol (the broker's name, Market Watch,
trade mode, the filling mode the adapter sends); every market now (``order_check`` of the
smallest volume: 10018 is a closed market, a warning); and ``order_check`` of a minimal
basket of each cluster, both sides, with its retcode and margin.  Nothing is sent with
``order_send``, and no journal is opened.

The package: ``connect`` (the adapter, the missing symbols, the clock), ``terminal_checks``,
``symbol_checks``, ``baskets``, ``retcodes`` (the request and what refusals mean) and
``report`` (rows, verdicts, the table and JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.basis_start import resolve_basis, without_auto
from app.livecheck.baskets import MARGIN_NOTE, basket_checks
from app.livecheck.connect import connect, format_utc, terminal_clock
from app.livecheck.report import Check, LiveCheckReport, Verdict
from app.livecheck.symbol_checks import market_check, missing_symbol_check, symbol_check
from app.livecheck.terminal_checks import (
    account_check,
    algo_trading_check,
    connection_check,
    margin_mode_check,
    server_time_check,
)
from engine.config import EngineConfig
from engine.errors import UserError
from mt5bridge.live import LiveConfig

__all__ = ["Check", "LiveCheckReport", "Verdict", "run_live_check"]


def run_live_check(module: Any, config: EngineConfig, *, address: str | None = None,
                   login: int | None = None, server: str | None = None,
                   clock: Callable[[], float] | None = None) -> LiveCheckReport:
    """Every check against the terminal ``module`` plays (see the package docstring).

    ``address`` is the ``--terminal`` it was reached at (None: the installed package, or
    a module handed over in this process); ``clock`` (UTC seconds) is "now", by default
    the simulated terminal's own clock if it is one, else this machine's.
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
    report.add(connection_check(connection, address))
    adapter = connection.adapter
    if adapter is None:
        return report
    try:
        report.add(account_check(adapter, login))
        report.add(margin_mode_check(adapter, config.clusters))
        report.add(algo_trading_check(adapter))
        present = [s for s in symbols if s not in connection.missing]
        report.add(server_time_check(adapter, present, clock))
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
