"""Convertible bonds: terms, a binomial pricer, its sensitivities and implied volatility.

Pure maths (no I/O): ``app.research.convertible*`` and the console build on it.  MT5 has
no convertible bonds; the bond is held elsewhere, and this package prices it so that the
stock leg can be hedged against it (docs/architecture.md, Convertible arbitrage).

- ``ConvertibleTerms``, ``ScheduleDate``: the bond (per bond of ``face``; times in years);
- ``MarketInputs``: spot, volatility, rate, dividend yield, credit spread;
- ``price_convertible(terms, market, *, steps)`` -> ``ConvertibleValue``: price, delta
  (shares per bond), gamma, parity, bond floor, conversion probability;
- ``implied_volatility(terms, market, market_price)``: the volatility a price implies.
"""

from engine.convertible.pricer import (
    ConvertibleValue,
    bond_floor,
    implied_volatility,
    price_convertible,
)
from engine.convertible.terms import ConvertibleTerms, MarketInputs, ScheduleDate
from engine.convertible.tree import DEFAULT_STEPS

__all__ = [
    "DEFAULT_STEPS",
    "ConvertibleTerms",
    "ConvertibleValue",
    "MarketInputs",
    "ScheduleDate",
    "bond_floor",
    "implied_volatility",
    "price_convertible",
]
