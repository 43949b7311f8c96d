"""What HistData files hold that a run does not take: rows the reader skipped as bad, and a
price that never moves (a stale or halted feed).  Said by every command that runs on the
files (a backtest in its report's notes, the commands of many backtests once before them,
a replay with its session's notes), so damaged data is never silently less data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storage.histdata import HistDataM1, histdata_symbol, read_histdata_files

__all__ = ["bad_rows_note", "file_notes", "histdata_notes"]


def bad_rows_note(result: HistDataM1) -> str | None:
    """``EURUSD: 2 bad row(s) skipped (FILE:LINE: reason, 1 more)``, or None: none was."""
    if not result.bad_rows:
        return None
    more = f", {result.bad_rows - 1} more" if result.bad_rows > 1 else ""
    return f"{result.symbol}: {result.bad_rows} bad row(s) skipped ({result.problems[0]}{more})"


def histdata_notes(result: HistDataM1, source: Path) -> list[str]:
    """The notes of one file's read (``source``: the file, named in them)."""
    bad = bad_rows_note(result)
    notes = [bad] if bad else []
    prices = result.bars[["open", "high", "low", "close"]].to_numpy()
    if len(prices) > 1 and prices.min() == prices.max():
        notes.append(f"{result.symbol}: {source} quotes one price throughout "
                     f"({prices[0, 0]:g}): a stale or halted feed?")
    return notes


def file_notes(paths: Sequence[Path]) -> list[str]:
    """The notes of the HistData files among ``paths`` (folders: their HistData files),
    from one read of each (the parsed-file cache makes it cheap)."""
    files = [f for p in map(Path, paths)
             for f in (sorted(p.iterdir()) if p.is_dir() else [p])
             if f.is_file() and histdata_symbol(f) is not None]
    return [note for f, result in zip(files, read_histdata_files(files), strict=True)
            for note in histdata_notes(result, f)]
