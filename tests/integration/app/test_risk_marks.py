"""The account limits meet an entry as the account is at that moment.

While nothing is held the account is marked every half hour, so a basket closed between
bar closes (a hard stop at 09:51) could leave the account past its daily loss with the
limit unseen until the next mark, 10:00, and the entry judged at that same bar close was
sized on the equity that broke it and opened.  Now a basket closed at an M1 close marks
the account at once, and every entry marks it before it is judged.  Real M1 bars
(``tests/data/histdata``, three weeks of 2019); short windows and a 0.30 % daily loss
limit, which the 2019-10-31 09:51 hard stop breaks.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from engine.config import load_engine_config

START, END = datetime(2019, 10, 13, 22, tzinfo=UTC), datetime(2019, 11, 2, tzinfo=UTC)

CONFIG = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
entry = 1.0
exit = 0.3
tdi_stop = 2.0
time_stop_bars = 6
hard_stop_atr = 2.0
take_profit_r = 0.5
atr_bars = 14
min_eigengap = 1.0

[[cluster]]
name = "USDMAJ"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001

[[cluster]]
name = "USDCJ"
symbols = ["EURUSD", "USDJPY", "USDCHF", "USDCAD"]
magic = 710002

[risk]
risk_per_trade = 0.003
cooldown_bars = 0
cluster_daily_loss = 0.5
max_open_risk = 0.006
account_daily_loss = 0.003
max_drawdown = 0.5
"""


def test_a_limit_broken_by_a_close_between_bars_meets_the_next_entry(tmp_path):
    # Arrange
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    spec = BacktestSpec(config=load_engine_config(config), source="files",
                        paths=(TEST_DATA / "histdata",), start=START, end=END)
    journal = tmp_path / "journal.sqlite"

    # Act
    run_backtest(spec, journal_path=journal)

    # Assert: the account locked at the hard stop's minute, and the 10:00 entries refused
    with sqlite3.connect(journal) as db:
        stop = db.execute("SELECT closed_at, exit_code FROM baskets "
                          "WHERE basket_id = 'USDCJ-20191031T0930-001'").fetchone()
        locks = db.execute("SELECT time, state, reason FROM cluster_states "
                           "WHERE cluster = '*' AND time LIKE '2019-10-31%'").fetchall()
        opened = db.execute("SELECT basket_id FROM baskets WHERE opened_at > ? "
                            "AND opened_at < '2019-10-31T21'", (stop[0],)).fetchall()
        refused = db.execute("SELECT cluster, reason FROM refusals "
                             "WHERE time = '2019-10-31T10:00:00.000+00:00'").fetchall()
    assert stop == ("2019-10-31T09:51:00.000+00:00", "HS")
    assert locks[0][:2] == (stop[0], "CLOSE_ONLY")
    assert locks[0][2].startswith("ACCOUNT_DAILY_LOSS: equity 99,462.44 is 0.32% below")
    assert opened == []
    assert sorted(refused) == [("USDCJ", "ACCOUNT_CLOSE_ONLY"), ("USDMAJ", "ACCOUNT_CLOSE_ONLY")]
