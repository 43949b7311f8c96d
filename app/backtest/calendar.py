"""The news calendar a backtest filters with: an in-memory copy of the period's events."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from engine.calendar import StaticCalendar
from engine.errors import UserError


def calendar_snapshot(path: Path, start: datetime | None, end: datetime | None) -> StaticCalendar:
    """The events of ``[start, end]`` from an imported calendar database (``.sqlite``,
    ``.db``) or from calendar files, imported into a scratch database that is gone when
    this returns (the copy lives in memory)."""
    from storage.calendar import Calendar, import_calendar_files

    if not path.exists():
        raise UserError(f"--calendar: no such file: {path}")
    if path.suffix in (".sqlite", ".db"):
        with Calendar.open(path, create=False) as calendar:
            return calendar.snapshot(start, end)
    with tempfile.TemporaryDirectory(prefix="calendar-") as scratch:
        db = Path(scratch) / "calendar.sqlite"
        import_calendar_files([path], db)
        with Calendar.open(db) as calendar:
            return calendar.snapshot(start, end)
