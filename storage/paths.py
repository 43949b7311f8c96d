"""Where the product keeps its files on this machine.

Everything lives under one data directory so a trader can back it up or move it whole:
``$FXCLUSTER_HOME`` when set, else ``%APPDATA%\\fxcluster`` on Windows and
``$XDG_DATA_HOME/fxcluster`` (default ``~/.local/share/fxcluster``) elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """The product's data directory (created on first use)."""
    env = os.environ.get("FXCLUSTER_HOME")
    if env:
        base = Path(env)
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "fxcluster"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "fxcluster"
    base.mkdir(parents=True, exist_ok=True)
    return base


def default_journal_path() -> Path:
    """The default trade journal: one SQLite file per account, here the demo account."""
    return data_dir() / "journal-demo.sqlite"


def crash_log_path() -> Path:
    """Where unexpected errors are written in full, so the user sees one line, not a trace."""
    return data_dir() / "crash.log"
