"""The console's bid bars per symbol: tapped from the engine's ticks, equal to the
terminal's own M1 rates; server-clock aggregation; day figures; the history cap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from app.symbol_bars import DayStats, SymbolBars, aggregate, attach
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge import constants as c

MINUTE_MS = 60_000


def test_the_tapped_bars_equal_the_terminals_own_m1_rates(tmp_path):
    # Arrange: a demo session whose engine plays three hours with the store tapped in
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite", history_days=3)
    store = attach(session)
    engine = session.engine
    engine.start()
    start = engine.now_msc
    # Act
    for minute in range(1, 181):
        engine.step(start + minute * MINUTE_MS)
    # Assert: every symbol's last 240 minutes, the forming one included, as the terminal has them
    terminal = session.terminal
    for symbol in SYMBOLS:
        rates = terminal.copy_rates_from_pos(symbol, c.TIMEFRAME_M1, 0, 240)
        expected = terminal.rates_to_bars(symbol, rates)
        got = store.m1(symbol)[-len(expected):]
        assert got["time"].tolist() == expected["time"].tolist(), symbol
        for name in ("open", "high", "low", "close", "tick_volume"):
            assert np.array_equal(got[name], expected[name]), (symbol, name)
        assert got["time"][-1] * 1000 > start  # the played minutes are in it
    session.close()


def test_the_tap_only_keeps_ticks_and_folds_them_when_read(tmp_path):
    # Arrange: the same session, read now and then while it plays (as the console does)
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite", history_days=3)
    store = attach(session)
    engine = session.engine
    engine.start()
    start = engine.now_msc
    # Act: an hour stepped with nobody reading, then reads between steps
    for minute in range(1, 61):
        engine.step(start + minute * MINUTE_MS)
    folds_unread = store.folds
    versions = [store.version(s) for s in SYMBOLS]
    for minute in range(61, 121):
        engine.step(start + minute * MINUTE_MS)
        if minute % 7 == 0:
            store.day_stats(SYMBOLS[minute % len(SYMBOLS)])
    # Assert: no fold on the engine's thread for an hour of demo ticks (far below
    # FOLD_TICKS), one per read; the bars are still the terminal's, minute for minute
    assert folds_unread == 0
    assert all(store.version(s) > v for s, v in zip(SYMBOLS, versions, strict=True))
    terminal = session.terminal
    for symbol in SYMBOLS:
        rates = terminal.copy_rates_from_pos(symbol, c.TIMEFRAME_M1, 0, 180)
        expected = terminal.rates_to_bars(symbol, rates)
        got = store.m1(symbol)[-len(expected):]
        assert got["time"].tolist() == expected["time"].tolist(), symbol
        for name in ("open", "high", "low", "close", "tick_volume"):
            assert np.array_equal(got[name], expected[name]), (symbol, name)
    session.close()


def test_ticks_nobody_reads_are_folded_by_the_engines_thread_past_the_cap():
    # Arrange: two symbols, one tick each per step, a cap of 50 ticks
    store = SymbolBars(("EURUSD", "USDJPY"))
    store.fold_ticks = 50
    ticks = np.zeros(2, dtype=TICK_DTYPE)
    ticks["symbol"] = [0, 1]
    ticks["bid"], ticks["ask"] = [1.1, 150.0], [1.1001, 150.01]
    # Act: 30 steps of a minute (60 ticks)
    for minute in range(30):
        ticks["time_msc"] = minute * MINUTE_MS + 1_000
        store.on_ticks(ticks, (minute + 1) * MINUTE_MS)
    # Assert: one fold at the 25th step (50 ticks), the rest still kept
    assert store.folds == 1
    assert len(store.m1("EURUSD")) == 30 and store.folds == 2


def bars(times_s: list[int], closes: list[float]) -> np.ndarray:
    out = np.zeros(len(times_s), dtype=BAR_DTYPE)
    out["time"] = times_s
    out["open"] = out["high"] = out["low"] = out["close"] = closes
    out["tick_volume"] = 1
    return out


def test_aggregation_refuses_an_unknown_timeframe():
    with pytest.raises(ValueError, match="unknown timeframe 'W1'"):
        aggregate(bars([0], [1.0]), "W1")


def test_day_figures_are_the_server_day_against_the_previous_close():
    # Arrange: UTC server clock (no time zone), Monday 23:58 .. Tuesday 00:02
    monday = 1_704_672_000  # 2024-01-08 00:00 UTC
    store = SymbolBars(("EURUSD",))
    times = [monday + 86_400 - 120 + 60 * k for k in range(5)]
    store.seed("EURUSD", bars(times, [1.10, 1.11, 1.12, 1.09, 1.13]))
    # Act
    day = store.day_stats("EURUSD")
    # Assert
    assert day == DayStats(monday + 86_400, 1.12, 1.13, 1.09, 1.11)
    assert day.change_pct(1.1211) == pytest.approx(1.0)
    assert math.isnan(DayStats(0, 1, 1, 1, math.nan).change_pct(1.0))


def test_history_is_capped_and_a_minute_caught_forming_is_merged():
    store = SymbolBars(("EURUSD",), max_bars=100)
    store.seed("EURUSD", bars(list(range(0, 60 * 300, 60)), [1.0] * 300))
    later = bars([60 * 299, 60 * 300], [1.5, 1.2])

    store.seed("EURUSD", later)

    m1 = store.m1("EURUSD")
    assert 100 <= len(m1) <= 125 + 2
    assert m1["time"][-1] == 60 * 300 and m1["high"][-2] == 1.5 and m1["open"][-2] == 1.0
