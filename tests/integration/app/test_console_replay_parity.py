"""A replay in the console and a backtest of the same data and config open the same baskets.

The console replay runs as the window runs it (``app.console.open_console``: the session,
its pacer and ``EngineWorker`` on its own thread, at max speed), headless."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from app.backtest.run import run_backtest
from app.backtest.spec import BacktestSpec
from app.console import open_console
from engine.config import load_engine_config
from engine.errors import UserError
from engine.loop import EngineWorker
from storage.journal import SqliteJournal

HISTDATA = sorted((TEST_DATA / "histdata").glob("DAT_ASCII_*_M1_2019.csv.gz"))


def _small_config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"))
    return load_engine_config(path)


def _store(tmp_path) -> Path:
    """The same slices imported into a market-data store (``main.py import``)."""
    from storage.importers import import_file
    from storage.marketdata import MarketDataStore

    root = tmp_path / "store"
    store = MarketDataStore(root)
    for f in HISTDATA:
        import_file(f, store)
    return root


def _console_baskets(tmp_path, config, store: Path | None, start=None,
                     end=None) -> tuple[list[tuple], int, int | None]:
    run = open_console(config, replay=None if store else HISTDATA, store=store,
                       speed=math.inf, journal=tmp_path / "console.sqlite", start=start,
                       end=end)
    engine = run.session.engine
    worker = EngineWorker(engine, run.pacer, until_msc=run.end_msc, start_engine=True)
    worker.start()
    worker.join(timeout=600)
    assert not worker.is_alive() and worker.error is None
    engine.stop("end of replay")
    end = engine.now_msc
    run.session.close()
    reader = SqliteJournal.open_reader(tmp_path / "console.sqlite")
    try:
        rows = [(b.basket_id, b.opening.opened_at, b.opening.direction.value,
                 b.closing.exit_code.value) for b in reader.basket_history()]
    finally:
        reader.close()
    return rows, end, run.end_msc


@pytest.mark.parametrize("source", ["files", "store"])
def test_console_replay_opens_the_baskets_the_backtest_opens(tmp_path, source):
    # Arrange
    config = _small_config(tmp_path)
    store = _store(tmp_path) if source == "store" else None
    spec = BacktestSpec(config=config, source=source, paths=() if store else tuple(HISTDATA),
                        store=store)
    result = run_backtest(spec)
    expected = [(r.basket_id, r.entry_time, r.direction, r.exit_code)
                for r in result.trades.itertuples()]

    # Act
    console, stopped_at, end = _console_baskets(tmp_path, config, store)

    # Assert
    assert len(expected) > 3
    assert console == expected
    assert end is not None and stopped_at <= end  # the replay stops at the end of its data


def test_a_console_replay_of_a_period_is_the_backtest_of_that_period(tmp_path):
    # Arrange: the last week of the slices
    config = _small_config(tmp_path)
    start, end = datetime(2019, 10, 28, tzinfo=UTC), datetime(2019, 11, 2, tzinfo=UTC)
    result = run_backtest(BacktestSpec(config=config, source="files", paths=tuple(HISTDATA),
                                       start=start, end=end))
    expected = [(r.basket_id, r.entry_time, r.direction, r.exit_code)
                for r in result.trades.itertuples() if isinstance(r.exit_code, str)
                and r.exit_code]

    # Act
    console, _stopped_at, end_msc = _console_baskets(tmp_path, config, None, start, end)

    # Assert: the same baskets, none before the period; the replay ends where it does
    assert expected and console == expected
    assert all(opened >= start for _, opened, _, _ in console)
    assert end_msc is not None and end_msc <= int(end.timestamp() * 1000)


def test_a_console_period_outside_the_data_is_refused(tmp_path):
    # Arrange / Act / Assert: not the whole market instead, but the period's error
    with pytest.raises(UserError):
        open_console(_small_config(tmp_path), replay=HISTDATA, speed=math.inf,
                     journal=tmp_path / "console.sqlite",
                     start=datetime(2021, 1, 4, tzinfo=UTC), end=datetime(2021, 2, 1, tzinfo=UTC))
