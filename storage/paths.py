"""Where the product keeps its files on this machine.

Everything lives under one data directory so a trader can back it up or move it whole:
``$FXCLUSTER_HOME`` when set, else ``%APPDATA%\\fxcluster`` on Windows and
``$XDG_DATA_HOME/fxcluster`` (default ``~/.local/share/fxcluster``) elsewhere.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from engine.model import RunMode
from engine.records import AccountIdentity


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


def journals_dir() -> Path:
    """Where the default journals live: one file per account, so histories never mix."""
    return data_dir() / "journals"


def default_journal_path() -> Path:
    """The journal of the default demo account (seed 0): what ``journal summary`` reads
    when no ``--journal`` is given.

    Releases before journals were bound to an account kept every mode in
    ``journal-demo.sqlite``; that file is left where it is, for ``--journal`` to read.
    """
    return journals_dir() / "demo.sqlite"


def _file_part(text: str) -> str:
    """``text`` as part of a file name on every system (a broker's server name may hold
    spaces or other characters a file name cannot)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "unnamed"


def account_journal_path(account: AccountIdentity, *, primary: bool = False) -> Path:
    """The default journal of ``account``: ``journals/live-<server>-<login>.sqlite`` for a
    live account; ``journals/<mode>.sqlite`` for the mode's primary simulated account (the
    default demo) and ``journals/<mode>-<login>.sqlite`` for every other simulated one."""
    mode = account.mode.value
    if account.mode is RunMode.LIVE:
        name = f"live-{_file_part(account.server)}-{account.login}"
    elif primary:
        name = mode
    else:
        name = f"{mode}-{account.login}"
    return journals_dir() / f"{name}.sqlite"


def crash_log_path() -> Path:
    """Where unexpected errors are written in full, so the user sees one line, not a trace."""
    return data_dir() / "crash.log"
