"""Trials on Dask distributed: a ``LocalCluster`` started for the run, or a scheduler's workers.

``--workers dask`` (or ``dask:N``) starts a ``distributed.LocalCluster`` of N worker
processes (default: the machine's cores), one thread each, its scheduler and its HTTP
status pages on loopback only (free ports), its connections mutual TLS with a certificate
made for the run (held in memory; a process without it is refused), and closes it when the
run ends.  ``--scheduler tcp://host:8786``
connects to a running scheduler and uses its workers; the run closes only its connection.

- **Same interface** as the local executors: :meth:`DaskExecutor.map_unordered` yields the
  rows as they finish and the driver stores each as it comes (one writer).  At most twice
  as many trials as there are worker threads are submitted at a time, so a driver that is
  stopped or killed leaves little queued on a shared cluster.
- **Transport**: tasks and rows are dicts of builtins, and this code unpickles nothing from
  a file or a socket; but Dask's own transport pickles its messages (the function by
  reference, the task, the row, an error) between the driver, the scheduler and the
  workers.  Whoever can talk to the scheduler can run code on its workers and send the
  driver a pickle: a scheduler must be trusted and on a private network.  A scheduler
  address that is not loopback is therefore refused unless ``--allow-remote`` says so (as
  the terminal server's); ``tls://`` addresses use Dask's own TLS configuration.
- **Code**: a LocalCluster's workers are spawned from this interpreter and import this
  checkout.  Workers of a remote scheduler need the same code version (``pip install`` of
  the same commit); each trial's task carries the code version it was planned with and a
  worker with other code refuses it (``app.sweep.worker``): the study stops with one line.
  The same for the data: the task's files are made absolute from the driver's working
  directory (:func:`for_workers`), and a worker that cannot read them, or reads other
  files there (another data fingerprint), refuses the trial.
- **Dask missing**: one line, ``Dask is not installed: pip install 'fxcluster[dask]'``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.sweep.worker import in_worker
from engine.errors import UserError

Task = dict[str, Any]
Result = dict[str, Any]

MISSING = "Dask is not installed: pip install 'fxcluster[dask]'"
MISSING_CRYPTOGRAPHY = ("cryptography is not installed (it makes a local Dask cluster's TLS "
                        "certificate): pip install 'fxcluster[dask]'")
#: How long to wait for a scheduler, and for its first worker.
CONNECT_SECONDS = 30.0
#: Trials in flight per worker thread.
IN_FLIGHT_PER_WORKER = 2
SCHEMES = ("tcp", "tls")
LOOPBACK_ANY_PORT = "127.0.0.1:0"
#: Dask settings of the LocalCluster's workers.  Each worker's statistical profiler (for the
#: dashboard's profile page) samples every thread's stack 100 times a second from a thread
#: of its own, taking the GIL from the trial it watches: off, since a study reads no profile.
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def require_dask() -> Any:
    """The ``distributed`` module, or the one-line error saying how to install it (Dask, or
    ``cryptography``, which makes a local cluster's certificate: the same extra)."""
    try:
        import distributed
    except ImportError:
        raise UserError(MISSING) from None
    try:
        import cryptography  # noqa: F401 - only whether it is there
    except ImportError:
        raise UserError(MISSING_CRYPTOGRAPHY) from None
    return distributed


def _run_credentials(distributed: Any) -> Any:
    """A ``distributed.Security`` with a key and certificate made for this run: every role
    of the local cluster shares them, and no other process has them."""
    return distributed.Security.temporary()


def check_scheduler_address(address: str, allow_remote: bool) -> None:
    """``tcp://host:port`` or ``tls://host:port``; a host outside this machine only with
    ``allow_remote``."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None:
        raise UserError(f"--scheduler: expected tcp://HOST:PORT (or tls://), got {address!r}")
    from mt5bridge.remote.address import is_loopback  # the terminal server's rule

    if not allow_remote and not is_loopback((parts.hostname, port)):
        raise UserError(f"--scheduler: {parts.hostname} is not this machine: Dask's transport "
                        "pickles, so a scheduler elsewhere must be trusted and on a private "
                        "network; say so with --allow-remote")


class DaskExecutor:
    """The workers of a Dask cluster; use it as a context manager (it connects, or starts
    the ``LocalCluster``, on entry and closes what it opened on exit).

    ``processes=False`` runs the LocalCluster's workers as threads of this process (tests
    that must not spawn); ``workers`` is then the number of worker threads."""

    def __init__(self, scheduler: str | None = None, workers: int = 2, *,
                 allow_remote: bool = False, processes: bool = True,
                 connect_seconds: float = CONNECT_SECONDS) -> None:
        if scheduler is None and (isinstance(workers, bool) or not isinstance(workers, int)
                                  or workers < 1):
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        self.scheduler = scheduler
        self.workers = workers if scheduler is None else 0
        self.allow_remote = allow_remote
        self.processes = processes
        self.connect_seconds = connect_seconds
        self._cluster: Any = None
        self._client: Any = None

    # -- opening and closing ------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        distributed = require_dask()
        if self.scheduler is None:
            # processes: the scheduler on loopback; in-process: Dask's inproc transport.
            # Its HTTP servers (status pages; None does not turn them off) on loopback too,
            # at free ports, never every interface's 8787
            # processes: mutual TLS with credentials made for this run and held in memory
            # only: loopback is open to every user of the machine, and Dask's messages are
            # pickles, so a connection that cannot show this run's certificate is refused.
            where = ({"host": "127.0.0.1", "scheduler_port": 0,
                      "security": _run_credentials(distributed)} if self.processes else {})
            import dask

            with dask.config.set(LOCAL_WORKER_CONFIG):  # the nannies pass it to the workers
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=self.processes,
                    dashboard_address=LOOPBACK_ANY_PORT,
                    worker_dashboard_address=LOOPBACK_ANY_PORT, memory_limit=0,
                    silence_logs=logging.ERROR, **where)
            self._client = distributed.Client(self._cluster)
        else:
            check_scheduler_address(self.scheduler, self.allow_remote)
            try:
                self._client = distributed.Client(self.scheduler, timeout=self.connect_seconds)
                self._client.wait_for_workers(1, timeout=self.connect_seconds)
            except (OSError, TimeoutError) as exc:  # TimeoutError: no worker joined
                self.__exit__()
                raise UserError(f"--scheduler: no Dask workers at {self.scheduler} "
                                f"({exc})") from None
        self.workers = max(1, sum(self._client.nthreads().values()))
        return self

    def __exit__(self, *exc: object) -> None:
        for part in (self._client, self._cluster):
            if part is not None:
                part.close()
        self._client = self._cluster = None

    # -- running ------------------------------------------------------------------------------

    def map_unordered(self, fn: Callable[[Task], Result],
                      tasks: Iterable[Task]) -> Iterator[Result]:
        """Each task on a worker, ``fn`` checking the code version first; a worker's
        failure to run a trial at all (not a failing backtest: that is a row) stops the
        study with one line."""
        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("DaskExecutor: use it in a with block")
        call = functools.partial(in_worker, fn, check_code=True)
        pending = (for_workers(t) for t in tasks)
        limit = IN_FLIGHT_PER_WORKER * self.workers
        first = [self._client.submit(call, t, pure=False)
                 for t in _take(pending, limit)]
        if not first:
            return
        flowing = as_completed(first)
        for future in flowing:
            nxt = next(pending, None)
            if nxt is not None:
                flowing.add(self._client.submit(call, nxt, pure=False))
            yield _result_of(future)


def for_workers(task: Task) -> Task:
    """``task`` with every file it names made absolute from the driver's working directory:
    a worker elsewhere (another directory, another machine with the same mount) finds
    them.  Only the worker's instructions change: the row, the id and the fingerprint are
    made of other fields."""
    run = dict(task["run"])
    for key in ("store", "config_path", "calendar"):
        if run.get(key):
            run[key] = str(Path(run[key]).resolve())
    for key in ("paths", "spread_profiles"):
        run[key] = [str(Path(p).resolve()) for p in run.get(key) or []]
    return {**task, "run": run}


def _take(items: Iterator[Task], count: int) -> list[Task]:
    out = []
    for item in items:
        out.append(item)
        if len(out) >= count:
            break
    return out


def _result_of(future: Any) -> Result:
    from app.backtest import failure_text

    try:
        row = future.result()
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"a Dask worker could not run a trial: {failure_text(exc)}") from None
    finally:
        future.release()
    return row
