"""A backtest's report folder holds one run: its journal is moved in with its other files,
so a run again into the same folder replaces the journal as it replaces the CSV files
(the journal used to gather every run made into the folder while the CSV files told of
the last one)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main


def backtest(tmp_path: Path, report: Path, to: str) -> int:
    config = tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"))
    return main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--to", to, "--report", str(report)])


def journal_counts(journal: Path) -> tuple[int, int]:
    """(runs, baskets) in a journal, read-only."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        baskets = db.execute("SELECT COUNT(*) FROM baskets").fetchone()[0]
    return runs, baskets


def test_a_run_again_into_the_same_folder_replaces_its_journal(tmp_path, capsys):
    # Arrange: a first run into the folder
    report = tmp_path / "report"
    assert backtest(tmp_path, report, "2019-10-31") == 0

    # Act: a second, over a shorter period, into the same folder
    code = backtest(tmp_path, report, "2019-10-28")
    out = capsys.readouterr().out

    # Assert: the folder's journal is the second run's alone, as its trades.csv is
    # (the files listed before the journal is read: a reader of a WAL file adds its -shm)
    files = sorted(p.name for p in report.iterdir())
    trades = list(csv.DictReader((report / "trades.csv").open()))
    assert code == 0
    assert files == ["equity.csv", "journal.sqlite", "legs.csv", "metrics.json",
                     "report.html", "trades.csv"]
    assert journal_counts(report / "journal.sqlite") == (1, len(trades))
    assert f"{report / 'journal.sqlite'}" in out


def test_the_first_run_journals_its_baskets_into_the_folder(tmp_path):
    # Act
    report = tmp_path / "report"
    code = backtest(tmp_path, report, "2019-10-31")

    # Assert: the same baskets in the journal and in trades.csv, nothing left beside them
    trades = list(csv.DictReader((report / "trades.csv").open()))
    assert code == 0 and len(trades) > 0
    assert journal_counts(report / "journal.sqlite") == (1, len(trades))
    assert not list(tmp_path.glob(".report*"))
