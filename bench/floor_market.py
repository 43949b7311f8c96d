"""The floor's market: HistData M1 files read in C, the backtest's ticks, M30 bars and the
batch TDI of each cluster with what the M1 exits need (``bench/floor_tdi.py`` says what the
floor is and why each step is done as it is)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from app.replay_feed import ReplayConfig, bars_to_ticks, filled_spreads
from engine.cluster import ClusterSpec
from engine.space import orient
from engine.tdi import Q_HIGH, Q_LOW, tdi_batch
from engine.ticks import BAR_DTYPE
from mt5bridge.sim.symbols import SYMBOL_SPECS
from storage.histdata import histdata_symbol

M1_MS = 60_000
M30_MS = 1_800_000
_EST_TO_UTC_S = 5 * 3600
_COLUMNS = ["time", "open", "high", "low", "close", "volume"]


# ------------------------------------------------------------------------------ reading


def read_m1(path: Path) -> np.ndarray:
    """A HistData M1 file as ``BAR_DTYPE`` bars in UTC (spread NaN: bids only).

    Rows are dropped as the product's reader drops them: prices not finite, positive and
    ordered, then a stamp seen before (the first kept) or earlier than one kept.  A stamp
    that is not one stops the read (``pyarrow`` names the row); the floor reads clean
    files, the product's reader is the one that reports every bad row.  The stamps are
    parsed by ``pyarrow``'s own parser: measured on EURUSD 2019, the parse costs 0.48 s
    with it against 0.42 s with the stamps left as text, where a digit matrix in numpy
    took 1.39 s (medians of 5 alternating runs, one process)."""
    table = pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(column_names=_COLUMNS),
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(
            column_types={"time": pa.timestamp("s"), "open": pa.float64(),
                          "high": pa.float64(), "low": pa.float64(), "close": pa.float64(),
                          "volume": pa.int64()},
            timestamp_parsers=["%Y%m%d %H%M%S"]))
    t = table.column("time").to_numpy().astype("datetime64[s]").astype(np.int64)
    o, h, lo, c = (table.column(k).to_numpy() for k in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        keep = (np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
                & (lo > 0) & (h >= np.maximum(o, c)) & (lo <= np.minimum(o, c)))
    keep[keep] = ~pd.Index(t[keep]).duplicated(keep="first")
    running = np.maximum.accumulate(np.where(keep, t, np.iinfo(np.int64).min))
    keep &= t >= np.concatenate(([np.iinfo(np.int64).min], running[:-1]))
    bars = np.empty(int(keep.sum()), dtype=BAR_DTYPE)
    bars["time"] = t[keep] + _EST_TO_UTC_S
    for name, col in (("open", o), ("high", h), ("low", lo), ("close", c)):
        bars[name] = col[keep]
    bars["tick_volume"] = 0
    bars["spread"] = np.nan
    return bars


def read_folder(folder: Path) -> dict[str, np.ndarray]:
    """Every HistData file of ``folder`` by symbol (several files of a symbol joined), the
    files read on parallel threads (the parser and the gzip reader release the GIL)."""
    paths = [(p, s) for p in sorted(folder.iterdir()) if (s := histdata_symbol(p)) is not None]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        read = list(pool.map(read_m1, [p for p, _ in paths]))
    parts: dict[str, list[np.ndarray]] = {}
    for (_, symbol), bars in zip(paths, read, strict=True):
        parts.setdefault(symbol, []).append(bars)
    return {s: _in_time_order(np.concatenate(p)) for s, p in sorted(parts.items())}


def _in_time_order(bars: np.ndarray) -> np.ndarray:
    times = bars["time"]
    if len(times) < 2 or bool(np.all(times[1:] >= times[:-1])):
        return bars
    return bars[np.argsort(times, kind="stable")]


# ------------------------------------------------------------------------------ market


def _groups(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index, one past the last) of each run of equal labels."""
    if not len(labels):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
    return starts, np.append(starts[1:], len(labels))


def _sequential_means(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each run's mean, summed left to right (the bar kernel's order), vectorised: the
    runs padded with zeros into rows, and ``cumsum`` along a row is a sequential sum."""
    sizes = ends - starts
    width = int(sizes.max()) if len(sizes) else 0
    padded = np.zeros((len(starts), max(width, 1)))
    row = np.repeat(np.arange(len(starts)), sizes)
    padded[row, np.arange(len(values)) - np.repeat(starts, sizes)] = values
    return np.cumsum(padded, axis=1)[:, -1] / sizes


@dataclass
class SymbolData:
    """One symbol's ticks of the period, its warm-up bars (spreads filled by the model),
    its M30 mids (warm-up, then the period's) and the minutes that have a bar."""

    ticks_ms: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    warm: np.ndarray
    warm_spread: np.ndarray
    minutes: np.ndarray
    m30_labels: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    m30_mid: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def seed(self) -> tuple[float, float]:
        """The quote the terminal holds before the first tick: the last warm-up bar's."""
        if not len(self.warm):
            return math.nan, math.nan
        close = float(self.warm["close"][-1])
        return close, close + float(self.warm_spread[-1])


def symbol_ticks(symbol: str, bars: np.ndarray, config: ReplayConfig, start_ms: int,
                 end_ms: int, warm_ms: int) -> SymbolData:
    """The backtest's ticks of the period (``bars_to_ticks``) and the warm-up bars, their
    prices at the symbol's digits as the replay quotes them (``ReplayFeed.quote_at_digits``)."""
    fill = config.symbol_spread(symbol).fill
    digits = SYMBOL_SPECS[symbol].digits
    ms = bars["time"] * 1000
    live = bars[(ms >= start_ms) & (ms <= end_ms)]
    warm = bars[(ms < start_ms) & (ms >= start_ms - warm_ms)].copy()
    ticks = bars_to_ticks(live, fill)
    ticks = ticks[ticks["time_msc"] <= end_ms]
    for name in ("open", "high", "low", "close"):
        warm[name] = np.round(warm[name], digits)
    # contiguous columns: a binary search in a strided field would copy it every time
    return SymbolData(np.ascontiguousarray(ticks["time_msc"]),
                      np.round(ticks["bid"], digits), np.round(ticks["ask"], digits), warm,
                      np.round(filled_spreads(warm, fill), digits), live["time"] * 1000)


def add_m30(symbol: str, d: SymbolData) -> None:
    """The symbol's M30 mids: the warm-up's as the terminal's M30 rates give them (mean
    spread rounded to whole points), the period's built from its ticks as the engine does."""
    starts, ends = _groups(d.ticks_ms // M30_MS)
    live_mid = d.bid[ends - 1] + 0.5 * _sequential_means(d.ask - d.bid, starts, ends)
    w_starts, w_ends = _groups(d.warm["time"] // 1800)
    point = SYMBOL_SPECS[symbol].point
    mean = (np.add.reduceat(d.warm_spread, w_starts) / (w_ends - w_starts)
            if len(w_starts) else np.empty(0))
    warm_mid = d.warm["close"][w_ends - 1] + 0.5 * (np.rint(mean / point) * point)
    d.m30_labels = np.concatenate([d.warm["time"][w_starts] // 1800 * 1800,
                                   d.ticks_ms[starts] // M30_MS * 1800])
    d.m30_mid = np.concatenate([warm_mid, live_mid])


def on_grid(parts: Sequence[np.ndarray], first_ms: int, last_ms: int,
            step_ms: int = M1_MS) -> np.ndarray:
    """The sorted distinct moments of ``parts`` (multiples of ``step_ms``) within
    [first, last]: marks on the minute grid, linear where ``np.unique`` sorts or hashes."""
    base = first_ms // step_ms
    marks = np.zeros(last_ms // step_ms - base + 1, dtype=bool)
    for part in parts:
        part = part[(part >= first_ms) & (part <= last_ms)]
        marks[part // step_ms - base] = True
    return (np.flatnonzero(marks) + base) * step_ms


class Quotes:
    """Every symbol's bid and ask at the moments the engine acts (the last tick at or
    before each; before the first tick, the quote the warm-up left)."""

    def __init__(self, symbols: Sequence[str], data: dict[str, SymbolData],
                 times: np.ndarray) -> None:
        self.symbols = tuple(symbols)
        self.times = times
        self.bid = np.empty((len(times), len(symbols)))
        self.ask = np.empty((len(times), len(symbols)))
        self._data = data
        for j, s in enumerate(symbols):
            self.bid[:, j], self.ask[:, j] = self._at(data[s], times)
        self.mid = 0.5 * (self.bid + self.ask)

    @staticmethod
    def _at(d: SymbolData, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seed_bid, seed_ask = d.seed
        if not len(d.ticks_ms):
            return np.full(len(times), seed_bid), np.full(len(times), seed_ask)
        pos = np.searchsorted(d.ticks_ms, times, "right") - 1
        safe = np.maximum(pos, 0)
        return (np.where(pos >= 0, d.bid[safe], seed_bid),
                np.where(pos >= 0, d.ask[safe], seed_ask))

    def row(self, t_ms: int) -> int:
        return int(np.searchsorted(self.times, t_ms))

    def at(self, t_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(bids, asks) at any moment (a rollover's, say), read from the ticks."""
        out = [self._at(self._data[s], np.array([t_ms])) for s in self.symbols]
        return np.array([b[0] for b, _ in out]), np.array([a[0] for _, a in out])


# ------------------------------------------------------------------------------ clusters


@dataclass
class ClusterSeries:
    """A cluster's bars (warm-up then the period's), their TDI and what the M1 exits need."""

    spec: ClusterSpec
    order: int
    symbols: tuple[str, ...]
    columns: np.ndarray
    signs: np.ndarray
    emitted: np.ndarray
    first_live: int
    closes: np.ndarray
    tdi: np.ndarray
    gap: np.ndarray
    v1: np.ndarray
    sd: np.ndarray
    #: What the provisional TDI reads per bar (``cluster_series``).
    stats: dict[str, np.ndarray] = field(default_factory=dict)

    def bar_limit(self, bar: int) -> int | None:
        """When the time stop closes a basket opened at ``bar`` at the latest (None: after
        the data)."""
        last = bar + self.spec.stops.time_stop_bars
        return int(self.emitted[last]) if last < len(self.emitted) else None


def cluster_series(spec: ClusterSpec, order: int, symbols: Sequence[str],
                   data: dict[str, SymbolData], start_ms: int,
                   end_ms: int) -> ClusterSeries:
    """Aligned oriented closes, the batch TDI, and the provisional statistics per bar."""
    members = tuple(sorted(spec.symbols))
    labels = data[members[0]].m30_labels
    for s in members[1:]:
        labels = np.intersect1d(labels, data[s].m30_labels, assume_unique=True)
    labels = labels[labels * 1000 + M30_MS <= end_ms]
    quotes = np.column_stack([data[s].m30_mid[np.searchsorted(data[s].m30_labels, labels)]
                              for s in members])
    signs = np.array([spec.orientation[s] for s in members])
    closes = orient(quotes, signs)
    p = spec.tdi
    frame = tdi_batch(pd.DataFrame(closes, columns=list(members)), p)
    k = len(members) * (len(members) - 1) // 2
    first_live = int(np.searchsorted(labels, start_ms // 1000))
    series = ClusterSeries(
        spec, order, members, np.array([symbols.index(s) for s in members]), signs,
        labels * 1000 + M30_MS, first_live, closes, frame["tdi"].to_numpy(),
        frame["eigengap"].to_numpy(), frame.iloc[:, 4:4 + k].to_numpy(),
        frame.iloc[:, 4 + k:4 + 2 * k].to_numpy())
    ii, jj = np.triu_indices(len(members), 1)
    ratios = np.log(closes)[:, ii] - np.log(closes)[:, jj]
    rc = np.full_like(ratios, np.nan)
    rc[p.tau_f:] = ratios[p.tau_f:] - ratios[:-p.tau_f]
    phi = pd.Series(frame["phi"].to_numpy())
    window = phi.rolling(p.tau_q)
    series.stats = {"ii": ii, "jj": jj,
             "lag": np.vstack([np.full((p.tau_f - 1, k), np.nan), ratios])[:len(ratios)],
             "mean": pd.DataFrame(rc).rolling(p.tau_s).mean().to_numpy(),
             "med": window.quantile(0.5).to_numpy(), "hi": window.quantile(Q_HIGH).to_numpy(),
             "lo": window.quantile(Q_LOW).to_numpy(), "phi": phi.to_numpy()}
    return series


def provisional_tdi(c: ClusterSeries, times: np.ndarray, mids: np.ndarray) -> np.ndarray:
    """The engine's provisional TDI at each of ``times`` (``TdiStream.provisional``): the
    current mids against the ratio ``tau_f - 1`` bars back, standardised and projected
    with the last bar's mean, std and v1, normalised by the phi quantiles up to that bar."""
    bar = np.searchsorted(c.emitted, times, "right") - 1
    ok = bar >= 0
    b = np.maximum(bar, 0)
    stats = c.stats
    logp = np.log(orient(mids[:, c.columns], c.signs))
    ratio = logp[:, stats["ii"]] - logp[:, stats["jj"]]
    z = (ratio - stats["lag"][b] - stats["mean"][b]) / c.sd[b]
    phi = np.einsum("ij,ij->i", z, c.v1[b])
    med, hi, lo = stats["med"][b], stats["hi"][b], stats["lo"][b]
    den = np.where(phi >= med, hi - med, med - lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (phi - med) / den
    bad = ~ok | ~np.isfinite(stats["phi"][b]) | (den == 0) | ~np.isfinite(out)
    return np.where(bad, np.nan, out)
