"""The pinned acceptance run: seed 0, three clusters, ten days, exact to the cent.

The real engine, the real simulated terminal over the synthetic market and a real SQLite
journal on a virtual clock; a rerun must give the same figures, so any change of behaviour
anywhere on the trading path shows here first.
"""

from __future__ import annotations

import pytest
from helpers.engine_setup import DAY_MS, SYMBOLS, config, session

from engine.loop import run_sync
from engine.model import ExitCode


def _acceptance(tmp_path, name: str, **spec) -> tuple:
    s = session(tmp_path, config(("USD_MAJORS", "GOLD_HAVENS", "USD_CAD_JPY"), **spec),
                name=name, symbols=(*SYMBOLS, "USDCAD"))
    e = s.engine
    run_sync(e, e.now_msc + 10 * DAY_MS)
    e.flatten_all(ExitCode.MANUAL, "end of test")
    e.stop("end")
    snap = e.snapshot(refresh=True)
    s.close()
    return (e.stats.baskets_opened, dict(sorted(e.stats.exits.items())),
            round(snap.balance, 2), round(e.stats.realised_pnl, 2))


def test_acceptance_run_is_pinned_and_repeats_exactly(tmp_path):
    # Arrange / Act: seed 0, three clusters, ten days from 2024-01-08, flat at the end.
    first = _acceptance(tmp_path, "a.sqlite")
    second = _acceptance(tmp_path, "b.sqlite")
    # Assert: exact figures, and a rerun gives the same to the cent.
    assert first == second
    opened, exits, balance, realised = first
    assert opened == 11
    assert exits == {"HS": 1, "MR": 10}
    assert balance == pytest.approx(100_000 + realised, abs=0.005)
    assert balance == 99_449.22


def test_acceptance_run_on_the_shipped_space_and_overshoot_is_pinned(tmp_path):
    # Arrange / Act: the same run in currency space with OS at E (the shipped defaults).
    first = _acceptance(tmp_path, "c.sqlite", space="currency", overshoot="E")
    second = _acceptance(tmp_path, "d.sqlite", space="currency", overshoot="E")
    # Assert
    assert first == second
    opened, exits, balance, realised = first
    assert opened == 8
    assert exits == {"HS": 1, "MR": 7}
    assert balance == 99_738.73
    assert balance == pytest.approx(100_000 + realised, abs=0.005)
