"""Configuration of the synthetic market.

One frozen dataclass holds everything that decides the market's output: the same config
(seed included) always produces bit-identical bars and ticks.  Invalid values raise
``ConfigError`` naming the key, so a bad demo setting is one readable line, not a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engine.errors import ConfigError
from mt5bridge.sim.futures_market import resolve_contracts
from mt5bridge.sim.futures_price import Mispricing
from mt5bridge.sim.market_params import latency_of
from mt5bridge.sim.market_sessions import MS_PER_DAY
from mt5bridge.sim.symbols import CURRENCIES, SYMBOL_SPECS

#: Every symbol the simulated broker lists, in its catalogue order.
ALL_SYMBOLS: tuple[str, ...] = tuple(SYMBOL_SPECS)

_WHERE = "synthetic market"


@dataclass(frozen=True)
class MarketConfig:
    """What the synthetic market generates.

    - ``seed``: any non-negative integer; the market is a pure function of the config.
    - ``symbols``: the symbols quoted (default: all 16 the broker lists).  A symbol's prices
      do not depend on which other symbols are configured.
    - ``start``: time of the first tick (tz-aware; default Monday 2019-01-07 00:00 UTC).
    - ``end``: end of the feed, exclusive; ``None`` (default) is an endless feed.
    - ``warmup_days``: calendar days of M1 history served before ``start`` (default 35: the
      engine needs about 700 M30 bars before its first valid TDI).
    - ``latency``: the switch for differential latency.  On (default), each symbol absorbs a
      currency shock with its own impact and speed (``market_params.SYMBOL_LATENCY``), which
      creates temporary cross-symbol disalignments that revert over tens of minutes to
      hours.  Off, every symbol is exactly the ratio of its currencies' latent values at
      every minute: a market with nothing to exploit.
    - ``latency_strength``: multiplies each symbol's transient response ``impact - 1``
      (default 2.0: at 1.0 the disalignments are real but mostly below the round-trip cost
      of a basket, so the demo would show the engine paying spreads for nothing; at 2.0 the
      default clusters trade a visible edge, about Sharpe 1.8 over a year; 0 is the same as
      ``latency=False``; a negative value turns the over-reaction into a lag of the same
      size, a trending market kept for research).
    - ``ticks_per_minute``: mean tick arrivals per minute at average activity for a symbol
      of liquidity 1 such as USDCHF (default 8; EURUSD quotes 1.6 times as often, thin
      crosses 0.6 times); the session profile scales it.  Minutes without a tick produce no
      M1 bar, as on a real feed.
    - ``news``: jumps at the synthetic calendar's events and spread widening around them.
    - ``stochastic_vol``: volatility varies over hours and days (global and per currency).
    - ``vol_scale``: multiplies every volatility and jump (default 1.0).
    - ``weekend_gap_minutes``: latent values move over the weekend by as much as they would in
      this many average minutes, so Sunday opens with a gap (default 60; 0 = the market
      reopens exactly where it closed).  The same applies after the holidays.
    - ``gold_daily_break``: XAUUSD does not quote 22:00-23:00 UTC, as at most brokers.
    - ``futures``: dated futures CFDs quoted beside their cash symbol (default none: the
      market is generated exactly as without them), by contract name (``XAUUSD_Z19``; any
      year, ``futures_catalogue.futures_spec``); each one's cash symbol must be in
      ``symbols`` (of the synthetic symbols only XAUUSD has futures).  They follow the cash
      symbols in the feed's symbol order and quote at their cash's timestamps
      (``futures_price``); ``futures_catalogue.contracts_of("XAUUSD", start, end)`` lists
      the contracts live in a period.
    - ``futures_mispricing``: their mispricing process (``futures_price.Mispricing``); its
      random path is seeded by ``seed`` and the contract's name.
    """

    seed: int = 1
    symbols: tuple[str, ...] = ALL_SYMBOLS
    start: datetime = datetime(2019, 1, 7, tzinfo=UTC)
    end: datetime | None = None
    warmup_days: int = 35
    latency: bool = True
    latency_strength: float = 2.0
    ticks_per_minute: float = 8.0
    news: bool = True
    stochastic_vol: bool = True
    vol_scale: float = 1.0
    weekend_gap_minutes: float = 60.0
    gold_daily_break: bool = True
    futures: tuple[str, ...] = ()
    futures_mispricing: Mispricing = field(default_factory=Mispricing)

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "futures", tuple(self.futures))
        self._check_seed_and_symbols()
        if self.futures:
            if not isinstance(self.futures_mispricing, Mispricing):
                raise ConfigError(_WHERE, "futures_mispricing", "must be a Mispricing")
            resolve_contracts(self.futures, self.symbols, _WHERE)
        self._check_times()
        self._check_numbers()

    def _check_seed_and_symbols(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(_WHERE, "seed", f"must be a non-negative integer, got {self.seed!r}")
        if not self.symbols:
            raise ConfigError(_WHERE, "symbols", "at least one symbol is needed")
        unknown = [s for s in self.symbols if s not in SYMBOL_SPECS]
        if unknown:
            raise ConfigError(_WHERE, "symbols", f"unknown symbol(s) {', '.join(map(str, unknown))}"
                              f"; known: {', '.join(ALL_SYMBOLS)}")
        if len(set(self.symbols)) != len(self.symbols):
            raise ConfigError(_WHERE, "symbols", "a symbol is listed twice")
        for name in self.symbols:
            spec = SYMBOL_SPECS[name]
            if spec.base not in CURRENCIES or spec.quote not in CURRENCIES:
                raise ConfigError(_WHERE, "symbols", f"{name}: currency outside {CURRENCIES}")

    def _check_times(self) -> None:
        for key in ("start", "end"):
            value = getattr(self, key)
            if value is None and key == "end":
                continue
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ConfigError(_WHERE, key, f"must be a timezone-aware datetime, got {value!r}")
            object.__setattr__(self, key, value.astimezone(UTC))
        if isinstance(self.warmup_days, bool) or not isinstance(self.warmup_days, int) \
                or self.warmup_days < 0:
            raise ConfigError(_WHERE, "warmup_days",
                              f"must be a non-negative integer, got {self.warmup_days!r}")
        if self.history_start_msc < MS_PER_DAY:
            raise ConfigError(_WHERE, "start", "start minus warmup_days must be after 1970-01-02")
        if self.end is not None and self.end <= self.start:
            raise ConfigError(_WHERE, "end", f"{self.end.isoformat()} is not after start "
                              f"{self.start.isoformat()}")

    def _check_numbers(self) -> None:
        def positive(key: str, allow_zero: bool = False) -> None:
            value = getattr(self, key)
            ok = isinstance(value, int | float) and not isinstance(value, bool) \
                and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
            if not ok:
                kind = "a non-negative" if allow_zero else "a positive"
                raise ConfigError(_WHERE, key, f"must be {kind} finite number, got {value!r}")

        positive("ticks_per_minute")
        positive("vol_scale")
        strength = self.latency_strength
        if isinstance(strength, bool) or not isinstance(strength, int | float) \
                or not math.isfinite(strength):
            raise ConfigError(_WHERE, "latency_strength",
                              f"must be a finite number, got {strength!r}")
        positive("weekend_gap_minutes", allow_zero=True)
        for name in self.symbols:
            impact = 1.0 + (latency_of(name).impact - 1.0) * self.latency_strength
            if impact <= 0.0:
                raise ConfigError(_WHERE, "latency_strength",
                                  f"{self.latency_strength} makes {name} move against a shock")

    @property
    def start_msc(self) -> int:
        return to_msc(self.start)

    @property
    def end_msc(self) -> int | None:
        return None if self.end is None else to_msc(self.end)

    @property
    def history_start_msc(self) -> int:
        """Midnight UTC ``warmup_days`` before the start day: where the process begins.

        Everything the market produces (warm-up bars, ticks, bulk bars) is one path simulated
        forward from here, so every view of the market agrees with every other.
        """
        start_day_msc = to_msc(self.start) // MS_PER_DAY * MS_PER_DAY
        return start_day_msc - self.warmup_days * MS_PER_DAY


def to_msc(when: datetime) -> int:
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(milliseconds=1)
