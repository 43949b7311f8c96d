"""Compiled inner loops of the batch TDI.

The batch TDI needs the two largest eigenvalues and the top eigenvector of a K x K
covariance at every bar (K = 3 to 15 pairs).  A batched ``numpy.linalg.eigh`` costs about
3 microseconds per 6 x 6 matrix, more than the whole per-bar budget, because it computes
the full spectrum and pays LAPACK's per-call overhead.  Here each bar does only what is
needed, the LAPACK way: a Householder reduction to tridiagonal form, Sturm-sequence
QL iteration on it for lambda1 and lambda2, inverse iteration for v1 (on a shift just above lambda1,
where the tridiagonal system is definite and needs no pivoting), and the back-transform.

The streaming calculator uses ``numpy.linalg.eigh`` instead, so the batch = streaming test
compares two independent eigen-solvers as well as two windowing schemes.

The functions here are long, flat loops on purpose (the only ones exempt from the project's
complexity limit, see pyproject.toml): each runs once per bar and pair inside compiled code,
where splitting a branch into a helper adds a call per bar.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Floating-point licences for the small dense solves: reassociation and fused multiply-add
#: only (no "finite math" assumption, so NaN checks keep working).
_FAST = {"reassoc", "contract", "nsz"}

#: Recompute the running co-moment sums exactly this often (bounds drift of the updates).
_RESUM_EVERY = 256


@njit(cache=True)
def _tridiagonalise(a: np.ndarray, d: np.ndarray, e: np.ndarray, hv: np.ndarray,
                    tau: np.ndarray, p: np.ndarray) -> None:
    """Householder reduction ``Q' A Q = T`` of symmetric ``a`` (destroyed).

    ``d``/``e`` receive T's diagonal and sub-diagonal; reflector i is ``I - tau[i] v v'``
    with ``v = hv[i, i+1:]`` (``v[0] = 1``), kept for the eigenvector back-transform.
    """
    k = a.shape[0]
    for i in range(k - 2):
        alpha = a[i + 1, i]
        sigma = 0.0
        for j in range(i + 2, k):
            sigma += a[j, i] * a[j, i]
        hv[i, i + 1] = 1.0
        if sigma == 0.0:
            tau[i] = 0.0
            e[i] = alpha
            continue
        beta = -np.sqrt(alpha * alpha + sigma)
        if alpha < 0.0:
            beta = -beta
        tau[i] = (beta - alpha) / beta
        scale = 1.0 / (alpha - beta)
        for j in range(i + 2, k):
            hv[i, j] = a[j, i] * scale
        e[i] = beta
        # A22 <- H A22 H:  p = tau A22 v,  w = p - (tau/2)(p.v) v,  A22 -= v w' + w v'
        pv = 0.0
        for r in range(i + 1, k):
            acc = 0.0
            for c in range(i + 1, k):
                acc += a[r, c] * hv[i, c]
            p[r] = tau[i] * acc
            pv += p[r] * hv[i, r]
        half = -0.5 * tau[i] * pv
        for r in range(i + 1, k):
            p[r] += half * hv[i, r]
        for r in range(i + 1, k):
            for c in range(i + 1, k):
                a[r, c] -= hv[i, r] * p[c] + p[r] * hv[i, c]
    for i in range(k):
        d[i] = a[i, i]
    if k >= 2:
        e[k - 2] = a[k - 1, k - 2]


@njit(cache=True)
def _tql_eigenvalues(d: np.ndarray, e: np.ndarray, tol: float) -> None:
    """Eigenvalues of the tridiagonal (d, e) by implicit QL, in place in ``d``.

    ``e[i]`` couples rows i and i+1 (``e[k-1]`` is scratch).  An off-diagonal counts as
    zero below ``tol`` (an absolute tolerance tied to the spectrum's span, like LAPACK's)
    or below machine precision relative to its neighbours.
    """
    k = d.shape[0]
    e[k - 1] = 0.0
    for lo in range(k):
        for _it in range(60):
            m = lo
            while m < k - 1:
                dd = abs(d[m]) + abs(d[m + 1])
                if abs(e[m]) <= 2.2e-16 * dd or abs(e[m]) <= tol:
                    break
                m += 1
            if m == lo:
                break
            g = (d[lo + 1] - d[lo]) / (2.0 * e[lo])
            r = np.hypot(g, 1.0)
            g = d[m] - d[lo] + e[lo] / (g + (r if g >= 0 else -r))
            s = 1.0
            c = 1.0
            p = 0.0
            i = m - 1
            deflated = False
            while i >= lo:
                f = s * e[i]
                b = c * e[i]
                r = np.hypot(f, g)
                e[i + 1] = r
                if r == 0.0:
                    d[i + 1] -= p
                    e[m] = 0.0
                    deflated = True
                    break
                s = f / r
                c = g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
                i -= 1
            if deflated:
                continue
            d[lo] -= p
            e[lo] = g
            e[m] = 0.0


@njit(cache=True)
def _top_eigen(cov: np.ndarray, work: np.ndarray, d: np.ndarray, e: np.ndarray,
               hv: np.ndarray, tau: np.ndarray, p: np.ndarray, vec: np.ndarray,
               eig: np.ndarray, esc: np.ndarray) -> tuple:
    """(lambda1, lambda2) of symmetric ``cov``; its unit top eigenvector goes to ``vec``."""
    k = cov.shape[0]
    for r in range(k):
        for c in range(k):
            work[r, c] = cov[r, c]
    _tridiagonalise(work, d, e, hv, tau, p)
    lo = np.inf
    hi = -np.inf
    for i in range(k):  # Gershgorin bounds of T
        rad = 0.0
        if i > 0:
            rad += abs(e[i - 1])
        if i < k - 1:
            rad += abs(e[i])
        lo = min(lo, d[i] - rad)
        hi = max(hi, d[i] + rad)
    span = max(hi - lo, 1e-300)
    for i in range(k):
        eig[i] = d[i]
        esc[i] = e[i] if i < k - 1 else 0.0
    _tql_eigenvalues(eig, esc, 2.2e-16 * span)
    lam1 = -np.inf
    lam2 = -np.inf
    for i in range(k):
        x = eig[i]
        if x > lam1:
            lam2 = lam1
            lam1 = x
        elif x > lam2:
            lam2 = x
    # Inverse iteration with mu just above lambda1: T - mu I is negative definite, so the
    # plain tridiagonal (Thomas) elimination is stable without pivoting.
    mu = lam1 + 1e-13 * span
    for i in range(k):
        vec[i] = 1.0
    for _it in range(3):
        p[0] = d[0] - mu
        for i in range(1, k):
            m = e[i - 1] / p[i - 1]
            p[i] = d[i] - mu - m * e[i - 1]
            vec[i] -= m * vec[i - 1]
        vec[k - 1] /= p[k - 1]
        for i in range(k - 2, -1, -1):
            vec[i] = (vec[i] - e[i] * vec[i + 1]) / p[i]
        norm = 0.0
        for i in range(k):
            norm += vec[i] * vec[i]
        norm = np.sqrt(norm)
        for i in range(k):
            vec[i] /= norm
    for i in range(k - 3, -1, -1):  # back-transform: x = H_0 H_1 ... H_{k-3} y
        if tau[i] == 0.0:
            continue
        dot = 0.0
        for j in range(i + 1, k):
            dot += hv[i, j] * vec[j]
        dot *= tau[i]
        for j in range(i + 1, k):
            vec[j] -= dot * hv[i, j]
    return lam1, lam2


@njit(cache=True, fastmath=_FAST)
def _solve_shifted(c: np.ndarray, mu: float, b: np.ndarray, a: np.ndarray,
                   x: np.ndarray) -> None:
    """Solve ``(c - mu I) x = b`` by LU with partial pivoting (``a`` is scratch).

    Inverse iteration solves nearly singular systems on purpose: a zero pivot is replaced
    by a tiny one, which only makes the answer larger in the wanted direction.
    """
    k = c.shape[0]
    for r in range(k):
        for col in range(k):
            a[r, col] = c[r, col]
        a[r, r] -= mu
        x[r] = b[r]
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if piv != col:
            for m in range(col, k):
                tmp = a[col, m]
                a[col, m] = a[piv, m]
                a[piv, m] = tmp
            tmp = x[col]
            x[col] = x[piv]
            x[piv] = tmp
        if a[col, col] == 0.0:
            a[col, col] = 1e-300
        inv = 1.0 / a[col, col]
        for r in range(col + 1, k):
            f = a[r, col] * inv
            if f != 0.0:
                for m in range(col + 1, k):
                    a[r, m] -= f * a[col, m]
                x[r] -= f * x[col]
    for r in range(k - 1, -1, -1):
        acc = x[r]
        for m in range(r + 1, k):
            acc -= a[r, m] * x[m]
        x[r] = acc / a[r, r]


@njit(cache=True, fastmath=_FAST)
def _normalise_vec(x: np.ndarray) -> bool:
    norm = 0.0
    for i in range(x.shape[0]):
        norm += x[i] * x[i]
    norm = np.sqrt(norm)
    if not (norm > 0.0 and np.isfinite(norm)):
        return False
    for i in range(x.shape[0]):
        x[i] /= norm
    return True


@njit(cache=True, fastmath=_FAST)
def _rayleigh(c: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    """Rayleigh quotient of unit ``x`` and the residual norm ``|Cx - mu x|`` (y = Cx)."""
    k = c.shape[0]
    mu = 0.0
    for r in range(k):
        acc = 0.0
        for m in range(k):
            acc += c[r, m] * x[m]
        y[r] = acc
        mu += acc * x[r]
    res = 0.0
    for r in range(k):
        d = y[r] - mu * x[r]
        res += d * d
    return mu, np.sqrt(res)


@njit(cache=True)
def _rqi(c: np.ndarray, x: np.ndarray, tol: float, a: np.ndarray, y: np.ndarray,
         z: np.ndarray) -> tuple:
    """Rayleigh-quotient iteration from unit ``x`` (refined in place): (mu, converged)."""
    mu, res = _rayleigh(c, x, y)
    for _ in range(6):
        if res <= tol:
            return mu, True
        _solve_shifted(c, mu, x, a, z)
        for i in range(x.shape[0]):
            x[i] = z[i]
        if not _normalise_vec(x):
            return mu, False
        mu, res = _rayleigh(c, x, y)
    return mu, res <= tol


@njit(cache=True, fastmath=_FAST)
def _is_top(c: np.ndarray, mu: float, delta: float, a: np.ndarray) -> bool:
    """True when no eigenvalue of ``c`` exceeds ``mu + delta`` (Cholesky of the gap)."""
    k = c.shape[0]
    for r in range(k):
        for col in range(k):
            a[r, col] = -c[r, col]
        a[r, r] += mu + delta
    for j in range(k):
        s = a[j, j]
        for m in range(j):
            s -= a[j, m] * a[j, m]
        if not s > 0.0:
            return False
        s = np.sqrt(s)
        a[j, j] = s
        for r in range(j + 1, k):
            acc = a[r, j]
            for m in range(j):
                acc -= a[r, m] * a[j, m]
            a[r, j] = acc / s
    return True


@njit(cache=True)
def _warm_top2(cov: np.ndarray, x1: np.ndarray, x2: np.ndarray, c2: np.ndarray,
               a: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple:
    """lambda1, lambda2 and their vectors refined from last bar's (x1, x2): (l1, l2, ok).

    Each eigenvalue is certified as the top of its (deflated) matrix by a Cholesky test, so
    a warm start that slid to the wrong eigenvector is detected, not trusted.
    """
    k = cov.shape[0]
    scale = 0.0
    for i in range(k):
        scale += abs(cov[i, i])
    if not scale > 0.0:
        return 0.0, 0.0, False
    delta = 1e-10 * scale
    # v1 enters phi directly, so it is refined to near machine precision; lambda2 only
    # enters the eigengap, and a Rayleigh quotient's error is the square of its vector's.
    lam1, ok = _rqi(cov, x1, 1e-13 * scale, a, y, z)
    if not ok or not _is_top(cov, lam1, delta, a):
        return lam1, 0.0, False
    for r in range(k):  # deflate: the top eigenvalue moves to zero
        for m in range(k):
            c2[r, m] = cov[r, m] - lam1 * x1[r] * x1[m]
    dot = 0.0
    for i in range(k):
        dot += x2[i] * x1[i]
    for i in range(k):
        x2[i] -= dot * x1[i]
    if not _normalise_vec(x2):
        return lam1, 0.0, False
    lam2, ok = _rqi(c2, x2, 1e-7 * scale, a, y, z)
    if not ok or not _is_top(c2, lam2, delta, a) or lam2 > lam1:
        return lam1, lam2, False
    return lam1, lam2, True


@njit(cache=True)
def _cold_top2(cov: np.ndarray, work: np.ndarray, d: np.ndarray, e: np.ndarray,
               hv: np.ndarray, tau: np.ndarray, p: np.ndarray, x1: np.ndarray,
               x2: np.ndarray, eig: np.ndarray, esc: np.ndarray, a: np.ndarray,
               z: np.ndarray) -> tuple:
    """The exact path: tridiagonal QL for the eigenvalues, inverse iteration for vectors."""
    lam1, lam2 = _top_eigen(cov, work, d, e, hv, tau, p, x1, eig, esc)
    k = cov.shape[0]
    if k > 1:
        span = 0.0
        for i in range(k):
            span += abs(cov[i, i])
        mu = lam2 + 1e-13 * max(span, 1e-300)
        for i in range(k):
            x2[i] = 1.0 + 0.1 * i
        for _ in range(3):
            _solve_shifted(cov, mu, x2, a, z)
            dot = 0.0
            for i in range(k):
                dot += z[i] * x1[i]
            for i in range(k):
                x2[i] = z[i] - dot * x1[i]
            if not _normalise_vec(x2):
                break
    return lam1, lam2


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
) -> None:
    """Fill phi, eigengap, explained share, pinned v1 and RC std for every bar.

    Output arrays come in NaN-filled; bars whose windows are not full stay NaN.
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
        for a in range(k):
            for b in range(a, k):
                val = (s2[a, b] - s1[a] * s1[b] / tau_s) / (tau_s - 1)
                cov[a, b] = val
                cov[b, a] = val
            trace += cov[a, a]
        # 4. top of the spectrum, sign pinned against the previous bar
        ok = False
        if warm:
            for a in range(k):
                vec[a] = pinned[a]
            lam1, lam2, ok = _warm_top2(cov, vec, vec2, cov2, lu, ybuf, zbuf)
        if not ok:
            lam1, lam2 = _cold_top2(cov, work, dd, ee, hv, tau, pbuf, vec, vec2, eig, esc,
                                    lu, zbuf)
        warm = True
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
            v1[t, a] = pinned[a]
            acc += z[t, a] * pinned[a]
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
                   out: np.ndarray) -> None:
    """Asymmetric percentile normalisation against the previous ``tau_q`` phi values."""
    n = phi.shape[0]
    window = np.empty(tau_q)
    count = 0
    nan_in_window = 0
    for t in range(n):
        out[t] = np.nan
        if t >= tau_q and nan_in_window == 0 and count == tau_q and not np.isnan(phi[t]):
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
                out: np.ndarray) -> None:
    """Advance the streaming TDI by one bar.  ``out`` = [tdi, phi, gap, explained]; the
    bar's RC std and pinned v1 are left in ``last_std`` and ``pinned``."""
    k = ii.shape[0]
    for i in range(4):
        out[i] = np.nan
    ratio = np.empty(k)
    for c in range(k):
        ratio[c] = logp[ii[c]] - logp[jj[c]]
    rpos = st[S_RATIO_POS]
    rc = np.full(k, np.nan)
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

    z = np.full(k, np.nan)
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
        zm = np.zeros(k)
        for r in range(tau_s):
            for c in range(k):
                zm[c] += z_win[r, c]
        for c in range(k):
            zm[c] /= tau_s
        cov = np.zeros((k, k))
        for r in range(tau_s):
            for a in range(k):
                da = z_win[r, a] - zm[a]
                for b in range(a, k):
                    cov[a, b] += da * (z_win[r, b] - zm[b])
        trace = 0.0
        for a in range(k):
            for b in range(a, k):
                cov[a, b] /= tau_s - 1
                cov[b, a] = cov[a, b]
            trace += cov[a, a]
        vec = np.empty(k)
        lam1, lam2 = _top_eigen(cov, np.empty((k, k)), np.empty(k), np.zeros(max(k - 1, 1)),
                                np.zeros((k, k)), np.zeros(max(k - 2, 1)), np.empty(k), vec,
                                np.empty(k), np.empty(k))
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
