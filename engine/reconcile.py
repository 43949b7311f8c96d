"""Startup reconciliation: the journal's open baskets against the terminal.

See docs/architecture.md, Execution and recovery.

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

Only baskets of the current account epoch are reconciled (``engine.records.RunStart``): a
broker's account has one epoch, so live reconciles everything its journal holds open.  A
basket opened over a simulator that is gone (a demo, replay or backtest whose process ended)
has no positions and no deal history anywhere any more: it is left as journaled, with the
deals it had, and reported, instead of being closed as MANUAL with a P&L the new simulator
cannot know.  A terminal server's simulator keeps its epoch across engine processes, so an
engine restarted against it reconciles exactly as live does.

``reconcile`` only reads (the terminal and the journal) and returns a ``ReconcilePlan``;
the engine applies it.  Keeping the decisions apart from the writes means the rules above
can be read, and tested, without an engine, and the engine's state has one writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.baskets import Basket, Leg
from engine.cluster import ClusterSpec
from engine.execution import DEAL_ENTRY_IN, RETCODE_DONE, deal_record
from engine.exits import PendingExit
from engine.model import ClusterState, ExitCode, OrderPurpose
from engine.ports import Journal, Terminal
from engine.records import BasketClose, Deal, OpenBasketRecord, OrderRequest, OrderResult

DEAL_REASON_EXPERT = 3
DEAL_REASON_SO = 6

#: A record the plan asks the engine to journal, in the order reconciliation decided it.
JournalWrite = OrderResult | Deal | BasketClose


@dataclass(frozen=True)
class ReconcileInputs:
    """Everything reconciliation reads.  The journal is only read (its open baskets)."""

    terminal: Terminal
    journal: Journal
    clusters: Mapping[str, ClusterSpec]
    #: Cluster bars seen so far, per cluster: an adopted basket's time stop counts from here.
    cluster_bars: Mapping[str, int]
    contract_sizes: Mapping[str, float]
    #: The order comment the executor gives a basket's legs (finds legs without a deal).
    comment_for: Callable[[str], str]
    now: datetime
    #: The account epoch this run trades in; baskets of other epochs are left alone.
    epoch: str = ""


@dataclass
class ReconcileReport:
    adopted: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    to_close: list[str] = field(default_factory=list)
    external: list[int] = field(default_factory=list)
    resolved_requests: int = 0
    #: Open baskets of an earlier account epoch (a simulator that is gone): not reconciled.
    left: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"reconciliation: {len(self.adopted)} basket(s) adopted, "
               f"{len(self.closed)} closed out from deal history, "
               f"{len(self.to_close)} incomplete (closing), {len(self.external)} external "
               f"position(s), {self.resolved_requests} unanswered request(s) resolved"]
        if self.left:
            out.append(f"{len(self.left)} basket(s) of an earlier simulated account left as "
                       f"journaled (their simulator is gone): {', '.join(self.left)}")
        out += [f"adopted {b}" for b in self.adopted]
        out += [f"closed out {b}" for b in self.closed]
        out += [f"external position #{t}" for t in self.external]
        return out


@dataclass(frozen=True)
class ClusterLock:
    """A cluster state the plan sets (journaled and published like any other change)."""

    cluster: str
    state: ClusterState
    reason: str


@dataclass
class ReconcilePlan:
    """What the engine does with the outcome, in this order: log the warnings, journal the
    records (in the order given: a result before the deals and the close of its basket),
    adopt the baskets, mark the pending exits, set the locks, log the report."""

    warnings: list[str] = field(default_factory=list)
    journal: list[JournalWrite] = field(default_factory=list)
    #: cluster -> the rebuilt basket the engine now holds open.
    adopt: dict[str, Basket] = field(default_factory=dict)
    #: cluster -> the exit to retry at the first M1 close (incomplete baskets).
    pending_exits: dict[str, PendingExit] = field(default_factory=dict)
    locks: list[ClusterLock] = field(default_factory=list)
    report: ReconcileReport = field(default_factory=ReconcileReport)


def reconcile(inputs: ReconcileInputs) -> ReconcilePlan:
    plan = ReconcilePlan()
    report = plan.report
    magics = {spec.magic: name for name, spec in inputs.clusters.items()}
    positions = [p for p in (inputs.terminal.positions_get() or ()) if int(p.magic) in magics]
    by_ticket = {int(p.ticket): p for p in positions}
    claimed: set[int] = set()
    for open_basket in inputs.journal.open_baskets():
        basket_id = open_basket.basket.basket_id
        cluster = open_basket.basket.opening.cluster
        if open_basket.epoch != inputs.epoch:
            report.left.append(basket_id)
            continue
        if cluster not in inputs.clusters:
            plan.warnings.append(f"{basket_id}: cluster {cluster} is not configured; left open "
                                 f"in the journal")
            continue
        _resolve_pending(inputs, open_basket, positions, plan)
        tickets = _leg_tickets(inputs, open_basket, positions)
        basket = _rebuild(inputs, open_basket, tickets, by_ticket, plan)
        claimed |= set(tickets.values())
        open_legs = basket.open_legs
        planned = {leg.symbol for leg in open_basket.basket.opening.legs}
        if not open_legs:
            _close_from_history(inputs, basket, plan)
            continue
        plan.adopt[cluster] = basket
        report.adopted.append(basket_id)
        if len(open_legs) < len(planned):
            plan.pending_exits[cluster] = PendingExit(
                ExitCode.RISK, "incomplete basket at restart", OrderPurpose.EXIT)
            report.to_close.append(basket_id)
    for ticket, p in by_ticket.items():
        if ticket in claimed:
            continue
        report.external.append(ticket)
        plan.locks.append(ClusterLock(
            magics[int(p.magic)], ClusterState.CLOSE_ONLY,
            f"EXTERNAL position #{ticket} {p.symbol} {p.volume} lots with our magic"))
    return plan


def _resolve_pending(inputs: ReconcileInputs, ob: OpenBasketRecord, positions: list[Any],
                     plan: ReconcilePlan) -> None:
    pending = [o.request for o in ob.orders if o.result is None]
    for req in pending:
        closing = int(req.raw.get("position", 0) or 0)
        if closing:
            plan.journal.append(_resolve_close(inputs, req, closing, positions))
            plan.report.resolved_requests += 1
            continue
        match = [p for p in positions if p.symbol == req.symbol and str(p.comment) == req.comment
                 and abs(float(p.volume) - req.volume) < 1e-9]
        if match:
            p = match[0]
            result = OrderResult(req.request_id, inputs.now, RETCODE_DONE, 0, int(p.ticket),
                                 float(p.volume), float(p.price_open),
                                 "resolved at restart: position found")
        else:
            result = OrderResult(req.request_id, inputs.now, 0, 0, 0, 0.0, 0.0,
                                 "resolved at restart: no position found")
        plan.journal.append(result)
        plan.report.resolved_requests += 1


def _resolve_close(inputs: ReconcileInputs, req: OrderRequest, ticket: int,
                   positions: list[Any]) -> OrderResult:
    """A close request without result: filled exactly when its position is gone and the
    history holds our expert's closing deal for it (the open position itself carries the
    basket's comment too, so finding it means the close never reached the market)."""
    if any(int(p.ticket) == ticket for p in positions):
        return OrderResult(req.request_id, inputs.now, 0, 0, 0, 0.0, 0.0,
                           "resolved at restart: position still open")
    outs = [d for d in (inputs.terminal.history_deals_get(position=ticket) or ())
            if int(d.entry) != DEAL_ENTRY_IN and int(d.magic) == req.magic
            and int(getattr(d, "reason", DEAL_REASON_EXPERT)) == DEAL_REASON_EXPERT]
    if not outs:
        return OrderResult(req.request_id, inputs.now, 0, 0, 0, 0.0, 0.0,
                           "resolved at restart: position closed outside the engine")
    d = outs[-1]
    return OrderResult(req.request_id, inputs.now, RETCODE_DONE, int(d.ticket), int(d.order),
                       float(d.volume), float(d.price), "resolved at restart: position closed")


def _leg_tickets(inputs: ReconcileInputs, ob: OpenBasketRecord,
                 positions: list[Any]) -> dict[str, int]:
    """symbol -> position ticket, from the journaled entry deals, else from the comment."""
    tickets: dict[str, int] = {}
    for d in ob.deals:
        if d.entry == DEAL_ENTRY_IN and d.symbol not in tickets:
            tickets[d.symbol] = d.position_id
    comment = inputs.comment_for(ob.basket.basket_id)
    for p in positions:
        if str(p.comment) == comment and p.symbol not in tickets:
            tickets[p.symbol] = int(p.ticket)
    return tickets


def _rebuild(inputs: ReconcileInputs, ob: OpenBasketRecord, tickets: dict[str, int],
             by_ticket: dict[int, Any], plan: ReconcilePlan) -> Basket:
    opening = ob.basket.opening
    spec = inputs.clusters[opening.cluster]
    basket = Basket(opening.basket_id, opening.cluster, opening.direction, opening.opened_at,
                    opening.entry_tdi, opening.risk_budget,
                    spec.stops.take_profit_r * opening.risk_budget,
                    inputs.cluster_bars[opening.cluster], magic=opening.magic or spec.magic,
                    time_stop_bars=opening.time_stop_bars)
    for symbol, ticket in tickets.items():
        contract = inputs.contract_sizes[symbol]
        deals = inputs.terminal.history_deals_get(position=ticket) or ()
        plan.journal.extend(deal_record(inputs.terminal, d, opening.basket_id) for d in deals)
        p = by_ticket.get(ticket)
        if p is not None:
            basket.legs.append(_open_leg(symbol, contract, ticket, p, deals))
        else:
            basket.legs.append(_closed_leg(symbol, contract, ticket, deals))
    return basket


def _open_leg(symbol: str, contract: float, ticket: int, position: Any,
              deals: Any) -> Leg:
    """A leg still open at the terminal, as the terminal holds it now."""
    sign = 1.0 if int(position.type) == 0 else -1.0
    leg = Leg(symbol, sign * float(position.volume), contract, ticket,
              float(position.price_open), swap=float(position.swap))
    leg.commission = sum(float(d.commission) for d in deals)
    return leg


def _closed_leg(symbol: str, contract: float, ticket: int, deals: Any) -> Leg:
    """A leg whose position is gone: booked from the deal history (profit, swap, costs)."""
    leg = Leg(symbol, 0.0, contract, ticket, closed=True)
    for d in deals:
        leg.commission += float(d.commission)
        if int(d.entry) != DEAL_ENTRY_IN:
            leg.swap += float(d.swap)
            leg.realised += float(d.profit)
            leg.close_reason = int(getattr(d, "reason", 0))
    leg.realised += leg.commission + leg.swap
    return leg


def _close_from_history(inputs: ReconcileInputs, basket: Basket, plan: ReconcilePlan) -> None:
    pnl = sum(leg.realised for leg in basket.legs)
    costs = sum(leg.commission + leg.swap for leg in basket.legs)
    if not basket.legs:
        # The process stopped between journaling the basket and filling its first leg.
        code, detail = ExitCode.RISK, "entry interrupted before any leg filled"
    else:
        stopped_out = any(leg.close_reason == DEAL_REASON_SO for leg in basket.legs)
        code = ExitCode.RISK if stopped_out else ExitCode.MANUAL
        detail = "closed outside the engine; booked from deal history at restart"
    plan.journal.append(BasketClose(basket.basket_id, inputs.now, math.nan, code, pnl, costs,
                                    detail))
    plan.report.closed.append(basket.basket_id)
