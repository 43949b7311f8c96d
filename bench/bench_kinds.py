"""Per-bar cost of the strategy kinds' streaming models, against the TDI's, in one process.

The TDI of a 4-symbol cluster (``TdiStream.update``, default windows) beside the pair
model on two legs with a 250-bar hedge window and a 60-bar z window: OLS, TLS and Kalman
hedges, and Johansen on three legs.  Each pair figure is given without the cointegration
test (``test_every`` beyond the run) and with it at the default ``test_every`` (20 bars).
The year's pair setting follows (a 480-bar hedge window, a 96-bar z window, no test),
OLS, TLS and Kalman.  One Engle-Granger test is then timed on its own on 250 and 480
bars, statsmodels' ``coint`` beside the product's path (``engine.kinds.engle_granger``,
the same numbers) on the same window.  The correlation model (24/240 windows, both rules) and its
provisional score follow.

With ``--year DIR`` (a folder of HistData 2019 M1 files, e.g. ``../shared/data/fx_m1``) it
also backtests the whole year twice in this process, one after the other: one M30 pair
(EURUSD/GBPUSD, the pair defaults with a 480-bar hedge window) and the TDI cluster
USD_MAJORS (four symbols, the shipped settings), and prints each wall time.

    .venv/bin/python bench/bench_kinds.py            # 2,000 bars per model
    .venv/bin/python bench/bench_kinds.py --year ../shared/data/fx_m1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from engine import ranges
from engine.kinds.correlation import CorrelationModel
from engine.kinds.correlation_params import CorrelationParams
from engine.kinds.engle_granger import coint_pvalue
from engine.kinds.pair import PairModel
from engine.kinds.pair_params import PairParams
from engine.kinds.pair_stats import engle_granger
from engine.tdi import TdiParams, TdiStream


def closes(n: int, legs: int, seed: int = 0) -> np.ndarray:
    """Random walks sharing one driver (log prices), as prices."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 1e-3, n))
    own = np.cumsum(rng.normal(0, 6e-4, (n, legs)), axis=0)
    return np.exp(common[:, None] * rng.uniform(0.5, 1.5, legs) + own + np.log(50.0))


def per_bar_us(update: object, rows: np.ndarray, skip: int) -> float:
    """Mean microseconds of ``update(row)`` over the rows after the first ``skip``."""
    for row in rows[:skip]:
        update(row)  # type: ignore[operator]
    t0 = time.perf_counter()
    for row in rows[skip:]:
        update(row)  # type: ignore[operator]
    return (time.perf_counter() - t0) / (len(rows) - skip) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=2_000)
    parser.add_argument("--year", type=Path, default=None,
                        help="folder of the HistData 2019 M1 files: also time a year's backtests")
    args = parser.parse_args()
    tdi_rows = closes(args.bars + 600, 4)
    stream = TdiStream([f"SYM{i}USD" for i in range(4)], TdiParams())
    print(f"TDI, 4 symbols, {TdiParams()}: "
          f"{per_bar_us(stream.update, tdi_rows, 600):8.1f} us per bar")
    for hedge, legs in (("ols", 2), ("tls", 2), ("kalman", 2), ("johansen", 3)):
        rows = closes(args.bars + 300, legs, seed=1)
        for label, every in (("no test", ranges.MAX_ANY_BARS), ("test every 20", 20)):
            model = PairModel([f"L{i}" for i in range(legs)],
                              PairParams(hedge=hedge, test_every=every))
            us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 300)
            print(f"pair {hedge:8s} {legs} legs, window 250, {label:13s}: {us:8.1f} us per bar")
    for hedge in ("ols", "tls", "kalman"):
        rows = closes(args.bars + 600, 2, seed=1)
        model = PairModel(["L0", "L1"], PairParams(hedge=hedge, hedge_window=480, z_window=96,
                                                   test_every=ranges.MAX_ANY_BARS))
        us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 600)
        print(f"pair {hedge:8s} 2 legs, window 480/96, no test: {us:8.1f} us per bar")
    engle_granger_costs()
    rows = closes(args.bars + 300, 2, seed=3)
    for rule in ("crossing", "sign_flip"):
        model = CorrelationModel(["A", "B"], CorrelationParams(rule=rule, targets=("X",)))
        us = per_bar_us(lambda r, m=model: m.update(r, 0), rows, 300)
        provisional = per_bar_us(lambda r, m=model: m.provisional(r), rows[-200:], 0)
        print(f"correlation {rule:9s} 24/240: {us:8.1f} us per bar, "
              f"provisional {provisional:6.1f} us per call")
    if args.year is not None:
        year(args.year)


def ms_per_call(call: object, repeats: int) -> float:
    """Mean milliseconds of ``call()`` over ``repeats`` calls after one warm-up call."""
    call()  # type: ignore[operator]
    t0 = time.perf_counter()
    for _ in range(repeats):
        call()  # type: ignore[operator]
    return (time.perf_counter() - t0) / repeats * 1e3


def engle_granger_costs() -> None:
    """One Engle-Granger test (one leg order) on 250 and 480 bars: statsmodels' ``coint``
    and the product's path on the same window, and the p-values both give."""
    import warnings
    from functools import partial

    from statsmodels.tsa.stattools import coint

    for bars in (250, 480):
        window = np.log(closes(bars, 2, seed=2))
        y, x = window[:, 0], window[:, 1:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slow = ms_per_call(partial(coint, y, x), 20)
            p_slow = coint(y, x)[1]
        fast = ms_per_call(partial(coint_pvalue, y, x), 200)
        both = ms_per_call(partial(engle_granger, window), 100)
        print(f"Engle-Granger on {bars} bars: statsmodels coint {slow:6.2f} ms per call, "
              f"fast path {fast:6.3f} ms ({slow / fast:4.0f}x), both orders {both:6.3f} ms; "
              f"p {p_slow:.12f} vs {coint_pvalue(y, x):.12f}")


PAIR_YEAR = """
[[cluster]]
name = "EUGB_PAIR"
kind = "pair"
symbols = ["EURUSD", "GBPUSD"]
magic = 720001

[cluster.pair]
hedge_window = 480
"""


def year(folder: Path) -> None:
    """Backtest 2019 with one pair, then with the 4-symbol TDI cluster, timing each run."""
    from engine.cluster import DEFAULT_CONFIG
    from main import main as run

    with tempfile.TemporaryDirectory() as scratch:
        pair = Path(scratch) / "pair.toml"
        pair.write_text(PAIR_YEAR)
        runs = (("pair EURUSD/GBPUSD, M30", pair, ["EURUSD", "GBPUSD"], []),
                ("TDI USD_MAJORS, 4 symbols", DEFAULT_CONFIG,
                 ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"], ["--clusters", "USD_MAJORS"]))
        for label, config, symbols, extra in runs:
            files = [str(folder / f"DAT_ASCII_{s}_M1_2019.csv.gz") for s in symbols]
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = run(["backtest", "--data", *files, "--config", str(config),
                            "--report", str(Path(scratch) / label.split()[0]), *extra])
            wall = time.perf_counter() - t0
            summary = [line for line in out.getvalue().splitlines() if "baskets" in line][:1]
            print(f"year 2019, {label}: {wall:6.1f} s (exit {code}) {' '.join(summary)}")


if __name__ == "__main__":
    main()
