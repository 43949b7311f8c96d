"""The hedged convertible's P&L, split live into what earned it (account currency, since entry).

The bond side of each interval between two checks of the hedger (``engine.hedging``) is
the convertible simulator's own decomposition, ``engine.convertible.hedge.split_pnl``
(the same function, so the console and ``main.py convertible hedge`` split a period the
same way): ``gamma_trading``, ``rest``, ``coupon`` and ``bond_financing``, with the short
the hedge held over the interval.  The stock side is not modelled but read from the
terminal, where the hedge really trades:

- ``edge``: the model's value against the trade prices: bonds x (model price at the first
  check - entry price), and at the sale bonds x (sale price - model price).  Buying a
  convertible cheap to its model is the trade's premise;
- ``gamma_trading``, ``rest``, ``coupon``, ``bond_financing``: ``split_pnl``'s parts
  summed over the checks (its module says each; the hedge's price P&L is in
  ``gamma_trading`` at the mids, as the simulator counts it);
- ``stock_financing``: the swap the terminal booked on the hedge positions (the CFD's
  financing, in place of the simulator's borrow rate);
- ``hedge_cost``: the hedge's commission, and its P&L at the terminal (fills at the bid or
  ask, open positions at the price a close would get) minus its P&L at the mids: the
  spread and any slippage (in place of the simulator's cost per share).

The parts sum to ``total`` = bonds x (exit or model price now - entry price) + the coupon
income + the hedge at the terminal (profit + swap + commission) + the bond's financing,
exactly (the model prices telescope: each check's price is the one ``split_pnl`` priced
as its "after"); a test recomputes the total from those figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.convertible import ConvertibleTerms, ConvertibleValue, MarketInputs
from engine.convertible.hedge import split_pnl

#: The parts in the order the panel and the journal show them.
PNL_PARTS = ("edge", "gamma_trading", "rest", "coupon", "bond_financing", "stock_financing",
             "hedge_cost")

#: What each part means, for tooltips and the docs (see the module docstring).
PNL_BASIS = {
    "edge": "bonds x (model price - entry price) at the first check, and x (sale price - "
            "model price) at the sale",
    "gamma_trading": "bonds x (bond repriced at the new spot - before) + hedge x spot move, "
                     "at the mids, summed over checks (the simulator's split_pnl)",
    "rest": "the rest of the bond's clean price change: theta, vega, credit (split_pnl)",
    "coupon": "coupon income: accrual plus coupons paid, per bond x bonds (split_pnl)",
    "bond_financing": "- bonds x price x rate x days / 365: the bond's cash at the rate",
    "stock_financing": "the swap the terminal booked on the hedge positions",
    "hedge_cost": "hedge commission + its P&L at the terminal's bid/ask minus at the mids",
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

    ``bond`` holds the sums of ``split_pnl``'s four bond-side parts; ``mid_hedge`` the
    hedge's price P&L at the mids so far (inside ``gamma_trading``); ``book`` the hedge at
    the terminal; ``spot``, ``held`` (shares) and ``value`` the last check's.
    """

    edge: float = math.nan
    gamma_trading: float = 0.0
    rest: float = 0.0
    coupon: float = 0.0
    bond_financing: float = 0.0
    mid_hedge: float = 0.0
    book: HedgeBook = HedgeBook()
    spot: float = math.nan
    held: float = 0.0
    value: ConvertibleValue | None = None

    @property
    def started(self) -> bool:
        return math.isfinite(self.spot)

    @property
    def price(self) -> float:
        return self.value.price if self.value is not None else math.nan

    def parts(self) -> tuple[tuple[str, float], ...]:
        """(name, value) in ``PNL_PARTS`` order."""
        cost = self.book.commission + (self.book.profit - self.mid_hedge)
        edge = self.edge if math.isfinite(self.edge) else 0.0
        values = (edge, self.gamma_trading, self.rest, self.coupon, self.bond_financing,
                  self.book.swap, cost)
        return tuple(zip(PNL_PARTS, values, strict=True))

    @property
    def total(self) -> float:
        return sum(value for _, value in self.parts())


def start(bonds: float, entry_price: float, spot: float, value: ConvertibleValue,
          held: float, book: HedgeBook) -> PnlState:
    """The split at the first check: the edge is fixed; the hedge's first fill (at this
    check) has cost its spread and commission already, which ``hedge_cost`` shows."""
    return PnlState(edge=bonds * (value.price - entry_price), book=book, spot=spot,
                    held=held, value=value)


def advance(state: PnlState, terms: ConvertibleTerms, before: MarketInputs,
            after: MarketInputs, *, bonds: float, years: float, financing_rate: float,
            unit: float, steps: int) -> tuple[PnlState, ConvertibleValue]:
    """The split's bond side after one more interval, and the bond's value at its end
    (``split_pnl``'s "after": the check prices the bond once).  ``settle`` then records
    the check's hedge.

    ``terms`` and ``before`` are the bond and its market at the last check; ``years`` the
    time since (days / 365, the bond's clock and the financing's); ``unit`` the account
    value of one share's price unit (contract size x the quote currency's value; 1 for a
    USD stock CFD on a USD account).
    """
    # the hedge is short -held shares of the stock; a contract of ``unit`` per price unit
    split = split_pnl(terms, before, after, elapsed_years=years, bonds=bonds,
                      short_shares=-state.held * unit, financing_rate=financing_rate,
                      steps=steps, value_before=state.value)
    state = replace(
        state,
        gamma_trading=state.gamma_trading + split.gamma_trading,
        rest=state.rest + split.rest,
        coupon=state.coupon + split.coupon,
        bond_financing=state.bond_financing + split.bond_financing,
        mid_hedge=state.mid_hedge + state.held * unit * (after.spot - before.spot),
        spot=after.spot, value=split.after)
    return state, split.after


def settle(state: PnlState, held_after: float, book: HedgeBook) -> PnlState:
    """The hedge after the check's trades (it carries the next interval) and the hedge's
    figures at the terminal now."""
    return replace(state, held=held_after, book=book)


def sold(state: PnlState, bonds: float, price: float) -> PnlState:
    """The bond sold at ``price``: the sale's difference to the model joins ``edge``."""
    return replace(state, edge=state.edge + bonds * (price - state.price))
