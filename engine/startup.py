"""What the engine reads from the terminal once, at start: the account it trades, symbol
specifications and the M30 history that warms every cluster's TDI up before the first live
bar."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.bars import M30, align_closes, resample_bars
from engine.cluster import LegQuote
from engine.market import M30_MS, MarketState, utc
from engine.model import RunMode
from engine.ports import Terminal
from engine.records import AccountIdentity
from engine.signals import ClusterSignal

#: MetaTrader 5's code of the M30 timeframe (``copy_rates_range``).
TIMEFRAME_M30 = 30
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
    sizing fills it with the conversion rate of the moment."""

    points: dict[str, float] = field(default_factory=dict)
    quotes: dict[str, LegQuote] = field(default_factory=dict)

    def contract_sizes(self) -> dict[str, float]:
        return {s: q.contract_size for s, q in self.quotes.items()}


def load_symbols(terminal: Terminal, market: MarketState, now_msc: int) -> SymbolBook:
    """Read every market symbol's specification and seed the market with its current quote."""
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
        tick = terminal.symbol_info_tick(symbol)
        if tick is not None and tick.bid > 0:
            market.seed_quote(symbol, float(tick.bid), float(tick.ask), now_msc)
    return book


def history_days(signals: Iterable[ClusterSignal], at_least: int) -> int:
    """Calendar days of M30 history that give every cluster a valid TDI at once."""
    need = max(s.spec.history_bars for s in signals)
    # calendar span covering `need` trading bars: 48 bars a day, 5 trading days a week
    return max(math.ceil(need / 48 * 7 / 5) + 4, at_least)


def warm_up(terminal: Terminal, symbols: Iterable[str], signals: Mapping[str, ClusterSignal],
            now_msc: int, extra_days: int, warn: Callable[[str], None]) -> None:
    """Enough closed M30 history that every cluster has a valid TDI at once.

    ``extra_days`` loads more (the console shows it); ``warn`` hears of clusters that stay
    without a valid TDI and warm up live instead.
    """
    if not signals:
        return
    bucket_ms = now_msc // M30_MS * M30_MS
    start_ms = bucket_ms - history_days(signals.values(), extra_days) * DAY_MS
    m30 = {symbol: _closed_m30(terminal, symbol, start_ms, bucket_ms) for symbol in symbols}
    for sig in signals.values():
        if any(len(m30[s]) == 0 for s in sig.feed_symbols):
            warn(f"{sig.spec.name}: no history; the TDI warms up live")
            continue
        aligned = align_closes({s: m30[s] for s in sig.feed_symbols}, sig.feed_symbols).closes
        for t, row in zip(aligned.index, aligned.to_numpy(), strict=True):
            sig.add_bar(int(t.timestamp()), row)
        if sig.last_point is None or not sig.last_point.valid:
            warn(f"{sig.spec.name}: {len(aligned)} M30 bars of history, "
                 f"not enough for a valid TDI yet")


def _closed_m30(terminal: Terminal, symbol: str, start_ms: int, bucket_ms: int) -> np.ndarray:
    """The symbol's M30 bars from ``start_ms`` that closed before ``bucket_ms`` (UTC)."""
    rates = terminal.copy_rates_range(
        symbol, TIMEFRAME_M30, utc(terminal.server_s_from_utc_ms(start_ms) * 1000),
        utc(terminal.server_s_from_utc_ms(bucket_ms - 1) * 1000))
    if rates is None or len(rates) == 0:
        return np.empty(0, dtype=np.dtype([("time", "<i8")]))
    bars = terminal.rates_to_bars(symbol, rates)
    return resample_bars(bars[bars["time"] * 1000 < bucket_ms], M30)
