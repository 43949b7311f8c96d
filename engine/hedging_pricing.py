"""The EXTERNAL bond priced by the convertible pricer (``engine.convertible``) at a moment.

The bond was entered with dates (its maturity, its call and put dates); the pricer takes
years left, so a call or put date that has passed drops out of the bond priced.
"""

from __future__ import annotations

import math
from datetime import datetime

from engine.convertible import (
    ConvertibleTerms,
    ConvertibleValue,
    MarketInputs,
    ScheduleDate,
    implied_volatility,
    price_convertible,
)
from engine.hedging_bond import ExternalBond, years_between

#: The least time left the tree is asked to price (one hour): at maturity the bond is its
#: redemption or its parity, and the hedger stops (``value_at`` returns None).
MIN_YEARS = 1.0 / (365.0 * 24)


def terms_at(bond: ExternalBond, now: datetime) -> ConvertibleTerms | None:
    """The pricer's terms ``now`` (None at or past maturity)."""
    years = bond.terms.years_left(now)
    if years < MIN_YEARS:
        return None
    t = bond.terms
    return ConvertibleTerms(face=t.face, maturity=years, ratio=t.ratio, coupon=t.coupon,
                            frequency=t.frequency, european=t.european,
                            calls=_ahead(t.calls, now, years), puts=_ahead(t.puts, now, years))


def _ahead(schedule: tuple[tuple[datetime, float], ...], now: datetime,
           years: float) -> tuple[ScheduleDate, ...]:
    """The schedule's dates still ahead of ``now``, in years from it (before maturity)."""
    out = []
    for when, price in schedule:
        left = years_between(now, when)
        if 0.0 < left < years:
            out.append(ScheduleDate(left, price))
    return tuple(out)


def market_at(bond: ExternalBond, spot: float) -> MarketInputs:
    i = bond.inputs
    return MarketInputs(spot=spot, volatility=i.volatility, rate=i.rate,
                        dividend_yield=i.dividend_yield, credit_spread=i.credit_spread)


def value_at(bond: ExternalBond, spot: float, now: datetime) -> ConvertibleValue | None:
    """Price, delta (shares per bond), gamma, parity and bond floor at ``spot`` and ``now``;
    None at maturity or without a usable spot."""
    terms = terms_at(bond, now)
    if terms is None or not (math.isfinite(spot) and spot > 0):
        return None
    return price_convertible(terms, market_at(bond, spot), steps=bond.settings.steps)


def implied_vol(bond: ExternalBond, spot: float, now: datetime, market_price: float) -> float:
    """The volatility the model needs to price the bond at ``market_price`` (NaN when no
    volatility in the pricer's range does, or at maturity)."""
    terms = terms_at(bond, now)
    if terms is None or not (math.isfinite(spot) and spot > 0 and market_price > 0):
        return math.nan
    try:
        return implied_volatility(terms, market_at(bond, spot), market_price,
                                  steps=bond.settings.steps)
    except ValueError:
        return math.nan
