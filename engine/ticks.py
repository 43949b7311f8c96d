"""Array layouts for ticks and bars shared by every layer.

Ticks and bars move through the product as numpy structured arrays, never as per-row
Python objects: a year of replay is tens of millions of ticks.  Times are UTC; broker
server time exists only inside ``mt5bridge`` and is converted there.
"""

from __future__ import annotations

import numpy as np

#: One tick of one symbol.  ``time_msc`` is UTC epoch milliseconds; ``symbol`` indexes the
#: producer's symbol list; ``bid``/``ask`` are the quotes after the tick (finite, positive,
#: never crossed); ``flags`` uses the MT5 ``TICK_FLAG_*`` bits (2 = bid, 4 = ask changed).
TICK_DTYPE = np.dtype(
    [
        ("time_msc", "<i8"),
        ("symbol", "<i2"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("flags", "<u4"),
    ]
)

#: One bar of one symbol.  ``time`` is the bar's open time in UTC epoch seconds (the bar
#: covers ``[time, time + period)``); OHLC are bid prices; ``spread`` is the mean ask-bid
#: spread of the bar's ticks in price units (the cost a fill at that bar would have paid on
#: average); ``tick_volume`` counts ticks.
BAR_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<i8"),
        ("spread", "<f8"),
    ]
)

#: A closed bar together with the index of its symbol, as emitted by the bar builders.
SYMBOL_BAR_DTYPE = np.dtype([("symbol", "<i2"), *BAR_DTYPE.descr])


def empty_ticks() -> np.ndarray:
    """A zero-length tick batch: what a feed returns when nothing is due yet."""
    return np.empty(0, dtype=TICK_DTYPE)


def quote_rows(ticks: np.ndarray, steps: np.ndarray, bid: np.ndarray,
               ask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each symbol's last bid and ask after the ticks up to each of ``steps`` (UTC ms,
    ascending): rows of shape (steps, symbols), starting from the quotes ``bid``/``ask``.

    The quotes a market holds after a step are its symbols' last ticks; these rows are
    those quotes at each coming step without taking the steps (``engine.held_minutes``).
    """
    n = len(bid)
    bids = np.repeat(bid[np.newaxis, :].astype(np.float64), len(steps), axis=0)
    asks = np.repeat(ask[np.newaxis, :].astype(np.float64), len(steps), axis=0)
    if not len(ticks):
        return bids, asks
    ends = np.searchsorted(ticks["time_msc"], steps, "right")
    symbols = ticks["symbol"]
    for s in np.unique(symbols).tolist():
        if s < 0 or s >= n:
            continue
        where = np.flatnonzero(symbols == s)
        last = np.searchsorted(where, ends, "left") - 1  # the symbol's last tick before each end
        have = last >= 0
        picked = where[last[have]]
        bids[have, s] = ticks["bid"][picked]
        asks[have, s] = ticks["ask"][picked]
    return bids, asks
