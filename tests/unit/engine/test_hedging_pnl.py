"""The live P&L split of a hedged convertible (``engine.hedging_pnl``) on a fixed path: the
bond side is the simulator's ``split_pnl``, the stock side the terminal's figures; the
parts sum to the total, which recomputes from the bond's prices, the coupon cash, the
bond's financing and the hedge at the terminal."""

from __future__ import annotations

import pytest

from engine import hedging_pnl as pnl
from engine.convertible import ConvertibleTerms, MarketInputs, price_convertible

BONDS, ENTRY, RATE, STEPS = 10.0, 1000.0, 0.03, 200
#: A coupon falls 3 days in: between the second and the third check.
TERMS = ConvertibleTerms(face=1000.0, maturity=2.0 + 3 / 365, ratio=20.0, coupon=0.04,
                         frequency=2)
#: (years from the start, spot, hedge held after the check, the hedge at the terminal)
PATH = [
    (0 / 365, 50.0, -120.0, pnl.HedgeBook(-1.2, 0.0, -2.4)),
    (1 / 365, 51.0, -120.0, pnl.HedgeBook(-121.2, -0.3, -2.4)),
    (4 / 365, 49.0, -118.0, pnl.HedgeBook(118.4, -1.2, -2.6)),
    (5 / 365, 49.5, -118.0, pnl.HedgeBook(58.0, -1.5, -2.6)),
]


def market(spot: float) -> MarketInputs:
    return MarketInputs(spot=spot, volatility=0.25, rate=RATE, dividend_yield=0.01,
                        credit_spread=0.02)


def run_path() -> tuple[pnl.PnlState, list[float]]:
    _, s0, h0, b0 = PATH[0]
    value = price_convertible(TERMS, market(s0), steps=STEPS)
    state = pnl.start(BONDS, ENTRY, s0, value, h0, b0)
    prices = [value.price]
    for (t, s, h, b), (t_prev, s_prev, _, _) in zip(PATH[1:], PATH, strict=False):
        terms = TERMS.aged(t_prev) if t_prev > 0 else TERMS
        state, value = pnl.advance(state, terms, market(s_prev), market(s), bonds=BONDS,
                                   years=t - t_prev, financing_rate=RATE, unit=1.0,
                                   steps=STEPS)
        state = pnl.settle(state, h, b)
        prices.append(value.price)
    return state, prices


def test_the_parts_sum_to_the_total_which_recomputes_from_prices_coupons_and_the_hedge():
    # Act
    state, prices = run_path()
    parts = dict(state.parts())
    # Assert
    assert list(parts) == list(pnl.PNL_PARTS)
    assert sum(parts.values()) == pytest.approx(state.total, abs=1e-9)
    coupon_cash = BONDS * 1000.0 * 0.04 / 2  # the one coupon date passed
    financing = -sum(BONDS * p * RATE * (t1 - t0) for p, (t0, *_), (t1, *_)
                     in zip(prices, PATH, PATH[1:], strict=False))
    independent = BONDS * (prices[-1] - ENTRY) + coupon_cash + financing + PATH[-1][3].total
    assert state.total == pytest.approx(independent, abs=1e-6)
    assert parts["bond_financing"] == pytest.approx(financing, abs=1e-9)


def test_the_stock_side_is_the_terminals_and_the_edge_is_the_model_against_the_trades():
    state, prices = run_path()
    parts = dict(state.parts())
    mid_hedge = -120.0 * 1.0 + -120.0 * -2.0 + -118.0 * 0.5

    assert parts["edge"] == pytest.approx(BONDS * (prices[0] - ENTRY))
    assert parts["stock_financing"] == -1.5
    assert parts["hedge_cost"] == pytest.approx(-2.6 + (58.0 - mid_hedge))
    sold = pnl.sold(state, BONDS, 1100.0)
    assert dict(sold.parts())["edge"] == pytest.approx(
        BONDS * (prices[0] - ENTRY) + BONDS * (1100.0 - prices[-1]))
    assert sold.total == pytest.approx(state.total + BONDS * (1100.0 - prices[-1]))


def test_gamma_trading_harvests_the_convexity_of_a_delta_hedged_bond():
    # a hedge at the bond's delta: the move's P&L is about 1/2 x bonds x gamma x dS^2
    value = price_convertible(TERMS, market(50.0), steps=STEPS)
    state = pnl.start(BONDS, ENTRY, 50.0, value, -BONDS * value.delta, pnl.HedgeBook())

    state, _ = pnl.advance(state, TERMS, market(50.0), market(52.0), bonds=BONDS, years=0.0,
                           financing_rate=RATE, unit=1.0, steps=STEPS)

    assert state.gamma_trading == pytest.approx(0.5 * BONDS * value.gamma * 4.0, rel=0.1)
    assert state.gamma_trading > 0
