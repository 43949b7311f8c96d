"""The ``deal`` kind end to end: a synthetic stock deal (``helpers.deal_series``: the
announcement jump, the drift to the offer, then completion or a break) backtested through
the shared engine, journal and report; and the invented KO/PEP example on the real slice.

Pinned numbers are of these generated files and settings; they change only when the deal's
arithmetic or the shared engine changes (then say why in the commit)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from helpers.deal_series import (
    ACQUIRER,
    BREAK_PRICE,
    RATIO,
    TARGET,
    deal_closes,
    deal_toml,
    trading_days,
    write_deal_file,
)
from helpers.paths import REPO_ROOT, TEST_DATA

from main import main

ANNOUNCE, CLOSE, COMPLETE, BREAK = 20, 120, 118, 70


def _run(tmp_path: Path, end: str, event: str, day: int) -> tuple[dict, sqlite3.Connection]:
    days = trading_days()
    data = write_deal_file(tmp_path / "deal.csv.gz",
                           deal_closes(days, announce=ANNOUNCE, close=CLOSE, end=end,
                                       end_day=day))
    config = tmp_path / "deal.toml"
    config.write_text(deal_toml(days, announce=ANNOUNCE, close=CLOSE, event=event,
                                event_day=day))
    report = tmp_path / "report"
    assert main(["backtest", "--data", str(data), "--config", str(config), "--report",
                 str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    return metrics, sqlite3.connect(report / "journal.sqlite")


def _fills(db: sqlite3.Connection, basket: str, symbol: str) -> list[tuple[int, float, float]]:
    """(entry: 0 in / 1 out, volume, price) of a leg's deals, in order."""
    return db.execute("SELECT entry, volume, price FROM deals WHERE basket_id = ? AND "
                      "symbol = ? ORDER BY time", (basket, symbol)).fetchall()


def test_a_completed_deal_is_bought_after_the_announcement_and_closed_with_dc(tmp_path):
    # Act
    metrics, db = _run(tmp_path, "complete", "completed", COMPLETE)
    # Assert: one basket, long the target and short the ratio of the acquirer, closed DC
    assert metrics["complete"] is True
    rows = db.execute("SELECT basket_id, direction, opened_at, closed_at, exit_code, pnl, "
                      "risk_budget FROM baskets").fetchall()
    assert len(rows) == 1
    basket, direction, opened, closed, code, pnl, budget = rows[0]
    assert (direction, code) == ("LONG", "DC")
    assert opened[:10] == "2020-06-30" and closed[:10] == "2020-11-17"  # pinned
    assert round(pnl, 2) == 200.05 and budget == 300.0  # pinned
    legs = dict(db.execute("SELECT symbol, volume FROM legs WHERE basket_id = ?", (basket,)))
    assert legs == {TARGET: 134.0, ACQUIRER: 67.0}  # shares in the ratio 0.5 exactly
    assert legs[ACQUIRER] == RATIO * legs[TARGET]
    detail = db.execute("SELECT exit_detail FROM baskets").fetchone()[0]
    assert detail == "deal completed"
    decision = db.execute("SELECT tdi, kind FROM tdi_snapshots WHERE decision = 'entry LONG'")
    score, kind = decision.fetchone()
    assert kind == "deal" and score < -10.0  # entered above E = 10 % a year net
    assert metrics["baskets"]["exits_by_code"]["DC"] == 1


def test_a_break_loses_the_sized_budget_within_rounding(tmp_path):
    # Act
    metrics, db = _run(tmp_path, "break", "broken", BREAK)
    # Assert
    basket, code, pnl, budget = db.execute(
        "SELECT basket_id, exit_code, pnl, risk_budget FROM baskets").fetchone()
    assert code == "DB" and budget == 300.0
    assert round(pnl, 2) == -230.64  # pinned: the target's loss less the hedge's gain
    (_, shares, entry), (_, _, exit_price) = _fills(db, basket, TARGET)
    assert exit_price == pytest.approx(BREAK_PRICE, abs=0.01)  # the gap to the break price
    loss = shares * (entry - exit_price)
    # the size was set at the previous close (the mid), the fill at the next close's ask;
    # one share and that spread are the rounding the loss may differ by
    assert abs(loss - budget) <= (entry - BREAK_PRICE) + shares * 0.02
    assert metrics["baskets"]["exits_by_code"]["DB"] == 1
    assert metrics["baskets"]["exits_by_code"]["HS"] == 0  # no hard stop on a deal


def test_the_invented_deal_example_runs_on_the_real_slice(tmp_path):
    # Act: docs/examples/deal.toml on the KO/PEP test slice (the shared file's columns)
    report = tmp_path / "example"
    code = main(["backtest", "--data", str(TEST_DATA / "equity_daily" /
                                           "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"),
                 "--config", str(REPO_ROOT / "docs" / "examples" / "deal.toml"),
                 "--from", "2021-01-04", "--to", "2021-12-30", "--report", str(report)])
    # Assert: bought the day after the announcement, 67 KO against 28 PEP (0.42 x 67 = 28.1)
    assert code == 0
    trades = list(csv.DictReader((report / "trades.csv").open()))
    assert [t["exit_code"] for t in trades] == ["TS"]  # the invented spread widened
    db = sqlite3.connect(report / "journal.sqlite")
    legs = dict(db.execute("SELECT symbol, volume FROM legs"))
    assert legs == {"KO": 67.0, "PEP": 28.0}
    refused = dict(db.execute("SELECT reason, count(*) FROM refusals GROUP BY reason"))
    assert refused.get("WIDE_SPREAD", 0) > 0  # no re-entry into a spread beyond the stop


@pytest.mark.parametrize(("text", "key"), [
    ("ratio = 0.5", "cluster[0].deal.ratio"),
    ("brake_price = 24.0", "cluster[0].deal.brake_price"),
    ('terms = "stok"', "cluster[0].deal.terms"),
])
def test_a_bad_deal_setting_is_one_line_naming_its_key(tmp_path, capsys, text, key):
    # Arrange
    days = trading_days()
    good = deal_toml(days, announce=ANNOUNCE, close=CLOSE)
    bad = {"ratio = 0.5": good.replace("ratio = 0.5", "ratio = -0.5"),
           "brake_price = 24.0": good.replace("break_price", "brake_price"),
           'terms = "stok"': good.replace('terms = "stock"', 'terms = "stok"')}[text]
    data = write_deal_file(tmp_path / "d.csv.gz", deal_closes(
        days, announce=ANNOUNCE, close=CLOSE, end="complete", end_day=COMPLETE))
    config = tmp_path / "bad.toml"
    config.write_text(bad)
    # Act
    code = main(["backtest", "--data", str(data), "--config", str(config), "--report",
                 str(tmp_path / "r")])
    # Assert
    err = capsys.readouterr().err
    assert code != 0 and key in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
