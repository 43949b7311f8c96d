"""The engine's cluster signal with a factor: the streaming path equals the batch TDI, the
market feeds the factor's symbols, and sizing keeps the members' own prices."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from engine.bars import M30, align_closes, resample_bars
from engine.cluster import ClusterSpec, Direction
from engine.factor import FactorSeries, factor_tdi_batch
from engine.signals import ClusterSignal
from engine.tdi import TdiParams
from storage.histdata import read_histdata_dir

SMALL = TdiParams(tau_f=4, tau_s=24, tau_q=96)
MEMBERS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")
USD = FactorSeries("USD", ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"),
                   (-1.0, -1.0, 1.0, 1.0, 1.0, -1.0))


@pytest.fixture(scope="module")
def m30():
    """M30 mid closes of the members and the dollar index's symbols (tests/data slice)."""
    symbols = sorted({*MEMBERS, *USD.symbols})
    data = read_histdata_dir(TEST_DATA / "histdata", symbols)
    bars = {s: resample_bars(data[s].to_bar_array(spread=0.0), M30) for s in symbols}
    return align_closes(bars, symbols).closes


def spec(factor: str) -> ClusterSpec:
    # symbol space: the batch reference below reads the quotes as they come
    return ClusterSpec("USD_MAJORS", MEMBERS, 1, tdi=SMALL, factor=factor, factor_window=48,
                       space="symbol")


@pytest.mark.parametrize("factor", ["pc1", "USD"])
def test_cluster_signal_streams_the_batch_factor_tdi(m30, factor):
    # Arrange
    series = USD if factor == "USD" else None
    market_index = {s: i for i, s in enumerate(m30.columns)}
    signal = ClusterSignal(spec(factor), market_index, series)
    feed = m30[list(signal.feed_symbols)].to_numpy()
    # Act
    points = [signal.add_bar(int(t.timestamp()), row)
              for t, row in zip(m30.index, feed, strict=True)]
    batch = factor_tdi_batch(m30[list(MEMBERS)], SMALL, 48, series, m30)
    # Assert
    stream = np.array([p.score for p in points])
    assert np.array_equal(np.isnan(stream), batch["tdi"].isna().to_numpy())
    assert np.nanmax(np.abs(stream - batch["tdi"].to_numpy())) < 1e-9
    assert np.isfinite(stream).sum() == len(m30) - 48 - SMALL.warmup_bars
    # the chart and the ATR keep the members' own prices
    _times, _tdi, closes = signal.history_arrays()
    assert sorted(closes) == sorted(MEMBERS)
    assert closes["EURUSD"][-1] == m30["EURUSD"].iloc[-1]


def test_the_factor_symbols_are_fed_after_the_members(m30):
    signal = ClusterSignal(spec("USD"), {s: i for i, s in enumerate(m30.columns)}, USD)
    assert signal.feed_symbols == ("AUDUSD", "EURUSD", "GBPUSD", "USDCHF", "USDJPY", "USDCAD")
    assert ClusterSignal(spec("pc1"), {s: i for i, s in enumerate(m30.columns)}).feed_symbols \
        == ("AUDUSD", "EURUSD", "GBPUSD", "USDCHF")


def test_provisional_tdi_at_the_last_close_and_sizing_on_member_prices(m30):
    # Arrange: all bars but the last
    market_index = {s: i for i, s in enumerate(m30.columns)}
    signal = ClusterSignal(spec("USD"), market_index, USD)
    feed = m30[list(signal.feed_symbols)].to_numpy()
    for t, row in zip(m30.index[:-1], feed[:-1], strict=True):
        point = signal.add_bar(int(t.timestamp()), row)
    mids = m30.to_numpy()[-1]
    # Act
    provisional = signal.provisional(mids)
    exposures = signal.unit_exposures(point, Direction.LONG)
    # Assert: a number, computed from the last bar's statistics; sizing stays per member
    assert math.isfinite(provisional)
    assert sorted(exposures) == sorted(MEMBERS)
    assert sum(exposures.values()) == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(signal.unit_atr(exposures))
    bad = mids.copy()
    bad[market_index["USDJPY"]] = math.nan  # a factor symbol without a quote
    assert math.isnan(signal.provisional(bad))


def test_a_named_factor_without_its_series_is_refused(m30):
    with pytest.raises(ValueError, match="factor 'USD' needs its series"):
        ClusterSignal(spec("USD"), {s: i for i, s in enumerate(m30.columns)})
