"""Spread-profile files: written whole and formula-safe, read back exactly, bad rows named
as file:line; the shipped EURUSD profile and its provenance."""

from __future__ import annotations

import fnmatch
import tomllib

import numpy as np
import pytest
from helpers.paths import REPO_ROOT

from engine.errors import DataError
from engine.spread_profile import SpreadProfile
from storage.spread_profiles import (
    PROFILE_COLUMNS,
    read_spread_profiles,
    shipped_spread_profile,
    write_spread_profiles,
)

SHIPPED = REPO_ROOT / "storage" / "spread_profile_data" / "EURUSD.csv"


def a_profile(symbol: str = "EURUSD", point: float = 1e-5) -> SpreadProfile:
    points = np.arange(168, dtype=float).reshape(7, 24) / 4
    ticks = np.arange(168).reshape(7, 24)
    fill = np.full((7, 24), "measured", dtype=object)
    fill[2:] = "hour"
    return SpreadProfile(symbol, point, points, ticks, fill, "test")


def test_a_written_profile_reads_back_exactly(tmp_path):
    # Arrange
    path = tmp_path / "profiles.csv"
    profiles = [a_profile(), a_profile("USDJPY", 1e-3)]

    # Act
    rows = write_spread_profiles(path, profiles)
    back = read_spread_profiles(path)

    # Assert
    assert rows == 336
    assert path.read_text().splitlines()[0] == ",".join(PROFILE_COLUMNS)
    assert back["EURUSD"].same_as(profiles[0]) and back["USDJPY"].same_as(profiles[1])
    assert back["EURUSD"].source == "profile file profiles.csv"


def lines_of(tmp_path, body: list[str]) -> str:
    path = tmp_path / "bad.csv"
    good = tmp_path / "good.csv"
    write_spread_profiles(good, [a_profile()])
    lines = good.read_text().splitlines()
    path.write_text("\n".join([lines[0], *body, *lines[len(body) + 1:]]) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("EURUSD,1e-05,Mon,0,abc,1,measured", "bad.csv:2: spread_points 'abc' is not a number"),
        ("EURUSD,1e-05,Mon,0,-1,1,measured", "bad.csv:2: spread_points must be >= 0"),
        ("EURUSD,1e-05,Mon,0,nan,1,measured", "bad.csv:2: spread_points must be finite"),
        ("EURUSD,1e-05,Mon,0,1e9,1,measured",
         "bad.csv:2: spread_points 1e9 is above 100,000, more than any FX or CFD spread"),
        ("EURUSD,1e-05,Monday,0,3,1,measured", "bad.csv:2: weekday 'Monday'"),
        ("EURUSD,1e-05,Mon,24,3,1,measured", "bad.csv:2: hour_utc must be a whole number"),
        ("EURUSD,0,Mon,0,3,1,measured", "bad.csv:2: point must be > 0"),
        ("EURUSD,1e-05,Mon,0,3,1,guessed", "bad.csv:2: fill 'guessed'"),
        ("EURUSD,1e-05,Mon,0,3,1", "bad.csv:2: 6 fields, the header has 7"),
        ("=cmd|x,1e-05,Mon,0,3,1,measured", "bad.csv:2: symbol '=cmd|x' is not a symbol"),
        ("EURUSD,1e-05,Mon,1,3,1,measured", "bad.csv:3: EURUSD Mon 1:00 appears twice"),
    ],
)
def test_a_bad_row_is_named_by_file_and_line(tmp_path, row, message):
    # Arrange: the first data row replaced
    path = lines_of(tmp_path, [row])

    # Act / Assert
    with pytest.raises(DataError, match=message.replace("|", r"\|")):
        read_spread_profiles(path)


def test_a_missing_weekday_hour_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    write_spread_profiles(path, [a_profile()])
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")

    with pytest.raises(DataError, match="EURUSD has no row for Sun 23:00 UTC"):
        read_spread_profiles(path)


def test_a_file_that_is_not_a_profile_is_refused(tmp_path):
    path = tmp_path / "ticks.csv"
    path.write_text("time_utc,bid,ask\n2019-02-04 00:00:00,1.1,1.2\n")

    with pytest.raises(DataError, match=r"ticks.csv:1: not a spread profile: no column 'symbol'"):
        read_spread_profiles(path)


def test_the_shipped_eurusd_profile_has_the_dukascopy_figures():
    # Act
    profile = shipped_spread_profile()

    # Assert: the figures measured on 2019-02-04/05 (README of spread_profile_data)
    assert profile.symbol == "EURUSD" and profile.point == 1e-5
    assert profile.ticks.sum() == 266_219
    assert profile.points[0, 22] == 13.0 and profile.points[1, 22] == 8.0  # Mon, Tue
    assert profile.points[2:, 22].tolist() == [12.0] * 5  # the pooled 22:00 median
    assert profile.points[2:, 23].tolist() == [6.0] * 5
    assert (profile.fill[:2] == "measured").all() and (profile.fill[2:] == "hour").all()
    assert profile.median_points == 3.0
    assert set(np.unique(profile.points[2:, 6:21])) == {3.0}  # 06:00-20:59, every other day


def test_the_shipped_profile_is_package_data():
    # Arrange
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["storage"]

    # Act
    relative = SHIPPED.relative_to(REPO_ROOT / "storage").as_posix()

    # Assert
    assert any(fnmatch.fnmatch(relative, p) for p in patterns)
    assert any(fnmatch.fnmatch("spread_profile_data/README.md", p) for p in patterns)
