"""Compiled inner loop of the bar builders.

A replay step hands the bar builders a few dozen ticks; doing that with vectorised numpy
costs a dozen small array operations per batch, which dominates a backtest.  One pass over
the batch in compiled code does the same work in a fraction of the time and handles every
case (several buckets per symbol, late data) the same way.

Only the streaming builders use these kernels.  A batch whose buckets are all known goes
through ``engine.bars.aggregate_runs`` in numpy, which measured faster than folding it here
and keeps numpy's pairwise sums (the measurement is recorded there).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def aggregate(sym: np.ndarray, bucket: np.ndarray, o: np.ndarray, h: np.ndarray,
              lo: np.ndarray, c: np.ndarray, vol: np.ndarray, ssum: np.ndarray,
              weight: np.ndarray, no_bucket: int, st_closed: np.ndarray,
              st_bucket: np.ndarray, st_open: np.ndarray, st_high: np.ndarray,
              st_low: np.ndarray, st_close: np.ndarray, st_volume: np.ndarray,
              st_ssum: np.ndarray, st_weight: np.ndarray,
              out_sym: np.ndarray, out_time: np.ndarray, out_open: np.ndarray,
              out_high: np.ndarray, out_low: np.ndarray, out_close: np.ndarray,
              out_volume: np.ndarray, out_spread: np.ndarray) -> tuple:
    """Fold items (in time order per symbol) into the forming bars; emit closed bars.

    Returns (bars emitted, items dropped as late: older than their symbol's forming bar, or
    of a bucket the clock has closed already, ``st_closed``: the last such bucket of each
    symbol; without that check an item of a closed bucket would open its bar a second time).
    """
    n_out = 0
    late = 0
    for i in range(sym.shape[0]):
        s = sym[i]
        b = bucket[i]
        cur = st_bucket[s]
        if b < cur or b <= st_closed[s]:
            late += weight[i]
            continue
        if b == cur:
            if h[i] > st_high[s]:
                st_high[s] = h[i]
            if lo[i] < st_low[s]:
                st_low[s] = lo[i]
            st_close[s] = c[i]
            st_volume[s] += vol[i]
            st_ssum[s] += ssum[i]
            st_weight[s] += weight[i]
            continue
        if cur != no_bucket:
            out_sym[n_out] = s
            out_time[n_out] = cur
            out_open[n_out] = st_open[s]
            out_high[n_out] = st_high[s]
            out_low[n_out] = st_low[s]
            out_close[n_out] = st_close[s]
            out_volume[n_out] = st_volume[s]
            w = st_weight[s]
            out_spread[n_out] = st_ssum[s] / w if w > 0 else 0.0
            n_out += 1
        st_bucket[s] = b
        st_open[s] = o[i]
        st_high[s] = h[i]
        st_low[s] = lo[i]
        st_close[s] = c[i]
        st_volume[s] = vol[i]
        st_ssum[s] = ssum[i]
        st_weight[s] = weight[i]
    return n_out, late


@njit(cache=True, nogil=True)
def fold_ticks(sym: np.ndarray, time_msc: np.ndarray, bid: np.ndarray, ask: np.ndarray,
               period_s: int, no_bucket: int, q_bid: np.ndarray, q_ask: np.ndarray,
               q_time: np.ndarray, st_closed: np.ndarray,
               st_bucket: np.ndarray, st_open: np.ndarray, st_high: np.ndarray,
               st_low: np.ndarray, st_close: np.ndarray, st_volume: np.ndarray,
               st_ssum: np.ndarray, st_weight: np.ndarray,
               out_sym: np.ndarray, out_time: np.ndarray, out_open: np.ndarray,
               out_high: np.ndarray, out_low: np.ndarray, out_close: np.ndarray,
               out_volume: np.ndarray, out_spread: np.ndarray) -> tuple:
    """Ticks -> last quotes and bars of one period, in one pass (see ``aggregate``).

    This repeats ``aggregate``'s fold on purpose: routing both through one shared per-item
    function measured twice as slow on this, the backtest's hottest loop.
    """
    n_out = 0
    late = 0
    for i in range(sym.shape[0]):
        s = sym[i]
        px = bid[i]
        spread = ask[i] - px
        q_bid[s] = px
        q_ask[s] = ask[i]
        q_time[s] = time_msc[i]
        b = (time_msc[i] // 1000) // period_s * period_s
        cur = st_bucket[s]
        if b < cur or b <= st_closed[s]:  # a tick of a bar closed already: its quote only
            late += 1
            continue
        if b == cur:
            if px > st_high[s]:
                st_high[s] = px
            if px < st_low[s]:
                st_low[s] = px
            st_close[s] = px
            st_volume[s] += 1
            st_ssum[s] += spread
            st_weight[s] += 1.0
            continue
        if cur != no_bucket:
            out_sym[n_out] = s
            out_time[n_out] = cur
            out_open[n_out] = st_open[s]
            out_high[n_out] = st_high[s]
            out_low[n_out] = st_low[s]
            out_close[n_out] = st_close[s]
            out_volume[n_out] = st_volume[s]
            w = st_weight[s]
            out_spread[n_out] = st_ssum[s] / w if w > 0 else 0.0
            n_out += 1
        st_bucket[s] = b
        st_open[s] = px
        st_high[s] = px
        st_low[s] = px
        st_close[s] = px
        st_volume[s] = 1
        st_ssum[s] = spread
        st_weight[s] = 1.0
    return n_out, late
