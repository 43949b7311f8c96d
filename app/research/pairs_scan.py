"""``pairs scan``: which pairs of symbols (or which basket) look cointegrated over a period.

For every pair of the given symbols (or the symbols as one basket), on the bars where all
its legs have a close, over the whole period at once (a research summary, not the model's
rolling windows), with the pair model's own statistics (``engine.kinds.pair_stats``):

- the Engle-Granger p-values of statsmodels ``coint``: leg 1 on the others and the last leg
  on the others (for a pair, both orders);
- the OLS hedge (leg 1 on the others with an intercept): ``hedge`` is leg 2's ratio,
  ``weights`` all of them (``w[0] = 1``);
- the half-life, Hurst exponent and mean crossings of that spread over the period;
- the correlation of the legs' bar-to-bar log returns (a basket: the mean over its pairs).

Sorted by the larger of the two p-values (the one the pair model's lock reads), then the
first.  In returns space (the default) the legs are log prices, in price space prices.

Data: HistData M1 files (bid closes, aggregated to the timeframe by the engine's bucket
function, as ``main.py tdi`` does), or wide daily files (``Date,SYM,...``: one close a
day, so only D1 makes sense for them).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.data_notes import bad_rows_note
from app.research.daily_closes import is_daily_file, read_daily_closes
from engine.bars import mid_close
from engine.errors import UserError
from engine.kinds import pair_stats as stats
from engine.kinds.pair_params import MIN_HEDGE_WINDOW, RETURNS
from engine.timeframes import resample_to
from storage.histdata import read_histdata_dir

D1 = "D1"
#: The most legs one basket may have: the pair kind's limit.
MAX_BASKET = 6


@dataclass(frozen=True)
class ScanRow:
    legs: tuple[str, ...]
    bars: int
    first: pd.Timestamp
    last: pd.Timestamp
    p_eg: float
    p_eg_rev: float
    hedge: float
    weights: tuple[float, ...]
    half_life: float
    hurst: float
    crossings: int
    correlation: float

    @property
    def p_max(self) -> float:
        return max(self.p_eg, self.p_eg_rev)


@dataclass(frozen=True)
class PairScan:
    rows: list[ScanRow]
    timeframe: str
    space: str
    daily: bool  # the data were wide daily files


def load_closes(paths: Sequence[Path], symbols: Sequence[str], timeframe: str | None,
                start: pd.Timestamp | None, end: pd.Timestamp | None,
                note: Callable[[str], None] = print) -> tuple[pd.DataFrame, str, bool]:
    """Closes of ``symbols`` (one column each, NaN where a symbol has no bar), the
    timeframe used and whether the data were daily files."""
    daily = [p for p in paths if is_daily_file(p)]
    if daily and len(daily) != len(paths):
        raise UserError(f"--data: {daily[0]} holds daily closes and "
                        f"{next(p for p in paths if p not in daily)} does not; scan one kind "
                        "of data at a time")
    if daily:
        if timeframe not in (None, D1):
            raise UserError(f"--timeframe {timeframe}: {daily[0]} has one close a day; only "
                            f"{D1} makes sense for daily data")
        return _daily(daily, symbols, start, end), D1, True
    chosen = timeframe or "M30"
    return _m1(paths, symbols, chosen, start, end, note), chosen, False


def _daily(paths: Sequence[Path], symbols: Sequence[str], start: pd.Timestamp | None,
           end: pd.Timestamp | None) -> pd.DataFrame:
    frames = [read_daily_closes(p) for p in paths]
    found = {c: frame for frame in frames for c in frame.columns}
    missing = [s for s in symbols if s not in found]
    if missing:
        raise UserError(f"--symbols: no column {', '.join(missing)} in "
                        f"{', '.join(str(p) for p in paths)}")
    closes = pd.concat([found[s][s] for s in symbols], axis=1)
    return _period(closes, start, end)


def _m1(paths: Sequence[Path], symbols: Sequence[str], timeframe: str,
        start: pd.Timestamp | None, end: pd.Timestamp | None,
        note: Callable[[str], None]) -> pd.DataFrame:
    data = read_histdata_dir(paths[0] if len(paths) == 1 else paths, symbols)
    columns = {}
    for symbol in symbols:
        m1 = data[symbol]
        if m1.duplicates:
            note(f"{symbol}: {m1.duplicates} duplicate timestamps, first occurrence kept")
        bad = bad_rows_note(m1)
        if bad:
            note(bad)
        bars = m1.to_bar_array(spread=0.0)
        if end is not None:
            bars = bars[bars["time"] < int(end.timestamp())]
        bars = resample_to(bars, timeframe)
        index = pd.DatetimeIndex(pd.to_datetime(bars["time"], unit="s", utc=True))
        columns[symbol] = pd.Series(mid_close(bars), index=index)
    closes = pd.concat(columns, axis=1).sort_index()
    closes.index.name = "time_utc"
    return _period(closes, start, None)


def _period(closes: pd.DataFrame, start: pd.Timestamp | None,
            end: pd.Timestamp | None) -> pd.DataFrame:
    if start is not None:
        closes = closes[closes.index >= start]
    if end is not None:
        closes = closes[closes.index < end]
    return closes


def groups(symbols: Sequence[str], basket: bool) -> list[tuple[str, ...]]:
    """Every pair in the order given, or the symbols as one basket."""
    if basket:
        return [tuple(symbols)]
    return list(itertools.combinations(symbols, 2))


def scan_group(closes: pd.DataFrame, legs: tuple[str, ...], space: str,
               timeframe: str, note: Callable[[str], None] = print) -> ScanRow:
    """One pair's (or basket's) figures on the bars where every leg has a close.  A leg
    that does not move over them (a halted or stale quote) gives no figures: a hedge ratio
    or a test against a constant would be a number that means nothing."""
    aligned = closes[list(legs)].dropna()
    if len(aligned) < MIN_HEDGE_WINDOW:
        raise UserError(f"{'/'.join(legs)}: {len(aligned)} {timeframe} bars with a close "
                        f"for every leg in the period; the scan needs {MIN_HEDGE_WINDOW}")
    prices = aligned.to_numpy(dtype=np.float64)
    flat = [leg for leg, column in zip(legs, prices.T, strict=True) if np.ptp(column) == 0]
    if flat:
        note(f"{'/'.join(legs)}: {', '.join(flat)} does not move over the {len(aligned)} "
             f"bars (one price throughout): no figures")
        nan = math.nan
        return ScanRow(legs, len(aligned), aligned.index[0], aligned.index[-1], nan, nan, nan,
                       tuple(nan for _ in legs), nan, nan, 0, nan)
    X = np.log(prices) if space == RETURNS else prices
    weights = stats.ols_weights(X)
    p, p_rev = stats.engle_granger(X)
    spread = X @ weights
    returns = np.diff(np.log(prices), axis=0)
    pairs = list(itertools.combinations(range(len(legs)), 2))
    correlation = float(np.mean([np.corrcoef(returns[:, i], returns[:, j])[0, 1]
                                 for i, j in pairs]))
    return ScanRow(legs, len(aligned), aligned.index[0], aligned.index[-1], p, p_rev,
                   float(-weights[1]), tuple(float(w) for w in weights),
                   stats.half_life(spread), stats.hurst(spread),
                   stats.crossings(spread, float(spread.mean())), correlation)


def _order(row: ScanRow) -> tuple[float, float]:
    return (math.inf if math.isnan(row.p_max) else row.p_max,
            math.inf if math.isnan(row.p_eg) else row.p_eg)


def pairs_scan(paths: Sequence[Path], symbols: Sequence[str], *, basket: bool = False,
               timeframe: str | None = None, space: str = RETURNS,
               start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
               note: Callable[[str], None] = print) -> PairScan:
    """The scan (module docstring)."""
    if basket and len(symbols) > MAX_BASKET:
        raise UserError(f"--basket: a basket is at most {MAX_BASKET} symbols, got "
                        f"{len(symbols)}")
    closes, used, daily = load_closes(paths, symbols, timeframe, start, end, note)
    rows = [scan_group(closes, legs, space, used, note) for legs in groups(symbols, basket)]
    return PairScan(sorted(rows, key=_order), used, space, daily)
