"""What a worker does around each trial: check its code, keep its market.

Every executor calls the trial's function through :func:`in_worker`:

- the market the worker read is kept for its next trial (``app.sweep.worker_data``);
- with ``check_code`` (the Dask executor, whose workers may be other machines with another
  checkout), the worker first compares the task's code version with its own: a trial's row
  says which code computed it, so a worker running other code refuses the trial with
  :class:`CodeVersionMismatch` instead of storing figures under a version that did not
  make them.  The mismatch stops the study with one line (an environment to fix, not a
  trial's result: it is neither stored nor counted as a trial); a rerun on matching
  workers runs the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from app.sweep.worker_data import kept_market
from engine.errors import UserError


class CodeVersionMismatch(UserError):
    """A worker runs other code than the study was planned with."""


@functools.cache
def own_code_version() -> str:
    """This process's code version (``app.sweep.plan.code_version`` of the files it runs),
    computed once per process (about 10 ms)."""
    from app.sweep.plan import code_version

    return code_version()


def check_code_version(task: dict[str, Any], own: str | None = None) -> None:
    """Raise :class:`CodeVersionMismatch` when ``task`` was planned with other code."""
    own = own_code_version() if own is None else own
    wanted = str(task.get("code_version"))
    if wanted != own:
        import socket

        raise CodeVersionMismatch(
            f"a worker on {socket.gethostname()} runs code version {own[:12]}, the study's "
            f"trials are of {wanted[:12]}: run the same version of the code on every worker")


def in_worker(fn: Callable[[dict[str, Any]], dict[str, Any]], task: dict[str, Any], *,
              check_code: bool = False) -> dict[str, Any]:
    """``fn(task)`` with the worker's market kept; the code version checked first when
    ``check_code``."""
    if check_code:
        check_code_version(task)
    with kept_market(task):
        return fn(task)
