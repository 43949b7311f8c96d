"""A synthetic merger-arbitrage deal as a wide daily-close file the backtest reads.

Invented prices under two of the simulated broker's stock tickers (``TARGET``, ``ACQUIRER``:
their stock-CFD terms, sessions and swaps apply), on the real NYSE trading days of the
KO/PEP test slice (so every close falls in a session).  Deterministic: a seeded generator.

- before the announcement the target wanders near ``UNDISTURBED`` (the break price's
  basis) and the acquirer near 60;
- on the announcement day the target jumps to ``(1 - SPREAD0)`` of the offer
  (``RATIO`` acquirer shares) and drifts to it, the spread shrinking linearly to the
  expected close with a little noise;
- ``end = "complete"``: from the completion day the target trades at the offer exactly;
  ``end = "break"``: from the break day the target sits at the break price and both stay
  flat (the gap a break is, and nothing else moving).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.paths import TEST_DATA

TARGET, ACQUIRER = "PFE", "MRK"
RATIO = 0.5
UNDISTURBED = 24.0
BREAK_PRICE = 24.0
SPREAD0 = 0.08
SLICE = TEST_DATA / "equity_daily" / "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"


def trading_days(first: str = "2020-06-01", count: int = 160) -> list[pd.Timestamp]:
    """``count`` NYSE trading days from ``first`` (the KO/PEP slice's dates)."""
    dates = pd.read_csv(SLICE, usecols=["Date"])["Date"]
    days = pd.to_datetime(dates[dates >= first]).tolist()
    return days[:count]


def deal_closes(days: list[pd.Timestamp], *, announce: int, close: int, end: str,
                end_day: int, seed: int = 7) -> pd.DataFrame:
    """The two closes per day (see the module note); ``announce``, ``close`` and
    ``end_day`` are indices into ``days`` (the expected close, the completion / break)."""
    rng = np.random.default_rng(seed)
    n = len(days)
    acquirer = 60.0 * np.exp(np.cumsum(rng.normal(0.0, 0.006, n)))
    target = UNDISTURBED * np.exp(np.cumsum(rng.normal(0.0, 0.008, n)) * 0.5)
    for i in range(announce, n):
        offer = RATIO * acquirer[i]
        left = max(close - i, 0) / (close - announce)
        spread = SPREAD0 * left + rng.normal(0.0, 0.002) * left
        target[i] = offer * (1.0 - spread)
    if end == "complete":
        target[end_day:] = RATIO * acquirer[end_day:]
    elif end == "break":
        target[end_day:] = BREAK_PRICE
        acquirer[end_day:] = acquirer[end_day]
    else:
        raise ValueError(f"end is 'complete' or 'break', got {end!r}")
    index = pd.Index([d.strftime("%Y-%m-%d") for d in days], name="Date")
    return pd.DataFrame({TARGET: np.round(target, 3), ACQUIRER: np.round(acquirer, 3)},
                        index=index)


def write_deal_file(path: Path, closes: pd.DataFrame) -> Path:
    """``closes`` as a gzipped wide daily file (``Date,PFE,MRK``), as the product reads."""
    text = closes.to_csv(float_format="%.3f")
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def deal_toml(days: list[pd.Timestamp], *, announce: int, close: int, event: str = "",
              event_day: int = 0, extra: str = "") -> str:
    """The ``[[cluster]]`` of this deal (stock terms), its event dated when given."""
    day = lambda i: days[i].strftime("%Y-%m-%d")  # noqa: E731
    when = f'{event} = {day(event_day)}\n' if event else ""
    return f"""
[[cluster]]
name = "SYN_DEAL"
kind = "deal"
symbols = ["{TARGET}", "{ACQUIRER}"]
magic = 740001
timeframe = "D1"
{extra}
[cluster.deal]
terms = "stock"
ratio = {RATIO}
break_price = {BREAK_PRICE}
announced = {day(announce)}
expected_close = {day(close)}
{when}
[risk]
max_lots_per_leg = 5000
"""
