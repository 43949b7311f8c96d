"""The backtest agrees with a hand check on real data.

Three baskets of a backtest on real 2019 M1 bars are recomputed from the HistData files
themselves (read here with plain pandas, not with the product's readers): each leg's fill
is the quote at the fill minute in "1 minute OHLC" mode (bid = that minute's open, ask = bid
+ the symbol's spread: its typical spread in the fixed model; in the profile model the
shipped EURUSD profile's figure at the minute's UTC weekday and hour, read from the CSV
here, times typical(symbol) / typical(EURUSD), in whole points), its P&L is the price
move times volume and contract size converted to USD at the closing quote (a gain at the
side that gives the account less), plus the commission of both sides and the swap of the
nights held.  The sum must equal the basket's P&L in the journal to the cent, in both
spread models.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, timedelta

import numpy as np
import pandas as pd
import pytest
from helpers.paths import REPO_ROOT, TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from engine.config import load_engine_config
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.symbols import SYMBOL_SPECS

COMMISSION_PER_LOT_SIDE = 3.5
SMALL = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
"""


def cents(amount: float) -> float:
    """Money is booked per deal in whole cents, halves away from zero (MT5's convention)."""
    return math.copysign(math.floor(abs(amount) * 100 + 0.5 + 1e-9), amount) / 100


def m1(symbol: str) -> pd.DataFrame:
    """HistData M1 bars, EST without DST -> UTC, first of duplicated stamps kept."""
    path = TEST_DATA / "histdata" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
    raw = pd.read_csv(path, sep=";", header=None,
                      names=["stamp", "open", "high", "low", "close", "volume"])
    stamps = pd.to_datetime(raw["stamp"], format="%Y%m%d %H%M%S") + timedelta(hours=5)
    raw.index = stamps.dt.tz_localize("UTC")
    return raw[~raw.index.duplicated(keep="first")].sort_index()


def spread_points(symbol: str, when: pd.Timestamp, model: str) -> float:
    """The spread in the symbol's points of the bar opening at ``when``."""
    spec = SYMBOL_SPECS[symbol]
    if model == "fixed":
        return spec.typical_spread_points
    profile = pd.read_csv(REPO_ROOT / "storage" / "spread_profile_data" / "EURUSD.csv")
    row = profile[(profile["weekday"] == f"{when:%a}") & (profile["hour_utc"] == when.hour)]
    factor = spec.typical_spread_points / SYMBOL_SPECS["EURUSD"].typical_spread_points
    # quoted in whole points (halves to even, as numpy's rint)
    return float(np.rint(float(row["spread_points"].iloc[0]) * factor))


def quote(bars: pd.DataFrame, symbol: str, when: pd.Timestamp,
          model: str = "fixed") -> tuple[float, float]:
    """(bid, ask) at ``when`` in 1-minute-OHLC mode."""
    spec = SYMBOL_SPECS[symbol]
    if when in bars.index:
        bid = float(bars.loc[when, "open"])
    else:
        when = bars.loc[:when - timedelta(minutes=1)].index[-1]
        bid = float(bars.loc[when, "close"])
    return bid, round(bid + spread_points(symbol, when, model) * spec.point, 10)


def rollovers(opened: pd.Timestamp, closed: pd.Timestamp) -> list[pd.Timestamp]:
    """Server midnights (GMT+2/+3 with US DST) crossed while a position was open."""
    tz = ServerTimeZone()
    out = []
    t = int(opened.timestamp() * 1000)
    while True:
        t = tz.next_midnight_utc_ms(t)
        if t > int(closed.timestamp() * 1000):
            return out
        out.append(pd.Timestamp(t, unit="ms", tz="UTC"))


@pytest.fixture(scope="module", params=["fixed", "profile"])
def backtest(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handcheck")
    (tmp / "small.toml").write_text(SMALL)
    spec = BacktestSpec(config=load_engine_config(tmp / "small.toml"), source="files",
                        paths=(TEST_DATA / "histdata",), spread_model=request.param)
    result = run_backtest(spec, journal_path=tmp / "journal.sqlite")
    return result, tmp / "journal.sqlite", request.param


def test_three_baskets_recomputed_by_hand_agree_to_the_cent(backtest):
    result, journal, model = backtest
    closed = result.trades.dropna(subset=["pnl"])
    assert len(closed) >= 3
    bars = {s: m1(s) for s in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")}
    with sqlite3.connect(journal) as db:
        # the three baskets: the first, the most profitable and the biggest loser
        picks = {closed.iloc[0]["basket_id"], closed.loc[closed["pnl"].idxmax(), "basket_id"],
                 closed.loc[closed["pnl"].idxmin(), "basket_id"]}
        for basket_id in picks:
            deals = pd.read_sql_query(
                "select symbol, type, entry, volume, price, time, position_id from deals "
                "where basket_id = ? order by time", db, params=(basket_id,))
            by_hand = 0.0
            for _pos, legs in deals.groupby("position_id"):
                leg_in = legs[legs["entry"] == 0].iloc[0]
                leg_out = legs[legs["entry"] == 1].iloc[0]
                symbol, volume = leg_in["symbol"], float(leg_in["volume"])
                buy = int(leg_in["type"]) == 0
                t_in = pd.Timestamp(leg_in["time"]).tz_convert(UTC).floor("min")
                t_out = pd.Timestamp(leg_out["time"]).tz_convert(UTC).floor("min")
                bid_in, ask_in = quote(bars[symbol], symbol, t_in, model)
                bid_out, ask_out = quote(bars[symbol], symbol, t_out, model)
                open_px, close_px = (ask_in, bid_out) if buy else (bid_in, ask_out)
                # the journal's fills are the hand-computed quotes
                assert float(leg_in["price"]) == pytest.approx(open_px, abs=1e-9)
                assert float(leg_out["price"]) == pytest.approx(close_px, abs=1e-9)
                spec = SYMBOL_SPECS[symbol]
                move = (close_px - open_px) if buy else (open_px - close_px)
                profit = move * volume * spec.contract_size
                if spec.quote == "CHF":  # CHF -> USD at USDCHF: a gain at 1/ask, a loss at 1/bid
                    usd_bid, usd_ask = quote(bars["USDCHF"], "USDCHF", t_out, model)
                    profit /= usd_ask if profit > 0 else usd_bid
                swap = 0.0
                for midnight in rollovers(t_in, t_out):
                    day = (midnight - timedelta(hours=12)).tz_convert("Etc/GMT-2").weekday()
                    nights = 3 if (day + 1) % 7 == spec.swap_rollover3days else 1
                    points = spec.swap_long if buy else spec.swap_short
                    amount = points * spec.point * spec.contract_size * volume * nights
                    if spec.quote == "CHF":
                        b, a = quote(bars["USDCHF"], "USDCHF", midnight, model)
                        amount /= a if amount > 0 else b
                    swap += cents(amount)
                commission = 2 * cents(-COMMISSION_PER_LOT_SIDE * volume)  # in and out
                by_hand += cents(profit) + swap + commission
            journaled = float(closed.loc[closed["basket_id"] == basket_id, "pnl"].iloc[0])
            assert journaled == pytest.approx(by_hand, abs=0.011), basket_id
