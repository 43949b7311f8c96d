"""The ticks a simulated terminal has consumed, and the last quote of every symbol.

Backtests push tens of millions of ticks through the terminal in small batches, so the
per-batch cost must be a slice copy, not per-tick work.  Ticks of all symbols share one
time-ordered buffer addressed by a *global* tick index (the count of ticks ever consumed);
the last quote per symbol is derived lazily, only for the range not yet looked at, when a
caller needs prices.  The buffer keeps a bounded window (by count and by age); before old
ticks are dropped the owner is told, so anything derived from them (M1 bars) is built first.

Dropping ticks only moves the window's start; the held ticks are moved to the front of the
array when its end is reached, which with the slack behind the window (``_SLACK_TICKS``)
happens once per several windows' worth of ticks instead of at every eviction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.ticks import TICK_DTYPE

__all__ = ["TickTape"]

#: Ticks looked at first when bringing the quotes up to date (then 4x more each round).
_SCAN_FIRST = 512
#: Room behind the largest window, in ticks (8 MB of ``TICK_DTYPE``): the held ticks move
#: to the array's front once this much more has been appended, not at every eviction.
_SLACK_TICKS = 1 << 18
#: A buffer this size or smaller is allocated whole at once (pages are only touched as
#: ticks arrive) rather than doubled up to its size with a copy at each step.
_FIRST_CAPACITY_MAX = 1 << 19


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
        #: The window's largest size (the eviction rule of ``append``) for batches of up to
        #: ``max_ticks // 2`` ticks, and the array's size: the window plus the slack.
        self._capacity = max_ticks + max(max_ticks // 2, 1) + _SLACK_TICKS
        size = self._capacity if self._capacity <= _FIRST_CAPACITY_MAX else 1 << 16
        self._buf = np.empty(size, dtype=TICK_DTYPE)
        # Times again, contiguous, for binary searches (a strided field view would be copied).
        self._times = np.empty(size, dtype=np.int64)
        self._lo = 0  # array index of the oldest held tick
        self._n = 0  # ticks held: _buf[_lo:_lo + _n]
        self._base = 0  # global index of _buf[_lo]
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
        return self._buf[self._lo + lo:self._lo + max(lo, hi)]

    def index_at_time(self, t_msc: int, side: str = "left") -> int:
        """Global index of the first held tick with time >= (``left``) / > (``right``) t."""
        times = self._times[self._lo:self._lo + self._n]
        return self._base + int(np.searchsorted(times, t_msc, side=side))  # type: ignore[call-overload]

    # -- appending -------------------------------------------------------------------------

    def append(self, batch: np.ndarray) -> int:
        """Add a time-ordered batch; return the global index of its first tick."""
        k = len(batch)
        start = self.end
        if k == 0:
            return start
        if self._n + k > self.max_ticks + max(self.max_ticks // 2, k):
            self._evict_for(k)
        at = self._lo + self._n
        if at + k > len(self._buf):
            self._make_room(k)
            at = self._lo + self._n
        self._buf[at:at + k] = batch
        self._times[at:at + k] = batch["time_msc"]
        self._n += k
        return start

    def _evict_for(self, k: int) -> None:
        """Full: keep at most max_ticks (including the incoming batch) and nothing too old."""
        keep = max(self.max_ticks - k, 0)
        drop = self._n - keep
        times = self._times[self._lo:self._lo + self._n]
        newest = int(times[-1]) if self._n else 0
        too_old = int(np.searchsorted(times, newest - self.max_age_ms, side="left"))
        self._evict(max(drop, too_old, 0))

    def _make_room(self, k: int) -> None:
        """Room for ``k`` more ticks behind the held ones: move them to the array's front,
        or grow the array (to the window plus slack, or to what one batch needs)."""
        needed = self._n + k
        size = len(self._buf)
        if needed > size or (self._lo < size // 2 and size < self._capacity):
            size = max(min(max(size * 2, needed), self._capacity), needed)
            buf = np.empty(size, dtype=TICK_DTYPE)
            times = np.empty(size, dtype=np.int64)
        else:
            buf, times = self._buf, self._times
        lo, hi = self._lo, self._lo + self._n
        buf[:self._n] = self._buf[lo:hi]
        times[:self._n] = self._times[lo:hi]
        self._buf, self._times, self._lo = buf, times, 0

    def _evict(self, drop: int) -> None:
        if drop <= 0:
            return
        cut = self._base + drop
        self.sync_quotes(cut)
        if self._on_evict is not None:
            self._on_evict(cut)
        self._lo += drop
        self._n -= drop
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
        seg = self._buf[self._lo + lo - self._base:self._lo + hi - self._base]
        symbols = seg["symbol"]
        last = np.full(len(self.quotes), -1, dtype=np.int64)
        # Walk back from the newest ticks in growing chunks, until every symbol has its last
        # tick or the segment is done: a symbol's last quote is usually among the newest.
        # An earlier chunk's indices are smaller, so the maximum keeps what was found.
        stop, size = len(seg), _SCAN_FIRST
        while True:
            start = max(0, stop - size)
            np.maximum.at(last, symbols[start:stop], np.arange(start, stop))
            if start == 0 or last.min() >= 0:
                break
            stop, size = start, size * 4
        got = np.flatnonzero(last >= 0)
        self.quotes[got] = seg[last[got]]
        self.has_quote[got] = True
        self._quoted_upto = hi
