"""The price of a futures CFD, derived from its cash symbol's own quotes.

    F_t = S_t x exp(carry x tau_t + w_t x (m_t + e_t))

- ``S_t``: the cash CFD's mid at the same tick (the futures quote at the same timestamps as
  their cash: no quote of their own, so no stale leg);
- ``carry x tau_t``: the fair log-basis (``futures.fair_log_basis``: rate minus yield, tau
  in years to expiry, ACT/365);
- ``m_t``: the mispricing, an Ornstein-Uhlenbeck process in log terms on a one-minute grid
  from the contract's listing to its expiry (``Mispricing``: half-life, stationary sigma,
  occasional dislocation jumps that then revert), seeded per contract;
- ``e_t``: quote noise, independent per timestamp (a hash of seed, contract and time, so
  the same tick gets the same noise however a feed is sliced);
- ``w_t = min(1, days to expiry / converge_days)``: arbitrage closes the gap before
  expiry; at expiry ``w = 0`` and ``tau = 0``, so F_T = S_T (the price converges and the
  contract settles at the cash price).

Bid and ask come from the contract's own spread: the cash tick's spread in points scaled by
the ratio of the two symbols' typical spreads (a news widening of the cash widens the
future too), at least a point, on the contract's price grid.

Public names (stable): ``Mispricing`` (the configurable process), ``MispricingPath`` (one
contract's path: ``log_mispricing(t)``, ``log_factor(t)``), ``futures_ticks`` (cash ticks
-> futures ticks) and ``futures_bars`` (cash M1 bars -> futures M1 bars).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import ConfigError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge.sim.futures import SECONDS_PER_YEAR

if TYPE_CHECKING:
    from mt5bridge.sim.symbols import SymbolSpec

__all__ = ["Mispricing", "MispricingPath", "futures_bars", "futures_ticks"]

_MS_PER_MINUTE = 60_000
_MS_PER_DAY = 86_400_000
_BP = 1e-4
_TICK_FLAG_BID = 2
_TICK_FLAG_ASK = 4


@dataclass(frozen=True)
class Mispricing:
    """The futures' mispricing against carry (log terms; documented defaults).

    - ``half_life_hours`` (24): the OU process's half-life: a dislocation halves in a day.
    - ``sigma_bp`` (10): the stationary standard deviation of the diffusion, in basis
      points of the price (10 bp of an S&P future at 3,000 is 3 index points).
    - ``jump_rate_per_day`` (0.2): mean dislocation jumps a day (one a week of trading);
      each adds ``jump_sigma_bp`` (25) x a standard normal to the state, which then reverts
      at the same half-life.  0 turns jumps off.
    - ``noise_bp`` (1): quote noise per timestamp, independent, in basis points.
    - ``converge_days`` (5): over the last days to expiry the mispricing and the noise
      shrink linearly to 0, so F = S at expiry.
    """

    half_life_hours: float = 24.0
    sigma_bp: float = 10.0
    jump_rate_per_day: float = 0.2
    jump_sigma_bp: float = 25.0
    noise_bp: float = 1.0
    converge_days: float = 5.0

    def __post_init__(self) -> None:
        for key in ("half_life_hours", "converge_days"):
            _check(key, getattr(self, key), allow_zero=False)
        for key in ("sigma_bp", "jump_rate_per_day", "jump_sigma_bp", "noise_bp"):
            _check(key, getattr(self, key), allow_zero=True)
        if self.jump_rate_per_day > 1440:
            raise ConfigError("futures mispricing", "jump_rate_per_day",
                              f"at most one jump a minute (1440 a day), got "
                              f"{self.jump_rate_per_day!r}")

    @property
    def per_minute_decay(self) -> float:
        """a: the OU state's factor from one minute to the next."""
        return math.exp(-math.log(2.0) / (self.half_life_hours * 60.0))


def _check(key: str, value: object, *, allow_zero: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "a non-negative" if allow_zero else "a positive"
        raise ConfigError("futures mispricing", key, f"must be {kind} finite number, "
                          f"got {value!r}")


def _ar1(a: float, x0: float, shocks: np.ndarray) -> np.ndarray:
    """x_k = a x_(k-1) + shocks_k from x_(-1) = x0, exactly, vectorised in chunks short
    enough that a**-length stays far from overflow."""
    out = np.empty(len(shocks))
    chunk = max(1, int(100.0 / max(-math.log(a), 1e-12)))
    state = x0
    for lo in range(0, len(shocks), chunk):
        part = shocks[lo:lo + chunk]
        powers = a ** np.arange(1, len(part) + 1, dtype=np.float64)
        out[lo:lo + len(part)] = powers * (state + np.cumsum(part / powers))
        state = float(out[lo + len(part) - 1])
    return out


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashed_normal(key: int, t_msc: np.ndarray) -> np.ndarray:
    """A standard normal per timestamp, a pure function of (key, time): Box-Muller on two
    splitmix64 hashes."""
    x = np.asarray(t_msc, dtype=np.int64).astype(np.uint64) ^ np.uint64(key)
    u1 = (_splitmix(x) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    u2 = (_splitmix(x ^ np.uint64(0x5851F42D4C957F2D)) >> np.uint64(11)).astype(
        np.float64) * 2.0**-53
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)


class MispricingPath:
    """One contract's mispricing path, from its listing to its expiry (generated once, on
    first use; a pure function of the spec's dates, the settings and the seed)."""

    def __init__(self, spec: SymbolSpec, mispricing: Mispricing, seed: int) -> None:
        if spec.futures is None or not spec.expiration_time:
            raise ConfigError("futures", spec.name, "is not a futures CFD")
        self.spec = spec
        self.mispricing = mispricing
        self.key = (zlib.crc32(spec.name.encode()) << 20) ^ (int(seed) & 0xFFFFF)
        self._seed = [int(seed), zlib.crc32(spec.name.encode())]
        self.origin_msc = spec.start_time * 1000
        self.expiry_msc = spec.expiration_time * 1000
        self._minutes: np.ndarray | None = None

    @property
    def minutes(self) -> np.ndarray:
        """m at each minute from the listing (index 0) to the expiry, log terms."""
        if self._minutes is None:
            mp = self.mispricing
            n = (self.expiry_msc - self.origin_msc) // _MS_PER_MINUTE + 1
            rng = np.random.default_rng(self._seed)
            sd = mp.sigma_bp * _BP
            x0 = sd * float(rng.standard_normal())
            a = mp.per_minute_decay
            shocks = sd * math.sqrt(1.0 - a * a) * rng.standard_normal(n)
            jumps = rng.random(n) < mp.jump_rate_per_day / 1440.0
            sizes = rng.standard_normal(n)
            shocks += np.where(jumps, mp.jump_sigma_bp * _BP * sizes, 0.0)
            self._minutes = _ar1(a, x0, shocks)
        return self._minutes

    def log_mispricing(self, t_msc: np.ndarray) -> np.ndarray:
        """m at each UTC time (the minute's value), before the convergence taper."""
        t = np.asarray(t_msc, dtype=np.int64)
        m = self.minutes
        k = np.clip((t - self.origin_msc) // _MS_PER_MINUTE, 0, len(m) - 1)
        return m[k]

    def log_factor(self, t_msc: np.ndarray) -> np.ndarray:
        """ln(F/S) at each UTC time: carry x tau + w x (m + noise)."""
        t = np.asarray(t_msc, dtype=np.int64)
        spec, mp = self.spec, self.mispricing
        assert spec.futures is not None
        left_ms = np.maximum(self.expiry_msc - t, 0).astype(np.float64)
        tau = left_ms / (SECONDS_PER_YEAR * 1000.0)
        taper = np.minimum(left_ms / (mp.converge_days * _MS_PER_DAY), 1.0)
        noise = mp.noise_bp * _BP * hashed_normal(self.key, t) if mp.noise_bp else 0.0
        return spec.futures.carry * tau + taper * (self.log_mispricing(t) + noise)


def _spread_points(cash_points: np.ndarray, cash: SymbolSpec, spec: SymbolSpec) -> np.ndarray:
    ratio = spec.typical_spread_points / max(cash.typical_spread_points, 1)
    return np.maximum(np.rint(cash_points * ratio), 1.0)


def futures_ticks(cash_ticks: np.ndarray, path: MispricingPath, cash: SymbolSpec,
                  symbol_index: int,
                  previous_quote: tuple[float, float] | None = None) -> np.ndarray:
    """The contract's ticks (``TICK_DTYPE``, ``symbol`` = ``symbol_index``) at the times of
    ``cash_ticks`` (one cash symbol's ticks) that fall in [listing, expiry).

    ``previous_quote``: the contract's last (bid, ask) before these ticks, for the first
    tick's change flags (None: both sides flagged).
    """
    spec = path.spec
    t = cash_ticks["time_msc"]
    keep = (t >= path.origin_msc) & (t < path.expiry_msc)
    src = cash_ticks[keep]
    out = np.empty(len(src), dtype=TICK_DTYPE)
    if len(src) == 0:
        return out
    cash_bid, cash_ask = src["bid"], src["ask"]
    mid = (cash_bid + cash_ask) / 2.0
    scale = 10.0 ** spec.digits
    points = _spread_points(np.rint((cash_ask - cash_bid) * 10.0 ** cash.digits), cash, spec)
    fair_mid = mid * np.exp(path.log_factor(src["time_msc"]))
    bid_points = np.rint(fair_mid * scale - points / 2.0)
    out["time_msc"] = src["time_msc"]
    out["symbol"] = symbol_index
    out["bid"] = bid_points / scale
    out["ask"] = (bid_points + points) / scale
    prev_bid = np.empty(len(out))
    prev_ask = np.empty(len(out))
    prev_bid[1:], prev_ask[1:] = out["bid"][:-1], out["ask"][:-1]
    prev_bid[0], prev_ask[0] = previous_quote if previous_quote is not None else (np.nan,
                                                                                  np.nan)
    out["flags"] = (np.where(out["bid"] != prev_bid, _TICK_FLAG_BID, 0)
                    | np.where(out["ask"] != prev_ask, _TICK_FLAG_ASK, 0)).astype(np.uint32)
    return out


def futures_bars(cash_bars: np.ndarray, path: MispricingPath, cash: SymbolSpec) -> np.ndarray:
    """The contract's M1 bars (``BAR_DTYPE``) from the cash symbol's M1 bars in
    [listing, expiry): each bar's bid OHLC through the cash mid (bid + half the bar's mean
    spread) times the factor at the bar's middle, its spread scaled like a tick's."""
    spec = path.spec
    t_msc = cash_bars["time"] * 1000
    src = cash_bars[(t_msc >= path.origin_msc) & (t_msc < path.expiry_msc)]
    out = np.empty(len(src), dtype=BAR_DTYPE)
    if len(src) == 0:
        return out
    scale = 10.0 ** spec.digits
    factor = np.exp(path.log_factor(src["time"] * 1000 + _MS_PER_MINUTE // 2))
    points = _spread_points(np.rint(src["spread"] * 10.0 ** cash.digits), cash, spec)
    half = src["spread"] / 2.0
    for key in ("open", "high", "low", "close"):
        out[key] = np.rint((src[key] + half) * factor * scale - points / 2.0) / scale
    out["time"] = src["time"]
    out["tick_volume"] = src["tick_volume"]
    out["spread"] = points / scale
    return out
