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
from typing import Any

from app.runs import LIVE_POLL_S, run_headless
from app.sessions import live_session
from engine.config import load_engine_config
from mt5bridge.drivers import LIVE_STEP_GRACE_MS
from mt5bridge.live import LiveConfig
from mt5bridge.sim import SimTerminal
from mt5bridge.sim.identity import demo_account
from mt5bridge.sim.market import MarketConfig, SyntheticMarket

MINUTE_MS = 60_000


class BrokerClock:
    """Wall time in seconds; sleeping moves it on and the broker's market with it, its
    ticks reaching the terminal ``delivery_ms`` after their own time."""

    def __init__(self, sim: SimTerminal, delivery_ms: int = 0) -> None:
        self.sim = sim
        self.delivery_ms = delivery_ms
        self.now_s = sim.sim_now_msc() / 1000 + delivery_ms / 1000
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds
        self.sim.sim_advance_to(int(self.now_s * 1000) - self.delivery_ms)


def _broker() -> SimTerminal:
    """The simulated terminal at Monday 2024-01-08 09:00 UTC."""
    start = datetime(2024, 1, 8, tzinfo=UTC)
    market = SyntheticMarket(MarketConfig(seed=0, start=start, end=datetime(2024, 1, 12,
                                                                            tzinfo=UTC),
                                          symbols=("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")))
    sim = SimTerminal(feed=market, config=demo_account(0, None))
    sim.initialize()
    sim.sim_advance_to(int(start.timestamp() * 1000) + 9 * 3_600_000)
    return sim


def _session(sim: SimTerminal, clock: BrokerClock, journal: Path) -> Any:
    account = sim.account_info()
    return live_session(load_engine_config(None).with_clusters(["USD_MAJORS"]),
                        LiveConfig(login=account.login, server=account.server, symbols=()),
                        module=sim, clock=clock, journal_path=journal)


def test_a_live_run_keeps_to_the_real_clock(tmp_path: Path):
    # Arrange: a broker whose ticks reach the terminal at once
    sim = _broker()
    clock = BrokerClock(sim)
    session = _session(sim, clock, tmp_path / "live.sqlite")
    engine = session.engine
    began_ms = int(clock() * 1000)

    # Act: 72 minutes
    status = run_headless(session, days=0.05, echo=lambda _line: None, wall_clock=clock,
                          sleep=clock.sleep)

    # Assert: it took its 72 minutes, stepped no minute before the clock had passed it by
    # the grace, and looked at the clock (and for a stop request) at least every second
    assert status == 0
    assert 71 * 60 <= sum(clock.sleeps) <= 73 * 60
    assert engine.now_msc <= clock() * 1000 - LIVE_STEP_GRACE_MS
    assert engine.now_msc == (began_ms // MINUTE_MS + 72) * MINUTE_MS
    assert max(clock.sleeps) <= LIVE_POLL_S


def test_the_grace_lets_ticks_that_reach_the_terminal_late_into_their_minute(tmp_path: Path):
    # Arrange: two brokers whose ticks reach the terminal a second after their time
    runs = {}
    for grace in (0, LIVE_STEP_GRACE_MS):
        sim = _broker()
        clock = BrokerClock(sim, delivery_ms=1_000)
        session = _session(sim, clock, tmp_path / f"live-{grace}.sqlite")
        lines: list[str] = []
        # Act: a day stepped at each minute's end, and the grace after it
        run_headless(session, days=1, echo=lines.append, wall_clock=clock,
                     sleep=clock.sleep, live_grace_ms=grace)
        runs[grace] = (session.engine.market.late_ticks, lines[-1])

    # Assert: on time, the ticks of each signal bar's last second came after the clock had
    # closed it and were dropped (and said so); with the grace none was
    late, said = runs[0]
    assert late > 0 and said.endswith(f"(they came after their minute had closed): {late}")
    assert runs[LIVE_STEP_GRACE_MS][0] == 0
