"""Market deals (``TRADE_ACTION_DEAL``): validated, then filled at the current quote.

Market orders execute the way an MT5 "instant execution" FX server does: buys fill at the
ask and sells at the bid of the current quote; a request whose price is further from that
quote than ``deviation`` points is requoted (10004) instead.  After the checks, the seeded
faults may refuse the deal, or fill only part of an IOC request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mt5bridge import constants as c
from mt5bridge.sim.account import Deal, Order, Position
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.trade_checks import Reject
from mt5bridge.sim.trade_state import VOLUME_EPS, TradeState, round_volume

__all__ = ["MarketDeals"]

#: The retcode each seeded trade fault answers with.
_FAULT_RETCODES = {
    "timeout": c.TRADE_RETCODE_TIMEOUT, "reject": c.TRADE_RETCODE_REJECT,
    "price_off": c.TRADE_RETCODE_PRICE_OFF, "requote": c.TRADE_RETCODE_REQUOTE,
}


@dataclass
class _MarketPlan:
    """A validated market deal, ready to execute."""

    index: int
    spec: SymbolSpec
    is_buy: bool
    volume: float
    close: Position | None  # hedging: the position this deal closes


class MarketDeals(TradeState):
    """Buy and sell at market: open, add to, reduce, close or reverse a position."""

    def _market(self, req: Any, check_only: bool) -> Any:
        index, spec = self._symbol(req)
        if req.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            raise Reject(c.TRADE_RETCODE_INVALID_ORDER)
        is_buy = req.type == c.ORDER_TYPE_BUY
        volume = req.volume
        if not self._volume_valid(spec, volume):
            raise Reject(c.TRADE_RETCODE_INVALID_VOLUME)
        self._require_open_market(index)
        self._require_quote(index)
        self._require_filling(spec, req.type_filling, pending=False)
        close = self._position_to_close(req, index, is_buy, volume)
        mode = self._trade_mode(spec)
        if mode != c.SYMBOL_TRADE_MODE_FULL:
            self._require_trade_mode(mode, is_buy, self._opens(index, is_buy, volume, close))
        bid, ask = float(self.tape.bid[index]), float(self.tape.ask[index])
        current = ask if is_buy else bid
        opens_hedge_position = close is None and self.config.hedging
        if opens_hedge_position or (close is None and self._netting_position(index) is None):
            self._require_stops(is_buy, bid if is_buy else ask, req.sl, req.tp)
        if not check_only:
            if req.price <= 0 or not math.isfinite(req.price):
                raise Reject(c.TRADE_RETCODE_INVALID_PRICE)
            if abs(req.price - current) > req.deviation * spec.point + spec.point * 1e-6:
                raise Reject(c.TRADE_RETCODE_REQUOTE, quotes=True)
        margin_after = self._margin_after_deal(index, spec, is_buy, volume, close)
        self._require_money(margin_after, volume, spec)
        if check_only:
            return margin_after
        fault = self.faults.trade_fault()
        if fault is not None:
            raise Reject(_FAULT_RETCODES[fault], quotes=fault == "requote")
        filled, retcode = self._fill(req, spec, volume)
        plan = _MarketPlan(index, spec, is_buy, filled, close)
        deal, order = self._execute_market(plan, req, current)
        return self._result(req, retcode, deal=deal.ticket, order=order.ticket, volume=filled,
                            price=current, bid=bid, ask=ask)

    def _fill(self, req: Any, spec: SymbolSpec, volume: float) -> tuple[float, int]:
        """The volume filled and its retcode: all of it, or a seeded part of an IOC request."""
        if req.type_filling == c.ORDER_FILLING_IOC:
            fraction = self.faults.partial_fraction()
            if fraction is not None:
                steps = math.floor(volume * fraction / spec.volume_step + 1e-9)
                part = round_volume(max(steps * spec.volume_step, spec.volume_min))
                if part < volume - VOLUME_EPS:
                    return part, c.TRADE_RETCODE_DONE_PARTIAL
        return volume, c.TRADE_RETCODE_DONE

    def _position_to_close(self, req: Any, index: int, is_buy: bool,
                           volume: float) -> Position | None:
        if not req.position:
            return None
        if self.config.hedging:
            pos = self.positions.get(req.position)
        else:
            pos = self._netting_position(index)
            if pos is not None and pos.ticket != req.position:
                pos = None
        if pos is None:
            raise Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        if pos.symbol_index != index or (pos.type == c.POSITION_TYPE_BUY) == is_buy:
            raise Reject(c.TRADE_RETCODE_INVALID)
        if volume > pos.volume + VOLUME_EPS:
            raise Reject(c.TRADE_RETCODE_INVALID_CLOSE_VOLUME)
        return pos if self.config.hedging else None

    def _execute_market(self, plan: _MarketPlan, req: Any, price: float) -> tuple[Deal, Order]:
        at = self.now_msc
        order = self._filled_order(
            index=plan.index, order_type=req.type, volume=req.volume, price_request=req.price,
            price_fill=price, magic=req.magic,
            position_id=plan.close.identifier if plan.close else 0,
            reason=c.ORDER_REASON_EXPERT, comment=req.comment, type_filling=req.type_filling,
            at_msc=at, volume_filled=plan.volume,
        )
        if plan.close is not None:
            deal = self._close(plan.close, volume=plan.volume, price=price,
                               order_ticket=order.ticket, magic=req.magic, comment=req.comment,
                               reason_deal=c.DEAL_REASON_EXPERT, at_msc=at)
        elif self.config.hedging:
            deal = self._open(index=plan.index, is_buy=plan.is_buy, volume=plan.volume,
                              price=price, order=order, sl=req.sl, tp=req.tp, magic=req.magic,
                              comment=req.comment, reason_deal=c.DEAL_REASON_EXPERT, at_msc=at)
        else:
            deal = self._netting_deal(index=plan.index, is_buy=plan.is_buy, volume=plan.volume,
                                      price=price, order=order, sl=req.sl, tp=req.tp,
                                      magic=req.magic, comment=req.comment,
                                      reason_deal=c.DEAL_REASON_EXPERT, at_msc=at)
        self.history.add_order(order)
        return deal, order
