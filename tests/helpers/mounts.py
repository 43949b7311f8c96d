"""A real filesystem mounted for a test (a full disk, read-only media): needs the right to
mount, and the test is skipped, saying why, where that right is missing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(folder: Path, options: str = "") -> Iterator[Path]:
    """``folder`` (created) with a tmpfs mounted on it, ``options`` as ``mount -o`` takes
    them (``size=12k``); unmounted lazily at the end, so that a connection a failed
    assertion still holds does not keep it mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", *(["-o", options] if options else []), "tmpfs",
               str(folder)]
    if subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip("mounting a filesystem needs privileges this machine does not give")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
