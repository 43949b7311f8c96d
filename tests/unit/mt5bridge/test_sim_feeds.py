"""The in-memory market feed, scenario builders, and how the terminal consumes a feed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from engine.errors import ConfigError, DataError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge import constants as c
from mt5bridge.feed import MarketFeed
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows, walk_feed
from mt5bridge.sim.symbols import SymbolSpec

MON = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)


def rows_feed() -> ArrayFeed:
    rows = [(MON, "EURUSD", 1.13, 1.13002), (MON, "GBPUSD", 1.32, 1.32005),
            (MON + 5_000, "EURUSD", 1.1301, 1.13012), (MON + 9_000, "GBPUSD", 1.3201, 1.32015)]
    return ArrayFeed(["EURUSD", "GBPUSD"], ticks_from_rows(["EURUSD", "GBPUSD"], rows))


def test_array_feed_follows_the_market_feed_contract():
    feed = rows_feed()

    first = feed.ticks_until(MON + 5_000)
    again = feed.ticks_until(MON + 5_000)
    upcoming = feed.next_time()
    rest = feed.ticks_until(MON + 60_000)

    assert isinstance(feed, MarketFeed)
    assert (feed.start_msc, feed.end_msc) == (MON, MON + 9_000)
    assert first["time_msc"].tolist() == [MON, MON, MON + 5_000]
    assert len(again) == 0 and upcoming == MON + 9_000
    assert rest["symbol"].tolist() == [1] and feed.next_time() is None
    assert feed.warmup_bars() == {}


def test_scripted_rows_get_flags_for_the_side_that_changed():
    rows = [(MON, "EURUSD", 1.13, 1.13002), (MON + 1, "EURUSD", 1.1301, 1.13002),
            (MON + 2, "EURUSD", 1.1301, 1.13015), (MON + 3, "EURUSD", 1.13, 1.13)]

    ticks = ticks_from_rows(["EURUSD"], rows)

    assert ticks["flags"].tolist() == [6, 2, 4, 6]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda t: t.__setitem__("time_msc", t["time_msc"][::-1].copy()), "backwards"),
    (lambda t: t["symbol"].__setitem__(0, 5), "out of range"),
    (lambda t: t["ask"].__setitem__(1, 1.0), "bad quote"),
    (lambda t: t["bid"].__setitem__(2, np.nan), "bad quote"),
    (lambda t: t["bid"].__setitem__(0, 0.0), "bad quote"),
])
def test_bad_tick_arrays_are_refused_with_the_row(mutate, message):
    ticks = ticks_from_rows(["EURUSD"], [(MON + k, "EURUSD", 1.13, 1.13002) for k in range(3)])
    mutate(ticks)

    with pytest.raises(DataError, match=message):
        ArrayFeed(["EURUSD"], ticks)


def test_feed_construction_errors():
    ticks = ticks_from_rows(["EURUSD"], [(MON, "EURUSD", 1.13, 1.13002)])
    bars = np.zeros(2, dtype=BAR_DTYPE)

    with pytest.raises(DataError, match="TICK_DTYPE"):
        ArrayFeed(["EURUSD"], np.zeros(1, dtype=[("t", "<i8")]))
    with pytest.raises(DataError, match="duplicate"):
        ArrayFeed(["EURUSD", "EURUSD"], ticks)
    with pytest.raises(DataError, match="not one of the feed"):
        ArrayFeed(["EURUSD"], ticks, warmup_bars={"GBPUSD": bars})
    with pytest.raises(DataError, match="increasing"):
        ArrayFeed(["EURUSD"], ticks, warmup_bars={"EURUSD": bars})
    with pytest.raises(DataError, match="after the first tick"):
        ArrayFeed(["EURUSD"], ticks, start_msc=MON + 1)
    with pytest.raises(DataError, match="unknown symbol"):
        ticks_from_rows(["EURUSD"], [(MON, "GBPUSD", 1.3, 1.31)])


def test_walk_feed_is_quiet_while_the_market_is_closed():
    friday = int(datetime(2019, 3, 8, 21, 0, tzinfo=UTC).timestamp() * 1000)
    feed = walk_feed(["EURUSD"], friday, friday + 3 * 86_400_000, step_ms=60_000)

    ticks = feed.ticks_until(friday + 3 * 86_400_000)

    hours = {(datetime.fromtimestamp(t / 1000, UTC).weekday(),
              datetime.fromtimestamp(t / 1000, UTC).hour) for t in ticks["time_msc"].tolist()}
    assert (4, 21) in hours and (6, 22) in hours
    assert not any(day == 5 for day, _ in hours)
    assert (4, 22) not in hours and (6, 21) not in hours
    assert ticks.dtype == TICK_DTYPE


def _spec(name: str, digits: int) -> SymbolSpec:
    return SymbolSpec(name=name, base=name[:3], quote=name[3:], digits=digits,
                      contract_size=100_000, typical_spread_points=30, swap_long=-9.0,
                      swap_short=1.0)


def test_a_feed_symbol_without_a_spec_needs_extra_specs():
    names = ["EURSEK", "USDSEK"]
    ticks = ticks_from_rows(names, [(MON, "EURSEK", 10.5, 10.503), (MON, "USDSEK", 9.3, 9.303)])
    specs = (_spec("EURSEK", 4), _spec("USDSEK", 4))

    with pytest.raises(ConfigError, match="EURSEK"):
        SimTerminal(ArrayFeed(names, ticks))
    term = SimTerminal(ArrayFeed(names, ticks), SimConfig(extra_specs=specs, selected=("EURSEK",)))
    assert term.initialize()
    term.sim_advance_to(MON)
    info = term.symbol_info("EURSEK")
    assert info.digits == 4
    assert info.trade_tick_value == pytest.approx(10.0 / 9.303)  # 10 SEK a point, via USDSEK


def test_a_currency_nothing_converts_is_a_config_error():
    ticks = ticks_from_rows(["EURSEK"], [(MON, "EURSEK", 10.5, 10.503)])

    with pytest.raises(ConfigError, match="nothing converts SEK into USD"):
        SimTerminal(ArrayFeed(["EURSEK"], ticks), SimConfig(extra_specs=(_spec("EURSEK", 4),)))


def test_unknown_preselected_symbol_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown symbol AUDUSD"):
        SimTerminal(rows_feed(), SimConfig(selected=("EURUSD", "AUDUSD")))


def test_the_clock_moves_with_advance_and_never_back():
    term = SimTerminal(rows_feed(), SimConfig(selected=("EURUSD", "GBPUSD")))
    term.initialize()

    first = term.sim_advance_to(MON + 5_000)
    batch = term.sim_last_ticks()
    second = term.sim_advance_to(MON + 1_000)

    assert (first, second) == (3, 0)
    assert term.sim_now_msc() == MON + 5_000
    assert batch["time_msc"].tolist() == [MON, MON, MON + 5_000]
    assert term.sim_symbols() == ("EURUSD", "GBPUSD")
    assert term.sim_stats()["ticks"] == 3


def test_a_huge_single_advance_is_processed_in_chunks():
    feed = walk_feed(["EURUSD", "GBPUSD"], MON, MON + 3 * 3_600_000, step_ms=1_000)
    term = SimTerminal(feed, SimConfig(selected=("EURUSD",), tick_history_max_ticks=5_000))
    term.initialize()

    processed = term.sim_advance_to(MON + 3 * 3_600_000)
    bars = term.copy_rates_range("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1)

    assert processed == 2 * (3 * 3_600 + 1)
    assert bars["tick_volume"].sum() == 3 * 3_600 + 1


def test_default_terminal_runs_on_the_synthetic_market():
    pytest.importorskip("mt5bridge.sim.market")
    began = time.perf_counter()

    term = SimTerminal()

    assert term.initialize()
    assert term.symbols_total() == 16
    assert term.sim_config.market_seed == 0
    term.symbol_select("EURUSD", True)
    assert term.symbol_info_tick("EURUSD") is not None  # quoted from the warm-up history
    assert time.perf_counter() - began >= 0  # construction completes (no timing asserted)
