"""A traded period [start, end) printed as the days it covers, both inclusive."""

from __future__ import annotations

import pytest

from engine.formatting import traded_days


@pytest.mark.parametrize(("start", "end", "text"), [
    # an exclusive end at midnight: the day before is the last traded day
    ("2019-02-01T00:00:00+00:00", "2019-05-01T00:00:00+00:00", "2019-02-01 .. 2019-04-30 UTC"),
    # an end inside a day (the data's last minute): that day is traded
    ("2019-10-14T00:00:00+00:00", "2019-11-01T21:59:00+00:00", "2019-10-14 .. 2019-11-01 UTC"),
    ("2019-10-14T00:00:00+00:00", "2019-10-14T00:00:00.001000+00:00",
     "2019-10-14 .. 2019-10-14 UTC"),
])
def test_the_last_traded_day_is_the_one_before_an_exclusive_midnight(start, end, text):
    assert traded_days(start, end) == text
