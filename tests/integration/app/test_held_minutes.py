"""A backtest steps over the quiet minutes of its open baskets: the same run, row for row.

``engine.held_minutes`` looks at the minutes ahead while baskets are open and steps
straight to the first in which anything would act.  These tests run the same three weeks
of real M1 bars (``tests/data/histdata``) stepped minute by minute and batched, and
compare every journal table, ``trades.csv``'s figures with the excursions (MAE, MFE),
``legs.csv`` and the equity marks.  The settings make the minutes eventful: the news
filter flattens open baskets before releases four times a day, and a tight risk
configuration trips the daily-loss and drawdown rules.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.configs import PAIR_EUGB, short_window_config
from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, calendar_snapshot, run_backtest
from engine.config import load_engine_config

#: The slice's span: 2019-10-13 22:00 .. 2019-11-01 21:59 UTC (tests/data/histdata).
START, END = datetime(2019, 10, 13, 22, tzinfo=UTC), datetime(2019, 11, 2, tzinfo=UTC)

NEWS = """
[news]
pre_minutes = 15
post_minutes = 15
flatten_before = true
flatten_lead_minutes = 15
"""
#: Limits low enough to be reached in three weeks of these baskets.
TIGHT_RISK = """
[risk]
account_daily_loss = 0.001
max_drawdown = 0.002
cluster_daily_loss = 0.0008
"""
SETTINGS = {"news flatten": NEWS, "tight risk": NEWS + TIGHT_RISK}


def _calendar(folder: Path) -> Path:
    """High-impact USD and EUR releases at 03:10, 09:40, 14:20 and 19:50 UTC on every day
    of the slice (a made-up calendar: the 2019 slice covers its last week only, and a
    stale calendar would block the entries before it)."""
    lines = ["time_utc,currency,impact,title,actual,forecast,previous"]
    day = START.replace(hour=0)
    while day <= END + timedelta(days=2):
        for hour, minute, currency in ((3, 10, "USD"), (9, 40, "EUR"), (14, 20, "USD"),
                                       (19, 50, "EUR")):
            when = day.replace(hour=hour, minute=minute)
            lines.append(f"{when:%Y-%m-%dT%H:%M:%SZ},{currency},High,Release {when:%d %H%M},,,")
        day += timedelta(days=1)
    path = folder / "calendar.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Tables whose rows carry wall-clock or per-run identities rather than decisions.
_NOT_COMPARED = {"runs", "schema_version", "journal_owner", "journal_account", "sqlite_sequence"}
_EPOCH = re.compile(r"sim-[0-9a-f]{32}")


def _journal_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows in insertion order, the run's and account's random ids masked."""
    with sqlite3.connect(path) as db:
        run_ids = [r[0] for r in db.execute("SELECT run_id FROM runs")]
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

        def masked(value: object) -> object:
            if not isinstance(value, str):
                return value
            for run_id in run_ids:
                value = value.replace(run_id, "RUN")
            return _EPOCH.sub("EPOCH", value)

        return {table: [tuple(masked(v) for v in row)
                        for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
                for table in tables if table not in _NOT_COMPARED}


#: A pair cluster (its model estimates its provisional scores in one block) and no news:
#: the look-ahead asks the exact score only at the minutes the estimates leave open.
PAIR = PAIR_EUGB


def _run(tmp_path: Path, settings: str, name: str, *, every_minute: bool,
         config_text: str | None = None):
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_text or
                           short_window_config("USD_MAJORS", "GOLD_HAVENS") + settings)
    calendar = calendar_snapshot(_calendar(tmp_path), START, END) if config_text is None \
        else None
    spec = BacktestSpec(config=load_engine_config(config_path), source="files",
                        paths=(TEST_DATA / "histdata",), start=START, end=END,
                        calendar=calendar)
    steps = 0
    exact_scores = 0

    def count(session) -> None:
        real = session.engine.step

        def step(t_msc: int) -> None:
            nonlocal steps
            steps += 1
            real(t_msc)

        session.engine.step = step
        for sig in session.engine.signals.values():
            provisional = sig.model.provisional

            def asked(prices, provisional=provisional) -> float:
                nonlocal exact_scores
                exact_scores += 1
                return provisional(prices)

            sig.model.provisional = asked

    journal = tmp_path / name
    result = run_backtest(spec, journal_path=journal, on_session=count,
                          step_every_minute=every_minute)
    return steps, result, _journal_rows(journal), exact_scores


def _assert_the_same_run(batched, batched_rows, by_minute, by_minute_rows) -> None:
    """Every journal table row for row, and the backtest's trades, legs and equity."""
    assert batched_rows.keys() == by_minute_rows.keys()
    for table, rows in by_minute_rows.items():
        assert batched_rows[table] == rows, table
    for frame in ("trades", "legs", "equity"):
        mine, theirs = getattr(batched, frame), getattr(by_minute, frame)
        assert mine.equals(theirs), frame


@pytest.mark.slow
@pytest.mark.parametrize("settings", list(SETTINGS))
def test_stepping_over_held_minutes_changes_nothing(tmp_path, settings):
    # Arrange / Act: the same run minute by minute, then with the quiet minutes batched
    minute_steps, by_minute, by_minute_rows, _ = _run(tmp_path, SETTINGS[settings],
                                                      "minutes.sqlite", every_minute=True)
    batched_steps, batched, batched_rows, _ = _run(tmp_path, SETTINGS[settings],
                                                   "batched.sqlite", every_minute=False)

    # Assert: the run trades, its eventful exits happen, and everything is equal
    exits = set(by_minute.trades["exit_code"])
    assert len(by_minute.trades) >= 5
    assert "NEWS" in exits
    if settings == "tight risk":
        assert "RISK" in exits
        assert any("MAX_DRAWDOWN" in str(row) for row in by_minute_rows["cluster_states"])
    _assert_the_same_run(batched, batched_rows, by_minute, by_minute_rows)
    assert batched.trades[["mae", "mfe"]].abs().to_numpy().sum() > 0
    # far fewer steps: only the minutes in which something acts, and the bar closes
    assert batched_steps < minute_steps / 3


@pytest.mark.slow
def test_a_pair_stepped_over_its_quiet_minutes_changes_nothing(tmp_path):
    # Arrange / Act: a pair cluster without news, minute by minute and batched
    minute_steps, by_minute, by_minute_rows, minute_scores = _run(
        tmp_path, "", "minutes.sqlite", every_minute=True, config_text=PAIR)
    batched_steps, batched, batched_rows, batched_scores = _run(
        tmp_path, "", "batched.sqlite", every_minute=False, config_text=PAIR)

    # Assert: exits on the M1 closes' provisional scores happen, and everything is equal
    assert len(by_minute.trades) >= 5
    assert "MR" in set(by_minute.trades["exit_code"])
    _assert_the_same_run(batched, batched_rows, by_minute, by_minute_rows)
    assert batched_steps < minute_steps / 3
    # the exact provisional score was asked only where the block estimates left it open
    assert 0 < batched_scores < minute_scores / 5
