"""The trade server's books: tickets, deals, filled orders, and positions opened and closed.

Every change of the balance goes through ``_book`` (one deal, booked in integer cents), and
every position opened, resized, closed or given new stops goes through
``_positions_changed``, which drops the cached flattened book and trigger levels.  Hedging
opens one position per deal; netting keeps one position per symbol that a deal grows,
reduces, closes or reverses (one INOUT deal).
"""

from __future__ import annotations

from typing import Any

from mt5bridge import constants as c
from mt5bridge.sim.account import Deal, Order, Position, cents
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.trade_state import VOLUME_EPS, TradeState, round_volume

__all__ = ["TradeBooking"]


class TradeBooking(TradeState):
    """Deals and orders into history, positions in and out of the book."""

    # -- tickets and booking ---------------------------------------------------------------

    def _order_ticket(self) -> int:
        ticket = self._next_order
        self._next_order += 1
        return ticket

    def _book(self, **fields: Any) -> Deal:
        deal = Deal(ticket=self._next_deal, fee_cents=0, **fields)
        self._next_deal += 1
        self.balance_cents += (
            deal.profit_cents + deal.commission_cents + deal.swap_cents + deal.fee_cents
        )
        self.history.add_deal(deal)
        return deal

    def _commission_cents(self, volume: float, spec: SymbolSpec | None = None) -> int:
        """A deal's commission: the account's per lot, or the symbol's own (a stock CFD's
        per share, at least its minimum a deal)."""
        if spec is None or spec.commission_per_lot is None:
            return -cents(self.config.commission_per_lot * volume)
        amount = spec.commission_per_lot * volume + (
            spec.commission_per_unit * volume * spec.contract_size)
        return -cents(max(amount, spec.commission_min))

    def _filled_order(self, *, index: int, order_type: int, volume: float, price_request: float,
                      price_fill: float, magic: int, position_id: int, reason: int,
                      comment: str, type_filling: int, at_msc: int,
                      volume_filled: float | None = None) -> Order:
        filled = volume if volume_filled is None else volume_filled
        order = Order(
            ticket=self._order_ticket(), symbol_index=index, symbol=self.specs[index].name,
            type=order_type, type_time=c.ORDER_TIME_GTC, type_filling=type_filling,
            state=c.ORDER_STATE_FILLED, magic=magic, position_id=position_id,
            position_by_id=0, reason=reason, volume_initial=volume,
            volume_current=round_volume(volume - filled), price_open=price_request,
            sl=0.0, tp=0.0, price_current=price_fill, price_stoplimit=0.0, comment=comment,
            time_setup_msc=at_msc, time_done_msc=at_msc,
        )
        return order

    # -- opening and closing ---------------------------------------------------------------

    def _open(self, *, index: int, is_buy: bool, volume: float, price: float, order: Order,
              sl: float, tp: float, magic: int, comment: str, reason_deal: int,
              at_msc: int) -> Deal:
        """A new position (hedging, or netting with no position on the symbol)."""
        spec = self.specs[index]
        pos = Position(
            ticket=order.ticket, identifier=order.ticket, symbol_index=index, symbol=spec.name,
            type=c.POSITION_TYPE_BUY if is_buy else c.POSITION_TYPE_SELL, volume=volume,
            price_open=price, sl=sl, tp=tp, time_msc=at_msc, time_update_msc=at_msc,
            magic=magic, reason=c.POSITION_REASON_EXPERT, comment=comment,
            margin=self.converter.margin(spec, volume, self.config.leverage),
        )
        self.positions[pos.ticket] = pos
        order.position_id = pos.identifier
        self._positions_changed()
        return self._book(
            order=order.ticket, time_msc=at_msc,
            type=c.DEAL_TYPE_BUY if is_buy else c.DEAL_TYPE_SELL, entry=c.DEAL_ENTRY_IN,
            magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
            price=price, commission_cents=self._commission_cents(volume, spec), swap_cents=0,
            profit_cents=0, symbol=spec.name, comment=comment,
        )

    def _close(self, pos: Position, *, volume: float, price: float, order_ticket: int,
               magic: int, comment: str, reason_deal: int, at_msc: int,
               entry: int = c.DEAL_ENTRY_OUT) -> Deal:
        """Close ``volume`` of a position at ``price``; books profit and its swap share."""
        spec = self.specs[pos.symbol_index]
        is_buy = pos.type == c.POSITION_TYPE_BUY
        whole = volume >= pos.volume - VOLUME_EPS
        share = 1.0 if whole else volume / pos.volume
        swap_part = pos.swap_cents if whole else round(pos.swap_cents * share)
        profit = self.converter.profit(spec, is_buy, volume, pos.price_open, price)
        deal = self._book(
            order=order_ticket, time_msc=at_msc,
            type=c.DEAL_TYPE_SELL if is_buy else c.DEAL_TYPE_BUY, entry=entry,
            magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
            price=price, commission_cents=self._commission_cents(volume, spec),
            swap_cents=swap_part, profit_cents=cents(profit), symbol=spec.name,
            comment=comment,
        )
        if whole:
            del self.positions[pos.ticket]
        else:
            pos.margin *= 1.0 - share
            pos.swap_cents -= swap_part
            pos.volume = round_volume(pos.volume - volume)
            pos.time_update_msc = at_msc
        self._positions_changed()
        return deal

    def _netting_deal(self, *, index: int, is_buy: bool, volume: float, price: float,
                      order: Order, sl: float, tp: float, magic: int, comment: str,
                      reason_deal: int, at_msc: int) -> Deal:
        pos = self._netting_position(index)
        if pos is None:
            return self._open(index=index, is_buy=is_buy, volume=volume, price=price,
                              order=order, sl=sl, tp=tp, magic=magic, comment=comment,
                              reason_deal=reason_deal, at_msc=at_msc)
        spec = self.specs[index]
        order.position_id = pos.identifier
        same_side = (pos.type == c.POSITION_TYPE_BUY) == is_buy
        if same_side:
            total = round_volume(pos.volume + volume)
            pos.price_open = (pos.price_open * pos.volume + price * volume) / total
            pos.volume = total
            pos.margin += self.converter.margin(spec, volume, self.config.leverage)
            pos.time_update_msc = at_msc
            if sl or tp:
                pos.sl, pos.tp = sl, tp
            self._positions_changed()
            return self._book(
                order=order.ticket, time_msc=at_msc,
                type=c.DEAL_TYPE_BUY if is_buy else c.DEAL_TYPE_SELL, entry=c.DEAL_ENTRY_IN,
                magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
                price=price, commission_cents=self._commission_cents(volume, spec), swap_cents=0,
                profit_cents=0, symbol=spec.name, comment=comment,
            )
        if volume <= pos.volume + VOLUME_EPS:
            return self._close(pos, volume=volume, price=price, order_ticket=order.ticket,
                               magic=magic, comment=comment, reason_deal=reason_deal,
                               at_msc=at_msc)
        # Reversal: one INOUT deal closes the position and opens the rest the other way.
        closed_volume = pos.volume
        rest = round_volume(volume - closed_volume)
        profit = self.converter.profit(spec, pos.type == c.POSITION_TYPE_BUY, closed_volume,
                                       pos.price_open, price)
        deal = self._book(
            order=order.ticket, time_msc=at_msc,
            type=c.DEAL_TYPE_BUY if is_buy else c.DEAL_TYPE_SELL, entry=c.DEAL_ENTRY_INOUT,
            magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
            price=price, commission_cents=self._commission_cents(volume, spec),
            swap_cents=pos.swap_cents, profit_cents=cents(profit), symbol=spec.name,
            comment=comment,
        )
        pos.type = c.POSITION_TYPE_BUY if is_buy else c.POSITION_TYPE_SELL
        pos.volume = rest
        pos.price_open = price
        pos.swap_cents = 0
        pos.margin = self.converter.margin(spec, rest, self.config.leverage)
        pos.sl, pos.tp = sl, tp
        pos.time_update_msc = at_msc
        self._positions_changed()
        return deal

    def _netting_position(self, index: int) -> Position | None:
        for pos in self.positions.values():
            if pos.symbol_index == index:
                return pos
        return None

    def _refresh_watch(self) -> None:
        self._watch_positions = any(p.sl or p.tp for p in self.positions.values())

    def _positions_changed(self) -> None:
        self._arrays = None
        self._levels = None
        self._refresh_watch()

    def _close_at_market(self, pos: Position, *, reason_order: int, reason_deal: int,
                         comment: str, at_msc: int, price: float | None = None) -> None:
        """Close ``pos`` whole at its closing quote, or at ``price`` (a settlement)."""
        price = self.position_price(pos) if price is None else price
        is_buy = pos.type == c.POSITION_TYPE_BUY
        order = self._filled_order(
            index=pos.symbol_index,
            order_type=c.ORDER_TYPE_SELL if is_buy else c.ORDER_TYPE_BUY, volume=pos.volume,
            price_request=price, price_fill=price, magic=pos.magic,
            position_id=pos.identifier, reason=reason_order, comment=comment,
            type_filling=c.ORDER_FILLING_FOK, at_msc=at_msc,
        )
        self._close(pos, volume=pos.volume, price=price, order_ticket=order.ticket,
                    magic=pos.magic, comment=comment, reason_deal=reason_deal, at_msc=at_msc)
        self.history.add_order(order)
