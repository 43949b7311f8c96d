"""The live P&L split of a hedged convertible (``engine.hedging_pnl``) on a fixed path: the
parts sum to the total, and the total recomputes from the bond, the coupons, the hedge at
the terminal and the financing."""

from __future__ import annotations

import pytest

from engine import hedging_pnl as pnl

BONDS, ENTRY, RATE = 10.0, 1000.0, 0.03
#: (spot, model price, gamma, hedge held after the check, years since the last check,
#:  coupons paid in the interval (all bonds), the hedge at the terminal now)
PATH = [
    (50.0, 1010.0, 0.020, -120.0, 0.0, 0.0, pnl.HedgeBook(-1.0, 0.0, -2.4)),
    (51.0, 1022.5, 0.021, -120.0, 1 / 365.25, 0.0, pnl.HedgeBook(-121.5, -0.3, -2.4)),
    (49.0, 998.0, 0.019, -118.0, 3 / 365.25, 100.0, pnl.HedgeBook(118.0, -1.2, -2.6)),
    (49.5, 1004.0, 0.020, -118.0, 1 / 365.25, 0.0, pnl.HedgeBook(58.5, -1.5, -2.6)),
]


def run_path() -> tuple[pnl.PnlState, float]:
    spot, price, gamma, held, _, _, book = PATH[0]
    state = pnl.start(BONDS, ENTRY, spot, price, gamma, held, book)
    bond_fin = 0.0
    for (s, p, g, h, years, coupons, b), prev in zip(PATH[1:], PATH, strict=False):
        bond_fin -= BONDS * prev[1] * RATE * years
        state = pnl.advance(state, bonds=BONDS, spot=s, price=p, gamma=g, held_after=h,
                            unit=1.0, years=years, rate=RATE, coupons=coupons, book=b)
    return state, bond_fin


def test_the_parts_sum_to_the_total_and_the_total_recomputes_from_its_four_figures():
    # Act
    state, bond_fin = run_path()
    parts = dict(state.parts())
    last = PATH[-1]
    # Assert
    assert list(parts) == list(pnl.PNL_PARTS)
    assert sum(parts.values()) == pytest.approx(state.total, abs=1e-9)
    independent = BONDS * (last[1] - ENTRY) + 100.0 + last[6].total + bond_fin
    assert state.total == pytest.approx(independent, abs=1e-9)


def test_each_part_on_the_fixed_path():
    state, bond_fin = run_path()
    parts = dict(state.parts())

    assert parts["edge"] == pytest.approx(BONDS * (1010.0 - ENTRY))
    gamma = 0.5 * BONDS * (0.020 * 1.0**2 + 0.021 * 2.0**2 + 0.019 * 0.5**2)
    assert parts["gamma"] == pytest.approx(gamma)
    assert parts["coupon"] == 100.0
    assert parts["financing"] == pytest.approx(bond_fin - 1.5)
    mid_hedge = (-120.0 * 1.0) + (-120.0 * -2.0) + (-118.0 * 0.5)
    assert parts["costs"] == pytest.approx(-2.6 + (58.5 - mid_hedge))
    bond_and_hedge = BONDS * (1004.0 - 1010.0) + mid_hedge
    assert parts["other"] == pytest.approx(bond_and_hedge - gamma)
