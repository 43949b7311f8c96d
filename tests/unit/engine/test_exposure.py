"""Net currency exposure across positions, against a hand calculation, and New Order's
volume rule."""

from __future__ import annotations

import math

import pytest

from engine.snapshot import (
    PositionView,
    SymbolSpec,
    currency_exposures,
    exposure_views,
)


def position(symbol: str, side: str, volume: float) -> PositionView:
    return PositionView(1, symbol, side, volume, 0.0, 0.0, 0.0, 0.0, 0, "", None)


def test_net_exposure_per_currency_matches_a_hand_calculation():
    # Arrange: EURUSD 1.10, USDJPY 150, GBPUSD 1.25 (USD account)
    values = {"EUR": 1.10, "USD": 1.0, "JPY": 1 / 150, "GBP": 1.25}
    sizes = {"EURUSD": 100_000, "USDJPY": 100_000, "GBPUSD": 100_000}
    positions = [position("EURUSD", "BUY", 0.5),    # +55,000 EUR, -55,000 USD
                 position("USDJPY", "SELL", 0.2),   # -20,000 USD, +20,000 JPY
                 position("GBPUSD", "SELL", 0.4)]   # -50,000 GBP, +50,000 USD

    # Act
    net = currency_exposures(positions, sizes, values.__getitem__)

    # Assert: USD -55,000 - 20,000 + 50,000 = -25,000
    assert net == pytest.approx({"EUR": 55_000, "USD": -25_000, "JPY": 20_000,
                                 "GBP": -50_000})
    assert sum(net.values()) == pytest.approx(0.0, abs=1e-6)  # each position nets to zero


def test_exposure_rows_carry_the_cap_and_its_share_largest_first():
    rows = exposure_views({"EUR": 55_000, "USD": -25_000, "JPY": 0.0}, 100_000, 3.0)

    assert [r.currency for r in rows] == ["EUR", "USD"]  # JPY at zero left out
    assert rows[0].cap == 300_000
    assert rows[0].share == pytest.approx(55_000 / 300_000)
    assert rows[1].share == pytest.approx(25_000 / 300_000)


def test_unknown_values_are_left_out_and_an_unknown_equity_has_no_share():
    net = currency_exposures([position("EURUSD", "BUY", 1.0)], {"EURUSD": 100_000},
                             lambda _c: math.nan)
    rows = exposure_views({"EUR": 1.0}, math.nan, 3.0)

    assert net == {}
    assert math.isnan(rows[0].share)


def test_volume_rule_min_step_max():
    spec = SymbolSpec("EURUSD", 5, 1e-5, 100_000, 0.01, 0.01, 100.0, 3, 0)

    assert spec.volume_problem(0.13) is None
    assert "below the minimum" in spec.volume_problem(0.001)
    assert "multiple of the step" in spec.volume_problem(0.015)
    assert "above the maximum" in spec.volume_problem(101)
    assert spec.filling_text == "FOK (allowed: FOK, IOC)"
