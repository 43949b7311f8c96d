"""A replayed file's prices are quoted at the broker's digits: HistData writes gold with
three decimals (1488.128) where the simulated broker quotes XAUUSD with two, as it does
index CFDs.  Every tick, every M1 rate and every fill is then a price the symbol can
have, so a report's legs (prices at the symbol's digits) reproduce their profit."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import numpy as np
from helpers.paths import TEST_DATA

from app.replay_feed import ReplayFeed
from mt5bridge import constants as c
from mt5bridge.sim import SimConfig, SimTerminal

GOLD = TEST_DATA / "histdata" / "DAT_ASCII_XAUUSD_M1_2019.csv.gz"
EURO = TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"


def on_grid(prices: np.ndarray, digits: int) -> bool:
    return bool(np.all(np.abs(np.round(prices, digits) - prices) < 1e-9))


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def test_the_file_has_more_decimals_than_the_broker_quotes():
    closes = [float(line.split(b";")[4]) for line in gzip.decompress(GOLD.read_bytes())
              .splitlines()[:500]]
    assert not on_grid(np.array(closes), 2)


def test_gold_ticks_rates_and_fills_are_at_two_decimals():
    # Arrange: gold and the euro replayed from 21 October, the days before as warm-up
    feed = ReplayFeed.from_files([GOLD, EURO], start_msc=utc_ms(2019, 10, 21))
    term = SimTerminal(feed, SimConfig(selected=("XAUUSD", "EURUSD")))
    assert term.initialize()
    warm = term.copy_rates_from_pos("XAUUSD", c.TIMEFRAME_M1, 0, 1000)

    # Act: a day of ticks, a buy and a sell of gold
    term.sim_advance_to(utc_ms(2019, 10, 22))
    ticks = term.sim_last_ticks()
    rates = term.copy_rates_from_pos("XAUUSD", c.TIMEFRAME_M1, 0, 1000)
    fills = []
    for side in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
        tick = term.symbol_info_tick("XAUUSD")
        sent = term.order_send({
            "action": c.TRADE_ACTION_DEAL, "symbol": "XAUUSD", "volume": 0.1, "type": side,
            "price": tick.ask if side == c.ORDER_TYPE_BUY else tick.bid, "deviation": 20,
            "magic": 710001, "type_filling": c.ORDER_FILLING_IOC})
        assert sent.retcode == c.TRADE_RETCODE_DONE
        fills.append(sent.price)

    # Assert: gold at two decimals everywhere; the euro's five as they were
    gold = ticks[ticks["symbol"] == 0]
    euro = ticks[ticks["symbol"] == 1]
    assert len(gold) and len(euro)
    assert on_grid(gold["bid"], 2) and on_grid(gold["ask"], 2)
    for bars in (warm, rates):
        for field in ("open", "high", "low", "close"):
            assert on_grid(bars[field], 2)
    assert on_grid(np.array(fills), 2)
    assert on_grid(euro["bid"], 5) and not on_grid(euro["bid"], 4)
