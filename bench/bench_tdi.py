"""TDI throughput: batch vs the straightforward implementation, and streaming cost per bar.

Run by hand:  .venv/bin/python bench/bench_tdi.py [--bars 100000]
The straightforward version is what one would write first: per bar, ``numpy.cov`` of the Z
window and ``numpy.linalg.eigh`` in a Python loop, with pandas rolling means, stds and
quantiles.  Both run in the same process on the same data; the results are checked to agree.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from engine.tdi import TdiParams, TdiStream, canonical_symbols, tdi_batch


def synthetic_closes(n: int, n_symbols: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 1e-3, n))
    own = np.cumsum(rng.normal(0, 6e-4, (n, n_symbols)), axis=0)
    logp = common[:, None] * rng.uniform(-1, 1, n_symbols) + own
    cols = [f"SYM{i}USD" for i in range(n_symbols)]
    index = pd.date_range("2010-01-04", periods=n, freq="30min", tz="UTC")
    return pd.DataFrame(np.exp(logp), index=index, columns=cols)


def straightforward_tdi(closes: pd.DataFrame, p: TdiParams) -> np.ndarray:
    syms = canonical_symbols(list(closes.columns))
    logp = np.log(closes[list(syms)])
    pairs = [(a, b) for i, a in enumerate(syms) for b in syms[i + 1:]]
    ratio = pd.DataFrame({f"{a}/{b}": logp[a] - logp[b] for a, b in pairs})
    rc = ratio - ratio.shift(p.tau_f)
    z = ((rc - rc.rolling(p.tau_s).mean()) / rc.rolling(p.tau_s).std()).to_numpy()
    n = len(z)
    phi = np.full(n, np.nan)
    prev = None
    for t in range(p.tau_f + 2 * p.tau_s - 2, n):
        window = z[t - p.tau_s + 1: t + 1]
        cov = np.cov(window, rowvar=False)
        _, vecs = np.linalg.eigh(cov)
        v = vecs[:, -1]
        if prev is None:
            v = v if v[np.argmax(np.abs(v))] > 0 else -v
        elif v @ prev < 0:
            v = -v
        prev = v
        phi[t] = z[t] @ v
    past = pd.Series(phi).shift(1).rolling(p.tau_q)
    med = past.median().to_numpy()
    hi = past.quantile(0.98).to_numpy()
    lo = past.quantile(0.02).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(phi >= med, (phi - med) / (hi - med), (phi - med) / (med - lo))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--stream-bars", type=int, default=20_000)
    args = parser.parse_args()
    params = TdiParams()
    for n_symbols in (4, 6):  # compile (or load) the kernels outside the timings
        warm = synthetic_closes(2_000, n_symbols)
        tdi_batch(warm)
        TdiStream(list(warm.columns)).update(warm.to_numpy()[0])
    print(f"TDI params {params}; {args.bars:,} M30 bars per run")
    for n_symbols in (4, 6):
        closes = synthetic_closes(args.bars, n_symbols, seed=n_symbols)
        best = min(_timed(lambda c=closes: tdi_batch(c, params)) for _ in range(3))
        t0 = time.perf_counter()
        ref = straightforward_tdi(closes, params)
        ref_s = time.perf_counter() - t0
        fast = tdi_batch(closes, params)["tdi"].to_numpy()
        diff = np.nanmax(np.abs(fast - ref))
        print(f"N={n_symbols}: batch {args.bars / best:,.0f} bars/s ({best:.3f} s); "
              f"straightforward {args.bars / ref_s:,.0f} bars/s ({ref_s:.2f} s); "
              f"ratio {ref_s / best:.1f}x; max |diff| {diff:.1e}")
        stream = TdiStream(list(closes.columns), params)
        rows = closes.to_numpy()[: args.stream_bars]
        t0 = time.perf_counter()
        for row in rows:
            stream.update(row)
        per_bar = (time.perf_counter() - t0) / len(rows) * 1e6
        print(f"N={n_symbols}: streaming update {per_bar:.1f} us per bar per cluster "
              f"(mean of {len(rows):,} bars)")


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
