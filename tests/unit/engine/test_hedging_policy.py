"""The hedger's rules (``engine.hedging_policy``): the target, the band, the rounded order and
the gates, first refusal wins."""

from __future__ import annotations

import math

import pytest

from engine.hedging_policy import GateInputs, order_shares, reduces, refusal, target_shares
from engine.model import ClusterState


def gate(**changes) -> GateInputs:
    base = dict(paused=False, account_state=ClusterState.ACTIVE, automation=True, lots=30.0,
                max_lots=5000.0, net_after={"KO": 100.0, "USD": -100.0},
                net_before={"KO": 1600.0, "USD": -1600.0}, cap=300_000.0,
                margin_level=0.0, margin_floor=300.0)
    base.update(changes)
    return GateInputs(**base)


def test_the_target_is_short_the_bonds_delta_in_shares():
    assert target_shares(10, 12.5) == -125.0


@pytest.mark.parametrize(("target", "held", "expected"), [
    (-128.6, -128.0, 0.0),     # inside the band of 10 shares: nothing
    (-137.9, -128.0, 0.0),     # 9.9 away: still inside
    (-138.4, -128.0, -10.0),   # 10.4 away: outside, the whole difference, rounded
    (-140.6, -128.0, -13.0),   # 12.6 -> 13 (half away from zero)
    (-115.4, -128.0, 13.0),    # a buy back
    (-128.6, 0.0, -129.0),     # the first hedge
    (math.nan, -128.0, 0.0),   # no price: no order
])
def test_inside_the_band_nothing_outside_it_the_rounded_difference(target, held, expected):
    # 10 bonds: the target is -(10 x delta)
    assert order_shares(10, -target / 10, held, band=10.0, step=1.0, minimum=1.0) == expected


def test_the_order_is_rounded_to_the_volume_step_and_dropped_under_the_minimum():
    assert order_shares(1, 37.0, 0.0, band=5.0, step=10.0, minimum=10.0) == -40.0
    assert order_shares(1, 6.0, 0.0, band=5.0, step=1.0, minimum=10.0) == 0.0


def test_reducing_means_toward_zero_and_not_through_it():
    assert reduces(10.0, -128.0) and not reduces(-10.0, -128.0)
    assert not reduces(130.0, -128.0) and not reduces(5.0, 0.0)


@pytest.mark.parametrize(("changes", "order", "code"), [
    ({"paused": True}, 10.0, "PAUSED"),
    ({"account_state": ClusterState.HALTED}, 10.0, "ACCOUNT_HALTED"),
    ({"account_state": ClusterState.CLOSE_ONLY}, -10.0, "CLOSE_ONLY"),
    ({"account_state": ClusterState.CLOSE_ONLY}, 10.0, None),   # reducing goes ahead
    ({"automation": False}, -10.0, "AUTOMATION_OFF"),
    ({"automation": False}, 10.0, None),
    ({"max_lots": 5.0}, -10.0, "MAX_LOTS"),                      # level 4
    ({"max_lots": 5.0}, 10.0, None),
    ({"cap": 150.0, "net_before": {"KO": -100.0},
      "net_after": {"KO": -200.0}}, -10.0, "CURRENCY_CAP"),     # level 3, growing beyond
    ({"margin_level": 250.0}, -10.0, "MARGIN"),
    ({}, -10.0, None),
])
def test_the_gates_first_refusal_wins(changes, order, code):
    got = refusal(order, -128.0, gate(**changes))

    assert (got[0] if got else None) == code


def test_the_cap_passes_an_order_that_shrinks_an_exposure_already_beyond_it():
    # the bond's delta alone is beyond the cap; the hedge brings the stock's net down
    assert refusal(-10.0, -128.0, gate(cap=1000.0)) is None
