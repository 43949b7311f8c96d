"""The hedge at the terminal: what it holds, what it has earned, and the orders that move it.

The hedge of one bond is every position on the bond's stock CFD carrying the bond's own
magic (``ExternalBond.magic``).  What is *held* is always read from the terminal, never
remembered: after a restart, a fill the engine did not see, or a position closed by hand,
the next check starts from the truth.

Orders go through the engine's ``Executor`` (request journaled before it is sent, result
and deal after, purpose HEDGE, the bond id in the comment).  On a hedging account a sale
opens a position of its own, so an order that takes shares off the hedge closes the newest
positions first (``position`` set in the request) and an order that adds opens one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.execution import DEAL_ENTRY_IN, RETCODE_MARKET_CLOSED, Executor, LegFill
from engine.hedging_pnl import HedgeBook
from engine.model import OrderPurpose
from engine.ports import Terminal

#: The comment of every hedge order: MT5 cuts comments at 31 characters.
COMMENT_PREFIX = "hedge "


def comment_for(bond_id: str) -> str:
    return (COMMENT_PREFIX + bond_id)[:29]


def hedge_positions(terminal: Terminal, symbol: str, magic: int) -> list[Any]:
    """The open positions of one bond's hedge, oldest first."""
    positions = terminal.positions_get(symbol=symbol) or ()
    return sorted((p for p in positions if int(p.magic) == magic),
                  key=lambda p: (int(getattr(p, "time_msc", 0) or 0), int(p.ticket)))


def held_shares(positions: Iterable[Any], contract_size: float) -> float:
    """The hedge in shares (+ long, - short)."""
    return sum((float(p.volume) if int(p.type) == 0 else -float(p.volume)) * contract_size
               for p in positions)


@dataclass
class HedgeLedger:
    """The hedge's P&L at the terminal since the bond's entry (``engine.hedging_pnl.
    HedgeBook``): the deals of the positions it has held plus the open ones' floating
    profit and swap.  Positions closed before a restart are carried in ``closed`` (journaled
    with each mark), the open ones are read again."""

    closed: HedgeBook = field(default_factory=HedgeBook)
    tickets: set[int] = field(default_factory=set)

    def book(self, terminal: Terminal, positions: list[Any]) -> HedgeBook:
        open_tickets = {int(p.ticket) for p in positions}
        for ticket in sorted(self.tickets - open_tickets):
            self.closed = _add(self.closed, _deals_book(terminal, ticket))
        self.tickets = set(open_tickets)
        book = self.closed
        for p in positions:
            deals = _deals_book(terminal, int(p.ticket))
            book = _add(book, HedgeBook(deals.profit + float(p.profit),
                                        deals.swap + float(p.swap), deals.commission))
        return book


def _deals_book(terminal: Terminal, ticket: int) -> HedgeBook:
    profit = swap = commission = 0.0
    for d in terminal.history_deals_get(position=ticket) or ():
        commission += float(d.commission) + float(getattr(d, "fee", 0.0) or 0.0)
        if int(d.entry) != DEAL_ENTRY_IN:
            profit += float(d.profit)
            swap += float(d.swap)
    return HedgeBook(profit, swap, commission)


def _add(a: HedgeBook, b: HedgeBook) -> HedgeBook:
    return HedgeBook(a.profit + b.profit, a.swap + b.swap, a.commission + b.commission)


@dataclass(frozen=True)
class HedgeTrade:
    """What one order did: shares filled (signed), and a failure's retcode and text."""

    filled: float
    retcode: int = 0
    detail: str = ""

    @property
    def market_closed(self) -> bool:
        return self.retcode == RETCODE_MARKET_CLOSED


def trade(executor: Executor, positions: list[Any], symbol: str, shares: float,
          contract_size: float, magic: int, bond_id: str) -> HedgeTrade:
    """Move the hedge by ``shares`` (see the module docstring): close the newest positions
    on the other side first, then open the rest."""
    comment = comment_for(bond_id)
    left = shares
    filled = 0.0
    for p in reversed(positions):
        side = 1.0 if int(p.type) == 0 else -1.0
        if abs(left) < 1e-9 or math.copysign(1.0, left) == side:
            break
        take = min(abs(left), float(p.volume) * contract_size)
        fill = executor.send_leg(None, OrderPurpose.HEDGE, symbol, -side * take / contract_size,
                                 magic, position=int(p.ticket), comment=comment)
        if not fill.filled:
            return _failed(filled, fill)
        filled += fill.lots * contract_size
        left -= fill.lots * contract_size
    if abs(left) > 1e-9:
        fill = executor.send_leg(None, OrderPurpose.HEDGE, symbol, left / contract_size, magic,
                                 comment=comment)
        if not fill.filled:
            return _failed(filled, fill)
        filled += fill.lots * contract_size
    return HedgeTrade(filled)


def close_all(executor: Executor, positions: list[Any], symbol: str, magic: int,
              bond_id: str) -> HedgeTrade:
    """Close every position of the hedge (the bond was sold)."""
    filled = 0.0
    for p in positions:
        lots = float(p.volume) if int(p.type) == 0 else -float(p.volume)
        fill = executor.send_leg(None, OrderPurpose.HEDGE, symbol, -lots, magic,
                                 position=int(p.ticket), comment=comment_for(bond_id))
        if not fill.filled:
            return _failed(filled, fill)
        filled += fill.lots
    return HedgeTrade(filled)


def _failed(filled: float, fill: LegFill) -> HedgeTrade:
    return HedgeTrade(filled, fill.retcode or -1, f"{fill.status} {fill.retcode} {fill.detail}")
