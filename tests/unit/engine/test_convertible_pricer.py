"""The convertible pricer (``engine.convertible``): the Black-Scholes identity, delta and
gamma against finite differences and closed forms, the implied volatility's round trip,
what calls and puts do to the price, and the validation of the inputs."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from statistics import NormalDist

import pytest

from engine.convertible import (
    ConvertibleTerms,
    MarketInputs,
    ScheduleDate,
    bond_floor,
    implied_volatility,
    price_convertible,
)
from engine.convertible.tree import run_tree
from engine.ranges import FieldError

N = NormalDist()


def bond_plus_call(face: float, ratio: float, maturity: float, m: MarketInputs) -> tuple:
    """A zero-coupon bond plus ``ratio`` Black-Scholes calls struck at ``face / ratio``:
    what a European, zero-coupon, call-free convertible without credit risk is worth;
    and its delta and gamma."""
    strike = face / ratio
    root = m.volatility * math.sqrt(maturity)
    d1 = (math.log(m.spot / strike)
          + (m.rate - m.dividend_yield + m.volatility ** 2 / 2) * maturity) / root
    d2 = d1 - root
    call = (m.spot * math.exp(-m.dividend_yield * maturity) * N.cdf(d1)
            - strike * math.exp(-m.rate * maturity) * N.cdf(d2))
    delta = ratio * math.exp(-m.dividend_yield * maturity) * N.cdf(d1)
    gamma = ratio * math.exp(-m.dividend_yield * maturity) * N.pdf(d1) / (m.spot * root)
    return face * math.exp(-m.rate * maturity) + ratio * call, delta, gamma


GRID = list(itertools.product((0.5, 2.0, 5.0, 10.0), (50.0, 100.0, 160.0), (0.1, 0.3, 0.6),
                              ((0.0, 0.0), (0.03, 0.0), (0.05, 0.02))))


@pytest.mark.parametrize(("maturity", "spot", "vol", "carry"), GRID)
def test_european_zero_coupon_without_credit_is_a_bond_plus_a_black_scholes_call(
        maturity, spot, vol, carry):
    # Arrange: 1000 face converting into 10 shares (conversion price 100)
    terms = ConvertibleTerms(face=1000.0, maturity=maturity, ratio=10.0, european=True)
    market = MarketInputs(spot=spot, volatility=vol, rate=carry[0], dividend_yield=carry[1])
    expected, delta, gamma = bond_plus_call(1000.0, 10.0, maturity, market)

    # Act
    value = price_convertible(terms, market)

    # Assert: the 1e-4 relative (measured: under 2e-6 on this grid)
    assert value.price == pytest.approx(expected, rel=1e-4)
    assert value.delta == pytest.approx(delta, rel=1e-3, abs=1e-6)
    assert value.gamma == pytest.approx(gamma, rel=1e-2, abs=1e-7)


@pytest.mark.parametrize(("european", "coupon", "spread", "dividend"), [
    (True, 0.0, 0.0, 0.0), (False, 0.0, 0.0, 0.02), (False, 0.03, 0.0, 0.0),
    (False, 0.03, 0.04, 0.01), (True, 0.05, 0.02, 0.0)])
def test_delta_and_gamma_match_finite_differences_of_the_price(european, coupon, spread,
                                                               dividend):
    # Arrange: bumps of 2% of the spot.  The price's second difference is not the check for
    # gamma: with a credit spread the tree's price wobbles by about 1e-5 relative as the
    # nodes move against the conversion boundary, which a second difference divides by h^2;
    # the difference of the deltas does not amplify it
    terms = ConvertibleTerms(face=1000.0, maturity=4.5, ratio=10.0, coupon=coupon,
                             frequency=4, european=european)
    market = MarketInputs(spot=90.0, volatility=0.3, rate=0.03, dividend_yield=dividend,
                          credit_spread=spread)
    h = 0.02 * market.spot

    # Act
    value = price_convertible(terms, market)
    up = price_convertible(terms, replace(market, spot=market.spot + h))
    down = price_convertible(terms, replace(market, spot=market.spot - h))

    # Assert
    assert value.delta == pytest.approx((up.price - down.price) / (2 * h), rel=2e-3)
    assert value.gamma == pytest.approx((up.delta - down.delta) / (2 * h), rel=5e-3)


def test_implied_volatility_recovers_the_volatility_a_price_was_made_with():
    # Arrange: a coupon bond with credit risk, a call and a put
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=8.0, coupon=0.025,
                             calls=(ScheduleDate(3.0, 1050.0),),
                             puts=(ScheduleDate(2.0, 1000.0),))
    for vol in (0.18, 0.35, 0.7):
        market = MarketInputs(spot=110.0, volatility=vol, rate=0.03, dividend_yield=0.01,
                              credit_spread=0.025)
        price = price_convertible(terms, market).price

        # Act: solved from a market with another volatility (it is ignored)
        implied = implied_volatility(terms, replace(market, volatility=0.5), price)

        # Assert
        assert implied == pytest.approx(vol, abs=1e-5)


def test_a_price_no_volatility_explains_is_one_line_naming_the_market_price():
    # Arrange: below the bond floor and parity
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03)

    # Act / Assert
    with pytest.raises(FieldError, match=r"^market_price: 700 is below the model's price"):
        implied_volatility(terms, market, 700.0)
    with pytest.raises(FieldError, match=r"^market_price: 99999 is above"):
        implied_volatility(terms, market, 99_999.0)
    with pytest.raises(FieldError, match=r"^market_price: must be a positive number"):
        implied_volatility(terms, market, math.nan)


def test_a_call_caps_the_price_and_a_put_floors_it():
    # Arrange: a bond in the money, and one far out of the money with a large spread;
    # callable or puttable in two tree steps (0.0125 years)
    plain = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.02)
    soon = 0.0125
    called = replace(plain, calls=(ScheduleDate(soon, 1020.0),))
    put = replace(plain, puts=(ScheduleDate(soon, 1000.0),))
    rich = MarketInputs(spot=95.0, volatility=0.35, rate=0.03, credit_spread=0.02)
    poor = MarketInputs(spot=40.0, volatility=0.35, rate=0.03, credit_spread=0.08)

    # Act
    plain_rich, called_rich = (price_convertible(t, rich) for t in (plain, called))
    plain_poor, put_poor = (price_convertible(t, poor) for t in (plain, put))

    # Assert: called at 1020 plus the accrued coupon (or converted: the parity is lower),
    # paid in cash by the issuer: discounted at the rate plus the spread; put at 1000 plus
    # the accrued coupon, the same way
    cash = 1020.0 + plain.accrued(soon)
    assert plain_rich.price > cash
    assert called_rich.price == pytest.approx(cash * math.exp(-0.05 * soon), rel=1e-3)
    put_cash = 1000.0 + plain.accrued(soon)
    assert plain_poor.price < put_cash * 0.95
    assert put_poor.price == pytest.approx(put_cash * math.exp(-0.11 * soon), rel=1e-6)


def test_a_later_call_lowers_the_price_and_a_later_put_raises_it():
    # Arrange
    plain = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.03)
    market = MarketInputs(spot=90.0, volatility=0.3, rate=0.03, credit_spread=0.03)

    # Act
    base = price_convertible(plain, market).price
    called = price_convertible(replace(plain, calls=(ScheduleDate(2.0, 1050.0),)),
                               market).price
    put = price_convertible(replace(plain, puts=(ScheduleDate(2.0, 1000.0),)), market).price

    # Assert
    assert called < base < put


def test_the_price_lies_between_its_floors_and_american_is_worth_at_least_european():
    # Arrange
    terms = ConvertibleTerms(face=1000.0, maturity=3.0, ratio=12.0, coupon=0.01)
    market = MarketInputs(spot=70.0, volatility=0.4, rate=0.04, dividend_yield=0.03,
                          credit_spread=0.05)

    # Act
    american = price_convertible(terms, market)
    european = price_convertible(replace(terms, european=True), market)

    # Assert
    assert american.price >= max(american.parity, bond_floor(terms, market))
    assert american.price >= european.price - 1e-9
    assert 0.0 < american.conversion_probability < 1.0
    assert american.conversion_premium == pytest.approx(american.price / (12 * 70.0) - 1)
    assert american.hedge_ratio(terms) == pytest.approx(american.delta / 12.0)


def test_deep_in_the_money_american_bond_is_its_parity_with_a_delta_of_the_ratio():
    # Arrange: a stock paying 8% a year, far above the conversion price
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0)
    market = MarketInputs(spot=400.0, volatility=0.2, rate=0.02, dividend_yield=0.08)

    # Act
    value = price_convertible(terms, market)

    # Assert: converted at once
    assert value.price == pytest.approx(4000.0, rel=1e-9)
    assert value.delta == pytest.approx(10.0, rel=1e-9)
    assert value.conversion_probability == 1.0


def test_the_plain_and_the_smoothed_trees_converge_to_the_same_price():
    # Arrange: no credit spread (with one, the plain tree's conversion probabilities flip
    # from one step count to the next: app/research/convertible_quantlib.py)
    terms = ConvertibleTerms(face=100.0, maturity=5.0, ratio=1.0, coupon=0.04)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, dividend_yield=0.01)

    # Act
    plain = run_tree(terms, market, 4001, smooth=False).value
    extrapolated = price_convertible(terms, market).price

    # Assert
    assert plain == pytest.approx(extrapolated, rel=1e-4)


def test_coupons_and_accrued_interest_follow_the_schedule_back_from_maturity():
    # Arrange: 4.3 years, quarterly
    terms = ConvertibleTerms(face=1000.0, maturity=4.3, ratio=10.0, coupon=0.04,
                             frequency=4)

    # Act
    times = terms.coupon_times()
    aged = terms.aged(0.3)

    # Assert: 18 coupons, the first in 0.05 years; accrued 80% of a coupon now
    assert len(times) == 18
    assert times[0] == pytest.approx(0.05)
    assert times[-1] == pytest.approx(4.3)
    assert terms.accrued(0.0) == pytest.approx(10.0 * 0.8)
    assert terms.accrued(0.05) == 0.0
    assert aged.maturity == pytest.approx(4.0)
    assert aged.accrued(0.0) == 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"face": 0.0}, r"^face: must be a number in \(0"),
    ({"maturity": math.nan}, r"^maturity: must be a finite number"),
    ({"ratio": -1.0}, r"^ratio: must be a number"),
    ({"coupon": 3.0}, r"^coupon: must be a number in \[0, 1\]"),
    ({"frequency": 3}, r"^frequency: must be one of \(1, 2, 4, 12\)"),
    ({"calls": (ScheduleDate(6.0, 1000.0),)}, r"^calls: a date at 6 years is not before"),
    ({"european": 1}, r"^european: expected true or false"),
])
def test_bad_terms_name_their_field(kwargs, message):
    # Arrange
    fields = {"face": 1000.0, "maturity": 5.0, "ratio": 10.0, **kwargs}

    # Act / Assert
    with pytest.raises(FieldError, match=message):
        ConvertibleTerms(**fields)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"spot": -1.0}, r"^spot: "), ({"volatility": 0.0}, r"^volatility: "),
    ({"volatility": 30.0}, r"^volatility: must be a number in \(0, 5\]"),
    ({"credit_spread": -0.01}, r"^credit_spread: "), ({"rate": math.inf}, r"^rate: ")])
def test_bad_market_inputs_name_their_field(kwargs, message):
    # Arrange
    fields = {"spot": 100.0, "volatility": 0.3, **kwargs}

    # Act / Assert
    with pytest.raises(FieldError, match=message):
        MarketInputs(**fields)


def test_too_few_steps_for_the_carry_say_so():
    # Arrange: a 1% volatility against a 20% carry on a coarse tree
    terms = ConvertibleTerms(face=1000.0, maturity=10.0, ratio=10.0)
    market = MarketInputs(spot=100.0, volatility=0.01, rate=0.2)

    # Act / Assert
    with pytest.raises(FieldError, match=r"^steps: 20 steps are too few"):
        price_convertible(terms, market, steps=20)
    with pytest.raises(FieldError, match=r"^steps: must be even"):
        price_convertible(terms, replace(market, volatility=0.3), steps=801)
