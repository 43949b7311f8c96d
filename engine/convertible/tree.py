"""The convertible bond on a binomial tree: the model, its conventions and its accuracy.

**Model.**  The stock follows a lognormal process with the risk-free ``rate``, the
continuous ``dividend_yield`` and the ``volatility``, on a Cox-Ross-Rubinstein tree: up
factor ``u = exp(sigma sqrt(dt))``, down ``1/u``, up probability
``(exp((r - q) dt) - 1/u) / (u - 1/u)`` (the stock earns ``r - q`` in expectation).  The
issuer's credit enters as QuantLib's ``BinomialConvertibleEngine`` carries it out (QuantLib
names it after Tsiveriotis and Fernandes, 1998; their own two-part valuation discounts a
cash-only part at the rate plus the spread and the rest at the rate, and prices higher:
1,135.99 against 1,127.13 for a European zero-coupon 5-year bond of ratio 10 at spot 100,
volatility 0.3, rate 0.03 and spread 0.02, whose two-part value has a
closed form): each node also carries the risk-neutral
probability ``p`` that the bond ends up converted (1 where it converts, 0 where it is
redeemed, called for cash or put, the up/down average in between), and a node's value
is discounted over a step at the blended rate ``r + (1 - p) * credit_spread``: the share
part is as safe as the stock, the cash part is the issuer's risk.

**Rights at each step** (``_tree_kernel._events``), in QuantLib's order: a call caps the
bond at ``max(call cash, parity)`` (the holder of a called bond converts if the shares are
worth more); a put floors it at the put cash (a call's or put's cash is its clean price
plus the accrued coupon); the coupon on the step nearest its date is added; conversion
(every step with American conversion, maturity only with the ``european`` flag) takes the
parity ``ratio * S`` when it is worth more (a holder who converts forgoes that day's
coupon).  At maturity the bond is the larger of the parity and the face plus the last
coupon.  One difference from QuantLib, on purpose: where a call is paid in cash or a put
is exercised, the node's conversion probability becomes 0 (the cash is the issuer's, and
carries its credit spread), and where a called holder converts it becomes 1; QuantLib
keeps the probability rolled back from later steps there.  With a credit spread and a
call or put the two differ by up to about 1% (measured: 0.9% lower than QuantLib with a
put likely to be exercised, 0.4% higher with a call at the money); without a credit
spread they agree (the probability only weights the spread).

**Accuracy.**  A plain CRR tree's price oscillates with the number of steps around its
limit (the conversion boundary at maturity falls between nodes).  Two standard remedies
make it converge smoothly and fast (Broadie and Detemple 1996, "BBSR"): the last period
is replaced by its closed form (a one-period European convertible: the parity part
``R S e^(-q dt) N(d1)`` plus the cash part ``(face + coupon) e^(-(r + s) dt) N(-d2)``),
and the answer is Richardson-extrapolated from ``steps`` and ``steps / 2``:
``2 V(n) - V(n/2)``.  With the default 800 steps a zero-coupon European bond without a
credit spread matches the bond plus the Black-Scholes call to better than 1e-5 relative
on the tested grid (``tests/unit/engine/test_convertible_pricer.py``).  A call or put
date puts a kink in the bond's value (``min(V, call)``, ``max(V, put)``) that falls between
nodes at a place that moves with the step count: the error then oscillates with ``n``
instead of shrinking like ``1/n``, and extrapolating would double the oscillation, so a
bond with a call or put schedule is priced on the smoothed tree of ``steps`` alone
(measured: within about 1e-4 relative of the limit at 800 steps).

**Delta and gamma** are read from the three nodes two steps in (``S u^2``, ``S``,
``S u^-2``): the slope and the curvature of the bond in the stock, extrapolated the same
way (which removes the two steps' time offset to first order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import ranges
from engine.convertible._tree_kernel import rollback
from engine.convertible.terms import ConvertibleTerms, MarketInputs
from engine.ranges import FieldError

#: Steps of the finer tree (the coarser has half): see the module's "Accuracy".
DEFAULT_STEPS = 800
#: The fewest steps a tree may have: the coarser tree needs two steps for delta and gamma,
#: and the closed-form last period one more.
MIN_STEPS = 10
MAX_STEPS = 20_000


@dataclass(frozen=True)
class TreeResult:
    """One tree's (or the extrapolation's) value, conversion probability, delta, gamma."""

    value: float
    conversion_probability: float
    delta: float
    gamma: float


def _step_of(time: float, dt: float, n: int) -> int:
    return min(n, max(0, round(time / dt)))


def _event_arrays(terms: ConvertibleTerms, n: int) -> tuple[np.ndarray, ...]:
    """Per step ``0..n``: the coupon paid (the maturity's coupon is at step ``n``), the
    lowest call price and the highest put price on it (NaN: none), and whether the bond
    may be converted on it."""
    dt = terms.maturity / n
    coupon = np.zeros(n + 1)
    for t in terms.coupon_times():
        coupon[_step_of(t, dt, n)] += terms.coupon_amount()
    call = np.full(n + 1, np.nan)
    for d in terms.calls:
        i = _step_of(d.time, dt, n)
        cash = d.price + terms.accrued(d.time)
        call[i] = cash if math.isnan(call[i]) else min(call[i], cash)
    put = np.full(n + 1, np.nan)
    for d in terms.puts:
        i = _step_of(d.time, dt, n)
        cash = d.price + terms.accrued(d.time)
        put[i] = cash if math.isnan(put[i]) else max(put[i], cash)
    convertible = np.zeros(n + 1, dtype=np.bool_)
    if terms.european:
        convertible[n] = True
    else:
        convertible[:] = True
    return coupon, call, put, convertible


def _check_probability(terms: ConvertibleTerms, market: MarketInputs, n: int) -> None:
    dt = terms.maturity / n
    up = math.exp(market.volatility * math.sqrt(dt))
    pu = (math.exp((market.rate - market.dividend_yield) * dt) - 1.0 / up) / (up - 1.0 / up)
    if not 0.0 <= pu <= 1.0:
        raise FieldError("steps", f"{n} steps are too few for a volatility of "
                                  f"{market.volatility:g} with a carry of "
                                  f"{market.rate - market.dividend_yield:g}: the tree's up "
                                  f"probability would be {pu:.3f}; use more steps")


def run_tree(terms: ConvertibleTerms, market: MarketInputs, n: int, *,
             smooth: bool = True) -> TreeResult:
    """One ``n``-step tree (no extrapolation): the building block, also what the tests
    compare with QuantLib's own ``n``-step tree (``smooth=False`` is the plain tree)."""
    _check_probability(terms, market, n)
    coupon, call, put, convertible = _event_arrays(terms, n)
    out = rollback(market.spot, market.volatility, market.rate, market.dividend_yield,
                   market.credit_spread, terms.ratio, terms.face, terms.maturity, n,
                   coupon, call, put, convertible, smooth)
    v0, v1, v2 = out[2], out[3], out[4]
    s0, s1, s2 = out[5], out[6], out[7]
    delta = (v2 - v0) / (s2 - s0)
    gamma = ((v2 - v1) / (s2 - s1) - (v1 - v0) / (s1 - s0)) / ((s2 - s0) / 2.0)
    return TreeResult(float(out[0]), float(out[1]), float(delta), float(gamma))


def extrapolated(terms: ConvertibleTerms, market: MarketInputs,
                 steps: int = DEFAULT_STEPS) -> TreeResult:
    """The smoothed trees of ``steps`` and ``steps // 2`` steps, Richardson-extrapolated;
    with a call or put schedule the smoothed tree of ``steps`` alone (see "Accuracy")."""
    checked_steps(steps)
    fine = run_tree(terms, market, steps)
    if terms.calls or terms.puts:
        return fine
    coarse = run_tree(terms, market, steps // 2)

    def richardson(a: float, b: float) -> float:
        return 2.0 * a - b

    return TreeResult(
        richardson(fine.value, coarse.value),
        min(1.0, max(0.0, richardson(fine.conversion_probability,
                                     coarse.conversion_probability))),
        richardson(fine.delta, coarse.delta),
        richardson(fine.gamma, coarse.gamma))


def checked_steps(steps: object) -> int:
    """``steps`` as an even integer in ``MIN_STEPS..MAX_STEPS``."""
    value = ranges.integer("steps", steps, MIN_STEPS, MAX_STEPS)
    if value % 2:
        raise FieldError("steps", f"must be even (the coarser tree has half), got {value}")
    return value
