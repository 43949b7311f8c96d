"""An external bond's call and put schedules: kept as dates, priced as years from now.

The console enters a convertible held elsewhere; its issuer's calls cap it and the holder's
puts floor it.  The pricer takes the dates still ahead in years from the check
(``hedging_pricing.terms_at``), so a date that has passed drops out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.convertible import ConvertibleTerms, ScheduleDate, price_convertible
from engine.hedging_bond import (
    BondTerms,
    CreditInputs,
    ExternalBond,
    HedgeSettings,
    bond_from_json,
    maturity_in,
    years_between,
)
from engine.hedging_pricing import market_at, terms_at, value_at

OPENED = datetime(2021, 1, 4, tzinfo=UTC)
CALL = (maturity_in(2.0, OPENED), 1050.0)
PUT = (maturity_in(3.0, OPENED), 950.0)


def a_bond(calls=(), puts=()) -> ExternalBond:
    terms = BondTerms(maturity_in(5.0, OPENED), 1000.0, 0.015, 2, 20.0, False, calls, puts)
    return ExternalBond("CB1-KO", "KO", 10.0, 1080.0, OPENED, terms,
                        CreditInputs(0.22, 0.01, 0.03, 0.01), HedgeSettings(), 90_000_001)


def test_the_schedules_are_kept_earliest_first_and_read_back_from_the_journals_json():
    # Arrange
    late_call = (maturity_in(3.0, OPENED), 1025.0)
    bond = a_bond(calls=(late_call, CALL), puts=(PUT,))

    # Act
    document = json.loads(json.dumps(bond.as_json()))
    back = bond_from_json("CB1-KO", "KO", 10.0, 1080.0, OPENED, 90_000_001, document)

    # Assert
    assert bond.terms.calls == (CALL, late_call)
    assert back.terms == bond.terms
    assert document["terms"]["calls"][0] == [CALL[0].isoformat(), 1050.0]


def test_a_bond_journaled_before_schedules_were_kept_reads_back_plain():
    # Arrange: the terms document as it was written without the two keys
    document = json.loads(json.dumps(a_bond().as_json()))
    del document["terms"]["calls"], document["terms"]["puts"]

    # Act
    back = bond_from_json("CB1-KO", "KO", 10.0, 1080.0, OPENED, 90_000_001, document)

    # Assert
    assert back.terms.calls == back.terms.puts == ()


@pytest.mark.parametrize(("calls", "message"), [
    (((maturity_in(6.0, OPENED), 1050.0),), "calls date"),
    (((maturity_in(2.0, OPENED), 0.0),), "calls price"),
    (((maturity_in(2.0, OPENED),),), "calls"),
])
def test_a_schedule_that_cannot_be_is_refused_naming_it(calls, message):
    with pytest.raises(ValueError, match=message):
        a_bond(calls=calls)


def test_the_pricer_gets_the_dates_ahead_in_years_and_none_that_passed():
    # Arrange
    bond = a_bond(calls=(CALL,), puts=(PUT,))
    later = datetime(2023, 6, 1, tzinfo=UTC)  # the call date has passed, the put has not

    # Act
    now_terms, later_terms = terms_at(bond, OPENED), terms_at(bond, later)

    # Assert
    assert now_terms.calls == (ScheduleDate(years_between(OPENED, CALL[0]), 1050.0),)
    assert now_terms.puts == (ScheduleDate(years_between(OPENED, PUT[0]), 950.0),)
    assert later_terms.calls == ()
    assert later_terms.puts == (ScheduleDate(years_between(later, PUT[0]), 950.0),)


def test_a_call_is_priced_as_the_pricer_prices_it_and_worth_less_than_no_call():
    # Arrange
    callable_bond, plain = a_bond(calls=(CALL,)), a_bond()
    by_hand = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=20.0, coupon=0.015,
                               frequency=2, calls=(ScheduleDate(2.0, 1050.0),))

    # Act
    value = value_at(callable_bond, 50.0, OPENED)
    direct = price_convertible(by_hand, market_at(callable_bond, 50.0),
                               steps=callable_bond.settings.steps)

    # Assert: the issuer's option costs the holder; the same figures as the pricer's own
    assert value.price < value_at(plain, 50.0, OPENED).price
    assert (value.price, value.delta) == pytest.approx((direct.price, direct.delta), rel=1e-12)
