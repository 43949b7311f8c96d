"""The tick recorder stores no tick an import would refuse: implausible prices are counted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.ticks import TICK_DTYPE
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.feeds import ArrayFeed
from mt5bridge.sim.terminal import SimTerminal
from storage.marketdata import MarketDataStore
from storage.recorder import TickRecorder


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def test_ticks_with_implausible_prices_are_counted_not_stored(tmp_path):
    # Arrange: the simulated terminal refuses NaN and infinite quotes itself; finite but
    # implausible ones (a 1e308 ask, a 1e-12 bid, a 1e9 quote) it passes on.
    quotes = [(1.10, 1.1002), (1.10, 1e308), (1e-12, 1e-12), (1e9, 1e9), (1.11, 1.1102)]
    data = np.zeros(len(quotes), dtype=TICK_DTYPE)
    for i, (bid, ask) in enumerate(quotes):
        data[i] = (msc("2019-02-04 13:00") + 1000 * i, 0, bid, ask, 6)
    config = SimConfig(selected=("EURUSD",))
    terminal = SimTerminal(ArrayFeed(["EURUSD"], data), config)  # type: ignore[arg-type]
    assert terminal.initialize()
    store = MarketDataStore(tmp_path)
    recorder = TickRecorder(terminal, store, ["EURUSD"], config.server_tz,
                            since_msc=msc("2019-02-04 13:00"))

    # Act
    terminal.sim_advance_to(msc("2019-02-04 13:00:10"))
    recorder.poll()
    recorder.close()

    # Assert
    stored = store.read_ticks("EURUSD")
    assert list(stored["bid"]) == [1.10, 1.11]
    assert recorder.stats.rejected == {"EURUSD": 3}
