"""A study file read back without writing it: what the report and the console read.

The console may import ``app`` but never ``storage``; this is its one way to a study.  The
file is opened with SQLite's read-only mode (``storage.trials.open_read_only``), so a study
a sweep is writing right now can be read, and read again for the trials finished since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StudyFile:
    """A study as read: its settings and every trial's row (a dict: the store's columns,
    ``params``, ``metrics`` and ``daily_returns`` decoded)."""

    path: Path
    settings: dict[str, Any]
    rows: tuple[dict[str, Any], ...]


def read_study(path: Path) -> StudyFile:
    """Every trial of the study at ``path``, read-only; ``UserError`` in one line when the
    file is missing or not a study."""
    from storage.trials import open_read_only

    store = open_read_only(Path(path))
    try:
        return StudyFile(path=Path(path), settings=store.settings(),
                         rows=tuple(dict(r.values) for r in store.rows()))
    finally:
        store.close()
