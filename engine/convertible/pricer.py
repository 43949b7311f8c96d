"""The convertible's price, delta and gamma, and the volatility a market price implies.

**Conventions** (what a hedger reads): every figure is *per bond* of the terms' ``face``,
in the bond's currency, at the full ("dirty") price (coupons still to be paid included).
``delta`` is the derivative of that price in the stock price: the number of shares one
bond moves like, so ``n`` bonds long are hedged by ``n * delta`` shares short.  ``gamma``
is the derivative of ``delta`` in the stock price (shares per bond per unit of the stock
price).  ``hedge_ratio = delta / ratio`` is the same delta as a fraction of the shares
the bond converts into (0 for a bond far from conversion, 1 for one that trades at its
parity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from engine.convertible.terms import MAX_VOL, ConvertibleTerms, MarketInputs
from engine.convertible.tree import DEFAULT_STEPS, checked_steps, extrapolated
from engine.ranges import FieldError

#: The implied volatility is searched in ``[MIN_IMPLIED_VOL, MAX_VOL]`` to this precision.
MIN_IMPLIED_VOL = 0.005
IMPLIED_VOL_TOLERANCE = 1e-7


@dataclass(frozen=True)
class ConvertibleValue:
    """A convertible's value and sensitivities, per bond (see the module's conventions).

    - ``price``: the model price of one bond;
    - ``delta``: d price / d spot, shares per bond;
    - ``gamma``: d delta / d spot;
    - ``parity``: ``ratio * spot``, what converting now gives;
    - ``bond_floor``: the same coupons and face without the conversion right (nor calls or
      puts), discounted at the rate plus the credit spread: the straight bond;
    - ``conversion_probability``: the tree's risk-neutral probability that the bond ends
      up converted (the share of it discounted at the risk-free rate);
    - ``steps``: the finer tree's steps (the extrapolation's, ``engine.convertible.tree``).
    """

    price: float
    delta: float
    gamma: float
    parity: float
    bond_floor: float
    conversion_probability: float
    steps: int

    @property
    def conversion_premium(self) -> float:
        """How much more than its parity the bond costs, as a fraction of the parity."""
        return self.price / self.parity - 1.0

    def hedge_ratio(self, terms: ConvertibleTerms) -> float:
        """Delta as a fraction of the shares the bond converts into."""
        return self.delta / terms.ratio


def bond_floor(terms: ConvertibleTerms, market: MarketInputs) -> float:
    """The straight bond: coupons and face discounted at ``rate + credit_spread``."""
    y = market.rate + market.credit_spread
    coupons = sum(terms.coupon_amount() * math.exp(-y * t) for t in terms.coupon_times())
    return coupons + terms.face * math.exp(-y * terms.maturity)


def price_convertible(terms: ConvertibleTerms, market: MarketInputs, *,
                      steps: int = DEFAULT_STEPS) -> ConvertibleValue:
    """The bond's price, delta and gamma on the tree of ``engine.convertible.tree``
    (``steps``: the finer tree's, even, 10..20,000)."""
    checked = checked_steps(steps)
    result = extrapolated(terms, market, checked)
    return ConvertibleValue(
        price=result.value, delta=result.delta, gamma=result.gamma,
        parity=terms.ratio * market.spot, bond_floor=bond_floor(terms, market),
        conversion_probability=result.conversion_probability, steps=checked)


def _priced_at(terms: ConvertibleTerms, market: MarketInputs, vol: float, steps: int) -> float:
    moved = MarketInputs(spot=market.spot, volatility=vol, rate=market.rate,
                         dividend_yield=market.dividend_yield,
                         credit_spread=market.credit_spread)
    return extrapolated(terms, moved, steps).value


def implied_volatility(terms: ConvertibleTerms, market: MarketInputs, market_price: float,
                       *, steps: int = DEFAULT_STEPS) -> float:
    """The volatility at which the model prices the bond at ``market_price`` (the
    ``market.volatility`` given is ignored); see ``solve_volatility``."""
    checked = checked_steps(steps)
    carry = abs(market.rate - market.dividend_yield)
    # the tree's up probability stays in [0, 1] above this volatility (coarser tree)
    low = max(MIN_IMPLIED_VOL, 2.0 * carry * math.sqrt(2.0 * terms.maturity / checked))
    return solve_volatility(lambda vol: _priced_at(terms, market, vol, checked),
                            market_price, low=low)


def solve_volatility(price_at: Callable[[float], float], market_price: float, *,
                     low: float = MIN_IMPLIED_VOL, high: float = MAX_VOL) -> float:
    """The volatility in ``[low, high]`` at which ``price_at`` gives ``market_price``.

    A convertible's price rises with the volatility (its conversion right is a call), so
    the answer is found by bisection to ``IMPLIED_VOL_TOLERANCE``.  A price below the
    bracket's low end (near the bond floor or the parity: no option value left to
    explain) or above its high end is a ``FieldError`` on ``market_price`` that says
    which bound it crossed and the model's price there."""
    target = _finite_price(market_price)
    p_low = price_at(low)
    p_high = price_at(high)
    if target < p_low:
        raise FieldError("market_price", f"{target:g} is below the model's price at a "
                                         f"volatility of {low:.2%} ({p_low:.4f}): no "
                                         "volatility explains it")
    if target > p_high:
        raise FieldError("market_price", f"{target:g} is above the model's price at a "
                                         f"volatility of {high:.0%} ({p_high:.4f})")
    while high - low > IMPLIED_VOL_TOLERANCE:
        mid = 0.5 * (low + high)
        if price_at(mid) < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def _finite_price(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value > 0):
        raise FieldError("market_price", f"must be a positive number, got {value!r}")
    return float(value)
