"""The floor (``bench/floor_tdi.py``) is the backtest's strategy: on the same files it finds
the same baskets as the product's backtest, opened and closed at the same minutes with the
same exit codes, and the same P&L to the cent.  This is what makes "the product takes N
times the floor" a statement about the product's machinery and not about two strategies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from bench.floor_market import read_m1
from bench.floor_tdi import differences, engine_rows, floor_rows, run_floor
from engine.config import EngineConfig, load_engine_config
from storage.histdata import read_histdata_m1


def _short_config(tmp_path: Path) -> EngineConfig:
    path = tmp_path / "short.toml"
    path.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"))
    return load_engine_config(path)


@pytest.mark.slow
def test_the_floor_trades_as_the_backtest_on_three_weeks_of_real_bars(tmp_path):
    # Arrange: three weeks of the 2019 M1 files of 7 symbols (tests/data/histdata), short
    # TDI windows so that they warm up in days, two clusters
    config = _short_config(tmp_path)
    data = TEST_DATA / "histdata"

    # Act
    product = run_backtest(BacktestSpec(config=config, source="files", paths=(data,)))
    floor = run_floor(data, config=config)

    # Assert: the same baskets, minute for minute, code for code, cent for cent
    engine, mine = engine_rows(product.trades), floor_rows(floor.trades)
    assert differences(engine, mine) == []
    assert len(engine) >= 10
    assert {row[4] for row in engine} >= {"MR", "TP"}
    assert {row[0] for row in engine} == {"USD_MAJORS", "GOLD_HAVENS"}


@pytest.mark.parametrize("symbol", ["EURUSD", "XAUUSD"])
def test_the_floor_reads_the_bars_the_product_reads(symbol):
    # Arrange: a slice with a duplicated hour (tests/data/histdata/README.md)
    path = TEST_DATA / "histdata" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"

    # Act
    mine = read_m1(path)
    theirs = read_histdata_m1(path).to_bar_array()

    # Assert: the same bars, duplicates dropped alike
    assert len(mine) == len(theirs) == {"EURUSD": 21_582, "XAUUSD": 20_659}[symbol]
    for column in ("time", "open", "high", "low", "close"):
        assert (mine[column] == theirs[column]).all(), column


def test_differences_name_each_trade_that_differs():
    # Arrange: two lists that differ in one exit code and, by two cents, in one P&L
    a = [("C", "LONG", 0, 60_000, "MR", 10.00), ("C", "SHORT", 120_000, 180_000, "TP", 5.00)]
    b = [("C", "LONG", 0, 60_000, "OS", 10.00), ("C", "SHORT", 120_000, 180_000, "TP", 5.02)]

    # Act
    found = differences(a, b)

    # Assert
    assert len(found) == 2
    assert found[0].startswith("trade 1:") and "OS" in found[0]
    assert differences(a, a) == []


@pytest.mark.slow
@pytest.mark.shared
def test_the_floor_trades_as_the_backtest_on_the_quiet_span(shared_data):
    # Arrange: the span bench/README.md records (6 May to 1 June 2019, every fitting
    # cluster of the default configuration, the calendar off as in a default backtest)
    data = shared_data / "fx_m1"
    start, end = datetime(2019, 5, 6, tzinfo=UTC), datetime(2019, 6, 1, tzinfo=UTC)
    config = load_engine_config()

    # Act
    product = run_backtest(BacktestSpec(config=config, source="files", paths=(data,),
                                        start=start, end=end))
    floor = run_floor(data, start, end, config)

    # Assert
    assert differences(engine_rows(product.trades), floor_rows(floor.trades)) == []
    assert len(floor.trades) >= 10
