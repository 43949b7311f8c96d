"""What HistData files hold that a run does not take: rows the reader skipped as bad, and a
price that never moves (a stale or halted feed).  Said by every command that runs on the
files (a backtest in its report's notes, the commands of many backtests once before them,
a replay with its session's notes), so damaged data is never silently less data.  A file
that gives no bar at all is not damaged data but the wrong file (an empty download, a
calendar or a daily table under a HistData name): ``no_bars_error`` says which and why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.errors import UserError
from storage.histdata import HistDataM1, histdata_symbol, read_histdata_files, read_histdata_m1

__all__ = ["HISTDATA_ROWS", "bad_rows_note", "file_notes", "histdata_notes", "no_bars_error"]

#: What a HistData reader reads, as its refusal of another file says it.
HISTDATA_ROWS = ("a HistData M1 file (rows like 20190101 170200;1.145980;1.145990;1.145980;"
                 "1.145980;0)")


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


def no_bars_error(result: HistDataM1) -> str | None:
    """Why a symbol's read gave no bar, in one line naming the file, or None: it gave some.

    Without it a command that needs every symbol only finds, much later, that nothing
    lines up, and names no file.  The words are the other commands': the importers'
    ``unrecognised format`` for a file that is not HistData text, the backtest's ``empty
    file`` and ``no row of the file is usable`` for one that is.  Of a symbol read from
    several files, the first one is named (none of them gave a bar)."""
    if result.first_time is not None:
        return None
    for source in result.sources:
        one = result if len(result.sources) == 1 else read_histdata_m1(source, result.symbol)
        said = _unusable(source, one)
        if said:
            return said
    return f"{result.symbol}: no M1 bars"  # no source: not read from files


def _unusable(source: Path, result: HistDataM1) -> str | None:
    """Why one file's read gave no bar (``result`` is that file's alone)."""
    from storage.importers.formats import HISTDATA, detect_format, unrecognised_format
    from storage.importers.textfile import first_lines

    if result.first_time is not None:
        return None
    if result.rows_read == 0:
        return f"{source}: empty file"
    lines, _ = first_lines(source)
    try:
        histdata = detect_format(source, lines).format == HISTDATA
    except UserError:
        histdata = False
    if not histdata:
        return unrecognised_format(source, lines, HISTDATA_ROWS)
    return (f"{result.problems[0]}; no row of the file is usable "
            f"({result.rows_read} read, all rejected)")
