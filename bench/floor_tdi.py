"""The floor: the backtest's strategy as one vectorised numpy pass, to judge the product by.

A backtest of the product steps an engine minute by minute through a simulated terminal.
This pass computes the same trades from the same files without either, so that "the
product takes N times the floor" measures the cost of the product's machinery, not of the
strategy.  It is fast because it is vectorised, not because it does less:

- **reading**: each HistData M1 file parsed by ``pyarrow.csv`` (timestamps parsed in C),
  EST + 5 h = UTC, duplicate stamps dropped (the first kept), rows going back in time and
  rows whose prices are not finite, positive and ordered (H >= max(O, C), L <= min(O, C))
  dropped, as the product's reader drops them;
- **ticks**: the backtest's own "1 minute OHLC" ticks (``app.replay_feed.bars_to_ticks``:
  four per bar at +0/+20/+40/+59 s, asks from the backtest's spread model), clipped to the
  period; the bars before the start are the warm-up, as the simulator's history gives them
  to the engine (M30 rates, spreads rounded to whole points);
- **M30**: the signal bars from the ticks (close = the last bid, spread = the mean of
  ask - bid over the bucket's ticks, summed in tick order as the engine's kernel does,
  mid = close + spread / 2), a cluster bar where every member has one;
- **TDI**: ``engine.tdi.tdi_batch`` (the compiled batch kernel) over the warm-up and the
  period's bars, and the provisional TDI of every M1 close (the last bar's RC mean, std,
  v1 and phi quantiles, vectorised over all minutes);
- **entries** at the cluster bars: LONG below -E, SHORT above +E, the eigengap lock, the
  basket of ``engine.cluster.basket_exposures`` sized so that ``hard_stop_atr`` basket ATRs
  lose ``risk_per_trade`` of the equity (the simulator's equity: balance, floating P&L at
  bid/ask, swaps), lots rounded by ``engine.cluster.size_basket``, the rounding check; the
  cooldown after HS/TS, the open-risk cap, the currency cap and the lot cap; no entry
  while the simulated broker is closed;
- **exits**, vectorised over the minutes a basket is open: at each M1 close (a minute
  after every minute with a bar of any symbol, at the quotes of that moment) MR/OS on the
  provisional TDI, then TP and HS on the engine's marked P&L; at each cluster bar MR, OS,
  TP, HS, TS and TO; an exit the closed market refuses waits, as the engine's does;
- **P&L** at the fills (ask to buy, bid to sell), the simulator's commission per lot and
  side, its swaps at each server midnight, its conversion to the account currency, in
  cents.

Left out (stated in the output too): the news filter (the backtest runs without a
calendar unless given one), the account and cluster daily-loss stops, the drawdown halt,
the margin-level floor and the broker's margin check, and the journal.  ``compare`` prints
the engine's refusals so that a gate the floor does not model is seen when it fired.

Run by hand (needs ../shared/data):

    python bench/floor_tdi.py                 # timing: Q2 2019 and the year, by stage
    python bench/floor_tdi.py compare         # the engine and the floor on a quiet span
"""

from __future__ import annotations

import argparse
import heapq
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from app.backtest.spec import warmup_days
from app.replay_feed import ReplayConfig, bars_to_ticks, filled_spreads
from app.sessions import fit_clusters
from app.spreads import DEFAULT_SPREAD_MODEL
from engine.baskets import add_exposure
from engine.cluster import ClusterSpec, Direction, LegQuote, basket_exposures, size_basket
from engine.config import EngineConfig, load_engine_config
from engine.entries import MAX_ROUNDING_IMBALANCE
from engine.fx import CurrencyConverter
from engine.space import gross_notional, net_numeraire_exposure, orient
from engine.tdi import Q_HIGH, Q_LOW, tdi_batch
from engine.ticks import BAR_DTYPE
from mt5bridge.sim.account import cents
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.sessions import MarketHours
from mt5bridge.sim.symbols import SYMBOL_SPECS
from storage.histdata import histdata_symbol

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LEFT_OUT = ("news filter, daily-loss stops, drawdown halt, margin floor and the broker's "
            "margin check, journal")
M1_MS = 60_000
M30_MS = 1_800_000
DAY_MS = 86_400_000
_EST_TO_UTC_S = 5 * 3600
_COLUMNS = ["time", "open", "high", "low", "close", "volume"]
_STOP_CODES = ("HS", "TS")
_M30_CODES = ("", "MR", "OS", "TP", "HS", "TS", "TO")


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class FloorTrade:
    """One basket of the floor: what the engine's trades list says of it."""

    cluster: str
    direction: str
    entry_ms: int
    exit_ms: int
    code: str
    pnl: float
    entry_tdi: float
    lots: tuple[tuple[str, float], ...]


@dataclass
class FloorResult:
    """The floor's trades, its wall time (``seconds``) and each stage's share of it."""

    trades: list[FloorTrade]
    seconds: float
    stages: dict[str, float]
    ticks: int
    clusters: tuple[str, ...]
    start_ms: int
    end_ms: int
    refusals: Counter = field(default_factory=Counter)


# ------------------------------------------------------------------------------ reading


def read_m1(path: Path) -> np.ndarray:
    """A HistData M1 file as ``BAR_DTYPE`` bars in UTC (spread NaN: bids only)."""
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
    keep = ~pd.Index(t).duplicated(keep="first")
    with np.errstate(invalid="ignore"):
        keep &= (np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
                 & (lo > 0) & (h >= np.maximum(o, c)) & (lo <= np.minimum(o, c)))
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
    """Every HistData file of ``folder`` by symbol (several files of a symbol joined)."""
    parts: dict[str, list[np.ndarray]] = {}
    for path in sorted(folder.iterdir()):
        symbol = histdata_symbol(path)
        if symbol is not None:
            parts.setdefault(symbol, []).append(read_m1(path))
    return {s: np.sort(np.concatenate(p), order="time", kind="stable")
            for s, p in sorted(parts.items())}


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
    """The backtest's ticks of the period (``bars_to_ticks``) and the warm-up bars."""
    fill = config.symbol_spread(symbol).fill
    ms = bars["time"] * 1000
    live = bars[(ms >= start_ms) & (ms <= end_ms)]
    warm = bars[(ms < start_ms) & (ms >= start_ms - warm_ms)]
    ticks = bars_to_ticks(live, fill)
    ticks = ticks[ticks["time_msc"] <= end_ms]
    return SymbolData(ticks["time_msc"], ticks["bid"], ticks["ask"], warm,
                      filled_spreads(warm, fill), live["time"] * 1000)


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
    provisional: np.ndarray = field(default_factory=lambda: np.empty(0))

    def bar_limit(self, bar: int) -> int | None:
        """When the time stop closes a basket opened at ``bar`` at the latest (None: after
        the data)."""
        last = bar + self.spec.stops.time_stop_bars
        return int(self.emitted[last]) if last < len(self.emitted) else None


def cluster_series(spec: ClusterSpec, order: int, symbols: Sequence[str],
                   data: dict[str, SymbolData], start_ms: int,
                   end_ms: int) -> tuple[ClusterSeries, dict]:
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
    stats = {"ii": ii, "jj": jj,
             "lag": np.vstack([np.full((p.tau_f - 1, k), np.nan), ratios])[:len(ratios)],
             "mean": pd.DataFrame(rc).rolling(p.tau_s).mean().to_numpy(),
             "med": window.quantile(0.5).to_numpy(), "hi": window.quantile(Q_HIGH).to_numpy(),
             "lo": window.quantile(Q_LOW).to_numpy(), "phi": phi.to_numpy()}
    return series, stats


def provisional_tdi(c: ClusterSeries, stats: dict, times: np.ndarray,
                    mids: np.ndarray) -> np.ndarray:
    """The engine's provisional TDI at each of ``times`` (``TdiStream.provisional``): the
    current mids against the ratio ``tau_f - 1`` bars back, standardised and projected
    with the last bar's mean, std and v1, normalised by the phi quantiles up to that bar."""
    bar = np.searchsorted(c.emitted, times, "right") - 1
    ok = bar >= 0
    b = np.maximum(bar, 0)
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


# ------------------------------------------------------------------------------ the account


@dataclass
class Leg:
    """One filled leg: its column in the quotes, signed lots, fill and entry commission."""

    symbol: str
    column: int
    lots: float
    price: float
    commission_cents: int

    @property
    def is_buy(self) -> bool:
        return self.lots > 0


@dataclass
class Basket:
    """An open basket and, once decided, when and how it closes."""

    cluster: ClusterSeries
    bar: int
    direction: Direction
    opened_ms: int
    budget: float
    legs: list[Leg]
    exit_ms: int = -1
    exit_phase: int = 0
    code: str = ""


class Account:
    """The simulated broker's account as the engine sees it (``mt5bridge.sim``): a balance
    in cents, the floating profit at bid/ask converted at the side's rate, swaps charged at
    each server midnight, commission per lot and side."""

    def __init__(self, symbols: Sequence[str], quotes: Quotes) -> None:
        self.config = SimConfig()
        self.balance_cents = cents(self.config.balance)
        self.quotes = quotes
        self.symbols = tuple(symbols)
        #: currency -> (column of its dollar quote, whether the dollar is that symbol's base)
        self._direct: dict[str, tuple[int, bool]] = {}
        for i, s in enumerate(symbols):
            spec = SYMBOL_SPECS[s]
            if spec.quote == self.config.currency:
                self._direct.setdefault(spec.base, (i, False))
            elif spec.base == self.config.currency:
                self._direct.setdefault(spec.quote, (i, True))

    def rate(self, currency: str, positive: bool, bid: np.ndarray, ask: np.ndarray) -> float:
        """One unit of ``currency`` in dollars at the side's price (``Converter.rate``)."""
        if currency == self.config.currency:
            return 1.0
        i, quoted_in_it = self._direct[currency]
        if not quoted_in_it:  # XXXUSD: the currency is the base
            return float(bid[i] if positive else ask[i])
        return 1.0 / float(ask[i] if positive else bid[i])

    def profit(self, leg: Leg, bid: np.ndarray, ask: np.ndarray) -> float:
        """The leg's profit (unrounded) if it closed at these quotes."""
        spec = SYMBOL_SPECS[leg.symbol]
        price = bid[leg.column] if leg.is_buy else ask[leg.column]
        move = (price - leg.price) if leg.is_buy else (leg.price - price)
        amount = move * abs(leg.lots) * spec.contract_size
        return 0.0 if amount == 0.0 else amount * self.rate(spec.quote, amount > 0, bid, ask)

    def commission_cents(self, lots: float) -> int:
        return -cents(self.config.commission_per_lot * abs(lots))

    def swap_cents(self, leg: Leg, opened_ms: int, until_ms: int) -> int:
        """The swap charged at the server midnights in (opened, until]."""
        tz = self.config.server_tz
        spec = SYMBOL_SPECS[leg.symbol]
        total = 0
        boundary = tz.next_midnight_utc_ms(opened_ms)
        while boundary <= until_ms:
            day = tz.server_weekday(boundary - 1)
            if day not in (0, 6):  # MT5: Sunday 0, Saturday 6
                nights = 3 if day == spec.swap_rollover3days else 1
                rate = spec.swap_long if leg.is_buy else spec.swap_short
                amount = rate * spec.point * spec.contract_size * abs(leg.lots) * nights
                if amount:
                    bid, ask = self.quotes.at(boundary - 1)
                    total += cents(amount * self.rate(spec.quote, amount > 0, bid, ask))
            boundary = tz.next_midnight_utc_ms(boundary)
        return total

    def equity(self, open_baskets: Sequence[Basket], t_ms: int) -> float:
        """``account_info().equity`` at ``t_ms``: balance + floating profit + swaps."""
        row = self.quotes.row(t_ms)
        bid, ask = self.quotes.bid[row], self.quotes.ask[row]
        legs = [(b, leg) for b in open_baskets for leg in b.legs]
        profit = round(sum(round(self.profit(leg, bid, ask), 2) for _, leg in legs), 2)
        swaps = sum(self.swap_cents(leg, b.opened_ms, t_ms) for b, leg in legs)
        return round(self.balance_cents / 100 + profit + swaps / 100, 2)

    def close(self, basket: Basket) -> float:
        """Book the basket's closing deals; its P&L as the engine's legs add it up."""
        row = self.quotes.row(basket.exit_ms)
        bid, ask = self.quotes.bid[row], self.quotes.ask[row]
        pnl = 0.0
        for leg in basket.legs:
            profit = cents(self.profit(leg, bid, ask))
            exit_commission = self.commission_cents(leg.lots)
            swap = self.swap_cents(leg, basket.opened_ms, basket.exit_ms)
            self.balance_cents += profit + exit_commission + swap
            commission = leg.commission_cents / 100 + exit_commission / 100
            pnl += profit / 100 + swap / 100 + commission
        return pnl


# ------------------------------------------------------------------------------ exits


class Exits:
    """Where each basket closes: every check it meets, vectorised, the first that fires."""

    def __init__(self, quotes: Quotes, m1_times: np.ndarray, fx: CurrencyConverter,
                 end_ms: int) -> None:
        self.quotes = quotes
        self.m1_times = m1_times
        self.fx = fx
        self.end_ms = end_ms
        self.hours = MarketHours()
        self._quote_column = {s: self._value_route(fx.parts(s)[1], quotes.symbols)
                              for s in quotes.symbols}

    @staticmethod
    def _value_route(currency: str, symbols: Sequence[str]) -> tuple[int, int]:
        """How ``CurrencyConverter.value`` values a currency: (column, +1 or -1), or
        (-1, 0) for the account currency."""
        if currency == "USD":
            return -1, 0
        if f"{currency}USD" in symbols:
            return symbols.index(f"{currency}USD"), 1
        return symbols.index(f"USD{currency}"), -1

    def pnl(self, basket: Basket, rows: np.ndarray) -> np.ndarray:
        """``Basket.net_pnl`` at the given quote rows: each open leg at the price a close
        would get, its quote currency at the mids, the entry and exit commission."""
        bid, ask, mid = self.quotes.bid[rows], self.quotes.ask[rows], self.quotes.mid[rows]
        total = np.zeros(len(rows))
        for leg in basket.legs:
            column, sign = self._quote_column[leg.symbol]
            value = 1.0 if sign == 0 else (mid[:, column] if sign > 0 else 1.0 / mid[:, column])
            price = bid[:, leg.column] if leg.is_buy else ask[:, leg.column]
            total = total + leg.lots * SYMBOL_SPECS[leg.symbol].contract_size * (
                price - leg.price) * value
        paid = sum(leg.commission_cents / 100 for leg in basket.legs)
        return 0 + total + (paid + paid)

    def _events(self, basket: Basket, until_ms: int) -> tuple[np.ndarray, ...]:
        """Every check of the basket from its entry to ``until_ms``: (time, phase, code),
        bar closes (phase 0) before the M1 close of the same moment (phase 1)."""
        c, b = basket.cluster, basket.bar
        spec = c.spec
        last = int(np.searchsorted(c.emitted, until_ms, "right"))
        bars = np.arange(b + 1, last)
        t30 = c.emitted[bars]
        g0 = int(np.searchsorted(self.m1_times, c.emitted[b]))
        g1 = int(np.searchsorted(self.m1_times, until_ms, "right"))
        t1 = self.m1_times[g0:g1]
        pnl30 = self.pnl(basket, np.searchsorted(self.quotes.times, t30))
        pnl1 = self.pnl(basket, np.searchsorted(self.quotes.times, t1))
        long = basket.direction is Direction.LONG
        level = spec.entry if spec.overshoot == "E" else spec.exit_band
        tp, hs = spec.stops.take_profit_r * basket.budget, -basket.budget

        def reversion(score: np.ndarray) -> list[np.ndarray]:
            with np.errstate(invalid="ignore"):
                return [np.abs(score) < spec.exit_band, score >= level if long else score <= -level]

        tdi = c.tdi[bars]
        with np.errstate(invalid="ignore"):
            against = (-tdi if long else tdi) >= spec.stops.tdi_stop
        code30 = np.select([*reversion(tdi), pnl30 >= tp, pnl30 <= hs, against,
                            bars - b >= spec.stops.time_stop_bars], [1, 2, 3, 4, 5, 6], 0)
        code1 = np.select([*reversion(c.provisional[g0:g1]), pnl1 >= tp, pnl1 <= hs],
                          [1, 2, 3, 4], 0)
        times = np.concatenate([t30, t1])
        phase = np.concatenate([np.zeros(len(t30), int), np.ones(len(t1), int)])
        order = np.lexsort((phase, times))
        return times[order], phase[order], np.concatenate([code30, code1])[order]

    def decide(self, basket: Basket) -> None:
        """Set the basket's exit: the first check that fires, the market willing."""
        c = basket.cluster
        stop = c.bar_limit(basket.bar)
        until = self.end_ms if stop is None else stop
        times, phase, codes = self._events(basket, until)
        fired = np.flatnonzero(codes)
        if not len(fired):
            return
        i = int(fired[0])
        if self.hours.is_open(int(times[i])):
            basket.exit_ms, basket.exit_phase = int(times[i]), int(phase[i])
            basket.code = _M30_CODES[int(codes[i])]
            return
        self._wait_for_market(basket, int(times[i]), _M30_CODES[int(codes[i])])

    def _wait_for_market(self, basket: Basket, at_ms: int, code: str) -> None:
        """An exit the closed market refused: retried at each M1 close under its code, a
        bar close's own exit replacing it, until the market takes it (``engine.exits``)."""
        times, phase, codes = self._events(basket, min(self.end_ms, at_ms + 5 * DAY_MS))
        for t, ph, k in zip(times.tolist(), phase.tolist(), codes.tolist(), strict=True):
            if (t, ph) <= (at_ms, 0):
                continue
            if ph == 0 and k:
                code = _M30_CODES[k]
            if (ph == 1 or k) and self.hours.is_open(t):
                basket.exit_ms, basket.exit_phase, basket.code = t, ph, code
                return


# ------------------------------------------------------------------------------ entries


class Refused(Exception):
    """An entry gate said no (its code, as the engine journals it)."""


class Floor:
    """Entries in the engine's order (time, then the clusters' order at one bar close),
    each basket's exit decided when it opens, the account booked in between."""

    def __init__(self, config: EngineConfig, series: list[ClusterSeries], quotes: Quotes,
                 exits: Exits) -> None:
        self.config = config
        self.series = series
        self.quotes = quotes
        self.exits = exits
        self.fx = exits.fx
        self.account = Account(quotes.symbols, quotes)
        self.open: dict[str, Basket] = {}
        self.cooldown: dict[str, int] = {}
        self.trades: list[FloorTrade] = []
        self.refusals: Counter = Counter()
        self.exit_seconds = 0.0
        self._closing: list[tuple[int, int, int, int, Basket]] = []
        self._opened = 0

    def candidates(self, c: ClusterSeries) -> np.ndarray:
        """The cluster's bars of the period whose TDI is beyond E."""
        live = np.arange(c.first_live, len(c.emitted))
        with np.errstate(invalid="ignore"):
            return live[np.abs(c.tdi[live]) > c.spec.entry]

    def run(self) -> list[FloorTrade]:
        cands = [self.candidates(c) for c in self.series]
        pos = [0] * len(self.series)
        heap = [(int(c.emitted[cands[i][0]]), c.order, i)
                for i, c in enumerate(self.series) if len(cands[i])]
        heapq.heapify(heap)
        while heap:
            t, order, i = heapq.heappop(heap)
            self._book_until((t, 0, order))
            c = self.series[i]
            basket = self._try_entry(c, int(cands[i][pos[i]]), t)
            pos[i] += 1
            if basket is not None:
                if basket.exit_ms < 0:
                    continue  # open at the end of the data: nothing more for this cluster
                pos[i] = int(np.searchsorted(c.emitted[cands[i]], basket.exit_ms, "right"))
            if pos[i] < len(cands[i]):
                heapq.heappush(heap, (int(c.emitted[cands[i][pos[i]]]), order, i))
        self._book_until((np.iinfo(np.int64).max, 0, 0))
        for basket in self.open.values():
            self._record(basket, math.nan)
        return sorted(self.trades, key=lambda tr: (tr.entry_ms, tr.cluster))

    def _book_until(self, key: tuple[int, int, int]) -> None:
        """Close in the account every basket whose exit comes before ``key``."""
        while self._closing and self._closing[0][:3] < key:
            *_, basket = heapq.heappop(self._closing)
            pnl = self.account.close(basket)
            del self.open[basket.cluster.spec.name]
            if basket.code in _STOP_CODES:
                ceil = -(-basket.exit_ms // M30_MS) * M30_MS
                self.cooldown[basket.cluster.spec.name] = \
                    ceil + self.config.risk.cooldown_bars * M30_MS
            self._record(basket, pnl)

    def _record(self, basket: Basket, pnl: float) -> None:
        c = basket.cluster
        self.trades.append(FloorTrade(
            c.spec.name, basket.direction.value, basket.opened_ms, basket.exit_ms, basket.code,
            pnl, float(c.tdi[basket.bar]), tuple((leg.symbol, leg.lots) for leg in basket.legs)))

    def _try_entry(self, c: ClusterSeries, b: int, t: int) -> Basket | None:
        direction = Direction.LONG if c.tdi[b] < 0 else Direction.SHORT
        try:
            if not c.gap[b] >= c.spec.min_eigengap:
                raise Refused("EIGENGAP")
            budget, equity, lots, exposure = self._size(c, b, direction, t)
            self._check_risk(c, t, budget, equity, lots, exposure)
            if not self.exits.hours.is_open(t):
                raise Refused("MARKET_CLOSED")
        except Refused as refused:
            self.refusals[str(refused)] += 1
            return None
        return self._open(c, b, direction, t, budget, lots)

    def _size(self, c: ClusterSeries, b: int, direction: Direction,
              t: int) -> tuple[float, float, dict[str, float], dict[str, float]]:
        """``Entries._size``: lots whose hard stop loses the risk budget, rounded."""
        spec = c.spec
        exposures = basket_exposures(c.v1[b], c.sd[b], c.symbols, direction)
        n = spec.stops.atr_bars
        if b < n:
            raise Refused("NO_ATR")
        closes = c.closes[b - n:b + 1]
        weights = np.array([exposures[s] for s in c.symbols])
        atr = float(np.mean(np.abs((closes[1:] / closes[:-1] - 1.0) @ weights)))
        equity = self.account.equity(list(self.open.values()), t)
        budget = self.config.risk.risk_per_trade * equity
        gross = budget / (spec.stops.hard_stop_atr * atr)
        mids = self.quotes.mid[self.quotes.row(t)]
        quotes = {s: LegQuote(s, self.fx.value(self.fx.parts(s)[0], mids),
                              SYMBOL_SPECS[s].contract_size, SYMBOL_SPECS[s].volume_min,
                              SYMBOL_SPECS[s].volume_max, SYMBOL_SPECS[s].volume_step)
                  for s in exposures}
        size = size_basket(exposures, gross, quotes, spec.orientation)
        lots = {leg.symbol: leg.lots for leg in size.legs if leg.lots != 0}
        notionals = {leg.symbol: leg.notional for leg in size.legs if leg.lots != 0}
        net = net_numeraire_exposure(notionals, spec.numeraire)
        if spec.space == "currency":
            unbalanced = abs(net) > MAX_ROUNDING_IMBALANCE * gross_notional(notionals)
        else:  # the rounded legs' net against the net the model asked for
            wanted = sum(exposures.values()) * gross
            unbalanced = abs(sum(notionals.values()) - wanted) > MAX_ROUNDING_IMBALANCE * gross
        if len(lots) < 2 or unbalanced:
            raise Refused("ROUNDING")
        exposure: dict[str, float] = {}
        for leg in size.legs:
            add_exposure(exposure, leg.symbol, leg.lots * quotes[leg.symbol].contract_size,
                         quotes[leg.symbol].usd_per_base, self.fx.instruments.get(leg.symbol))
        return budget, equity, lots, exposure

    def _check_risk(self, c: ClusterSeries, t: int, budget: float, equity: float,
                    lots: dict[str, float], exposure: dict[str, float]) -> None:
        """The risk manager's cooldown, open-risk cap, currency cap and lot cap."""
        risk = self.config.risk
        if t < self.cooldown.get(c.spec.name, -1):
            raise Refused("COOLDOWN")
        if sum(b.budget for b in self.open.values()) + budget > risk.max_open_risk * equity:
            raise Refused("OPEN_RISK_CAP")
        held = self._open_exposure(t)
        for currency in sorted(exposure):
            added = exposure[currency]
            if added and abs(held.get(currency, 0.0) + added) > \
                    risk.max_currency_exposure * equity:
                raise Refused("CURRENCY_CAP")
        if any(abs(v) > risk.max_lots_per_leg for v in lots.values()):
            raise Refused("MAX_LOTS")

    def _open_exposure(self, t: int) -> dict[str, float]:
        mids = self.quotes.mid[self.quotes.row(t)]
        out: dict[str, float] = {}
        for basket in self.open.values():
            mine: dict[str, float] = {}
            for leg in basket.legs:
                add_exposure(mine, leg.symbol, leg.lots * SYMBOL_SPECS[leg.symbol].contract_size,
                             self.fx.value(self.fx.parts(leg.symbol)[0], mids),
                             self.fx.instruments.get(leg.symbol))
            for ccy, value in mine.items():
                out[ccy] = out.get(ccy, 0.0) + value
        return out

    def _open(self, c: ClusterSeries, b: int, direction: Direction, t: int, budget: float,
              lots: dict[str, float]) -> Basket:
        row = self.quotes.row(t)
        legs = []
        for symbol, volume in lots.items():
            column = self.quotes.symbols.index(symbol)
            price = self.quotes.ask[row, column] if volume > 0 else self.quotes.bid[row, column]
            legs.append(Leg(symbol, column, volume, float(price),
                            self.account.commission_cents(volume)))
        basket = Basket(c, b, direction, t, budget, legs)
        t0 = time.perf_counter()
        self.exits.decide(basket)
        self.exit_seconds += time.perf_counter() - t0
        self.open[c.spec.name] = basket
        if basket.exit_ms >= 0:
            heapq.heappush(self._closing, (basket.exit_ms, basket.exit_phase,
                                           c.order if basket.exit_phase == 0 else 0,
                                           self._opened, basket))
        self._opened += 1
        return basket


# ------------------------------------------------------------------------------ the pass


def period(bars: dict[str, np.ndarray], warm_days: int, start: datetime | None,
           end: datetime | None) -> tuple[int, int]:
    """The backtest's traded period (``app.backtest.data._period``): from the first UTC
    midnight after the warm-up, or ``start`` if later, to the shortest data's end."""
    first = max(int(b["time"][0]) for b in bars.values()) * 1000
    earliest = -(-(first + warm_days * DAY_MS) // DAY_MS) * DAY_MS
    data_end = min(int(b["time"][-1]) for b in bars.values()) * 1000 + M1_MS
    start_ms = earliest if start is None else max(int(start.timestamp() * 1000), earliest)
    end_ms = data_end if end is None else min(int(end.timestamp() * 1000), data_end)
    if end_ms <= start_ms:
        raise ValueError("empty period: the data does not cover it after the warm-up")
    return start_ms, end_ms


def run_floor(data_dir: Path, start: datetime | None = None, end: datetime | None = None,
              config: EngineConfig | None = None,
              spread_model: str = DEFAULT_SPREAD_MODEL) -> FloorResult:
    """The floor over the HistData files of ``data_dir`` and every configured cluster they
    feed, for the backtest's period of ``start``/``end`` (None: as the backtest's)."""
    clock = _Stages()
    bars = read_folder(Path(data_dir))
    clock.lap("reading")
    config = fit_clusters(config or load_engine_config(), set(bars))
    warm = warmup_days(config)
    start_ms, end_ms = period(bars, warm, start, end)
    replay = ReplayConfig(warmup_days=warm, spread_model=spread_model)
    symbols = list(bars)
    data = {s: symbol_ticks(s, bars[s], replay, start_ms, end_ms, warm * DAY_MS)
            for s in symbols}
    clock.lap("ticks")
    for s in symbols:
        add_m30(s, data[s])
    clock.lap("M30")
    made = [cluster_series(spec, i, symbols, data, start_ms, end_ms)
            for i, spec in enumerate(config.clusters)]
    clock.lap("TDI")
    m1_times = np.unique(np.concatenate([d.minutes + M1_MS for d in data.values()]))
    m1_times = m1_times[m1_times <= end_ms]
    times = np.unique(np.concatenate([m1_times, *(c.emitted for c, _ in made)]))
    quotes = Quotes(symbols, data, times)
    rows = np.searchsorted(times, m1_times)
    for c, stats in made:
        c.provisional = provisional_tdi(c, stats, m1_times, quotes.mid[rows])
    exits = Exits(quotes, m1_times, CurrencyConverter(symbols, SimConfig().currency), end_ms)
    clock.lap("exits")
    floor = Floor(config, [c for c, _ in made], quotes, exits)
    trades = floor.run()
    clock.lap("entries")
    clock.stages["entries"] -= floor.exit_seconds
    clock.stages["exits"] += floor.exit_seconds
    return FloorResult(trades, clock.total(), clock.stages,
                       int(sum(len(d.ticks_ms) for d in data.values())),
                       tuple(c.spec.name for c, _ in made), start_ms, end_ms, floor.refusals)


class _Stages:
    """Wall time per stage of one pass."""

    def __init__(self) -> None:
        self.t0 = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self.last
        self.last = now

    def total(self) -> float:
        return self.last - self.t0


# ------------------------------------------------------------------------------ comparing


Row = tuple[str, str, int, int, str, float]


def engine_rows(trades: pd.DataFrame) -> list[Row]:
    """The backtest's trades as (cluster, direction, entry ms, exit ms, code, pnl)."""
    rows = []
    for r in trades.itertuples():
        exit_ms = -1 if r.exit_time is None or pd.isna(r.exit_time) else \
            int(pd.Timestamp(r.exit_time).timestamp() * 1000)
        rows.append((r.cluster, r.direction, int(pd.Timestamp(r.entry_time).timestamp() * 1000),
                     exit_ms, r.exit_code or "", float(r.pnl) if r.pnl is not None else math.nan))
    return sorted(rows, key=lambda row: (row[2], row[0]))


def floor_rows(trades: Sequence[FloorTrade]) -> list[Row]:
    return [(t.cluster, t.direction, t.entry_ms, t.exit_ms, t.code, t.pnl) for t in trades]


def differences(engine: list[Row], floor: list[Row], cents_off: float = 0.005) -> list[str]:
    """What differs between two trade lists: times and codes exactly, P&L to the cent."""
    out = []
    if len(engine) != len(floor):
        out.append(f"{len(engine)} engine trades, {len(floor)} floor trades")
    for i, (e, f) in enumerate(zip(engine, floor, strict=False)):
        same = e[:5] == f[:5] and (
            (math.isnan(e[5]) and math.isnan(f[5])) or abs(e[5] - f[5]) <= cents_off)
        if not same:
            out.append(f"trade {i + 1}: engine {_row_text(e)} | floor {_row_text(f)}")
    return out


def _row_text(row: Row) -> str:
    cluster, direction, entry, exit_ms, code, pnl = row
    closed = _stamp(exit_ms) if exit_ms >= 0 else "open"
    return (f"{cluster:<12} {direction:<5} {_stamp(entry)} {closed:<16} {code or '-':<3} "
            f"{pnl:>10.2f}")


def _stamp(ms: int) -> str:
    return f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M}"


def compare(data_dir: Path, start: datetime, end: datetime,
            config: EngineConfig | None = None) -> int:
    """The product's backtest and the floor on one span, side by side; 0 when they agree."""
    from app.backtest import BacktestSpec, run_backtest

    config = config or load_engine_config()
    t0 = time.perf_counter()
    result = run_backtest(BacktestSpec(config=config, source="files", paths=(data_dir,),
                                       start=start, end=end))
    product = time.perf_counter() - t0
    floor = run_floor(data_dir, start, end, config)
    engine, mine = engine_rows(result.trades), floor_rows(floor.trades)
    print(f"{_stamp(floor.start_ms)} .. {_stamp(floor.end_ms)}, clusters "
          f"{', '.join(floor.clusters)}; product {product:.1f} s, floor {floor.seconds:.2f} s")
    print(f"{'':4} {'engine':<68}| floor")
    for i in range(max(len(engine), len(mine))):
        left = _row_text(engine[i]) if i < len(engine) else ""
        right = _row_text(mine[i]) if i < len(mine) else ""
        print(f"{i + 1:>4} {left:<68}| {right}")
    print(f"engine refusals: {dict(sorted(result.stats.refusals.items()))}")
    print(f"floor refusals:  {dict(sorted(floor.refusals.items()))}")
    print(f"left out by the floor: {LEFT_OUT}")
    diffs = differences(engine, mine)
    print("the trades agree: entry and exit times and codes exactly, P&L to the cent"
          if not diffs else f"{len(diffs)} difference(s):\n  " + "\n  ".join(diffs))
    return 1 if diffs else 0


# ------------------------------------------------------------------------------ timing


def timing(data_dir: Path, runs: int) -> None:
    """Q2 2019 and the year: the median wall time of ``runs`` passes, by stage."""
    spans = {"Q2 2019": (datetime(2019, 4, 1, tzinfo=UTC), datetime(2019, 7, 1, tzinfo=UTC)),
             "year 2019": (None, None)}
    for label, (start, end) in spans.items():
        results = [run_floor(data_dir, start, end) for _ in range(runs)]
        best = sorted(results, key=lambda r: r.seconds)[len(results) // 2]
        stages = " | ".join(f"{k} {v:.2f} s" for k, v in best.stages.items())
        print(f"{label}, {len(best.clusters)} clusters ({', '.join(best.clusters)}): "
              f"{best.seconds:.2f} s (median of {runs}); {len(best.trades)} baskets; "
              f"{best.ticks:,} ticks")
        print(f"  {stages}")
    print(f"left out: {LEFT_OUT}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", choices=["timing", "compare"], default="timing")
    parser.add_argument("--data", type=Path, default=DATA / "fx_m1")
    parser.add_argument("--runs", type=int, default=3, help="timing: passes per span")
    parser.add_argument("--from", dest="start", default="2019-05-06",
                        help="compare: the span's first day (UTC)")
    parser.add_argument("--to", dest="end", default="2019-06-01",
                        help="compare: the day after its last")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}: nothing to run")
        return 0
    if args.mode == "compare":
        day = timedelta(0)
        return compare(args.data, datetime.fromisoformat(args.start).replace(tzinfo=UTC) + day,
                       datetime.fromisoformat(args.end).replace(tzinfo=UTC))
    timing(args.data, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
