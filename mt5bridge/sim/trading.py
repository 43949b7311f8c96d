"""The simulated trade server: order handling, fills, stops, stop-out and rollover.

Market orders execute the way an MT5 "instant execution" FX server does: buys fill at the
ask and sells at the bid of the current quote; a request whose price is further from that
quote than ``deviation`` points is requoted (10004) instead.  Checks run in the order a
trader meets them: Algo Trading switch, request, symbol, volume, market hours, quotes,
filling mode, the position being closed, stops, price, free margin; then the seeded faults.

Stops (SL/TP) and pending orders are watched on the price path: for each tick batch the
symbol's min/max bid and ask rule out most of them with two comparisons, and only a stop
that is crossed is located at its first crossing tick.  Events in one batch are handled in
time order, each at its own tick (so a conversion rate is the one quoted at that tick).
The margin level is checked at the end of every batch; a level below ``margin_so_so``
closes the most losing position first until the level recovers.

Rollover at server midnight adds swap to every open position (three nights on the symbol's
``swap_rollover3days``, none for a Saturday or Sunday server day).  As in MT5, swap stays on
the position and is booked in the closing deal's ``swap`` field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import ConfigError
from mt5bridge import constants as c
from mt5bridge.servertime import DAY_MS
from mt5bridge.sim.account import CurrencyConverter, Deal, Order, Position, cents, from_cents
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.faults import FaultInjector
from mt5bridge.sim.history import History
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.tape import TickTape
from mt5bridge.structs import OrderCheckResult, OrderSendResult

__all__ = ["FIRST_DEAL_TICKET", "FIRST_ORDER_TICKET", "RETCODE_COMMENTS", "TradeServer"]

#: Tickets start above 2**32 so code that squeezes them into 32-bit integers fails in tests.
FIRST_ORDER_TICKET = 5_100_000_001
FIRST_DEAL_TICKET = 7_200_000_001

#: The short texts the terminal puts in ``OrderSendResult.comment``.
RETCODE_COMMENTS: dict[int, str] = {
    0: "Done",
    c.TRADE_RETCODE_REQUOTE: "Requote",
    c.TRADE_RETCODE_REJECT: "Request rejected",
    c.TRADE_RETCODE_CANCEL: "Request canceled by trader",
    c.TRADE_RETCODE_PLACED: "Order placed",
    c.TRADE_RETCODE_DONE: "Request executed",
    c.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    c.TRADE_RETCODE_ERROR: "Request processing error",
    c.TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
    c.TRADE_RETCODE_INVALID: "Invalid request",
    c.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    c.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    c.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    c.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    c.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    c.TRADE_RETCODE_NO_MONEY: "No money",
    c.TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
    c.TRADE_RETCODE_PRICE_OFF: "No prices",
    c.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    c.TRADE_RETCODE_NO_CHANGES: "No changes",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "AutoTrading disabled by client",
    c.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    c.TRADE_RETCODE_INVALID_ORDER: "Invalid order type",
    c.TRADE_RETCODE_POSITION_CLOSED: "Position already closed",
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Invalid close volume",
}

_BUY_TYPES = frozenset((c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP,
                        c.ORDER_TYPE_BUY_STOP_LIMIT))
_PENDING_TYPES = frozenset((c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT,
                            c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_SELL_STOP))
_VOLUME_EPS = 1e-9


class _Reject(Exception):
    """A request refused with a retcode (internal control flow)."""

    def __init__(self, retcode: int, *, quotes: bool = False) -> None:
        super().__init__(retcode)
        self.retcode = retcode
        self.quotes = quotes


@dataclass
class _BookRows:
    """Open positions flattened for the per-batch margin-level check.

    Rebuilt only when positions change.  Each row is (symbol index, is buy, signed units,
    open price, link symbol index, link multiplies, currency or None); ``currency`` is set
    when the profit has no direct link quote and must go through the converter.  A plain
    Python loop over these rows beats numpy for the few dozen positions an account holds.
    """

    rows: list[tuple[int, bool, float, float, int, bool, str | None]]
    margin: float
    swap: float


@dataclass
class _MarketPlan:
    """A validated market deal, ready to execute."""

    index: int
    spec: SymbolSpec
    is_buy: bool
    volume: float
    close: Position | None  # hedging: the position this deal closes


def _round_volume(v: float) -> float:
    return round(v, 8)


class TradeServer:
    """Account state and order handling of the simulated broker.

    ``now_msc`` (UTC) is set by the terminal as its clock advances; quotes come from the
    terminal's ``TickTape`` and must be synced by the caller before a request is handled.
    """

    def __init__(
        self,
        config: SimConfig,
        specs: Sequence[SymbolSpec],
        tape: TickTape,
        faults: FaultInjector,
        start_msc: int,
    ) -> None:
        self.config = config
        self.specs = list(specs)
        self.index_of = {spec.name: i for i, spec in enumerate(self.specs)}
        self.tape = tape
        self.faults = faults
        self.tz = config.server_tz
        self.now_msc = start_msc
        self.algo_enabled = config.algo_trading
        self.converter = CurrencyConverter(
            self.specs, config.currency, tape.bid, tape.ask, tape.has_quote
        )
        for spec in self.specs:
            for currency in {spec.profit_currency, spec.margin_currency}:
                if not self.converter.convertible(currency):
                    raise ConfigError(
                        "simulated terminal", "extra_specs",
                        f"{spec.name}: nothing converts {currency} into {config.currency}; "
                        f"the feed needs a symbol quoting {currency} against {config.currency}")
        self.history = History()
        self.positions: dict[int, Position] = {}
        self.orders: dict[int, Order] = {}
        self.balance_cents = 0
        self._next_order = FIRST_ORDER_TICKET
        self._next_deal = FIRST_DEAL_TICKET
        self._request_id = 0
        self._watch_positions = False  # any position with SL or TP
        self._arrays: _BookRows | None = None
        self._levels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        if config.balance > 0:
            self._book(
                order=0, time_msc=start_msc, type=c.DEAL_TYPE_BALANCE, entry=c.DEAL_ENTRY_IN,
                magic=0, position_id=0, reason=c.DEAL_REASON_CLIENT, volume=0.0, price=0.0,
                commission_cents=0, swap_cents=0, profit_cents=cents(config.balance),
                symbol="", comment="Initial deposit",
            )

    # -- account figures (quotes must be synced) -------------------------------------------

    @property
    def balance(self) -> float:
        return from_cents(self.balance_cents)

    def position_profit(self, pos: Position) -> float:
        spec = self.specs[pos.symbol_index]
        i = pos.symbol_index
        is_buy = pos.type == c.POSITION_TYPE_BUY
        price = float(self.tape.bid[i] if is_buy else self.tape.ask[i])
        return round(self.converter.profit(spec, is_buy, pos.volume, pos.price_open, price), 2)

    def position_price(self, pos: Position) -> float:
        i = pos.symbol_index
        return float(self.tape.bid[i] if pos.type == c.POSITION_TYPE_BUY else self.tape.ask[i])

    def profit(self) -> float:
        return round(sum(self.position_profit(p) for p in self.positions.values()), 2)

    def swaps(self) -> float:
        return from_cents(sum(p.swap_cents for p in self.positions.values()))

    def equity(self) -> float:
        return round(self.balance + self.profit() + self.swaps(), 2)

    def margin(self) -> float:
        return round(sum(p.margin for p in self.positions.values()), 2)

    @staticmethod
    def margin_level(equity: float, margin: float) -> float:
        return equity / margin * 100.0 if margin > 0 else 0.0

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

    def _commission_cents(self, volume: float) -> int:
        return -cents(self.config.commission_per_lot * volume)

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
            volume_current=_round_volume(volume - filled), price_open=price_request,
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
            price=price, commission_cents=self._commission_cents(volume), swap_cents=0,
            profit_cents=0, symbol=spec.name, comment=comment,
        )

    def _close(self, pos: Position, *, volume: float, price: float, order_ticket: int,
               magic: int, comment: str, reason_deal: int, at_msc: int,
               entry: int = c.DEAL_ENTRY_OUT) -> Deal:
        """Close ``volume`` of a position at ``price``; books profit and its swap share."""
        spec = self.specs[pos.symbol_index]
        is_buy = pos.type == c.POSITION_TYPE_BUY
        whole = volume >= pos.volume - _VOLUME_EPS
        share = 1.0 if whole else volume / pos.volume
        swap_part = pos.swap_cents if whole else round(pos.swap_cents * share)
        profit = self.converter.profit(spec, is_buy, volume, pos.price_open, price)
        deal = self._book(
            order=order_ticket, time_msc=at_msc,
            type=c.DEAL_TYPE_SELL if is_buy else c.DEAL_TYPE_BUY, entry=entry,
            magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
            price=price, commission_cents=self._commission_cents(volume),
            swap_cents=swap_part, profit_cents=cents(profit), symbol=spec.name,
            comment=comment,
        )
        if whole:
            del self.positions[pos.ticket]
        else:
            pos.margin *= 1.0 - share
            pos.swap_cents -= swap_part
            pos.volume = _round_volume(pos.volume - volume)
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
            total = _round_volume(pos.volume + volume)
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
                price=price, commission_cents=self._commission_cents(volume), swap_cents=0,
                profit_cents=0, symbol=spec.name, comment=comment,
            )
        if volume <= pos.volume + _VOLUME_EPS:
            return self._close(pos, volume=volume, price=price, order_ticket=order.ticket,
                               magic=magic, comment=comment, reason_deal=reason_deal,
                               at_msc=at_msc)
        # Reversal: one INOUT deal closes the position and opens the rest the other way.
        closed_volume = pos.volume
        rest = _round_volume(volume - closed_volume)
        profit = self.converter.profit(spec, pos.type == c.POSITION_TYPE_BUY, closed_volume,
                                       pos.price_open, price)
        deal = self._book(
            order=order.ticket, time_msc=at_msc,
            type=c.DEAL_TYPE_BUY if is_buy else c.DEAL_TYPE_SELL, entry=c.DEAL_ENTRY_INOUT,
            magic=magic, position_id=pos.identifier, reason=reason_deal, volume=volume,
            price=price, commission_cents=self._commission_cents(volume),
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

    def _trigger_levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per symbol: (bid floor, bid ceiling, ask floor, ask ceiling) that trigger a stop
        or a pending order when a tick's bid/ask reaches them."""
        if self._levels is not None:
            return self._levels
        n = len(self.specs)
        levels = (np.full(n, -np.inf), np.full(n, np.inf), np.full(n, -np.inf), np.full(n, np.inf))
        self._add_position_levels(*levels)
        self._add_order_levels(*levels)
        self._levels = levels
        return self._levels

    def _add_position_levels(self, bid_floor: np.ndarray, bid_ceiling: np.ndarray,
                             ask_floor: np.ndarray, ask_ceiling: np.ndarray) -> None:
        """Tighten the levels by every position's stop loss and take profit: a buy closes
        at the bid, a sell at the ask."""
        for pos in self.positions.values():
            i = pos.symbol_index
            if pos.type == c.POSITION_TYPE_BUY:
                if pos.sl:
                    bid_floor[i] = max(bid_floor[i], pos.sl)
                if pos.tp:
                    bid_ceiling[i] = min(bid_ceiling[i], pos.tp)
            else:
                if pos.sl:
                    ask_ceiling[i] = min(ask_ceiling[i], pos.sl)
                if pos.tp:
                    ask_floor[i] = max(ask_floor[i], pos.tp)

    def _add_order_levels(self, bid_floor: np.ndarray, bid_ceiling: np.ndarray,
                          ask_floor: np.ndarray, ask_ceiling: np.ndarray) -> None:
        """Tighten the levels by every pending order's price: a buy order fills at the ask,
        a sell order at the bid."""
        for order in self.orders.values():
            i, p = order.symbol_index, order.price_open
            if order.type == c.ORDER_TYPE_BUY_LIMIT:
                ask_floor[i] = max(ask_floor[i], p)
            elif order.type == c.ORDER_TYPE_SELL_LIMIT:
                bid_ceiling[i] = min(bid_ceiling[i], p)
            elif order.type == c.ORDER_TYPE_BUY_STOP:
                ask_ceiling[i] = min(ask_ceiling[i], p)
            elif order.type == c.ORDER_TYPE_SELL_STOP:
                bid_floor[i] = max(bid_floor[i], p)

    def _book_rows(self) -> _BookRows:
        if self._arrays is not None:
            return self._arrays
        account = self.config.currency
        rows: list[tuple[int, bool, float, float, int, bool, str | None]] = []
        for pos in self.positions.values():
            spec = self.specs[pos.symbol_index]
            is_buy = pos.type == c.POSITION_TYPE_BUY
            units = pos.volume * spec.contract_size * (1.0 if is_buy else -1.0)
            currency = spec.profit_currency
            direct = self.converter.direct_link(currency, account)
            if currency == account:
                link, multiply, slow = -1, True, None
            elif direct is not None and self.tape.has_quote[direct[0]]:
                link, multiply, slow = direct[0], direct[1], None
            else:
                link, multiply, slow = -1, True, currency
            rows.append((pos.symbol_index, is_buy, units, pos.price_open, link, multiply, slow))
        positions = self.positions.values()
        self._arrays = _BookRows(
            rows,
            margin=round(sum(p.margin for p in positions), 2),
            swap=from_cents(sum(p.swap_cents for p in positions)),
        )
        return self._arrays

    def equity_and_margin_fast(self) -> tuple[float, float]:
        """Equity and margin from the flattened positions (quotes must be synced)."""
        book = self._book_rows()
        bid, ask = self.tape.bid.tolist(), self.tape.ask.tolist()
        floating = 0.0
        for i, is_buy, units, price_open, link, multiply, slow in book.rows:
            move = ((bid[i] if is_buy else ask[i]) - price_open) * units
            if slow is not None:
                profit = self.converter.to_account(move, slow)
            elif link < 0:
                profit = move
            elif multiply:
                profit = move * (bid[link] if move > 0 else ask[link])
            else:
                profit = move / (ask[link] if move > 0 else bid[link])
            floating += round(profit, 2)
        return self.balance + floating + book.swap, book.margin

    # -- results ---------------------------------------------------------------------------

    def _result(self, req: Any, retcode: int, *, deal: int = 0, order: int = 0,
                volume: float = 0.0, price: float = 0.0, bid: float = 0.0,
                ask: float = 0.0) -> Any:
        return OrderSendResult((retcode, deal, order, volume, price, bid, ask,
                                RETCODE_COMMENTS.get(retcode, "Request rejected"),
                                self._request_id, 0, req))

    def _check_result(self, req: Any, retcode: int, margin_after: float | None = None) -> Any:
        equity = self.equity()
        margin = self.margin() if margin_after is None else round(margin_after, 2)
        return OrderCheckResult((
            retcode, self.balance, equity, self.profit(), margin, round(equity - margin, 2),
            round(self.margin_level(equity, margin), 2), RETCODE_COMMENTS.get(retcode, ""),
            req,
        ))

    def _quotes_of(self, req: Any) -> tuple[float, float]:
        i = self.index_of.get(req.symbol)
        if i is None or not self.tape.has_quote[i]:
            return 0.0, 0.0
        return float(self.tape.bid[i]), float(self.tape.ask[i])

    # -- requests --------------------------------------------------------------------------

    def send(self, req: Any) -> Any:
        """``order_send`` for a parsed request (``TradeRequest``)."""
        self._request_id += 1
        if not self.algo_enabled:
            return self._result(req, c.TRADE_RETCODE_CLIENT_DISABLES_AT)
        try:
            return self._dispatch(req, check_only=False)
        except _Reject as rej:
            bid, ask = self._quotes_of(req) if rej.quotes else (0.0, 0.0)
            return self._result(req, rej.retcode, bid=bid, ask=ask)

    def check(self, req: Any) -> Any:
        """``order_check``: the same validation, nothing executed; success is retcode 0."""
        try:
            margin_after = self._dispatch(req, check_only=True)
        except _Reject as rej:
            return self._check_result(req, rej.retcode)
        return self._check_result(req, 0, margin_after)

    def _dispatch(self, req: Any, check_only: bool) -> Any:
        action = req.action
        if action == c.TRADE_ACTION_DEAL:
            return self._market(req, check_only)
        if action == c.TRADE_ACTION_PENDING:
            return self._place_pending(req, check_only)
        if action == c.TRADE_ACTION_SLTP:
            return self._modify_position(req, check_only)
        if action == c.TRADE_ACTION_MODIFY:
            return self._modify_order(req, check_only)
        if action == c.TRADE_ACTION_REMOVE:
            return self._remove_order(req, check_only)
        if action == c.TRADE_ACTION_CLOSE_BY:
            return self._close_by(req, check_only)
        raise _Reject(c.TRADE_RETCODE_INVALID)

    def _symbol(self, req: Any) -> tuple[int, SymbolSpec]:
        i = self.index_of.get(req.symbol)
        if i is None:
            raise _Reject(c.TRADE_RETCODE_INVALID)
        return i, self.specs[i]

    @staticmethod
    def _volume_valid(spec: SymbolSpec, volume: float) -> bool:
        if not math.isfinite(volume) or volume < spec.volume_min - _VOLUME_EPS:
            return False
        if volume > spec.volume_max + _VOLUME_EPS:
            return False
        steps = volume / spec.volume_step
        return abs(steps - round(steps)) < 1e-6

    def _require_open_market(self) -> None:
        if not self.config.market_hours.is_open(self.now_msc):
            raise _Reject(c.TRADE_RETCODE_MARKET_CLOSED)

    def _require_quote(self, index: int) -> None:
        if not self.tape.has_quote[index]:
            raise _Reject(c.TRADE_RETCODE_PRICE_OFF)

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
            raise _Reject(c.TRADE_RETCODE_INVALID_FILL)

    @staticmethod
    def _require_stops(is_buy: bool, reference: float, sl: float, tp: float) -> None:
        if sl < 0 or tp < 0 or not (math.isfinite(sl) and math.isfinite(tp)):
            raise _Reject(c.TRADE_RETCODE_INVALID_STOPS)
        if is_buy:
            ok = (sl == 0 or sl < reference) and (tp == 0 or tp > reference)
        else:
            ok = (sl == 0 or sl > reference) and (tp == 0 or tp < reference)
        if not ok:
            raise _Reject(c.TRADE_RETCODE_INVALID_STOPS)

    def _margin_after_deal(self, index: int, spec: SymbolSpec, is_buy: bool, volume: float,
                           close: Position | None) -> float:
        margin = self.margin()
        if close is not None:
            return margin - close.margin * min(1.0, volume / close.volume)
        if not self.config.hedging:
            pos = self._netting_position(index)
            if pos is not None and (pos.type == c.POSITION_TYPE_BUY) != is_buy:
                if volume <= pos.volume + _VOLUME_EPS:
                    return margin - pos.margin * volume / pos.volume
                rest = volume - pos.volume
                return margin - pos.margin + self.converter.margin(
                    spec, rest, self.config.leverage)
        return margin + self.converter.margin(spec, volume, self.config.leverage)

    def _require_money(self, margin_after: float, volume: float) -> None:
        if margin_after <= self.margin() + 1e-9:
            return  # reduces exposure: always allowed
        equity_after = self.equity() + from_cents(self._commission_cents(volume))
        if equity_after - margin_after < 0:
            raise _Reject(c.TRADE_RETCODE_NO_MONEY)

    def _market(self, req: Any, check_only: bool) -> Any:
        index, spec = self._symbol(req)
        if req.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            raise _Reject(c.TRADE_RETCODE_INVALID_ORDER)
        is_buy = req.type == c.ORDER_TYPE_BUY
        volume = req.volume
        if not self._volume_valid(spec, volume):
            raise _Reject(c.TRADE_RETCODE_INVALID_VOLUME)
        self._require_open_market()
        self._require_quote(index)
        self._require_filling(spec, req.type_filling, pending=False)
        close = self._position_to_close(req, index, is_buy, volume)
        bid, ask = float(self.tape.bid[index]), float(self.tape.ask[index])
        current = ask if is_buy else bid
        opens_hedge_position = close is None and self.config.hedging
        if opens_hedge_position or (close is None and self._netting_position(index) is None):
            self._require_stops(is_buy, bid if is_buy else ask, req.sl, req.tp)
        if not check_only:
            if req.price <= 0 or not math.isfinite(req.price):
                raise _Reject(c.TRADE_RETCODE_INVALID_PRICE)
            if abs(req.price - current) > req.deviation * spec.point + spec.point * 1e-6:
                raise _Reject(c.TRADE_RETCODE_REQUOTE, quotes=True)
        margin_after = self._margin_after_deal(index, spec, is_buy, volume, close)
        self._require_money(margin_after, volume)
        if check_only:
            return margin_after
        fault = self.faults.trade_fault()
        if fault is not None:
            code = {
                "timeout": c.TRADE_RETCODE_TIMEOUT, "reject": c.TRADE_RETCODE_REJECT,
                "price_off": c.TRADE_RETCODE_PRICE_OFF, "requote": c.TRADE_RETCODE_REQUOTE,
            }[fault]
            raise _Reject(code, quotes=fault == "requote")
        filled = volume
        retcode = c.TRADE_RETCODE_DONE
        if req.type_filling == c.ORDER_FILLING_IOC:
            fraction = self.faults.partial_fraction()
            if fraction is not None:
                steps = math.floor(volume * fraction / spec.volume_step + 1e-9)
                part = _round_volume(max(steps * spec.volume_step, spec.volume_min))
                if part < volume - _VOLUME_EPS:
                    filled, retcode = part, c.TRADE_RETCODE_DONE_PARTIAL
        plan = _MarketPlan(index, spec, is_buy, filled, close)
        deal, order = self._execute_market(plan, req, current)
        return self._result(req, retcode, deal=deal.ticket, order=order.ticket, volume=filled,
                            price=current, bid=bid, ask=ask)

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
            raise _Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        if pos.symbol_index != index or (pos.type == c.POSITION_TYPE_BUY) == is_buy:
            raise _Reject(c.TRADE_RETCODE_INVALID)
        if volume > pos.volume + _VOLUME_EPS:
            raise _Reject(c.TRADE_RETCODE_INVALID_CLOSE_VOLUME)
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

    # -- pending orders --------------------------------------------------------------------

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
            raise _Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
        if when <= self.now_msc:
            raise _Reject(c.TRADE_RETCODE_INVALID_EXPIRATION)
        return when

    def _require_pending_price(self, index: int, order_type: int, price: float) -> None:
        bid, ask = float(self.tape.bid[index]), float(self.tape.ask[index])
        if price <= 0 or not math.isfinite(price):
            raise _Reject(c.TRADE_RETCODE_INVALID_PRICE)
        ok = {
            c.ORDER_TYPE_BUY_LIMIT: price < ask,
            c.ORDER_TYPE_SELL_LIMIT: price > bid,
            c.ORDER_TYPE_BUY_STOP: price > ask,
            c.ORDER_TYPE_SELL_STOP: price < bid,
        }[order_type]
        if not ok:
            raise _Reject(c.TRADE_RETCODE_INVALID_PRICE)

    def _place_pending(self, req: Any, check_only: bool) -> Any:
        index, spec = self._symbol(req)
        if req.type not in _PENDING_TYPES:
            raise _Reject(c.TRADE_RETCODE_INVALID_ORDER)
        if not self._volume_valid(spec, req.volume):
            raise _Reject(c.TRADE_RETCODE_INVALID_VOLUME)
        self._require_open_market()
        self._require_quote(index)
        self._require_filling(spec, req.type_filling, pending=True)
        self._require_pending_price(index, req.type, req.price)
        is_buy = req.type in _BUY_TYPES
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
            raise _Reject(c.TRADE_RETCODE_INVALID_ORDER)
        return order

    def _modify_order(self, req: Any, check_only: bool) -> Any:
        order = self._pending(req)
        index = order.symbol_index
        self._require_open_market()
        self._require_quote(index)
        self._require_pending_price(index, order.type, req.price)
        self._require_stops(order.type in _BUY_TYPES, req.price, req.sl, req.tp)
        expires = self._expiry(req.type_time, req.expiration)
        unchanged = (req.price, req.sl, req.tp, req.type_time, req.expiration) == (
            order.price_open, order.sl, order.tp, order.type_time, order.time_expiration)
        if unchanged:
            raise _Reject(c.TRADE_RETCODE_NO_CHANGES)
        if check_only:
            return self.margin()
        order.price_open, order.sl, order.tp = req.price, req.sl, req.tp
        order.type_time, order.time_expiration = req.type_time, req.expiration
        order.expires_utc_ms = expires
        self._levels = None
        return self._result(req, c.TRADE_RETCODE_DONE, order=order.ticket)

    def _remove_order(self, req: Any, check_only: bool) -> Any:
        order = self._pending(req)
        self._require_open_market()
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
        """A pending order reached its price: fill it, or cancel it for lack of margin."""
        spec = self.specs[order.symbol_index]
        is_buy = order.type in _BUY_TYPES
        margin_after = self._margin_after_deal(order.symbol_index, spec, is_buy,
                                               order.volume_current, None)
        try:
            self._require_money(margin_after, order.volume_current)
        except _Reject:
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

    # -- positions: SL/TP modification and close-by ----------------------------------------

    def _modify_position(self, req: Any, check_only: bool) -> Any:
        if self.config.hedging or req.position:
            pos = self.positions.get(req.position)
        else:
            index, _ = self._symbol(req)
            pos = self._netting_position(index)
        if pos is None:
            raise _Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        self._require_open_market()
        self._require_quote(pos.symbol_index)
        is_buy = pos.type == c.POSITION_TYPE_BUY
        self._require_stops(is_buy, self.position_price(pos), req.sl, req.tp)
        if (req.sl, req.tp) == (pos.sl, pos.tp):
            raise _Reject(c.TRADE_RETCODE_NO_CHANGES)
        if check_only:
            return self.margin()
        pos.sl, pos.tp = req.sl, req.tp
        pos.time_update_msc = self.now_msc
        self._positions_changed()
        return self._result(req, c.TRADE_RETCODE_DONE)

    def _close_by(self, req: Any, check_only: bool) -> Any:
        if not self.config.hedging:
            raise _Reject(c.TRADE_RETCODE_INVALID)
        pos = self.positions.get(req.position)
        by = self.positions.get(req.position_by)
        if pos is None or by is None:
            raise _Reject(c.TRADE_RETCODE_POSITION_CLOSED)
        if pos.symbol_index != by.symbol_index or pos.type == by.type:
            raise _Reject(c.TRADE_RETCODE_INVALID)
        self._require_open_market()
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

    # -- the price path --------------------------------------------------------------------

    def _close_at_market(self, pos: Position, *, reason_order: int, reason_deal: int,
                         comment: str, at_msc: int) -> None:
        price = self.position_price(pos)
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

    def on_batch(self, batch: np.ndarray, first_index: int) -> None:
        """Watch stops and pending orders over a consumed batch, then the margin level."""
        if self._watch_positions or self.orders:
            self._run_triggers(batch, first_index)
        if self.positions:
            self.tape.sync_quotes()
            t = int(batch["time_msc"][-1]) if len(batch) else self.now_msc
            self.check_stop_out(t)

    def _run_triggers(self, batch: np.ndarray, first_index: int) -> None:
        """Handle every stop/order hit in the batch, in time order, each at its own tick.

        One vectorised pass compares every tick with its symbol's trigger levels; only a
        tick that reaches a level is looked at in Python.
        """
        start = 0
        while start < len(batch) and (self._watch_positions or self.orders):
            bid_floor, bid_ceiling, ask_floor, ask_ceiling = self._trigger_levels()
            rest = batch[start:]
            symbols = rest["symbol"]
            bid, ask = rest["bid"], rest["ask"]
            hit = ((bid <= bid_floor[symbols]) | (bid >= bid_ceiling[symbols])
                   | (ask <= ask_floor[symbols]) | (ask >= ask_ceiling[symbols]))
            j = int(hit.argmax())
            if not hit[j]:
                return
            at = start + j
            self.tape.sync_quotes(first_index + at + 1)
            acted = self._fire(batch[at])
            start = at if acted else at + 1

    def _fire(self, tick: np.void) -> bool:
        """Execute what this tick triggers on its symbol; whether anything happened."""
        i = int(tick["symbol"])
        t = int(tick["time_msc"])
        bid, ask = float(tick["bid"]), float(tick["ask"])
        acted = False
        for pos in [p for p in self.positions.values() if p.symbol_index == i]:
            if pos.ticket not in self.positions:
                continue
            if pos.type == c.POSITION_TYPE_BUY:
                kind = "sl" if pos.sl and bid <= pos.sl else "tp" if pos.tp and bid >= pos.tp \
                    else None
            else:
                kind = "sl" if pos.sl and ask >= pos.sl else "tp" if pos.tp and ask <= pos.tp \
                    else None
            if kind is None:
                continue
            level = pos.sl if kind == "sl" else pos.tp
            self._close_at_market(
                pos,
                reason_order=c.ORDER_REASON_SL if kind == "sl" else c.ORDER_REASON_TP,
                reason_deal=c.DEAL_REASON_SL if kind == "sl" else c.DEAL_REASON_TP,
                comment=f"[{kind} {level:.{self.specs[i].digits}f}]", at_msc=t,
            )
            acted = True
        for order in [o for o in self.orders.values() if o.symbol_index == i]:
            p = order.price_open
            reached = {
                c.ORDER_TYPE_BUY_LIMIT: ask <= p,
                c.ORDER_TYPE_SELL_LIMIT: bid >= p,
                c.ORDER_TYPE_BUY_STOP: ask >= p,
                c.ORDER_TYPE_SELL_STOP: bid <= p,
            }.get(order.type, False)
            if not reached:
                continue
            if order.expires_utc_ms is not None and order.expires_utc_ms <= t:
                self._finish_order(order, c.ORDER_STATE_EXPIRED, order.expires_utc_ms)
            elif order.type in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_SELL_STOP):
                self._activate(order, ask if order.type == c.ORDER_TYPE_BUY_STOP else bid, t)
            else:
                self._activate(order, p, t)
            acted = True
        return acted

    def check_stop_out(self, at_msc: int) -> None:
        """Close the most losing positions while the margin level is below stop-out."""
        if not self.positions:
            return
        equity, margin = self.equity_and_margin_fast()
        if margin <= 0 or self.margin_level(equity, margin) >= self.config.margin_so_so + 1e-6:
            return
        while self.positions:
            margin = self.margin()
            if margin <= 0:
                return
            equity = self.equity()
            level = self.margin_level(equity, margin)
            if level >= self.config.margin_so_so:
                return
            worst = min(self.positions.values(),
                        key=lambda p: self.position_profit(p) + from_cents(p.swap_cents))
            self._close_at_market(worst, reason_order=c.ORDER_REASON_SO,
                                  reason_deal=c.DEAL_REASON_SO, comment=f"[so {level:.2f}%]",
                                  at_msc=at_msc)

    # -- rollover --------------------------------------------------------------------------

    def rollover(self, midnight_utc_ms: int) -> None:
        """Charge the swap of the server day that ends at ``midnight_utc_ms``."""
        day = self.tz.server_weekday(midnight_utc_ms - 1)
        if day in (c.DAY_OF_WEEK_SATURDAY, c.DAY_OF_WEEK_SUNDAY) or not self.positions:
            return
        for pos in self.positions.values():
            spec = self.specs[pos.symbol_index]
            nights = 3 if day == spec.swap_rollover3days else 1
            amount = self.converter.swap(spec, pos.type == c.POSITION_TYPE_BUY, pos.volume,
                                         nights)
            pos.swap_cents += cents(amount)
        self._arrays = None

    # -- calculators -----------------------------------------------------------------------

    def calc_margin(self, order_type: int, index: int, volume: float, price: float) -> float:
        spec = self.specs[index]
        units = volume * spec.contract_size / self.config.leverage
        if spec.margin_currency == self.config.currency:
            return round(units, 2)
        if spec.profit_currency == self.config.currency and price > 0:
            return round(units * price, 2)
        return round(self.converter.margin(spec, volume, self.config.leverage), 2)

    def calc_profit(self, order_type: int, index: int, volume: float, price_open: float,
                    price_close: float) -> float:
        spec = self.specs[index]
        is_buy = order_type in _BUY_TYPES
        return round(self.converter.profit(spec, is_buy, volume, price_open, price_close), 2)
