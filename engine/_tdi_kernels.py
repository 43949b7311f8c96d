"""Compiled inner loops of the TDI: the batch core, the quantile normalisation, the
streaming step.

The batch core keeps running window sums (re-summed exactly now and then) and takes each
bar's spectrum by the warm path of ``engine._tdi_eigen``; the streaming step recomputes its
windows exactly and always takes the exact (tridiagonal QL) path, so the batch = streaming
test compares two eigen-solvers as well as two windowing schemes.

The functions here are long, flat loops on purpose (exempt from the project's complexity
limit, see pyproject.toml): each runs once per bar and pair inside compiled code, where
splitting a branch into a helper adds a call per bar.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine._tdi_eigen import cold_top2, top_eigen, warm_top2

#: Recompute the running co-moment sums exactly this often (bounds drift of the updates).
_RESUM_EVERY = 256


@njit(cache=True, nogil=True)
def tdi_core(
    logp: np.ndarray,
    ii: np.ndarray,
    jj: np.ndarray,
    tau_f: int,
    tau_s: int,
    min_std: float,
    phi: np.ndarray,
    gap: np.ndarray,
    explained: np.ndarray,
    v1: np.ndarray,
    sd: np.ndarray,
    first: int,
) -> None:
    """Fill phi, eigengap, explained share, pinned v1 and RC std for bars ``first`` on.

    Output arrays come in NaN-filled; bars whose windows are not full stay NaN.  Bars
    before ``first`` are computed (they fill the windows) but not written: a parallel
    chunk's lead-in belongs to the chunk before it.
    """
    n = logp.shape[0]
    k = ii.shape[0]
    ratio = np.empty((n, k))
    rc = np.empty((n, k))
    rc_ok = np.zeros(n, dtype=np.bool_)
    z = np.empty((n, k))
    z_ok = np.zeros(n, dtype=np.bool_)
    for t in range(n):
        for c in range(k):
            ratio[t, c] = logp[t, ii[c]] - logp[t, jj[c]]
    rc_bad = 0  # invalid rows inside the current RC window
    z_bad = 0
    s1 = np.zeros(k)
    s2 = np.zeros((k, k))
    pinned = np.zeros(k)
    have_pinned = False
    since_resum = _RESUM_EVERY
    mean = np.empty(k)
    std = np.empty(k)
    cov = np.empty((k, k))
    work = np.empty((k, k))
    dd = np.empty(k)
    ee = np.zeros(max(k - 1, 1))
    hv = np.zeros((k, k))
    tau = np.zeros(max(k - 2, 1))
    pbuf = np.empty(k)
    vec = np.empty(k)
    eig = np.empty(k)
    esc = np.empty(k)
    vec2 = np.zeros(k)
    cov2 = np.empty((k, k))
    lu = np.empty((k, k))
    ybuf = np.empty(k)
    zbuf = np.empty(k)
    warm = False
    lam2_last = 0.0
    ref = np.zeros(k)
    r1 = np.zeros(k)
    r2 = np.zeros(k)
    rc_resum = _RESUM_EVERY
    for t in range(n):
        # 1. relative momentum over the fast window
        if t >= tau_f:
            rc_ok[t] = True
            for c in range(k):
                rc[t, c] = ratio[t, c] - ratio[t - tau_f, c]
        if not rc_ok[t]:
            rc_bad += 1
        if t >= tau_s and not rc_ok[t - tau_s]:
            rc_bad -= 1
        # 2. standardise over the slow window: running sums of RC, centred on a past value
        #    and re-summed exactly every _RESUM_EVERY bars so rounding cannot accumulate
        if t >= tau_s - 1 and rc_bad == 0:
            if rc_resum >= _RESUM_EVERY:
                for c in range(k):
                    ref[c] = rc[t - tau_s + 1, c]
                    a1 = 0.0
                    a2 = 0.0
                    for r in range(t - tau_s + 1, t + 1):
                        dv = rc[r, c] - ref[c]
                        a1 += dv
                        a2 += dv * dv
                    r1[c] = a1
                    r2[c] = a2
                rc_resum = 0
            else:
                for c in range(k):
                    dn = rc[t, c] - ref[c]
                    do = rc[t - tau_s, c] - ref[c]
                    r1[c] += dn - do
                    r2[c] += dn * dn - do * do
                rc_resum += 1
            ok = True
            for c in range(k):
                m = r1[c] / tau_s
                v = (r2[c] - r1[c] * m) / (tau_s - 1)
                sdev = np.sqrt(v) if v > 0.0 else 0.0
                if t >= first:
                    sd[t, c] = sdev
                mean[c] = m + ref[c]
                std[c] = sdev
                if not sdev >= min_std:
                    ok = False
            if ok:
                z_ok[t] = True
                for c in range(k):
                    z[t, c] = (rc[t, c] - mean[c]) / std[c]
        else:
            rc_resum = _RESUM_EVERY
        # 3. co-moments of Z over the slow window: running sums, re-summed exactly now and then
        if not z_ok[t]:
            z_bad += 1
        leaving = t - tau_s
        if leaving >= 0 and not z_ok[leaving]:
            z_bad -= 1
        if t < tau_s - 1 or z_bad != 0:
            since_resum = _RESUM_EVERY
            warm = False
            continue
        if since_resum >= _RESUM_EVERY:
            s1[:] = 0.0
            s2[:, :] = 0.0
            for r in range(t - tau_s + 1, t + 1):
                for a in range(k):
                    s1[a] += z[r, a]
                    for b in range(a, k):
                        s2[a, b] += z[r, a] * z[r, b]
            since_resum = 0
        else:
            for a in range(k):
                s1[a] += z[t, a] - z[leaving, a]
                for b in range(a, k):
                    s2[a, b] += z[t, a] * z[t, b] - z[leaving, a] * z[leaving, b]
            since_resum += 1
        trace = 0.0
        fro2 = 0.0
        for a in range(k):
            val = (s2[a, a] - s1[a] * s1[a] / tau_s) / (tau_s - 1)
            cov[a, a] = val
            trace += val
            fro2 += val * val
            for b in range(a + 1, k):
                val = (s2[a, b] - s1[a] * s1[b] / tau_s) / (tau_s - 1)
                cov[a, b] = val
                cov[b, a] = val
                fro2 += 2.0 * val * val
        # 4. top of the spectrum, sign pinned against the previous bar
        ok = False
        if warm:
            for a in range(k):
                vec[a] = pinned[a]
            lam1, lam2, ok = warm_top2(cov, fro2, vec, vec2, lam2_last, cov2, lu, ybuf,
                                        zbuf)
        if not ok:
            lam1, lam2 = cold_top2(cov, work, dd, ee, hv, tau, pbuf, vec, vec2, eig, esc,
                                    lu, zbuf)
        warm = True
        lam2_last = lam2
        if not have_pinned:
            big = 0
            for a in range(1, k):
                if abs(vec[a]) > abs(vec[big]):
                    big = a
            sign = 1.0 if vec[big] > 0 else -1.0
            have_pinned = True
        else:
            dot = 0.0
            for a in range(k):
                dot += vec[a] * pinned[a]
            sign = 1.0 if dot >= 0 else -1.0
        acc = 0.0
        for a in range(k):
            pinned[a] = vec[a] * sign
            acc += z[t, a] * pinned[a]
        if t >= first:
            for a in range(k):
                v1[t, a] = pinned[a]
            phi[t] = acc
            gap[t] = lam1 / lam2 if k > 1 else np.nan
            explained[t] = lam1 / trace


@njit(cache=True)
def _quantile(sorted_vals: np.ndarray, count: int, q: float) -> float:
    idx = q * (count - 1)
    lo = int(np.floor(idx))
    t = idx - lo
    hi = min(lo + 1, count - 1)
    a = sorted_vals[lo]
    diff = sorted_vals[hi] - a
    if t >= 0.5:
        return sorted_vals[hi] - diff * (1.0 - t)
    return a + diff * t


@njit(cache=True)
def normalise_core(phi: np.ndarray, tau_q: int, q_high: float, q_low: float,
                   out: np.ndarray, first: int) -> None:
    """Asymmetric percentile normalisation against the previous ``tau_q`` phi values.

    ``out`` comes in NaN-filled and is written from bar ``first`` on (a parallel chunk's
    lead-in only fills the window).  The window holds the same values whatever bar it
    started from, so a chunk started ``tau_q`` bars early gives the sequential values.
    """
    n = phi.shape[0]
    window = np.empty(tau_q)
    count = 0
    nan_in_window = 0
    for t in range(n):
        if (t >= first and t >= tau_q and nan_in_window == 0 and count == tau_q
                and not np.isnan(phi[t])):
            med = _quantile(window, count, 0.5)
            hi = _quantile(window, count, q_high)
            lo = _quantile(window, count, q_low)
            x = phi[t]
            den = hi - med if x >= med else med - lo
            if den != 0.0:
                val = (x - med) / den
                if np.isfinite(val):
                    out[t] = val
        # slide the window: phi[t] replaces phi[t - tau_q], shifting only what lies between
        old = phi[t - tau_q] if t >= tau_q else np.nan
        x = phi[t]
        old_in = t >= tau_q and not np.isnan(old)
        if np.isnan(x):
            nan_in_window += 1
        if t >= tau_q and np.isnan(old):
            nan_in_window -= 1
        if old_in and not np.isnan(x):
            pos = np.searchsorted(window[:count], old)
            while pos + 1 < count and window[pos + 1] < x:
                window[pos] = window[pos + 1]
                pos += 1
            while pos > 0 and window[pos - 1] > x:
                window[pos] = window[pos - 1]
                pos -= 1
            window[pos] = x
        elif old_in:
            pos = np.searchsorted(window[:count], old)
            for j in range(pos, count - 1):
                window[j] = window[j + 1]
            count -= 1
        elif not np.isnan(x):
            pos = np.searchsorted(window[:count], x)
            for j in range(count, pos, -1):
                window[j] = window[j - 1]
            window[pos] = x
            count += 1


# --------------------------------------------------------------------------------------------
# Streaming: one closed bar at a time, exact window sums, the exact (cold) eigen path.

#: Layout of the integer state vector of ``stream_step``.
S_RATIOS = 0  # ratios stored so far (capped at tau_f)
S_RATIO_POS = 1  # next slot of the ratio ring
S_RC_POS = 2
S_RC_COUNT = 3
S_RC_BAD = 4
S_Z_POS = 5
S_Z_COUNT = 6
S_Z_BAD = 7
S_PINNED = 8  # 1 once a v1 has been pinned
S_PHI_POS = 9
S_PHI_COUNT = 10  # phi values in the ring (capped at tau_q)
S_PHI_NAN = 11
S_SORTED = 12  # finite phi values in the sorted window
S_LAST_OK = 13  # 1 when the last bar produced RC stats and v1 (for provisional values)
N_STATE = 14


def stream_scratch(k: int) -> np.ndarray:
    """The temporaries of ``stream_step`` for K pairs: three K x K matrices, twelve vectors."""
    return np.zeros((3 * k + 12, k))


@njit(cache=True)
def _ring_push(ring: np.ndarray, ok: np.ndarray, row: np.ndarray, valid: bool, st: np.ndarray,
               pos_i: int, count_i: int, bad_i: int) -> None:
    length = ring.shape[0]
    pos = st[pos_i]
    if st[count_i] == length:
        if not ok[pos]:
            st[bad_i] -= 1
    else:
        st[count_i] += 1
    for c in range(ring.shape[1]):
        ring[pos, c] = row[c]
    ok[pos] = valid
    if not valid:
        st[bad_i] += 1
    st[pos_i] = (pos + 1) % length


@njit(cache=True)
def stream_step(logp: np.ndarray, ii: np.ndarray, jj: np.ndarray, tau_f: int, tau_s: int,
                tau_q: int, min_std: float, q_high: float, q_low: float, st: np.ndarray,
                ratios: np.ndarray, rc_win: np.ndarray, rc_ok: np.ndarray, z_win: np.ndarray,
                z_ok: np.ndarray, pinned: np.ndarray, last_mean: np.ndarray,
                last_std: np.ndarray, phi_ring: np.ndarray, phi_sorted: np.ndarray,
                out: np.ndarray, scratch: np.ndarray) -> None:
    """Advance the streaming TDI by one bar.  ``out`` = [tdi, phi, gap, explained]; the
    bar's RC std and pinned v1 are left in ``last_std`` and ``pinned``.  ``scratch``
    (``stream_scratch``) holds the bar's temporaries, so a bar allocates nothing."""
    k = ii.shape[0]
    cov = scratch[0:k]
    work = scratch[k:2 * k]
    hv = scratch[2 * k:3 * k]
    base = 3 * k
    ratio = scratch[base]
    rc = scratch[base + 1]
    z = scratch[base + 2]
    zm = scratch[base + 3]
    dz = scratch[base + 4]
    vec = scratch[base + 5]
    dd = scratch[base + 6]
    ee = scratch[base + 7]
    tau = scratch[base + 8]
    pbuf = scratch[base + 9]
    eig = scratch[base + 10]
    esc = scratch[base + 11]
    for i in range(4):
        out[i] = np.nan
    for c in range(k):
        ratio[c] = logp[ii[c]] - logp[jj[c]]
    rpos = st[S_RATIO_POS]
    rc[:] = np.nan
    rc_valid = st[S_RATIOS] == tau_f  # the slot about to be overwritten holds t - tau_f
    if rc_valid:
        for c in range(k):
            rc[c] = ratio[c] - ratios[rpos, c]
    for c in range(k):
        ratios[rpos, c] = ratio[c]
    st[S_RATIO_POS] = (rpos + 1) % tau_f
    if st[S_RATIOS] < tau_f:
        st[S_RATIOS] += 1
    _ring_push(rc_win, rc_ok, rc, rc_valid, st, S_RC_POS, S_RC_COUNT, S_RC_BAD)

    z[:] = np.nan
    z_valid = False
    st[S_LAST_OK] = 0
    for c in range(k):
        last_std[c] = np.nan
    if st[S_RC_COUNT] == tau_s and st[S_RC_BAD] == 0:
        z_valid = True
        for c in range(k):
            m = 0.0
            for r in range(tau_s):
                m += rc_win[r, c]
            m /= tau_s
            v = 0.0
            for r in range(tau_s):
                d = rc_win[r, c] - m
                v += d * d
            sdev = np.sqrt(v / (tau_s - 1))
            last_mean[c] = m
            last_std[c] = sdev
            if not sdev >= min_std:
                z_valid = False
        if z_valid:
            for c in range(k):
                z[c] = (rc[c] - last_mean[c]) / last_std[c]
    _ring_push(z_win, z_ok, z, z_valid, st, S_Z_POS, S_Z_COUNT, S_Z_BAD)

    phi = np.nan
    if st[S_Z_COUNT] == tau_s and st[S_Z_BAD] == 0:
        zm[:] = 0.0
        for r in range(tau_s):
            for c in range(k):
                zm[c] += z_win[r, c]
        for c in range(k):
            zm[c] /= tau_s
        cov[:, :] = 0.0
        for r in range(tau_s):
            for c in range(k):
                dz[c] = z_win[r, c] - zm[c]
            for a in range(k):
                da = dz[a]
                for b in range(a, k):
                    cov[a, b] += da * dz[b]
        trace = 0.0
        for a in range(k):
            for b in range(a, k):
                cov[a, b] /= tau_s - 1
                cov[b, a] = cov[a, b]
            trace += cov[a, a]
        lam1, lam2 = top_eigen(cov, work, dd, ee, hv, tau, pbuf, vec, eig, esc)
        if st[S_PINNED] == 0:
            big = 0
            for a in range(1, k):
                if abs(vec[a]) > abs(vec[big]):
                    big = a
            sign = 1.0 if vec[big] > 0 else -1.0
            st[S_PINNED] = 1
        else:
            dot = 0.0
            for a in range(k):
                dot += vec[a] * pinned[a]
            sign = 1.0 if dot >= 0 else -1.0
        phi = 0.0
        for a in range(k):
            pinned[a] = vec[a] * sign
            phi += z[a] * pinned[a]
        out[1] = phi
        out[2] = lam1 / lam2 if k > 1 else np.nan
        out[3] = lam1 / trace
        st[S_LAST_OK] = 1

    # normalise against the previous tau_q phi values, then slide the window
    count = st[S_SORTED]
    if st[S_PHI_COUNT] == tau_q and st[S_PHI_NAN] == 0 and not np.isnan(phi):
        med = _quantile(phi_sorted, count, 0.5)
        hi = _quantile(phi_sorted, count, q_high)
        lo = _quantile(phi_sorted, count, q_low)
        den = hi - med if phi >= med else med - lo
        if den != 0.0:
            val = (phi - med) / den
            if np.isfinite(val):
                out[0] = val
    pos = st[S_PHI_POS]
    if st[S_PHI_COUNT] == tau_q:
        old = phi_ring[pos]
        if np.isnan(old):
            st[S_PHI_NAN] -= 1
        else:
            at = np.searchsorted(phi_sorted[:count], old)
            for j in range(at, count - 1):
                phi_sorted[j] = phi_sorted[j + 1]
            count -= 1
    else:
        st[S_PHI_COUNT] += 1
    phi_ring[pos] = phi
    if np.isnan(phi):
        st[S_PHI_NAN] += 1
    else:
        at = np.searchsorted(phi_sorted[:count], phi)
        for j in range(count, at, -1):
            phi_sorted[j] = phi_sorted[j - 1]
        phi_sorted[at] = phi
        count += 1
    st[S_SORTED] = count
    st[S_PHI_POS] = (pos + 1) % tau_q
