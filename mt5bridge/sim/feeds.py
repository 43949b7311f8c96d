"""A market feed over ticks already in memory.

Constructed scenarios ("EURUSD gaps through the stop at 10:00:05") and small replays are
easiest to state as one tick array; this feed serves such an array through the
``MarketFeed`` protocol so the simulated terminal cannot tell it from the synthetic market
or a recorded replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.errors import DataError
from engine.ticks import BAR_DTYPE, TICK_DTYPE, empty_ticks

__all__ = ["ArrayFeed"]


class ArrayFeed:
    """``MarketFeed`` over an in-memory ``TICK_DTYPE`` array (UTC, time-ordered).

    ``start_msc`` defaults to the first tick's time (or 0 for an empty array); ``end_msc``
    is the last tick's time.  The array is validated once, here, so that a bad scenario
    fails with the offending row instead of as a strange fill later.
    """

    def __init__(
        self,
        symbols: Sequence[str],
        ticks: np.ndarray,
        warmup_bars: Mapping[str, np.ndarray] | None = None,
        *,
        start_msc: int | None = None,
    ) -> None:
        self._symbols = tuple(symbols)
        if len(set(self._symbols)) != len(self._symbols):
            raise DataError(f"duplicate symbol names in {self._symbols}")
        if ticks.dtype != TICK_DTYPE:
            raise DataError(f"ticks must have TICK_DTYPE, got {ticks.dtype}")
        _validate_ticks(ticks, len(self._symbols))
        self._ticks = ticks
        # Contiguous copy: searchsorted on a strided field view would copy it on every call.
        self._times = np.ascontiguousarray(ticks["time_msc"])
        self._pos = 0
        self._warmup = _validate_warmup(warmup_bars or {}, self._symbols)
        first = int(self._times[0]) if len(ticks) else 0
        self._start = first if start_msc is None else int(start_msc)
        if len(ticks) and self._start > first:
            raise DataError(f"start_msc {self._start} is after the first tick ({first})")

    @property
    def symbols(self) -> Sequence[str]:
        return self._symbols

    @property
    def start_msc(self) -> int:
        return self._start

    @property
    def end_msc(self) -> int | None:
        return int(self._times[-1]) if len(self._times) else self._start

    def next_time(self) -> int | None:
        return int(self._times[self._pos]) if self._pos < len(self._times) else None

    def ticks_until(self, t_msc: int) -> np.ndarray:
        if self._pos >= len(self._times) or self._times[self._pos] > t_msc:
            return empty_ticks()
        end = int(np.searchsorted(self._times, t_msc, side="right"))
        batch = self._ticks[self._pos:end]
        self._pos = end
        return batch

    def warmup_bars(self) -> dict[str, np.ndarray]:
        return dict(self._warmup)


def _validate_ticks(ticks: np.ndarray, n_symbols: int) -> None:
    if len(ticks) == 0:
        return
    times = ticks["time_msc"]
    back = np.flatnonzero(np.diff(times) < 0)
    if len(back):
        raise DataError(f"tick {int(back[0]) + 1}: time goes backwards")
    sym = ticks["symbol"]
    bad = np.flatnonzero((sym < 0) | (sym >= n_symbols))
    if len(bad):
        raise DataError(f"tick {int(bad[0])}: symbol index {int(sym[bad[0]])} out of range")
    bid, ask = ticks["bid"], ticks["ask"]
    bad = np.flatnonzero(~(np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)))
    if len(bad):
        i = int(bad[0])
        raise DataError(f"tick {i}: bad quote bid={bid[i]} ask={ask[i]}")


def _validate_warmup(
    bars: Mapping[str, np.ndarray], symbols: Sequence[str]
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, arr in bars.items():
        if name not in symbols:
            raise DataError(f"warm-up bars for {name}, which is not one of the feed's symbols")
        if arr.dtype != BAR_DTYPE:
            raise DataError(f"warm-up bars for {name} must have BAR_DTYPE, got {arr.dtype}")
        if len(arr) > 1 and np.any(np.diff(arr["time"]) <= 0):
            raise DataError(f"warm-up bars for {name} are not in strictly increasing time order")
        out[name] = arr
    return out


def ticks_from_rows(
    symbols: Sequence[str], rows: Sequence[tuple[int, str, float, float]]
) -> np.ndarray:
    """Scripted ticks: ``(time_msc, symbol, bid, ask)`` rows -> a time-ordered tick array.

    Rows with equal times keep their order.  Flags mark which side changed since the
    symbol's previous row (bid 2, ask 4), as a real feed's would.
    """
    index = {name: i for i, name in enumerate(symbols)}
    out = np.zeros(len(rows), dtype=TICK_DTYPE)
    last: dict[int, tuple[float, float]] = {}
    for k, (t, name, bid, ask) in enumerate(sorted(rows, key=lambda r: r[0])):
        if name not in index:
            raise DataError(f"row {k}: unknown symbol {name}")
        s = index[name]
        prev = last.get(s)
        flags = 6 if prev is None else (2 if bid != prev[0] else 0) | (4 if ask != prev[1] else 0)
        out[k] = (t, s, bid, ask, flags or 6)
        last[s] = (bid, ask)
    return out


def walk_ticks(
    specs: Sequence[tuple[str, float, float, int]],
    start_msc: int,
    end_msc: int,
    step_ms: int,
    seed: int = 0,
    vol_points: float = 3.0,
) -> np.ndarray:
    """A seeded random walk for each ``(name, start_bid, point, spread_points)`` symbol.

    Every symbol quotes every ``step_ms`` from ``start_msc`` to ``end_msc`` (inclusive),
    moving by a normal step of ``vol_points`` points; the spread is constant.  Meant for
    tests and benchmarks that need many plausible ticks without the synthetic market.
    """
    rng = np.random.default_rng(seed)
    times = np.arange(start_msc, end_msc + 1, step_ms, dtype=np.int64)
    n, k = len(times), len(specs)
    out = np.zeros(n * k, dtype=TICK_DTYPE)
    for j, (_, bid0, point, spread) in enumerate(specs):
        digits = max(0, round(-np.log10(point)))
        path = bid0 + np.cumsum(rng.normal(0.0, vol_points * point, n))
        bid = np.round(np.maximum(path, 10 * point), digits)
        out["time_msc"][j::k] = times
        out["symbol"][j::k] = j
        out["bid"][j::k] = bid
        out["ask"][j::k] = np.round(bid + spread * point, digits)
        out["flags"][j::k] = 6
    return out


def walk_feed(
    symbols: Sequence[str],
    start_msc: int,
    end_msc: int,
    step_ms: int = 1000,
    seed: int = 0,
    vol_points: float = 3.0,
) -> ArrayFeed:
    """``walk_ticks`` for broker symbols, starting at their reference prices and spreads.

    Ticks fall only where the FX market is open (Sunday 22:00 to Friday 22:00 UTC, not on
    the holidays), as on a real feed.
    """
    from mt5bridge.sim.sessions import MarketHours
    from mt5bridge.sim.symbols import SYMBOL_SPECS, reference_price

    specs = []
    for name in symbols:
        spec = SYMBOL_SPECS[name]
        specs.append((name, reference_price(spec), spec.point, spec.typical_spread_points))
    ticks = walk_ticks(specs, start_msc, end_msc, step_ms, seed, vol_points)
    hours = MarketHours()
    minutes = np.unique(ticks["time_msc"] // 60_000)
    open_minutes = minutes[[hours.is_open(int(m) * 60_000) for m in minutes]]
    ticks = ticks[np.isin(ticks["time_msc"] // 60_000, open_minutes)]
    return ArrayFeed(symbols, ticks, start_msc=start_msc)
