"""Market-data store: partitions, idempotent merges, atomic writes, recorder parts, gaps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from engine.errors import UserError
from engine.ticks import BAR_DTYPE
from storage.marketdata import (
    BARS,
    STORE_TICK_DTYPE,
    TICKS,
    MarketDataStore,
    find_gaps,
    month_of_msc,
    ticks_to_m1,
)


def msc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def ticks(rows: list[tuple[str, float, float]]) -> np.ndarray:
    out = np.empty(len(rows), dtype=STORE_TICK_DTYPE)
    for i, (when, bid, ask) in enumerate(rows):
        out[i] = (msc(when), bid, ask, 6)
    return out


def bars(rows: list[tuple[str, float]]) -> np.ndarray:
    out = np.zeros(len(rows), dtype=BAR_DTYPE)
    for i, (when, close) in enumerate(rows):
        out[i] = (msc(when) // 1000, close, close + 0.0002, close - 0.0002, close, 10, 0.00002)
    return out


def snapshot(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.parquet"))
    }


# --- layout and round trip -------------------------------------------------------------------


def test_ticks_are_partitioned_by_utc_month(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    data = ticks([
        ("2019-01-31 23:59:59.999", 1.1, 1.1002),
        ("2019-02-01 00:00:00.000", 1.2, 1.2002),
        ("2019-03-05 10:00:00.500", 1.3, 1.3002),
    ])

    # Act
    result = store.write_ticks("EURUSD", data)

    # Assert
    assert result.added == 3 and result.duplicates == 0
    assert store.months(TICKS, "EURUSD") == ["2019-01", "2019-02", "2019-03"]
    assert sorted(p.name for p in (tmp_path / "ticks" / "EURUSD").glob("*.parquet")) == [
        "2019-01.parquet", "2019-02.parquet", "2019-03.parquet"
    ]
    schema = pq.read_schema(tmp_path / "ticks" / "EURUSD" / "2019-02.parquet")
    assert [(f.name, str(f.type)) for f in schema] == [
        ("time_msc", "int64"), ("bid", "double"), ("ask", "double"), ("flags", "uint32")
    ]
    np.testing.assert_array_equal(store.read_ticks("EURUSD"), data)


def test_bars_round_trip_with_bar_schema(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    data = bars([("2019-10-28 00:00", 1.1), ("2019-10-28 00:01", 1.2)])

    # Act
    store.write_bars("EURUSD", data)

    # Assert
    schema = pq.read_schema(tmp_path / "bars_m1" / "EURUSD" / "2019-10.parquet")
    assert schema.names == ["time", "open", "high", "low", "close", "spread", "tick_volume"]
    np.testing.assert_array_equal(store.read_bars("EURUSD"), data)
    assert store.symbols(BARS) == ["EURUSD"] and store.symbols(TICKS) == []


def test_read_and_chunks_honour_a_time_range(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.write_ticks("EURUSD", ticks([
        ("2019-01-31 23:00", 1.0, 1.1), ("2019-02-01 01:00", 1.0, 1.1),
        ("2019-02-01 02:00", 1.0, 1.1), ("2019-03-01 00:00", 1.0, 1.1),
    ]))

    # Act
    picked = store.read_ticks("EURUSD", msc("2019-02-01 01:00"), msc("2019-02-01 02:00"))
    chunks = list(store.iter_chunks(TICKS, "EURUSD", msc("2019-02-01 00:30")))

    # Assert
    assert list(picked["time_msc"]) == [msc("2019-02-01 01:00"), msc("2019-02-01 02:00")]
    assert [len(c) for c in chunks] == [2, 1]
    assert store.time_range(TICKS, "EURUSD") == (msc("2019-01-31 23:00"), msc("2019-03-01"))


def test_bad_symbol_names_are_refused(tmp_path):
    store = MarketDataStore(tmp_path)

    with pytest.raises(UserError, match="invalid symbol name"):
        store.write_ticks("../EURUSD", ticks([("2019-01-01", 1.0, 1.1)]))


# --- idempotent merges -------------------------------------------------------------------


def test_rewriting_the_same_ticks_changes_no_byte(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    data = ticks([("2019-02-04 13:00:00.092", 1.14475, 1.14476),
                  ("2019-02-04 13:00:00.220", 1.14475, 1.14476)])
    store.write_ticks("EURUSD", data)
    before = snapshot(tmp_path)

    # Act
    again = store.write_ticks("EURUSD", data)

    # Assert
    assert again.added == 0 and again.duplicates == 2
    assert snapshot(tmp_path) == before


def test_identical_ticks_in_one_millisecond_are_counted_not_collapsed(tmp_path):
    # Arrange: a feed can repeat a quote inside one millisecond; both ticks are real.
    store = MarketDataStore(tmp_path)
    twice = ticks([("2019-02-04 13:00:00.100", 1.1, 1.2), ("2019-02-04 13:00:00.100", 1.1, 1.2)])
    once = twice[:1]

    # Act
    first = store.write_ticks("EURUSD", twice)
    subset = store.write_ticks("EURUSD", once)
    same = store.write_ticks("EURUSD", twice)

    # Assert
    assert first.added == 2
    assert subset.added == 0 and same.added == 0
    assert len(store.read_ticks("EURUSD")) == 2


def test_merging_overlapping_batches_keeps_time_order_and_adds_only_new(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:00", 1.1, 1.2),
                                       ("2019-02-04 13:02", 1.3, 1.4)]))

    # Act
    result = store.write_ticks("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3),
                                                ("2019-02-04 13:02", 1.3, 1.4),
                                                ("2019-02-04 13:03", 1.4, 1.5)]))

    # Assert
    assert (result.added, result.duplicates) == (2, 1)
    assert list(store.read_ticks("EURUSD")["bid"]) == [1.1, 1.2, 1.3, 1.4]


def test_a_stored_bar_is_never_replaced(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.write_bars("EURUSD", bars([("2019-10-28 00:00", 1.1)]))

    # Act
    result = store.write_bars(
        "EURUSD", bars([("2019-10-28 00:00", 9.9), ("2019-10-28 00:01", 1.2)])
    )

    # Assert
    assert (result.added, result.duplicates) == (1, 1)
    assert list(store.read_bars("EURUSD")["close"]) == [1.1, 1.2]


# --- crash safety --------------------------------------------------------------------------


def test_a_killed_writers_temp_file_is_ignored_and_cleaned(tmp_path):
    # Arrange: what a writer killed before os.replace leaves behind.
    store = MarketDataStore(tmp_path)
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:00", 1.1, 1.2)]))
    directory = tmp_path / "ticks" / "EURUSD"
    leftover = directory / ".2019-02.parquet.4242.deadbeef.tmp"
    leftover.write_bytes(b"PAR1 torn write")

    # Act
    readable = store.read_ticks("EURUSD")
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3)]))

    # Assert
    assert len(readable) == 1
    assert not leftover.exists()
    assert len(store.read_ticks("EURUSD")) == 2


def test_recorder_parts_are_merged_on_read_and_by_compaction(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:00", 1.1, 1.2)]))
    store.append_tick_part("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3)]))
    store.append_tick_part("EURUSD", ticks([("2019-02-04 13:02", 1.3, 1.4),
                                            ("2019-03-01 00:00", 1.5, 1.6)]))

    # Act
    before = store.read_ticks("EURUSD")
    absorbed = store.compact("EURUSD")
    after = store.read_ticks("EURUSD")

    # Assert
    assert list(before["bid"]) == [1.1, 1.2, 1.3, 1.5]
    assert absorbed == 3
    np.testing.assert_array_equal(after, before)
    assert not list((tmp_path / "ticks" / "EURUSD").glob("*.parts/*.parquet"))


def test_compaction_killed_before_deleting_parts_never_double_counts(tmp_path):
    # Arrange: the main file already absorbed the part, but the part was not deleted.
    store = MarketDataStore(tmp_path)
    [part] = store.append_tick_part("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3)]))
    saved = part.read_bytes()
    store.compact("EURUSD")
    part.write_bytes(saved)  # as if the process died right after os.replace of the main file

    # Act
    read = store.read_ticks("EURUSD")
    meta = pq.read_schema(tmp_path / "ticks" / "EURUSD" / "2019-02.parquet").metadata
    store.write_ticks("EURUSD", ticks([("2019-02-04 13:05", 1.3, 1.4)]))

    # Assert
    assert len(read) == 1
    assert json.loads(meta[b"fxcluster.absorbed_parts"]) == [part.name]
    assert len(store.read_ticks("EURUSD")) == 2
    assert not part.exists()


def test_import_merge_absorbs_live_parts(tmp_path):
    # Arrange
    store = MarketDataStore(tmp_path)
    store.append_tick_part("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3)]))

    # Act
    result = store.write_ticks("EURUSD", ticks([("2019-02-04 13:01", 1.2, 1.3),
                                                ("2019-02-04 13:02", 1.3, 1.4)]))

    # Assert
    assert (result.added, result.duplicates) == (1, 1)
    assert len(store.read_ticks("EURUSD")) == 2
    assert not list((tmp_path / "ticks" / "EURUSD").glob("*.parts/*.parquet"))


# --- inventory ---------------------------------------------------------------------------


def test_gaps_skip_the_weekend_but_show_holidays_and_outages():
    # Arrange: M1 bars with a Friday close -> Sunday open (the weekend), a 3-hour hole on
    # Monday, a 59-minute one (below the threshold) and Christmas day.
    def minutes(first: str, last: str) -> list[int]:
        return [msc(str(t)) for t in pd.date_range(first, last, freq="min")]

    times = np.array(
        minutes("2019-12-20 20:00", "2019-12-20 21:59")
        + minutes("2019-12-22 22:00", "2019-12-23 10:00")
        + minutes("2019-12-23 13:00", "2019-12-24 08:00")
        + minutes("2019-12-24 09:00", "2019-12-24 21:59")
        + minutes("2019-12-25 22:00", "2019-12-25 23:00")
    )

    # Act
    gaps = find_gaps(times, max_gap_minutes=60, step_msc=60_000)

    # Assert
    assert [(g.after_msc, g.before_msc) for g in gaps] == [
        (msc("2019-12-23 10:00"), msc("2019-12-23 13:00")),
        (msc("2019-12-24 21:59"), msc("2019-12-25 22:00")),
    ]
    assert str(gaps[0]) == "2019-12-23 10:00 .. 2019-12-23 13:00 (3.0 h)"
    assert str(gaps[1]) == "2019-12-24 21:59 .. 2019-12-25 22:00 (24.0 h)"


def test_inventory_lists_every_series(tmp_path, test_data):
    # Arrange
    from storage.histdata import read_histdata_m1

    store = MarketDataStore(tmp_path)
    slice_ = read_histdata_m1(test_data / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz")
    store.write_bars("EURUSD", slice_.to_bar_array())
    store.write_ticks("GBPUSD", ticks([("2019-02-04 13:00", 1.3, 1.31)]))

    # Act
    inventory = store.inventory(max_gap_minutes=60)

    # Assert
    assert [(i.kind, i.symbol, i.count) for i in inventory] == [
        (TICKS, "GBPUSD", 1), (BARS, "EURUSD", 21_582)
    ]
    eurusd = inventory[1]
    assert eurusd.first_msc == msc("2019-10-13 22:00")
    assert eurusd.last_msc == msc("2019-11-01 20:59")
    assert eurusd.months == ("2019-10", "2019-11")
    assert eurusd.gaps == ()  # two weekends inside the slice, both the regular close


# --- helpers -------------------------------------------------------------------------------


def test_ticks_to_m1_builds_bid_ohlc_per_minute():
    # Arrange
    data = ticks([
        ("2019-02-04 13:00:01", 1.10, 1.1002), ("2019-02-04 13:00:30", 1.12, 1.1201),
        ("2019-02-04 13:00:59.999", 1.09, 1.0903), ("2019-02-04 13:02:00", 1.11, 1.1102),
    ])

    # Act
    m1 = ticks_to_m1(data)

    # Assert
    assert list(m1["time"]) == [msc("2019-02-04 13:00") // 1000, msc("2019-02-04 13:02") // 1000]
    assert tuple(m1[0])[1:6] == (1.10, 1.12, 1.09, 1.09, 3)
    assert m1["spread"][0] == pytest.approx((0.0002 + 0.0001 + 0.0003) / 3)


def test_month_keys():
    keys = month_of_msc(np.array([msc("1970-01-01"), msc("2019-12-31 23:59:59.999")]))

    assert list(keys) == [1970 * 12, 2019 * 12 + 11]
