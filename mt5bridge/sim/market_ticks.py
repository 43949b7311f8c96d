"""Ticks from M1 bars, in the spirit of MT5's "1 minute OHLC" tester mode.

The synthetic market generates bars first and derives ticks from them, so that the bulk
bar path (backtests, research) never pays for ticks and the ticks a terminal receives
aggregate back to exactly those bars.  Each bar of ``tick_volume`` n becomes n ticks at
random, time-ordered milliseconds within its minute: the first at the open, the last at the
close, the high and the low once each at random interior positions (when they differ from
the open and close), and the other ticks in between, inside [low, high].  The ask is the
bid plus the bar's spread, so the bar's mean spread is also exact.

``flags`` say what changed against the symbol's previous tick (2 = bid, 4 = ask); a tick
that repeats the previous quote carries 0, which MT5's ``COPY_TICKS_INFO`` would skip.
"""

from __future__ import annotations

import numpy as np

from engine.ticks import TICK_DTYPE, empty_ticks

TICK_FLAG_BID = 2
TICK_FLAG_ASK = 4
_MS_PER_MINUTE = 60_000
#: Interior ticks wander around the open-to-close line by up to this share of the range.
_INTERIOR_SPREAD = 0.6


def ask_of(bid: np.ndarray, spread: np.ndarray, digits: int) -> np.ndarray:
    """Ask from bid and spread (price units), rounded to the symbol's digits."""
    scale = 10.0**digits
    points = np.rint(spread * scale)
    return np.rint(bid * scale + points) / scale


def ticks_from_bars(bars: np.ndarray, symbol_index: int, digits: int, rng: np.random.Generator,
                    previous_quote: tuple[float, float] | None) -> np.ndarray:
    """One symbol's ticks for a run of M1 bars (``BAR_DTYPE``, ``tick_volume`` >= 1).

    ``previous_quote`` is the (bid, ask) of the symbol's last tick before these bars, used for
    the first tick's flags; None means no earlier tick (the first tick then flags both sides).
    """
    counts = bars["tick_volume"].astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return empty_ticks()
    n_bars = len(bars)
    bar_of = np.repeat(np.arange(n_bars), counts)
    first_of_bar = np.cumsum(counts) - counts
    position = np.arange(total) - first_of_bar[bar_of]

    offsets = rng.integers(0, _MS_PER_MINUTE, total)
    offsets = np.sort(bar_of * _MS_PER_MINUTE + offsets) - bar_of * _MS_PER_MINUTE
    anchors = rng.random((2, n_bars))
    wander = rng.random(total)

    o, h, lo, c = (bars[k] for k in ("open", "high", "low", "close"))
    has_high = h > np.maximum(o, c)
    has_low = lo < np.minimum(o, c)
    slots = np.maximum(counts - 2, 1)
    high_at = 1 + np.floor(anchors[0] * slots).astype(np.int64)
    low_slots = np.where(has_high, np.maximum(counts - 3, 1), slots)
    low_at = 1 + np.floor(anchors[1] * low_slots).astype(np.int64)
    low_at = np.where(has_high & (low_at >= high_at), low_at + 1, low_at)

    scale = 10.0**digits
    share = position / np.maximum(counts[bar_of] - 1, 1)
    line = o[bar_of] + (c[bar_of] - o[bar_of]) * share
    width = (h - lo)[bar_of]
    bid = np.clip(line + (wander - 0.5) * width * _INTERIOR_SPREAD, lo[bar_of], h[bar_of])
    bid = np.rint(bid * scale) / scale
    bid = np.where(has_high[bar_of] & (position == high_at[bar_of]), h[bar_of], bid)
    bid = np.where(has_low[bar_of] & (position == low_at[bar_of]), lo[bar_of], bid)
    # Open and close last: a bar with too few ticks to show every extreme keeps them exact.
    bid = np.where(position == 0, o[bar_of], bid)
    bid = np.where(position == counts[bar_of] - 1, c[bar_of], bid)

    ticks = np.empty(total, dtype=TICK_DTYPE)
    ticks["time_msc"] = bars["time"][bar_of] * 1000 + offsets
    ticks["symbol"] = symbol_index
    ticks["bid"] = bid
    ticks["ask"] = ask_of(bid, bars["spread"][bar_of], digits)
    ticks["flags"] = _change_flags(ticks["bid"], ticks["ask"], previous_quote)
    return ticks


def last_quote(bars: np.ndarray, digits: int) -> tuple[float, float] | None:
    """The (bid, ask) of the last tick of the last bar: its close and the close's ask."""
    if len(bars) == 0:
        return None
    bar = bars[-1:]
    return float(bar["close"][0]), float(ask_of(bar["close"], bar["spread"], digits)[0])


def _change_flags(bid: np.ndarray, ask: np.ndarray,
                  previous_quote: tuple[float, float] | None) -> np.ndarray:
    prev_bid = np.empty_like(bid)
    prev_ask = np.empty_like(ask)
    prev_bid[1:], prev_ask[1:] = bid[:-1], ask[:-1]
    prev_bid[0], prev_ask[0] = previous_quote if previous_quote is not None else (np.nan, np.nan)
    bid_flag = np.where(bid != prev_bid, TICK_FLAG_BID, 0)
    ask_flag = np.where(ask != prev_ask, TICK_FLAG_ASK, 0)
    return (bid_flag | ask_flag).astype(np.uint32)


def merge_symbol_ticks(per_symbol: list[np.ndarray]) -> np.ndarray:
    """All symbols' ticks in time order; equal times keep the symbols' order."""
    merged = concat_records(per_symbol, TICK_DTYPE)
    return merged[np.argsort(merged["time_msc"], kind="stable")]


def concat_records(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    """Concatenate structured arrays of ``dtype`` into a new array.

    Joined as opaque fixed-size records: ``np.concatenate`` on the structured dtype copies
    field by field and costs several times more than the copy itself.
    """
    record = np.dtype((np.void, dtype.itemsize))
    joined = [np.ascontiguousarray(p, dtype=dtype).view(record) for p in parts if len(p)]
    if not joined:
        return np.empty(0, dtype=dtype)
    return np.concatenate(joined).view(dtype)
