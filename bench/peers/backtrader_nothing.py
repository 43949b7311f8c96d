"""backtrader: every symbol's M1 bars as one data feed of a multi-data cerebro, a strategy
that does nothing.

Run by the backtrader venv's python (``bench/bench_peers.py`` does it):
``python backtrader_nothing.py --from 2019-04-01 --to 2019-07-01 DAT_ASCII_*_M1_2019.csv.gz``.
Prints one JSON object: seconds for the imports, the reading, building the feeds and the run,
and how many times the strategy's ``next`` was called (once per distinct minute of the union
of the feeds' clocks, which backtrader synchronises).
"""

from __future__ import annotations

import time

#: Before the imports, so that ``import_s`` is what this process paid for them.
STARTED = time.perf_counter()

import backtrader as bt  # noqa: E402
from histdata import arguments, emit, read_all  # noqa: E402

IMPORTED = time.perf_counter()


class Nothing(bt.Strategy):
    """Looks at no bar and sends no order; counts the steps so the run is seen to happen."""

    def __init__(self) -> None:
        self.steps = 0

    def next(self) -> None:
        self.steps += 1


def main() -> None:
    paths, start, end = arguments()
    t0 = time.perf_counter()
    frames = read_all(paths, start, end)
    t1 = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in frames.items():
        # backtrader wants naive datetimes; the index is UTC already.
        naive = frame.tz_convert(None)
        cerebro.adddata(bt.feeds.PandasData(dataname=naive, timeframe=bt.TimeFrame.Minutes,
                                            compression=1, openinterest=None), name=symbol)
    cerebro.addstrategy(Nothing)
    t2 = time.perf_counter()
    strategy = cerebro.run()[0]
    t3 = time.perf_counter()
    emit(STARTED, peer="backtrader", version=bt.__version__,
         work="multi-data cerebro, do-nothing strategy",
         symbols=len(frames), bars=int(sum(len(f) for f in frames.values())),
         steps=strategy.steps, import_s=round(IMPORTED - STARTED, 3),
         read_s=round(t1 - t0, 3), load_s=round(t2 - t1, 3), run_s=round(t3 - t2, 3))


if __name__ == "__main__":
    main()
