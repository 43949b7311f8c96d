"""The same convertible priced by QuantLib: the cross-check of ``engine.convertible``.

QuantLib (an optional extra: ``pip install 'fxcluster[convertible]'``) prices a
convertible with ``BinomialConvertibleEngine``: a CRR tree with the Tsiveriotis-Fernandes
blended credit discount, the model ``engine.convertible.tree`` implements.  This module
turns ``ConvertibleTerms``/``MarketInputs`` into QuantLib's objects and back:

- **dates**: QuantLib works with dates, the terms with years from now.  On a 30/360 day
  count from a pricing date on the 15th, a whole number of months is an exact year
  fraction, so the maturity and every call or put date must be whole months (a one-line
  ``UserError`` otherwise); the coupon schedule runs back from the maturity and starts on
  a regular date before now, so the next coupon is paid whole, as the terms say;
- **units**: QuantLib's convertibles have a notional of 100; the conversion ratio and the
  call and put prices are scaled to it and the price scaled back to ``face``; a call or
  put price is clean (QuantLib adds the accrued coupon, as the tree does);
- **the tree's noise**: QuantLib's plain tree oscillates with the number of steps (by up
  to about 2e-3 relative with a credit spread: a node's conversion probability flips
  between 0 and 1 from one step count to the next), so the answer here is the mean over
  ``STEP_COUNTS`` (odd counts: an even count puts a node exactly on the stock price now,
  where a tie at the conversion price flips the credit discount of the likeliest node);
- **sensitivities**: the engine gives only a price; delta and gamma are differences of
  prices at ``S u^2``, ``S`` and ``S u^-2`` on trees of the same step count (``u`` that
  tree's up factor): the three trees then share their nodes, so the oscillation above
  cancels out of the differences (a fixed bump of 1% moved the nodes against the
  conversion boundary and gave a gamma of the wrong sign).  Averaged over
  ``STEP_COUNTS``.
"""

from __future__ import annotations

import math
from typing import Any

from engine.convertible import ConvertibleTerms, ConvertibleValue, MarketInputs, bond_floor
from engine.convertible.pricer import solve_volatility
from engine.errors import UserError

#: What a user who asks for QuantLib without it installed is told.
MISSING = ("--engine quantlib needs QuantLib: pip install 'fxcluster[convertible]' "
           "(or use the built-in --engine tree)")
#: QuantLib's tree step counts whose prices are averaged (see the module's docstring).
STEP_COUNTS = (2001, 2501, 3001, 3501)
#: QuantLib's notional for every convertible.
NOTIONAL = 100.0


def quantlib() -> Any:
    """The QuantLib module, or a ``UserError`` naming the extra that installs it."""
    try:
        import QuantLib
    except ImportError:
        raise UserError(MISSING) from None
    return QuantLib


def _months(field: str, years: float) -> int:
    months = round(years * 12)
    if abs(months - years * 12) > 1e-9 or months <= 0:
        raise UserError(f"{field}: the QuantLib engine needs a whole number of months, "
                        f"got {years:g} years (use --engine tree)")
    return months


class _Bond:
    """The terms as a QuantLib convertible on a fixed pricing date."""

    def __init__(self, ql: Any, terms: ConvertibleTerms) -> None:
        self.ql = ql
        self.terms = terms
        self.day_count = ql.Thirty360(ql.Thirty360.BondBasis)
        self.calendar = ql.NullCalendar()
        self.today = ql.Date(15, 1, 2020)
        ql.Settings.instance().evaluationDate = self.today
        self.scale = terms.face / NOTIONAL

    def date(self, field: str, years: float) -> Any:
        return self.today + self.ql.Period(_months(field, years), self.ql.Months)

    def build(self) -> Any:
        ql, terms = self.ql, self.terms
        maturity = self.date("--maturity", terms.maturity)
        period = 12 // terms.frequency
        first = maturity - ql.Period(period * math.ceil(
            _months("--maturity", terms.maturity) / period), ql.Months)
        schedule = ql.Schedule(first, maturity, ql.Period(period, ql.Months), self.calendar,
                               ql.Unadjusted, ql.Unadjusted, ql.DateGeneration.Backward,
                               False)
        exercise = (ql.EuropeanExercise(maturity) if terms.european
                    else ql.AmericanExercise(self.today, maturity))
        callability = ql.CallabilitySchedule()
        for kind, dates, name in ((ql.Callability.Call, terms.calls, "--call"),
                                  (ql.Callability.Put, terms.puts, "--put")):
            for d in dates:
                price = ql.BondPrice(d.price / self.scale, ql.BondPrice.Clean)
                callability.append(ql.Callability(price, kind, self.date(name, d.time)))
        ratio = terms.ratio / self.scale  # shares per 100 of notional
        if terms.coupon:
            return ql.ConvertibleFixedCouponBond(exercise, ratio, callability, first, 0,
                                                 [terms.coupon], self.day_count, schedule,
                                                 NOTIONAL)
        return ql.ConvertibleZeroCouponBond(exercise, ratio, callability, first, 0,
                                            self.day_count, schedule, NOTIONAL)

    def price(self, bond: Any, market: MarketInputs, steps: int) -> float:
        ql = self.ql
        flat = ql.YieldTermStructureHandle
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(market.spot)),
            flat(ql.FlatForward(self.today, market.dividend_yield, self.day_count)),
            flat(ql.FlatForward(self.today, market.rate, self.day_count)),
            ql.BlackVolTermStructureHandle(ql.BlackConstantVol(
                self.today, self.calendar, market.volatility, self.day_count)))
        engine = ql.BinomialConvertibleEngine(
            process, "crr", steps, ql.QuoteHandle(ql.SimpleQuote(market.credit_spread)),
            ql.DividendSchedule())
        bond.setPricingEngine(engine)
        return bond.NPV() * self.scale


def quantlib_price(terms: ConvertibleTerms, market: MarketInputs,
                   steps: tuple[int, ...] = STEP_COUNTS) -> float:
    """QuantLib's price of one bond: the mean over ``steps`` tree sizes."""
    ql = quantlib()
    wrapper = _Bond(ql, terms)
    bond = wrapper.build()
    return sum(wrapper.price(bond, market, n) for n in steps) / len(steps)


def _at_spot(market: MarketInputs, spot: float) -> MarketInputs:
    return MarketInputs(spot=spot, volatility=market.volatility, rate=market.rate,
                        dividend_yield=market.dividend_yield,
                        credit_spread=market.credit_spread)


def quantlib_value(terms: ConvertibleTerms, market: MarketInputs) -> ConvertibleValue:
    """Price, delta and gamma from QuantLib (see the module: node-aligned differences)."""
    prices, deltas, gammas = [], [], []
    s = market.spot
    for n in STEP_COUNTS:
        u2 = math.exp(2.0 * market.volatility * math.sqrt(terms.maturity / n))
        up, mid, down = (quantlib_price(terms, _at_spot(market, x), (n,))
                         for x in (s * u2, s, s / u2))
        prices.append(mid)
        deltas.append((up - down) / (s * u2 - s / u2))
        gammas.append(((up - mid) / (s * u2 - s) - (mid - down) / (s - s / u2))
                      / ((s * u2 - s / u2) / 2.0))
    return ConvertibleValue(
        price=math.fsum(prices) / len(prices), delta=math.fsum(deltas) / len(deltas),
        gamma=math.fsum(gammas) / len(gammas), parity=terms.ratio * s,
        bond_floor=bond_floor(terms, market), conversion_probability=math.nan,
        steps=max(STEP_COUNTS))


def quantlib_implied_volatility(terms: ConvertibleTerms, market: MarketInputs,
                                market_price: float) -> float:
    """The volatility at which QuantLib prices the bond at ``market_price``."""
    def price_at(vol: float) -> float:
        moved = MarketInputs(spot=market.spot, volatility=vol, rate=market.rate,
                             dividend_yield=market.dividend_yield,
                             credit_spread=market.credit_spread)
        return quantlib_price(terms, moved)

    return solve_volatility(price_at, market_price)
