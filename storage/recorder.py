"""Recording ticks from a terminal (live MT5 or the simulator) into the market-data store.

The recorder polls ``copy_ticks_from`` (the MetaTrader5 function surface) for every symbol,
converts broker server time to UTC and appends the new ticks to the store in small batches.

Crash safety comes from two rules:

- a flush writes each batch as one new Parquet *part* file, atomically (temp file, fsync,
  rename), so a recorder killed at any instant leaves every partition readable and every
  flushed tick present;
- on start the recorder resumes after the last tick the store holds for the symbol,
  counting the ticks already stored at that very millisecond, so a restart re-fetches what
  was buffered but not flushed (while the terminal still has it) without duplicating
  anything.

The terminal's ``date_from`` argument is server-time epoch seconds, as the real package
interprets it; the recorder keeps its cursor in server milliseconds and converts to UTC only
what it stores.

A tick whose bid or ask cannot be a price (NaN, zero or negative, outside the plausible range
of ``storage.plausible``: inf, 1e308) is never stored, as an import would refuse it; it is
counted in ``stats.rejected`` and the cursor moves past it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.errors import UserError
from mt5bridge.servertime import ServerTimeZone
from storage.marketdata import STORE_TICK_DTYPE, TICKS, MarketDataStore
from storage.plausible import price_out_of_range

__all__ = ["RecorderConfig", "TerminalTicks", "TickRecorder"]

#: ``COPY_TICKS_ALL`` of the MetaTrader5 package.
COPY_TICKS_ALL = -1


class TerminalTicks(Protocol):
    """The part of the MetaTrader5 surface the recorder uses."""

    def symbol_select(self, symbol: str, enable: bool = True, /) -> bool: ...

    def symbol_info_tick(self, symbol: str, /) -> Any: ...

    def copy_ticks_from(
        self, symbol: str, date_from: object, count: int, flags: int, /
    ) -> np.ndarray | None: ...

    def last_error(self) -> tuple[int, str]: ...


@dataclass(frozen=True)
class RecorderConfig:
    """When the recorder fetches and writes.

    - ``poll_count`` (100,000): ``count`` of each ``copy_ticks_from`` call; a full answer is
      followed by another call at once.
    - ``flush_ticks`` (20,000): flush when this many ticks are buffered (all symbols).
    - ``flush_interval_s`` (5.0): flush at least this often while ticks are buffered; a
      kill loses at most this much of what the terminal no longer holds at restart.
    - ``compact_on_close`` (True): merge the parts into the month files on ``close``.
    """

    poll_count: int = 100_000
    flush_ticks: int = 20_000
    flush_interval_s: float = 5.0
    compact_on_close: bool = True


@dataclass
class _Cursor:
    """Where a symbol's recording stands, in server milliseconds."""

    server_msc: int
    at_cursor: int  # ticks already taken with exactly ``server_msc``


@dataclass
class RecorderStats:
    polled: dict[str, int] = field(default_factory=dict)
    flushed: dict[str, int] = field(default_factory=dict)
    flushes: int = 0
    #: Ticks not stored because a price was not plausible, per symbol.
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def flushed_total(self) -> int:
        return sum(self.flushed.values())


class TickRecorder:
    """Polls a terminal and appends its ticks to a ``MarketDataStore``.

    ``symbols`` are the terminal's names (with any broker suffix); ``store_names`` maps them
    to the names used in the store (default: the same).  ``server_time`` is the terminal's
    server clock; there is no default, because assuming UTC silently shifts every tick.
    ``since_msc`` (UTC) is where a symbol with nothing stored starts; by default at the
    terminal's current tick.  ``clock`` returns seconds (monotonic) for the flush interval.
    """

    def __init__(
        self,
        terminal: TerminalTicks,
        store: MarketDataStore,
        symbols: Sequence[str],
        server_time: ServerTimeZone,
        *,
        store_names: Mapping[str, str] | None = None,
        since_msc: int | None = None,
        config: RecorderConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not symbols:
            raise UserError("nothing to record: no symbols given")
        self.terminal = terminal
        self.store = store
        self.symbols = tuple(symbols)
        self.server_time = server_time
        self.store_names = {s: (store_names or {}).get(s, s) for s in self.symbols}
        self.config = config or RecorderConfig()
        self.clock = clock
        self.stats = RecorderStats()
        self._since_msc = since_msc
        self._cursors: dict[str, _Cursor] = {}
        self._buffers: dict[str, list[np.ndarray]] = {s: [] for s in self.symbols}
        self._buffered = 0
        self._last_flush = clock()

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        """Select the symbols and place each cursor after what the store already holds."""
        for symbol in self.symbols:
            if not self.terminal.symbol_select(symbol, True):
                code, message = self.terminal.last_error()
                raise UserError(f"cannot select {symbol} in the terminal: {message} ({code})")
            self._cursors[symbol] = self._resume_point(symbol)

    def _resume_point(self, symbol: str) -> _Cursor:
        name = self.store_names[symbol]
        stored = self.store.time_range(TICKS, name)
        if stored is not None:
            last_utc = stored[1]
            at_last = len(self.store.read(TICKS, name, last_utc, last_utc))
            return _Cursor(self.server_time.to_server_ms(last_utc), at_last)
        if self._since_msc is not None:
            return _Cursor(self.server_time.to_server_ms(self._since_msc), 0)
        tick = self.terminal.symbol_info_tick(symbol)
        if tick is None:
            code, message = self.terminal.last_error()
            raise UserError(f"no current tick for {symbol}: {message} ({code})")
        return _Cursor(int(tick.time_msc), 0)

    # -- polling ---------------------------------------------------------------------------

    def poll(self) -> int:
        """Fetch every new tick of every symbol into the buffer; returns how many."""
        if not self._cursors:
            self.start()
        total = 0
        for symbol in self.symbols:
            while True:
                got, full = self._poll_symbol(symbol)
                total += got
                if not full:
                    break
        if self._due():
            self.flush()
        return total

    def _poll_symbol(self, symbol: str) -> tuple[int, bool]:
        cursor = self._cursors[symbol]
        ticks = self.terminal.copy_ticks_from(
            symbol, cursor.server_msc // 1000, self.config.poll_count, COPY_TICKS_ALL
        )
        if ticks is None:
            code, message = self.terminal.last_error()
            raise UserError(f"copy_ticks_from({symbol}) failed: {message} ({code})")
        if not len(ticks):
            return 0, False
        times = np.asarray(ticks["time_msc"], dtype=np.int64)
        # Skip what is already taken: earlier stamps, and the first ``at_cursor`` ticks of
        # the cursor's own millisecond (the terminal returns them in the same order).
        lo = int(np.searchsorted(times, cursor.server_msc, "left"))
        hi = int(np.searchsorted(times, cursor.server_msc, "right"))
        first_new = min(lo + cursor.at_cursor, hi)
        fresh = ticks[first_new:]
        if not len(fresh):
            return 0, False
        full = len(ticks) >= self.config.poll_count
        fresh_times = times[first_new:]
        last = int(fresh_times[-1])
        same = int(np.count_nonzero(fresh_times == last))
        cursor.at_cursor = same + (cursor.at_cursor if last == cursor.server_msc else 0)
        cursor.server_msc = last
        rows = np.empty(len(fresh), dtype=STORE_TICK_DTYPE)
        rows["time_msc"] = self.server_time.to_utc_ms_array(fresh_times)
        rows["bid"] = fresh["bid"]
        rows["ask"] = fresh["ask"]
        rows["flags"] = fresh["flags"]
        rows = self._plausible(symbol, rows)
        self._buffers[symbol].append(rows)
        self._buffered += len(rows)
        self.stats.polled[symbol] = self.stats.polled.get(symbol, 0) + len(rows)
        return len(rows), full

    def _plausible(self, symbol: str, rows: np.ndarray) -> np.ndarray:
        """The ticks whose bid and ask can be prices; the others are counted, not stored."""
        quotes = np.column_stack([rows["bid"], rows["ask"]])
        with np.errstate(invalid="ignore"):
            bad = (~(quotes > 0) | price_out_of_range(quotes)).any(axis=1)
        if not bad.any():
            return rows
        self.stats.rejected[symbol] = self.stats.rejected.get(symbol, 0) + int(bad.sum())
        return rows[~bad]

    def _due(self) -> bool:
        if self._buffered == 0:
            return False
        if self._buffered >= self.config.flush_ticks:
            return True
        return self.clock() - self._last_flush >= self.config.flush_interval_s

    # -- writing ---------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every buffered tick (one atomic part per symbol and month); returns how many."""
        written = 0
        for symbol, pieces in self._buffers.items():
            if not pieces:
                continue
            rows = np.concatenate(pieces)
            self.store.append_tick_part(self.store_names[symbol], rows)
            pieces.clear()
            written += len(rows)
            self.stats.flushed[symbol] = self.stats.flushed.get(symbol, 0) + len(rows)
        self._buffered = 0
        self._last_flush = self.clock()
        if written:
            self.stats.flushes += 1
        return written

    def close(self) -> None:
        """Flush what is buffered and (by default) merge the parts into the month files."""
        self.flush()
        if self.config.compact_on_close:
            for symbol in self.symbols:
                self.store.compact(self.store_names[symbol])

    def run(
        self,
        should_stop: Callable[[], bool],
        poll_interval_s: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RecorderStats:
        """Poll until ``should_stop()``; always flushes (and compacts) before returning."""
        try:
            self.start()
            while not should_stop():
                self.poll()
                sleep(poll_interval_s)
        finally:
            self.close()
        return self.stats
