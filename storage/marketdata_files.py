"""The files of the market-data store: atomic writes, the series lock, and the undo of a batch.

``storage.marketdata`` decides what goes into a month; this module makes the writing safe:
a month file is replaced atomically (temp file, fsync, rename), a writer holds the series
lock while it merges, and a batch (one import) keeps the previous content of every month it
replaces until it ends, so a failure can put all of them back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import DataError

__all__ = ["Batch", "fsync_dir", "lock", "locked", "remove_stale_temps", "write_atomic"]

#: Rows per Parquet row group: the unit a replay reads at a time (bounded memory).
ROW_GROUP_ROWS = 262_144


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; os.replace is durable enough there
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: The store's Parquet settings (``write_atomic``'s default).
STORE_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd", "row_group_size": ROW_GROUP_ROWS, "write_statistics": True}


def write_atomic(table: pa.Table, target: Path,
                 options: Mapping[str, Any] = STORE_WRITE_OPTIONS) -> None:
    """Write ``table`` to ``target`` so that a kill at any instant leaves old or new, whole
    (``options``: ``pyarrow.parquet.write_table``'s settings)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temp.open("wb") as handle:
            pq.write_table(table, handle, **options)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(target.parent)


def remove_stale_temps(directory: Path) -> None:
    """Temp files of writers that were killed; only ever ours (dot-names ending ``.tmp``)."""
    if not directory.is_dir():
        return
    for stale in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


def lock(directory: Path, *, shared: bool = False) -> int:
    """Lock a symbol directory and return the descriptor that holds the lock: exclusive for
    writers that merge a month (two merges must not race), shared for readers of a month with
    recorder parts (a compaction must not delete a part between listing and reading it).
    Appending a part needs no lock."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.name == "posix":
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        else:  # pragma: no cover - exercised on Windows only (no shared mode there)
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
    except BaseException:
        os.close(fd)
        raise
    return fd  # closing it releases the lock on both platforms


@contextlib.contextmanager
def locked(directory: Path, *, shared: bool = False) -> Iterator[None]:
    fd = lock(directory, shared=shared)
    try:
        yield
    finally:
        os.close(fd)


class Batch:
    """Writes to one series that land together (see ``MarketDataStore.batch``).

    The series stays locked from the first write to the end of the batch; ``undo`` maps each
    month file replaced to the link that keeps its previous content (``None``: it was new).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.undo: dict[Path, Path | None] = {}
        self._fd: int | None = None

    def hold(self) -> None:
        if self._fd is None:
            self._fd = lock(self.directory)
            remove_stale_temps(self.directory)

    def keep(self, main: Path) -> None:
        """Remember ``main`` as it is before the batch first replaces it."""
        if main in self.undo:
            return
        if not main.is_file():
            self.undo[main] = None
            return
        undo = main.with_name(f".{main.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.undo.tmp")
        try:
            os.link(main, undo)
        except OSError:  # a file system without hard links
            shutil.copy2(main, undo)
        self.undo[main] = undo

    def rollback(self) -> None:
        failed: list[str] = []
        for main, undo in self.undo.items():
            try:
                if undo is None:
                    main.unlink(missing_ok=True)
                else:
                    os.replace(undo, main)
            except OSError as exc:
                failed.append(f"{main.name} ({exc.strerror or exc})")
        if self.undo:
            fsync_dir(self.directory)
        if failed:
            raise DataError(f"{self.directory}: could not undo a failed write of "
                            f"{', '.join(failed)}; re-import the file")

    def commit(self) -> None:
        for undo in self.undo.values():
            if undo is not None:
                with contextlib.suppress(OSError):
                    undo.unlink()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
