"""The good rows of an MT5 export or a Dukascopy file, from the parsed-file cache when the
same bytes were parsed before with the same settings.

A replay of recorded ticks spends most of its start parsing them: two days of Dukascopy
EURUSD ticks take about 1.7 s of a 2 s replay, and every replay of the same file (the
console's "Replay again", a backtest run again with other settings) parsed it again.  The
rows a replay reads (``iter_parsed_blocks``: the good rows in time order, the bad ones
skipped) are kept in ``storage.parsed_cache`` like HistData's, keyed by the file's bytes
and by everything else the rows depend on: the detected format (kind, header, separator),
the server clock that turns an MT5 export's server times into UTC, and the version of this
entry's layout.  A file above ``MAX_CACHED_BYTES`` on disk streams through the parser as
before, never held whole in memory for the cache.

Import (``import_file``) does not go through here: it counts the bad rows and the
duplicates, which the cache does not keep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine.ticks import BAR_DTYPE
from mt5bridge.servertime import ServerTimeZone
from storage import parsed_cache
from storage.importers.formats import DetectedFormat
from storage.importers.run import iter_parsed_blocks
from storage.marketdata import STORE_TICK_DTYPE

__all__ = ["MAX_CACHED_BYTES", "MAX_CACHED_ROWS", "cache_tag", "parsed_rows"]

#: Files larger than this on disk are streamed and not cached.
MAX_CACHED_BYTES = 256 * 1024 * 1024
#: A file whose rows pass this many is not cached either: its rows are kept while parsed,
#: to be written once the file is done (ten million ticks hold 240 MB).
MAX_CACHED_ROWS = 10_000_000
#: The layout of an entry: bump it when the rows of a file would change for the same
#: settings (a parser fix), so that older entries are never read.
_LAYOUT = "rows-1"
#: The row layouts the parsers give (ticks and bars).
_DTYPES = (STORE_TICK_DTYPE, BAR_DTYPE)


def cache_tag(detected: DetectedFormat, server_time: ServerTimeZone | None) -> str:
    """The entry's tag: the layout and a digest of the settings the rows depend on."""
    settings = repr((detected.format, detected.kind, detected.header, detected.separator,
                     server_time))
    return f"{_LAYOUT}-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def parsed_rows(path: Path, detected: DetectedFormat,
                server_time: ServerTimeZone | None) -> Iterator[np.ndarray]:
    """``iter_parsed_blocks``' good rows of ``path`` (blocks of the store's dtype, in time
    order): one block from the cache when it holds them, else the parser's blocks as they
    come, kept in the cache once the file is done."""
    size = path.stat().st_size
    key = _content_key(path) if parsed_cache.cache_enabled(size) and \
        size <= MAX_CACHED_BYTES else None
    tag = cache_tag(detected, server_time)
    if key is not None and (rows := _cached(path, key, tag)) is not None:
        yield rows
        return
    kept: list[np.ndarray] | None = [] if key is not None else None
    count = 0
    for parsed in iter_parsed_blocks(path, detected, server_time):
        if kept is not None:
            count += len(parsed.rows)
            if count <= MAX_CACHED_ROWS:
                kept.append(parsed.rows)
            else:
                kept = None  # too many rows to keep: this file is not cached
        yield parsed.rows
    if key is not None and kept:
        parsed_cache.store(path, key, tag, _as_table(np.concatenate(kept)))


def _content_key(path: Path) -> str:
    """``parsed_cache.content_key`` of the file's bytes, read in pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def _cached(path: Path, key: str, tag: str) -> np.ndarray | None:
    """The rows of the entry, or None (no entry, or not the columns of one dtype)."""
    table = parsed_cache.load(path, key, tag, ())
    if table is None:
        return None
    dtype = next((d for d in _DTYPES if list(d.names) == table.column_names), None)
    if dtype is None:
        return None
    rows = np.empty(table.num_rows, dtype=dtype)
    for name in dtype.names:
        rows[name] = table.column(name).to_numpy()
    return rows


def _as_table(rows: np.ndarray) -> pa.Table:
    return pa.table({name: pa.array(rows[name]) for name in rows.dtype.names})
