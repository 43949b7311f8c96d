"""Per-symbol sessions: NYSE hours in New York time across the DST change, its holidays, the
CME-style index hours and ICE Brent hours; checked against the real daily file's dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from helpers.paths import SHARED_DATA, TEST_DATA

from engine.ticks import TICK_DTYPE
from mt5bridge.sim.symbol_sessions import (
    CME_INDEX,
    ICE_BRENT,
    NYSE,
    SessionFilter,
    nyse_holidays,
)


def at(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


@pytest.mark.parametrize(("when", "open_"), [
    # Friday 2021-03-12, New York on EST (UTC-5): 09:30 = 14:30 UTC, 16:00 = 21:00 UTC
    ((2021, 3, 12, 14, 29), False), ((2021, 3, 12, 14, 30), True),
    ((2021, 3, 12, 20, 59), True), ((2021, 3, 12, 21, 0), False),
    # Monday 2021-03-15, after the change to EDT (UTC-4): 09:30 = 13:30 UTC, 16:00 = 20:00 UTC
    ((2021, 3, 15, 13, 29), False), ((2021, 3, 15, 13, 30), True),
    ((2021, 3, 15, 19, 59), True), ((2021, 3, 15, 20, 0), False),
    # weekend, Good Friday 2021, Independence Day observed on Monday 2021-07-05,
    # Juneteenth observed on Monday 2022-06-20
    ((2021, 3, 13, 15, 0), False), ((2021, 4, 2, 15, 0), False),
    ((2021, 7, 5, 15, 0), False), ((2022, 6, 20, 15, 0), False),
    ((2021, 6, 18, 15, 0), True),  # Juneteenth was not yet an NYSE holiday in 2021
])
def test_nyse_regular_session_in_new_york_time(when, open_):
    assert NYSE.is_open(at(*when)) is open_


def test_nyse_holidays_of_a_year():
    assert sorted(nyse_holidays(2022)) == [
        date(2022, 1, 17), date(2022, 2, 21), date(2022, 4, 15), date(2022, 5, 30),
        date(2022, 6, 20), date(2022, 7, 4), date(2022, 9, 5), date(2022, 11, 24),
        date(2022, 12, 26),
    ]  # 2022-01-01 was a Saturday: not taken on Friday 2021-12-31


def test_the_nyse_calendar_gives_the_trading_days_of_the_daily_file():
    path = TEST_DATA / "equity_daily" / "sp500_index_2019-10_2022.csv.gz"
    days = pd.read_csv(path)["Date"].tolist()

    ours = NYSE.trading_days(date(2019, 10, 1), date(2022, 12, 28))

    assert [d.isoformat() for d in ours] == days


@pytest.mark.skipif(not (SHARED_DATA / "equity_daily").exists(), reason="no shared/data")
def test_the_nyse_calendar_misses_only_one_off_closures_since_1999():
    path = SHARED_DATA / "equity_daily" / "sp500_index_1990_2022.csv.gz"
    days = set(pd.read_csv(path)["Date"])

    ours = {d.isoformat() for d in NYSE.trading_days(date(1999, 1, 1), date(2022, 12, 28))}

    assert sorted(ours - days) == [
        "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14",  # the attacks
        "2004-06-11", "2007-01-02",  # national days of mourning
        "2012-10-29", "2012-10-30",  # hurricane Sandy
        "2018-12-05",  # national day of mourning
    ]
    assert not days - ours - {d for d in days if d < "1999"}


@pytest.mark.parametrize(("when", "open_"), [
    ((2019, 10, 13, 22, 59), False), ((2019, 10, 13, 23, 0), True),  # Sunday open
    ((2019, 10, 14, 21, 59), True), ((2019, 10, 14, 22, 0), False),  # daily break
    ((2019, 10, 14, 23, 0), True), ((2019, 10, 18, 22, 0), False),   # Friday close
    ((2019, 12, 25, 15, 0), False),
])
def test_index_cfds_trade_cme_style_hours_in_utc(when, open_):
    assert CME_INDEX.is_open(at(*when)) is open_


@pytest.mark.parametrize(("when", "open_"), [
    ((2019, 1, 14, 0, 59), False), ((2019, 1, 14, 1, 0), True),   # GMT: 01:00 London
    ((2019, 1, 14, 22, 59), True), ((2019, 1, 14, 23, 0), False),
    ((2019, 7, 15, 0, 0), True), ((2019, 7, 15, 21, 59), True),   # BST: 01:00 = 00:00 UTC
    ((2019, 7, 15, 22, 0), False),
])
def test_brent_trades_ice_hours_in_london_time(when, open_):
    assert ICE_BRENT.is_open(at(*when)) is open_


def test_the_vector_check_agrees_with_the_single_one_across_a_year_end():
    times = np.arange(at(2020, 12, 30), at(2021, 1, 5), 15 * 60_000, dtype=np.int64)

    mask = NYSE.open_mask(times)

    assert mask.tolist() == [NYSE.is_open(int(t)) for t in times]
    assert not mask[(times >= at(2021, 1, 1)) & (times < at(2021, 1, 2))].any()


def _tick_by_tick(sessions: dict, digits: dict, ticks: np.ndarray) -> np.ndarray:
    """The filter's meaning spelled out tick by tick: each session symbol's ticks kept
    where ``is_open``, its prices rounded to its digits; other symbols untouched."""
    out = ticks.copy()
    for row in out:
        index = int(row["symbol"])
        if index in digits:
            row["bid"], row["ask"] = (np.round(row[side], digits[index])
                                      for side in ("bid", "ask"))
    keep = [int(row["symbol"]) not in sessions or sessions[int(row["symbol"])].is_open(
        int(row["time_msc"])) for row in ticks]
    return out[np.array(keep, dtype=bool)]


@pytest.mark.parametrize(("sessions", "digits", "n_symbols"), [
    ({0: CME_INDEX, 1: CME_INDEX}, {0: 2, 1: 2}, 2),   # every symbol a CFD, one digits
    ({1: ICE_BRENT, 2: NYSE}, {1: 2, 2: 2}, 3),        # an FX symbol (0) beside two CFDs
    ({0: CME_INDEX, 1: NYSE}, {0: 2, 1: 1}, 2),        # two digits
])
def test_the_batch_filter_keeps_and_rounds_what_each_tick_would(sessions, digits, n_symbols):
    # Arrange: batches inside a session, inside a closed gap and across opens and closes
    # (a minute, half an hour, a day, three days of ticks; the year end included)
    rng = np.random.default_rng(7)
    in_session = SessionFilter(sessions, digits, n_symbols=n_symbols)
    batches = []
    for _ in range(400):
        n = int(rng.integers(1, 120))
        start = at(2019, 3, 1) + int(rng.integers(0, 305 * 86_400_000))
        span = int(rng.choice([60_000, 1_800_000, 86_400_000, 3 * 86_400_000]))
        ticks = np.zeros(n, dtype=TICK_DTYPE)
        ticks["time_msc"] = np.sort(start + rng.integers(0, span, n))
        ticks["symbol"] = rng.integers(0, n_symbols, n)
        ticks["bid"] = rng.uniform(1_000.0, 3_000.0, n)
        ticks["ask"] = ticks["bid"] + rng.uniform(0.0, 1.0, n)
        batches.append(ticks)

    # Act
    kept = [in_session(ticks.copy()) for ticks in batches]

    # Assert
    for ticks, got in zip(batches, kept, strict=True):
        expected = _tick_by_tick(sessions, digits, ticks)
        assert got.tolist() == expected.tolist()
    assert 0 < sum(map(len, kept)) < sum(map(len, batches))  # some kept, some dropped
