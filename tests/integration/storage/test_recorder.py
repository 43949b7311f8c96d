"""Tick recorder against the simulated terminal: exact capture, restarts, and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers.paths import REPO_ROOT

from app.replay_feed import ReplayFeed
from engine.errors import UserError
from engine.ticks import TICK_DTYPE
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.feeds import ArrayFeed
from mt5bridge.sim.terminal import SimTerminal
from storage.marketdata import MarketDataStore
from storage.recorder import RecorderConfig, TickRecorder

REPO = REPO_ROOT
TICK_SLICE = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
STEP_MS = 10_000


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def file_ticks(test_data: Path) -> np.ndarray:
    feed = ReplayFeed.from_files([test_data / TICK_SLICE])
    return feed.ticks_until(2**62)


def sim(feed: object) -> tuple[SimTerminal, SimConfig]:
    config = SimConfig(selected=("EURUSD",))
    terminal = SimTerminal(feed, config)  # type: ignore[arg-type]
    assert terminal.initialize()
    return terminal, config


def assert_same_ticks(stored: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(stored["time_msc"], expected["time_msc"])
    np.testing.assert_array_equal(stored["bid"], expected["bid"])
    np.testing.assert_array_equal(stored["ask"], expected["ask"])


def record(terminal: SimTerminal, recorder: TickRecorder, until_msc: int, start_msc: int) -> None:
    t = start_msc
    while t < until_msc:
        t = min(t + STEP_MS, until_msc)
        terminal.sim_advance_to(t)
        recorder.poll()


def test_every_tick_is_recorded_once_in_utc(tmp_path, test_data):
    # Arrange
    expected = file_ticks(test_data)
    feed = ReplayFeed.from_files([test_data / TICK_SLICE])
    terminal, config = sim(feed)
    store = MarketDataStore(tmp_path)
    recorder = TickRecorder(terminal, store, ["EURUSD"], config.server_tz,
                            since_msc=feed.start_msc, config=RecorderConfig(flush_ticks=500))

    # Act
    record(terminal, recorder, msc("2019-02-04 15:00"), feed.start_msc)
    recorder.close()

    # Assert
    assert_same_ticks(store.read_ticks("EURUSD"), expected)
    assert recorder.stats.flushed_total == len(expected) == 17_749
    assert recorder.stats.flushes > 10
    directory = tmp_path / "ticks" / "EURUSD"
    assert [p.name for p in directory.glob("*.parquet")] == ["2019-02.parquet"]
    assert not list(directory.glob("*.parts/*.parquet"))  # compacted on close


def test_a_restart_resumes_after_the_stored_ticks_without_duplicates(tmp_path, test_data):
    # Arrange: a first recorder flushes part of the ticks, buffers more, and dies.
    expected = file_ticks(test_data)
    feed = ReplayFeed.from_files([test_data / TICK_SLICE])
    terminal, config = sim(feed)
    store = MarketDataStore(tmp_path)
    first = TickRecorder(terminal, store, ["EURUSD"], config.server_tz,
                         since_msc=feed.start_msc,
                         config=RecorderConfig(flush_ticks=10**9, flush_interval_s=10**9))
    record(terminal, first, msc("2019-02-04 13:40"), feed.start_msc)
    first.flush()
    record(terminal, first, msc("2019-02-04 14:00"), msc("2019-02-04 13:40"))
    assert first.stats.polled["EURUSD"] > first.stats.flushed["EURUSD"]  # unflushed, then lost

    # Act: a new recorder on the same terminal, which still holds the tick history.
    second = TickRecorder(terminal, store, ["EURUSD"], config.server_tz)
    record(terminal, second, msc("2019-02-04 15:00"), msc("2019-02-04 14:00"))
    second.close()

    # Assert
    assert_same_ticks(store.read_ticks("EURUSD"), expected)


def test_ticks_sharing_a_millisecond_across_polls_are_not_duplicated(tmp_path):
    # Arrange: three ticks at 13:00:05.000 (two identical), polled before and after more ticks.
    rows = [
        ("2019-02-04 13:00:00.000", 1.10), ("2019-02-04 13:00:05.000", 1.11),
        ("2019-02-04 13:00:05.000", 1.11), ("2019-02-04 13:00:05.000", 1.12),
        ("2019-02-04 13:00:09.000", 1.13),
    ]
    data = np.zeros(len(rows), dtype=TICK_DTYPE)
    for i, (when, bid) in enumerate(rows):
        data[i] = (msc(when), 0, bid, bid + 0.0002, 6)
    terminal, config = sim(ArrayFeed(["EURUSD"], data))
    store = MarketDataStore(tmp_path)
    recorder = TickRecorder(terminal, store, ["EURUSD"], config.server_tz,
                            since_msc=msc("2019-02-04 13:00"))

    # Act
    terminal.sim_advance_to(msc("2019-02-04 13:00:05"))
    recorder.poll()
    recorder.flush()
    restarted = TickRecorder(terminal, store, ["EURUSD"], config.server_tz)
    terminal.sim_advance_to(msc("2019-02-04 13:00:10"))
    restarted.poll()
    restarted.poll()
    restarted.close()

    # Assert
    assert list(store.read_ticks("EURUSD")["bid"]) == [1.10, 1.11, 1.11, 1.12, 1.13]


def test_flushes_follow_the_interval_on_the_given_clock(tmp_path, test_data):
    # Arrange
    now = [0.0]
    feed = ReplayFeed.from_files([test_data / TICK_SLICE])
    terminal, config = sim(feed)
    recorder = TickRecorder(terminal, MarketDataStore(tmp_path), ["EURUSD"], config.server_tz,
                            since_msc=feed.start_msc, clock=lambda: now[0],
                            config=RecorderConfig(flush_ticks=10**9, flush_interval_s=5.0))

    # Act
    terminal.sim_advance_to(feed.start_msc + 60_000)
    recorder.poll()
    flushes_before = recorder.stats.flushes
    now[0] = 5.0
    terminal.sim_advance_to(feed.start_msc + 120_000)
    recorder.poll()

    # Assert
    assert flushes_before == 0
    assert recorder.stats.flushes == 1
    assert recorder.stats.flushed_total == recorder.stats.polled["EURUSD"]


def test_an_unknown_symbol_is_a_user_error(tmp_path, test_data):
    terminal, config = sim(ReplayFeed.from_files([test_data / TICK_SLICE]))
    recorder = TickRecorder(terminal, MarketDataStore(tmp_path), ["NZDUSD"], config.server_tz)

    with pytest.raises(UserError, match="cannot select NZDUSD"):
        recorder.start()


CHILD = r"""
import sys
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.terminal import SimTerminal
from storage.marketdata import MarketDataStore
from storage.recorder import RecorderConfig, TickRecorder
from app.replay_feed import ReplayFeed

tick_file, store_dir = sys.argv[1], sys.argv[2]
feed = ReplayFeed.from_files([tick_file])
config = SimConfig(selected=("EURUSD",))
terminal = SimTerminal(feed, config)
terminal.initialize()
recorder = TickRecorder(terminal, MarketDataStore(store_dir), ["EURUSD"], config.server_tz,
                        since_msc=feed.start_msc,
                        config=RecorderConfig(flush_ticks=1, compact_on_close=False))
recorder.start()
t = feed.start_msc
while True:
    t += 5_000
    terminal.sim_advance_to(t)
    recorder.poll()
    print(recorder.stats.flushed_total, flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX-only")
def test_a_sigkilled_recorder_leaves_readable_partitions_with_every_flushed_tick(
    tmp_path, test_data
):
    # Arrange
    expected = file_ticks(test_data)
    store_dir = tmp_path / "store"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(test_data / TICK_SLICE), str(store_dir)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )

    # Act: kill it mid-stream, without warning, once it reports 2,000 flushed ticks.
    flushed = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            flushed = int(line)
            if flushed >= 2_000:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    # Assert: every file readable, every flushed tick present, nothing duplicated.
    assert child.returncode == -signal.SIGKILL
    for path in store_dir.rglob("*.parquet"):
        pq.read_table(path)
    store = MarketDataStore(store_dir)
    stored = store.read_ticks("EURUSD")
    assert len(stored) >= flushed >= 2_000
    assert_same_ticks(stored, expected[: len(stored)])

    # And a new recorder completes the recording exactly.
    feed = ReplayFeed.from_files([test_data / TICK_SLICE])
    terminal, config = sim(feed)
    terminal.sim_advance_to(msc("2019-02-04 15:00"))
    resumed = TickRecorder(terminal, store, ["EURUSD"], config.server_tz)
    resumed.poll()
    resumed.close()
    assert_same_ticks(store.read_ticks("EURUSD"), expected)
