"""The ticks a simulated terminal has consumed, and the last quote of every symbol.

Backtests push tens of millions of ticks through the terminal in small batches, so the
per-batch cost must be a slice copy, not per-tick work.  Ticks of all symbols share one
time-ordered buffer addressed by a *global* tick index (the count of ticks ever consumed);
the last quote per symbol is derived lazily, only for the range not yet looked at, when a
caller needs prices.  The buffer keeps a bounded window (by count and by age); before old
ticks are dropped the owner is told, so anything derived from them (M1 bars) is built first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.ticks import TICK_DTYPE

__all__ = ["TickTape"]

_SCAN_CHUNK = 4096


class TickTape:
    """Bounded buffer of consumed ticks plus live last-quote arrays per symbol index."""

    def __init__(
        self,
        n_symbols: int,
        max_ticks: int,
        max_age_ms: int,
        on_evict: Callable[[int], None] | None = None,
    ) -> None:
        if max_ticks < 1:
            raise ValueError("max_ticks must be positive")
        self.max_ticks = max_ticks
        self.max_age_ms = max_age_ms
        self._on_evict = on_evict
        self._buf = np.empty(min(max_ticks, 1 << 16), dtype=TICK_DTYPE)
        # Times again, contiguous, for binary searches (a strided field view would be copied).
        self._times = np.empty(len(self._buf), dtype=np.int64)
        self._n = 0  # ticks in the buffer
        self._base = 0  # global index of _buf[0]
        #: The last tick of every symbol; ``bid``/``ask``/``time_msc``/``flags`` are its fields
        #: (views, so they always show the current quote).
        self.quotes = np.zeros(n_symbols, dtype=TICK_DTYPE)
        self.quotes["symbol"] = np.arange(n_symbols)
        self.bid = self.quotes["bid"]
        self.ask = self.quotes["ask"]
        self.time_msc = self.quotes["time_msc"]
        self.flags = self.quotes["flags"]
        self.has_quote = np.zeros(n_symbols, dtype=bool)
        self._quoted_upto = 0

    # -- indices ---------------------------------------------------------------------------

    @property
    def end(self) -> int:
        """Global index one past the newest tick (= ticks consumed so far)."""
        return self._base + self._n

    def view(self, g0: int, g1: int) -> np.ndarray:
        """Ticks with global indices in ``[g0, g1)`` (clipped to what is held); a view."""
        lo = max(g0, self._base) - self._base
        hi = min(g1, self.end) - self._base
        return self._buf[lo:max(lo, hi)]

    def index_at_time(self, t_msc: int, side: str = "left") -> int:
        """Global index of the first held tick with time >= (``left``) / > (``right``) t."""
        times = self._times[: self._n]
        return self._base + int(np.searchsorted(times, t_msc, side=side))  # type: ignore[call-overload]

    # -- appending -------------------------------------------------------------------------

    def append(self, batch: np.ndarray) -> int:
        """Add a time-ordered batch; return the global index of its first tick."""
        k = len(batch)
        start = self.end
        if k == 0:
            return start
        if self._n + k > len(self._buf):
            self._make_room(k)
        self._buf[self._n:self._n + k] = batch
        self._times[self._n:self._n + k] = batch["time_msc"]
        self._n += k
        return start

    def _make_room(self, k: int) -> None:
        needed = self._n + k
        cap = len(self._buf)
        limit = self.max_ticks + max(self.max_ticks // 2, k)
        if needed <= limit and cap < limit:
            new_cap = min(max(cap * 2, needed), limit)
            self._resize(new_cap)
            return
        # Full: keep at most max_ticks (including the incoming batch) and nothing too old.
        keep = max(self.max_ticks - k, 0)
        drop = self._n - keep
        newest = int(self._times[self._n - 1]) if self._n else 0
        times = self._times[: self._n]
        too_old = int(np.searchsorted(times, newest - self.max_age_ms, side="left"))
        drop = max(drop, too_old, 0)
        self._evict(drop)
        if self._n + k > len(self._buf):
            self._resize(self._n + k)

    def _resize(self, capacity: int) -> None:
        grown = np.empty(capacity, dtype=TICK_DTYPE)
        grown[: self._n] = self._buf[: self._n]
        times = np.empty(capacity, dtype=np.int64)
        times[: self._n] = self._times[: self._n]
        self._buf, self._times = grown, times

    def _evict(self, drop: int) -> None:
        if drop <= 0:
            return
        cut = self._base + drop
        self.sync_quotes(cut)
        if self._on_evict is not None:
            self._on_evict(cut)
        remaining = self._n - drop
        self._buf[:remaining] = self._buf[drop:self._n]
        self._times[:remaining] = self._times[drop:self._n]
        self._n = remaining
        self._base = cut

    # -- quotes ----------------------------------------------------------------------------

    def seed_quote(self, symbol_index: int, bid: float, ask: float, time_msc: int) -> None:
        """A starting quote (e.g. from the last warm-up bar) until the first real tick."""
        self.bid[symbol_index] = bid
        self.ask[symbol_index] = ask
        self.time_msc[symbol_index] = time_msc
        self.flags[symbol_index] = 6
        self.has_quote[symbol_index] = True

    def sync_quotes(self, upto: int | None = None) -> None:
        """Bring the quotes up to the tick before global index ``upto`` (default: all)."""
        hi = self.end if upto is None else min(upto, self.end)
        lo = max(self._quoted_upto, self._base)
        if hi <= lo:
            return
        seg = self._buf[lo - self._base:hi - self._base]
        symbols = seg["symbol"]
        n_symbols = len(self.quotes)
        last = np.full(n_symbols, -1, dtype=np.int64)
        if len(seg) <= _SCAN_CHUNK:
            np.maximum.at(last, symbols, np.arange(len(seg)))
        else:
            # Walk back in chunks: a symbol's last quote is usually among the newest ticks.
            stop = len(seg)
            while stop > 0 and last.min() < 0:
                start = max(0, stop - _SCAN_CHUNK)
                found = np.full(n_symbols, -1, dtype=np.int64)
                np.maximum.at(found, symbols[start:stop], np.arange(start, stop))
                fill = (last < 0) & (found >= 0)
                last[fill] = found[fill]
                stop = start
        got = np.flatnonzero(last >= 0)
        self.quotes[got] = seg[last[got]]
        self.has_quote[got] = True
        self._quoted_upto = hi
