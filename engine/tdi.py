"""The Temporary Disalignment Index (TDI), batch and streaming.

For a cluster of N symbols with M30 mid closes P (K = N(N-1)/2 pairs i<j):

1. ``RC_ij(t) = log(P_i/P_j)(t) - log(P_i/P_j)(t - tau_f)``;
2. ``Z_ij(t) = (RC_ij(t) - mean) / std`` over ``RC_ij(t-tau_s+1 .. t)`` (std with ddof=1);
3. ``C(t)`` = covariance (ddof=1) of ``Z(t-tau_s+1 .. t)``; ``v1`` its top eigenvector from
   ``numpy.linalg.eigh`` with the sign pinned (the first valid v1 has its largest-magnitude
   loading positive; each later v1 has a non-negative dot product with the previous pinned
   v1); ``phi(t) = Z(t) . v1(t)``;
4. with med, Q98, Q2 of ``phi(t-tau_q .. t-1)`` (linear interpolation):
   ``TDI = (phi - med) / (Q98 - med)`` if ``phi >= med`` else ``(phi - med) / (med - Q2)``.

Pair orientation.  The sign of TDI depends on which way round each pair is taken, so the
cluster's symbol order is *canonical*: symbols sorted by name.  Both calculators sort the
input columns first, so the order in which a caller lists the symbols never changes a value
(the same basket comes out either way; without this, reordering symbols could flip the sign
of TDI and turn a LONG signal into a SHORT one).

Invalid inputs and degenerate windows (documented skips, identical in batch and streaming):
- a NaN, infinite, zero or negative price raises ``DataError`` naming the symbol and time:
  the bar layer never produces one, so seeing one means corrupt data, not a quiet market;
- a pair whose RC has a standard deviation below ``MIN_RC_STD`` over the slow window (a
  frozen quote) has no Z at that bar; any window that contains a missing value is not full,
  so phi and TDI are NaN until the windows refill;
- ``Q98 == med`` (or ``med == Q2``) on the side phi falls gives a NaN TDI.
The covariance has rank <= N-1 at most; it is never inverted, and ``eigh`` handles it.

Batch and streaming compute the same quantities by different arithmetic (cumulative sums
vs. exact window sums) and agree to about 1e-12; the tests hold them to 1e-9.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from engine._tdi_kernels import normalise_core, tdi_core
from engine.errors import DataError

#: Below this RC standard deviation a pair is treated as frozen (no Z).  Real log-momentum
#: over a few hours has a std around 1e-3; 1e-10 only catches quotes that did not move.
MIN_RC_STD = 1e-10

#: The quantiles of the normalisation: median, upper and lower tails.
Q_HIGH = 0.98
Q_LOW = 0.02


@dataclass(frozen=True)
class TdiParams:
    """Window lengths of the TDI, in M30 bars.

    Defaults (chosen on 2019 data, see the README's walk-forward study):
    - ``tau_f = 8``: relative momentum over 4 hours, long enough to span a session move,
      short enough to catch a disalignment before it closes;
    - ``tau_s = 96``: two trading days to standardise each pair and estimate the common
      structure (PCA) of the cluster;
    - ``tau_q = 480``: two trading weeks of phi history to define "extreme".
    The first valid TDI comes ``tau_f + 2*(tau_s - 1) + tau_q`` bars after the first close.
    """

    tau_f: int = 8
    tau_s: int = 96
    tau_q: int = 480

    def __post_init__(self) -> None:
        if self.tau_f < 1:
            raise ValueError(f"tau_f must be >= 1, got {self.tau_f}")
        if self.tau_s < 3:
            raise ValueError(f"tau_s must be >= 3, got {self.tau_s}")
        if self.tau_q < 2:
            raise ValueError(f"tau_q must be >= 2, got {self.tau_q}")

    @property
    def warmup_bars(self) -> int:
        """Bars consumed before the first valid TDI (that bar is index ``warmup_bars``)."""
        return self.tau_f + 2 * (self.tau_s - 1) + self.tau_q


def canonical_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    """The cluster's symbol order used for pair orientation: sorted by name."""
    out = tuple(sorted(symbols))
    if len(set(out)) != len(out):
        raise DataError(f"duplicate symbol in cluster: {', '.join(symbols)}")
    if len(out) < 2:
        raise DataError("a cluster needs at least two symbols")
    return out


def pair_names(symbols: Sequence[str]) -> tuple[str, ...]:
    """Pair labels ``"A/B"`` (i<j) in canonical order."""
    syms = canonical_symbols(symbols)
    return tuple(f"{a}/{b}" for a, b in combinations(syms, 2))


def _pair_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(combinations(range(n), 2))
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _validate_prices(values: np.ndarray, symbols: Sequence[str], times: Sequence[object]) -> None:
    if ((values > 0) & (values < np.inf)).all():  # NaN fails both comparisons
        return
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{symbols[col]} price {values[row, col]!r} at {times[row]} is not a positive number"
        )


def tdi_batch(closes: pd.DataFrame, params: TdiParams | None = None) -> pd.DataFrame:
    """The TDI over a whole history of closes.

    ``closes``: indexed by bar time (UTC), one column per symbol, mid closes.  Returns the
    same index with columns ``tdi``, ``phi``, ``eigengap`` (lambda1/lambda2), ``explained``
    (lambda1 / sum of eigenvalues), then ``v1:A/B`` (the pinned loadings) and ``sd:A/B``
    (the std of RC used to standardise the pair), one per pair in canonical order: what
    ``engine.cluster.basket_exposures`` needs to size a basket.  NaN until windows are full.
    """
    p = params or TdiParams()
    if not isinstance(closes, pd.DataFrame):
        raise TypeError("closes must be a pandas DataFrame")
    syms = canonical_symbols([str(c) for c in closes.columns])
    frame = closes[list(syms)]
    values = frame.to_numpy(dtype=np.float64)
    _validate_prices(values, syms, frame.index)
    n, n_sym = values.shape
    ii, jj = _pair_index(n_sym)
    k = len(ii)
    names = pair_names(syms)

    phi = np.full(n, np.nan)
    gap = np.full(n, np.nan)
    explained = np.full(n, np.nan)
    v1 = np.full((n, k), np.nan)
    sd = np.full((n, k), np.nan)
    tdi = np.full(n, np.nan)
    if n:
        tdi_core(np.ascontiguousarray(np.log(values)), ii, jj, p.tau_f, p.tau_s, MIN_RC_STD,
                 phi, gap, explained, v1, sd)
        normalise_core(phi, p.tau_q, Q_HIGH, Q_LOW, tdi)

    out = pd.DataFrame(
        {"tdi": tdi, "phi": phi, "eigengap": gap, "explained": explained}, index=frame.index
    )
    for c, name in enumerate(names):
        out[f"v1:{name}"] = v1[:, c]
    for c, name in enumerate(names):
        out[f"sd:{name}"] = sd[:, c]
    return out


def _ratio(a: float, b: float) -> float:
    """a / b as IEEE division would give it (inf, NaN) without numpy's warnings."""
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _quantile_sorted(values: list[float], q: float) -> float:
    """numpy's default ("linear") quantile of an already sorted list."""
    idx = q * (len(values) - 1)
    lo = math.floor(idx)
    t = idx - lo
    a = values[lo]
    b = values[min(lo + 1, len(values) - 1)]
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


def _normalise_one(phi: float, med: float, q_hi: float, q_lo: float) -> float:
    den = (q_hi - med) if phi >= med else (med - q_lo)
    if den == 0 or not math.isfinite(den):
        return math.nan
    out = (phi - med) / den
    return out if math.isfinite(out) else math.nan


@dataclass(frozen=True)
class TdiPoint:
    """The TDI of one cluster at one closed bar, with what sizing and exits need."""

    time: object
    tdi: float
    phi: float
    eigengap: float
    explained: float
    #: Pinned top eigenvector, one loading per pair in ``pairs`` order (NaN when invalid).
    v1: np.ndarray
    #: Std of each pair's RC over the slow window (the Z denominators).
    rc_std: np.ndarray
    pairs: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return math.isfinite(self.tdi)


@dataclass
class _Window:
    """A fixed-length window of vectors with a running count of invalid rows."""

    length: int
    width: int
    data: np.ndarray = field(init=False)
    valid: deque = field(init=False)
    pos: int = 0
    count: int = 0
    invalid: int = 0

    def __post_init__(self) -> None:
        self.data = np.full((self.length, self.width), np.nan)
        self.valid = deque()

    def push(self, row: np.ndarray, ok: bool) -> None:
        if self.count == self.length and not self.valid[0]:
            self.invalid -= 1
        if self.count == self.length:
            self.valid.popleft()
        else:
            self.count += 1
        self.data[self.pos] = row
        self.pos = (self.pos + 1) % self.length
        self.valid.append(ok)
        if not ok:
            self.invalid += 1

    @property
    def full(self) -> bool:
        return self.count == self.length and self.invalid == 0


class TdiStream:
    """The TDI updated one closed bar at a time, equal to ``tdi_batch`` to 1e-9.

    Memory is O(tau_f + tau_s + tau_q) whatever the run length.  ``update`` takes the
    closes in the order of ``symbols`` as given (or a mapping by symbol name); the
    computation itself runs in canonical order like the batch version.
    """

    def __init__(self, symbols: Sequence[str], params: TdiParams | None = None) -> None:
        self.params = params or TdiParams()
        self.input_symbols = tuple(symbols)
        self.symbols = canonical_symbols(symbols)
        self.pairs = pair_names(self.symbols)
        self._perm = np.array([self.input_symbols.index(s) for s in self.symbols])
        self._ii, self._jj = _pair_index(len(self.symbols))
        k = len(self._ii)
        self._k = k
        p = self.params
        self._ratios: deque[np.ndarray] = deque(maxlen=p.tau_f + 1)
        self._rc = _Window(p.tau_s, k)
        self._z = _Window(p.tau_s, k)
        self._phi: deque[float] = deque()
        self._phi_sorted: list[float] = []
        self._phi_nan = 0
        self._pinned: np.ndarray | None = None
        # Statistics of the last bar, for provisional (M1) re-evaluation.
        self._last_mean: np.ndarray | None = None
        self._last_std: np.ndarray | None = None
        self._last_v1: np.ndarray | None = None
        self.bars_seen = 0

    def _prices(self, closes: Sequence[float] | Mapping[str, float] | np.ndarray,
                time: object) -> np.ndarray:
        if isinstance(closes, Mapping):
            try:
                values = np.array([float(closes[s]) for s in self.symbols])
            except KeyError as exc:
                raise DataError(f"no close for {exc.args[0]} at {time}") from None
        else:
            arr = np.asarray(closes, dtype=np.float64)
            if arr.shape != (len(self.symbols),):
                raise DataError(f"expected {len(self.symbols)} closes, got {arr.shape}")
            values = arr[self._perm]
        _validate_prices(values[None, :], self.symbols, [time])
        return values

    def update(self, closes: Sequence[float] | Mapping[str, float] | np.ndarray,
               time: object = None) -> TdiPoint:
        """Add one closed bar and return the TDI at that bar."""
        p = self.params
        logp = np.log(self._prices(closes, time))
        ratio = logp[self._ii] - logp[self._jj]
        self._ratios.append(ratio)
        self.bars_seen += 1
        nan_k = np.full(self._k, np.nan)

        if len(self._ratios) == p.tau_f + 1:
            rc = ratio - self._ratios[0]
            self._rc.push(rc, True)
        else:
            rc = nan_k
            self._rc.push(rc, False)

        z = nan_k
        std = nan_k
        z_ok = False
        self._last_mean = self._last_std = None
        if self._rc.full:
            win = self._rc.data
            mean = win.sum(axis=0) / p.tau_s
            dev = win - mean
            std = np.sqrt(np.einsum("ij,ij->j", dev, dev) / (p.tau_s - 1))
            self._last_mean, self._last_std = mean, std
            if (std >= MIN_RC_STD).all():
                z = (rc - mean) / std
                z_ok = True
        self._z.push(z, z_ok)

        phi = gap = explained = math.nan
        v1 = nan_k
        self._last_v1 = None
        if self._z.full:
            win = self._z.data
            zc = win - win.sum(axis=0) / p.tau_s
            cov = (zc.T @ zc) / (p.tau_s - 1)
            evals, evecs = np.linalg.eigh(cov)
            v = evecs[:, -1]
            if self._pinned is None:
                sign = 1.0 if v[np.argmax(np.abs(v))] > 0 else -1.0
            else:
                sign = 1.0 if float(v @ self._pinned) >= 0 else -1.0
            v1 = v * sign
            self._pinned = v1
            self._last_v1 = v1
            phi = float(z @ v1)
            lam1 = float(evals[-1])
            lam2 = float(evals[-2]) if self._k > 1 else math.nan
            total = float(evals.sum())
            gap = _ratio(lam1, lam2)
            explained = _ratio(lam1, total)

        tdi = self._normalise(phi)
        self._push_phi(phi)
        return TdiPoint(time, tdi, phi, gap, explained, v1, std, self.pairs)

    def _normalise(self, phi: float) -> float:
        if len(self._phi) < self.params.tau_q or self._phi_nan or math.isnan(phi):
            return math.nan
        s = self._phi_sorted
        return _normalise_one(phi, _quantile_sorted(s, 0.5), _quantile_sorted(s, Q_HIGH),
                              _quantile_sorted(s, Q_LOW))

    def _push_phi(self, phi: float) -> None:
        if len(self._phi) == self.params.tau_q:
            old = self._phi.popleft()
            if math.isnan(old):
                self._phi_nan -= 1
            else:
                del self._phi_sorted[bisect.bisect_left(self._phi_sorted, old)]
        self._phi.append(phi)
        if math.isnan(phi):
            self._phi_nan += 1
        else:
            bisect.insort(self._phi_sorted, phi)

    def provisional(self, closes: Sequence[float] | Mapping[str, float] | np.ndarray) -> float:
        """TDI of the forming bar at the given (e.g. M1) prices, with the last bar's statistics.

        The exits re-checked on M1 closes need "where would the TDI be now" without waiting
        for the M30 close: RC against the close ``tau_f - 1`` bars back (the lag the forming
        bar will have), standardised and projected with the last bar's mean, std and v1, and
        normalised against the phi history including the last bar.  NaN before warm-up.
        """
        if self._last_v1 is None or self._last_mean is None or self._last_std is None:
            return math.nan
        if len(self._phi) < self.params.tau_q or self._phi_nan:
            return math.nan
        logp = np.log(self._prices(closes, "provisional"))
        ratio = logp[self._ii] - logp[self._jj]
        rc = ratio - self._ratios[1]
        z = (rc - self._last_mean) / self._last_std
        phi = float(z @ self._last_v1)
        s = self._phi_sorted
        return _normalise_one(phi, _quantile_sorted(s, 0.5), _quantile_sorted(s, Q_HIGH),
                              _quantile_sorted(s, Q_LOW))
