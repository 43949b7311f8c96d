"""A small economic calendar made for a test and imported into the data directory, as
``main.py import calendar`` would: one low-impact event a day, so every day of the span is
covered (a calendar covers the UTC days its file lists) and no blackout is in the way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from storage.calendar import default_calendar_path, import_calendar_files


def import_daily_calendar(folder: Path, first: date, days: int) -> Path:
    """Write and import a calendar covering the ``days`` UTC days from ``first`` into the
    data directory's calendar (``$FXCLUSTER_HOME``); returns the calendar's path."""
    source = folder / f"calendar_{first:%Y%m%d}_{days}d.csv"
    rows = ["time_utc,currency,impact,title,actual,forecast,previous"]
    for n in range(days):
        noon = datetime.combine(first + timedelta(days=n), datetime.min.time(), UTC)
        rows.append(f"{noon + timedelta(hours=12):%Y-%m-%dT%H:%M:%SZ},NZD,Low,"
                    f"Visitor Arrivals m/m,,,")
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_calendar_files([source])
    return default_calendar_path()
