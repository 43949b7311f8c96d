"""The offline hedge simulator on real closes (AMD, 2020, ``tests/data/equity_daily``) with
a synthetic bond: the split adds up to the book's cash P&L to the cent, every day and in
total; the band decides how often the short is re-hedged."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest
from helpers.paths import TEST_DATA

from app.research.convertible_hedge import HedgeSetup, load_closes, simulate
from engine.convertible import ConvertibleTerms
from engine.convertible.hedge import PARTS

AMD_2020 = TEST_DATA / "equity_daily" / "sp500_AMD_adjclose_2020.csv.gz"
SETUP = HedgeSetup(volatility=0.5, rate=0.01, credit_spread=0.03, bonds=10.0, band=0.05,
                   borrow=0.005, cost=0.0005, steps=200)


@pytest.fixture(scope="module")
def closes():
    return load_closes(AMD_2020, "AMD", None, None)


@pytest.fixture(scope="module")
def terms(closes):
    # issued at a conversion price 30% above the first close (49.10)
    return ConvertibleTerms(face=1000.0, maturity=5.0, ratio=1000.0 / (49.1 * 1.3),
                            coupon=0.02)


@pytest.fixture(scope="module")
def result(closes, terms):
    return simulate(closes, terms, SETUP, "AMD")


def test_the_split_adds_up_to_the_books_cash_pnl_to_the_cent(result):
    # Arrange: the book's P&L counted from its cash flows alone: the bonds' value change
    # and their coupons, the short's moves, the financing and the re-hedges' cost
    days = result.days
    bonds = SETUP.bonds
    value_change = bonds * (days[-1].bond_price - days[0].bond_price)
    coupons = sum(d.coupon_paid for d in days)
    short_pnl = -sum(d.short_held * (d.close - prev.close) for prev, d in pairwise(days))
    carry = sum(d.bond_financing + d.stock_financing + d.hedge_cost for d in days)

    # Act
    totals = result.totals()

    # Assert
    assert len(days) == 253
    assert round(totals["total"], 2) == round(value_change + coupons + short_pnl + carry, 2)
    assert round(sum(totals[p] for p in PARTS), 2) == round(totals["total"], 2)
    for d in days:
        assert d.total == pytest.approx(sum(getattr(d, p) for p in PARTS), abs=1e-9)
    assert coupons == pytest.approx(bonds * 10.0)  # one coupon in 2020: 2% / 2 of 1000


def test_the_book_is_hedged_at_the_delta_within_the_band(result, terms):
    # Arrange
    band_shares = SETUP.band * SETUP.bonds * terms.ratio

    # Act / Assert: after every close the short is within the band of the bonds' delta
    for d in result.days:
        assert abs(d.short_after - SETUP.bonds * d.bond_delta) <= band_shares + 1e-9
    assert 0 < result.rehedges < len(result.days) // 4


def test_a_narrower_band_rehedges_more_often(closes, terms, result):
    # Act
    daily = simulate(closes, terms, replace(SETUP, band=0.0), "AMD")

    # Assert
    assert daily.rehedges == len(daily.days) - 1
    assert result.rehedges < daily.rehedges
    assert daily.totals()["hedge_cost"] < result.totals()["hedge_cost"]


def test_the_run_is_deterministic_and_reports_the_realised_volatility(closes, terms, result):
    # Act
    again = simulate(closes, terms, SETUP, "AMD")

    # Assert
    assert again.totals() == result.totals()
    assert 0.6 < result.realised_volatility < 0.65  # AMD in 2020
    assert not result.stopped_at_maturity
