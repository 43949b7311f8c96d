"""A cluster's TDI over HistData M1 files, computed by exactly the engine's bar and TDI code.

Research and checking: a trader compares the console's numbers with a spreadsheet or
another implementation.  Data before the period's start is the warm-up; data after its end
is not used.  The prices are oriented in the cluster's space by ``engine.space``, the
function the engine's streaming signal calls, so the two agree to 1e-9.

The TDI is computed on mid closes (``engine.bars.mid_close``: the bid close plus half the
bar's mean spread).  HistData bars carry the bid only; a backtest or replay quotes them
with a modelled spread (``app.spreads``: ``profile`` by default, by UTC weekday and hour),
so its mids move by half of each change in the modelled spread.  ``spreads`` gives this
command the same model, so that its TDI is the backtest's; without it the mids are the
bids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.data_notes import bad_rows_note, no_bars_error
from app.replay_feed import filled_spreads
from app.spreads import SpreadFill
from engine.bars import align_closes
from engine.errors import UserError
from engine.factor import NO_FACTOR, PC1, factor_tdi_batch
from engine.space import NoNumeraire, orient_frame, orientations
from engine.tdi import TdiParams, tdi_batch
from engine.timeframes import M30, resample_to
from mt5bridge.sim.symbols import BROKER_SPECS
from storage.histdata import HistDataM1, read_histdata_dir

#: Problems per symbol passed on as notes; the reader counts them all.
SHOWN_PROBLEMS = 3
#: How many symbols a cluster has (``engine.cluster.ClusterSpec`` holds every configured
#: cluster to the same): with two there is one pair and no second eigenvalue, so the
#: eigengap divides by zero; more than six is not a cluster the engine trades.
MIN_SYMBOLS, MAX_SYMBOLS = 3, 6


def check_symbols(symbols: Sequence[str]) -> None:
    """Refuse what is not a cluster: fewer than 3 or more than 6 symbols, or one twice."""
    twice = sorted({s for s in symbols if list(symbols).count(s) > 1})
    if twice:
        raise UserError(f"{', '.join(twice)} given twice")
    if not MIN_SYMBOLS <= len(symbols) <= MAX_SYMBOLS:
        raise UserError(f"a cluster is {MIN_SYMBOLS} to {MAX_SYMBOLS} symbols, got "
                        f"{len(symbols)} ({', '.join(symbols) or 'none'})")


@dataclass(frozen=True)
class ClusterTdi:
    """``table``: time_utc index, columns tdi, phi, eigengap, explained."""

    table: pd.DataFrame
    rows_read: int
    bars: int  # buckets of the timeframe where every symbol has a bar
    skipped_buckets: int  # buckets where some symbol had none

    @property
    def valid(self) -> int:
        return int(np.isfinite(self.table["tdi"].to_numpy()).sum())


def space_orientation(symbols: Sequence[str], space: str) -> dict[str, int]:
    """Each symbol's orientation in ``space``; a currency space without a numeraire is a
    one-line error."""
    try:
        return orientations(symbols, space)
    except NoNumeraire as exc:
        raise UserError(str(exc)) from None


def cluster_tdi(source: Path | str | Sequence[Path | str], symbols: Sequence[str],
                params: TdiParams, start: pd.Timestamp | None, end: pd.Timestamp | None,
                note: Callable[[str], None] = print, space: str = "symbol",
                factor: str = NO_FACTOR, factor_window: int = 0,
                timeframe: str = M30,
                spreads: Callable[[str], SpreadFill] | None = None) -> ClusterTdi:
    """The TDI of ``symbols`` from bars of ``timeframe`` over ``[start, end)`` (M15, M30 and
    H1 in UTC clock buckets, H4 and D1 on New York's trading day, by the engine's bucket
    function, ``engine.timeframes``), on the prices of ``space`` (``engine.space``:
    ``currency`` or ``symbol``).

    ``note`` hears, as the files are read, what was odd in them (bad rows, duplicates); a
    symbol whose files give no bar at all is a :class:`UserError` naming the file and why.
    ``factor`` ``pc1`` computes the TDI on residual prices (``engine.factor``) with
    ``factor_window`` bars of trailing returns; the factor's warm-up comes out of the data
    before ``start`` like the TDI's own.  ``spreads`` (a symbol's modelled spread, as a
    backtest quotes it) makes the mids the backtest's; None: the bids."""
    check_symbols(symbols)
    signs = space_orientation(symbols, space)
    data = read_histdata_dir(source, symbols)
    bars_tf, rows, bad = _timeframe_bars(data, symbols, end, timeframe, note, spreads)
    aligned = align_closes(bars_tf, symbols)
    if aligned.closes.empty:
        raise UserError(f"no {timeframe} bucket has data for all of {', '.join(symbols)}"
                        + (" before --to" if end is not None else ""))
    oriented = orient_frame(aligned.closes, signs)
    if factor == PC1:
        table = factor_tdi_batch(oriented, params, factor_window)
    elif factor == NO_FACTOR:
        table = tdi_batch(oriented, params)
    else:
        raise UserError(f"factor {factor!r}: this command knows {NO_FACTOR} and {PC1}")
    if start is not None:
        table = table[table.index >= start]
        if table.empty:
            raise UserError(f"no {timeframe} bars on or after --from {_when(start)}")
    result = ClusterTdi(table, rows, len(aligned.closes), aligned.skipped_buckets)
    if result.valid == 0:
        raise UserError(_no_valid_tdi(result, params, timeframe, bad))
    for line in bad:
        note(line)
    return result


def _timeframe_bars(data: Mapping[str, HistDataM1], symbols: Sequence[str],
                    end: pd.Timestamp | None, timeframe: str, note: Callable[[str], None],
                    spreads: Callable[[str], SpreadFill] | None = None,
                    ) -> tuple[dict[str, np.ndarray], int, list[str]]:
    """Each symbol's bars of ``timeframe`` before ``end`` (quoted with ``spreads`` when
    given: ``_quoted``), the M1 rows read, and the notes of rows skipped as bad; what else
    was odd in the files goes to ``note`` as it is read."""
    bars_tf = {}
    rows = 0
    bad: list[str] = []
    for sym in symbols:
        m1 = data[sym]
        unusable = no_bars_error(m1)
        if unusable:  # the wrong file, not damaged data: no bucket could ever line up
            raise UserError(unusable)
        rows += m1.rows_read
        if (skipped := bad_rows_note(m1)) is not None:
            bad.append(skipped)
        for line in m1.problems[:SHOWN_PROBLEMS]:
            note(f"warning: {line}")
        if m1.duplicates:
            first = m1.duplicate_times[0]
            note(f"{sym}: {m1.duplicates} duplicate timestamps, first occurrence kept "
                 f"(from {first:%Y-%m-%d %H:%M} UTC)")
        bars = m1.to_bar_array(spread=0.0) if spreads is None else _quoted(m1, sym, spreads)
        if end is not None:
            bars = bars[bars["time"] < int(end.timestamp())]
        bars_tf[sym] = resample_to(bars, timeframe)
    return bars_tf, rows, bad


def _no_valid_tdi(result: ClusterTdi, params: TdiParams, timeframe: str,
                  bad: Sequence[str]) -> str:
    """Why no TDI bar came out: too few buckets for the warm-up, and the rows skipped as
    bad that may be the reason (a file in reverse time order loses all but one row), as a
    backtest of the same files says it; a file of empty TDI is no result."""
    why = (f"no valid TDI bar: {result.bars} {timeframe} bucket(s) with a bar of every "
           f"symbol, too few to warm the TDI up ({params.warmup_bars} bars)")
    return "; ".join([why, *bad])


def _quoted(m1: HistDataM1, symbol: str, spreads: Callable[[str], SpreadFill]) -> np.ndarray:
    """The bars as a backtest quotes them: prices at the broker's digits (when it lists the
    symbol) and the modelled spread, in price units (``app.replay_feed``)."""
    bars = m1.to_bar_array()
    spec = BROKER_SPECS.get(symbol)
    if spec is not None:
        for name in ("open", "high", "low", "close"):
            bars[name] = np.round(bars[name], spec.digits)
    bars["spread"] = filled_spreads(bars, spreads(symbol))
    return bars


def _when(t: pd.Timestamp) -> str:
    """A day as the trader typed it; an instant with its time."""
    return f"{t:%Y-%m-%d}" if t == t.normalize() else f"{t:%Y-%m-%d %H:%M}"
