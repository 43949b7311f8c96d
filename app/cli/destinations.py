"""Before any work: can a command's output be made where the user asked?

A walk-forward or a sweep that runs for an hour and then cannot write its report (a path
through a file, ``/proc``, a read-only disk) has wasted the hour, and its error named the
hidden staging folder it was writing into, not the path the user gave.  So every command
that writes a file or a folder checks the place first, the way it will write there: the
nearest folder that exists on the way must be a folder and must take a new file (a small
file is made there and removed at once; access bits do not tell a read-only mount or
``/proc``, and an administrator passes every access check).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from engine.errors import UserError

__all__ = ["check_destination"]


def check_destination(path: Path, option: str, *, folder: bool) -> None:
    """``path`` (a file, or with ``folder`` a folder of files) can be written, or a
    ``UserError`` naming ``option``, ``path`` and what is in the way."""
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{option}: {path} is a file; give a folder (one is made if needed)")
    if not folder and path.is_dir():
        raise UserError(f"{option}: {path} is a folder; give a file name")
    base = next((p for p in path.parents if p.exists()), Path("."))
    if not base.is_dir():
        raise UserError(f"{option}: {base} is a file, so {path} cannot be created")
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=base)
    except OSError as exc:
        raise UserError(f"{option}: cannot write {path}: {base} takes no new file "
                        f"({exc.strerror or exc})") from None
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
