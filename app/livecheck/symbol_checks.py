"""The checks of each configured symbol: present (with the broker's name), selected, its
trade mode and filling modes; and of its market now: does the server take a trade in it?

The market is asked, not computed: the Python API has no session table, so the check sends
``order_check`` for the symbol's smallest volume (nothing is traded) and reads the retcode;
10018 means the market is closed now, a warning (the engine waits for it), not a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.livecheck.connect import format_utc
from app.livecheck.report import Check, Verdict
from app.livecheck.retcodes import market_request, retcode_fix, retcode_text
from mt5bridge import constants as c
from mt5bridge.live import LiveTerminal

__all__ = ["market_check", "missing_symbol_check", "symbol_check"]

_TRADE_MODES = {
    c.SYMBOL_TRADE_MODE_FULL: "full",
    c.SYMBOL_TRADE_MODE_LONGONLY: "long only",
    c.SYMBOL_TRADE_MODE_SHORTONLY: "short only",
    c.SYMBOL_TRADE_MODE_CLOSEONLY: "close only",
    c.SYMBOL_TRADE_MODE_DISABLED: "disabled",
}
_FILLING_NAMES = {c.ORDER_FILLING_FOK: "FOK", c.ORDER_FILLING_IOC: "IOC",
                  c.ORDER_FILLING_RETURN: "RETURN"}
#: Execution modes where a market order must be filled FOK or IOC (RETURN is refused).
_MARKET_EXECUTION = (c.SYMBOL_TRADE_EXECUTION_MARKET, c.SYMBOL_TRADE_EXECUTION_EXCHANGE)
#: A quote older than this while the market takes trades is worth a warning.
_STALE_QUOTE_S = 300.0


def missing_symbol_check(symbol: str) -> Check:
    return Check(f"symbol {symbol}", Verdict.FAIL,
                 f"the broker offers no {symbol}, nor {symbol} with a suffix",
                 "show all symbols in the terminal's Market Watch (right click > Show All) "
                 "and check the broker's name for it; or check clusters without it "
                 "(--clusters)")


def _filling_text(mode: int) -> str:
    allowed = [name for bit, name in ((c.SYMBOL_FILLING_FOK, "FOK"),
                                      (c.SYMBOL_FILLING_IOC, "IOC"),
                                      (c.SYMBOL_FILLING_BOC, "BOC")) if mode & bit]
    return "+".join(allowed) if allowed else "none (RETURN only)"


def symbol_check(adapter: LiveTerminal, symbol: str) -> Check:
    """The broker's name, Market Watch, trade mode and the filling mode the adapter sends."""
    name = f"symbol {symbol}"
    info = adapter.symbol_info(symbol)
    if info is None:
        code, message = adapter.last_error()
        return Check(name, Verdict.FAIL, f"symbol_info failed: {code} {message}",
                     "show the symbol in the terminal's Market Watch and run live-check again")
    broker = adapter.broker_symbol(symbol)
    mode = int(info.trade_mode)
    filling = adapter.filling_mode_for(symbol)
    allowed = _filling_text(int(info.filling_mode))
    detail = (f"{broker} at the broker{' (its suffix)' if broker != symbol else ''}, "
              f"{'selected in Market Watch' if info.select else 'NOT selected'}, trade mode "
              f"{_TRADE_MODES.get(mode, str(mode))}, filling {allowed}: the adapter sends "
              f"{_FILLING_NAMES.get(filling, str(filling))}")
    if not info.select:
        return Check(name, Verdict.FAIL, detail,
                     "the terminal refused symbol_select: show the symbol in Market Watch")
    if mode in (c.SYMBOL_TRADE_MODE_DISABLED, c.SYMBOL_TRADE_MODE_CLOSEONLY):
        return Check(name, Verdict.FAIL, f"{detail}: no basket can open a leg in it",
                     "check clusters without this symbol (--clusters), or ask the broker")
    if filling == c.ORDER_FILLING_RETURN and int(info.trade_exemode) in _MARKET_EXECUTION:
        return Check(name, Verdict.FAIL, f"{detail}: market execution refuses RETURN",
                     "ask the broker which filling modes the symbol takes")
    if mode != c.SYMBOL_TRADE_MODE_FULL:
        side = "sell" if mode == c.SYMBOL_TRADE_MODE_LONGONLY else "buy"
        return Check(name, Verdict.WARN, f"{detail}: baskets that {side} it are refused",
                     "expect only the baskets of one direction in the clusters of this symbol")
    return Check(name, Verdict.PASS, detail)


def market_check(adapter: LiveTerminal, symbol: str, clock: Callable[[], float]) -> Check:
    """Whether the server takes a trade in ``symbol`` now (``order_check`` of its smallest
    volume), and how old its last quote is."""
    name = f"market {symbol}"
    info, tick = adapter.symbol_info(symbol), adapter.symbol_info_tick(symbol)
    if info is None or tick is None:
        code, message = adapter.last_error()
        return Check(name, Verdict.WARN, f"no quote ({code} {message})",
                     "wait for quotes (the market may be closed) and run live-check again")
    volume = float(info.volume_min)
    result = adapter.order_check(market_request(symbol, volume, tick, magic=0))
    code, comment = _result_code(adapter, result)
    quoted = adapter.utc_ms_from_server_ms(int(tick.time_msc)) / 1000
    age = clock() - quoted
    last = f"last quote {format_utc(quoted)} ({_age_text(age)} before now)"
    probe = f"order_check of a {volume:g}-lot buy: {retcode_text(code, comment)}"
    if code == c.TRADE_RETCODE_MARKET_CLOSED:
        return Check(name, Verdict.WARN, f"closed now: {probe}; {last}",
                     retcode_fix(code))
    if code != 0:
        return Check(name, Verdict.FAIL, f"{probe}; {last}", retcode_fix(code))
    if age > _STALE_QUOTE_S:
        return Check(name, Verdict.WARN, f"open ({probe}) but quiet: {last}",
                     "check the terminal's connection and that the symbol quotes")
    return Check(name, Verdict.PASS, f"open: {probe}; {last}")


def _result_code(adapter: LiveTerminal, result: Any) -> tuple[int, str]:
    if result is None:
        code, message = adapter.last_error()
        return int(code), str(message)
    return int(result.retcode), str(result.comment)


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"
