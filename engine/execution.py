"""Sending basket legs to the terminal (docs/architecture.md, Execution and recovery).

Every leg is a market deal (``TRADE_ACTION_DEAL``) with the filling mode the symbol allows,
the cluster's magic number and the basket id as comment.  The request is journaled
*before* it is sent and the result *after*, so a crash between the two is visible at
restart.  Requotes, price changes and price-off answers are re-sent at a fresh price up to
``max_retries`` times; a timeout or a lost answer is checked against the terminal's
positions before anything is re-sent (the order may have been filled).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.config import ExecutionConfig
from engine.model import OrderPurpose, OrderSide
from engine.ports import Journal, Terminal
from engine.records import Deal, OrderRequest, OrderResult

# The few MetaTrader 5 numbers the engine speaks (values of the MetaTrader5 module).
TRADE_ACTION_DEAL = 1
ORDER_TYPE_BUY = 0
ORDER_TYPE_SELL = 1
ORDER_TIME_GTC = 0
DEAL_ENTRY_IN = 0
RETCODE_REQUOTE = 10004
RETCODE_DONE = 10009
RETCODE_DONE_PARTIAL = 10010
RETCODE_TIMEOUT = 10012
RETCODE_MARKET_CLOSED = 10018
RETCODE_PRICE_CHANGED = 10020
RETCODE_PRICE_OFF = 10021
RETRY_RETCODES = frozenset({RETCODE_REQUOTE, RETCODE_PRICE_CHANGED, RETCODE_PRICE_OFF})


@dataclass(frozen=True)
class LegFill:
    """Outcome of sending one leg: ``status`` is FILLED, FAILED or UNKNOWN."""

    status: str
    symbol: str
    lots: float  # signed, as filled
    price: float = math.nan
    position: int = 0
    commission: float = 0.0
    retcode: int = 0
    detail: str = ""

    @property
    def filled(self) -> bool:
        return self.status == "FILLED"


def _utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class Executor:
    def __init__(self, terminal: Terminal, journal: Journal, config: ExecutionConfig,
                 now: Callable[[], datetime], run_id: str) -> None:
        self.terminal = terminal
        self.journal = journal
        self.config = config
        self.now = now
        self.run_id = run_id
        self._seq = 0

    def comment_for(self, basket_id: str) -> str:
        return (self.config.comment_prefix + basket_id)[:29]

    def send_leg(self, basket_id: str | None, purpose: OrderPurpose, symbol: str, lots: float,
                 magic: int, position: int = 0, comment: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> LegFill:
        """Send one market deal (``position`` set: close that position).  ``extra`` adds or
        overrides request fields (a manual order's ``sl``, ``tp`` and ``deviation``)."""
        remaining = lots
        filled_lots = 0.0
        cost_px = 0.0
        commission = 0.0
        pos_ticket = position
        last_retcode = 0
        detail = ""
        comment = comment if comment is not None else self.comment_for(basket_id or "")
        for _attempt in range(self.config.max_retries + 1):
            outcome, result, fill = self._send_once(basket_id, purpose, symbol, remaining, magic,
                                                    position, comment, extra)
            last_retcode = int(getattr(result, "retcode", 0) or 0)
            detail = str(getattr(result, "comment", "") or "")
            if outcome == "filled":
                filled_lots += fill.lots
                cost_px += fill.lots * fill.price
                commission += fill.commission
                pos_ticket = pos_ticket or fill.position
                remaining = lots - filled_lots
                if abs(remaining) < 1e-9:
                    return LegFill("FILLED", symbol, filled_lots, cost_px / filled_lots,
                                   pos_ticket, commission, last_retcode)
                continue  # partial fill: send the rest
            if outcome == "retry":
                continue
            if outcome == "unknown":
                found = self._find_position(symbol, magic, comment, remaining, position)
                if found is not None:
                    return LegFill("FILLED", symbol, lots, found[1], found[0], commission,
                                   last_retcode, "adopted after an unanswered order")
                return LegFill("UNKNOWN", symbol, filled_lots, math.nan, pos_ticket, commission,
                               last_retcode, detail or "no answer from the terminal")
            break
        if filled_lots:
            return LegFill("FAILED", symbol, filled_lots, cost_px / filled_lots, pos_ticket,
                           commission, last_retcode, f"partly filled: {detail}")
        return LegFill("FAILED", symbol, 0.0, math.nan, 0, 0.0, last_retcode, detail)

    def check_leg(self, symbol: str, lots: float, magic: int) -> tuple[int, str]:
        """Ask the terminal whether a market deal would be accepted now (``order_check``):
        (retcode, comment); 0 means it would.  No order is placed and nothing is journaled."""
        tick = self.terminal.symbol_info_tick(symbol)
        if tick is None:
            code, message = self.terminal.last_error()
            return int(code), str(message)
        buy = lots > 0
        request = {"action": TRADE_ACTION_DEAL, "symbol": symbol,
                   "volume": float(round(abs(lots), 8)),
                   "type": ORDER_TYPE_BUY if buy else ORDER_TYPE_SELL,
                   "price": float(tick.ask if buy else tick.bid),
                   "deviation": int(self.config.deviation_points), "magic": int(magic),
                   "comment": "check", "type_filling": int(self.terminal.filling_mode_for(symbol)),
                   "type_time": ORDER_TIME_GTC}
        result = self.terminal.order_check(request)
        if result is None:
            code, message = self.terminal.last_error()
            return int(code), str(message)
        return int(result.retcode), str(result.comment)

    def _send_once(self, basket_id: str | None, purpose: OrderPurpose, symbol: str, lots: float,
                   magic: int, position: int, comment: str,
                   extra: Mapping[str, Any] | None = None) -> tuple[str, Any, LegFill]:
        none = LegFill("FAILED", symbol, 0.0)
        tick = self.terminal.symbol_info_tick(symbol)
        if tick is None:
            return "unknown", None, none
        side = OrderSide.BUY if lots > 0 else OrderSide.SELL
        price = float(tick.ask if side is OrderSide.BUY else tick.bid)
        request: dict[str, Any] = {
            "action": TRADE_ACTION_DEAL,
            "symbol": symbol,
            "volume": float(round(abs(lots), 8)),
            "type": ORDER_TYPE_BUY if side is OrderSide.BUY else ORDER_TYPE_SELL,
            "price": price,
            "deviation": int(self.config.deviation_points),
            "magic": int(magic),
            "comment": comment,
            "type_filling": int(self.terminal.filling_mode_for(symbol)),
            "type_time": ORDER_TIME_GTC,
        }
        if position:
            request["position"] = int(position)
        request.update(extra or {})
        self._seq += 1
        request_id = f"{self.run_id}:{self._seq:06d}"
        self.journal.record_request(OrderRequest(
            request_id=request_id, basket_id=basket_id, purpose=purpose, symbol=symbol,
            side=side, volume=request["volume"], price=price, deviation=request["deviation"],
            magic=magic, comment=comment, filling=request["type_filling"], sent_at=self.now(),
            raw=request))
        result = self.terminal.order_send(request)
        if result is None:
            code, message = self.terminal.last_error()
            self.journal.record_result(OrderResult(
                request_id=request_id, received_at=self.now(), retcode=int(code), deal=0,
                order=0, volume=0.0, price=0.0, comment=f"no result: {message}"))
            return "unknown", None, none
        retcode = int(result.retcode)
        self.journal.record_result(OrderResult(
            request_id=request_id, received_at=self.now(), retcode=retcode,
            deal=int(result.deal), order=int(result.order), volume=float(result.volume),
            price=float(result.price), comment=str(result.comment),
            raw=result._asdict() if hasattr(result, "_asdict") else {}))
        if retcode in (RETCODE_DONE, RETCODE_DONE_PARTIAL) and result.volume > 0:
            deal = self._journal_deal(int(result.deal), basket_id)
            signed = math.copysign(float(result.volume), lots)
            pos = deal.position_id if deal is not None else int(result.order)
            commission = deal.commission if deal is not None else 0.0
            return "filled", result, LegFill("FILLED", symbol, signed, float(result.price), pos,
                                             commission, retcode)
        if retcode in RETRY_RETCODES:
            return "retry", result, none
        if retcode == RETCODE_TIMEOUT:
            return "unknown", result, none
        return "failed", result, none

    def _journal_deal(self, ticket: int, basket_id: str | None) -> Deal | None:
        if not ticket:
            return None
        deals = self.terminal.history_deals_get(ticket=ticket)
        if not deals:
            return None
        d = deals[0]
        deal = deal_record(self.terminal, d, basket_id)
        self.journal.record_deal(deal)
        return deal

    def _find_position(self, symbol: str, magic: int, comment: str, lots: float,
                       closing: int) -> tuple[int, float] | None:
        """After an unanswered order: did it reach the market?  (ticket, price) if so."""
        positions = self.terminal.positions_get(symbol=symbol)
        if positions is None:
            return None
        if closing:
            still_open = any(int(p.ticket) == closing for p in positions)
            return None if still_open else (closing, math.nan)
        for p in positions:
            if int(p.magic) == magic and str(p.comment) == comment and \
                    abs(float(p.volume) - abs(lots)) < 1e-9:
                return int(p.ticket), float(p.price_open)
        return None


def deal_record(terminal: Terminal, d: Any, basket_id: str | None) -> Deal:
    """A terminal deal as a journal record (times converted from server time to UTC)."""
    utc_ms = _server_ms_to_utc(terminal, int(d.time_msc))
    return Deal(ticket=int(d.ticket), order=int(d.order), position_id=int(d.position_id),
                symbol=str(d.symbol), type=int(d.type), entry=int(d.entry),
                volume=float(d.volume), price=float(d.price), commission=float(d.commission),
                swap=float(d.swap), profit=float(d.profit), fee=float(getattr(d, "fee", 0.0)),
                time=_utc_from_ms(utc_ms), magic=int(d.magic), comment=str(d.comment),
                basket_id=basket_id)


def _server_ms_to_utc(terminal: Terminal, server_ms: int) -> int:
    convert = getattr(terminal, "utc_ms_from_server_ms", None)
    if convert is not None:
        return int(convert(server_ms))
    return int(terminal.utc_ms_from_server_s(server_ms // 1000)) + server_ms % 1000
