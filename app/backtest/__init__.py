"""Backtests: the live engine, headless, on recorded or synthetic data, ending in a report.

The same ``Engine`` that trades live runs here against the simulated terminal, fed by a
replay of HistData M1 files (ticks generated the way MT5's tester does in "1 minute OHLC"
mode), of recorded ticks, of the market-data store, or of the synthetic market.  Nothing is
re-implemented for the backtest: fills, costs, swaps, risk limits and the news filter are
the engine's and the simulator's own.

Equity is marked at every UTC midnight (mark-to-market: open baskets at the current
quotes), which is the series the metrics use.

- ``spec``: what is asked (``BacktestSpec``) and what comes back (``BacktestResult``);
- ``data``: the market to trade, from files, a store or the synthetic market;
- ``calendar``: the news calendar from an imported database or calendar files;
- ``run``: the session over that market, the run, the result (``collect``);
- ``outputs``: the report files; ``progress``: a progress bar for the terminal.
"""

from app.backtest.calendar import calendar_snapshot
from app.backtest.data import MarketData, data_notes, load_market
from app.backtest.outputs import write_outputs
from app.backtest.progress import ProgressBar
from app.backtest.run import failure_text, run_backtest
from app.backtest.spec import (
    DAY_MS,
    BacktestResult,
    BacktestSpec,
    warmup_days,
)

__all__ = [
    "DAY_MS",
    "BacktestResult",
    "BacktestSpec",
    "MarketData",
    "ProgressBar",
    "calendar_snapshot",
    "data_notes",
    "failure_text",
    "load_market",
    "run_backtest",
    "warmup_days",
    "write_outputs",
]
