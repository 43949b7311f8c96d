"""A backtest's scratch folder, and removing this process's folders before a hard exit.

The folder goes when its ``with`` block ends, however it ends, as long as the process
unwinds.  A sweep worker whose driver died does not unwind: it leaves at once with
``os._exit`` (``app.sweep.executors``), which would leave the trial's folder (its journal
included) in the temporary directory.  So every open folder is listed here, and
``discard_open_folders`` removes them first.

A process killed outright (SIGKILL, a power cut) cannot do even that, and its folders (a
journal of several MB among them) would stay for good.  So each folder names its owner's
process id, and a new one removes the folders of its kind whose owner is no longer running
(``mt5bridge.remote.private_dir``, as the terminal server does with its own; POSIX only).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mt5bridge.remote.private_dir import new_private_dir

_open_folders: set[Path] = set()
_guard = threading.Lock()


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new temporary folder (only this user may enter it), removed with everything in it
    on leaving; the folders of ``prefix`` left by processes that died first."""
    folder = Path(new_private_dir(prefix=prefix))
    with _guard:
        _open_folders.add(folder)
    try:
        yield folder
    finally:
        with _guard:
            _open_folders.discard(folder)
        shutil.rmtree(folder, ignore_errors=True)


def discard_open_folders() -> None:
    """Remove every scratch folder still open in this process, as far as it can be (a
    file held open on Windows stays): only for a process about to exit without unwinding."""
    with _guard:
        folders = list(_open_folders)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
