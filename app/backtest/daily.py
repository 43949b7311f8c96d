"""Daily closes as a backtest's market: each day's close is that day's only price.

A daily file (``storage.importers.daily``) says nothing of the time of day.  The close is
placed where it happens, at the end of the NYSE regular session: as the M1 bar 15:59-16:00
New York time (EST or EDT, whichever is in force that day), open = high = low = close, so
its "1 minute OHLC" ticks all quote the close inside the session's last minute and the bar
closes at 16:00.  A D1 signal bar (New York's trading day, ``engine.timeframes``) then
closes that evening at 17:00 with that close, and the first tick after it is the next
trading day's close: an order the signal sends fills at the **next daily close** (a stock
CFD's market is closed at 17:00; the order waits for the next session's tick).

Prices are the broker's: each close rounded to the symbol's point (the adjusted closes have
three decimals; a stock CFD quotes cents).  The file has no quotes, so the spread is
modelled: ``DAILY_SPREAD_BP`` (2 basis points) of the close, rounded to the symbol's point and
at least one point; the bid is the close and the ask the close plus that spread.  Two basis
points is a large US stock's quoted spread at the close (KO, PEP: a cent or so on 50-60
dollars); the report names it per symbol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import UserError
from engine.ticks import BAR_DTYPE

__all__ = ["DAILY_SPREAD_BP", "daily_bars", "daily_market_bars", "spread_text"]

#: The modelled spread of a daily close, in basis points of the close.
DAILY_SPREAD_BP = 2.0

#: The close's minute: 15:59-16:00 New York, the regular session's last.
_CLOSE_BAR_LOCAL = pd.Timedelta(hours=15, minutes=59)
_NEW_YORK = "America/New_York"


def daily_bars(closes: pd.Series, point: float) -> np.ndarray:
    """One M1 bar (``BAR_DTYPE``) per day of ``closes`` at 15:59 New York (see the module
    note); ``point`` rounds the modelled spread."""
    out = np.zeros(len(closes), dtype=BAR_DTYPE)
    if not len(closes):
        return out
    local = (pd.DatetimeIndex(closes.index).normalize() + _CLOSE_BAR_LOCAL).tz_localize(_NEW_YORK)
    out["time"] = local.tz_convert("UTC").as_unit("s").asi8
    # quoted at the broker's digits (the file's adjusted closes have three decimals)
    values = np.maximum(np.round(closes.to_numpy(np.float64) / point) * point, point)
    values = np.round(values, max(0, round(-np.log10(point))))
    for name in ("open", "high", "low", "close"):
        out[name] = values
    out["tick_volume"] = 1
    spread = np.round(values * DAILY_SPREAD_BP / 10_000.0 / point) * point
    out["spread"] = np.maximum(spread, point)
    return out


def spread_text() -> str:
    """What the report says of a daily symbol's spread."""
    return (f"daily closes at 16:00 New York: modelled spread {DAILY_SPREAD_BP:g} bp of the "
            "close (at least one point)")


def daily_market_bars(files: Sequence[Path], symbols: Iterable[str] | None,
                      points: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The M1 bars of every wanted symbol of the daily files (all their columns when
    ``symbols`` is None; a wanted symbol no file has is left to the caller).  A symbol in two
    files is refused: which close would be the day's?"""
    from storage.importers.daily import read_wide_daily

    wanted = None if symbols is None else set(symbols)
    out: dict[str, np.ndarray] = {}
    origin: dict[str, Path] = {}
    for path in files:
        columns = _columns(path)
        take = columns if wanted is None else [c for c in columns if c in wanted]
        for symbol, closes in read_wide_daily(path, take).items():
            if symbol in out:
                raise UserError(f"{symbol}: in two daily files ({origin[symbol]}, {path})")
            out[symbol] = daily_bars(closes, points.get(symbol, 0.01))
            origin[symbol] = path
    return out


def _columns(path: Path) -> list[str]:
    from storage.importers.textfile import first_lines

    lines, _ = first_lines(path, count=1)
    return [c.strip() for c in lines[0].split(",")[1:]] if lines else []
