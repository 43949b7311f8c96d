"""Growable numpy buffers behind the live charts.

A live chart gains one bar at a time.  Rebuilding a 20,000-element array per bar (``np.append``)
would make every append cost O(n) in allocation alone; these buffers double their capacity
instead, so an append is amortised O(1) and the curves receive a zero-copy view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

_MIN_CAPACITY = 256


class GrowableArray:
    """A 1-D numpy array that grows by doubling; ``view()`` is the filled part, not a copy."""

    def __init__(self, dtype: np.dtype | type, capacity: int = _MIN_CAPACITY) -> None:
        self._data = np.empty(max(capacity, 1), dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def view(self) -> np.ndarray:
        """The filled part.  Valid until the next ``append``/``replace`` (which may reallocate)."""
        return self._data[: self._size]

    def replace(self, values: np.ndarray) -> None:
        """Drop the contents and hold a copy of ``values`` (with room to grow)."""
        values = np.asarray(values, dtype=self._data.dtype).reshape(-1)
        capacity = max(_MIN_CAPACITY, 2 * len(values))
        self._data = np.empty(capacity, dtype=self._data.dtype)
        self._data[: len(values)] = values
        self._size = len(values)

    def append(self, value: float) -> None:
        if self._size == len(self._data):
            grown = np.empty(2 * len(self._data), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size] = value
        self._size += 1

    def set_last(self, value: float) -> None:
        """Overwrite the newest element (a bar re-sent with the same time)."""
        if self._size == 0:
            raise IndexError("set_last on an empty buffer")
        self._data[self._size - 1] = value


class BarSeries:
    """One timeframe's bars for a cluster: times, TDI and each member's close, index-aligned.

    The chart plots against the bar index (so weekends leave no gap); this class owns the
    index <-> time mapping and refuses input that would break it (lengths that disagree,
    times that go backwards).
    """

    def __init__(self, symbols: Sequence[str] = ()) -> None:
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.times = GrowableArray(np.int64)
        self.tdi = GrowableArray(np.float64)
        self.closes: dict[str, GrowableArray] = {s: GrowableArray(np.float64) for s in symbols}

    def __len__(self) -> int:
        return len(self.times)

    def replace(self, times_ms: np.ndarray, tdi: np.ndarray | None,
                closes: Mapping[str, np.ndarray]) -> None:
        """Hold a new history.  ``tdi=None`` stores NaN (a view without a TDI line).

        Raises ``ValueError`` naming the argument when lengths disagree, a member's closes
        are missing, or times are not strictly increasing (the x axis maps index to time).
        """
        times = np.asarray(times_ms, dtype=np.int64).reshape(-1)
        n = len(times)
        if n > 1 and not np.all(np.diff(times) > 0):
            bad = int(np.argmin(np.diff(times) > 0)) + 1
            raise ValueError(f"times_ms must be strictly increasing (index {bad})")
        tdi_values = np.full(n, np.nan) if tdi is None else np.asarray(tdi, dtype=np.float64)
        if tdi_values.shape != (n,):
            raise ValueError(f"tdi has {tdi_values.size} values for {n} times")
        leg_values: dict[str, np.ndarray] = {}
        for symbol in self.symbols:
            if symbol not in closes:
                raise ValueError(f"closes has no series for cluster member {symbol}")
            values = np.asarray(closes[symbol], dtype=np.float64)
            if values.shape != (n,):
                raise ValueError(f"closes[{symbol!r}] has {values.size} values for {n} times")
            leg_values[symbol] = values
        self.times.replace(times)
        self.tdi.replace(tdi_values)
        for symbol, values in leg_values.items():
            self.closes[symbol].replace(values)

    def append(self, time_ms: int, tdi: float, closes: Mapping[str, float]) -> bool:
        """Add one bar; a bar with the newest time replaces it (a re-sent bar).

        Returns True when a bar was added, False when the newest bar was replaced.  Raises
        ``ValueError`` for a time older than the newest bar or a missing member close.
        """
        missing = [s for s in self.symbols if s not in closes]
        if missing:
            raise ValueError(f"closes has no value for cluster member(s) {', '.join(missing)}")
        time_ms = int(time_ms)
        n = len(self.times)
        last = int(self.times.view()[-1]) if n else None
        if last is not None and time_ms < last:
            raise ValueError(f"bar time {time_ms} is older than the newest bar {last}")
        if last is not None and time_ms == last:
            self.tdi.set_last(tdi)
            for symbol in self.symbols:
                self.closes[symbol].set_last(closes[symbol])
            return False
        self.times.append(time_ms)
        self.tdi.append(tdi)
        for symbol in self.symbols:
            self.closes[symbol].append(closes[symbol])
        return True

    def bar_period_ms(self) -> int:
        """The typical bar spacing (median of up to the last 1,000 gaps); 60 s when unknown."""
        times = self.times.view()[-1001:]
        if len(times) < 2:
            return 60_000
        return int(np.median(np.diff(times)))
