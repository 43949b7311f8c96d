"""Request validation for the trade server: each check refuses a request with a retcode.

The checks raise ``Reject`` rather than return a code so that a request handler reads as
the list of checks in the order a trader meets them (see ``trading.py``); ``send`` and
``check`` turn the exception into the result the terminal returns.
"""

from __future__ import annotations

import math
from typing import Any

from mt5bridge import constants as c
from mt5bridge.sim.account import Position, from_cents
from mt5bridge.sim.futures import trade_mode_at
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.trade_state import VOLUME_EPS, TradeState

__all__ = ["Reject", "TradeChecks"]


class Reject(Exception):
    """A request refused with a retcode (internal control flow)."""

    def __init__(self, retcode: int, *, quotes: bool = False) -> None:
        super().__init__(retcode)
        self.retcode = retcode
        self.quotes = quotes


class TradeChecks(TradeState):
    """The ``_require_*`` checks, volume validity and the free-margin test."""

    def _symbol(self, req: Any) -> tuple[int, SymbolSpec]:
        i = self.index_of.get(req.symbol)
        if i is None:
            raise Reject(c.TRADE_RETCODE_INVALID)
        return i, self.specs[i]

    @staticmethod
    def _volume_valid(spec: SymbolSpec, volume: float) -> bool:
        if not math.isfinite(volume) or volume < spec.volume_min - VOLUME_EPS:
            return False
        if volume > spec.volume_max + VOLUME_EPS:
            return False
        steps = volume / spec.volume_step
        return abs(steps - round(steps)) < 1e-6

    def _require_open_market(self, index: int | None = None) -> None:
        """The symbol's own session (a CFD's), else the account's FX hours (10018)."""
        session = self.specs[index].session if index is not None else None
        is_open = (session.is_open(self.now_msc) if session is not None
                   else self.config.market_hours.is_open(self.now_msc))
        if not is_open:
            raise Reject(c.TRADE_RETCODE_MARKET_CLOSED)

    def _trade_mode(self, spec: SymbolSpec) -> int:
        """The symbol's ``trade_mode`` now: a futures CFD's follows its dates
        (``futures.trade_mode_at``)."""
        return trade_mode_at(spec, self.now_msc) if spec.expiration_time else spec.trade_mode

    @staticmethod
    def _require_trade_mode(mode: int, is_buy: bool, opens: bool) -> None:
        """The symbol's ``trade_mode``: disabled (10017); close-only refuses what opens or
        adds (10044); long-only refuses a sell that opens or adds to a short (10042);
        short-only a buy that opens or adds to a long (10043).  Closing is always allowed."""
        if mode == c.SYMBOL_TRADE_MODE_DISABLED:
            raise Reject(c.TRADE_RETCODE_TRADE_DISABLED)
        if not opens or mode == c.SYMBOL_TRADE_MODE_FULL:
            return
        if mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
            raise Reject(c.TRADE_RETCODE_CLOSE_ONLY)
        if mode == c.SYMBOL_TRADE_MODE_LONGONLY and not is_buy:
            raise Reject(c.TRADE_RETCODE_LONG_ONLY)
        if mode == c.SYMBOL_TRADE_MODE_SHORTONLY and is_buy:
            raise Reject(c.TRADE_RETCODE_SHORT_ONLY)

    def _opens(self, index: int, is_buy: bool, volume: float, close: Position | None) -> bool:
        """Whether a market deal opens or adds to a position rather than only reducing one
        (hedging: unless it names the position it closes; netting: unless it is against the
        position and no larger)."""
        if close is not None:
            return False
        if self.config.hedging:
            return True
        pos = self._netting_position(index)
        against = pos is not None and (pos.type == c.POSITION_TYPE_BUY) != is_buy
        return not (against and pos is not None and volume <= pos.volume + VOLUME_EPS)

    def _require_quote(self, index: int) -> None:
        if not self.tape.has_quote[index]:
            raise Reject(c.TRADE_RETCODE_PRICE_OFF)

    @staticmethod
    def _require_filling(spec: SymbolSpec, type_filling: int, pending: bool) -> None:
        if type_filling == c.ORDER_FILLING_FOK:
            ok = bool(spec.filling_mode & c.SYMBOL_FILLING_FOK)
        elif type_filling == c.ORDER_FILLING_IOC:
            ok = bool(spec.filling_mode & c.SYMBOL_FILLING_IOC)
        elif type_filling == c.ORDER_FILLING_BOC:
            ok = pending and bool(spec.filling_mode & c.SYMBOL_FILLING_BOC)
        else:  # RETURN: allowed on an instant-execution symbol
            ok = type_filling == c.ORDER_FILLING_RETURN
        if not ok:
            raise Reject(c.TRADE_RETCODE_INVALID_FILL)

    @staticmethod
    def _require_stops(is_buy: bool, reference: float, sl: float, tp: float) -> None:
        if sl < 0 or tp < 0 or not (math.isfinite(sl) and math.isfinite(tp)):
            raise Reject(c.TRADE_RETCODE_INVALID_STOPS)
        if is_buy:
            ok = (sl == 0 or sl < reference) and (tp == 0 or tp > reference)
        else:
            ok = (sl == 0 or sl > reference) and (tp == 0 or tp < reference)
        if not ok:
            raise Reject(c.TRADE_RETCODE_INVALID_STOPS)

    def _margin_after_deal(self, index: int, spec: SymbolSpec, is_buy: bool, volume: float,
                           close: Position | None) -> float:
        margin = self.margin()
        if close is not None:
            return margin - close.margin * min(1.0, volume / close.volume)
        if not self.config.hedging:
            pos = self._netting_position(index)
            if pos is not None and (pos.type == c.POSITION_TYPE_BUY) != is_buy:
                if volume <= pos.volume + VOLUME_EPS:
                    return margin - pos.margin * volume / pos.volume
                rest = volume - pos.volume
                return margin - pos.margin + self.converter.margin(
                    spec, rest, self.config.leverage)
        return margin + self.converter.margin(spec, volume, self.config.leverage)

    def _require_money(self, margin_after: float, volume: float,
                       spec: SymbolSpec | None = None) -> None:
        if margin_after <= self.margin() + 1e-9:
            return  # reduces exposure: always allowed
        equity_after = self.equity() + from_cents(self._commission_cents(volume, spec))
        if equity_after - margin_after < 0:
            raise Reject(c.TRADE_RETCODE_NO_MONEY)

    def _require_pending_price(self, index: int, order_type: int, price: float) -> None:
        bid, ask = float(self.tape.bid[index]), float(self.tape.ask[index])
        if price <= 0 or not math.isfinite(price):
            raise Reject(c.TRADE_RETCODE_INVALID_PRICE)
        ok = {
            c.ORDER_TYPE_BUY_LIMIT: price < ask,
            c.ORDER_TYPE_SELL_LIMIT: price > bid,
            c.ORDER_TYPE_BUY_STOP: price > ask,
            c.ORDER_TYPE_SELL_STOP: price < bid,
        }[order_type]
        if not ok:
            raise Reject(c.TRADE_RETCODE_INVALID_PRICE)
