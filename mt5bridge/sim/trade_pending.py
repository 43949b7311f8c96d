"""Pending orders: placed, modified and removed on request, activated or expired on the clock.

A limit order fills at its own price, a stop order at the quote that reached it (buys at
the ask, sells at the bid); one that finds too little free margin when it activates is
cancelled as rejected.  Expiry follows the order's time type in server time (``DAY`` ends
at the next server midnight).  Every change drops the cached trigger levels.
"""

from __future__ import annotations

from typing import Any

from mt5bridge import constants as c
from mt5bridge.servertime import DAY_MS
from mt5bridge.sim.account import Order
from mt5bridge.sim.trade_checks import Reject
from mt5bridge.sim.trade_state import BUY_TYPES, PENDING_TYPES, TradeState

__all__ = ["PendingOrders"]


class PendingOrders(TradeState):
    """``TRADE_ACTION_PENDING``, ``MODIFY`` and ``REMOVE``, activation and expiry."""

    def _expiry(self, type_time: int, expiration: int) -> int | None:
        """UTC ms at which an order with this time type expires (None = GTC)."""
        if type_time == c.ORDER_TIME_GTC:
            return None
        if type_time == c.ORDER_TIME_DAY:
            return self.tz.next_midnight_utc_ms(self.now_msc)
        if type_time == c.ORDER_TIME_SPECIFIED:
            when = self.tz.to_utc_ms(expiration * 1000)
        elif type_time == c.ORDER_TIME_SPECIFIED_DAY:
            day_start = expiration * 1000 // DAY_MS * DAY_MS
            when = self.tz.to_utc_ms(day_start + DAY_MS)
        else:
            raise Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
        if when <= self.now_msc:
            raise Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
        return when

    def _place_pending(self, req: Any, check_only: bool) -> Any:
        index, spec = self._symbol(req)
        if req.type not in PENDING_TYPES:
            raise Reject(c.TRADE_RETCODE_INVALID_ORDER)
        if not self._volume_valid(spec, req.volume):
            raise Reject(c.TRADE_RETCODE_INVALID_VOLUME)
        self._require_open_market(index)
        self._require_quote(index)
        self._require_filling(spec, req.type_filling, pending=True)
        self._require_pending_price(index, req.type, req.price)
        is_buy = req.type in BUY_TYPES
        mode = self._trade_mode(spec)
        if mode != c.SYMBOL_TRADE_MODE_FULL:
            self._require_trade_mode(mode, is_buy, self._opens(index, is_buy, req.volume, None))
        self._require_stops(is_buy, req.price, req.sl, req.tp)
        expires = self._expiry(req.type_time, req.expiration)
        if check_only:
            return self.margin()
        order = Order(
            ticket=self._order_ticket(), symbol_index=index, symbol=spec.name, type=req.type,
            type_time=req.type_time, type_filling=req.type_filling, state=c.ORDER_STATE_PLACED,
            magic=req.magic, position_id=0, position_by_id=0, reason=c.ORDER_REASON_EXPERT,
            volume_initial=req.volume, volume_current=req.volume, price_open=req.price,
            sl=req.sl, tp=req.tp, price_current=float(
                self.tape.ask[index] if is_buy else self.tape.bid[index]),
            price_stoplimit=0.0, comment=req.comment, time_setup_msc=self.now_msc,
            time_expiration=req.expiration if req.type_time != c.ORDER_TIME_GTC else 0,
            expires_utc_ms=expires,
        )
        self.orders[order.ticket] = order
        self._levels = None
        return self._result(req, c.TRADE_RETCODE_PLACED, order=order.ticket,
                            volume=req.volume, price=req.price)

    def _pending(self, req: Any) -> Order:
        order = self.orders.get(req.order)
        if order is None:
            raise Reject(c.TRADE_RETCODE_INVALID_ORDER)
        return order

    def _modify_order(self, req: Any, check_only: bool) -> Any:
        order = self._pending(req)
        index = order.symbol_index
        self._require_open_market(index)
        self._require_quote(index)
        self._require_pending_price(index, order.type, req.price)
        self._require_stops(order.type in BUY_TYPES, req.price, req.sl, req.tp)
        expires = self._expiry(req.type_time, req.expiration)
        unchanged = (req.price, req.sl, req.tp, req.type_time, req.expiration) == (
            order.price_open, order.sl, order.tp, order.type_time, order.time_expiration)
        if unchanged:
            raise Reject(c.TRADE_RETCODE_NO_CHANGES)
        if check_only:
            return self.margin()
        order.price_open, order.sl, order.tp = req.price, req.sl, req.tp
        order.type_time, order.time_expiration = req.type_time, req.expiration
        order.expires_utc_ms = expires
        self._levels = None
        return self._result(req, c.TRADE_RETCODE_DONE, order=order.ticket)

    def _remove_order(self, req: Any, check_only: bool) -> Any:
        order = self._pending(req)
        self._require_open_market(order.symbol_index)
        if check_only:
            return self.margin()
        self._finish_order(order, c.ORDER_STATE_CANCELED, self.now_msc)
        return self._result(req, c.TRADE_RETCODE_DONE, order=order.ticket)

    def _finish_order(self, order: Order, state: int, at_msc: int) -> None:
        del self.orders[order.ticket]
        self._levels = None
        order.state = state
        order.time_done_msc = at_msc
        self.history.add_order(order)

    def _activate(self, order: Order, price: float, at_msc: int) -> None:
        """A pending order reached its price: fill it, or reject it for lack of margin or
        when the symbol's trade mode now refuses what it would open (a futures CFD gone
        close-only since the order was placed)."""
        spec = self.specs[order.symbol_index]
        is_buy = order.type in BUY_TYPES
        margin_after = self._margin_after_deal(order.symbol_index, spec, is_buy,
                                               order.volume_current, None)
        try:
            self._require_money(margin_after, order.volume_current, spec)
            mode = self._trade_mode(spec)
            if mode != c.SYMBOL_TRADE_MODE_FULL:
                self._require_trade_mode(mode, is_buy, self._opens(
                    order.symbol_index, is_buy, order.volume_current, None))
        except Reject:
            self._finish_order(order, c.ORDER_STATE_REJECTED, at_msc)
            return
        volume = order.volume_current
        order.volume_current = 0.0
        order.price_current = price
        if self.config.hedging:
            self._open(index=order.symbol_index, is_buy=is_buy, volume=volume, price=price,
                       order=order, sl=order.sl, tp=order.tp, magic=order.magic,
                       comment=order.comment, reason_deal=c.DEAL_REASON_EXPERT, at_msc=at_msc)
        else:
            self._netting_deal(index=order.symbol_index, is_buy=is_buy, volume=volume,
                               price=price, order=order, sl=order.sl, tp=order.tp,
                               magic=order.magic, comment=order.comment,
                               reason_deal=c.DEAL_REASON_EXPERT, at_msc=at_msc)
        self._finish_order(order, c.ORDER_STATE_FILLED, at_msc)

    def expire_orders(self, now_msc: int) -> None:
        """Move pending orders whose expiry has passed to history as expired."""
        for order in list(self.orders.values()):
            if order.expires_utc_ms is not None and order.expires_utc_ms <= now_msc:
                self._finish_order(order, c.ORDER_STATE_EXPIRED, order.expires_utc_ms)
