"""vectorbt: a portfolio over the aligned M1 closes of every symbol that never trades.

Run by the vectorbt venv's python (``bench/bench_peers.py`` does it):
``python vectorbt_nothing.py --from 2019-04-01 --to 2019-07-01 DAT_ASCII_*_M1_2019.csv.gz``.
The closes are aligned on the union of the symbols' minutes and carried forward over a
symbol's missing minutes (a portfolio needs a price in every row), the way the product's
terminal keeps a symbol's last quote.  ``Portfolio.from_signals`` with no entry simulates
every row of one portfolio over all the symbols (one cash account, as the product's one
account trades them all); numba compiles at the first call of a process where its cache
does not hold the kernel yet (part of the wall time, as a user pays it); the final value is
read so the simulation is not left lazy.  Prints one JSON object.
"""

from __future__ import annotations

import time

#: Before the imports, so that ``import_s`` is what this process paid for them.
STARTED = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import vectorbt as vbt  # noqa: E402
from histdata import arguments, emit, read_all  # noqa: E402

IMPORTED = time.perf_counter()


def main() -> None:
    paths, start, end = arguments()
    t0 = time.perf_counter()
    frames = read_all(paths, start, end)
    t1 = time.perf_counter()
    closes = pd.concat({symbol: frame["close"].groupby(level=0).last()
                        for symbol, frame in frames.items()}, axis=1, sort=True)
    closes = closes.ffill().bfill()
    no_signal = np.zeros(closes.shape, dtype=bool)
    t2 = time.perf_counter()
    portfolio = vbt.Portfolio.from_signals(closes, entries=no_signal, exits=no_signal,
                                           init_cash=100_000.0, group_by=True,
                                           cash_sharing=True, freq="1min")
    final = portfolio.final_value()
    t3 = time.perf_counter()
    emit(STARTED, peer="vectorbt", version=vbt.__version__,
         work="a do-nothing portfolio over the aligned closes", symbols=len(frames),
         bars=int(sum(len(f) for f in frames.values())), rows=len(closes),
         orders=int(portfolio.orders.count()), final_value=float(final),
         import_s=round(IMPORTED - STARTED, 3), read_s=round(t1 - t0, 3),
         load_s=round(t2 - t1, 3), run_s=round(t3 - t2, 3))


if __name__ == "__main__":
    main()
