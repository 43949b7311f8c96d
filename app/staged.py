"""A set of output files written whole or not at all.

A report is several files (``metrics.json``, ``trades.csv``, ..., ``report.html``).  Each
one written in place and renamed over its namesake is whole, but the set is not: when the
fourth cannot be written (a full disk, a folder where the file should be), the first three
stay, a report that says less than it seems to.  Here the files are written into a hidden
folder beside the target, checked against what is in the way, and only then moved in; on
any failure the hidden folder goes and the target is as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["staged_folder"]


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A folder to write the files of ``target`` into; when the block ends without an error
    they are moved into ``target`` (created; files of an existing one that the set does not
    name stay, those it names are replaced).  Raises ``OSError`` naming the path in the way
    (a folder where a file goes, a file where a folder goes) before any file is moved."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
    try:
        staging.mkdir()
    except OSError as exc:  # said of the path the caller gave, not of the hidden folder
        raise type(exc)(exc.errno, exc.strerror, str(target)) from None
    try:
        yield staging
        _move_in(staging, target)
    finally:
        if staging.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(staging)


def _move_in(staging: Path, target: Path) -> None:
    if not target.exists():
        try:
            os.replace(staging, target)
            return
        except OSError as exc:  # another writer made the folder in between: merge below
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
    if not target.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target))
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    destinations = [target / p.relative_to(staging) for p in files]
    for destination in destinations:  # everything in the way, before anything moves
        if destination.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(destination))
        for parent in destination.relative_to(target).parents:
            folder = target / parent
            if folder != target and folder.exists() and not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                         str(folder))
    for source, destination in zip(files, destinations, strict=True):
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
