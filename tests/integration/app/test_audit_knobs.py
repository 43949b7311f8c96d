"""What the audit needs of the backtest: M1 bars replayed from memory exactly as from files,
and spreads and commission scaled on request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from app.audit.data import load_bars
from app.audit.runs import basket_fingerprints
from app.backtest import BacktestSpec, run_backtest
from app.replay_feed import ReplayConfig, ReplayFeed
from engine.config import load_engine_config
from engine.errors import UserError
from mt5bridge.sim.symbols import SYMBOL_SPECS

SMALL = short_window_config("USD_MAJORS")
HISTDATA = TEST_DATA / "histdata"


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("knobs") / "small.toml"
    path.write_text(SMALL)
    return load_engine_config(path)


@pytest.fixture(scope="module")
def bars(tmp_path_factory) -> dict[str, np.ndarray]:
    loaded, notes = load_bars((HISTDATA,), tmp_path_factory.mktemp("bars"))
    assert notes == []
    return loaded


def test_bars_in_memory_replay_exactly_as_the_files(config, bars):
    from_files = run_backtest(BacktestSpec(config=config, source="files", paths=(HISTDATA,)))
    from_memory = run_backtest(BacktestSpec(config=config, source="bars", bars=bars))

    assert len(from_files.trades) > 5
    assert from_memory.trades.equals(from_files.trades)
    assert from_memory.equity.equals(from_files.equity)
    assert all(from_memory.tdi[c].equals(from_files.tdi[c]) for c in from_files.tdi)
    assert from_memory.params["period"] == from_files.params["period"]


@pytest.mark.parametrize("scale", [0.0, 2.0])
def test_spread_scale_scales_every_replayed_spread(bars, scale):
    # the fixed model, so that every spread is the one typical spread (the profile's
    # scaling is tested in tests/unit/app/test_spread_models.py)
    typical = SYMBOL_SPECS["EURUSD"].typical_spread_points * SYMBOL_SPECS["EURUSD"].point
    start = int(bars["EURUSD"]["time"][5000]) * 1000
    feed = ReplayFeed.from_bars({"EURUSD": bars["EURUSD"]}, start, start + 3_600_000,
                                config=ReplayConfig(spread_model="fixed",
                                                    spread_scale=scale))

    ticks = feed.ticks_until(start + 3_600_000)
    warm = feed.warmup_bars()["EURUSD"]

    assert len(ticks) > 100
    assert np.allclose(ticks["ask"] - ticks["bid"], scale * typical, atol=1e-12)
    assert np.allclose(warm["spread"], scale * typical)


def test_a_negative_spread_scale_is_refused():
    with pytest.raises(UserError, match="spread_scale"):
        ReplayConfig(spread_scale=-1.0)


def test_commission_scale_scales_the_commission_booked_on_every_deal(config, bars, tmp_path):
    def commissions(scale: float) -> list[float]:
        journal = tmp_path / f"c{scale}.sqlite"
        run_backtest(BacktestSpec(config=config, source="bars", bars=bars,
                                  commission_scale=scale), journal_path=journal)
        return [d[6] for b in basket_fingerprints(journal).values() for d in b["deals"]]

    full, none = commissions(1.0), commissions(0.0)

    assert full and all(c < 0 for c in full)
    assert none and all(c == 0 for c in none)


def test_tick_files_are_aggregated_to_m1_bars_with_a_note(tmp_path):
    ticks = Path(TEST_DATA / "ticks")
    files = [f for f in sorted(ticks.iterdir()) if f.suffix in (".csv", ".gz")]
    if not files:
        pytest.skip("no tick slice in tests/data/ticks")

    loaded, notes = load_bars(files[:1], tmp_path)

    assert loaded and all(len(b) for b in loaded.values())
    assert all(np.all(np.diff(b["time"]) > 0) for b in loaded.values())
    assert any("aggregated to M1 bars" in n for n in notes)
