"""The built-in synthetic FX market: demo data, test bed and bulk bar source.

``SyntheticMarket`` is a ``MarketFeed`` (see ``mt5bridge.feed``): an endless or bounded
stream of ticks for the simulated terminal, with an M1 warm-up history before its start and
its own economic calendar whose events match its news jumps.  ``generate_m1_bars`` is the
fast path for backtests and research: the same process, bars only.

The model (``market_process``) in brief: latent currency values with a common risk-on/off
factor, stochastic volatility and session seasonality; symbol prices are ratios of those
values; with *differential latency* on, each symbol absorbs a shock at its own speed, which
creates temporary cross-symbol disalignments that revert over hours; with it off there is
nothing to exploit.  News jumps hit the event currency at the calendar's event times and
widen its symbols' spreads.  No ticks from Friday 22:00 to Sunday 22:00 UTC, nor on
December 25 and January 1; latent values move over the closure (``weekend_gap_minutes``),
so the market reopens with a gap.  Dated gold futures CFDs join the feed when
``MarketConfig.futures`` names them (``futures_market``; none by default).

Everything is a pure function of ``MarketConfig``: the process runs forward one UTC day at a
time from ``config.history_start_msc``, so bars, ticks and warm-up history agree with each
other and do not depend on how callers slice their requests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from engine.errors import ConfigError
from engine.ticks import BAR_DTYPE, TICK_DTYPE, empty_ticks
from mt5bridge.sim.futures_market import FuturesQuotes, resolve_contracts
from mt5bridge.sim.market_calendar import SyntheticEvent, synthetic_calendar
from mt5bridge.sim.market_config import ALL_SYMBOLS, MarketConfig, to_msc
from mt5bridge.sim.market_process import (
    STREAM_TICKS,
    DayBars,
    MarketProcess,
    stream_rng,
    symbol_key,
)
from mt5bridge.sim.market_sessions import MS_PER_DAY, is_market_open
from mt5bridge.sim.market_ticks import (
    concat_records,
    last_quote,
    merge_symbol_ticks,
    ticks_from_bars,
)
from mt5bridge.sim.symbols import CURRENCIES, SYMBOL_SPECS

__all__ = [
    "ALL_SYMBOLS",
    "MarketConfig",
    "SyntheticEvent",
    "SyntheticMarket",
    "bars_to_frame",
    "generate_latent_values",
    "generate_m1_bars",
    "generate_m1_frames",
    "is_market_open",
]

Quote = tuple[float, float] | None


class SyntheticMarket:
    """The synthetic market as a ``MarketFeed``.

    Days are generated on demand, one at a time, so memory holds one day of ticks plus the
    warm-up bars.  The first use of the feed generates the warm-up days (bars only, about a
    quarter of a second for the default 35 days of 16 symbols).  ``end`` is exclusive.
    """

    def __init__(self, config: MarketConfig | None = None) -> None:
        self._config = config if config is not None else MarketConfig()
        self._process = MarketProcess(self._config)
        self._digits = [SYMBOL_SPECS[name].digits for name in self._config.symbols]
        self._keys = [symbol_key(name) for name in self._config.symbols]
        self._last_quotes: list[Quote] = [None] * len(self._config.symbols)
        self._warmup: dict[str, np.ndarray] | None = None
        self._start_day: DayBars | None = None
        self._buffer = empty_ticks()
        # The buffer's times as their own contiguous array: searching the structured
        # array's strided time field would copy the whole day on every call.
        self._buffer_times = np.empty(0, dtype=np.int64)
        self._cursor = 0
        # Dated futures CFDs (MarketConfig.futures), after the cash symbols; None without.
        self._futures: FuturesQuotes | None = None
        self._symbols = self._config.symbols
        if self._config.futures:
            contracts = resolve_contracts(self._config.futures, self._config.symbols,
                                          "synthetic market")
            self._futures = FuturesQuotes(contracts, self._config.symbols,
                                          self._config.futures_mispricing, self._config.seed)
            self._symbols = (*self._config.symbols, *self._futures.names)

    # -- MarketFeed --------------------------------------------------------------------

    @property
    def config(self) -> MarketConfig:
        return self._config

    @property
    def symbols(self) -> Sequence[str]:
        return self._symbols

    @property
    def start_msc(self) -> int:
        return self._config.start_msc

    @property
    def end_msc(self) -> int | None:
        return self._config.end_msc

    def next_time(self) -> int | None:
        self._ensure_started()
        while self._cursor >= len(self._buffer):
            if not self._load_next_day():
                return None
        return int(self._buffer_times[self._cursor])

    def ticks_until(self, t_msc: int) -> np.ndarray:
        self._ensure_started()
        parts = []
        while True:
            buffer = self._buffer
            if self._cursor < len(buffer):
                stop = int(np.searchsorted(self._buffer_times, t_msc, side="right"))
                if stop > self._cursor:
                    parts.append(buffer[self._cursor: stop])
                    self._cursor = stop
                if self._cursor < len(buffer):
                    break
            if self._process.next_day * MS_PER_DAY > t_msc or not self._load_next_day():
                break
        if not parts:
            return empty_ticks()
        return concat_records(parts, TICK_DTYPE)

    def warmup_bars(self) -> dict[str, np.ndarray]:
        """M1 bars of the ``warmup_days`` before ``start`` (each bar ends at or before it)."""
        self._ensure_started()
        assert self._warmup is not None
        return {name: bars.copy() for name, bars in self._warmup.items()}

    # -- beyond the protocol -----------------------------------------------------------

    def warmup_ticks(self, from_msc: int, to_msc: int) -> np.ndarray:
        """Ticks in ``[from_msc, min(to_msc, start))``, for ``copy_ticks_*`` before the start.

        They are the ticks the feed would have delivered had it started earlier: the same
        bars and random streams.
        """
        self._ensure_started()
        assert self._warmup is not None and self._start_day is not None
        to_msc = min(to_msc, self.start_msc)
        from_msc = max(from_msc, self._config.history_start_msc)
        if to_msc <= from_msc:
            return empty_ticks()
        days = []
        for day in range(from_msc // MS_PER_DAY, (to_msc - 1) // MS_PER_DAY + 1):
            bars, quotes = self._warmup_day(day)
            ticks = self._day_ticks(day, bars, quotes)
            if self._futures is not None:
                ticks = self._futures.add_to(ticks, stream=False)
            days.append(ticks[(ticks["time_msc"] >= from_msc) & (ticks["time_msc"] < to_msc)])
        return concat_records(days, TICK_DTYPE)

    def calendar_events(self, from_msc: int, to_msc: int) -> list[SyntheticEvent]:
        """The market's scheduled events in ``[from_msc, to_msc)``; none when news is off."""
        if not self._config.news:
            return []
        return synthetic_calendar(from_msc, to_msc)

    # -- internals -----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        """Generate the warm-up days and the start day (once)."""
        if self._warmup is not None:
            return
        start_day = self.start_msc // MS_PER_DAY
        parts: list[list[np.ndarray]] = [[] for _ in self._config.symbols]
        while self._process.next_day < start_day:
            for j, bars in enumerate(self._process.next_day_bars().bars):
                parts[j].append(bars)
        for j, bars in enumerate(parts):
            self._last_quotes[j] = _last_quote_of(bars, self._digits[j])
        day = self._process.next_day_bars()
        for j, bars in enumerate(day.bars):
            parts[j].append(bars[(bars["time"] + 60) * 1000 <= self.start_msc])
        self._warmup = {
            name: concat_records(parts[j], BAR_DTYPE) for j, name in enumerate(self._config.symbols)
        }
        if self._futures is not None:
            self._warmup.update(self._futures.bars(self._warmup))
        self._start_day = day
        self._load_day(day)

    def _load_next_day(self) -> bool:
        end = self.end_msc
        if end is not None and self._process.next_day * MS_PER_DAY >= end:
            return False
        self._load_day(self._process.next_day_bars())
        return True

    def _load_day(self, day: DayBars) -> None:
        ticks = self._day_ticks(day.day, day.bars, self._last_quotes)
        if self._futures is not None:
            ticks = self._futures.add_to(ticks)
        for j, bars in enumerate(day.bars):
            self._last_quotes[j] = last_quote(bars, self._digits[j]) or self._last_quotes[j]
        times = ticks["time_msc"]
        first = int(np.searchsorted(times, self.start_msc, side="left"))
        end = self.end_msc
        stop = len(ticks) if end is None else int(np.searchsorted(times, end, side="left"))
        self._buffer = ticks[first:stop]
        self._buffer_times = np.ascontiguousarray(self._buffer["time_msc"])
        self._cursor = 0

    def _day_ticks(self, day: int, bars: Sequence[np.ndarray], quotes: Sequence[Quote],
                   ) -> np.ndarray:
        seed = self._config.seed
        per_symbol = [
            ticks_from_bars(b, j, self._digits[j],
                            stream_rng(seed, day, STREAM_TICKS, self._keys[j]), quotes[j])
            for j, b in enumerate(bars)
            if len(b)
        ]
        return merge_symbol_ticks(per_symbol)

    def _warmup_day(self, day: int) -> tuple[list[np.ndarray], list[Quote]]:
        """A history day's full bars and each symbol's quote before it."""
        assert self._warmup is not None and self._start_day is not None
        lo_s, hi_s = day * MS_PER_DAY // 1000, (day + 1) * MS_PER_DAY // 1000
        bars, quotes = [], []
        for j, name in enumerate(self._config.symbols):
            history = self._warmup[name]
            lo, hi = np.searchsorted(history["time"], [lo_s, hi_s], side="left")
            if day == self._start_day.day:
                bars.append(self._start_day.bars[j])
            else:
                bars.append(history[lo:hi])
            quotes.append(last_quote(history[:lo], self._digits[j]))
        return bars, quotes


def _last_quote_of(parts: list[np.ndarray], digits: int) -> Quote:
    for bars in reversed(parts):
        if len(bars):
            return last_quote(bars, digits)
    return None


def _range_msc(config: MarketConfig, start: datetime | None, end: datetime | None,
               ) -> tuple[int, int]:
    start_msc = config.history_start_msc if start is None else to_msc(_utc(start, "start"))
    if end is None and config.end is None:
        raise ConfigError("synthetic market", "end", "an end time is needed to generate bars")
    end_msc = to_msc(_utc(end, "end")) if end is not None else config.end_msc
    assert end_msc is not None
    if start_msc < config.history_start_msc:
        raise ConfigError("synthetic market", "start",
                          "bars cannot start before the history start (start - warmup_days)")
    if end_msc <= start_msc:
        raise ConfigError("synthetic market", "end", "end is not after start")
    return start_msc, end_msc


def _utc(when: datetime, key: str) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ConfigError("synthetic market", key,
                          f"must be a timezone-aware datetime, got {when!r}")
    return when


def _days(config: MarketConfig, start_msc: int, end_msc: int) -> Iterator[DayBars]:
    process = MarketProcess(config)
    while process.next_day * MS_PER_DAY < end_msc:
        day = process.next_day_bars()
        if (day.day + 1) * MS_PER_DAY > start_msc:
            yield day


def generate_m1_bars(config: MarketConfig, start: datetime | None = None,
                     end: datetime | None = None) -> dict[str, np.ndarray]:
    """M1 bars (``BAR_DTYPE``) opening in ``[start, end)`` for every configured symbol.

    ``start`` defaults to the history start (``config.start - warmup_days``), ``end`` to
    ``config.end``.  These are exactly the bars the feed's ticks aggregate to and the ones
    ``warmup_bars`` serves: one process, simulated from the history start.
    """
    start_msc, end_msc = _range_msc(config, start, end)
    parts: list[list[np.ndarray]] = [[] for _ in config.symbols]
    for day in _days(config, start_msc, end_msc):
        for j, bars in enumerate(day.bars):
            t_msc = bars["time"] * 1000
            parts[j].append(bars[(t_msc >= start_msc) & (t_msc < end_msc)])
    return {name: concat_records(parts[j], BAR_DTYPE) for j, name in enumerate(config.symbols)}


def bars_to_frame(bars: np.ndarray) -> pd.DataFrame:
    """``BAR_DTYPE`` bars as a DataFrame indexed by UTC bar open time."""
    index = pd.DatetimeIndex(pd.to_datetime(bars["time"], unit="s", utc=True), name="time")
    return pd.DataFrame({name: bars[name] for name in BAR_DTYPE.names if name != "time"},
                        index=index)


def generate_m1_frames(config: MarketConfig, start: datetime | None = None,
                       end: datetime | None = None) -> dict[str, pd.DataFrame]:
    """``generate_m1_bars`` as one DataFrame per symbol, for research and tests."""
    return {name: bars_to_frame(b) for name, b in generate_m1_bars(config, start, end).items()}


def generate_latent_values(config: MarketConfig, start: datetime | None = None,
                           end: datetime | None = None) -> pd.DataFrame:
    """Latent USD value of every currency at the end of each minute in ``[start, end)``.

    Indexed by the minute's open time (the time of the bar whose close it matches), one
    column per currency, every minute including closed ones.  With latency off a symbol's
    mid close is ``value(base) / value(quote)`` within rounding.
    """
    start_msc, end_msc = _range_msc(config, start, end)
    frames = []
    for day in _days(config, start_msc, end_msc):
        minutes = day.start_msc + 60_000 * np.arange(len(day.log_values), dtype=np.int64)
        keep = (minutes >= start_msc) & (minutes < end_msc)
        index = pd.DatetimeIndex(pd.to_datetime(minutes[keep], unit="ms", utc=True), name="time")
        frames.append(pd.DataFrame(np.exp(day.log_values[keep]), index=index,
                                   columns=list(CURRENCIES)))
    return pd.concat(frames)
