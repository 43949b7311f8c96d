"""``copy_rates_*`` and ``copy_ticks_*`` of the simulated terminal.

Bars are M1 bars built from the consumed ticks (plus the feed's warm-up history) and
aggregated to other timeframes by server-time clock bucket; ticks come from a bounded
window.  Nothing the feed has not delivered yet is ever visible.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from engine.ticks import BAR_DTYPE
from mt5bridge import constants as c
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows, walk_feed

MON = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)  # Monday 08:00 UTC
SERVER_OFFSET_S = 2 * 3600  # GMT+2 in early March


def build(feed: ArrayFeed, **config) -> SimTerminal:
    config.setdefault("selected", tuple(feed.symbols))
    term = SimTerminal(feed, SimConfig(**config))
    assert term.initialize()
    return term


def test_m1_bar_is_built_from_the_ticks_of_its_minute():
    rows = [(MON + 1_000, "EURUSD", 1.13000, 1.13002), (MON + 20_000, "EURUSD", 1.13050, 1.13055),
            (MON + 40_000, "EURUSD", 1.12980, 1.12982), (MON + 59_999, "EURUSD", 1.13020, 1.13022),
            (MON + 61_000, "EURUSD", 1.13030, 1.13032)]
    term = build(ArrayFeed(["EURUSD"], ticks_from_rows(["EURUSD"], rows)))
    term.sim_advance_to(MON + 61_000)

    bars = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 5)

    assert len(bars) == 2
    first = bars[0]
    assert first["time"] == MON // 1000 + SERVER_OFFSET_S
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        1.13, 1.1305, 1.1298, 1.1302)
    # spread: the mean of 2, 5, 2 and 2 points, rounded
    assert (first["tick_volume"], first["spread"], first["real_volume"]) == (4, 3, 0)
    assert bars[1]["close"] == 1.1303  # the forming bar of the current minute


def test_forming_bar_updates_until_its_minute_ends():
    rows = [(MON + 1_000, "EURUSD", 1.13000, 1.13002), (MON + 30_000, "EURUSD", 1.13100, 1.13102)]
    term = build(ArrayFeed(["EURUSD"], ticks_from_rows(["EURUSD"], rows)))

    term.sim_advance_to(MON + 10_000)
    early = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 1)
    term.sim_advance_to(MON + 50_000)
    later = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 1)
    term.sim_advance_to(MON + 120_000)
    closed = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 1)

    assert (early["close"][0], early["tick_volume"][0]) == (1.13, 1)
    assert (later["close"][0], later["high"][0], later["tick_volume"][0]) == (1.131, 1.131, 2)
    assert closed["time"][0] == later["time"][0]


def test_nothing_beyond_the_clock_is_visible():
    feed = walk_feed(["EURUSD"], MON, MON + 3_600_000)
    term = build(feed)

    term.sim_advance_to(MON + 600_000)
    bars = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1)
    ticks = term.copy_ticks_range("EURUSD", 0, 2**31 - 1, c.COPY_TICKS_ALL)

    last_server_ms = MON + 600_000 + SERVER_OFFSET_S * 1000
    assert ticks["time_msc"].max() <= last_server_ms
    assert bars["time"].max() * 1000 <= last_server_ms


def _manual(m1: np.ndarray, seconds: int) -> np.ndarray:
    labels = m1["time"] // seconds * seconds
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(m1)]
    return np.array([(labels[a], m1["open"][a], m1["high"][a:b].max(), m1["low"][a:b].min(),
                      m1["close"][b - 1], m1["tick_volume"][a:b].sum())
                     for a, b in zip(starts, ends, strict=True)])


@pytest.mark.parametrize(("timeframe", "seconds"), [
    (c.TIMEFRAME_M5, 300), (c.TIMEFRAME_M15, 900), (c.TIMEFRAME_M30, 1800),
    (c.TIMEFRAME_H1, 3600), (c.TIMEFRAME_H4, 14_400), (c.TIMEFRAME_D1, 86_400),
])
def test_higher_timeframes_aggregate_m1_by_server_clock_bucket(timeframe, seconds):
    term = build(walk_feed(["EURUSD"], MON, MON + 30 * 3_600_000, step_ms=20_000))
    term.sim_advance_to(MON + 30 * 3_600_000)
    m1 = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1)

    bars = term.copy_rates_range("EURUSD", timeframe, 0, 2**31 - 1)

    expected = _manual(m1, seconds)
    got = np.column_stack([bars[k].astype(float) for k in
                           ("time", "open", "high", "low", "close", "tick_volume")])
    assert np.array_equal(got, expected)


def test_copy_rates_from_counts_back_from_the_bar_holding_the_date():
    term = build(walk_feed(["EURUSD"], MON, MON + 5 * 3_600_000, step_ms=15_000))
    term.sim_advance_to(MON + 5 * 3_600_000)
    date = MON // 1000 + SERVER_OFFSET_S + 2 * 3600 + 17 * 60  # server 12:17

    bars = term.copy_rates_from("EURUSD", c.TIMEFRAME_M30, date, 3)

    assert bars["time"].tolist() == [date - 17 * 60 - 3600, date - 17 * 60 - 1800,
                                     date - 17 * 60]


def test_copy_rates_range_is_inclusive_and_from_pos_counts_from_the_newest():
    term = build(walk_feed(["EURUSD"], MON, MON + 2 * 3_600_000))
    term.sim_advance_to(MON + 2 * 3_600_000)
    first = MON // 1000 + SERVER_OFFSET_S

    ranged = term.copy_rates_range("EURUSD", c.TIMEFRAME_M5, first, first + 600)
    newest = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 3)
    older = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M5, 2, 3)

    assert ranged["time"].tolist() == [first, first + 300, first + 600]
    assert older["time"].tolist() == (newest["time"] - 600).tolist()


def test_warmup_bars_are_served_and_seed_the_quote():
    start = int(datetime(2019, 4, 1, 0, tzinfo=UTC).timestamp() * 1000)  # Monday
    times = np.arange(start // 1000 - 45 * 86_400, start // 1000, 60)
    warm = np.zeros(len(times), dtype=BAR_DTYPE)
    warm["time"] = times
    warm["open"] = warm["high"] = warm["low"] = warm["close"] = 1.125
    warm["high"] += 0.0002
    warm["tick_volume"] = 3
    warm["spread"] = 0.00002
    feed = ArrayFeed(["EURUSD"], ticks_from_rows(["EURUSD"], [(start + 1000, "EURUSD",
                                                              1.13, 1.13002)]),
                     warmup_bars={"EURUSD": warm}, start_msc=start)
    term = build(feed)

    tick = term.symbol_info_tick("EURUSD")
    m1 = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10)
    weekly = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_W1, 0, 5)
    monthly = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_MN1, 0, 3)

    assert (tick.bid, tick.ask) == (1.125, pytest.approx(1.12502))
    assert m1["time"][-1] == times[-1] + 3 * 3600  # 2019-03-31 is already in US DST: +3
    assert all(datetime.fromtimestamp(int(t), UTC).weekday() == 6 for t in weekly["time"])
    # Server time is GMT+3 by then: the last warm-up hours (UTC March 31) are April's.
    assert [datetime.fromtimestamp(int(t), UTC).strftime("%m-%d") for t in monthly["time"]] == [
        "02-01", "03-01", "04-01"]
    assert monthly["tick_volume"].sum() == 3 * len(times)


def test_ticks_leave_the_window_but_their_bars_stay_complete():
    feed = walk_feed(["EURUSD", "GBPUSD"], MON, MON + 3_600_000, step_ms=1_000)
    term = build(feed, tick_history_max_ticks=1_000)

    for minute in range(1, 61):
        term.sim_advance_to(MON + minute * 60_000)
    ticks = term.copy_ticks_range("EURUSD", 0, 2**31 - 1, c.COPY_TICKS_ALL)
    bars = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1)

    assert len(ticks) < 1_000
    assert ticks["time_msc"][-1] == MON + 3_600_000 + SERVER_OFFSET_S * 1000
    assert bars["tick_volume"].sum() == 3_601
    assert len(bars) == 61


def test_copy_ticks_from_and_flags():
    term = build(walk_feed(["EURUSD", "GBPUSD"], MON, MON + 600_000))
    term.sim_advance_to(MON + 600_000)
    start = MON // 1000 + SERVER_OFFSET_S + 60

    ticks = term.copy_ticks_from("EURUSD", start, 5, c.COPY_TICKS_ALL)
    info = term.copy_ticks_from("EURUSD", start, 5, c.COPY_TICKS_INFO)
    trade = term.copy_ticks_from("EURUSD", start, 5, c.COPY_TICKS_TRADE)

    assert ticks["time_msc"].tolist() == [(start + k) * 1000 for k in range(5)]
    assert np.array_equal(ticks, info)
    assert len(trade) == 0
    assert (ticks["flags"] == c.TICK_FLAG_BID | c.TICK_FLAG_ASK).all()
    assert (ticks["last"] == 0).all() and (ticks["volume"] == 0).all()


@pytest.mark.parametrize(("call", "args"), [
    ("copy_rates_from_pos", ("EURUSD", 17, 0, 5)),
    ("copy_rates_from_pos", ("EURUSD", c.TIMEFRAME_M1, 0, 0)),
    ("copy_rates_from_pos", ("EURUSD", c.TIMEFRAME_M1, -1, 5)),
    ("copy_ticks_from", ("EURUSD", 0, 5, 3)),
])
def test_bad_parameters_give_invalid_params(call, args):
    term = build(walk_feed(["EURUSD"], MON, MON + 600_000))
    term.sim_advance_to(MON + 600_000)

    assert getattr(term, call)(*args) is None
    assert term.last_error() == (-2, "Terminal: Invalid params")


def test_bad_symbol_or_date_give_invalid_arguments_and_unknown_symbol_not_found():
    term = build(walk_feed(["EURUSD"], MON, MON + 600_000))

    assert term.copy_rates_from("EURUSD", c.TIMEFRAME_M1, "yesterday", 5) is None
    assert term.last_error() == (-2, "Invalid arguments")
    assert term.copy_rates_from_pos(12, c.TIMEFRAME_M1, 0, 5) is None
    assert term.last_error() == (-2, "Invalid arguments")
    assert term.copy_rates_from_pos("EURSEK", c.TIMEFRAME_M1, 0, 5) is None
    assert term.last_error() == (-4, "Terminal: Not found")


def test_bar_history_is_bounded_by_max_bars():
    term = build(walk_feed(["EURUSD"], MON, MON + 6 * 3_600_000, step_ms=30_000), max_bars=100)

    for hour in range(1, 7):
        term.sim_advance_to(MON + hour * 3_600_000)
    bars = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 1_000)

    assert 100 <= len(bars) <= 165  # max_bars, plus at most a quarter, plus the forming bar
    assert np.all(np.diff(bars["time"]) == 60)


def test_a_feed_starting_mid_minute_after_its_warmup_keeps_one_bar_per_minute():
    minute = MON // 1000
    warm = np.zeros(3, dtype=BAR_DTYPE)
    warm["time"] = [minute - 120, minute - 60, minute]  # the last bar is the start minute
    warm["open"] = warm["high"] = warm["low"] = warm["close"] = 1.13
    rows = [(MON + 30_000, "EURUSD", 1.1305, 1.13052), (MON + 90_000, "EURUSD", 1.131, 1.13102)]
    feed = ArrayFeed(["EURUSD"], ticks_from_rows(["EURUSD"], rows), warmup_bars={"EURUSD": warm},
                     start_msc=MON + 30_000)
    term = build(feed)

    term.sim_advance_to(MON + 180_000)
    bars = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1)

    assert np.all(np.diff(bars["time"]) > 0)
    assert bars["time"].tolist() == [minute - 120 + SERVER_OFFSET_S + 60 * k for k in range(4)]
