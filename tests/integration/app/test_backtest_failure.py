"""A backtest that fails midway still writes its report files, marked incomplete with the
reason, and exits 1 (the promise of ``app.backtest.run``)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main

SMALL = short_window_config("USD_MAJORS")


@pytest.fixture
def damaged_store(tmp_path, capsys) -> Path:
    """The real M1 slices (2019-10-13 .. 2019-11-01) in a store whose November partition of
    EURUSD is damaged: October trades, and the run fails when it reaches November."""
    store = tmp_path / "store"
    files = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz")
             for s in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")]
    assert main(["import", "bars", *files, "--store", str(store)]) == 0
    capsys.readouterr()
    partition = store / "bars_m1" / "EURUSD" / "2019-11.parquet"
    data = bytearray(partition.read_bytes())
    middle = len(data) // 3
    data[middle:2 * middle] = b"\x5a" * middle
    partition.write_bytes(bytes(data))
    return store


def test_a_backtest_failing_midway_writes_its_report_marked_incomplete(
        tmp_path, damaged_store, capsys):
    # Arrange
    config = tmp_path / "small.toml"
    config.write_text(SMALL)
    report = tmp_path / "report"
    # Act
    code = main(["backtest", "--store", str(damaged_store), "--config", str(config),
                 "--report", str(report)])
    # Assert
    out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: the backtest failed midway: ")
    assert "2019-11.parquet" in err and "marked incomplete" in err
    assert {"metrics.json", "trades.csv", "equity.csv", "report.html"} <= {
        p.name for p in report.iterdir()}
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["complete"] is False
    reason = next(n for n in metrics["notes"] if n.startswith("failed at 2019-"))
    assert "EURUSD/2019-11.parquet" in reason
    equity = list(csv.DictReader((report / "equity.csv").open(newline="")))
    assert equity[0]["date"] < equity[-1]["date"] < "2019-11-01"  # the days before the failure
    html = (report / "report.html").read_text()
    assert "INCOMPLETE" in html and "2019-11.parquet" in html
    assert "INCOMPLETE: failed at 2019-" in out
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()  # a data error


def test_an_unexpected_error_inside_the_run_is_kept_with_the_days_before_it():
    # Arrange: a failure at the third UTC midnight, from inside the engine's loop
    from datetime import UTC, datetime

    from app.backtest import BacktestSpec, run_backtest
    from engine.config import load_engine_config

    config = load_engine_config(None).with_clusters(["USD_MAJORS"])
    spec = BacktestSpec(config=config, source="synthetic", seed=1,
                        start=datetime(2024, 1, 8, tzinfo=UTC),
                        end=datetime(2024, 1, 19, tzinfo=UTC))
    midnights: list[float] = []

    def progress(fraction: float) -> None:
        midnights.append(fraction)
        if len(midnights) == 3:
            raise ZeroDivisionError("division by zero")

    # Act
    result = run_backtest(spec, progress=progress)
    # Assert
    assert isinstance(result.failure, ZeroDivisionError)
    assert result.complete is False
    assert any(n.startswith("failed at 2024-01-1") and "ZeroDivisionError: division by zero"
               in n for n in result.notes)
    assert 2 <= len(result.equity) <= 4


def test_the_command_records_an_unexpected_failure_in_the_crash_log(tmp_path, capsys):
    from app.cli.backtest import say_failure

    say_failure(RuntimeError("a bug"), tmp_path / "report")

    err = capsys.readouterr().err
    log = Path(os.environ["FXCLUSTER_HOME"]) / "crash.log"
    assert err.count("\n") == 1
    assert "failed midway: RuntimeError: a bug (details in " in err
    assert "RuntimeError: a bug" in log.read_text()


def test_the_incomplete_line_gives_the_reason_and_the_other_notes_stay_notes(
        tmp_path, damaged_store, capsys):
    # Arrange: a second cluster the store cannot feed (no XAUUSD, USDJPY): a note of the data
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"))
    report = tmp_path / "report"

    # Act
    code = main(["backtest", "--store", str(damaged_store), "--config", str(config),
                 "--report", str(report)])

    # Assert: the cluster's gap is a note on stderr, not a reason the run is incomplete
    out, err = capsys.readouterr()
    [incomplete] = [line for line in out.splitlines() if line.startswith("INCOMPLETE")]
    assert code == 1
    assert incomplete.startswith("INCOMPLETE: failed at 2019-") and "no data" not in incomplete
    assert "note: GOLD_HAVENS: no data for" in err
