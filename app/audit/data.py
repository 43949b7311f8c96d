"""The user's market data as M1 bars in memory: what every run of the audit replays.

The audit reads the data once and replays it from memory (``BacktestSpec(source="bars")``)
in every run, real and surrogate alike, so that the real Sharpe and the surrogates' come
from one code path (the same "1 minute OHLC" ticks and spread model as ``main.py backtest``
on the same files).  HistData files are read as the replay reads them; other formats (MT5
exports, Dukascopy ticks) are imported into a scratch store first, and a symbol that has only
ticks is aggregated to M1 bars (said in a note: the audit replays bars).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.errors import UserError
from storage.file_spans import FileSpan, refuse_overlaps

#: The suffixes of data files in a directory (as ``main.py backtest`` reads them).
_DATA_SUFFIXES = (".csv", ".gz", ".txt", ".tsv")


def data_files(paths: Sequence[Path]) -> list[Path]:
    """The data files named or held (directly) in ``paths``."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError(f"--data: no such file or directory: {missing[0]}")
    files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])
             if (f is p or f.is_file()) and not f.name.startswith(".")
             and f.suffix.lower() in _DATA_SUFFIXES]
    if not files:
        raise UserError("--data: no data files in " + ", ".join(str(p) for p in paths))
    return files


def load_bars(paths: Sequence[Path], work: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every symbol's M1 bars (``BAR_DTYPE``, strictly increasing times) and notes."""
    from storage.histdata import histdata_symbol, read_histdata_m1
    from storage.importers import HISTDATA, detect_file
    from storage.marketdata import BARS

    parts: dict[str, list[np.ndarray]] = {}
    others: list[Path] = []
    spans: list[FileSpan] = []  # files of one symbol that overlap are refused, never mixed
    for f in data_files(paths):
        symbol = histdata_symbol(f)
        if symbol is not None and detect_file(f).format == HISTDATA:
            bars = read_histdata_m1(f, symbol).to_bar_array()
            parts.setdefault(symbol, []).append(bars)
            if len(bars):
                spans.append(FileSpan(f, symbol, int(bars["time"][0]) * 1000,
                                      int(bars["time"][-1]) * 1000, BARS))
        else:
            others.append(f)
    notes: list[str] = []
    if others:
        for symbol, bars in _imported_bars(others, work / "store", notes, spans).items():
            parts.setdefault(symbol, []).append(bars)
    refuse_overlaps(spans)
    bars = {s: _increasing(np.concatenate(p)) for s, p in sorted(parts.items())}
    bars = {s: b for s, b in bars.items() if len(b)}
    if not bars:
        raise UserError("--data: the files hold no M1 bars")
    return bars, notes


def _imported_bars(files: list[Path], root: Path, notes: list[str],
                   spans: list[FileSpan]) -> dict[str, np.ndarray]:
    """Files of other formats through the importers; ticks become M1 bars.  Each file's
    span is added to ``spans``."""
    from storage.importers import import_file
    from storage.marketdata import BARS, TICKS, MarketDataStore, ticks_to_m1

    store = MarketDataStore(root)
    for f in files:
        summary = import_file(f, store)
        if summary.first_msc is not None and summary.last_msc is not None:
            spans.append(FileSpan(f, summary.symbol, summary.first_msc, summary.last_msc,
                                  summary.kind))
            refuse_overlaps(spans)  # before "no usable rows": a copy adds nothing
        if summary.imported == 0 and summary.rows_read:
            raise UserError(f"{f}: no usable rows ({summary.rows_read} read)")
    out: dict[str, np.ndarray] = {}
    for symbol in store.symbols(BARS):
        out[symbol] = store.read(BARS, symbol)
    for symbol in store.symbols(TICKS):
        if symbol not in out:
            out[symbol] = ticks_to_m1(store.read(TICKS, symbol))
            notes.append(f"{symbol}: recorded ticks aggregated to M1 bars (the audit replays "
                         "bars)")
    return out


def _increasing(bars: np.ndarray) -> np.ndarray:
    """Bars in file order with any bar not after the one before it dropped, as the replay
    drops a tick older than one already passed on (overlapping files)."""
    if len(bars) < 2:
        return bars
    times = bars["time"]
    keep = np.ones(len(bars), dtype=bool)
    keep[1:] = times[1:] > np.maximum.accumulate(times)[:-1]
    return bars[keep]
