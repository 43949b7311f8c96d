"""The synthetic market: determinism, trading hours, quotes, history, latency, news, seasons."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ConfigError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge.feed import MarketFeed
from mt5bridge.sim.market import (
    MarketConfig,
    SyntheticEvent,
    SyntheticMarket,
    bars_to_frame,
    generate_latent_values,
    generate_m1_bars,
    generate_m1_frames,
    is_market_open,
)
from mt5bridge.sim.market_calendar import synthetic_calendar
from mt5bridge.sim.market_process import exp_decay_filter
from mt5bridge.sim.symbols import SYMBOL_SPECS

MONDAY = datetime(2019, 1, 7, tzinfo=UTC)
DAY_MS = 86_400_000
TRIANGLE = ("EURUSD", "USDJPY", "EURJPY")


def msc(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def small_config(**overrides: object) -> MarketConfig:
    base = {"seed": 7, "symbols": TRIANGLE, "start": MONDAY, "warmup_days": 1,
            "end": MONDAY + timedelta(days=2)}
    base.update(overrides)
    return MarketConfig(**base)  # type: ignore[arg-type]


def all_ticks(market: SyntheticMarket) -> np.ndarray:
    assert market.end_msc is not None
    return market.ticks_until(market.end_msc)


def aggregate_m1(ticks: np.ndarray, symbol_index: int) -> np.ndarray:
    """M1 bid bars from one symbol's ticks, the way a terminal would build them."""
    mine = ticks[ticks["symbol"] == symbol_index]
    minute = mine["time_msc"] // 60_000
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    bars = np.empty(len(starts), dtype=BAR_DTYPE)
    bars["time"] = minute[starts] * 60
    bars["open"] = mine["bid"][starts]
    bars["close"] = mine["bid"][np.r_[starts[1:], len(mine)] - 1]
    bars["high"] = np.maximum.reduceat(mine["bid"], starts)
    bars["low"] = np.minimum.reduceat(mine["bid"], starts)
    bars["tick_volume"] = np.diff(np.r_[starts, len(mine)])
    bars["spread"] = np.add.reduceat(mine["ask"] - mine["bid"], starts) / bars["tick_volume"]
    return bars


def assert_same_bars(built: np.ndarray, expected: np.ndarray, name: str) -> None:
    """Bars equal field by field; the mean spread only to float rounding."""
    assert len(built) == len(expected), name
    for field in ("time", "open", "high", "low", "close", "tick_volume"):
        assert np.array_equal(built[field], expected[field]), (name, field)
    np.testing.assert_allclose(built["spread"], expected["spread"], rtol=0, atol=1e-9)


# -- the feed contract ---------------------------------------------------------------------


def test_market_is_a_market_feed():
    market = SyntheticMarket(small_config())

    assert isinstance(market, MarketFeed)
    assert tuple(market.symbols) == TRIANGLE
    assert market.start_msc == msc(MONDAY)
    assert market.end_msc == msc(MONDAY + timedelta(days=2))


def test_same_seed_and_config_give_bit_identical_ticks_and_history():
    first, second = SyntheticMarket(small_config()), SyntheticMarket(small_config())

    ticks_a, ticks_b = all_ticks(first), all_ticks(second)
    warm_a, warm_b = first.warmup_bars(), second.warmup_bars()

    assert len(ticks_a) > 10_000
    assert ticks_a.tobytes() == ticks_b.tobytes()
    assert all(warm_a[s].tobytes() == warm_b[s].tobytes() for s in TRIANGLE)


def test_a_different_seed_gives_a_different_market():
    ticks_a = all_ticks(SyntheticMarket(small_config(seed=7)))
    ticks_b = all_ticks(SyntheticMarket(small_config(seed=8)))

    assert ticks_a.tobytes() != ticks_b.tobytes()


def test_chunked_delivery_is_bit_identical_to_one_batch():
    whole = all_ticks(SyntheticMarket(small_config()))
    market = SyntheticMarket(small_config())
    rng = np.random.default_rng(3)
    parts, t = [], market.start_msc - 5_000
    while (nxt := market.next_time()) is not None:
        assert nxt > t  # next_time is the first undelivered tick
        t += int(rng.choice([1, 250, 60_000, 3_600_000, 20 * 3_600_000]))
        parts.append(market.ticks_until(t))

    chunked = np.concatenate(parts)

    assert chunked.tobytes() == whole.tobytes()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=DAY_MS), min_size=1, max_size=12))
def test_any_chunking_of_ticks_until_gives_the_same_ticks(cuts):
    config = small_config(symbols=("GBPUSD",), warmup_days=0, end=MONDAY + timedelta(days=1))
    whole = all_ticks(SyntheticMarket(config))
    market = SyntheticMarket(config)

    parts = [market.ticks_until(market.start_msc + c) for c in sorted(cuts)]
    parts.append(all_ticks(market))

    assert np.concatenate(parts).tobytes() == whole.tobytes()


def test_asking_again_for_an_earlier_time_returns_nothing():
    market = SyntheticMarket(small_config())
    market.ticks_until(market.start_msc + 3_600_000)

    again = market.ticks_until(market.start_msc + 1_800_000)

    assert len(again) == 0 and again.dtype == TICK_DTYPE


def test_a_bounded_feed_ends_and_an_endless_one_does_not():
    bounded = SyntheticMarket(small_config())
    endless = SyntheticMarket(small_config(end=None))

    delivered = all_ticks(bounded)
    after_end = bounded.ticks_until(bounded.end_msc + DAY_MS)  # type: ignore[operator]
    far = endless.ticks_until(endless.start_msc + 9 * DAY_MS)

    assert delivered["time_msc"].max() < bounded.end_msc  # type: ignore[operator]
    assert bounded.next_time() is None and len(after_end) == 0
    assert endless.end_msc is None
    assert endless.next_time() is not None
    assert far["time_msc"].max() > endless.start_msc + 8 * DAY_MS


def test_a_symbols_prices_do_not_depend_on_the_other_configured_symbols():
    alone = generate_m1_bars(small_config(symbols=("EURJPY",)))
    among_all = generate_m1_bars(small_config(symbols=tuple(SYMBOL_SPECS)))

    assert alone["EURJPY"].tobytes() == among_all["EURJPY"].tobytes()


# -- trading hours -------------------------------------------------------------------------


def test_no_ticks_from_friday_22_to_sunday_22_nor_on_christmas_and_new_year():
    config = small_config(start=datetime(2018, 12, 20, tzinfo=UTC),
                          end=datetime(2019, 1, 4, tzinfo=UTC), warmup_days=0)
    ticks = all_ticks(SyntheticMarket(config))
    times = pd.to_datetime(ticks["time_msc"], unit="ms", utc=True)
    weekday, minute = times.day_of_week, times.hour * 60 + times.minute

    in_weekend = ((weekday == 4) & (minute >= 22 * 60)) | (weekday == 5) \
        | ((weekday == 6) & (minute < 22 * 60))
    on_holiday = ((times.month == 12) & (times.day == 25)) | ((times.month == 1) & (times.day == 1))

    assert len(ticks) > 100_000
    assert not in_weekend.any()
    assert not on_holiday.any()
    assert all(is_market_open(int(t)) for t in ticks["time_msc"][::500])
    # ...but the market does trade right up to the close and from the open.
    assert ((weekday == 4) & (minute == 22 * 60 - 1)).any()
    assert ((weekday == 6) & (minute == 22 * 60)).any()


def test_gold_does_not_quote_during_its_daily_break():
    config = small_config(symbols=("XAUUSD", "EURUSD"), warmup_days=0)
    ticks = all_ticks(SyntheticMarket(config))
    hour = (ticks["time_msc"] // 3_600_000) % 24

    assert not ((ticks["symbol"] == 0) & (hour == 22)).any()
    assert ((ticks["symbol"] == 1) & (hour == 22)).any()


# -- quotes --------------------------------------------------------------------------------


def test_quotes_are_positive_uncrossed_rounded_and_time_ordered_for_every_symbol():
    symbols = tuple(SYMBOL_SPECS)
    config = small_config(symbols=symbols, warmup_days=0, end=MONDAY + timedelta(days=1))
    ticks = all_ticks(SyntheticMarket(config))

    assert np.all(np.diff(ticks["time_msc"]) >= 0)
    assert set(np.unique(ticks["symbol"])) == set(range(len(symbols)))
    assert np.all(ticks["bid"] > 0)
    for j, name in enumerate(symbols):
        spec = SYMBOL_SPECS[name]
        mine = ticks[ticks["symbol"] == j]
        assert np.all(mine["ask"] - mine["bid"] >= spec.point * (1 - 1e-9)), name
        for side in ("bid", "ask"):
            assert np.array_equal(np.round(mine[side], spec.digits), mine[side]), (name, side)


def test_flags_say_which_side_of_the_quote_changed():
    ticks = all_ticks(SyntheticMarket(small_config()))

    for j in range(len(TRIANGLE)):
        mine = ticks[ticks["symbol"] == j]
        bid_changed = np.r_[True, mine["bid"][1:] != mine["bid"][:-1]]
        ask_changed = np.r_[True, mine["ask"][1:] != mine["ask"][:-1]]
        assert np.array_equal((mine["flags"][1:] & 2) != 0, bid_changed[1:])
        assert np.array_equal((mine["flags"][1:] & 4) != 0, ask_changed[1:])


def test_ticks_aggregate_exactly_to_the_bulk_m1_bars():
    config = small_config()
    ticks = all_ticks(SyntheticMarket(config))
    bars = generate_m1_bars(config, MONDAY, config.end)

    for j, name in enumerate(TRIANGLE):
        assert len(bars[name]) > 2000
        assert_same_bars(aggregate_m1(ticks, j), bars[name], name)


def test_bars_are_consistent_ohlc_with_a_spread_of_at_least_a_point():
    bars = generate_m1_bars(small_config())

    for name, b in bars.items():
        assert np.all(b["low"] <= np.minimum(b["open"], b["close"])), name
        assert np.all(b["high"] >= np.maximum(b["open"], b["close"])), name
        assert np.all(b["tick_volume"] >= 1), name
        assert np.all(b["spread"] >= SYMBOL_SPECS[name].point * (1 - 1e-9)), name


# -- warm-up history -----------------------------------------------------------------------


def test_warmup_covers_the_configured_days_and_is_continuous_with_the_first_ticks():
    config = small_config(warmup_days=35, end=MONDAY + timedelta(days=1))
    market = SyntheticMarket(config)

    warm = market.warmup_bars()
    first = market.ticks_until(market.start_msc + 60_000)

    for j, name in enumerate(TRIANGLE):
        bars = warm[name]
        m30 = np.unique(bars["time"] // 1800)
        assert bars["time"][0] * 1000 >= msc(MONDAY - timedelta(days=35))
        assert bars["time"][0] * 1000 < msc(MONDAY - timedelta(days=34))
        assert (bars["time"][-1] + 60) * 1000 <= market.start_msc
        assert len(m30) >= 700, name
        first_bid = first["bid"][first["symbol"] == j][0]
        assert abs(first_bid / bars["close"][-1] - 1) < 5e-4, name


def test_a_start_inside_a_minute_splits_history_and_ticks_at_the_start():
    start = MONDAY + timedelta(hours=10, seconds=30)
    market = SyntheticMarket(small_config(start=start))

    warm = market.warmup_bars()
    ticks = market.ticks_until(market.start_msc + 60_000)

    assert all(warm[s]["time"][-1] == msc(start) // 1000 - 90 for s in TRIANGLE)
    assert ticks["time_msc"].min() >= msc(start)


def test_warmup_bars_are_the_bulk_bars_before_the_start():
    config = small_config(warmup_days=3)

    warm = SyntheticMarket(config).warmup_bars()
    bulk = generate_m1_bars(config, None, MONDAY)

    assert all(warm[s].tobytes() == bulk[s].tobytes() for s in TRIANGLE)


def test_warmup_ticks_aggregate_to_the_warmup_bars():
    config = small_config(warmup_days=2)
    market = SyntheticMarket(config)
    warm = market.warmup_bars()

    ticks = market.warmup_ticks(market.start_msc - DAY_MS, market.start_msc)

    assert ticks["time_msc"].max() < market.start_msc
    for j, name in enumerate(TRIANGLE):
        expected = warm[name][warm[name]["time"] * 1000 >= market.start_msc - DAY_MS]
        assert_same_bars(aggregate_m1(ticks, j), expected, name)


# -- differential latency ------------------------------------------------------------------


def test_without_latency_every_symbol_is_the_ratio_of_its_latent_values():
    config = small_config(latency=False, symbols=(*TRIANGLE, "XAUUSD", "AUDNZD"))
    frames = generate_m1_frames(config)
    latent = generate_latent_values(config)

    for name, frame in frames.items():
        spec = SYMBOL_SPECS[name]
        mid = frame["close"] + frame["spread"] / 2
        implied = (latent[spec.base] / latent[spec.quote]).reindex(frame.index)
        assert (mid - implied).abs().max() <= 0.5 * spec.point + 1e-9, name


def test_without_latency_the_cross_equals_the_product_of_its_legs_at_every_minute():
    frames = generate_m1_frames(small_config(latency=False))
    mid = pd.DataFrame({s: f["close"] + f["spread"] / 2 for s, f in frames.items()}).dropna()

    implied = mid["EURUSD"] * mid["USDJPY"]
    # Each mid is within half a point of the exact ratio; propagate that to the product.
    bound = 0.0005 + implied * (0.5e-5 / mid["EURUSD"] + 0.0005 / mid["USDJPY"]) + 1e-9

    assert len(mid) > 2000
    assert ((mid["EURJPY"] - implied).abs() <= bound).all()


def test_with_latency_symbols_drift_away_from_the_latent_ratio():
    config = small_config(symbols=("EURJPY",))
    frame = generate_m1_frames(config)["EURJPY"]
    latent = generate_latent_values(config)

    mid = frame["close"] + frame["spread"] / 2
    gap = (mid - (latent["EUR"] / latent["JPY"]).reindex(frame.index)).abs()

    assert gap.max() > 20 * SYMBOL_SPECS["EURJPY"].point


def _pair_variance_ratios(latency: bool, horizon: int = 8) -> list[float]:
    """4-hour variance ratios of every pairwise log-ratio of a cluster, on M30 mid closes."""
    cluster = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")
    config = MarketConfig(seed=11, symbols=cluster, start=MONDAY, warmup_days=0,
                          end=MONDAY + timedelta(days=150), latency=latency)
    frames = generate_m1_frames(config)
    closes = pd.DataFrame({
        s: (f["close"] + f["spread"] / 2).resample("30min").last() for s, f in frames.items()
    }).dropna()
    logs = np.log(closes)
    ratios = []
    for i, a in enumerate(cluster):
        for b in cluster[i + 1:]:
            x = (logs[a] - logs[b]).to_numpy()
            one, many = np.diff(x), x[horizon:] - x[:-horizon]
            ratios.append(float(many.var() / (horizon * one.var())))
    return ratios


def test_latency_makes_cluster_log_ratios_mean_revert_and_its_absence_does_not():
    with_latency = _pair_variance_ratios(latency=True)
    without = _pair_variance_ratios(latency=False)

    # ~5 months of M30 bars: one variance ratio's standard error is about 0.045, so the
    # cluster means are compared, and each pair against itself on the same shocks.
    assert np.mean(with_latency) < 0.9
    assert 0.93 < np.mean(without) < 1.1
    assert all(on < off - 0.05 for on, off in zip(with_latency, without, strict=True))


# -- news ----------------------------------------------------------------------------------


def test_calendar_is_deterministic_ordered_and_only_in_open_hours():
    january = (msc(datetime(2019, 1, 1, tzinfo=UTC)), msc(datetime(2019, 2, 1, tzinfo=UTC)))
    jan = synthetic_calendar(*january)

    nfp = [e for e in jan if e.title == "Non-Farm Employment Change"]

    assert jan == synthetic_calendar(*january)
    assert [e.time_msc for e in jan] == sorted(e.time_msc for e in jan)
    assert nfp == [SyntheticEvent(msc(datetime(2019, 1, 4, 13, 30, tzinfo=UTC)), "USD", "High",
                                  "Non-Farm Employment Change")]
    assert all(is_market_open(e.time_msc) for e in jan)
    assert {e.impact for e in jan} == {"High", "Medium", "Low"}
    assert {e.currency for e in jan} >= {"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "NZD", "CHF"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        jan[0].impact = "Low"  # type: ignore[misc]


def test_calendar_range_is_half_open():
    nfp = msc(datetime(2019, 1, 4, 13, 30, tzinfo=UTC))

    assert any(e.time_msc == nfp for e in synthetic_calendar(nfp, nfp + 1))
    assert not any(e.time_msc == nfp for e in synthetic_calendar(nfp - 60_000, nfp))


def test_market_calendar_is_empty_when_news_is_off():
    four_weeks = (msc(MONDAY), msc(MONDAY) + 28 * DAY_MS)

    on = SyntheticMarket(small_config()).calendar_events(*four_weeks)
    off = SyntheticMarket(small_config(news=False)).calendar_events(*four_weeks)

    assert len(on) >= 30 and off == []


@pytest.fixture(scope="module")
def news_weeks() -> tuple[dict[str, pd.DataFrame], list[SyntheticEvent]]:
    config = MarketConfig(seed=4, symbols=("EURUSD", "USDJPY", "AUDUSD", "EURGBP"),
                          start=MONDAY, warmup_days=0, end=MONDAY + timedelta(days=56))
    market = SyntheticMarket(config)
    return generate_m1_frames(config), market.calendar_events(config.start_msc, config.end_msc)


def _event_effects(frame: pd.DataFrame, column: str, events: list[SyntheticEvent],
                   ) -> list[float]:
    """Each event minute's value over the mean of the same minute of the day on other days."""
    values = frame[column]
    minute_of_day = frame.index.hour * 60 + frame.index.minute
    effects = []
    for event in events:
        at = pd.Timestamp(event.time_msc, unit="ms", tz="UTC")
        if at not in values.index:
            continue
        same_minute = (minute_of_day == at.hour * 60 + at.minute) & (frame.index != at)
        effects.append(float(values[at] / values[same_minute].mean()))
    return effects


def _split_by_currency(symbol: str, events: list[SyntheticEvent],
                       ) -> tuple[list[SyntheticEvent], list[SyntheticEvent]]:
    """High-impact events of the symbol's currencies, and the others that are not within
    an hour after any event of its currencies (payrolls and Canada's jobs share a minute)."""
    spec = SYMBOL_SPECS[symbol]
    own = [e for e in events if e.currency in (spec.base, spec.quote)]
    mine = [e for e in own if e.impact == "High"]
    others = [
        e for e in events
        if e.impact == "High" and e not in own
        and not any(0 <= e.time_msc - o.time_msc <= 3_600_000 for o in own)
    ]
    return mine, others


def test_news_jumps_hit_the_event_currency_at_the_event_minute(news_weeks):
    frames, events = news_weeks
    affected, unaffected = [], []
    for symbol, frame in frames.items():
        moves = frame.assign(move=np.log(frame["close"]).diff().abs())
        mine, others = _split_by_currency(symbol, events)
        affected += _event_effects(moves, "move", mine)
        unaffected += _event_effects(moves, "move", others)

    assert len(affected) >= 15 and len(unaffected) >= 15
    assert np.mean(affected) > 5
    assert np.mean(unaffected) < 2


def test_news_widens_the_spreads_of_the_event_currency_only(news_weeks):
    frames, events = news_weeks
    affected, unaffected = [], []
    for symbol, frame in frames.items():
        mine, others = _split_by_currency(symbol, events)
        affected += _event_effects(frame, "spread", mine)
        unaffected += _event_effects(frame, "spread", others)

    assert np.mean(affected) > 4
    assert np.mean(unaffected) < 1.3


def test_switching_news_off_removes_the_jumps_but_keeps_the_rest_of_the_path():
    day = datetime(2019, 1, 4, tzinfo=UTC)
    config = small_config(symbols=("EURUSD",), start=day, end=day + timedelta(days=1),
                          warmup_days=0)
    first = synthetic_calendar(msc(day), msc(day) + DAY_MS)[0]
    at = pd.Timestamp(first.time_msc, unit="ms", tz="UTC")

    with_news = generate_latent_values(config)
    without = generate_latent_values(dataclasses.replace(config, news=False))
    before = with_news.index < at

    assert before.sum() > 60
    assert np.array_equal(with_news[before].to_numpy(), without[before].to_numpy())
    assert abs(np.log(with_news.loc[at, first.currency] / without.loc[at, first.currency])) > 0


# -- sessions ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eurusd_weeks() -> pd.DataFrame:
    config = MarketConfig(seed=2, symbols=("EURUSD",), start=MONDAY, warmup_days=0,
                          end=MONDAY + timedelta(days=21))
    return generate_m1_frames(config)["EURUSD"]


def test_london_new_york_overlap_is_busier_and_more_volatile_than_asia(eurusd_weeks):
    bars = eurusd_weeks
    hour = bars.index.hour
    moves = np.log(bars["close"]).diff().abs()
    overlap, asia = (hour >= 12) & (hour < 16), (hour >= 0) & (hour < 6)

    assert bars["tick_volume"][overlap].mean() > 1.8 * bars["tick_volume"][asia].mean()
    assert moves[overlap].mean() > 1.8 * moves[asia].mean()


def test_spreads_widen_at_rollover_and_mildly_in_asia(eurusd_weeks):
    spread = eurusd_weeks["spread"]
    minute = spread.index.hour * 60 + spread.index.minute

    rollover = spread[(minute >= 22 * 60) & (minute < 22 * 60 + 5)].mean()
    london = spread[(minute >= 9 * 60) & (minute < 11 * 60)].mean()
    asia = spread[(minute >= 1 * 60) & (minute < 5 * 60)].mean()

    assert rollover > 3 * london
    assert 1.1 * london < asia < 2 * london


def test_latent_values_rest_over_the_weekend_and_reopen_with_a_gap():
    def reopen_moves(gap_minutes: float) -> tuple[pd.Series, pd.Series]:
        config = MarketConfig(seed=5, symbols=("EURUSD",), start=MONDAY, warmup_days=0,
                              end=MONDAY + timedelta(days=70), weekend_gap_minutes=gap_minutes)
        latent = np.log(generate_latent_values(config)["EUR"])
        sundays = latent.index[(latent.index.day_of_week == 6) & (latent.index.hour == 22)
                               & (latent.index.minute == 0)]
        friday_close = latent.shift(1).reindex(sundays).to_numpy()  # Sunday 21:59 = Friday's
        saturday = latent.reindex(sundays - pd.Timedelta(hours=24)).to_numpy()
        reopen = latent.reindex(sundays).to_numpy()
        return np.abs(reopen - friday_close), np.abs(saturday - friday_close)

    gapped, rest_gapped = reopen_moves(60.0)
    plain, rest_plain = reopen_moves(0.0)

    assert len(gapped) >= 9
    assert rest_gapped.max() == 0 and rest_plain.max() == 0
    assert gapped.mean() > 3 * plain.mean()


# -- bulk bars and configuration -----------------------------------------------------------


def test_bars_come_as_utc_dataframes_for_research():
    frames = generate_m1_frames(small_config(symbols=("EURUSD",)))

    frame = frames["EURUSD"]

    assert str(frame.index.tz) == "UTC"
    assert list(frame.columns) == ["open", "high", "low", "close", "tick_volume", "spread"]
    assert frame.index.is_monotonic_increasing
    assert bars_to_frame(np.empty(0, dtype=BAR_DTYPE)).empty


def test_bulk_bars_need_an_end_and_a_start_within_the_history():
    endless = small_config(end=None)

    with pytest.raises(ConfigError, match="end"):
        generate_m1_bars(endless)
    with pytest.raises(ConfigError, match="start"):
        generate_m1_bars(endless, MONDAY - timedelta(days=5), MONDAY)
    with pytest.raises(ConfigError, match="timezone"):
        generate_m1_bars(endless, datetime(2019, 1, 7), MONDAY + timedelta(days=1))


@pytest.mark.parametrize(("overrides", "key"), [
    ({"symbols": ("EURUSD", "EURXYZ")}, "symbols"),
    ({"symbols": ()}, "symbols"),
    ({"symbols": ("EURUSD", "EURUSD")}, "symbols"),
    ({"seed": -1}, "seed"),
    ({"start": datetime(2019, 1, 7)}, "start"),
    ({"end": MONDAY}, "end"),
    ({"warmup_days": -3}, "warmup_days"),
    ({"ticks_per_minute": 0.0}, "ticks_per_minute"),
    ({"vol_scale": float("nan")}, "vol_scale"),
    ({"latency_strength": -5.0}, "latency_strength"),
    ({"weekend_gap_minutes": -1.0}, "weekend_gap_minutes"),
])
def test_bad_configuration_is_a_config_error_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key):
        small_config(**overrides)


def test_exp_decay_filter_matches_the_recursion_even_across_blocks():
    rng = np.random.default_rng(0)
    shocks = rng.standard_normal((500, 3))
    decay = np.where(rng.random((500, 1)) < 0.2, 0.0, 1.0) * np.array([0.01, 0.5, 3.0])
    state = np.array([0.1, -0.2, 0.3])

    fast, last = exp_decay_filter(shocks, decay, state)

    expected, level = np.empty_like(shocks), state.copy()
    for t in range(len(shocks)):
        level = np.exp(-decay[t]) * level + shocks[t]
        expected[t] = level
    np.testing.assert_allclose(fast, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(last, expected[-1], rtol=1e-9, atol=1e-12)
