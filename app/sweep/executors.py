"""Where a sweep's trials run: one interface, several executors.

``Executor.map_unordered(fn, tasks)`` runs ``fn`` on every task and yields the results as
they finish (in any order): the driver stores each as it comes, so a killed study loses only
the trials that were running.  Tasks and results are plain data (dicts of builtins); no
engine object crosses a process boundary, and nothing read from a file or a socket is
unpickled.

- :class:`SerialExecutor`: in this process, one after another (the reference: every other
  executor must give the same rows);
- :class:`LocalProcessExecutor`: ``workers`` processes of this machine, started with
  ``spawn`` (a fresh interpreter, as Windows does it: what works here works there).

A distributed executor (Dask) implements the same method.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

Task = dict[str, Any]
Result = dict[str, Any]


class Executor(Protocol):
    """Runs tasks, yields results as they finish; ``workers`` is how many run at once."""

    workers: int

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]: ...


class SerialExecutor:
    """Each task in turn, in this process."""

    workers = 1

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]:
        for task in tasks:
            yield fn(task)


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
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                 initializer=_exit_with_parent) as pool:
            running: set[Future[Result]] = set()
            for task in pending:
                running.add(pool.submit(fn, task))
                if len(running) >= self.workers:
                    break
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    nxt = next(pending, None)
                    if nxt is not None:
                        running.add(pool.submit(fn, nxt))
                    yield future.result()


def make_executor(workers: int) -> Executor:
    """Serial for one worker (no process to start), local processes otherwise."""
    return SerialExecutor() if workers == 1 else LocalProcessExecutor(workers)
