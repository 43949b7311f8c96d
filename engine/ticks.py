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
