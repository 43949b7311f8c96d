"""Files of one symbol that cover the same time: refused, never mixed.

Several files of a symbol are meant to be consecutive periods of it (2019 and 2020, or the
months of a year).  Two whose spans overlap are two versions of the same period (a copy,
a corrected file, a ``.csv`` beside its ``.csv.gz``): merging them would quietly trade on
whichever rows happen to come first, so the readers refuse them, naming both files.
Identical copies are refused too: telling them apart would mean comparing every row, and
keeping one file per period is what the user has to do anyway.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import UserError

__all__ = ["FileSpan", "refuse_overlaps"]


@dataclass(frozen=True)
class FileSpan:
    """What one file holds of one symbol: its first and last row, in UTC milliseconds.
    ``kind`` separates what may cover the same time (a symbol's ticks and its M1 bars)."""

    path: Path
    symbol: str
    first_ms: int
    last_ms: int
    kind: str = ""


def refuse_overlaps(spans: Iterable[FileSpan]) -> None:
    """Raise :class:`UserError` naming the first two files of one symbol (and kind) whose
    spans overlap.  A file may start at the very minute the one before it ends (a monthly
    file repeating the last bar of the month before: that one row is a duplicate, as the
    readers count it); any more than that is two versions of the same period."""
    by_key: dict[tuple[str, str], list[FileSpan]] = {}
    for span in spans:
        by_key.setdefault((span.symbol, span.kind), []).append(span)
    for key in sorted(by_key):
        ordered = sorted(by_key[key], key=lambda s: (s.first_ms, s.last_ms, str(s.path)))
        for earlier, later in itertools.pairwise(ordered):
            if later.first_ms < earlier.last_ms or later.first_ms == earlier.first_ms:
                raise UserError(_overlap_text(earlier, later))


def _overlap_text(a: FileSpan, b: FileSpan) -> str:
    first, last = b.first_ms, min(a.last_ms, b.last_ms)
    return (f"{a.path} and {b.path} both hold {a.symbol} for {_utc(first)} .. {_utc(last)} "
            "UTC: keep one file per period of a symbol (identical copies too)")


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
