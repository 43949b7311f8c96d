"""The ``order_check`` request live-check sends, and what each refusal means for the trader.

The request is the engine's own market deal (``engine.execution.Executor.check_leg``): the
side's price, the execution deviation, the cluster's magic, GTC, and the filling mode the
adapter takes from the symbol.  Nothing is sent with ``order_send``.
"""

from __future__ import annotations

from typing import Any

from mt5bridge import constants as c

__all__ = ["ALGO_TRADING_FIX", "market_request", "retcode_fix", "retcode_text"]

#: Where the terminal's two switches for automated trading are.
ALGO_TRADING_FIX = (
    'press "Algo Trading" in the terminal\'s toolbar (it turns green), and tick Tools > '
    'Options > Expert Advisors > "Allow algorithmic trading"')

_NAMES = {code: name[len("TRADE_RETCODE_"):] for name, code in vars(c).items()
          if name.startswith("TRADE_RETCODE_") and isinstance(code, int)}

_FIXES = {
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: ALGO_TRADING_FIX,
    c.TRADE_RETCODE_SERVER_DISABLES_AT: "the broker disables automated trading: ask the broker",
    c.TRADE_RETCODE_MARKET_CLOSED: "nothing to fix: the engine trades when the market opens "
    "(FX: Sunday 22:00 to Friday 22:00 UTC); run live-check again then",
    c.TRADE_RETCODE_NO_MONEY: "the account's free margin does not cover it: deposit, or "
    "check fewer clusters at once",
    c.TRADE_RETCODE_INVALID_FILL: "the broker refuses the filling mode its symbol lists: ask "
    "the broker which one market orders take",
    c.TRADE_RETCODE_TRADE_DISABLED: "the broker does not trade this symbol now: check "
    "clusters without it (--clusters)",
    c.TRADE_RETCODE_CLOSE_ONLY: "the broker only lets positions in it be closed: check "
    "clusters without it (--clusters)",
    c.TRADE_RETCODE_PRICE_OFF: "no prices: show the symbol in Market Watch and wait for quotes",
    c.TRADE_RETCODE_INVALID_VOLUME: "the broker's volume limits refuse the smallest basket: "
    "compare the symbol's minimum and step in its specification",
}


def retcode_text(code: int, comment: str) -> str:
    """``0 Done``, ``10018 MARKET_CLOSED (Market closed)``."""
    if code == 0:
        return f"0 {comment or 'Done'}"
    name = _NAMES.get(code)
    return f"{code} {name} ({comment})" if name else f"{code} {comment}"


def retcode_fix(code: int) -> str:
    return _FIXES.get(code, "see the terminal's Journal tab for the broker's reason")


def market_request(symbol: str, lots: float, tick: Any, magic: int,
                   deviation: int = 20) -> dict[str, Any]:
    """A market deal of ``lots`` (signed: + buys) at the side's price, as the engine sends
    it (``deviation``: ``ExecutionConfig.deviation_points``); the adapter fills in the
    symbol's filling mode and the broker's name."""
    buy = lots > 0
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": round(abs(lots), 8),
            "type": c.ORDER_TYPE_BUY if buy else c.ORDER_TYPE_SELL,
            "price": float(tick.ask if buy else tick.bid),
            "deviation": deviation, "magic": magic,
            "comment": "live-check", "type_time": c.ORDER_TIME_GTC}
