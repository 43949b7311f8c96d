"""What a worker does around each trial: check its code, keep its market.

Every executor calls the trial's function through :func:`in_worker`:

- the market the worker read is kept for its next trial (``app.sweep.worker_data``);
- with ``check_code`` (the Dask executor, whose workers may be other machines with another
  checkout and other files), the worker first compares the task's code version with its
  own, and the data fingerprint of the data it can read at the task's paths with the
  task's (once per process and fingerprint: hashing a year of files takes a fraction of a
  second): a trial's row says which code and data computed it, so a worker with other
  code or other (or no) data refuses the trial with :class:`CodeVersionMismatch` or
  :class:`DataMismatch` instead of storing figures under versions that did not make them.
  A refusal stops the study with one line (an environment to fix, not a trial's result:
  it is neither stored nor counted as a trial); a rerun on matching workers runs the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from app.sweep.worker_data import kept_market
from engine.errors import UserError


class CodeVersionMismatch(UserError):
    """A worker runs other code than the study was planned with."""


class DataMismatch(UserError):
    """A worker cannot read the study's data, or reads other data at its paths."""


#: The data fingerprints this process has checked against its own files.
_checked_data: set[str] = set()


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


def check_data(task: dict[str, Any]) -> None:
    """Raise :class:`DataMismatch` when the data at ``task``'s paths is missing here or is
    not the data the study was planned on (its fingerprint, ``app.sweep.plan``)."""
    import socket

    from app.sweep.plan import data_fingerprint

    wanted = str(task.get("data_fingerprint"))
    if wanted in _checked_data:
        return
    run = task["run"]
    try:
        own = data_fingerprint(run["source"], run["paths"], run["store"], run["seed"],
                               run["latency"])
    except UserError as exc:
        raise DataMismatch(f"a worker on {socket.gethostname()} cannot read the study's data: "
                           f"{exc}") from None
    if own != wanted:
        raise DataMismatch(f"a worker on {socket.gethostname()} reads other data at the "
                           f"study's paths (fingerprint {own[:12]}, the study's {wanted[:12]})"
                           ": give every worker the same files")
    _checked_data.add(wanted)


def in_worker(fn: Callable[[dict[str, Any]], dict[str, Any]], task: dict[str, Any], *,
              check_code: bool = False) -> dict[str, Any]:
    """``fn(task)`` with the worker's market kept; the code version and the data checked
    first when ``check_code``."""
    if check_code:
        check_code_version(task)
        check_data(task)
    with kept_market(task):
        return fn(task)
