"""Sessions open their account's journal: default files per mode and account, another
account's journal refused on the command line and set aside in the console.

The "live" account here is the simulated terminal configured as a broker's (server and
login), run in live mode: everything but the MetaTrader5 package itself is real.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers.engine_setup import SYMBOLS
from helpers.engine_setup import config as engine_config
from helpers.paths import TEST_DATA

from app.console import open_console
from app.sessions import demo_session, replay_session, sim_session
from engine.model import RunMode
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.market import MarketConfig, SyntheticMarket
from storage.journal import JournalOfAnotherAccount, SqliteJournal
from storage.paths import default_journal_path, journals_dir

START = datetime(2024, 1, 8, tzinfo=UTC)


def broker_terminal(login: int) -> SimTerminal:
    market = SyntheticMarket(MarketConfig(seed=0, start=START, symbols=SYMBOLS))
    sim = SimTerminal(feed=market, config=SimConfig(server="Broker-Live", login=login))
    assert sim.initialize()
    return sim


def test_a_live_journal_refuses_a_session_of_another_account(tmp_path):
    # Arrange: a live run of account 1001 on its journal
    journal = tmp_path / "live.sqlite"
    first = sim_session(engine_config(), broker_terminal(1001), mode=RunMode.LIVE,
                        journal_path=journal)
    first.engine.start()
    first.engine.stop("end of test")
    first.close()

    # Act
    with pytest.raises(JournalOfAnotherAccount) as refused:
        sim_session(engine_config(), broker_terminal(1002), mode=RunMode.LIVE,
                    journal_path=journal)
    own = sim_session(engine_config(), broker_terminal(1002), mode=RunMode.LIVE)
    own.close()

    # Assert
    assert str(refused.value).startswith(
        f"{journal}: this journal belongs to the live account 1001 on Broker-Live (USD), not "
        f"the live account 1002 on Broker-Live (USD)")
    assert own.journal.path == journals_dir() / "live-Broker-Live-1002.sqlite"
    with SqliteJournal.open_reader(journal) as reader:
        assert len(reader.runs()) == 1


def test_each_mode_and_market_has_its_own_default_journal():
    # Arrange
    ticks = sorted((TEST_DATA / "ticks").glob("*.csv*"))
    cfg = engine_config()

    # Act
    demo = demo_session(cfg, symbols=SYMBOLS)
    demo.close()
    other_seed = demo_session(cfg, seed=3, symbols=SYMBOLS)
    other_seed.close()
    replay = replay_session(cfg, [str(ticks[0])], None, None, None, allow_no_cluster=True)
    replay.close()

    # Assert
    assert demo.journal.path == default_journal_path() == journals_dir() / "demo.sqlite"
    assert other_seed.journal.path == journals_dir() / "demo-52700004.sqlite"
    assert replay.journal.path.parent == journals_dir()
    assert replay.journal.path.name.startswith("replay-")
    assert replay.terminal.account_info().server == "FxCluster-Replay"


def test_the_console_sets_another_accounts_journal_aside(tmp_path):
    # Arrange: the journal a trader gave, already the demo account of seed 0's
    journal = tmp_path / "mine.sqlite"
    first = open_console(engine_config(), journal=journal)
    first.session.close()

    # Act: the console on the demo of another seed, the same --journal
    other = open_console(engine_config(), journal=journal, seed=3)
    other.session.close()

    # Assert
    assert other.session.journal.path == tmp_path / "mine-demo-52700004.sqlite"
    [note] = other.session.engine.start_notes
    assert note == (f"{journal} belongs to the demo account 52700001 on FxCluster-Demo (USD); "
                    f"this session journals to {tmp_path / 'mine-demo-52700004.sqlite'}")
    with SqliteJournal.open_reader(journal) as reader:
        assert reader.bound_account().login == 52_700_001
