"""Parameter sweeps: many backtests of a grid's configurations over folds, resumable.

- :mod:`.plan`: the trials as plain-data tasks, each with a content id (parameters, fold,
  data fingerprint, code version);
- :mod:`.trial`: one trial in a worker: the ordinary backtest, its metrics and daily returns;
- :mod:`.executors`: where trials run (serially, in local spawned processes, or on Dask:
  :mod:`.dask_executor`), each worker through :mod:`.worker` (the code version checked on
  Dask, the market kept between trials by :mod:`.worker_data`);
- :mod:`.study`: the driver: runs what the trials store (``storage.trials``) lacks and
  stores each row as it arrives, so a killed study resumes.
"""

from app.sweep.executors import (
    Executor,
    ExecutorChoice,
    LocalProcessExecutor,
    SerialExecutor,
    make_executor,
    open_executor,
    parse_workers,
)
from app.sweep.plan import (
    code_version,
    data_fingerprint,
    make_tasks,
    sample_configurations,
    spans_of,
)
from app.sweep.study import SweepState, run_sweep

__all__ = [
    "Executor",
    "ExecutorChoice",
    "LocalProcessExecutor",
    "SerialExecutor",
    "SweepState",
    "code_version",
    "data_fingerprint",
    "make_executor",
    "make_tasks",
    "open_executor",
    "parse_workers",
    "run_sweep",
    "sample_configurations",
    "spans_of",
]
