"""One period's P&L split of a delta-hedged convertible (``engine.convertible.hedge``):
the parts add up to the position's cash P&L, gamma trading is the convexity a hedge at the
delta keeps, the coupon accrues smoothly through its payment date, and the band rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.convertible import ConvertibleTerms, MarketInputs, price_convertible
from engine.convertible.hedge import PARTS, coupons_paid, rehedge, split_pnl

TERMS = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.04)
BEFORE = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, credit_spread=0.02)
DAY = 1 / 365


@pytest.mark.parametrize(("elapsed", "spot", "vol"), [
    (DAY, 102.0, 0.3), (3 * DAY, 97.0, 0.3), (0.5, 110.0, 0.3), (0.5 + DAY, 90.0, 0.35)])
def test_the_parts_add_up_to_the_positions_cash_pnl(elapsed, spot, vol):
    # Arrange: 10 bonds long, 70 shares short, over a day, a weekend, a coupon date
    after = replace(BEFORE, spot=spot, volatility=vol)
    bonds, short = 10.0, 70.0

    # Act
    split = split_pnl(TERMS, BEFORE, after, elapsed_years=elapsed, bonds=bonds,
                      short_shares=short, financing_rate=0.03, borrow=0.01,
                      traded_shares=5.0, cost=0.001)

    # Assert: the bond's full price change and its coupons, the short's move, the carry
    v0 = price_convertible(TERMS, BEFORE).price
    v1 = price_convertible(TERMS.aged(elapsed), after).price
    days = elapsed * 365
    cash = (bonds * (v1 - v0 + coupons_paid(TERMS, elapsed)) - short * (spot - 100.0)
            - bonds * v0 * 0.03 * days / 365 - short * 100.0 * 0.01 * days / 365
            - 5.0 * spot * 0.001)
    assert split.total == pytest.approx(cash, abs=1e-9)
    assert split.total == sum(getattr(split, name) for name in PARTS)


def test_gamma_trading_of_a_hedge_at_the_delta_is_the_convexity():
    # Arrange: hedged at the bond's delta, a 2% move over no time
    value = price_convertible(TERMS, BEFORE)
    move = 2.0

    # Act
    split = split_pnl(TERMS, BEFORE, replace(BEFORE, spot=100.0 + move), elapsed_years=0.0,
                      bonds=1.0, short_shares=value.delta, financing_rate=0.03)

    # Assert
    assert split.gamma_trading == pytest.approx(0.5 * value.gamma * move ** 2, rel=0.05)
    assert split.rest == pytest.approx(0.0, abs=1e-9)
    assert split.coupon == split.bond_financing == 0.0


def test_coupon_income_accrues_through_the_payment_date():
    # Arrange: the day on which the half-yearly coupon of 20 is paid
    after = BEFORE

    # Act
    ordinary = split_pnl(TERMS, BEFORE, after, elapsed_years=DAY, bonds=1.0,
                         short_shares=0.0, financing_rate=0.0)
    across = split_pnl(TERMS.aged(0.5 - DAY / 2), BEFORE, after, elapsed_years=DAY,
                       bonds=1.0, short_shares=0.0, financing_rate=0.0)

    # Assert: a day's accrual either way; the coupon's cash does not show up in rest
    assert ordinary.coupon == pytest.approx(40.0 / 365)
    assert across.coupon == pytest.approx(40.0 / 365)
    assert abs(across.rest) < 1.0


@pytest.mark.parametrize(("short", "delta", "band", "expected"), [
    (70.0, 7.2, 5.0, 0.0), (70.0, 7.6, 5.0, 6.0), (70.0, 6.4, 5.0, -6.0),
    (70.0, 7.05, 0.0, 0.5)])
def test_rehedge_only_outside_the_band(short, delta, band, expected):
    # Act
    traded = rehedge(short, 10.0, delta, band)

    # Assert
    assert traded == pytest.approx(expected)
