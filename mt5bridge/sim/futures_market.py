"""Futures CFDs as part of a market feed: the synthetic market's, or any feed's.

``FuturesQuotes`` derives the configured contracts' ticks from their cash symbols' ticks in
a batch (``futures_price.futures_ticks``) and merges them in time order after the cash
ticks of the same millisecond; their warm-up M1 bars come from the cash bars the same way.
The synthetic market uses it when ``MarketConfig.futures`` names contracts (off by default:
a market without futures is generated exactly as before); ``FuturesFeed`` wraps any other
``MarketFeed`` (a replay of recorded cash data) the same way.

A contract's warm-up bars are its cash symbol's bars through the futures price at each
minute's middle (``futures_bars``), without the per-tick noise, so they approximate rather
than equal the bars its ticks would have aggregated to; from the start on, every bar is
built from the contract's own ticks.  ``generate_m1_bars`` (the bulk path) stays cash-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.errors import ConfigError
from engine.ticks import TICK_DTYPE, empty_ticks
from mt5bridge.feed import MarketFeed
from mt5bridge.sim.futures_catalogue import futures_spec
from mt5bridge.sim.futures_price import Mispricing, MispricingPath, futures_bars, futures_ticks
from mt5bridge.sim.market_ticks import concat_records
from mt5bridge.sim.symbols import BROKER_SPECS, SymbolSpec

__all__ = ["FuturesFeed", "FuturesQuotes", "resolve_contracts"]


def resolve_contracts(names: Sequence[str], cash_symbols: Sequence[str],
                      where: str) -> list[SymbolSpec]:
    """The specs of contract ``names``, each of whose cash symbol must be quoted."""
    specs = []
    for name in names:
        spec = futures_spec(name)
        if spec is None:
            raise ConfigError(where, "futures", f"{name} is not a futures contract name "
                              "(<cash>_<month code><yy>, e.g. XAUUSD_Z19, on "
                              "SPXUSD, NSXUSD, BCOUSD or XAUUSD)")
        if spec.basis not in cash_symbols:
            raise ConfigError(where, "futures", f"{name} needs its cash symbol {spec.basis} "
                              "in the market")
        specs.append(spec)
    if len(set(names)) != len(names):
        raise ConfigError(where, "futures", "a contract is listed twice")
    return specs


class FuturesQuotes:
    """The contracts' quotes from their cash symbols' (see the module docstring).

    ``first_index``: the feed index of the first contract (the contracts follow the cash
    symbols, in the order given).  Flags of a contract's first tick in each batch are
    computed against its last quote of the previous batch, so a stream is flagged as one.
    """

    def __init__(self, contracts: Sequence[SymbolSpec], cash_symbols: Sequence[str],
                 mispricing: Mispricing, seed: int, cash_specs: Mapping[str, SymbolSpec]
                 | None = None) -> None:
        specs = cash_specs if cash_specs is not None else BROKER_SPECS
        self.names = tuple(s.name for s in contracts)
        self._cash_index = [list(cash_symbols).index(s.basis) for s in contracts]
        self._cash_specs = [specs[s.basis] for s in contracts]
        self._paths = [MispricingPath(s, mispricing, seed) for s in contracts]
        self._first = len(cash_symbols)
        self._last: list[tuple[float, float] | None] = [None] * len(contracts)

    def path(self, name: str) -> MispricingPath:
        return self._paths[self.names.index(name)]

    def add_to(self, ticks: np.ndarray, *, stream: bool = True) -> np.ndarray:
        """``ticks`` (cash, time-ordered) with the contracts' ticks merged in.

        ``stream``: remember each contract's last quote for the next batch's flags (False
        for a side read such as ticks before the start, which must not disturb the stream).
        """
        parts = [ticks]
        symbols = ticks["symbol"]
        for k, path in enumerate(self._paths):
            cash = ticks[symbols == self._cash_index[k]]
            quotes = futures_ticks(cash, path, self._cash_specs[k], self._first + k,
                                   self._last[k] if stream else None)
            if len(quotes):
                parts.append(quotes)
                if stream:
                    self._last[k] = (float(quotes["bid"][-1]), float(quotes["ask"][-1]))
        if len(parts) == 1:
            return ticks
        merged = concat_records(parts, TICK_DTYPE)
        return merged[np.argsort(merged["time_msc"], kind="stable")]

    def bars(self, cash_bars: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The contracts' M1 bars from the cash symbols' (warm-up history)."""
        out = {}
        for k, path in enumerate(self._paths):
            cash = cash_bars.get(path.spec.basis)
            if cash is not None:
                out[path.spec.name] = futures_bars(cash, path, self._cash_specs[k])
        return out


class FuturesFeed:
    """A ``MarketFeed`` with futures contracts derived from the cash symbols of another
    feed (a replay of recorded cash data): the inner feed's symbols, then the contracts."""

    def __init__(self, inner: MarketFeed, contracts: Sequence[str],
                 mispricing: Mispricing | None = None, seed: int = 0) -> None:
        cash = tuple(inner.symbols)
        specs = resolve_contracts(contracts, cash, "futures feed")
        self._inner = inner
        self._symbols = (*cash, *(s.name for s in specs))
        self._quotes = FuturesQuotes(specs, cash, mispricing or Mispricing(), seed)

    @property
    def symbols(self) -> Sequence[str]:
        return self._symbols

    @property
    def start_msc(self) -> int:
        return self._inner.start_msc

    @property
    def end_msc(self) -> int | None:
        return self._inner.end_msc

    def next_time(self) -> int | None:
        return self._inner.next_time()

    def ticks_until(self, t_msc: int) -> np.ndarray:
        ticks = self._inner.ticks_until(t_msc)
        return self._quotes.add_to(ticks) if len(ticks) else empty_ticks()

    def warmup_bars(self) -> dict[str, np.ndarray]:
        bars = dict(self._inner.warmup_bars())
        bars.update(self._quotes.bars(bars))
        return bars
