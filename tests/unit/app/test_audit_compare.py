"""The truncation comparison: silent on a backward-looking signal, and it finds a leak."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.paths import TEST_DATA

from app.audit.compare import first_basket_difference, first_series_difference, same
from storage.histdata import read_histdata_m1

CUT = pd.Timestamp("2019-10-28", tz="UTC")


@pytest.fixture(scope="module")
def closes() -> pd.Series:
    """EURUSD M30 closes of three real weeks (tests/data/histdata)."""
    bars = read_histdata_m1(TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz",
                            "EURUSD").to_bar_array()
    m1 = pd.Series(bars["close"], index=pd.to_datetime(bars["time"], unit="s", utc=True))
    return m1.resample("30min").last().dropna()


def trailing(prices: pd.Series) -> pd.Series:
    """A backward-looking signal: the z-score against the last 24 bars."""
    mean = prices.rolling(24).mean()
    return (prices - mean) / prices.rolling(24).std()


def centred(prices: pd.Series) -> pd.Series:
    """A leaky signal: the same z-score against a window centred on the bar (bars i-12 ..
    i+11: it reads 11 bars ahead)."""
    mean = prices.rolling(24, center=True).mean()
    return (prices - mean) / prices.rolling(24, center=True).std()


def runs(signal, closes: pd.Series, later: pd.Timestamp) -> tuple[dict, dict]:
    """The signal computed on the data up to the cut, and on the data up to ``later``."""
    return ({"EURUSD": signal(closes[closes.index < CUT])},
            {"EURUSD": signal(closes[closes.index < later])})


def test_a_backward_looking_signal_shows_no_difference(closes):
    short, long = runs(trailing, closes, CUT + pd.Timedelta(days=4))

    difference, compared = first_series_difference(short, long, CUT)

    assert difference is None
    assert compared == len(closes[closes.index < CUT])


def test_a_leaky_signal_is_found_at_its_first_differing_bar(closes):
    short, long = runs(centred, closes, CUT + pd.Timedelta(days=4))

    difference, _ = first_series_difference(short, long, CUT)

    assert difference is not None and difference.kind == "signal"
    assert difference.name == "EURUSD"
    # the centred window reads 11 bars ahead: the cut run lacks them from 11 bars before D
    # (NaN there, a value in the longer run)
    assert difference.time == closes[closes.index < CUT].index[-11]
    assert "nan in the run cut at D" in difference.detail


def test_a_value_missing_from_one_run_is_a_difference(closes):
    long = trailing(closes)
    short = long[long.index < CUT].drop(long.index[100])

    difference, _ = first_series_difference({"X": short}, {"X": long}, CUT)

    assert difference is not None and difference.time == long.index[100]
    assert difference.detail == "no value in the run cut at D"


def basket(pnl: float, closed: str = "2019-10-25T10:00:00+00:00") -> dict:
    return {"cluster": "C", "legs": (("EURUSD", "BUY", 0.1, 1000.0),), "closed_at": closed,
            "exit_code": "MR", "pnl": pnl, "entry_tdi": float("nan"),
            "deals": ((1, "EURUSD", 0, 0, 0.1, 1.1, -0.35, 0.0, 0.0, 0.0, "t"),)}


def test_identical_baskets_and_baskets_closed_after_the_cut_pass():
    short = {"A": basket(12.5)}
    long = {"A": basket(12.5), "B": basket(-3.0, "2019-10-29T10:00:00+00:00")}

    assert first_basket_difference(short, long, CUT) == (None, 1)


def test_a_changed_fill_or_a_missing_basket_is_reported_first_by_close_time():
    changed = basket(12.5)
    changed["deals"] = ((1, "EURUSD", 0, 0, 0.1, 1.10001, -0.35, 0.0, 0.0, 0.0, "t"),)
    short = {"A": basket(12.5), "B": basket(1.0, "2019-10-26T10:00:00+00:00")}
    long = {"A": changed}

    difference, compared = first_basket_difference(short, long, CUT)

    assert compared == 2
    assert difference is not None and difference.name == "A"
    assert difference.detail.startswith("deals:")
    del long["A"]
    assert first_basket_difference(short, long, CUT)[0].detail == "missing in the longer run"


def test_same_is_exact_and_nan_equal():
    assert same(float("nan"), float("nan"))
    assert same((1.0, ("a", float("nan"))), (1.0, ("a", float("nan"))))
    assert not same(0.1 + 0.2, 0.3)
    assert not same(np.float64(1.0), 1.0 + 1e-15)
