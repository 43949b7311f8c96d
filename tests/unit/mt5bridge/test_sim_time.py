"""Server time: the UTC offset across US DST switches, and the terminal's clock.

Most FX brokers run at GMT+2 in winter and GMT+3 during US daylight saving time, so that
server midnight is New York 17:00.  The simulator produces such times and the live adapter
undoes them; these tests pin both directions and the rollover at server midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows, walk_feed

HOUR = 3_600_000


def utc_ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(("when", "hours"), [
    ((2019, 3, 10, 6, 59), 2),   # last minute before the US spring switch (07:00 UTC)
    ((2019, 3, 10, 7, 0), 3),
    ((2019, 11, 3, 5, 59), 3),   # last minute before the autumn switch (06:00 UTC)
    ((2019, 11, 3, 6, 0), 2),
    ((2019, 7, 1, 12, 0), 3),
    ((2019, 1, 15, 12, 0), 2),
    ((2006, 4, 2, 6, 59), 2),    # the pre-2007 rule: first Sunday of April ...
    ((2006, 4, 2, 7, 0), 3),
    ((2006, 10, 29, 6, 0), 2),   # ... to the last Sunday of October
    ((2006, 3, 20, 12, 0), 2),
])
def test_default_offset_follows_us_dst(when, hours):
    tz = ServerTimeZone()

    assert tz.offset_ms(utc_ms(*when)) == hours * HOUR


def test_fixed_offset_never_changes():
    tz = ServerTimeZone.fixed(3)

    assert {tz.offset_ms(utc_ms(2019, m, 15)) for m in range(1, 13)} == {3 * HOUR}
    assert tz.label == "GMT+3"
    assert ServerTimeZone().label == "GMT+2/+3 (US DST)"


def test_conversions_round_trip_and_arrays_match_scalars():
    tz = ServerTimeZone()
    instants = np.arange(utc_ms(2019, 3, 9), utc_ms(2019, 3, 12), 37 * 60_000, dtype=np.int64)

    server = tz.to_server_ms_array(instants)
    back = tz.to_utc_ms_array(server)

    assert (back == instants).all()
    assert [tz.to_server_ms(int(t)) for t in instants] == server.tolist()
    assert [tz.to_utc_ms(int(s)) for s in server] == back.tolist()
    assert (tz.to_server_s_array(instants // 1000) == server // 1000).all()


def test_ambiguous_autumn_hour_maps_to_its_first_occurrence():
    tz = ServerTimeZone()
    first = utc_ms(2019, 11, 3, 5, 30)   # server 08:30 at +3
    second = utc_ms(2019, 11, 3, 6, 30)  # server 08:30 again at +2

    assert tz.to_server_ms(first) == tz.to_server_ms(second)
    assert tz.to_utc_ms(tz.to_server_ms(second)) == first


def test_server_midnight_is_22_utc_in_winter_and_21_utc_in_summer():
    tz = ServerTimeZone()

    assert tz.next_midnight_utc_ms(utc_ms(2019, 1, 15, 12)) == utc_ms(2019, 1, 15, 22)
    assert tz.next_midnight_utc_ms(utc_ms(2019, 7, 15, 12)) == utc_ms(2019, 7, 15, 21)
    assert tz.server_weekday(utc_ms(2019, 1, 18, 22, 30)) == c.DAY_OF_WEEK_SATURDAY


def test_terminal_times_switch_offset_across_the_dst_weekend():
    friday = utc_ms(2019, 3, 8, 12)
    monday = utc_ms(2019, 3, 11, 12)
    rows = [(friday, "EURUSD", 1.13, 1.13002), (monday, "EURUSD", 1.131, 1.13102)]
    term = SimTerminal(ArrayFeed(["EURUSD"], ticks_from_rows(["EURUSD"], rows)),
                       SimConfig(selected=("EURUSD",)))
    term.initialize()

    term.sim_advance_to(friday)
    friday_tick = term.symbol_info_tick("EURUSD")
    term.sim_advance_to(monday)
    monday_tick = term.symbol_info_tick("EURUSD")
    ticks = term.copy_ticks_range("EURUSD", 0, 2**31 - 1, c.COPY_TICKS_ALL)

    assert friday_tick.time_msc - friday == 2 * HOUR
    assert monday_tick.time_msc - monday == 3 * HOUR
    assert (ticks["time_msc"] - np.array([friday, monday]) == [2 * HOUR, 3 * HOUR]).all()
    assert (ticks["time"] == ticks["time_msc"] // 1000).all()


def test_summer_rollover_happens_at_21_utc():
    start = utc_ms(2019, 7, 16, 10)  # a Tuesday in July: server GMT+3
    term = SimTerminal(walk_feed(["EURUSD"], start, start + 12 * HOUR, step_ms=60_000),
                       SimConfig(selected=("EURUSD",)))
    term.initialize()
    term.sim_advance_to(start + 60_000)
    tick = term.symbol_info_tick("EURUSD")
    term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1.0,
                     "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 50})

    term.sim_advance_to(utc_ms(2019, 7, 16, 20, 59))
    before = term.positions_get()[0].swap
    term.sim_advance_to(utc_ms(2019, 7, 16, 21, 0))
    after = term.positions_get()[0].swap

    assert (before, after) == (0.0, -7.2)


def test_daily_bars_open_at_server_midnight():
    start = utc_ms(2019, 3, 4, 0)  # Monday 00:00 UTC = 02:00 server
    term = SimTerminal(walk_feed(["EURUSD"], start, start + 3 * 24 * HOUR, step_ms=30_000),
                       SimConfig(selected=("EURUSD",)))
    term.initialize()
    term.sim_advance_to(start + 3 * 24 * HOUR)

    daily = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_D1, 0, 10)
    hourly = term.copy_rates_range("EURUSD", c.TIMEFRAME_H1, 0, 2**31 - 1)

    assert (daily["time"] % 86_400 == 0).all()
    # The first D1 bar is Monday (server) even though UTC Monday started two hours earlier.
    assert datetime.fromtimestamp(int(daily["time"][0]), UTC).weekday() == 0
    assert hourly["time"][0] == start // 1000 + 2 * 3600
    first_day = hourly[hourly["time"] < daily["time"][1]]
    assert daily["high"][0] == first_day["high"].max()
    assert daily["tick_volume"][0] == first_day["tick_volume"].sum()


def test_fixed_gmt3_broker():
    start = utc_ms(2019, 1, 15, 10)
    term = SimTerminal(walk_feed(["EURUSD"], start, start + HOUR),
                       SimConfig(selected=("EURUSD",), server_tz=ServerTimeZone.fixed(3)))
    term.initialize()
    term.sim_advance_to(start + 60_000)

    assert term.symbol_info_tick("EURUSD").time_msc == start + 60_000 + 3 * HOUR
