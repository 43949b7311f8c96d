"""Requests on open positions: stop loss / take profit changes and close-by.

``TRADE_ACTION_SLTP`` sets both levels of a position (in netting, the symbol's position);
``TRADE_ACTION_CLOSE_BY`` (hedging only) closes two opposite positions of a symbol against
each other at the open price of the second, with one order and two ``OUT_BY`` deals.
"""

from __future__ import annotations

from typing import Any

from mt5bridge import constants as c
from mt5bridge.sim.trade_checks import Reject
from mt5bridge.sim.trade_state import TradeState

__all__ = ["PositionRequests"]


class PositionRequests(TradeState):
    """SL/TP modification and close-by."""

    def _modify_position(self, req: Any, check_only: bool) -> Any:
        if self.config.hedging or req.position:
            pos = self.positions.get(req.position)
        else:
            index, _ = self._symbol(req)
            pos = self._netting_position(index)
        if pos is None:
            raise Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        self._require_open_market(pos.symbol_index)
        self._require_quote(pos.symbol_index)
        is_buy = pos.type == c.POSITION_TYPE_BUY
        self._require_stops(is_buy, self.position_price(pos), req.sl, req.tp)
        if (req.sl, req.tp) == (pos.sl, pos.tp):
            raise Reject(c.TRADE_RETCODE_NO_CHANGES)
        if check_only:
            return self.margin()
        pos.sl, pos.tp = req.sl, req.tp
        pos.time_update_msc = self.now_msc
        self._positions_changed()
        return self._result(req, c.TRADE_RETCODE_DONE)

    def _close_by(self, req: Any, check_only: bool) -> Any:
        if not self.config.hedging:
            raise Reject(c.TRADE_RETCODE_INVALID)
        pos = self.positions.get(req.position)
        by = self.positions.get(req.position_by)
        if pos is None or by is None:
            raise Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        if pos.symbol_index != by.symbol_index or pos.type == by.type:
            raise Reject(c.TRADE_RETCODE_INVALID)
        self._require_open_market(pos.symbol_index)
        if check_only:
            return self.margin()
        volume = min(pos.volume, by.volume)
        at = self.now_msc
        order = self._filled_order(
            index=pos.symbol_index, order_type=c.ORDER_TYPE_CLOSE_BY, volume=volume,
            price_request=0.0, price_fill=by.price_open, magic=req.magic,
            position_id=pos.identifier, reason=c.ORDER_REASON_EXPERT, comment=req.comment,
            type_filling=c.ORDER_FILLING_FOK, at_msc=at,
        )
        order.position_by_id = by.identifier
        by_open = by.price_open
        deal = self._close(pos, volume=volume, price=by_open, order_ticket=order.ticket,
                           magic=req.magic, comment=req.comment,
                           reason_deal=c.DEAL_REASON_EXPERT, at_msc=at,
                           entry=c.DEAL_ENTRY_OUT_BY)
        self._close(by, volume=volume, price=by_open, order_ticket=order.ticket,
                    magic=req.magic, comment=req.comment, reason_deal=c.DEAL_REASON_EXPERT,
                    at_msc=at, entry=c.DEAL_ENTRY_OUT_BY)
        self.history.add_order(order)
        return self._result(req, c.TRADE_RETCODE_DONE, deal=deal.ticket, order=order.ticket,
                            volume=volume, price=by_open)
