"""The spread a bar without an ask is given: the spread models of a replay or a backtest.

HistData bars are bids only; the replay quotes ``ask = bid + spread`` from a model:

- ``fixed``: one spread all week, the symbol's ``typical_spread_points`` from
  ``SYMBOL_SPECS`` (EURUSD 2 points) unless one is configured per symbol;
- ``profile``: the median spread of the bar's UTC weekday and hour
  (``engine.spread_profile``), from a profile the user gives (``--spread-profile``); else a
  spread configured for the symbol (per-symbol settings win over the model's default, in
  both models); else the shipped EURUSD profile (Dukascopy ticks, 4-5 February 2019), or
  that profile scaled to the symbol (below).  A symbol with none of these is refused.

Scaling: another symbol's profile is EURUSD's, every cell multiplied by
``typical_spread_points(symbol) / typical_spread_points(EURUSD)``, in the symbol's own
points.  Using the ratio of the typical spreads (not ``typical(symbol) / median(EURUSD
profile)``) keeps the measured gap between EURUSD's quoted typical spread (2 points) and
what the ticks show (a 3.0-point median) for every symbol: the typical spreads are
quiet-session figures, and assuming they understate every symbol alike is the one
assumption one measured symbol supports.  Caveats: the shape (a rollover spike 4x the
day's median at 22:00 UTC) is EURUSD's; gold's rollover coincides with its daily one-hour
break and its spike differs, JPY crosses widen more around the Tokyo fix and the rollover,
and the hours are UTC, so under US daylight saving the real rollover comes at 21:00 UTC
while the February profile widens at 22:00.  Estimate a symbol's own profile from its
ticks (``main.py data spreads``) where it matters.

``DEFAULT_SPREAD_MODEL`` is the one line that says which model a replay uses unless told.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import UserError
from engine.spread_profile import SpreadProfile
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.futures_catalogue import futures_spec
from mt5bridge.sim.symbols import BROKER_SPECS, CFD_SPECS, SYMBOL_SPECS, SymbolSpec
from storage.spread_profiles import (
    SHIPPED_PROFILE_SYMBOL,
    read_spread_profiles,
    shipped_spread_profile,
    tally_tick_files,
)

__all__ = [
    "DEFAULT_SPREAD_MODEL",
    "FIXED",
    "PROFILE",
    "SPREAD_MODELS",
    "SpreadFill",
    "SymbolSpread",
    "estimate_profile",
    "fixed_spread",
    "load_profiles",
    "profile_spread",
    "scaled_profile",
    "symbol_point",
]

FIXED = "fixed"
PROFILE = "profile"
SPREAD_MODELS: tuple[str, ...] = (FIXED, PROFILE)
#: The model a replay or backtest uses unless told.  "fixed" keeps the pinned backtests'
#: figures; "profile" is what the data supports (see the module note).
DEFAULT_SPREAD_MODEL = PROFILE

#: Bar open times (UTC epoch seconds) -> the spread in price units of each bar.
SpreadFill = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SymbolSpread:
    """One symbol's modelled spread: ``fill`` for bars without one, and what the report says."""

    model: str
    fill: SpreadFill
    description: str


def _broker_spec(symbol: str) -> SymbolSpec | None:
    """The broker's spec of ``symbol``; a dated futures CFD of any year by its name."""
    return BROKER_SPECS.get(symbol) or futures_spec(symbol)


def symbol_point(symbol: str, digits: int | None = None) -> float:
    """The symbol's point: from ``digits`` when given, else from its spec."""
    if digits is not None:
        return 10.0 ** -digits
    spec = _broker_spec(symbol)
    if spec is None:
        raise UserError(f"{symbol}: not a symbol the simulated broker lists; give its --digits "
                        "(5 for EURUSD-like quotes, 3 for JPY pairs, 2 for gold)")
    return spec.point


def _point_guess(symbol: str) -> float:
    return 0.001 if symbol.upper().endswith("JPY") else 0.00001


def fixed_spread(symbol: str, spread_points: Mapping[str, float]) -> SymbolSpread:
    """The fixed model: the configured spread, else the symbol's typical spread."""
    spec = _broker_spec(symbol)
    points = spread_points.get(symbol)
    origin = "configured"
    if points is None:
        if spec is None:
            raise UserError(
                f"{symbol}: bars without a spread and no default for this symbol; "
                "configure its spread in points or give a spread profile"
            )
        points, origin = spec.typical_spread_points, "typical spread"
    value = float(points) * (spec.point if spec is not None else _point_guess(symbol))
    return SymbolSpread(FIXED, lambda times: np.full(len(times), value),
                        f"fixed {float(points):g} points ({origin})")


@functools.cache
def _shipped() -> SpreadProfile:
    return shipped_spread_profile()


def scaled_profile(symbol: str) -> SpreadProfile | None:
    """The shipped profile for ``symbol``: EURUSD's as measured, another listed symbol's
    scaled by the ratio of typical spreads; None for a symbol the broker does not list."""
    base = _shipped()
    if symbol == SHIPPED_PROFILE_SYMBOL:
        return base
    spec = SYMBOL_SPECS.get(symbol)
    if spec is None:
        return None
    reference = SYMBOL_SPECS[SHIPPED_PROFILE_SYMBOL].typical_spread_points
    factor = spec.typical_spread_points / reference
    return base.scaled(symbol, spec.point, factor,
                       f"{SHIPPED_PROFILE_SYMBOL} profile x {spec.typical_spread_points}/"
                       f"{reference} (typical spreads)")


def profile_spread(symbol: str, profiles: Mapping[str, SpreadProfile],
                   spread_points: Mapping[str, float]) -> SymbolSpread:
    """The profile model: the user's profile, else the spread configured for the symbol,
    else the shipped (or scaled) profile."""
    profile = profiles.get(symbol)
    # a CFD (a futures CFD too) has no FX-shaped profile to scale: its typical spread, fixed
    if profile is None and (symbol in spread_points or symbol in CFD_SPECS
                            or futures_spec(symbol) is not None):
        fixed = fixed_spread(symbol, spread_points)
        return SymbolSpread(FIXED, fixed.fill, f"{fixed.description}, not a profile")
    profile = profile or scaled_profile(symbol)
    if profile is None:
        raise UserError(f"{symbol}: bars without a spread and no spread profile for this "
                        "symbol; give one (--spread-profile) or configure its spread in points")
    return SymbolSpread(PROFILE, profile.spread_at,
                        f"profile by UTC weekday and hour, {profile.median_points:g} points "
                        f"at the median hour ({profile.source})")


def load_profiles(paths: Sequence[Path]) -> dict[str, SpreadProfile]:
    """The profiles of the files a user gives, by symbol; one symbol in two files is refused."""
    out: dict[str, SpreadProfile] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        for symbol, profile in read_spread_profiles(path).items():
            if symbol in out:
                raise UserError(f"{path}: a profile for {symbol} was already given in "
                                f"{origin[symbol]}")
            out[symbol], origin[symbol] = profile, path
    return out


def estimate_profile(paths: Sequence[Path], symbol: str | None = None,
                     server_time: ServerTimeZone | None = None,
                     digits: int | None = None) -> tuple[SpreadProfile, int]:
    """A profile estimated from tick files, and how many ticks were left out (no bid or
    ask, or ask below bid)."""
    name, tally = tally_tick_files(paths, symbol, server_time,
                                   lambda s: symbol_point(s, digits))
    if tally.ticks == 0:
        raise UserError(f"{name}: the files hold no tick with both a bid and an ask")
    first = np.datetime64(tally.first_msc, "ms").astype("datetime64[D]")
    last = np.datetime64(tally.last_msc, "ms").astype("datetime64[D]")
    source = f"{name} ticks {first}..{last} UTC ({tally.ticks:,} ticks)"
    return tally.profile(name, symbol_point(name, digits), source), tally.left_out
