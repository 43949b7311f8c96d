"""The sweep's driver: the trials the store lacks, run by an executor, stored as they come.

The driver is the store's one writer.  It reads which trial ids the study already has
(``done`` or ``failed``: a failed trial is a result too, and counts toward the number of
trials tried), hands the others to the executor, and writes each row in its own transaction
the moment it arrives, so a study killed at any point resumes where it stopped: the rerun
runs only the missing trials, and since a trial's row depends only on its task, the rows
are the ones an uninterrupted study would have written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.sweep.executors import Executor
from app.sweep.trial import run_trial
from storage.trials import TrialsStore


@dataclass
class SweepState:
    """How far a study is: the counts cover the whole plan, stored trials included."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    skipped: int = 0
    best: dict[str, Any] | None = field(default=None)

    def take(self, row: dict[str, Any]) -> None:
        """Count a stored row; the best is the highest defined Sharpe so far among the
        spans a choice is made on (in-sample, or the whole period): an out-of-sample
        figure judges a choice, it is not one to pick from."""
        if row["status"] == "failed":
            self.failed += 1
        else:
            self.done += 1
            sharpe = row.get("sharpe")
            if row["sample"] != "oos" and sharpe is not None and math.isfinite(sharpe) and (
                    self.best is None or sharpe > self.best["sharpe"]):
                self.best = {"sharpe": sharpe, "config": row["config"], "fold": row["fold"],
                             "sample": row["sample"], "cluster": row.get("cluster")}

    @property
    def finished(self) -> int:
        return self.done + self.failed


class SweepProgress(Protocol):
    """Told after each stored trial."""

    def update(self, state: SweepState) -> None: ...


def run_sweep(store: TrialsStore, tasks: Sequence[dict[str, Any]], executor: Executor, *,
              progress: SweepProgress | None = None, stop_after: int | None = None,
              runner: Callable[[dict[str, Any]], dict[str, Any]] = run_trial) -> SweepState:
    """Run the plan's missing trials into ``store`` and return the study's state.

    ``stop_after`` stops after that many new trials (tests and partial runs: the rest is
    for a rerun)."""
    have = store.ids()
    planned = {t["id"] for t in tasks}
    state = SweepState(total=len(tasks))
    for row in store.rows():
        if row["id"] in planned:
            state.take(row.values)
    todo = [t for t in tasks if t["id"] not in have]
    state.skipped = len(tasks) - len(todo)
    if stop_after is not None:
        todo = todo[:stop_after]
    left = len(todo)
    state.running = min(executor.workers, left)
    if progress is not None:
        progress.update(state)
    for row in executor.map_unordered(runner, todo):
        store.record(row)
        left -= 1
        state.running = min(executor.workers, left)
        state.take(row)
        if progress is not None:
            progress.update(state)
    return state
