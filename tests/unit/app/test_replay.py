"""Replay feed: merged symbols in time order, bounded chunks, "1 minute OHLC" ticks, warmup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.replay_feed import (
    OHLC_TICK_OFFSETS_MS,
    ReplayConfig,
    ReplayFeed,
    _merged,
    bars_to_ticks,
)
from engine.errors import UserError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge.feed import MarketFeed
from storage.histdata import read_histdata_m1
from storage.importers import import_file
from storage.marketdata import STORE_TICK_DTYPE, MarketDataStore, ticks_to_m1

TICK_SLICE = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
FEB_BARS = Path("histdata", "2019-02-04", "DAT_ASCII_EURUSD_M1_2019.csv.gz")
#: The fixed spread model (EURUSD 2 points), whatever the default model is.
FIXED_SPREAD = ReplayConfig(spread_model="fixed")


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def drain(feed: ReplayFeed, step_ms: int = 60_000) -> np.ndarray:
    """Replay in M1-sized steps the way a backtest loop does, jumping over quiet spells."""
    batches = []
    while (next_time := feed.next_time()) is not None:
        batches.append(feed.ticks_until((next_time // step_ms + 1) * step_ms - 1))
    return np.concatenate(batches) if batches else np.empty(0, dtype=TICK_DTYPE)


def ticks(symbol_rows: list[tuple[str, float]]) -> np.ndarray:
    out = np.empty(len(symbol_rows), dtype=STORE_TICK_DTYPE)
    for i, (when, bid) in enumerate(symbol_rows):
        out[i] = (msc(when), bid, bid + 0.0001, 6)
    return out


@pytest.fixture
def tick_store(tmp_path: Path, test_data: Path) -> MarketDataStore:
    store = MarketDataStore(tmp_path / "store")
    import_file(test_data / TICK_SLICE, store)
    return store


# --- "1 minute OHLC" ticks ---------------------------------------------------------------


def test_ohlc_ticks_follow_the_bar_direction():
    # Arrange: a bullish bar with its own spread, a bearish one without (NaN).
    bars = np.zeros(2, dtype=BAR_DTYPE)
    bars[0] = (1_549_285_200, 1.10, 1.13, 1.09, 1.12, 10, 0.0003)
    bars[1] = (1_549_285_260, 1.12, 1.14, 1.08, 1.10, 10, np.nan)

    # Act
    out = bars_to_ticks(bars, default_spread=0.00002)

    # Assert
    base = 1_549_285_200_000
    assert list(out["time_msc"]) == [base + o for o in OHLC_TICK_OFFSETS_MS] + [
        base + 60_000 + o for o in OHLC_TICK_OFFSETS_MS
    ]
    assert list(out["bid"]) == [1.10, 1.09, 1.13, 1.12, 1.12, 1.14, 1.08, 1.10]
    np.testing.assert_allclose(out["ask"] - out["bid"], [0.0003] * 4 + [0.00002] * 4)
    assert set(out["flags"]) == {6}


def test_bars_only_symbol_replays_four_ticks_per_bar_with_the_default_spread(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path)
    import_file(test_data / FEB_BARS, store)
    histdata = read_histdata_m1(test_data / FEB_BARS)

    # Act
    feed = ReplayFeed.from_store(store, config=FIXED_SPREAD)
    out = drain(feed)

    # Assert
    assert feed.source_kinds == {"EURUSD": "bars_m1"}
    assert len(out) == 4 * 120
    np.testing.assert_allclose(out["ask"] - out["bid"], 0.00002)  # EURUSD: 2 points
    np.testing.assert_array_equal(out["bid"][3::4], histdata.bars["close"].to_numpy())
    assert feed.start_msc == msc("2019-02-04 13:00")
    assert feed.end_msc == msc("2019-02-04 14:59:59")
    rebuilt = ticks_to_m1(out)
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(rebuilt[name], histdata.bars[name].to_numpy())


def test_a_configured_spread_wins_and_unknown_symbols_need_one(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path)
    import_file(test_data / FEB_BARS, store, symbol="EURUSD")
    import_file(test_data / FEB_BARS, store, symbol="ABCXYZ")

    # Act
    config = ReplayConfig(spread_points={"EURUSD": 7})
    feed = ReplayFeed.from_store(store, ["EURUSD"], config=config)
    spreads = drain(feed)
    spreads = spreads["ask"] - spreads["bid"]

    # Assert
    np.testing.assert_allclose(spreads, 0.00007)
    with pytest.raises(UserError, match="ABCXYZ: bars without a spread"):
        ReplayFeed.from_store(store, ["ABCXYZ"])


# --- the feed contract ---------------------------------------------------------------------


def test_replay_feed_is_a_market_feed(tick_store):
    assert isinstance(ReplayFeed.from_store(tick_store), MarketFeed)


def test_stored_ticks_come_back_in_order_in_m1_steps(tick_store):
    # Arrange
    stored = tick_store.read_ticks("EURUSD")
    feed = ReplayFeed.from_store(tick_store)

    # Act
    out = drain(feed)

    # Assert
    assert out.dtype == TICK_DTYPE
    np.testing.assert_array_equal(out["time_msc"], stored["time_msc"])
    np.testing.assert_array_equal(out["bid"], stored["bid"])
    assert set(out["symbol"]) == {0}
    assert (feed.start_msc, feed.end_msc) == (stored["time_msc"][0], stored["time_msc"][-1])
    assert feed.next_time() is None


def test_ticks_until_never_delivers_twice(tick_store):
    # Arrange
    feed = ReplayFeed.from_store(tick_store)
    t = msc("2019-02-04 13:01")

    # Act
    first = feed.ticks_until(t)
    again = feed.ticks_until(t)
    earlier = feed.ticks_until(t - 10_000)

    # Assert
    assert len(first) > 0 and first["time_msc"][-1] <= t
    assert len(again) == 0 and len(earlier) == 0
    assert feed.next_time() > t


def test_symbols_are_merged_in_time_order_with_ties_in_symbol_order(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:00:00.100", 1.1),
                                       ("2019-02-04 13:00:00.300", 1.2),
                                       ("2019-02-04 13:00:00.300", 1.3)]))
    store.write_ticks("GBPUSD", ticks([("2019-02-04 13:00:00.050", 1.5),
                                       ("2019-02-04 13:00:00.300", 1.6),
                                       ("2019-02-04 13:00:00.400", 1.7)]))

    # Act
    out = ReplayFeed.from_store(store, ["GBPUSD", "EURUSD"]).ticks_until(msc("2019-02-05"))

    # Assert
    assert list(zip(out["symbol"].tolist(), out["bid"].tolist(), strict=True)) == [
        (0, 1.5), (1, 1.1), (0, 1.6), (1, 1.2), (1, 1.3), (0, 1.7)
    ]


def test_a_merge_of_many_pieces_is_the_stable_sort_of_their_concatenation():
    # Arrange: one dense and six sparse symbols, many ticks sharing a millisecond
    rng = np.random.default_rng(7)
    pieces = []
    for symbol, n in enumerate([300, 5_000, 300, 300, 0, 300, 1]):
        piece = np.zeros(n, dtype=TICK_DTYPE)
        piece["time_msc"] = np.sort(rng.integers(0, 2_000, n))
        piece["symbol"] = symbol
        piece["bid"] = rng.random(n)
        piece["ask"] = piece["bid"] + 1e-4
        pieces.append((piece, piece["time_msc"].copy()))
    together = np.concatenate([p for p, _ in pieces])
    expected = together[np.argsort(together["time_msc"], kind="stable")]

    # Act
    merged, times = _merged(pieces)

    # Assert
    np.testing.assert_array_equal(merged, expected)
    np.testing.assert_array_equal(times, expected["time_msc"])


def test_tiny_chunks_give_the_same_replay_with_bounded_buffers(tmp_path, test_data, tick_store):
    # Arrange: the tick slice as EURUSD plus its bars as a second, bars-only symbol.
    import_file(test_data / FEB_BARS, tick_store, symbol="USDCHF")
    reference = drain(ReplayFeed.from_store(tick_store))
    feed = ReplayFeed.from_store(tick_store, config=ReplayConfig(chunk_rows=50))
    largest = 0

    # Act
    batches = []
    while (next_time := feed.next_time()) is not None:
        batches.append(feed.ticks_until((next_time // 60_000 + 1) * 60_000 - 1))
        largest = max(largest, len(feed._merger.merged))  # the bound under test
    out = np.concatenate(batches)

    # Assert
    np.testing.assert_array_equal(out, reference)
    assert largest <= 2 * 50
    assert np.all(np.diff(out["time_msc"]) >= 0)


def test_warmup_bars_come_from_stored_bars_before_the_start(tmp_path, test_data):
    # Arrange
    store = MarketDataStore(tmp_path)
    import_file(test_data / FEB_BARS, store)
    start = msc("2019-02-04 14:00")

    # Act
    feed = ReplayFeed.from_store(store, start_msc=start, config=FIXED_SPREAD)
    warmup = feed.warmup_bars()["EURUSD"]
    first = feed.ticks_until(start)

    # Assert
    assert warmup.dtype == BAR_DTYPE and len(warmup) == 60
    assert warmup["time"][-1] == msc("2019-02-04 13:59") // 1000
    np.testing.assert_allclose(warmup["spread"], 0.00002)  # HistData has none: the default
    assert list(first["time_msc"]) == [start]


def test_warmup_bars_are_built_from_ticks_when_there_are_no_bars(tick_store, test_data):
    # Arrange
    start = msc("2019-02-04 14:00")
    histdata = read_histdata_m1(test_data / FEB_BARS).bars

    # Act
    warmup = ReplayFeed.from_store(tick_store, start_msc=start).warmup_bars()["EURUSD"]

    # Assert
    assert len(warmup) == 60
    np.testing.assert_array_equal(warmup["close"], histdata["close"].to_numpy()[:60])


def test_an_empty_store_or_unknown_symbol_is_a_user_error(tmp_path, tick_store):
    with pytest.raises(UserError, match="store is empty"):
        ReplayFeed.from_store(MarketDataStore(tmp_path / "empty"))
    with pytest.raises(UserError, match="NZDUSD: no ticks or bars"):
        ReplayFeed.from_store(tick_store, ["NZDUSD"])


# --- replay straight from files ------------------------------------------------------------


def test_files_replay_like_the_store(tick_store, test_data):
    # Arrange
    from_store = drain(ReplayFeed.from_store(tick_store))

    # Act
    from_file = drain(ReplayFeed.from_files([test_data / TICK_SLICE]))

    # Assert
    np.testing.assert_array_equal(from_file, from_store)


def test_files_of_several_symbols_merge_and_warm_up(test_data):
    # Arrange
    tick_file, bar_file = test_data / TICK_SLICE, test_data / FEB_BARS
    start = msc("2019-02-04 14:30")

    # Act
    feed = ReplayFeed.from_files([tick_file, bar_file], start_msc=start,
                                 symbols={str(bar_file): "USDCHF"})
    out = drain(feed)
    warmup = feed.warmup_bars()

    # Assert
    assert list(feed.symbols) == ["EURUSD", "USDCHF"]
    assert feed.source_kinds == {"EURUSD": "ticks", "USDCHF": "bars_m1"}
    assert out["time_msc"][0] >= start and np.all(np.diff(out["time_msc"]) >= 0)
    assert np.count_nonzero(out["symbol"] == 1) == 4 * 30
    assert {s: len(b) for s, b in warmup.items()} == {"EURUSD": 90, "USDCHF": 90}
    np.testing.assert_array_equal(warmup["EURUSD"]["close"], warmup["USDCHF"]["close"])


def test_mt5_tick_export_replays_in_utc(test_data):
    # Arrange
    from mt5bridge.servertime import ServerTimeZone

    export = test_data / "mt5export" / "utf16" / "EURUSD_201902041500_201902041510.csv"

    # Act
    out = drain(ReplayFeed.from_files([export], server_time=ServerTimeZone.us_dst()))

    # Assert
    assert len(out) == 1_437
    assert out["time_msc"][0] == msc("2019-02-04 13:00:00.092")


# --- driving the simulated terminal ------------------------------------------------------------


def test_the_simulated_terminal_runs_on_a_replay(tick_store):
    # Arrange
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.terminal import SimTerminal

    stored = tick_store.read_ticks("EURUSD")
    terminal = SimTerminal(ReplayFeed.from_store(tick_store), SimConfig(selected=("EURUSD",)))
    terminal.initialize()
    t = msc("2019-02-04 13:30")

    # Act
    processed = terminal.sim_advance_to(t)
    tick = terminal.symbol_info_tick("EURUSD")

    # Assert
    last = stored[stored["time_msc"] <= t][-1]
    assert processed == np.count_nonzero(stored["time_msc"] <= t)
    assert (tick.bid, tick.ask) == (last["bid"], last["ask"])
    assert tick.time_msc == last["time_msc"] + 2 * 3_600_000  # server time, GMT+2 in winter


def test_a_terminal_seeded_from_histdata_warmup_quotes_a_finite_ask(tmp_path, test_data):
    # Arrange
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.terminal import SimTerminal

    store = MarketDataStore(tmp_path)
    import_file(test_data / FEB_BARS, store)
    feed = ReplayFeed.from_store(store, start_msc=msc("2019-02-04 14:00"), config=FIXED_SPREAD)

    # Act
    terminal = SimTerminal(feed, SimConfig(selected=("EURUSD",)))
    terminal.initialize()
    tick = terminal.symbol_info_tick("EURUSD")

    # Assert: the last warm-up close (13:59) plus the default spread, before any replay tick.
    assert tick.bid == feed.warmup_bars()["EURUSD"]["close"][-1]
    assert tick.ask == pytest.approx(tick.bid + 0.00002)
