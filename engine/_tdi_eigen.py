"""Compiled eigen-solvers of the TDI: the top two eigenpairs of a small covariance.

The TDI needs the two largest eigenvalues and the top eigenvector of a K x K covariance at
every bar (K = 3 to 15 pairs).  ``numpy.linalg.eigh`` computes the full spectrum and pays
LAPACK's per-call overhead (about 3 microseconds per 6 x 6 matrix even batched), more than
the whole per-bar budget.  Two paths do only what is needed:

- the exact path (``top_eigen``, ``cold_top2``), the LAPACK way: a Householder reduction
  to tridiagonal form, implicit QL on it for lambda1 and lambda2, inverse iteration for v1
  (on a shift just above lambda1, where the tridiagonal system is definite and needs no
  pivoting) and the back-transform.  The streaming calculator always takes it, and the
  batch when the warm path cannot certify its answer;
- the warm path (``warm_top2``) of the batch: last bar's two eigenvectors refined by
  Rayleigh-quotient iteration from above (shifted Cholesky factorisations, cubic
  convergence) and certified as the top two, by a Frobenius-norm bound or by a Cholesky
  test of the deflated matrix.

The functions here are long, flat loops on purpose (exempt from the project's complexity
limit, see pyproject.toml): each runs once per bar inside compiled code, where splitting a
branch into a helper adds a call per bar.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Floating-point licences for the small dense solves: reassociation and fused multiply-add
#: only (no "finite math" assumption, so NaN checks keep working).
_FAST = {"reassoc", "contract", "nsz"}


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
def top_eigen(cov: np.ndarray, work: np.ndarray, d: np.ndarray, e: np.ndarray,
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


@njit(cache=True, fastmath=_FAST)
def _shifted_cholesky(c: np.ndarray, mu: float, a: np.ndarray) -> bool:
    """Factor ``mu I - c = L L'`` into ``a``'s lower triangle (1/L_jj on the diagonal).

    False when ``mu I - c`` is not positive definite, i.e. ``mu`` is not above every
    eigenvalue of ``c``: half the work of a pivoted LU, and no pivoting to branch on.
    """
    k = c.shape[0]
    for j in range(k):
        s = mu - c[j, j]
        for m in range(j):
            s -= a[j, m] * a[j, m]
        if not s > 0.0:
            return False
        inv = 1.0 / np.sqrt(s)
        a[j, j] = inv
        for r in range(j + 1, k):
            acc = -c[r, j]
            for m in range(j):
                acc -= a[r, m] * a[j, m]
            a[r, j] = acc * inv
    return True


@njit(cache=True, fastmath=_FAST)
def _inverse_step(a: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    """One inverse-iteration step ``x <- (mu I - c)^-1 x / norm`` with ``a`` from
    ``_shifted_cholesky``: (residual, mu - Rayleigh quotient) of the new ``x``, without a
    product by ``c``; residual -1 when the solve broke down.

    From ``(mu I - c) y = x`` follows ``c y = mu y - x``: with ``s = |y|`` and ``d = x.y/s``
    the new vector's Rayleigh quotient is ``mu - d/s`` and its residual ``|x - d y/s| / s``.
    """
    k = a.shape[0]
    for r in range(k):  # L w = x
        acc = x[r]
        for m in range(r):
            acc -= a[r, m] * y[m]
        y[r] = acc * a[r, r]
    for r in range(k - 1, -1, -1):  # L' y = w, column by column
        yr = y[r] * a[r, r]
        y[r] = yr
        for m in range(r):
            y[m] -= a[r, m] * yr
    s = 0.0
    for i in range(k):
        s += y[i] * y[i]
    s = np.sqrt(s)
    if not (s > 0.0 and s < np.inf):
        return -1.0, 0.0
    inv = 1.0 / s
    d = 0.0
    for i in range(k):
        y[i] *= inv
        d += x[i] * y[i]
    res = 0.0
    for i in range(k):
        e = x[i] - d * y[i]
        res += e * e
        x[i] = y[i]
    return np.sqrt(res) * inv, d * inv


@njit(cache=True)
def _refine_top(c: np.ndarray, x: np.ndarray, below: float, floor: float, tol: float,
                a: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple:
    """Refine unit ``x`` (in place) towards the top eigenvector of ``c``: (lambda, res, ok).

    Rayleigh-quotient iteration from above: each factorisation is shifted just above the
    top eigenvalue, at the Rayleigh quotient plus twice its Kato-Temple bound
    ``res^2 / (rq - below)`` (``below`` estimates the next eigenvalue down), so the
    Cholesky factor exists, the iteration converges to the top and not to a neighbour, and
    the convergence is cubic.  A factor is kept for the next step while the contraction it
    gives is enough to finish.  ``ok`` when the final residual ``|c x - lambda x|`` is
    within ``tol``, checked by an explicit product.
    """
    rq, res = _rayleigh(c, x, y)
    mu = 0.0
    have = False
    for _ in range(12):
        if have and res <= 0.5 * tol:
            break
        gap = rq - below
        refactor = not have
        if have:
            rho = (mu - rq) / (mu - rq + (gap if gap > 0.0 else res))
            refactor = res * rho > 0.5 * tol
        if refactor:
            eta = max(floor, min(res, 2.0 * res * res / gap)) if gap > 0.0 else max(floor, res)
            if not _shifted_cholesky(c, rq + eta, a):
                eta = res + floor  # the bound's estimate of ``below`` was off
                if not _shifted_cholesky(c, rq + eta, a):
                    return rq, res, False
            mu = rq + eta
            have = True
        res, below_mu = _inverse_step(a, x, z)
        if res < 0.0:
            return rq, res, False
        rq = mu - below_mu
    lam, res = _rayleigh(c, x, y)
    return lam, res, res <= tol


@njit(cache=True)
def warm_top2(cov: np.ndarray, fro2: float, x1: np.ndarray, x2: np.ndarray,
               lam2_prev: float, c2: np.ndarray, a: np.ndarray, y: np.ndarray,
               z: np.ndarray) -> tuple:
    """lambda1, lambda2 and their vectors refined from last bar's (x1, x2): (l1, l2, ok).

    ``fro2`` is the squared Frobenius norm of ``cov``.  The pair is certified as the top
    two, so a warm start that slid to another eigenvector is detected, not trusted: each
    value lies within its residual of an eigenvalue, and when the sum of squares left for
    the other eigenvalues, ``fro2 - l1^2 - l2^2`` (with the residuals against), is below
    ``l2^2``, none of them can exceed l2.  When that bound is not tight enough, a Cholesky
    test of the deflated matrix shows that nothing but lambda1 exceeds lambda2.
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
    lam1, res1, ok = _refine_top(cov, x1, lam2_prev, delta, 1e-13 * scale, a, y, z)
    if not ok:
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
    rq2, _ = _rayleigh(c2, x2, y)
    # every eigenvalue below the second has |l| <= sqrt(fro2 - l1^2 - l2^2) <= this bound
    below = np.sqrt(max(fro2 - lam1 * lam1 - rq2 * rq2, 0.0))
    lam2, res2, ok = _refine_top(c2, x2, below, delta, 1e-7 * scale, a, y, z)
    if not ok:
        return lam1, lam2, False
    dot = 0.0
    for i in range(k):
        dot += x1[i] * x2[i]
    err1 = res1 + 1e-15 * scale
    err2 = res2 + abs(lam1 * dot) + 1e-15 * scale  # x2's residual against cov itself
    low1 = lam1 - err1
    low2 = lam2 - err2
    if not (low1 > lam2 + err2 and low2 > 1e-12 * scale):
        return lam1, lam2, False
    if fro2 * (1.0 + 1e-12) - low1 * low1 - low2 * low2 < low2 * low2:
        return lam1, lam2, True
    return lam1, lam2, _is_top(c2, lam2, delta, a)


@njit(cache=True)
def cold_top2(cov: np.ndarray, work: np.ndarray, d: np.ndarray, e: np.ndarray,
               hv: np.ndarray, tau: np.ndarray, p: np.ndarray, x1: np.ndarray,
               x2: np.ndarray, eig: np.ndarray, esc: np.ndarray, a: np.ndarray,
               z: np.ndarray) -> tuple:
    """The exact path: tridiagonal QL for the eigenvalues, inverse iteration for vectors."""
    lam1, lam2 = top_eigen(cov, work, d, e, hv, tau, p, x1, eig, esc)
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
