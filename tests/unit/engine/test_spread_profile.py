"""The spread profile: median spread by UTC weekday and hour, its fills, its look-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.spread_profile import MIN_CELL_TICKS, SpreadProfile, SpreadTally, cell_index

POINT = 1e-5
#: Monday 2019-02-04 00:00 UTC, in milliseconds.
MONDAY_MS = int(pd.Timestamp("2019-02-04", tz="UTC").value // 10**6)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def tally_of(times_ms: list[int], spreads_points: list[float]) -> SpreadTally:
    bid = np.full(len(times_ms), 1.1)
    tally = SpreadTally()
    tally.add(np.array(times_ms), bid, bid + np.array(spreads_points) * POINT, POINT)
    return tally


def test_cells_are_utc_weekday_and_hour_monday_first():
    # Arrange: a Monday 00:00, a Tuesday 22:30 and a Sunday 23:59:59 UTC
    times = pd.to_datetime(["2019-02-04 00:00", "2019-02-05 22:30", "2019-02-10 23:59:59"],
                           format="ISO8601",
                           utc=True)

    # Act
    cells = cell_index(times.as_unit("s").asi8)

    # Assert
    assert cells.tolist() == [0, 24 + 22, 6 * 24 + 23]


def test_a_cell_is_the_median_of_its_ticks_and_an_even_count_averages_the_middle_two():
    # Arrange: Monday 10:00 holds 1, 2, 3 and 10 points (median 2.5) and 8 more at 3
    spreads = [1, 2, 3, 10] + [3] * 8  # sorted: 1 2 3 3 3 3 3 3 3 3 3 10 -> median 3
    times = [MONDAY_MS + 10 * HOUR_MS + i for i in range(len(spreads))]
    even = [MONDAY_MS + 11 * HOUR_MS + i for i in range(MIN_CELL_TICKS)]
    even_spreads = [1.0] * (MIN_CELL_TICKS // 2) + [2.0] * (MIN_CELL_TICKS // 2)

    # Act
    profile = tally_of(times + even, spreads + even_spreads).profile("EURUSD", POINT)

    # Assert
    assert profile.points[0, 10] == 3.0 and profile.ticks[0, 10] == 12
    assert profile.points[0, 11] == 1.5  # the mean of the two middle ticks, 1 and 2
    assert profile.fill[0, 10] == "measured"


def test_cells_without_ticks_take_the_hours_median_then_the_overall_median():
    # Arrange: Monday 22:00 at 12 points, Tuesday 22:00 at 8, Monday 09:00 at 3 (10 each)
    n = MIN_CELL_TICKS
    times = ([MONDAY_MS + 22 * HOUR_MS + i for i in range(n)]
             + [MONDAY_MS + DAY_MS + 22 * HOUR_MS + i for i in range(n)]
             + [MONDAY_MS + 9 * HOUR_MS + i for i in range(n)])
    spreads = [12.0] * n + [8.0] * n + [3.0] * n

    # Act
    profile = tally_of(times, spreads).profile("EURUSD", POINT)

    # Assert: measured where there are ticks, each weekday's 22:00 the pooled 22:00 median,
    # the hours no weekday has the median of all ticks (3, 8, 12 x 10 each -> 8)
    assert (profile.points[0, 22], profile.points[1, 22], profile.points[0, 9]) == (12, 8, 3)
    assert profile.points[2:, 22].tolist() == [10.0] * 5
    assert set(profile.fill[2:, 22]) == {"hour"}
    assert profile.points[3, 9] == 3.0 and profile.fill[3, 9] == "hour"
    assert profile.points[4, 15] == 8.0 and profile.fill[4, 15] == "all"
    assert profile.ticks.sum() == 3 * n


def test_a_cell_with_too_few_ticks_is_filled_not_measured():
    # Arrange: Wednesday 05:00 has one tick at 50 points; Monday 05:00 has ten at 4
    n = MIN_CELL_TICKS
    times = [MONDAY_MS + 5 * HOUR_MS + i for i in range(n)] + [MONDAY_MS + 2 * DAY_MS + 5 * HOUR_MS]

    # Act
    profile = tally_of(times, [4.0] * n + [50.0]).profile("EURUSD", POINT)

    # Assert: the lone tick does not make Wednesday's figure on its own (pooled: 4)
    assert profile.fill[2, 5] == "hour" and profile.points[2, 5] == 4.0
    assert profile.ticks[2, 5] == 0


def test_ticks_added_in_blocks_give_the_profile_of_all_of_them_at_once():
    # Arrange: 5,000 random ticks over a week, spreads of whole and half points
    rng = np.random.default_rng(7)
    times = np.sort(rng.integers(MONDAY_MS, MONDAY_MS + 7 * DAY_MS, 5_000))
    spreads = rng.integers(0, 40, 5_000) / 2.0
    bid = np.full(5_000, 1.1)
    ask = bid + spreads * POINT
    whole = SpreadTally()
    whole.add(times, bid, ask, POINT)
    blocks = SpreadTally()

    # Act
    for start in range(0, 5_000, 777):
        blocks.add(times[start:start + 777], bid[start:start + 777], ask[start:start + 777], POINT)

    # Assert: the same profile, and it equals pandas' median per weekday and hour
    a, b = whole.profile("EURUSD", POINT), blocks.profile("EURUSD", POINT)
    assert a.same_as(b)
    stamps = pd.to_datetime(times, unit="ms", utc=True)
    expected = pd.Series(spreads).groupby([stamps.day_of_week, stamps.hour]).median()
    got = pd.Series({(d, h): a.points[d, h] for d, h in expected.index})
    assert np.allclose(got.to_numpy(), expected.to_numpy())


def test_ticks_without_both_sides_or_with_a_crossed_quote_are_left_out():
    # Arrange
    times = np.array([MONDAY_MS + i for i in range(13)])
    bid = np.array([1.1] * 10 + [np.nan, 1.1, 1.1])
    ask = np.array([1.10003] * 10 + [1.1, np.nan, 1.0999])
    tally = SpreadTally()

    # Act
    tally.add(times, bid, ask, POINT)

    # Assert
    assert (tally.ticks, tally.left_out) == (10, 3)
    assert tally.profile("EURUSD", POINT).points[0, 0] == 3.0


def test_nothing_to_estimate_from_is_refused():
    with pytest.raises(ValueError, match="no ticks"):
        SpreadTally().profile("EURUSD", POINT)


def test_a_profile_looks_bar_times_up_and_scales_to_another_symbol():
    # Arrange: 3 points all week, 12 at 22:00 UTC
    points = np.full((7, 24), 3.0)
    points[:, 22] = 12.0
    profile = SpreadProfile("EURUSD", POINT, points)
    times = pd.to_datetime(["2019-10-14 21:59", "2019-10-14 22:00", "2019-10-20 22:30"],
                           utc=True).as_unit("s").asi8

    # Act
    spreads = profile.spread_at(times)
    gbp = profile.scaled("GBPUSD", POINT, 2.5, "x 5/2")

    # Assert
    assert np.allclose(spreads, [3e-5, 12e-5, 12e-5])
    assert gbp.points[0, 22] == 30.0 and gbp.median_points == 7.5
    assert set(gbp.fill.ravel()) == {"scaled"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": np.full((7, 23), 3.0)}, "7 x 24"),
        ({"points": np.full((7, 24), -1.0)}, ">= 0"),
        ({"points": np.full((7, 24), np.nan)}, "finite"),
        ({"point": 0.0}, "point"),
        ({"fill": np.full((7, 24), "guess")}, "unknown fill"),
    ],
)
def test_a_profile_refuses_figures_it_cannot_use(kwargs, message):
    args = {"symbol": "EURUSD", "point": POINT, "points": np.full((7, 24), 3.0), **kwargs}
    with pytest.raises(ValueError, match=message):
        SpreadProfile(**args)


def test_a_profiles_arrays_are_read_only():
    profile = SpreadProfile("EURUSD", POINT, np.full((7, 24), 3.0))
    with pytest.raises(ValueError):
        profile.points[0, 0] = 1.0
