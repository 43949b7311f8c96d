"""The Temporary Disalignment Index (TDI), batch and streaming.

For a cluster of N symbols with mid closes P of its signal timeframe (M30 by default,
``engine.timeframes``; every window counts bars of that timeframe), K = N(N-1)/2 pairs i<j:

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

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations, pairwise

import numpy as np
import pandas as pd

from engine import ranges
from engine._tdi_kernels import (
    N_STATE,
    S_LAST_OK,
    S_PHI_COUNT,
    S_PHI_NAN,
    S_RATIO_POS,
    S_SORTED,
    normalise_core,
    stream_scratch,
    stream_step,
    tdi_core,
)
from engine.errors import DataError

#: Below this RC standard deviation a pair is treated as frozen (no Z).  Real log-momentum
#: over a few hours has a std around 1e-3; 1e-10 only catches quotes that did not move.
MIN_RC_STD = 1e-10

#: The quantiles of the normalisation: median, upper and lower tails.
Q_HIGH = 0.98
Q_LOW = 0.02


@dataclass(frozen=True)
class TdiParams:
    """Window lengths of the TDI, in bars of the cluster's signal timeframe (M30 by default).

    Defaults and allowed ranges (``engine.ranges.MAX_ANY_BARS`` is 23,040, what a year of M1
    data fills in M15 bars; ``ClusterSpec`` holds the windows to its own timeframe's bound,
    11,520 in M30, 1,440 in H4, 240 in D1: ``engine.ranges.max_bars``).  None of the three
    defaults here was chosen by a study: they are design choices, for the reasons given.  The
    2019 walk-forward study (README) varied ``tau_s`` and ``tau_q`` (with X and the space)
    and found nothing that held out-of-sample, so it changed no default; ``tau_f`` is set
    per cluster in ``engine/clusters.toml`` by an earlier study that varied only it and E:
    - ``tau_f = 8``, 1..MAX_ANY_BARS: relative momentum over 4 hours of M30 bars, long
      enough to span a session move, short enough to catch a disalignment before it closes;
    - ``tau_s = 96``, 3..MAX_ANY_BARS: two trading days of M30 bars to standardise each pair
      and estimate the common structure (PCA) of the cluster (a std and a covariance need
      3 bars);
    - ``tau_q = 480``, 2..MAX_ANY_BARS: two trading weeks of M30 bars of phi history to
      define "extreme" (a median and tails need 2 values).
    The first valid TDI comes ``tau_f + 2*(tau_s - 1) + tau_q`` bars after the first close;
    that warm-up may not exceed MAX_ANY_BARS either (a year of M1 data must be able to fill
    it; ``ClusterSpec`` checks it, with the ATR's bars, against its timeframe).
    """

    tau_f: int = 8
    tau_s: int = 96
    tau_q: int = 480

    def __post_init__(self) -> None:
        for name, low in (("tau_f", 1), ("tau_s", 3), ("tau_q", 2)):
            value = ranges.integer(name, getattr(self, name), low, ranges.MAX_ANY_BARS)
            object.__setattr__(self, name, value)
        if self.warmup_bars > ranges.MAX_ANY_BARS:
            terms = {"tau_f": self.tau_f, "tau_s": 2 * (self.tau_s - 1), "tau_q": self.tau_q}
            raise ranges.FieldError(
                max(terms, key=terms.__getitem__),
                f"the warm-up tau_f + 2*(tau_s - 1) + tau_q is {self.warmup_bars} bars, "
                f"more than the {ranges.MAX_ANY_BARS} M15 bars a year of M1 data fills "
                f"(the shortest timeframe)")

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


def _finite_positive(values: np.ndarray) -> bool:
    """True when every price of one bar is a positive number: the common case of
    ``_validate_prices`` at a fraction of numpy's per-call cost on a handful of values."""
    return all(0.0 < v < math.inf for v in values.tolist())


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

    columns = ["tdi", "phi", "eigengap", "explained",
               *(f"v1:{name}" for name in names), *(f"sd:{name}" for name in names)]
    # One NaN-filled block the kernels write into, handed to the frame without a copy.
    block = np.full((n, 4 + 2 * k), np.nan)
    if n:
        _core_in_chunks(np.ascontiguousarray(np.log(values)), ii, jj, p, block)
        _normalise_in_chunks(block[:, 1], p.tau_q, block[:, 0])
    return pd.DataFrame(block, index=frame.index, columns=columns, copy=False)


#: Below this many bars per chunk, splitting a history across threads does not pay.
_MIN_CHUNK_BARS = 25_000
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                   thread_name_prefix="tdi-batch")
    return _POOL


def _chunks(n: int, lead: int) -> list[tuple[int, int, int]]:
    """(start, a, b) per chunk: it owns bars a..b-1 and starts ``lead`` bars early."""
    count = max(1, min(os.cpu_count() or 1, n // _MIN_CHUNK_BARS))
    bounds = np.linspace(0, n, count + 1).astype(int).tolist()
    return [(max(0, a - lead), a, b) for a, b in pairwise(bounds)]


def _core_in_chunks(logp: np.ndarray, ii: np.ndarray, jj: np.ndarray, p: TdiParams,
                    block: np.ndarray) -> None:
    """Run the compiled core over time chunks in parallel (it releases the GIL).

    Bar t depends only on the ``tau_f + 2*(tau_s - 1)`` bars before it, so a chunk that
    starts that much earlier reproduces the sequential values (its lead-in bars are
    computed, not written).  The one sequential link is the sign pinning of v1, which is
    relative: a chunk whose first v1 points against its predecessor's last one is flipped
    whole (v1 and phi), exactly what bar-by-bar pinning would have produced.
    """
    k = len(ii)
    chunks = _chunks(len(logp), p.tau_f + 2 * (p.tau_s - 1))
    jobs = []
    for start, a, b in chunks:
        rows = block[start:b]
        args = (logp[start:b], ii, jj, p.tau_f, p.tau_s, MIN_RC_STD, rows[:, 1], rows[:, 2],
                rows[:, 3], rows[:, 4:4 + k], rows[:, 4 + k:], a - start)
        if len(chunks) == 1:
            tdi_core(*args)
        else:
            jobs.append(_pool().submit(tdi_core, *args))
    last_v1: np.ndarray | None = None
    for i, (_, a, b) in enumerate(chunks):
        if jobs:
            jobs[i].result()
        phi, v1 = block[a:b, 1], block[a:b, 4:4 + k]
        valid = np.flatnonzero(np.isfinite(phi))
        if len(valid):
            if last_v1 is not None and float(v1[valid[0]] @ last_v1) < 0:
                np.negative(v1, out=v1)
                np.negative(phi, out=phi)
            last_v1 = v1[valid[-1]].copy()


def _normalise_in_chunks(phi: np.ndarray, tau_q: int, out: np.ndarray) -> None:
    """The percentile normalisation over time chunks in parallel, each ``tau_q`` bars early."""
    chunks = _chunks(len(phi), tau_q)
    if len(chunks) == 1:
        normalise_core(phi, tau_q, Q_HIGH, Q_LOW, out, 0)
        return
    jobs = [_pool().submit(normalise_core, phi[start:b], tau_q, Q_HIGH, Q_LOW, out[start:b],
                           a - start) for start, a, b in chunks]
    for job in jobs:
        job.result()


def _quantile_sorted(values: np.ndarray, q: float) -> float:
    """numpy's default ("linear") quantile of an already sorted array."""
    idx = q * (len(values) - 1)
    lo = math.floor(idx)
    t = idx - lo
    a = float(values[lo])
    b = float(values[min(lo + 1, len(values) - 1)])
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


class TdiStream:
    """The TDI updated one closed bar at a time, equal to ``tdi_batch`` to 1e-9.

    Memory is O(tau_f + tau_s + tau_q) whatever the run length.  Each bar recomputes its
    window statistics exactly and takes the spectrum by the exact (tridiagonal QL) path,
    while the batch version uses running sums and a warm-started solver: the two agree
    because both are right, not because they share code.  ``update`` takes the closes in the
    order of ``symbols`` as given (or a mapping by symbol name).
    """

    def __init__(self, symbols: Sequence[str], params: TdiParams | None = None) -> None:
        self.params = p = params or TdiParams()
        self.input_symbols = tuple(symbols)
        self.symbols = canonical_symbols(symbols)
        self.pairs = pair_names(self.symbols)
        self._perm = np.array([self.input_symbols.index(s) for s in self.symbols])
        self._sorted_input = self.input_symbols == self.symbols  # no reordering needed
        self._ii, self._jj = _pair_index(len(self.symbols))
        k = len(self._ii)
        self._k = k
        self._st = np.zeros(N_STATE, dtype=np.int64)
        self._ratios = np.zeros((p.tau_f, k))
        self._rc_win = np.zeros((p.tau_s, k))
        self._rc_ok = np.zeros(p.tau_s, dtype=np.bool_)
        self._z_win = np.zeros((p.tau_s, k))
        self._z_ok = np.zeros(p.tau_s, dtype=np.bool_)
        self._pinned = np.zeros(k)
        self._mean = np.zeros(k)
        self._std = np.zeros(k)
        self._phi_ring = np.zeros(p.tau_q)
        self._phi_sorted = np.zeros(p.tau_q)
        self._out = np.zeros(4)
        self._scratch = stream_scratch(k)
        #: The normalisation quantiles of the current phi window, computed once per bar
        #: (``provisional`` runs at every M1 close; the window only moves in ``update``).
        self._q_cache: tuple[float, float, float] | None = None
        self._q_cached = False

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
            values = arr if self._sorted_input else arr[self._perm]
        if not _finite_positive(values):
            _validate_prices(values[None, :], self.symbols, [time])
        return values

    def update(self, closes: Sequence[float] | Mapping[str, float] | np.ndarray,
               time: object = None) -> TdiPoint:
        """Add one closed bar and return the TDI at that bar."""
        p = self.params
        logp = np.log(self._prices(closes, time))
        stream_step(logp, self._ii, self._jj, p.tau_f, p.tau_s, p.tau_q, MIN_RC_STD, Q_HIGH,
                    Q_LOW, self._st, self._ratios, self._rc_win, self._rc_ok, self._z_win,
                    self._z_ok, self._pinned, self._mean, self._std, self._phi_ring,
                    self._phi_sorted, self._out, self._scratch)
        self._q_cached = False
        tdi, phi, gap, explained = self._out.tolist()
        valid = bool(self._st[S_LAST_OK])
        v1 = self._pinned.copy() if valid else np.full(self._k, np.nan)
        return TdiPoint(time, tdi, phi, gap, explained, v1, self._std.copy(), self.pairs)

    def _quantiles(self) -> tuple[float, float, float] | None:
        if self._q_cached:
            return self._q_cache
        st = self._st
        if st[S_PHI_COUNT] < self.params.tau_q or st[S_PHI_NAN]:
            q = None
        else:
            window = self._phi_sorted[: int(st[S_SORTED])]
            q = (_quantile_sorted(window, 0.5), _quantile_sorted(window, Q_HIGH),
                 _quantile_sorted(window, Q_LOW))
        self._q_cache, self._q_cached = q, True
        return q

    def provisional(self, closes: Sequence[float] | Mapping[str, float] | np.ndarray) -> float:
        """TDI of the forming bar at the given (e.g. M1) prices, with the last bar's statistics.

        The exits re-checked on M1 closes need "where would the TDI be now" without waiting
        for the M30 close: RC against the close ``tau_f - 1`` bars back (the lag the forming
        bar will have), standardised and projected with the last bar's mean, std and v1, and
        normalised against the phi history including the last bar.  NaN before warm-up.
        """
        if not self._st[S_LAST_OK]:
            return math.nan
        q = self._quantiles()
        if q is None:
            return math.nan
        logp = np.log(self._prices(closes, "provisional"))
        ratio = logp[self._ii] - logp[self._jj]
        rc = ratio - self._ratios[int(self._st[S_RATIO_POS])]
        z = (rc - self._mean) / self._std
        return _normalise_one(float(z @ self._pinned), *q)
