"""The hedged convertible's P&L, split live into what earned it (account currency, since entry).

Between two checks k-1 and k of the hedger (``engine.hedging``), with N bonds, the model price
B and its gamma G at the stock's mid S, and h the hedge held over the interval (shares,
negative short; after the trades of check k-1):

- ``edge``: N x (B_0 - entry price), the model's value of the bond over what it cost, fixed
  at the first check (buying a convertible cheap to its model is the trade's premise);
- ``gamma``: the sum of 1/2 x N x G_(k-1) x (S_k - S_(k-1))^2, the convexity re-hedging
  harvests (gamma trading);
- ``other``: the rest of the hedged book's price P&L at the mids, sum of N x (B_k - B_(k-1))
  + h x (S_k - S_(k-1)) minus ``gamma``: time decay, the delta left inside the band, a
  change of the entered volatility or spread, the tree's discretisation;
- ``coupon``: the coupons the bonds paid (N x face x rate / frequency on each coupon date
  passed; the model price is the dirty price, so it drops by what this adds);
- ``financing``: the bond's cash at the rate, minus the sum of N x B_(k-1) x r x dt (dt in
  years, ACT/365.25), plus the swap the terminal booked on the hedge (the CFD's
  financing);
- ``costs``: the hedge's commission, and its price P&L at the terminal (fills at the bid or
  ask, the open positions marked at the price a close would get) minus its P&L at the
  mids: the spread and any slippage.

The parts sum to ``total`` = N x (B_now - entry price) + coupons + the hedge's P&L at the
terminal (profit + swap + commission) + the bond's financing: exactly, by construction, and
a test recomputes the total from those four figures independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: The parts in the order the panel and the journal show them.
PNL_PARTS = ("edge", "gamma", "other", "coupon", "financing", "costs")

#: What each part means, for tooltips and the docs (see the module docstring).
PNL_BASIS = {
    "edge": "bonds x (model price at the first check - entry price)",
    "gamma": "sum of 1/2 x bonds x gamma x (stock move)^2 between checks: gamma trading",
    "other": "bond + hedge P&L at the mids minus gamma: theta, band drift, input changes",
    "coupon": "coupons paid: bonds x face x coupon / frequency per date passed",
    "financing": "bond cash at the rate (- bonds x price x r x dt) + the hedge's swap",
    "costs": "hedge commission + its P&L at the terminal's bid/ask minus at the mids",
}


@dataclass(frozen=True)
class HedgeBook:
    """The hedge's figures at the terminal (account currency, since the bond's entry):
    ``profit`` (realised + floating price P&L), ``swap`` and ``commission`` (fees too)."""

    profit: float = 0.0
    swap: float = 0.0
    commission: float = 0.0

    @property
    def total(self) -> float:
        return self.profit + self.swap + self.commission


@dataclass(frozen=True)
class PnlState:
    """The running split after a check, and what the next interval starts from.

    ``spot``, ``price``, ``gamma`` and ``held`` (shares) are those of the last check;
    ``unit`` the account value of one share's price unit (contract size x the quote
    currency's value); ``mid_hedge`` the hedge's price P&L at the mids so far; ``bond_fin``
    the bond's financing so far; ``book`` the hedge at the terminal.
    """

    edge: float = math.nan
    gamma: float = 0.0
    other: float = 0.0
    coupon: float = 0.0
    bond_fin: float = 0.0
    mid_hedge: float = 0.0
    book: HedgeBook = HedgeBook()
    spot: float = math.nan
    price: float = math.nan
    gamma_shares: float = math.nan
    held: float = 0.0

    @property
    def started(self) -> bool:
        return math.isfinite(self.spot)

    def parts(self) -> tuple[tuple[str, float], ...]:
        """(name, value) in ``PNL_PARTS`` order."""
        financing = self.bond_fin + self.book.swap
        costs = self.book.commission + (self.book.profit - self.mid_hedge)
        edge = self.edge if math.isfinite(self.edge) else 0.0
        values = (edge, self.gamma, self.other, self.coupon, financing, costs)
        return tuple(zip(PNL_PARTS, values, strict=True))

    @property
    def total(self) -> float:
        return sum(value for _, value in self.parts())


def start(bonds: float, entry_price: float, spot: float, price: float, gamma: float,
          held: float, book: HedgeBook) -> PnlState:
    """The split at the first check: the edge is fixed; the hedge's first fill (at this
    check) has cost its spread and commission already, which ``costs`` shows."""
    return PnlState(edge=bonds * (price - entry_price), book=book, spot=spot, price=price,
                    gamma_shares=gamma, held=held)


def advance(state: PnlState, *, bonds: float, spot: float, price: float, gamma: float,
            held_after: float, unit: float, years: float, rate: float, coupons: float,
            book: HedgeBook) -> PnlState:
    """The split after one more check (see the module docstring).

    ``held_after`` is the hedge after this check's trades (it carries the next interval);
    ``years`` the interval's length; ``coupons`` the coupon cash paid in it (all bonds);
    ``book`` the hedge's figures at the terminal now.
    """
    move = spot - state.spot
    gamma_part = 0.5 * bonds * state.gamma_shares * move * move
    hedge_mid = state.held * move * unit
    bond_move = bonds * (price - state.price)
    return replace(
        state,
        gamma=state.gamma + gamma_part,
        other=state.other + bond_move + hedge_mid - gamma_part,
        coupon=state.coupon + coupons,
        bond_fin=state.bond_fin - bonds * state.price * rate * years,
        mid_hedge=state.mid_hedge + hedge_mid,
        book=book, spot=spot, price=price, gamma_shares=gamma, held=held_after)
