"""The synthetic market's price process, generated one UTC day at a time.

Model, per open minute:

1. Each currency (USD, EUR, ..., XAU) has a latent log value.  Its minute shock is a
   common risk-on/off factor times the currency's loading plus an idiosyncratic part, scaled
   by the currency's volatility, the intraday activity profile and a stochastic volatility
   (global and per currency, hourly AR(1) in log).  Scheduled news adds a jump to the event
   currency and raises its volatility for an hour.
2. A symbol's fair log price is ``value(base) - value(quote)`` plus its *disalignment*:
   with differential latency on, a symbol's quote moves by ``impact`` times each shock to
   its currency ratio at once and settles to the full shock exponentially (time constant
   ``tau_minutes``), so ``D_t = exp(-1/tau) D_{t-1} + (impact - 1) * shock_t``.  Impacts
   and speeds differ by symbol, so cluster members drift out of line and realign over
   hours.  With latency off the disalignment is zero.
3. A symbol's M1 bar comes from its fair mid price at the end of the previous and of this
   minute: a Poisson number of ticks (session activity x symbol liquidity); the close is the
   fair price at the minute's end, the open a Brownian-bridge point near the start of the
   minute, high and low the bridge's extremes (sampled exactly, shrunk for the few ticks
   that observe them).  Bid = mid - spread / 2, rounded to the symbol's digits.

Everything is generated in fixed blocks of one UTC day from a state carried over from the
previous day, with random streams derived from (seed, day, stream, symbol).  So output does
not depend on how a caller slices time, and a symbol's prices do not depend on which other
symbols are configured.  Ticks are derived from the bars separately (``market_ticks``), so
the bulk bar path never pays for ticks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from engine.ticks import BAR_DTYPE
from mt5bridge.sim import market_params as params
from mt5bridge.sim.market_calendar import SyntheticEvent, events_of_day
from mt5bridge.sim.market_config import MarketConfig
from mt5bridge.sim.market_sessions import (
    ACTIVITY,
    MINUTES_PER_DAY,
    MS_PER_DAY,
    SECONDS_PER_DAY,
    SESSION_SPREAD,
    gold_break_mask,
    open_minutes,
)
from mt5bridge.sim.symbols import CURRENCIES, REFERENCE_USD_VALUE, SYMBOL_SPECS

STREAM_LATENT = 1
STREAM_BARS = 2
STREAM_TICKS = 3

#: Largest total decay handled in one block by ``exp_decay_filter`` (exp(600) ~ 1e260).
_MAX_BLOCK_DECAY = 600.0


def stream_rng(seed: int, day: int, stream: int, key: int = 0) -> np.random.Generator:
    """The random stream for one (seed, day, stream, key): independent of everything else."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, day, stream, key])))


def symbol_key(symbol: str) -> int:
    """A stable integer per symbol name, so a symbol keeps its stream whatever its position."""
    return zlib.crc32(symbol.encode("ascii"))


def exp_decay_filter(u: np.ndarray, decay: np.ndarray, state: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Run ``L_t = exp(-decay_t) * L_{t-1} + u_t`` down axis 0 for every column at once.

    Uses the closed form ``L_t = exp(-G_t) (L_0 + sum_k exp(G_k) u_k)`` with ``G`` the
    cumulative decay, in blocks short enough that ``exp(G)`` stays finite; a Python loop over
    minutes would cost more than the rest of the market together.
    """
    steps = u.shape[0]
    out = np.empty_like(u)
    max_rate = float(decay.max()) if decay.size else 0.0
    block = steps
    if max_rate * steps > _MAX_BLOCK_DECAY:
        block = max(1, int(_MAX_BLOCK_DECAY // max_rate))
    for first in range(0, steps, block):
        last = min(first + block, steps)
        growth = np.exp(np.cumsum(decay[first:last], axis=0))
        out[first:last] = (state + np.cumsum(growth * u[first:last], axis=0)) / growth
        state = out[last - 1]
    return out, np.array(state, copy=True)


@dataclass(frozen=True)
class DayBars:
    """One UTC day of the market.

    ``bars`` holds one ``BAR_DTYPE`` array per configured symbol (minutes with at least one
    tick); ``log_values`` the latent log USD value of every currency at the end of each of
    the day's 1440 minutes (constant while the market is closed).
    """

    day: int
    bars: tuple[np.ndarray, ...]
    log_values: np.ndarray
    events: tuple[SyntheticEvent, ...]

    @property
    def start_msc(self) -> int:
        return self.day * MS_PER_DAY


class _SymbolTable:
    """Per-symbol constants as arrays, so a day is computed for all symbols at once."""

    def __init__(self, config: MarketConfig) -> None:
        specs = [SYMBOL_SPECS[name] for name in config.symbols]
        latencies = [params.latency_of(name) for name in config.symbols]
        self.names = config.symbols
        self.keys = [symbol_key(name) for name in config.symbols]
        self.base = np.array([params.currency_index(s.base) for s in specs])
        self.quote = np.array([params.currency_index(s.quote) for s in specs])
        self.scale = np.array([10.0 ** s.digits for s in specs])
        self.point = np.array([s.point for s in specs])
        self.typical_spread = np.array([float(s.typical_spread_points) for s in specs])
        transient = np.array([lat.impact - 1.0 for lat in latencies])
        strength = config.latency_strength if config.latency else 0.0
        #: Share of a shock the quote shows at once on top of the shock itself.
        self.transient = transient * strength
        self.decay = np.array([1.0 / lat.tau_minutes for lat in latencies])
        self.liquidity = np.array([lat.liquidity for lat in latencies])
        self.has_break = np.array([config.gold_daily_break and s.base == "XAU" for s in specs])


class MarketProcess:
    """Generates consecutive days of the market from ``config.history_start_msc`` onwards."""

    def __init__(self, config: MarketConfig) -> None:
        self._config = config
        self._symbols = _SymbolTable(config)
        n_ccy = len(CURRENCIES)
        self._sigma = np.array(
            [params.CURRENCY_ANNUAL_VOL[c] for c in CURRENCIES]
        ) * config.vol_scale / np.sqrt(params.TRADING_MINUTES_PER_YEAR)
        self._beta = np.array([params.RISK_LOADING[c] for c in CURRENCIES])
        self._idio = np.sqrt(1.0 - self._beta**2)
        self._day = config.history_start_msc // MS_PER_DAY
        # Carried state.
        self._log_value = np.log([REFERENCE_USD_VALUE[c] for c in CURRENCIES])
        self._log_vol_global = 0.0
        self._log_vol_ccy = np.zeros(n_ccy)
        self._disalignment = np.zeros(len(config.symbols))
        ratio = self._log_value[self._symbols.base] - self._log_value[self._symbols.quote]
        self._fair_mid = np.exp(ratio)
        self._was_open = bool(open_minutes(self._day - 1)[-1])
        self._gold_break = gold_break_mask()

    @property
    def next_day(self) -> int:
        """The UTC day number the next call to ``next_day_bars`` generates."""
        return self._day

    def next_day_bars(self) -> DayBars:
        """Generate the next day and advance the carried state past it."""
        day = self._day
        self._day += 1
        is_open = open_minutes(day)
        rng = stream_rng(self._config.seed, day, STREAM_LATENT)
        hourly_vol = self._advance_volatility(rng)
        if not is_open.any():
            self._was_open = False
            log_values = np.broadcast_to(self._log_value, (MINUTES_PER_DAY, len(CURRENCIES)))
            empty = tuple(np.empty(0, dtype=BAR_DTYPE) for _ in self._symbols.names)
            return DayBars(day, empty, log_values.copy(), ())
        events = tuple(events_of_day(day)) if self._config.news else ()
        activity = self._activity(is_open)
        # Diffusion first, jumps after: switching news off leaves the diffusion unchanged.
        shocks = rng.standard_normal((MINUTES_PER_DAY, 1 + len(CURRENCIES)))
        vol, jumps, news_spread = self._news_effects(rng, events, hourly_vol)
        ccy_sd = self._sigma * activity[:, None] * vol
        d_log_value = ccy_sd * (self._beta * shocks[:, :1] + self._idio * shocks[:, 1:]) + jumps
        log_values = self._log_value + np.cumsum(d_log_value, axis=0)
        fair = self._fair_prices(d_log_value, log_values, is_open)
        bars = self._bars(day, is_open, fair, ccy_sd, news_spread)
        self._log_value = log_values[-1].copy()
        self._fair_mid = fair[-1].copy()
        self._was_open = bool(is_open[-1])
        return DayBars(day, bars, log_values, events)

    # -- latent values -------------------------------------------------------------------

    def _advance_volatility(self, rng: np.random.Generator) -> np.ndarray:
        """Hourly volatility multipliers (24, currencies) with unit mean square."""
        draws = rng.standard_normal((24, 1 + len(CURRENCIES)))
        if not self._config.stochastic_vol:
            return np.ones((24, len(CURRENCIES)))
        phi_g = 0.5 ** (1.0 / params.GLOBAL_LOG_VOL_HALF_LIFE_HOURS)
        phi_c = 0.5 ** (1.0 / params.CURRENCY_LOG_VOL_HALF_LIFE_HOURS)
        sd_g, sd_c = params.GLOBAL_LOG_VOL_SD, params.CURRENCY_LOG_VOL_SD
        out = np.empty((24, len(CURRENCIES)))
        level_g, level_c = self._log_vol_global, self._log_vol_ccy
        for hour in range(24):
            level_g = phi_g * level_g + np.sqrt(1.0 - phi_g**2) * sd_g * draws[hour, 0]
            level_c = phi_c * level_c + np.sqrt(1.0 - phi_c**2) * sd_c * draws[hour, 1:]
            out[hour] = np.exp(level_g - sd_g**2 + level_c - sd_c**2)
        self._log_vol_global, self._log_vol_ccy = float(level_g), level_c
        return out

    def _activity(self, is_open: np.ndarray) -> np.ndarray:
        """Per-minute volatility scale: session profile, zero when closed, gap at reopening."""
        activity = np.where(is_open, ACTIVITY, 0.0)
        previous = np.concatenate(([self._was_open], is_open[:-1]))
        reopen = is_open & ~previous
        gap = self._config.weekend_gap_minutes
        activity[reopen] = np.sqrt(activity[reopen] ** 2 + gap)
        return activity

    def _news_effects(self, rng: np.random.Generator, events: tuple[SyntheticEvent, ...],
                      hourly_vol: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-minute volatility, jumps and spread multipliers per currency for the day.

        A volatility boost or spread widening that would spill past midnight is cut there:
        days are generated independently of the next day's calendar, and only one rule
        (a 23:50 release) comes that close.
        """
        n_ccy = len(CURRENCIES)
        vol = np.repeat(hourly_vol, 60, axis=0)
        jumps = np.zeros((MINUTES_PER_DAY, n_ccy))
        spread = np.ones((MINUTES_PER_DAY, n_ccy))
        jump_draws = rng.standard_normal(len(events))
        for event, draw in zip(events, jump_draws, strict=True):
            ccy = params.currency_index(event.currency)
            minute = (event.time_msc % MS_PER_DAY) // 60_000
            jumps[minute, ccy] += params.NEWS_JUMP_SD[event.impact] * self._config.vol_scale * draw
            after = np.arange(min(params.NEWS_VOL_WINDOW_MINUTES, MINUTES_PER_DAY - minute))
            boost = params.NEWS_VOL_BOOST[event.impact]
            vol[minute: minute + len(after), ccy] *= 1.0 + boost * np.exp(
                -after / params.NEWS_VOL_DECAY_MINUTES)
            peak = params.NEWS_SPREAD_PEAK[event.impact]
            window = params.NEWS_SPREAD_AFTER_MINUTES
            lo = max(minute - 1, 0)
            hi = min(minute + window + 1, MINUTES_PER_DAY)
            offsets = np.arange(lo, hi) - minute
            mult = np.where(offsets < 0, 1.0 + (peak - 1.0) / 3.0,
                            1.0 + (peak - 1.0) * (window + 1 - offsets) / (window + 1))
            spread[lo:hi, ccy] = np.maximum(spread[lo:hi, ccy], mult)
        return vol, jumps, spread

    def _fair_prices(self, d_log_value: np.ndarray, log_values: np.ndarray,
                     is_open: np.ndarray) -> np.ndarray:
        """Fair mid prices (minutes, symbols): ratio of the currency values + disalignment."""
        sym = self._symbols
        log_ratio = log_values[:, sym.base] - log_values[:, sym.quote]
        if not sym.transient.any():
            return np.exp(log_ratio)
        shock = (d_log_value[:, sym.base] - d_log_value[:, sym.quote]) * sym.transient
        decay = is_open[:, None] * sym.decay[None, :]
        disalignment, self._disalignment = exp_decay_filter(shock, decay, self._disalignment)
        return np.exp(log_ratio + disalignment)

    # -- bars ----------------------------------------------------------------------------

    def _bars(self, day: int, is_open: np.ndarray, fair: np.ndarray, ccy_sd: np.ndarray,
              news_spread: np.ndarray) -> tuple[np.ndarray, ...]:
        sym = self._symbols
        n_min, n_sym = fair.shape
        draws = [stream_rng(self._config.seed, day, STREAM_BARS, key) for key in sym.keys]
        intensity = self._config.ticks_per_minute * ACTIVITY[:, None] * sym.liquidity
        quoting = is_open[:, None] & ~(sym.has_break[None, :] & self._gold_break[:, None])
        intensity = np.where(quoting, intensity, 0.0)
        ticks = np.empty((n_min, n_sym), dtype=np.int64)
        uniform = np.empty((3, n_min, n_sym))
        normal = np.empty((2, n_min, n_sym))
        for j, rng in enumerate(draws):
            ticks[:, j] = rng.poisson(intensity[:, j])
            uniform[:, :, j] = rng.random((3, n_min))
            normal[:, :, j] = rng.standard_normal((2, n_min))

        sd_b, sd_q = ccy_sd[:, sym.base], ccy_sd[:, sym.quote]
        cov = 2.0 * self._beta[sym.base] * self._beta[sym.quote] * sd_b * sd_q
        pair_sd = np.sqrt(np.maximum(sd_b**2 + sd_q**2 - cov, 0.0))
        symbol_sd = pair_sd * (1.0 + sym.transient) * fair

        previous = np.vstack((self._fair_mid[None, :], fair[:-1]))
        n = ticks.astype(float)
        first = 1.0 - uniform[0] ** (1.0 / np.maximum(n, 1.0))
        open_mid = previous + first * (fair - previous) \
            + symbol_sd * np.sqrt(first * (1.0 - first)) * normal[0]
        open_mid = np.where(ticks <= 1, fair, open_mid)
        close_mid = fair
        extra_up, extra_dn = _bridge_excursions(
            close_mid - open_mid,
            symbol_sd**2 * (1.0 - first) * np.clip((n - 2.0) / np.maximum(n, 1.0), 0.0, None),
            uniform[1], uniform[2], ticks == 3,
        )
        noise = np.exp(params.SPREAD_NOISE_SD * normal[1] - 0.5 * params.SPREAD_NOISE_SD**2)
        widen = np.maximum(news_spread[:, sym.base], news_spread[:, sym.quote])
        spread_points = np.maximum(
            1.0, np.rint(sym.typical_spread * SESSION_SPREAD[:, None] * widen * noise))
        half = 0.5 * spread_points * sym.point

        def bid(mid: np.ndarray) -> np.ndarray:
            return np.maximum(np.rint((mid - half) * sym.scale) / sym.scale, sym.point)

        high_mid = np.maximum(open_mid, close_mid) + extra_up
        low_mid = np.minimum(open_mid, close_mid) - extra_dn
        columns = {"open": bid(open_mid), "high": bid(high_mid), "low": bid(low_mid),
                   "close": bid(close_mid), "spread": spread_points * sym.point}
        # Fill one (symbols, minutes) record table, then keep each symbol's minutes with ticks.
        table = np.empty((n_sym, n_min), dtype=BAR_DTYPE)
        table["time"] = day * SECONDS_PER_DAY + 60 * np.arange(n_min, dtype=np.int64)
        for name, values in columns.items():
            table[name] = values.T
        table["tick_volume"] = ticks.T
        has_ticks = ticks.T > 0
        out = [table[j][has_ticks[j]] for j in range(n_sym)]
        return tuple(out)


def _bridge_excursions(move: np.ndarray, variance: np.ndarray, u_up: np.ndarray,
                       u_dn: np.ndarray, single: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far a Brownian bridge from 0 to ``move`` goes above max(0, move) and below min.

    The maximum M of such a bridge satisfies P(M > m) = exp(-2 m (m - move) / variance), so
    M = (move + sqrt(move^2 - 2 variance log U)) / 2 samples it exactly.  Where only one
    interior tick exists (``single``) it can show only one extreme: the larger one is kept.
    """
    up = 0.5 * (move + np.sqrt(move**2 - 2.0 * variance * np.log1p(-u_up))) - np.maximum(move, 0.0)
    dn = 0.5 * (-move + np.sqrt(move**2 - 2.0 * variance * np.log1p(-u_dn))) \
        - np.maximum(-move, 0.0)
    up = np.maximum(up, 0.0)
    dn = np.maximum(dn, 0.0)
    keep_up = up >= dn
    return np.where(single & ~keep_up, 0.0, up), np.where(single & keep_up, 0.0, dn)
