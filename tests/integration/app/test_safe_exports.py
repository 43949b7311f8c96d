"""Exports are safe to open: text a spreadsheet would run is written as text in every CSV
export (a backtest's trades.csv and equity.csv, ``journal export``, the console's History
export), numbers stay numbers, and the journal and the calendar keep such text unchanged."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from helpers.paths import TEST_DATA

from engine.records import BasketClose, BasketOpen, NewsAction, PlannedLeg, RunStart
from main import main
from storage.journal import SqliteJournal

T0 = datetime(2019, 2, 4, 14, 30, tzinfo=UTC)

#: Text that a spreadsheet would run, as a cluster name, a calendar title, a detail.
HOSTILE_CLUSTER = "=HYPERLINK(\"http://x\")"
HOSTILE_TITLE = "+cmd|' /C calc'!A0"
HOSTILE_DETAIL = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_CURRENCY = "-2+3"
BASKET = "=HYPERLINK-20190204T1430-000"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def hostile_journal(tmp_path) -> Path:
    path = tmp_path / "journal.sqlite"
    with SqliteJournal.open(path) as journal:
        journal.start_run(RunStart("run-1", "replay", T0, "cfg"))
        journal.open_basket(BasketOpen(BASKET, "run-1", HOSTILE_CLUSTER, "LONG", T0, -1.4, 300.0,
                                       (PlannedLeg("EURUSD", "BUY", 0.5),)))
        journal.close_basket(BasketClose(BASKET, T0 + timedelta(hours=2), -0.1, "HS", -75.99,
                                         -7.0, HOSTILE_DETAIL))
        journal.record_news_action(NewsAction(T0, HOSTILE_CLUSTER, "BLOCK_ENTRY", T0,
                                              HOSTILE_CURRENCY, "HIGH", HOSTILE_TITLE, "run-1"))
    return path


def test_the_journal_keeps_such_text_exactly_as_given(hostile_journal):
    # Act
    with SqliteJournal.open(hostile_journal, create=False) as journal:
        history = journal.basket_history()
        news = journal.news_actions()
    raw = sqlite3.connect(hostile_journal)
    stored = raw.execute("SELECT cluster, exit_detail FROM baskets").fetchone()
    raw.close()
    # Assert
    assert history[0].opening.cluster == HOSTILE_CLUSTER
    assert history[0].closing is not None and history[0].closing.detail == HOSTILE_DETAIL
    assert (news[0].title, news[0].currency, news[0].cluster) == (
        HOSTILE_TITLE, HOSTILE_CURRENCY, HOSTILE_CLUSTER)
    assert stored == (HOSTILE_CLUSTER, HOSTILE_DETAIL)


def test_journal_export_neutralises_formulas_and_keeps_numbers(hostile_journal, tmp_path,
                                                                capsys):
    # Arrange
    out = tmp_path / "export"
    # Act
    code = main(["journal", "export", "--journal", str(hostile_journal), "--out", str(out)])
    # Assert
    capsys.readouterr()
    assert code == 0
    basket = read_rows(out / "baskets.csv")[0]
    assert basket["basket_id"] == "'" + BASKET
    assert basket["cluster"] == "'" + HOSTILE_CLUSTER
    assert basket["exit_detail"] == "'" + HOSTILE_DETAIL
    assert basket["pnl"] == "-75.99" and basket["costs"] == "-7.0"
    assert basket["entry_tdi"] == "-1.4"
    news = read_rows(out / "news_actions.csv")[0]
    assert news["title"] == "'" + HOSTILE_TITLE
    assert news["currency"] == "'" + HOSTILE_CURRENCY
    # the journal itself is untouched by the export
    with SqliteJournal.open(hostile_journal, create=False) as journal:
        assert journal.news_actions()[0].title == HOSTILE_TITLE


def test_backtest_trades_and_equity_csv_neutralise_text_only(tmp_path):
    from app.backtest.outputs import write_equity_csv, write_trades_csv

    # Arrange
    trades = pd.DataFrame([{
        "basket_id": BASKET, "cluster": HOSTILE_CLUSTER, "direction": "LONG",
        "entry_time": T0, "exit_time": None, "entry_tdi": -1.4, "exit_tdi": None,
        "exit_code": "", "pnl": -75.99, "costs": -7.0,
    }])
    equity = pd.DataFrame({"balance": [99_924.01], "equity": [-1.5]},
                          index=pd.DatetimeIndex([pd.Timestamp("2019-02-04", tz="UTC")]))
    # Act
    write_trades_csv(trades, tmp_path / "trades.csv")
    write_equity_csv(equity, tmp_path / "equity.csv")
    # Assert
    row = read_rows(tmp_path / "trades.csv")[0]
    assert row["basket_id"] == "'" + BASKET and row["cluster"] == "'" + HOSTILE_CLUSTER
    assert row["pnl"] == "-75.99" and row["entry_tdi"] == "-1.4"
    assert row["entry_time"] == "2019-02-04 14:30:00+00:00" and row["exit_time"] == ""
    assert read_rows(tmp_path / "equity.csv") == [
        {"date": "2019-02-04", "balance": "99924.01", "equity": "-1.5"}]


def test_a_backtest_report_reads_back_with_negative_amounts_as_numbers(tmp_path, capsys):
    report = tmp_path / "report"
    code = main(["backtest", "--market", "synthetic", "--seed", "3", "--from", "2024-01-08",
                 "--to", "2024-01-19", "--clusters", "USD_MAJORS,GOLD_HAVENS",
                 "--report", str(report)])
    capsys.readouterr()
    assert code == 0
    trades = read_rows(report / "trades.csv")
    assert any(float(t["costs"]) < 0 for t in trades)  # costs paid are negative
    assert not any(value.startswith("'") for t in trades for value in t.values())


def test_the_console_history_export_neutralises_too(hostile_journal, tmp_path):
    from gui.toolbox.history import write_history_csv

    # Arrange
    with SqliteJournal.open(hostile_journal, create=False) as journal:
        records = journal.basket_history()
    target = tmp_path / "history.csv"
    # Act
    count = write_history_csv(records, target)
    # Assert
    row = read_rows(target)[0]
    assert count == 1
    assert row["cluster"] == "'" + HOSTILE_CLUSTER and row["basket_id"] == "'" + BASKET
    assert row["pnl"] == "-75.99" and row["costs"] == "-7.0" and row["entry_tdi"] == "-1.4"
    assert list(tmp_path.glob("*.partial")) == []


def test_calendar_titles_round_trip_through_the_calendar_unchanged(tmp_path, capsys):
    # Arrange: the sample MT5 export with a title a spreadsheet would run
    sample = (TEST_DATA / "calendar" / "mt5_calendar_export_sample.csv").read_text()
    assert ",Building Approvals m/m," in sample
    source = tmp_path / "mt5_calendar_export.csv"
    source.write_text(sample.replace(",Building Approvals m/m,", f",{HOSTILE_DETAIL},"))
    db = tmp_path / "calendar.sqlite"
    # Act
    imported = main(["import", "calendar", str(source), "--calendar", str(db)])
    listed = main(["calendar", "list", "--from", "2019-12-02", "--to", "2019-12-02",
                   "--currency", "AUD", "--calendar", str(db)])
    # Assert
    out = capsys.readouterr().out
    assert imported == 0 and listed == 0
    assert f"AUD  HIGH     {HOSTILE_DETAIL}" in out
    from storage.calendar import Calendar

    with Calendar.open(db, create=False) as calendar:
        titles = [e.title for e in calendar.events_between(
            datetime(2019, 12, 2, tzinfo=UTC), datetime(2019, 12, 3, tzinfo=UTC))]
    assert HOSTILE_DETAIL in titles
