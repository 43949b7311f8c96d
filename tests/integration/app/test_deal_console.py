"""The trader's deals in a console session: a deal added while running (``AddDeal``) trades
at its next bar, a reported break (``DealEvent``) closes the basket with DB, and both are
kept by the journal for the next session on it (``app.deals``).

The session is the console's replay of the synthetic deal file (``helpers.deal_series``),
stepped on its virtual clock in this thread (``engine.loop.run_sync``): deterministic."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.deal_series import TARGET, deal_closes, deal_toml, trading_days, write_deal_file

from app.console_replay import open_console_replay
from app.deals import journaled_deals
from engine import commands as cmd
from engine.config import load_engine_config
from engine.loop import run_sync
from engine.records import ManualCommand

ANNOUNCE, CLOSE, BREAK = 20, 120, 70
CASH_DEAL = {"terms": "cash", "cash": 28.0, "break_price": 24.0, "announced": "2020-06-29",
             "expected_close": "2020-11-20", "financing": "rate"}


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def market(tmp_path: Path) -> tuple[Path, Path]:
    days = trading_days()
    data = write_deal_file(tmp_path / "deal.csv.gz", deal_closes(
        days, announce=ANNOUNCE, close=CLOSE, end="break", end_day=BREAK))
    config = tmp_path / "deal.toml"
    config.write_text(deal_toml(days, announce=ANNOUNCE, close=CLOSE))
    return data, config


def _session(market: tuple[Path, Path], journal: Path):
    data, config = market
    session = open_console_replay(load_engine_config(config), [data], None, journal)
    session.engine.start()
    return session


def test_a_reported_break_closes_the_basket_with_db_and_is_kept(market, tmp_path):
    # Arrange: the basket opens on 2020-06-30
    journal = tmp_path / "journal.sqlite"
    session = _session(market, journal)
    engine = session.engine
    run_sync(engine, _ms("2020-07-15T12:00"))
    assert "SYN_DEAL" in engine.baskets
    # Act: the trader reports the break (no date in the file)
    engine.submit(cmd.DealEvent(cluster="SYN_DEAL", event="broken", source="gui"))
    run_sync(engine, _ms("2020-07-17T12:00"))
    engine.stop("test")
    session.close()
    # Assert: closed with DB at the next daily close; the deal opens nothing more
    db = sqlite3.connect(journal)
    code, detail = db.execute("SELECT exit_code, exit_detail FROM baskets").fetchone()
    assert (code, detail) == ("DB", "deal broken (gui)")
    assert engine.signals["SYN_DEAL"].last_point.regime == "broken"
    # ... and the next session on this journal knows the deal broke
    again = _session(market, journal)
    params = next(c for c in again.engine.config.clusters if c.name == "SYN_DEAL").params
    assert params.broken is not None and params.broken.isoformat() == "2020-07-15"
    again.close()


def test_a_deal_added_while_running_trades_and_survives_a_restart(market, tmp_path):
    # Arrange
    journal = tmp_path / "journal.sqlite"
    session = _session(market, journal)
    engine = session.engine
    run_sync(engine, _ms("2020-06-15T12:00"))
    # Act: a cash deal on the target alone, entered in the console
    engine.submit(cmd.AddDeal(cluster="PFE_CASH", symbols=(TARGET,), magic=740002,
                              deal=CASH_DEAL, source="gui"))
    engine.submit(cmd.AddDeal(cluster="BAD", symbols=("KO",), magic=740003, deal=CASH_DEAL,
                              source="gui"))  # KO is not in this market: refused
    run_sync(engine, _ms("2020-07-10T12:00"))
    engine.stop("test")
    session.close()
    # Assert: warmed up from history, then bought at its own signal like any cluster
    sig = engine.signals["PFE_CASH"]
    assert sig.last_point is not None and sig.last_point.regime == "open"
    rows = sqlite3.connect(journal).execute(
        "SELECT basket_id, direction FROM baskets WHERE cluster = 'PFE_CASH'").fetchall()
    assert [r[1] for r in rows] == ["LONG"]
    legs = sqlite3.connect(journal).execute(
        "SELECT symbol FROM legs WHERE basket_id = ?", (rows[0][0],)).fetchall()
    assert legs == [(TARGET,)]  # a cash deal: one leg
    assert "BAD" not in engine.signals
    again = _session(market, journal)
    assert [c.name for c in again.engine.config.clusters] == ["SYN_DEAL", "PFE_CASH"]
    assert "PFE_CASH" in again.engine.signals
    again.close()


def test_only_succeeded_deal_commands_are_read_back() -> None:
    when = datetime(2021, 3, 2, 15, tzinfo=UTC)
    args = {"cluster": "X", "symbols": ["KO"], "magic": 5, "deal": CASH_DEAL,
            "timeframe": "D1", "entry": 10.0, "exit_band": 2.0}
    commands = [ManualCommand("a", when, "gui", "AddDeal", args, "ok: deal X added"),
                ManualCommand("b", when, "gui", "AddDeal", {**args, "cluster": "Y"},
                              "failed: rejected: no KO"),
                ManualCommand("c", when, "gui", "DealEvent", {"cluster": "X",
                                                              "event": "completed"}, None),
                ManualCommand("d", when, "gui", "DealEvent", {"cluster": "X",
                                                              "event": "completed"}, "ok")]
    notes: list[str] = []
    stale = ManualCommand("e", when, "gui", "AddDeal", {**args, "cluster": "Z",
                                                         "deal": {"cash": 1.0}}, "ok")
    specs, events = journaled_deals([*commands, stale], notes)
    assert [s.name for s in specs] == ["X"]
    assert len(notes) == 1 and "'Z' is left out" in notes[0] and "break_price" in notes[0]
    assert events == {"X": ("completed", datetime(2021, 3, 2).date())}
