"""What the engine reads from the terminal once, at start: the account it trades, symbol
specifications and the history (in each cluster's signal timeframe) that warms every
cluster's TDI up before the first live bar."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.bars import align_closes
from engine.cluster import LegQuote
from engine.fx import CurrencyConverter
from engine.instruments import Instrument, instrument_for
from engine.market import MarketState, utc
from engine.model import RunMode
from engine.ports import Terminal
from engine.records import AccountIdentity
from engine.signals import ClusterSignal
from engine.ticks import BAR_DTYPE, SYMBOL_BAR_DTYPE
from engine.timeframes import (
    MT5_TIMEFRAME,
    TIMEFRAME_NAMES,
    TIMEFRAME_SECONDS,
    buckets,
    calendar_days,
    resample_to,
    source_timeframe,
)

#: MetaTrader 5's code of the M30 timeframe (``copy_rates_range``).
TIMEFRAME_M30 = MT5_TIMEFRAME["M30"]
DAY_MS = 86_400_000


def account_identity(terminal: Terminal, mode: RunMode) -> AccountIdentity | None:
    """The account the terminal is logged in to, as a run of ``mode`` trades it (None when
    the terminal cannot say: not connected, or no account)."""
    info = terminal.account_info()
    if info is None or not str(info.server) or not str(info.currency):
        return None
    return AccountIdentity(mode, str(info.server), int(info.login), str(info.currency))


@dataclass
class SymbolBook:
    """Each traded symbol as the terminal specifies it: the point (spreads in points, price
    digits) and the volume limits sizing rounds to.  ``usd_per_base`` is left NaN here:
    sizing fills it with the conversion rate of the moment.  ``instruments``: each symbol's
    asset and price currency, from the broker's ``currency_profit``
    (``engine.instruments``)."""

    points: dict[str, float] = field(default_factory=dict)
    quotes: dict[str, LegQuote] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)

    def contract_sizes(self) -> dict[str, float]:
        return {s: q.contract_size for s, q in self.quotes.items()}


def load_symbols(terminal: Terminal, market: MarketState, now_msc: int,
                 fx: CurrencyConverter | None = None) -> SymbolBook:
    """Read every market symbol's specification and seed the market with its current quote.

    With ``fx``, the converter learns the instruments read (a stock CFD's price currency
    comes from the broker, not its name: ``engine.instruments``).
    """
    book = SymbolBook()
    for symbol in market.symbols:
        info = terminal.symbol_info(symbol)
        if info is None:
            raise ValueError(f"the terminal does not know {symbol}: "
                             f"{terminal.last_error()}")
        book.points[symbol] = float(info.point)
        book.quotes[symbol] = LegQuote(symbol, math.nan, float(info.trade_contract_size),
                                       float(info.volume_min), float(info.volume_max),
                                       float(info.volume_step))
        inst = instrument_for(symbol, str(getattr(info, "currency_profit", "") or ""))
        if inst is not None:
            book.instruments[symbol] = inst
        tick = terminal.symbol_info_tick(symbol)
        if tick is not None and tick.bid > 0:
            market.seed_quote(symbol, float(tick.bid), float(tick.ask), now_msc)
    if fx is not None:
        fx.learn(book.instruments)
    return book


def history_days(signals: Iterable[ClusterSignal], at_least: int) -> int:
    """Calendar days of history that give every cluster a valid TDI at once: each cluster's
    bars (``ClusterSpec.history_bars``) in its timeframe, 5 trading days a week, plus a
    margin for holidays (``engine.timeframes.calendar_days``); no cap."""
    need = max(calendar_days(s.spec.history_bars, s.timeframe) for s in signals)
    return max(need, at_least)


def warm_up(terminal: Terminal, symbols: Iterable[str], signals: Mapping[str, ClusterSignal],
            now_msc: int, extra_days: int, warn: Callable[[str], None],
            market: MarketState | None = None) -> None:
    """Enough closed history that every cluster has a valid TDI at once, in its timeframe.

    The rates read are the cluster timeframe's own (M15, M30) or H1, resampled to H4 and D1
    on New York's trading day (``engine.timeframes``).  ``extra_days`` loads more (the
    console shows it); ``warn`` hears of clusters that stay without a valid TDI and warm up
    live instead.  With ``market``, the H1 bars already closed in the forming H4/D1 bucket
    start that bucket's bar, so the first live bar covers its whole bucket.
    """
    if not signals:
        return
    del symbols  # every cluster reads its own symbols
    for tf in TIMEFRAME_NAMES:
        group = [s for s in signals.values() if s.timeframe == tf]
        if group:
            _warm_timeframe(terminal, tf, group, now_msc, extra_days, warn, market)


def _warm_timeframe(terminal: Terminal, tf: str, group: list[ClusterSignal], now_msc: int,
                    extra_days: int, warn: Callable[[str], None],
                    market: MarketState | None) -> None:
    source = source_timeframe(tf)
    source_ms = TIMEFRAME_SECONDS[source] * 1000
    bucket_ms = int(buckets(tf).label(np.array([now_msc // 1000]))[0]) * 1000
    start_ms = bucket_ms - history_days(group, extra_days) * DAY_MS
    needed = sorted({s for sig in group for s in sig.feed_symbols})
    raw = {symbol: _closed_rates(terminal, symbol, source, start_ms,
                                 now_msc // source_ms * source_ms) for symbol in needed}
    # the closed buckets of ``tf``; resampled only when read in another timeframe (M30 rates
    # go in as read: a second pass would re-round their mean spreads)
    bars = {symbol: r[r["time"] * 1000 < bucket_ms] if source == tf
            else resample_to(r[r["time"] * 1000 < bucket_ms], tf) for symbol, r in raw.items()}
    for sig in group:
        if any(len(bars[s]) == 0 for s in sig.feed_symbols):
            warn(f"{sig.spec.name}: no history; the TDI warms up live")
            continue
        aligned = align_closes({s: bars[s] for s in sig.feed_symbols},
                               sig.feed_symbols).closes
        for t, row in zip(aligned.index, aligned.to_numpy(), strict=True):
            sig.add_bar(int(t.timestamp()), row)
        last = sig.last_point
        if last is not None and not last.valid and last.lock and \
                len(aligned) > sig.model.warmup_bars:  # warm, but the kind says why not
            warn(f"{sig.spec.name}: no valid {sig.score_name} at the end of the history: "
                 f"{last.lock}")
        elif last is None or not last.valid:
            warn(f"{sig.spec.name}: {len(aligned)} {tf} bars of history, not enough for a "
                 f"valid {sig.score_name} yet (it needs {sig.model.warmup_bars + 1})")
    if market is not None and source != tf:
        market.seed_forming(tf, _forming_part(raw, market, bucket_ms))


def _forming_part(raw: Mapping[str, np.ndarray], market: MarketState,
                  bucket_ms: int) -> np.ndarray:
    """The source bars inside the forming bucket, as market bars in (time, symbol) order."""
    parts = []
    for symbol, r in raw.items():
        inside = r[r["time"] * 1000 >= bucket_ms]
        out = np.empty(len(inside), dtype=SYMBOL_BAR_DTYPE)
        for name in BAR_DTYPE.names:
            out[name] = inside[name]
        out["symbol"] = market.index[symbol]
        parts.append(out)
    merged = np.concatenate(parts) if parts else np.empty(0, dtype=SYMBOL_BAR_DTYPE)
    return merged[np.lexsort((merged["symbol"], merged["time"]))]


def _closed_rates(terminal: Terminal, symbol: str, tf: str, start_ms: int,
                  end_ms: int) -> np.ndarray:
    """The symbol's ``tf`` bars (UTC buckets) from ``start_ms`` that closed before
    ``end_ms`` (a bucket boundary of ``tf``)."""
    rates = terminal.copy_rates_range(
        symbol, MT5_TIMEFRAME[tf], utc(terminal.server_s_from_utc_ms(start_ms) * 1000),
        utc(terminal.server_s_from_utc_ms(end_ms - 1) * 1000))
    if rates is None or len(rates) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    bars = terminal.rates_to_bars(symbol, rates)
    return resample_to(bars[bars["time"] * 1000 < end_ms], tf)
