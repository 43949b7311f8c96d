"""The row versions a backtest's look-ahead uses give the per-minute functions' numbers.

``engine.held_minutes`` evaluates the minutes ahead in blocks: ``Basket.unrealised_rows``,
``CurrencyConverter.value_rows``, ``ClusterSignal.provisional_rows``,
``engine.ticks.quote_rows`` and ``MarketState.minute_closes``.  Each must give, bit for bit,
what its per-minute counterpart gives at that minute, or a decision near a threshold could
differ between the batched and the minute-by-minute run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from engine.baskets import Basket, Leg
from engine.fx import CurrencyConverter
from engine.market import MarketState
from engine.model import Direction
from engine.ticks import TICK_DTYPE, quote_rows

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "XAUUSD", "EURGBP")
BASE = np.array([1.13, 1.32, 111.8, 0.99, 1290.0, 0.856])


def _quotes(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bids = BASE * np.exp(np.cumsum(rng.normal(0, 3e-4, (rows, len(BASE))), axis=0))
    return bids, bids * (1 + rng.uniform(1e-5, 3e-4, bids.shape))


def test_unrealised_rows_equal_unrealised_at_every_row():
    # Arrange: a basket over every quote-currency route (USD, JPY, CHF, GBP), legs both ways
    fx = CurrencyConverter(SYMBOLS, "USD")
    index = {s: i for i, s in enumerate(SYMBOLS)}
    legs = [Leg("EURUSD", 1.3, 100_000, open_price=1.1301), Leg("USDJPY", -0.7, 100_000,
            open_price=111.75), Leg("USDCHF", 0.4, 100_000, open_price=0.9905),
            Leg("XAUUSD", -0.2, 100, open_price=1291.2), Leg("EURGBP", 2.1, 100_000,
            open_price=0.8555), Leg("GBPUSD", 1.0, 100_000, open_price=1.3, closed=True)]
    basket = Basket("B-1", "C", Direction.LONG, datetime(2019, 3, 4, tzinfo=UTC), 2.0, 300.0,
                    300.0, 0, legs)
    bids, asks = _quotes(200, 1)

    # Act
    rows = basket.unrealised_rows(index, bids, asks, fx)

    # Assert: the same float, bit for bit
    one_by_one = [basket.unrealised(index, b, a, fx) for b, a in zip(bids, asks, strict=True)]
    assert rows.tolist() == one_by_one
    for ccy in ("JPY", "CHF", "GBP", "EUR", "XAU"):
        mids = 0.5 * (bids + asks)
        assert fx.value_rows(ccy, mids).tolist() == [fx.value(ccy, m) for m in mids]


def test_quote_rows_and_minute_closes_follow_the_market_step_by_step():
    # Arrange: ticks at random times over ten minutes, some minutes without any
    rng = np.random.default_rng(5)
    t0 = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)
    times = np.sort(np.concatenate([rng.integers(t0, t0 + 4 * 60_000, 30),
                                    rng.integers(t0 + 6 * 60_000, t0 + 10 * 60_000, 30),
                                    [t0 + 7 * 60_000]]))
    ticks = np.zeros(len(times), dtype=TICK_DTYPE)
    ticks["time_msc"] = times
    ticks["symbol"] = rng.integers(0, 3, len(times))
    ticks["bid"] = rng.uniform(1.0, 2.0, len(times))
    ticks["ask"] = ticks["bid"] + 1e-4
    steps = list(range(t0 + 60_000, t0 + 11 * 60_000, 60_000))
    market = MarketState(SYMBOLS[:3])
    start_bid, start_ask = np.array([1.1, 1.2, 1.3]), np.array([1.2, 1.3, 1.4])
    market.bid[:], market.ask[:] = start_bid, start_ask

    # Act: the look-ahead first, then the market stepped minute by minute
    bids, asks = quote_rows(ticks, np.array(steps), market.bid, market.ask)
    closes = market.minute_closes(ticks["time_msc"], steps)
    stepped, lo = [], 0
    for k, t in enumerate(steps):
        hi = int(np.searchsorted(times, t, "right"))
        market.on_ticks(ticks[lo:hi])
        lo = hi
        closed, _ = market.advance_clock(t)
        stepped.append(closed)
        # Assert: the quotes after each step are the row's
        assert market.bid.tolist() == bids[k].tolist()
        assert market.ask.tolist() == asks[k].tolist()

    # Assert: the same minutes close, and one of the quiet minutes closes none
    assert closes == stepped
    assert not all(closes)
