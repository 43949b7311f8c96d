"""The terminal server's private folder (its socket and secret), and the folders of dead
servers left behind.

A server removes its folder when it stops, but a server killed outright (SIGKILL, a power
cut) cannot: its folder stays in the temporary directory for good.  Each folder therefore
names its owner's process id in ``owner.pid``, and a new server removes the folders of this
user whose owner is no longer running before it makes its own.  A folder without the file
(being made at this moment, or made by an older version) is left alone, and so is one whose
process id now belongs to another live process: keeping a stale folder costs a few bytes,
removing a live one would cut a server off.

The same holds for any folder a process keeps in the temporary directory while it runs and
removes when it ends: ``prefix`` names the family (a backtest's scratch folders,
``app.backtest.scratch``, use their own), and a new folder of a family removes only the
abandoned folders of that family.  This module stands alone (the server's one-file archive
carries it, ``mt5bridge.remote.zipapp``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "fxcluster-terminal-"
OWNER_FILE = "owner.pid"


def new_private_dir(parent: str | None = None, prefix: str = PREFIX) -> str:
    """A new folder only this user may enter (mode 0700), naming this process as its owner;
    the abandoned folders of ``prefix`` in ``parent`` (by default the terminal servers' in
    the temporary directory) are removed first."""
    remove_abandoned(parent, prefix)
    folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    Path(folder, OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
    return folder


def remove_abandoned(parent: str | None = None, prefix: str = PREFIX) -> list[str]:
    """Remove this user's folders of ``prefix`` in ``parent`` (the temporary directory) whose
    owner process has ended; the folders removed.  POSIX only: elsewhere asking whether a
    process lives is not a harmless call."""
    if os.name != "posix":
        return []
    removed = []
    root = Path(parent or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for folder in root.glob(prefix + "*"):
            if _abandoned(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
    if removed:
        log.info("removed %d folder(s) %s* of processes no longer running", len(removed),
                 prefix)
    return removed


def _abandoned(folder: Path) -> bool:
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        owner = int(folder.joinpath(OWNER_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    if owner <= 0 or owner == os.getpid():
        return False
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's (EPERM)
        return False
    return False
