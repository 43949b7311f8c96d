"""The overshoot exit keyed to E or X, and the TDI stop at >= (docs/architecture.md, Exit
codes): both levels, both directions, and the boundary values."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from engine.baskets import Basket, m1_exit, m30_exit, mean_reversion_exit
from engine.model import Direction, ExitCode

E, X = 1.2, 0.25
LONG, SHORT = Direction.LONG, Direction.SHORT


@pytest.mark.parametrize(("direction", "tdi", "level", "code"), [
    # MR comes first, whatever the level: |TDI| < X
    (LONG, 0.2499, E, ExitCode.MR), (SHORT, -0.2499, E, ExitCode.MR),
    (LONG, -0.2499, X, ExitCode.MR),
    # at exactly X the TDI is no longer inside the band
    (LONG, X, X, ExitCode.OS), (LONG, X, E, None),
    (SHORT, -X, X, ExitCode.OS), (SHORT, -X, E, None),
    # level E: the far side between X and E keeps the basket open
    (LONG, 1.1999, E, None), (LONG, E, E, ExitCode.OS), (LONG, 2.0, E, ExitCode.OS),
    (SHORT, -1.1999, E, None), (SHORT, -E, E, ExitCode.OS), (SHORT, -2.0, E, ExitCode.OS),
    # level X: today's rule
    (LONG, 0.5, X, ExitCode.OS), (SHORT, -0.5, X, ExitCode.OS),
    # the near side never overshoots
    (LONG, -1.0, E, None), (SHORT, 1.0, E, None), (LONG, -1.0, X, None),
    (LONG, math.nan, E, None),
])
def test_overshoot_fires_at_the_level_on_the_far_side(direction, tdi, level, code):
    assert mean_reversion_exit(direction, tdi, X, level) is code


def test_without_a_level_the_overshoot_is_keyed_to_the_band():
    assert mean_reversion_exit(LONG, 0.5, X) is ExitCode.OS
    assert mean_reversion_exit(SHORT, -0.5, X) is ExitCode.OS


def basket(direction: Direction) -> Basket:
    return Basket("A-20190102T0000-001", "A", direction, datetime(2019, 1, 2, tzinfo=UTC),
                  -1.3, risk_budget=100.0, take_profit=100.0, entry_bar=0)


@pytest.mark.parametrize(("direction", "tdi", "code"), [
    (LONG, -2.5, ExitCode.TS), (LONG, -2.4999, None), (LONG, -3.0, ExitCode.TS),
    (SHORT, 2.5, ExitCode.TS), (SHORT, 2.4999, None),
])
def test_the_tdi_stop_fires_at_the_stop_itself(direction, tdi, code):
    got = m30_exit(basket(direction), tdi, X, 2.5, time_stop_bars=96, cluster_bars=1, pnl=0.0,
                   overshoot_level=E)
    assert got is code


def test_the_bar_close_and_the_m1_close_read_the_same_overshoot_level():
    b = basket(LONG)
    assert m30_exit(b, 1.0, X, 2.5, 96, 1, 0.0, overshoot_level=E) is None
    assert m30_exit(b, 1.0, X, 2.5, 96, 1, 0.0, overshoot_level=X) is ExitCode.OS
    assert m1_exit(b, 1.0, X, 0.0, overshoot_level=E) is None
    assert m1_exit(b, 1.3, X, 0.0, overshoot_level=E) is ExitCode.OS
