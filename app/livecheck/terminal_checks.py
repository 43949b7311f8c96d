"""The checks of the terminal and the account: connection and build, account, margin mode,
Algo Trading and the server clock.

Each function reads the terminal through the connected ``LiveTerminal`` (the module's
functions with the product's symbol names) and returns one ``Check``; none of them trades.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from app.livecheck.connect import Connection, format_utc
from app.livecheck.report import Check, Verdict
from app.livecheck.retcodes import ALGO_TRADING_FIX
from engine.model import RunMode
from engine.startup import account_identity
from mt5bridge import constants as c
from mt5bridge.live import LiveTerminal
from mt5bridge.servertime import ServerTimeZone
from storage.paths import account_journal_path

__all__ = ["account_check", "algo_trading_check", "connection_check",
           "margin_mode_check", "server_time_check"]

_TRADE_MODES = {c.ACCOUNT_TRADE_MODE_DEMO: "demo", c.ACCOUNT_TRADE_MODE_CONTEST: "contest",
                c.ACCOUNT_TRADE_MODE_REAL: "real"}


def _connection_fix(refusal: str, address: str | None) -> str:
    """What to do about a failed connection, by what the bridge said of it."""
    if "secret" in refusal:
        return ("give the secret file the terminal server wrote (FXCLUSTER_TERMINAL_SECRET; "
                "owner-only), or start the server again and use its new file")
    if "as many connections as it accepts" in refusal:
        return "close another client of the terminal server, or wait, and run live-check again"
    served = (f"the terminal server at {address} and the MetaTrader 5 terminal it serves"
              if address else "the MetaTrader 5 terminal")
    return (f"start {served}, log in to the account in the terminal, and run live-check "
            "again")


def connection_check(connection: Connection, address: str | None) -> Check:
    """Connected through the live adapter, the terminal's build, its link to the broker."""
    adapter = connection.adapter
    if adapter is None:
        return Check("connection", Verdict.FAIL, connection.refusal,
                     _connection_fix(connection.refusal or "", address))
    version, info = adapter.version(), adapter.terminal_info()
    if info is None:
        code, message = adapter.last_error()
        return Check("connection", Verdict.FAIL, f"terminal_info() failed: {code} {message}",
                     "restart the terminal and run live-check again")
    built = (f"terminal build {info.build}"
             + (f" (version {version[0]}.{version[1]}, {version[2]})" if version else "")
             + f", {info.name} of {info.company}")
    if not info.connected:
        return Check("connection", Verdict.FAIL,
                     f"{built}; the terminal is not connected to the broker's trade server",
                     "check the connection status at the bottom right of the terminal and "
                     "its login (File > Login to Trade Account)")
    detail = f"connected through the live adapter; {built}; trade server connected"
    if connection.missing:
        detail += (f"; a live session would refuse to start ({connection.refusal}); "
                   "checked with the symbols the broker has")
    return Check("connection", Verdict.PASS, detail)


def account_check(adapter: LiveTerminal, login: int | None) -> Check:
    """Who is logged in, in what currency and leverage, whether it may trade, and which
    journal a live run of it writes."""
    info = adapter.account_info()
    if info is None:
        code, message = adapter.last_error()
        return Check("account", Verdict.FAIL, f"no account ({code} {message})",
                     "log in to the trading account in the terminal (File > Login to Trade "
                     "Account), or give --login and --server")
    mode = _TRADE_MODES.get(int(info.trade_mode), f"trade mode {info.trade_mode}")
    detail = (f"login {info.login} on {info.server} ({info.company}), {mode} account in "
              f"{info.currency}, leverage 1:{info.leverage}; balance {info.balance:,.2f}, "
              f"equity {info.equity:,.2f}, free margin {info.margin_free:,.2f} "
              f"{info.currency}")
    identity = account_identity(adapter, RunMode.LIVE)
    if identity is not None:
        detail += f"; a live run journals to {account_journal_path(identity)}"
    if login is not None and int(info.login) != login:
        return Check("account", Verdict.FAIL, f"{detail}; not --login {login}",
                     f"log the terminal in to account {login}")
    if not info.trade_allowed:
        return Check("account", Verdict.FAIL, f"{detail}; the broker allows no trading on it",
                     "log in with the account's master password (the investor password "
                     "only reads), or ask the broker why trading is disabled")
    if not info.trade_expert:
        return Check("account", Verdict.FAIL,
                     f"{detail}; the broker allows no automated trading on it",
                     "ask the broker to enable automated (expert) trading on the account")
    return Check("account", Verdict.PASS, detail)


def margin_mode_check(adapter: LiveTerminal, clusters: Iterable[Any]) -> Check:
    """Hedging or netting, and what netting means for baskets: one position per symbol, so
    two clusters' legs in one symbol merge and closing one basket moves the other's leg."""
    info = adapter.account_info()
    if info is None:
        return Check("margin mode", Verdict.FAIL, "no account to read",
                     "log in to the trading account in the terminal")
    if int(info.margin_mode) == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING:
        return Check("margin mode", Verdict.PASS,
                     "hedging: every basket leg is a position of its own, as the engine "
                     "expects")
    if int(info.margin_mode) != c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING:
        return Check("margin mode", Verdict.FAIL,
                     f"margin mode {info.margin_mode} (exchange): the engine trades retail "
                     "hedging or netting accounts", "use a retail hedging account")
    shared = _shared_symbols(clusters)
    netting = ("netting: one position per symbol; a basket's leg is the symbol's position, "
               "and a manual trade in that symbol changes it")
    if shared:
        listed = "; ".join(f"{s} ({', '.join(names)})" for s, names in shared.items())
        return Check("margin mode", Verdict.FAIL,
                     f"{netting}; clusters share symbols ({listed}): their legs would net "
                     "into one position and closing one basket would close the other's leg",
                     "use a hedging account, or check and run clusters that share no "
                     "symbol (--clusters)")
    return Check("margin mode", Verdict.WARN, f"{netting}; the checked clusters share no "
                 "symbol, so each leg stays its basket's",
                 "trade nothing else in these symbols on this account, or use a hedging "
                 "account")


def _shared_symbols(clusters: Iterable[Any]) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for spec in clusters:
        for symbol in spec.symbols:
            owners.setdefault(symbol, []).append(spec.name)
    return {s: names for s, names in owners.items() if len(names) > 1}


def algo_trading_check(adapter: LiveTerminal) -> Check:
    """The terminal's Algo Trading switch (``terminal_info().trade_allowed``): off, every
    ``order_send`` returns 10027; and the option that shuts the Python API out."""
    info = adapter.terminal_info()
    if info is None:
        return Check("algo trading", Verdict.FAIL, "terminal_info() failed",
                     "restart the terminal and run live-check again")
    if info.tradeapi_disabled:
        return Check("algo trading", Verdict.FAIL,
                     "the terminal disables algorithmic trading through the Python API",
                     'untick Tools > Options > Expert Advisors > "Disable algorithmic trading '
                     'via external Python API"')
    if not info.trade_allowed:
        return Check("algo trading", Verdict.FAIL,
                     "Algo Trading is off in the terminal (terminal_info().trade_allowed is "
                     "False): every order_send would return 10027 "
                     "TRADE_RETCODE_CLIENT_DISABLES_AT", ALGO_TRADING_FIX)
    return Check("algo trading", Verdict.PASS,
                 "Algo Trading is on (terminal_info().trade_allowed)")


def server_time_check(adapter: LiveTerminal, symbols: Iterable[str],
                      clock: Callable[[], float]) -> Check:
    """The broker's server clock as the adapter settled it, and how: detected from the
    freshest tick against the clock now (to the half hour), or assumed."""
    tz = adapter.server_tz
    now = clock()
    if adapter.server_tz_source == "configured":
        return Check("server time", Verdict.PASS, f"{tz.label}, as configured")
    latest = _freshest_tick(adapter, symbols)
    if adapter.server_tz_source != "detected":
        seen = (f"the freshest tick ({latest[0]}) is stamped {_server_text(latest[1])}"
                if latest else "no tick")
        return Check("server time", Verdict.WARN,
                     f"not detected ({seen}; the market is closed or the quotes are stale "
                     f"at {format_utc(now)}): assumed {tz.label}, the common retail clock",
                     "run live-check again while the market is open, before trading")
    offset_h = tz.offset_ms(int(now * 1000)) / 3_600_000
    how = (f"the freshest tick ({latest[0]}, stamped {_server_text(latest[1])}) against "
           f"{format_utc(now)}" if latest else "the freshest tick")
    typical = ServerTimeZone().offset_ms(int(now * 1000)) / 3_600_000
    kind = ("the common retail clock at this date, so the adapter follows US DST with it"
            if tz == ServerTimeZone() else f"not the common retail clock at this date "
            f"({typical:+g} h), so the adapter keeps it fixed")
    return Check("server time", Verdict.PASS,
                 f"{tz.label}, detected: server minus UTC is {offset_h:+g} h from {how}, "
                 f"to the half hour: {kind}")


def _server_text(server_ms: int) -> str:
    """A server wall-clock time as MT5 stamps it (epoch numbers read as if UTC)."""
    return format_utc(server_ms / 1000).replace(" UTC", " server time")


def _freshest_tick(adapter: LiveTerminal, symbols: Iterable[str]) -> tuple[str, int] | None:
    latest: tuple[str, int] | None = None
    for symbol in symbols:
        tick = adapter.symbol_info_tick(symbol)
        if tick is not None and (latest is None or int(tick.time_msc) > latest[1]):
            latest = (symbol, int(tick.time_msc))
    return latest
