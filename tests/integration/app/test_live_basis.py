"""A live session of a basis cluster whose contract is ``"auto"``, on a broker with and
without a symbol suffix.

The shipped example (``docs/examples/basis.toml``: XAUUSD against its front quarterly
contract) through ``app.sessions.live_session`` over the simulated terminal used as the
MetaTrader5 module, its clock the session's.  The contract is read from the broker's list
once connected: the front one and the later ones on XAUUSD are mapped to the broker's
names, selected and fed, and the engine starts and steps on their quotes.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers.paths import REPO_ROOT

from app.basis_start import simulated_futures
from app.sessions import live_session
from engine.config import load_engine_config
from mt5bridge.live import LiveConfig
from mt5bridge.sim import SimTerminal
from mt5bridge.sim.identity import demo_account
from mt5bridge.sim.market import MarketConfig, SyntheticMarket

EXAMPLE = REPO_ROOT / "docs" / "examples" / "basis.toml"
START, END = datetime(2024, 2, 26, tzinfo=UTC), datetime(2024, 3, 8, tzinfo=UTC)
#: The quarterly contracts the simulated broker lists over the period, nearest first.
CONTRACTS = ("XAUUSD_H24", "XAUUSD_M24", "XAUUSD_U24")


def _broker(suffix: str) -> SimTerminal:
    config = load_engine_config(EXAMPLE)
    futures = simulated_futures(config, int(START.timestamp() * 1000) - 60 * 86_400_000,
                                int(END.timestamp() * 1000))
    market = SyntheticMarket(MarketConfig(seed=2, start=START, end=END, latency=False,
                                          symbols=("XAUUSD",), futures=futures))
    sim = SimTerminal(feed=market,
                      config=dataclasses.replace(demo_account(0, None), symbol_suffix=suffix))
    sim.initialize()
    return sim


@pytest.mark.parametrize("suffix", ["", ".a"])
def test_a_basis_cluster_on_auto_starts_live_on_the_front_contract(tmp_path: Path, suffix):
    # Arrange
    sim = _broker(suffix)
    account = sim.account_info()
    live = LiveConfig(login=account.login, server=account.server, symbols=())

    # Act: the session as `run --live --config docs/examples/basis.toml` builds it
    session = live_session(load_engine_config(EXAMPLE), live, module=sim,
                           clock=lambda: sim.sim_now_msc() / 1000,
                           journal_path=tmp_path / "live.sqlite")
    engine = session.engine
    engine.start()
    t0 = sim.sim_now_msc() // 60_000 * 60_000
    for minute in range(1, 4):
        sim.sim_advance_to(t0 + minute * 60_000)
        engine.step(t0 + minute * 60_000)

    # Assert: the front contract traded, every contract on XAUUSD mapped and fed
    try:
        assert engine.config.clusters[0].symbols == ("XAUUSD", "XAUUSD_H24")
        assert any("XAUUSD_H24, the front contract on XAUUSD" in note and "next XAUUSD_M24"
                   in note for note in engine.start_notes)
        # the expiry as a date, not as epoch seconds
        assert any(re.search(r"expiry 2024-03-\d\d \d\d:\d\d UTC", note)
                   for note in engine.start_notes), engine.start_notes
        assert engine.driver.symbols == ("XAUUSD", *CONTRACTS)
        assert [session.terminal.broker_symbol(s) for s in CONTRACTS] == [
            s + suffix for s in CONTRACTS]
        quoted = dict(zip(engine.market.symbols, engine.market.bid.tolist(), strict=True))
        assert np.isfinite(quoted["XAUUSD"]) and np.isfinite(quoted["XAUUSD_H24"])
        assert quoted["XAUUSD_H24"] != quoted["XAUUSD"]
    finally:
        session.journal.close()
        session.terminal.close()
