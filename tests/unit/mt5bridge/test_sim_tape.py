"""The simulated terminal's tick window (``TickTape``): what it holds, when it drops ticks,
and the last quote of every symbol, over many windows' worth of ticks."""

from __future__ import annotations

import numpy as np

from engine.ticks import TICK_DTYPE
from mt5bridge.sim.tape import TickTape

N_SYMBOLS = 4


def random_ticks(n: int, seed: int = 0) -> np.ndarray:
    """Time-ordered ticks (several per millisecond at times); symbol 3 ticks rarely."""
    rng = np.random.default_rng(seed)
    ticks = np.zeros(n, dtype=TICK_DTYPE)
    ticks["time_msc"] = np.cumsum(rng.integers(0, 40, n))
    ticks["symbol"] = np.where(rng.random(n) < 0.002, 3, rng.integers(0, 3, n))
    ticks["bid"] = 1.0 + np.arange(n) * 1e-6
    ticks["ask"] = ticks["bid"] + 1e-4
    ticks["flags"] = 6
    return ticks


def batches_of(ticks: np.ndarray, seed: int = 1) -> list[np.ndarray]:
    """Uneven batches of at most 500 ticks (the terminal hands the window at most half its
    size at a time)."""
    sizes = np.random.default_rng(seed).integers(1, 501, len(ticks))
    cuts = np.cumsum(sizes)
    return np.split(ticks, cuts[cuts < len(ticks)])


def test_the_window_holds_the_newest_ticks_and_drops_the_oldest_in_order():
    # Arrange: 60 windows' worth of ticks in uneven batches
    ticks = random_ticks(60_000)
    cuts: list[int] = []
    tape = TickTape(N_SYMBOLS, max_ticks=1_000, max_age_ms=10**12, on_evict=cuts.append)

    # Act / Assert: after every batch the window is the newest ticks, whole and in order
    for batch in batches_of(ticks):
        first = tape.append(batch)
        end = tape.end
        held = tape.view(0, end)
        assert first == end - len(batch)
        assert 0 < len(held) <= 1_500
        np.testing.assert_array_equal(held, ticks[end - len(held):end])
        when = int(held["time_msc"][len(held) // 2])
        assert tape.index_at_time(when) == end - len(held) + int(
            np.searchsorted(held["time_msc"], when, "left"))
    assert tape.end == len(ticks)
    assert cuts == sorted(cuts) and len(cuts) > 50  # every drop was announced first


def test_ticks_older_than_the_age_limit_are_dropped_with_the_next_eviction():
    ticks = random_ticks(20_000)
    tape = TickTape(N_SYMBOLS, max_ticks=1_000, max_age_ms=2_000)

    for batch in batches_of(ticks):
        tape.append(batch)

    held = tape.view(0, tape.end)
    assert len(held) <= 1_500
    np.testing.assert_array_equal(held, ticks[len(ticks) - len(held):])


def test_quotes_are_each_symbols_last_tick_however_far_back_it_is():
    # Arrange: symbol 3 ticks rarely, so its last tick is often thousands of ticks back
    ticks = random_ticks(30_000, seed=3)
    tape = TickTape(N_SYMBOLS, max_ticks=100_000, max_age_ms=10**12)

    for batch in batches_of(ticks, seed=4):
        # Act
        tape.append(batch)
        tape.sync_quotes()

        # Assert
        seen = ticks[:tape.end]
        for s in range(N_SYMBOLS):
            mine = np.flatnonzero(seen["symbol"] == s)
            assert tape.has_quote[s] == bool(len(mine))
            if len(mine):
                assert tape.quotes[s] == seen[mine[-1]]


def test_quotes_before_an_index_leave_the_later_ticks_for_the_next_sync():
    ticks = random_ticks(5_000, seed=5)
    tape = TickTape(N_SYMBOLS, max_ticks=100_000, max_age_ms=10**12)
    tape.append(ticks)

    tape.sync_quotes(2_000)
    early = tape.quotes.copy()
    tape.sync_quotes()

    for s in range(3):
        assert early[s] == ticks[:2_000][ticks[:2_000]["symbol"] == s][-1]
        assert tape.quotes[s] == ticks[ticks["symbol"] == s][-1]
