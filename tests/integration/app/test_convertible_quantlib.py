"""The built-in convertible tree against QuantLib's ``BinomialConvertibleEngine`` on a grid
of bonds, and what a user without QuantLib is told.  The cross-check runs wherever QuantLib
is installed (CI installs the ``convertible`` extra with ``test``) and skips otherwise."""

from __future__ import annotations

import itertools
import os
import sys

import pytest

from engine.convertible import ConvertibleTerms, MarketInputs, ScheduleDate, price_convertible
from engine.errors import UserError

SCHEDULES = {
    "none": ((), ()),
    "call": ((ScheduleDate(3.0, 1100.0),), ()),
    "put": ((), (ScheduleDate(2.0, 1050.0),)),
}

#: Without a credit spread: spot, volatility, coupon, dividend yield, European, schedule.
NO_SPREAD = [(s, v, c, q, e, k) for s, v, c, q, e, k in itertools.product(
    (60.0, 100.0, 160.0), (0.2, 0.4), (0.0, 0.03), (0.0, 0.02), (False, True),
    ("none", "call", "put")) if (s == 100.0 or k == "none") and (v == 0.4 or c == 0.03)][::2]
#: With a credit spread (no call or put: see the tolerance below).
SPREAD = list(itertools.product((60.0, 100.0, 160.0), (0.2, 0.4), (0.0, 0.03), (0.0, 0.02),
                                (False, True)))[::3]


@pytest.fixture(scope="module")
def ql():
    """QuantLib, or a skip (a failure when ``FXCLUSTER_REQUIRE_QUANTLIB=1``: CI)."""
    try:
        import QuantLib
    except ImportError:
        if os.environ.get("FXCLUSTER_REQUIRE_QUANTLIB") == "1":
            pytest.fail("FXCLUSTER_REQUIRE_QUANTLIB=1 but QuantLib is not installed")
        pytest.skip("QuantLib not installed: pip install 'fxcluster[convertible]' runs the "
                    "cross-check")
    return QuantLib


def _case(spot, vol, coupon, dividend, european, schedule="none", spread=0.0):
    calls, puts = SCHEDULES[schedule]
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=coupon,
                             european=european, calls=calls, puts=puts)
    market = MarketInputs(spot=spot, volatility=vol, rate=0.03, dividend_yield=dividend,
                          credit_spread=spread)
    return terms, market


@pytest.mark.parametrize(("spot", "vol", "coupon", "dividend", "european", "schedule"),
                         NO_SPREAD)
def test_the_tree_matches_quantlib_without_a_credit_spread(ql, spot, vol, coupon, dividend,
                                                           european, schedule):
    # Arrange
    from app.research.convertible_quantlib import quantlib_price

    terms, market = _case(spot, vol, coupon, dividend, european, schedule)

    # Act
    ours = price_convertible(terms, market).price
    theirs = quantlib_price(terms, market)

    # Assert: measured worst 1.3e-4 (a call date's kink on both trees)
    assert ours == pytest.approx(theirs, rel=3e-4)


@pytest.mark.parametrize(("spot", "vol", "coupon", "dividend", "european"), SPREAD)
def test_the_tree_matches_quantlib_with_a_credit_spread(ql, spot, vol, coupon, dividend,
                                                        european):
    # Arrange: QuantLib's plain tree oscillates with the step count by up to about 2e-3
    # here (the conversion probability of the likeliest nodes flips); its mean over four
    # step counts is within 1e-3 of its limit
    from app.research.convertible_quantlib import quantlib_price

    terms, market = _case(spot, vol, coupon, dividend, european, spread=0.03)

    # Act
    ours = price_convertible(terms, market).price
    theirs = quantlib_price(terms, market)

    # Assert: measured worst 6.7e-4
    assert ours == pytest.approx(theirs, rel=1e-3)


def test_quantlib_delta_and_gamma_match_the_trees(ql):
    # Arrange: a 4.5-year quarterly coupon bond with a credit spread
    from app.research.convertible_quantlib import quantlib_value

    terms = ConvertibleTerms(face=1000.0, maturity=4.5, ratio=10.0, coupon=0.02,
                             frequency=4)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, credit_spread=0.02)

    # Act
    ours = price_convertible(terms, market)
    theirs = quantlib_value(terms, market)

    # Assert
    assert ours.price == pytest.approx(theirs.price, rel=1e-3)
    assert ours.delta == pytest.approx(theirs.delta, rel=2e-3)
    assert ours.gamma == pytest.approx(theirs.gamma, rel=2e-2)


def test_quantlib_implied_volatility_round_trips(ql):
    # Arrange
    from app.research.convertible_quantlib import (
        quantlib_implied_volatility,
        quantlib_price,
    )

    terms, market = _case(90.0, 0.35, 0.02, 0.0, False)
    price = quantlib_price(terms, market)

    # Act
    implied = quantlib_implied_volatility(terms, market, price)

    # Assert
    assert implied == pytest.approx(0.35, abs=1e-4)


def test_a_maturity_quantlib_cannot_date_is_one_line(ql):
    # Arrange
    from app.research.convertible_quantlib import quantlib_price

    terms = ConvertibleTerms(face=1000.0, maturity=4.3, ratio=10.0)

    # Act / Assert
    with pytest.raises(UserError, match=r"^--maturity: the QuantLib engine needs a whole "
                                        r"number of months, got 4.3 years"):
        quantlib_price(terms, MarketInputs(spot=100.0, volatility=0.3))


def test_without_quantlib_the_error_names_the_extra(monkeypatch):
    # Arrange: an interpreter where ``import QuantLib`` fails
    from app.research.convertible_quantlib import quantlib_price

    monkeypatch.setitem(sys.modules, "QuantLib", None)
    terms, market = _case(100.0, 0.3, 0.0, 0.0, False)

    # Act / Assert
    with pytest.raises(UserError, match=r"pip install 'fxcluster\[convertible\]'"):
        quantlib_price(terms, market)
