"""No-edge surrogate markets: each symbol an independent random walk with its own volatility
by time of week, on the real data's timestamps.

Why: a strategy that shows the same Sharpe on markets where nothing can be predicted has
learned the costs and the noise, not the market.  The audit (``app.audit``) runs the user's
configuration on surrogates of the user's own data and puts the real Sharpe beside their
distribution.  What a surrogate keeps of the real data, and what it destroys:

- kept: every bar's timestamp (so the same gaps, weekends, holidays and session hours), the
  first price, each symbol's volatility by UTC hour of the week, the bars' spread column
  (NaN stays NaN, so the replay fills the same spread model the real data gets) and tick
  volume, the price precision;
- destroyed: any dependence between symbols (each has its own generator), any dependence
  over time (independent Gaussian steps), any drift; so mean reversion between symbols, the
  thing the strategy trades, is absent by construction.

Estimation (``estimate_volatility``): ``sigma[h]`` is the standard deviation (ddof=1) of the
1-minute log returns ``log(close_k / close_{k-1})`` of bars exactly 60 s after their
predecessor, grouped by the UTC hour of the week ``h`` of the later bar (Monday 00:00 UTC is
hour 0).  An hour with fewer than ``MIN_RETURNS`` returns takes the std of its hour of the
day over the whole week, and failing that the std over all returns: a quiet Sunday hour
never gets a volatility from five returns.

Simulation (``surrogate_bars``): bar k closes at ``close_{k-1} * exp(sigma[h_k] z_k)``
(``z`` standard normal; the first bar opens at the real first open); every bar opens at the
previous close, and a gap in the data (a missing minute, a weekend) is one step like any
other (real weekend gaps are small next to the 2,880 minutes a step per minute would
imply).  Inside a bar the log price is a Brownian bridge from open to close with variance
``sigma^2``: its maximum is drawn exactly, ``(a + b + sqrt((b - a)^2 - 2 sigma^2 ln U)) / 2``
for U uniform on (0, 1] (and the minimum likewise), so high and low are those of a
continuous walk with the same volatility.  Prices are rounded to the data's precision.

Seeding: symbol ``s`` of seed ``n`` draws from ``numpy.random.default_rng([n, crc32(s)])``,
so a surrogate is the same whatever other symbols the data holds, and reproducible.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.ticks import BAR_DTYPE

__all__ = [
    "HOURS_PER_WEEK",
    "MIN_RETURNS",
    "VolatilityProfile",
    "estimate_volatility",
    "hour_of_week",
    "price_decimals",
    "surrogate_bars",
    "surrogate_market",
    "symbol_rng",
]

HOURS_PER_WEEK = 168
#: Fewest 1-minute returns an hour of the week needs for a volatility of its own.
MIN_RETURNS = 30
#: 1970-01-01, where Unix time starts, was a Thursday: three days after a Monday.
_EPOCH_HOUR_OF_WEEK = 3 * 24


def hour_of_week(times_s: np.ndarray) -> np.ndarray:
    """The UTC hour of the week (Monday 00:00 = 0 .. Sunday 23:00 = 167) of Unix seconds."""
    return ((np.asarray(times_s, dtype=np.int64) // 3600 + _EPOCH_HOUR_OF_WEEK)
            % HOURS_PER_WEEK).astype(np.int64)


@dataclass(frozen=True)
class VolatilityProfile:
    """One symbol's volatility of 1-minute log returns by UTC hour of the week.

    ``sigma`` is what the walk uses (168 values, the fall-backs already applied);
    ``counts`` the number of returns each hour of the week was estimated from, and
    ``source`` where each value came from ("week", "day" or "all")."""

    sigma: np.ndarray
    counts: np.ndarray
    source: tuple[str, ...]

    def at(self, times_s: np.ndarray) -> np.ndarray:
        return self.sigma[hour_of_week(times_s)]


def _minute_returns(bars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log returns of bars exactly one minute after their predecessor, and their times."""
    times = np.asarray(bars["time"], dtype=np.int64)
    close = np.asarray(bars["close"], dtype=np.float64)
    adjacent = np.diff(times) == 60
    returns = np.diff(np.log(close))[adjacent]
    return returns, times[1:][adjacent]


def _grouped_std(returns: np.ndarray, groups: np.ndarray, size: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Per group: the std (ddof=1) of its returns and how many there were."""
    counts = np.bincount(groups, minlength=size).astype(np.int64)
    sums = np.bincount(groups, weights=returns, minlength=size)
    squares = np.bincount(groups, weights=returns * returns, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        var = (squares - counts * mean * mean) / (counts - 1)
    return np.sqrt(np.clip(var, 0.0, None)), counts


def estimate_volatility(bars: np.ndarray) -> VolatilityProfile:
    """The volatility profile of one symbol's M1 bars (see the module note).

    Raises ``ValueError`` when the bars hold fewer than ``MIN_RETURNS`` 1-minute returns:
    no volatility can be told from them."""
    returns, times = _minute_returns(bars)
    if len(returns) < MIN_RETURNS:
        raise ValueError(f"{len(returns)} one-minute returns: at least {MIN_RETURNS} are "
                         "needed to estimate a volatility")
    week = hour_of_week(times)
    by_week, counts = _grouped_std(returns, week, HOURS_PER_WEEK)
    by_day, day_counts = _grouped_std(returns, week % 24, 24)
    overall = float(np.std(returns, ddof=1))
    sigma = np.empty(HOURS_PER_WEEK)
    source = []
    for h in range(HOURS_PER_WEEK):
        if counts[h] >= MIN_RETURNS:
            sigma[h], kind = by_week[h], "week"
        elif day_counts[h % 24] >= MIN_RETURNS:
            sigma[h], kind = by_day[h % 24], "day"
        else:
            sigma[h], kind = overall, "all"
        source.append(kind)
    return VolatilityProfile(sigma, counts, tuple(source))


def price_decimals(prices: np.ndarray, most: int = 6) -> int:
    """The fewest decimals (up to ``most``) that write every one of ``prices`` exactly."""
    sample = np.asarray(prices, dtype=np.float64)[:5000]
    for decimals in range(most + 1):
        scaled = sample * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return decimals
    return most


def _bridge_extreme(a: np.ndarray, b: np.ndarray, variance: np.ndarray,
                    uniform: np.ndarray, sign: float) -> np.ndarray:
    """The maximum (sign +1) or minimum (sign -1) of a Brownian bridge from a to b."""
    reach = np.sqrt((b - a) ** 2 - 2.0 * variance * np.log(uniform))
    return (a + b + sign * reach) / 2.0


def surrogate_bars(bars: np.ndarray, profile: VolatilityProfile,
                   rng: np.random.Generator) -> np.ndarray:
    """A random walk on the timestamps of ``bars`` with the volatility of ``profile``."""
    n = len(bars)
    out = np.zeros(n, dtype=BAR_DTYPE)
    if n == 0:
        return out
    out["time"] = bars["time"]
    out["tick_volume"] = bars["tick_volume"]
    out["spread"] = bars["spread"]
    sigma = profile.at(bars["time"])
    steps = sigma * rng.standard_normal(n)
    first = float(bars["open"][0])
    log_close = np.log(first) + np.cumsum(steps)
    log_open = np.concatenate([[np.log(first)], log_close[:-1]])
    variance = sigma * sigma
    high = _bridge_extreme(log_open, log_close, variance, 1.0 - rng.random(n), 1.0)
    low = _bridge_extreme(log_open, log_close, variance, 1.0 - rng.random(n), -1.0)
    decimals = price_decimals(bars["close"])
    for field, values in (("open", log_open), ("high", high), ("low", low),
                          ("close", log_close)):
        out[field] = np.round(np.exp(values), decimals)
    return out


def symbol_rng(seed: int, symbol: str) -> np.random.Generator:
    """The generator of ``symbol`` in surrogate ``seed`` (see the module note)."""
    return np.random.default_rng([seed, zlib.crc32(symbol.encode("utf-8"))])


def surrogate_market(bars: Mapping[str, np.ndarray], seed: int,
                     profiles: Mapping[str, VolatilityProfile] | None = None
                     ) -> dict[str, np.ndarray]:
    """A surrogate of every symbol of ``bars``, independent of one another.

    ``profiles`` (estimated once and reused across seeds) default to estimating them here."""
    out = {}
    for symbol, real in bars.items():
        profile = profiles[symbol] if profiles is not None else estimate_volatility(real)
        out[symbol] = surrogate_bars(real, profile, symbol_rng(seed, symbol))
    return out
