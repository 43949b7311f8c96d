"""Spread-profile files: one row per symbol, weekday and UTC hour (``engine.spread_profile``).

The file is a small CSV a trader can open and check::

    symbol,point,weekday,hour_utc,spread_points,ticks,fill
    EURUSD,1e-05,Mon,0,4.0,3733,measured

168 rows per symbol (7 weekdays x 24 hours, each once); a file may hold several symbols.
``spread_points`` is the median spread in points (at most ``MAX_SPREAD_POINTS``), ``ticks``
how many ticks it stands on and ``fill`` how the cell got its figure (``measured``, ``hour``,
``all``, ``scaled``).
Written through ``storage.csv_export`` (formula-safe, whole or not at all); read with every
bad row named as ``file:line``.

The product ships one profile, EURUSD, estimated from the Dukascopy ticks of 4-5 February
2019 (``spread_profile_data/README.md`` says how to make it again); ``shipped_spread_profile``
reads it.  Other symbols' profiles are scaled from it by the replay (``app.spreads``), which
knows the symbols' specs.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from engine.errors import DataError, UserError
from engine.spread_profile import FILLS, WEEKDAYS, SpreadProfile, SpreadTally
from mt5bridge.servertime import ServerTimeZone
from storage.csv_export import write_csv
from storage.datafile import read_data_file, sniff_encoding
from storage.symbols import check_symbol_name, is_symbol_name

__all__ = [
    "PROFILE_COLUMNS",
    "SHIPPED_PROFILE_SOURCE",
    "SHIPPED_PROFILE_SYMBOL",
    "read_spread_profiles",
    "shipped_spread_profile",
    "tally_tick_files",
    "write_spread_profiles",
]

PROFILE_COLUMNS: tuple[str, ...] = (
    "symbol", "point", "weekday", "hour_utc", "spread_points", "ticks", "fill")
#: The symbol whose profile is measured and shipped; every other one is scaled from it.
SHIPPED_PROFILE_SYMBOL = "EURUSD"
SHIPPED_PROFILE_SOURCE = "EURUSD Dukascopy ticks 2019-02-04..2019-02-05 UTC (266,219 ticks)"
#: A profile file is 168 short rows per symbol; anything this large is not one.
_MAX_BYTES = 8 * 2**20


def write_spread_profiles(path: Path | str, profiles: list[SpreadProfile]) -> int:
    """Write the profiles to ``path`` (whole or not at all); returns the row count.  A
    symbol the reader would refuse is refused here, before anything is written."""
    for profile in profiles:
        check_symbol_name(profile.symbol)
    rows = (
        [p.symbol, p.point, WEEKDAYS[day], hour, float(p.points[day, hour]),
         int(p.ticks[day, hour]), str(p.fill[day, hour])]
        for p in profiles for day in range(7) for hour in range(24)
    )
    return write_csv(path, PROFILE_COLUMNS, rows)


class _Cells:
    """One symbol's rows as they are read."""

    def __init__(self, point: float, line: int) -> None:
        self.point = point
        self.line = line
        self.points = np.full((7, 24), np.nan)
        self.ticks = np.zeros((7, 24), dtype=np.int64)
        self.fill = np.full((7, 24), "measured", dtype=object)


#: The widest spread a profile may give, in points.  No real FX or CFD spread comes near it:
#: 100,000 points are 1.0 on EURUSD (the whole price), 100 yen on USDJPY and 1,000 index
#: points on an index CFD quoted to 0.01, where a wide news-time spread is a few hundred
#: points.  A file of 1e9 was read and then every leg rounded to 0 lots.
MAX_SPREAD_POINTS = 100_000


def read_spread_profiles(path: Path | str, source: str | None = None) -> dict[str, SpreadProfile]:
    """Every profile of a file, by symbol; a bad row is a ``DataError`` naming ``file:line``."""
    raw = read_data_file(path, _MAX_BYTES, "spread profile")
    try:
        text = raw.decode(sniff_encoding(raw[:4]))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a text file ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise DataError(f"{path}: empty file; expected the header {','.join(PROFILE_COLUMNS)}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in PROFILE_COLUMNS if c not in names]
    if missing:
        raise DataError(f"{path}:1: not a spread profile: no column {missing[0]!r} (expected "
                        f"{','.join(PROFILE_COLUMNS)})")
    at = {c: names.index(c) for c in PROFILE_COLUMNS}
    symbols: dict[str, _Cells] = {}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}:{reader.line_num}"
        if len(row) != len(names):
            raise DataError(f"{where}: {len(row)} fields, the header has {len(names)}")
        _read_row(where, reader.line_num, {c: row[i].strip() for c, i in at.items()}, symbols)
    if not symbols:
        raise DataError(f"{path}: no rows after the header")
    label = source or f"profile file {Path(path).name}"
    return {name: _profile(path, name, cells, label) for name, cells in symbols.items()}


def _read_row(where: str, line: int, row: dict[str, str], symbols: dict[str, _Cells]) -> None:
    symbol = row["symbol"]
    if not is_symbol_name(symbol):
        raise DataError(f"{where}: symbol {symbol!r} is not a symbol name")
    point = _number(where, "point", row["point"])
    if point <= 0:
        raise DataError(f"{where}: point must be > 0, got {row['point']!r}")
    cells = symbols.setdefault(symbol, _Cells(point, line))
    if point != cells.point:
        raise DataError(f"{where}: {symbol} point {row['point']} differs from line "
                        f"{cells.line} ({cells.point:g})")
    if row["weekday"] not in WEEKDAYS:
        raise DataError(f"{where}: weekday {row['weekday']!r} is not one of "
                        f"{', '.join(WEEKDAYS)}")
    day = WEEKDAYS.index(row["weekday"])
    hour = _whole(where, "hour_utc", row["hour_utc"], 23)
    spread = _number(where, "spread_points", row["spread_points"])
    if spread < 0:
        raise DataError(f"{where}: spread_points must be >= 0, got {row['spread_points']!r}")
    if spread > MAX_SPREAD_POINTS:
        raise DataError(f"{where}: spread_points {row['spread_points']} is above "
                        f"{MAX_SPREAD_POINTS:,}, more than any FX or CFD spread (EURUSD's "
                        f"{MAX_SPREAD_POINTS:,} points are 1.0, the whole price)")
    if not math.isnan(cells.points[day, hour]):
        raise DataError(f"{where}: {symbol} {row['weekday']} {hour}:00 appears twice")
    if row["fill"] not in FILLS:
        raise DataError(f"{where}: fill {row['fill']!r} is not one of {', '.join(FILLS)}")
    cells.points[day, hour] = spread
    cells.ticks[day, hour] = _whole(where, "ticks", row["ticks"], 2**62)
    cells.fill[day, hour] = row["fill"]


def _profile(path: Path | str, symbol: str, cells: _Cells, source: str) -> SpreadProfile:
    gaps = np.argwhere(np.isnan(cells.points))
    if len(gaps):
        day, hour = gaps[0]
        raise DataError(f"{path}: {symbol} has no row for {WEEKDAYS[day]} {hour}:00 UTC "
                        f"({len(gaps)} of 168 weekday-hours missing)")
    return SpreadProfile(symbol, cells.point, cells.points, cells.ticks, cells.fill, source)


def _number(where: str, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {column} must be finite, got {text!r}")
    return value


def _whole(where: str, column: str, text: str, high: int) -> int:
    if not text.isdigit() or int(text) > high:
        raise DataError(f"{where}: {column} must be a whole number in 0..{high}, got {text!r}")
    return int(text)


def shipped_spread_profile() -> SpreadProfile:
    """The EURUSD profile the product ships (package data)."""
    resource = resources.files("storage") / "spread_profile_data" / f"{SHIPPED_PROFILE_SYMBOL}.csv"
    with resources.as_file(resource) as path:
        profiles = read_spread_profiles(path, SHIPPED_PROFILE_SOURCE)
    return profiles[SHIPPED_PROFILE_SYMBOL]


def tally_tick_files(paths: Sequence[Path], symbol: str | None,
                     server_time: ServerTimeZone | None,
                     point_of: Callable[[str], float]) -> tuple[str, SpreadTally]:
    """The spread counts of tick files of one symbol, read as ``import ticks`` reads them
    (format by content, block by block, memory bounded by a block); the first bad row is a
    ``DataError`` naming file:line.

    The symbol is ``symbol`` or, without it, the one every file name gives; ``point_of``
    says its point (spreads are counted in points).
    """
    from storage.importers import detect_file, iter_parsed_blocks, resolve_symbol
    from storage.marketdata import TICKS

    tally = SpreadTally()
    name: str | None = None
    for path in paths:
        detected = detect_file(path)
        if detected.kind != TICKS:
            raise UserError(f"{path}: this is a {detected.description} file; a spread profile "
                            "is estimated from ticks with a bid and an ask")
        this = resolve_symbol(path, detected, symbol)
        if name is not None and this != name:
            raise UserError(f"{path}: holds {this}, the files before it {name}; estimate one "
                            "symbol at a time (or give --symbol)")
        name = this
        point = point_of(name)
        for parsed in iter_parsed_blocks(path, detected, server_time, strict=True):
            rows = parsed.rows
            if len(rows):
                tally.add(rows["time_msc"], rows["bid"], rows["ask"], point)
    if name is None:
        raise UserError("no tick files given")
    return name, tally
