"""Where a sweep's trials run: one interface, several executors.

``Executor.map_unordered(fn, tasks)`` runs ``fn`` on every task and yields the results as
they finish (in any order): the driver stores each as it comes, so a killed study loses only
the trials that were running.  Tasks and results are plain data (dicts of builtins); no
engine object crosses a process boundary, and nothing read from a file or a socket is
unpickled by this code.

- :class:`SerialExecutor`: in this process, one after another (the reference: every other
  executor must give the same rows);
- :class:`LocalProcessExecutor`: ``workers`` processes of this machine, started with
  ``spawn`` (a fresh interpreter, as Windows does it: what works here works there);
- ``DaskExecutor`` (``app.sweep.dask_executor``): the workers of a Dask cluster, a
  ``LocalCluster`` it starts or a scheduler it connects to.

Every executor runs ``fn`` through :func:`app.sweep.worker.in_worker`, so each worker (the
driver's process under the serial executor) keeps the market it read for its next trial
(``app.sweep.worker_data``): the serial reference takes the same path as the others.

:func:`parse_workers` reads ``--workers`` and :func:`open_executor` opens the executor for
a run (and closes what it started).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

from app.backtest.scratch import discard_open_folders
from app.sweep import worker_data
from app.sweep.worker import in_worker
from engine.errors import UserError

Task = dict[str, Any]
Result = dict[str, Any]


class Executor(Protocol):
    """Runs tasks, yields results as they finish; ``workers`` is how many run at once."""

    workers: int

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]: ...


class SerialExecutor:
    """Each task in turn, in this process; what the process kept of the market is dropped
    when the run ends (the process lives on: a test, the console)."""

    workers = 1

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]:
        try:
            for task in tasks:
                yield in_worker(fn, task)
        finally:
            worker_data.forget()


def _exit_with_parent() -> None:
    """A worker's initializer: end the worker when the driver ends, however it ends.

    Without it a driver killed with SIGKILL leaves its idle workers waiting forever on a
    queue nobody feeds.  The parent's sentinel (a pipe on POSIX, a handle on Windows)
    becomes ready when the parent is gone; a daemon thread waits on it."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        discard_open_folders()  # the trial's scratch: os._exit runs no cleanup
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-driver", daemon=True).start()


class LocalProcessExecutor:
    """``workers`` spawned processes; at most ``workers`` tasks are queued at a time, so a
    stopped driver leaves no backlog of submitted work behind it.  ``fn`` must be a
    module-level function (a spawned process imports it by name)."""

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        self.workers = workers

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]:
        context = multiprocessing.get_context("spawn")
        pending = iter(tasks)
        call = functools.partial(in_worker, fn)
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                 initializer=_exit_with_parent) as pool:
            running: set[Future[Result]] = set()
            for task in pending:
                running.add(pool.submit(call, task))
                if len(running) >= self.workers:
                    break
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    nxt = next(pending, None)
                    if nxt is not None:
                        running.add(pool.submit(call, nxt))
                    yield future.result()


def make_executor(workers: int) -> Executor:
    """Serial for one worker (no process to start), local processes otherwise."""
    return SerialExecutor() if workers == 1 else LocalProcessExecutor(workers)


# -- choosing the executor from the command line --------------------------------------------


@dataclass(frozen=True)
class ExecutorChoice:
    """Where a study runs.

    ``kind``: ``local`` (``workers`` processes of this machine; 1 = in the driver's
    process), ``dask-local`` (a Dask ``LocalCluster`` of ``workers`` processes started for
    the run, default: the machine's cores) or ``dask`` (the workers of the Dask scheduler at
    ``scheduler``; one outside this machine only with ``allow_remote``)."""

    kind: str = "local"
    workers: int = 1
    scheduler: str | None = None
    allow_remote: bool = False

    @property
    def uses_dask(self) -> bool:
        return self.kind != "local"


def parse_workers(text: str | None, scheduler: str | None = None,
                  allow_remote: bool = False) -> ExecutorChoice:
    """``--workers N`` (local processes), ``--workers dask`` or ``dask:N`` (a Dask
    ``LocalCluster``), or ``--scheduler ADDRESS`` (an existing Dask scheduler); bad input
    is one line naming the option."""
    if scheduler is not None:
        if text is not None:
            raise UserError("--workers and --scheduler: give one (the scheduler's workers run "
                            "the trials)")
        from app.sweep.dask_executor import check_scheduler_address

        check_scheduler_address(scheduler, allow_remote)
        return ExecutorChoice("dask", 0, scheduler, allow_remote)
    if allow_remote:
        raise UserError("--allow-remote: only with --scheduler")
    if text is None:
        return ExecutorChoice()
    word = text.strip().lower()
    if word == "dask":
        return ExecutorChoice("dask-local", os.cpu_count() or 1)
    count = word.removeprefix("dask:")
    if not count.isdigit() or int(count) < 1:
        raise UserError(f"--workers: expected a number of processes (1 or more), 'dask' or "
                        f"'dask:N', got {text!r}")
    return ExecutorChoice("dask-local" if word.startswith("dask:") else "local", int(count))


@contextlib.contextmanager
def open_executor(choice: ExecutorChoice) -> Iterator[Executor]:
    """The executor of ``choice``, open for the run; what it started (a Dask
    ``LocalCluster``, a connection) is closed when the block ends, however it ends."""
    if not choice.uses_dask:
        yield make_executor(choice.workers)
        return
    from app.sweep.dask_executor import DaskExecutor

    with DaskExecutor(scheduler=choice.scheduler, workers=choice.workers,
                      allow_remote=choice.allow_remote) as executor:
        yield executor
