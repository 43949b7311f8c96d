"""Startup reconciliation: the journal's open baskets against the terminal (DESIGN 6).

Runs before any entry.  For every basket the journal says is open:
- a leg whose position is still at the terminal is adopted (ticket, volume, price, swap);
- a leg whose position is gone is closed out from the terminal's deal history (the deals
  are journaled, idempotently), so its realised P&L is known;
- a request journaled without a result (a crash between the two) is resolved from the
  terminal: a position carrying the basket's comment for that symbol means it was filled;
- a basket with some legs gone, or an entry cut short, is adopted and closed at the first
  step (code RISK): a partial basket is not the dollar-neutral trade that was decided;
- a basket with every leg gone is closed in the journal with the exit the broker made
  (stop-out -> RISK, anything else -> MANUAL).
Positions carrying one of our magic numbers that no open basket accounts for are flagged
EXTERNAL: their cluster goes CLOSE_ONLY with the tickets in the reason, and nothing is
done to them (a cold start with an empty journal flags every such position).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.baskets import Basket, Leg
from engine.execution import deal_record
from engine.model import ClusterState, ExitCode, OrderPurpose
from engine.records import BasketClose, OpenBasketRecord, OrderRequest, OrderResult

if TYPE_CHECKING:
    from engine.runner import Engine

DEAL_ENTRY_IN = 0
DEAL_REASON_EXPERT = 3
DEAL_REASON_SO = 6


@dataclass
class ReconcileReport:
    adopted: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    to_close: list[str] = field(default_factory=list)
    external: list[int] = field(default_factory=list)
    resolved_requests: int = 0

    def lines(self) -> list[str]:
        out = [f"reconciliation: {len(self.adopted)} basket(s) adopted, "
               f"{len(self.closed)} closed out from deal history, "
               f"{len(self.to_close)} incomplete (closing), {len(self.external)} external "
               f"position(s), {self.resolved_requests} unanswered request(s) resolved"]
        out += [f"adopted {b}" for b in self.adopted]
        out += [f"closed out {b}" for b in self.closed]
        out += [f"external position #{t}" for t in self.external]
        return out


def reconcile(engine: Engine) -> ReconcileReport:
    report = ReconcileReport()
    terminal = engine.terminal
    magics = {sig.spec.magic: name for name, sig in engine.signals.items()}
    positions = [p for p in (terminal.positions_get() or ()) if int(p.magic) in magics]
    by_ticket = {int(p.ticket): p for p in positions}
    claimed: set[int] = set()
    for open_basket in engine.journal.open_baskets():
        basket_id = open_basket.basket.basket_id
        cluster = open_basket.basket.opening.cluster
        if cluster not in engine.signals:
            engine.log("WARNING", f"{basket_id}: cluster {cluster} is not configured; left open "
                                  f"in the journal")
            continue
        _resolve_pending(engine, open_basket, positions, report)
        tickets = _leg_tickets(engine, open_basket, positions)
        basket = _rebuild(engine, open_basket, tickets, by_ticket)
        claimed |= set(tickets.values())
        open_legs = basket.open_legs
        planned = {leg.symbol for leg in open_basket.basket.opening.legs}
        if not open_legs:
            _close_from_history(engine, basket, report)
            continue
        engine.baskets[cluster] = basket
        report.adopted.append(basket_id)
        if len(open_legs) < len(planned):
            engine._pending_exit[cluster] = (
                ExitCode.RISK, "incomplete basket at restart", OrderPurpose.EXIT)
            report.to_close.append(basket_id)
    for ticket, p in by_ticket.items():
        if ticket in claimed:
            continue
        report.external.append(ticket)
        cluster = magics[int(p.magic)]
        engine._lock(cluster, ClusterState.CLOSE_ONLY,
                     f"EXTERNAL position #{ticket} {p.symbol} {p.volume} lots with our magic")
    return report


def _resolve_pending(engine: Engine, ob: OpenBasketRecord, positions: list[Any],
                     report: ReconcileReport) -> None:
    pending = [o.request for o in ob.orders if o.result is None]
    for req in pending:
        closing = int(req.raw.get("position", 0) or 0)
        if closing:
            engine.journal.record_result(_resolve_close(engine, req, closing, positions))
            report.resolved_requests += 1
            continue
        match = [p for p in positions if p.symbol == req.symbol and str(p.comment) == req.comment
                 and abs(float(p.volume) - req.volume) < 1e-9]
        if match:
            p = match[0]
            result = OrderResult(req.request_id, engine.now(), 10009, 0, int(p.ticket),
                                 float(p.volume), float(p.price_open),
                                 "resolved at restart: position found")
        else:
            result = OrderResult(req.request_id, engine.now(), 0, 0, 0, 0.0, 0.0,
                                 "resolved at restart: no position found")
        engine.journal.record_result(result)
        report.resolved_requests += 1


def _resolve_close(engine: Engine, req: OrderRequest, ticket: int,
                   positions: list[Any]) -> OrderResult:
    """A close request without result: filled exactly when its position is gone and the
    history holds our expert's closing deal for it (the open position itself carries the
    basket's comment too, so finding it means the close never reached the market)."""
    if any(int(p.ticket) == ticket for p in positions):
        return OrderResult(req.request_id, engine.now(), 0, 0, 0, 0.0, 0.0,
                           "resolved at restart: position still open")
    outs = [d for d in (engine.terminal.history_deals_get(position=ticket) or ())
            if int(d.entry) != DEAL_ENTRY_IN and int(d.magic) == req.magic
            and int(getattr(d, "reason", DEAL_REASON_EXPERT)) == DEAL_REASON_EXPERT]
    if not outs:
        return OrderResult(req.request_id, engine.now(), 0, 0, 0, 0.0, 0.0,
                           "resolved at restart: position closed outside the engine")
    d = outs[-1]
    return OrderResult(req.request_id, engine.now(), 10009, int(d.ticket), int(d.order),
                       float(d.volume), float(d.price), "resolved at restart: position closed")


def _leg_tickets(engine: Engine, ob: OpenBasketRecord, positions: list[Any]) -> dict[str, int]:
    """symbol -> position ticket, from the journaled entry deals, else from the comment."""
    tickets: dict[str, int] = {}
    for d in ob.deals:
        if d.entry == DEAL_ENTRY_IN and d.symbol not in tickets:
            tickets[d.symbol] = d.position_id
    comment = engine.executor.comment_for(ob.basket.basket_id)
    for p in positions:
        if str(p.comment) == comment and p.symbol not in tickets:
            tickets[p.symbol] = int(p.ticket)
    return tickets


def _rebuild(engine: Engine, ob: OpenBasketRecord, tickets: dict[str, int],
             by_ticket: dict[int, Any]) -> Basket:
    opening = ob.basket.opening
    sig = engine.signals[opening.cluster]
    basket = Basket(opening.basket_id, opening.cluster, opening.direction, opening.opened_at,
                    opening.entry_tdi, opening.risk_budget,
                    sig.spec.stops.take_profit_r * opening.risk_budget, sig.bars,
                    magic=opening.magic or sig.spec.magic)
    for symbol, ticket in tickets.items():
        contract = engine._quotes[symbol].contract_size
        p = by_ticket.get(ticket)
        if p is not None:
            sign = 1.0 if int(p.type) == 0 else -1.0
            leg = Leg(symbol, sign * float(p.volume), contract, ticket, float(p.price_open),
                      swap=float(p.swap))
            deals = engine.terminal.history_deals_get(position=ticket) or ()
            leg.commission = sum(float(d.commission) for d in deals)
            for d in deals:
                engine.journal.record_deal(deal_record(engine.terminal, d, opening.basket_id))
            basket.legs.append(leg)
        else:
            deals = engine.terminal.history_deals_get(position=ticket) or ()
            leg = Leg(symbol, 0.0, contract, ticket, closed=True)
            for d in deals:
                engine.journal.record_deal(deal_record(engine.terminal, d, opening.basket_id))
                leg.commission += float(d.commission)
                if int(d.entry) != DEAL_ENTRY_IN:
                    leg.swap += float(d.swap)
                    leg.realised += float(d.profit)
                    leg.close_price = float(d.price)
                    leg.close_reason = int(getattr(d, "reason", 0))
            leg.realised += leg.commission + leg.swap
            basket.legs.append(leg)
    return basket


def _close_from_history(engine: Engine, basket: Basket, report: ReconcileReport) -> None:
    pnl = sum(leg.realised for leg in basket.legs)
    costs = sum(leg.commission + leg.swap for leg in basket.legs)
    if not basket.legs:
        # The process stopped between journaling the basket and filling its first leg.
        code, detail = ExitCode.RISK, "entry interrupted before any leg filled"
    else:
        stopped_out = any(leg.close_reason == DEAL_REASON_SO for leg in basket.legs)
        code = ExitCode.RISK if stopped_out else ExitCode.MANUAL
        detail = "closed outside the engine; booked from deal history at restart"
    engine.journal.close_basket(BasketClose(basket.basket_id, engine.now(), math.nan, code,
                                            pnl, costs, detail))
    report.closed.append(basket.basket_id)
