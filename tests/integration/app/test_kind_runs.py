"""Strategy kinds end to end on the real three-week M1 slices: a ``pair`` cluster and a
``correlation`` regime cluster go through the same backtest, journal and report as the TDI.

Pinned numbers are of these files and settings; they change only when the kinds' arithmetic
or the shared engine changes (then say why in the commit)."""

from __future__ import annotations

import csv
import json
import math
import re
import sqlite3
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from helpers.configs import PAIR_EUGB
from helpers.paths import TEST_DATA

from main import main

PAIR = PAIR_EUGB

REGIME = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96

[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001

[[cluster]]
name = "EUCHF_RG"
kind = "correlation"
symbols = ["EURUSD", "USDCHF"]
magic = 720002

[cluster.correlation]
fast_window = 12
slow_window = 96
targets = ["USD_MAJORS"]
"""


def _backtest(tmp_path, text: str, name: str) -> tuple[dict, list[dict], sqlite3.Connection]:
    config = tmp_path / f"{name}.toml"
    config.write_text(text)
    report = tmp_path / f"{name}-report"
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--report", str(report)])
    assert code == 0
    metrics = json.loads((report / "metrics.json").read_text())
    trades = list(csv.DictReader((report / "trades.csv").open()))
    return metrics, trades, sqlite3.connect(report / "journal.sqlite")


def test_a_pair_cluster_trades_its_z_score_through_the_shared_engine(tmp_path):
    # Act
    metrics, trades, db = _backtest(tmp_path, PAIR, "pair")
    # Assert: the run is complete and its trades are the pair's, with the shared exit codes
    assert metrics["complete"] is True
    assert metrics["params"]["clusters"]["EUGB_PAIR"]["kind"] == "pair"
    assert metrics["params"]["clusters"]["EUGB_PAIR"]["pair"]["hedge_window"] == 96
    assert len(trades) == metrics["baskets"]["baskets"] == 12  # pinned on this slice
    assert {t["cluster"] for t in trades} == {"EUGB_PAIR"}
    codes = [t["exit_code"] for t in trades]
    assert (codes.count("MR"), codes.count("TO"), codes.count("HS")) == (9, 2, 1)
    assert {t["exit_code"] for t in trades} <= {"MR", "OS", "TP", "HS", "TS", "TO", "NEWS",
                                                 "MANUAL", "RISK"}
    # every entry was at |z| beyond E = 2 (the pair's default), on the journaled signal
    rows = db.execute("SELECT tdi, kind, diagnostics, decision FROM tdi_snapshots "
                      "WHERE decision LIKE 'entry %'").fetchall()
    assert len(rows) == len(trades)
    for z, kind, diagnostics, decision in rows:
        assert kind == "pair"
        assert abs(z) > 2.0
        assert decision == ("entry LONG" if z < 0 else "entry SHORT")
        figures = json.loads(diagnostics)
        assert {"hedge", "p_eg", "half_life"} <= set(figures)


def _regime_states(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return db.execute("SELECT time, state, who FROM cluster_states WHERE cluster = "
                      "'USD_MAJORS' AND who LIKE 'regime %' ORDER BY time").fetchall()


def test_a_broken_correlation_regime_pauses_its_target_cluster(tmp_path):
    # Act
    metrics, trades, db = _backtest(tmp_path, REGIME, "regime")
    # Assert: the regime cluster opened nothing; it paused and released its target
    assert metrics["complete"] is True
    assert "EUCHF_RG" not in {t["cluster"] for t in trades}
    states = _regime_states(db)
    assert states, "the regime never broke on this slice: pick windows that show it"
    assert states[0][1] == "CLOSE_ONLY"
    assert len(states) == 16  # eight pauses and releases on this slice (pinned)
    for (_, first, _), (_, second, _) in pairwise(states):
        assert {first, second} == {"CLOSE_ONLY", "ACTIVE"}  # strictly alternating
    # no basket of the target opened while it was paused
    paused = [(t0, t1) for (t0, s0, _), (t1, _, _) in zip(states, [*states[1:],
              ("9999", "", "")], strict=True) if s0 == "CLOSE_ONLY"]
    for basket in db.execute("SELECT opened_at FROM baskets WHERE cluster = 'USD_MAJORS'"):
        assert not any(t0 <= basket[0] < t1 for t0, t1 in paused)


@pytest.mark.parametrize(("text", "key"), [
    (PAIR.replace('kind = "pair"', 'kind = "pairs"'), "cluster[0].kind"),
    (REGIME.replace('targets = ["USD_MAJORS"]', 'targets = ["USD_MAJOR"]'),
     "cluster[1].correlation.targets"),
    (PAIR.replace("[cluster.pair]", "[cluster.correlation]"), "cluster[0].correlation"),
    (PAIR.replace("hedge_window = 96", "hedge_windows = 96"), "cluster[0].pair.hedge_windows"),
])
def test_a_bad_kind_setting_is_one_line_naming_its_key(tmp_path, capsys, text, key):
    # Arrange
    config = tmp_path / "bad.toml"
    config.write_text(text)
    # Act
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--report", str(tmp_path / "r")])
    # Assert
    err = capsys.readouterr().err
    assert code != 0
    assert key in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


STOCK_PAIR = """
[[cluster]]
name = "KO_PEP"
kind = "pair"
symbols = ["KO", "PEP"]
magic = 730001
timeframe = "D1"
time_stop_bars = 40

[cluster.pair]
hedge_window = 120
z_window = 40
coint_p_max = 1.0
half_life_max = 100000

[risk]
max_lots_per_leg = 5000
"""


def test_a_daily_stock_pair_fills_at_the_next_daily_close(tmp_path):
    # Arrange: the daily KO/PEP closes; a D1 bar closes at 17:00 New York, after the session
    config = tmp_path / "stocks.toml"
    config.write_text(STOCK_PAIR)
    report = tmp_path / "report"
    # Act
    code = main(["backtest", "--data", str(TEST_DATA / "equity_daily" /
                                           "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"),
                 "--config", str(config), "--report", str(report)])
    # Assert: every basket opened and closed at a daily close (15:59 New York), on a
    # trading day after the signal bar that decided it
    assert code == 0
    db = sqlite3.connect(report / "journal.sqlite")
    baskets = db.execute("SELECT opened_at, closed_at, exit_code FROM baskets "
                         "ORDER BY opened_at").fetchall()
    assert len(baskets) == 13  # pinned on this slice
    for opened, closed, _ in baskets:
        assert opened[11:16] in ("20:59", "19:59")  # 15:59 New York, winter or summer
        assert closed is None or closed[11:16] in ("20:59", "19:59")
    refused = db.execute("SELECT count(*) FROM refusals WHERE reason = 'MARKET_CLOSED'")
    deferred = refused.fetchone()[0]  # refused at its bar close, then deferred
    # decided again at the next daily close: a score no longer beyond E on the signal's
    # side there is no entry
    gone = [re.search(r"is ([-+][0-9.]+) at the quotes .*signal bar ([-+][0-9.]+)", d).groups()
            for (d,) in db.execute("SELECT detail FROM refusals WHERE reason = 'SIGNAL_GONE'")]
    assert len(gone) == 6 and deferred == len(baskets) + len(gone)
    assert all(float(now) * math.copysign(1.0, float(signal)) <= 2.0 for now, signal in gone)
    entries = db.execute("SELECT decision FROM tdi_snapshots WHERE decision LIKE 'entry %'")
    assert len(entries.fetchall()) == len(baskets)  # decided on its bar, filled the next day
    # an exit decided on the score and filled the next day keeps the score it was decided at
    exits = db.execute("SELECT b.exit_tdi, s.tdi FROM baskets b JOIN tdi_snapshots s "
                       "ON s.cluster = b.cluster AND s.decision = 'exit ' || b.exit_code "
                       "AND s.bar_time <= b.closed_at WHERE b.exit_code IN ('MR', 'OS') "
                       "GROUP BY b.basket_id HAVING s.bar_time = max(s.bar_time)").fetchall()
    assert exits and all(kept == decided for kept, decided in exits)
    # the exposure is a share of the period the report states (it ends at the last daily
    # close, 21:00 UTC, not at midnight)
    metrics = json.loads((report / "metrics.json").read_text())
    start, end = (datetime.fromisoformat(metrics["params"]["period"][k]) for k in ("from", "to"))
    held = sum(((datetime.fromisoformat(closed) if closed else end)
                - datetime.fromisoformat(opened) for opened, closed, _ in baskets), timedelta())
    assert end.hour == 21 and metrics["baskets"]["exposure"] == pytest.approx(
        held / (end - start), rel=1e-12)


def test_the_audit_finds_no_look_ahead_in_a_pair_cluster(tmp_path, capsys):
    # Arrange
    config = tmp_path / "pair.toml"
    config.write_text(PAIR)
    # Act: the audit's truncation check compares the kind's scores and baskets before D
    code = main(["audit", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--seeds", "1", "--weeks", "1", "--report", str(tmp_path / "audit")])
    # Assert
    out = capsys.readouterr().out
    assert code == 0
    assert "PASS: the runs to D and to D+k agree on all 194 signal scores" in out
    audit = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert audit["truncation"]["passed"] is True


RISK_ON = """
[[cluster]]
name = "EUCHF_TR"
kind = "correlation"
symbols = ["EURUSD", "USDCHF"]
magic = 720003
entry = 1.5
exit = 0.5

[cluster.correlation]
fast_window = 12
slow_window = 96
action = "trade"
weights = [1.0, -1.0]
"""


def test_a_correlation_trade_opens_its_directional_basket_through_the_engine(tmp_path):
    # Act
    metrics, trades, db = _backtest(tmp_path, RISK_ON, "trade")
    # Assert: baskets of the regime cluster, its legs signed by the weights and the side
    assert metrics["complete"] is True
    closed = [t for t in trades if t["exit_time"]]
    assert len(closed) == metrics["baskets"]["baskets"] == 10  # pinned: 6 LONG, 4 SHORT
    assert len(trades) - len(closed) == metrics["baskets"]["open_baskets"] == 1  # at the end
    for basket_id, direction in db.execute("SELECT basket_id, direction FROM baskets"):
        sides = dict(db.execute("SELECT symbol, side FROM legs WHERE basket_id = ?",
                                (basket_id,)).fetchall())
        long_side = direction == "LONG"
        assert sides == ({"EURUSD": "BUY", "USDCHF": "SELL"} if long_side
                         else {"EURUSD": "SELL", "USDCHF": "BUY"})
