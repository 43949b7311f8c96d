"""``run --live`` steps each minute once the real clock has reached it.

Measured before: ``run_headless`` stepped a live session as fast as the machine went (the
speed of a live run was "max"), so ``run --live --days 0.05`` ended in 0.02 s with its
engine's clock 72 minutes in the future, and without ``--days`` the clock ran on for ever,
closing minutes whose ticks had not happened.  Here the clock is the test's: a ``sleep``
that moves it on, and the simulated broker's market with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.runs import LIVE_POLL_S, run_headless
from app.sessions import live_session
from engine.config import load_engine_config
from mt5bridge.live import LiveConfig
from mt5bridge.sim import SimTerminal
from mt5bridge.sim.identity import demo_account
from mt5bridge.sim.market import MarketConfig, SyntheticMarket

MINUTE_MS = 60_000


class BrokerClock:
    """Wall time in seconds; sleeping moves it on and the broker's market with it."""

    def __init__(self, sim: SimTerminal) -> None:
        self.sim = sim
        self.now_s = sim.sim_now_msc() / 1000
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds
        self.sim.sim_advance_to(int(self.now_s * 1000))


def test_a_live_run_keeps_to_the_real_clock(tmp_path: Path):
    # Arrange: a broker (the simulated terminal) at Monday 2024-01-08 09:00 UTC
    start = datetime(2024, 1, 8, tzinfo=UTC)
    market = SyntheticMarket(MarketConfig(seed=0, start=start, end=datetime(2024, 1, 12,
                                                                            tzinfo=UTC),
                                          symbols=("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")))
    sim = SimTerminal(feed=market, config=demo_account(0, None))
    sim.initialize()
    sim.sim_advance_to(int(start.timestamp() * 1000) + 9 * 3_600_000)
    clock = BrokerClock(sim)
    account = sim.account_info()
    session = live_session(load_engine_config(None).with_clusters(["USD_MAJORS"]),
                           LiveConfig(login=account.login, server=account.server, symbols=()),
                           module=sim, clock=clock, journal_path=tmp_path / "live.sqlite")
    engine = session.engine
    began_ms = int(clock() * 1000)

    # Act: 72 minutes
    status = run_headless(session, days=0.05, echo=lambda _line: None, wall_clock=clock,
                          sleep=clock.sleep)

    # Assert: it took its 72 minutes, never stepped a minute before the clock reached it,
    # and looked at the clock (and for a stop request) at least every second meanwhile
    assert status == 0
    assert 71 * 60 <= sum(clock.sleeps) <= 73 * 60
    assert engine.now_msc <= clock() * 1000
    assert engine.now_msc == (began_ms // MINUTE_MS + 72) * MINUTE_MS
    assert max(clock.sleeps) <= LIVE_POLL_S
    assert engine.market.bid.tolist() == [sim.symbol_info_tick(s).bid
                                          for s in engine.market.symbols]
