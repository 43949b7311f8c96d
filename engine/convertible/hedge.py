"""A delta-hedged convertible's P&L over one period, split by where it comes from.

The position: ``bonds`` convertibles long (held outside MT5) and ``short_shares`` of the
stock short (a stock CFD), the short held unchanged over the period.  Between two marks
(``before`` and ``after``, ``elapsed_years`` apart) its P&L is, exactly:

    total = gamma_trading + rest + coupon + bond_financing + stock_financing + hedge_cost

- ``gamma_trading``: the hedged bond's P&L from the stock's move alone, the bond repriced
  at the new stock price with everything else as before, less the short's loss on the
  same move: ``bonds * (V(S1; before) - V(S0; before)) - short_shares * (S1 - S0)``.  A
  hedge at the bond's delta leaves the convexity, about ``bonds * gamma * dS^2 / 2`` (what
  re-hedging harvests); a hedge that drifted inside its band adds
  ``(bonds * delta - short_shares) * dS``;
- ``rest``: the rest of the bond's price change, measured by repricing at the new stock
  price with the new time left and the new market inputs (volatility, credit spread,
  rate): theta, vega and credit as they happened.  Measured on the clean price (the full
  price less the accrued coupon), so that a coupon date is not a loss here;
- ``coupon``: the coupon income, ``bonds * (accrued after - accrued before + coupons
  paid)``: a day's accrual, smooth through the payment dates;
- ``bond_financing``: ``-bonds * V(before) * financing_rate * days / 365``: the bond's
  full price borrowed at the rate for the period's calendar days;
- ``stock_financing``: ``-short_shares * S0 * borrow * days / 365``: the short CFD's
  swap as an annual rate on its notional, positive ``borrow`` a cost (a broker may pay a
  short instead: a negative ``borrow``);
- ``hedge_cost``: ``-|traded_shares| * S1 * cost``: the cost of the re-hedge at the end
  of the period (a fraction of the price per share traded: half the spread and any
  commission).

Prices are the full ("dirty") model prices of ``engine.convertible.price_convertible``;
nothing here reads a clock or a file: the simulator (``app.research.convertible_hedge``)
and the console call it with their own marks.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import ranges
from engine.convertible.pricer import ConvertibleValue, price_convertible
from engine.convertible.terms import ConvertibleTerms, MarketInputs
from engine.convertible.tree import DEFAULT_STEPS

#: Financing accrues on calendar days over a 365-day year (a weekend's three nights are
#: three days, as a CFD's triple swap).
DAYS_PER_YEAR = 365.0
#: The parts of ``PnlSplit.total``, in the order a report shows them.
PARTS = ("gamma_trading", "rest", "coupon", "bond_financing", "stock_financing",
         "hedge_cost")


@dataclass(frozen=True)
class PnlSplit:
    """One period's P&L of the hedged position, by part (see the module)."""

    gamma_trading: float
    rest: float
    coupon: float
    bond_financing: float
    stock_financing: float
    hedge_cost: float
    value_before: float  # V(before), per bond
    value_moved: float  # V(S1; before), per bond
    after: ConvertibleValue  # the bond after (its price is V(after)), per bond

    @property
    def total(self) -> float:
        return sum(getattr(self, name) for name in PARTS)


def coupons_paid(terms: ConvertibleTerms, elapsed_years: float) -> float:
    """The coupon cash one bond receives within the next ``elapsed_years``."""
    return terms.coupon_amount() * sum(1 for t in terms.coupon_times()
                                       if t <= elapsed_years + 1e-12)


def _moved(market: MarketInputs, spot: float) -> MarketInputs:
    return MarketInputs(spot=spot, volatility=market.volatility, rate=market.rate,
                        dividend_yield=market.dividend_yield,
                        credit_spread=market.credit_spread)


def split_pnl(terms: ConvertibleTerms, before: MarketInputs, after: MarketInputs, *,
              elapsed_years: float, bonds: float, short_shares: float,
              financing_rate: float, borrow: float = 0.0, traded_shares: float = 0.0,
              cost: float = 0.0, steps: int = DEFAULT_STEPS,
              value_before: ConvertibleValue | None = None) -> PnlSplit:
    """The P&L of ``bonds`` long and ``short_shares`` short from ``before`` to ``after``.

    ``terms`` are the bond as of ``before`` (``terms.aged(elapsed_years)`` is the bond
    after); ``elapsed_years`` is the time between the marks on the bond's clock and also
    the financing's (calendar days / 365); ``value_before`` spares a repricing when the
    caller has it."""
    ranges.number("elapsed_years", elapsed_years, 0.0, terms.maturity, high_open=True)
    days = elapsed_years * DAYS_PER_YEAR
    v0 = value_before or price_convertible(terms, before, steps=steps)
    v_moved = price_convertible(terms, _moved(before, after.spot), steps=steps).price
    later = terms.aged(elapsed_years) if elapsed_years > 0 else terms
    valued = price_convertible(later, after, steps=steps)
    v1 = valued.price
    paid = coupons_paid(terms, elapsed_years) if elapsed_years > 0 else 0.0
    accrual = later.accrued(0.0) - terms.accrued(0.0)
    move = after.spot - before.spot
    return PnlSplit(
        gamma_trading=bonds * (v_moved - v0.price) - short_shares * move,
        rest=bonds * (v1 - v_moved - accrual),
        coupon=bonds * (accrual + paid),
        bond_financing=-bonds * v0.price * financing_rate * days / DAYS_PER_YEAR,
        stock_financing=-short_shares * before.spot * borrow * days / DAYS_PER_YEAR,
        hedge_cost=-abs(traded_shares) * after.spot * cost,
        value_before=v0.price, value_moved=v_moved, after=valued)


def rehedge(short_shares: float, bonds: float, delta: float, band_shares: float) -> float:
    """The shares to sell (positive) or buy back (negative) so that the short is the
    bonds' delta again, when it has drifted more than ``band_shares`` from it; 0 inside
    the band."""
    target = bonds * delta
    return target - short_shares if abs(target - short_shares) > band_shares else 0.0
