"""The replay feed: recorded ticks (or ticks generated from M1 bars) as a ``MarketFeed``.

Sources are the market-data store (``ReplayFeed.from_store``) or files read directly
(``ReplayFeed.from_files``: Dukascopy CSV, MT5 tick or bar exports, HistData M1).  Every
symbol is a stream of time-ordered chunks (a Parquet row group, or a block of a text file);
the streams are k-way merged a slice at a time (up to the earliest point every stream has
read to), and ``ticks_until`` is then a binary search into the merged slice.  Memory is
bounded by one source chunk per symbol (a row group of 262,144 rows, or 8 MB of text) plus
the merged slice, so a tick file larger than memory replays.  Exceptions, by design: a
HistData file is read whole (a year is ~15 MB of bars), and a store month that still has
recorder parts is read whole (the recorder compacts them when it closes).

Symbols that have only M1 bars are replayed the way MetaTrader 5's tester does in its
"1 minute OHLC" mode: four ticks per bar, at the bar's open +0 s, +20 s, +40 s and +59 s,
with bid = open, then low and high (bullish bar, close >= open) or high and low (bearish
bar), then close; ask = bid + the bar's spread.  The 20 s spacing puts the extremes inside
the minute at equal distance and the close one second before the next bar opens, so the
ticks of one bar never share a millisecond with the next bar's.  Bars without a spread
(HistData) get one from the configured spread model (``app.spreads``): the symbol's typical
spread from ``SYMBOL_SPECS`` ("fixed", unless one is configured), or the median spread of
the bar's UTC weekday and hour ("profile"); ``ReplayConfig.spread_scale`` scales every
quoted spread, recorded or modelled.

Ticks of different symbols with the same millisecond come out in symbol order; ticks of one
symbol keep their source order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.spreads import (
    DEFAULT_SPREAD_MODEL,
    PROFILE,
    SPREAD_MODELS,
    SpreadFill,
    SymbolSpread,
    fixed_spread,
    profile_spread,
)
from engine.bars import aggregate_runs
from engine.errors import UserError
from engine.ranges import FieldError, number
from engine.spread_profile import SpreadProfile
from engine.ticks import BAR_DTYPE, TICK_DTYPE, empty_ticks
from mt5bridge.servertime import ServerTimeZone
from storage.histdata import read_histdata_m1
from storage.importers.cached import parsed_rows
from storage.importers.formats import HISTDATA, DetectedFormat
from storage.importers.run import detect_file, resolve_symbol
from storage.marketdata import BARS, STORE_TICK_DTYPE, TICKS, MarketDataStore, ticks_to_m1

__all__ = [
    "OHLC_TICK_OFFSETS_MS",
    "ReplayConfig",
    "ReplayFeed",
    "bars_to_ticks",
    "filled_spreads",
    "merge_m1",
    "scaled_asks",
]

#: Where the four "1 minute OHLC" ticks sit inside their bar, in ms after the bar's open.
OHLC_TICK_OFFSETS_MS = np.array([0, 20_000, 40_000, 59_000], dtype=np.int64)
_FLAGS_BID_ASK = 0x02 | 0x04
_DAY_MS = 86_400_000
#: A tick as one opaque record, to move whole ticks by index (``_merged``).
_TICK_RECORD = np.dtype((np.void, TICK_DTYPE.itemsize))


@dataclass(frozen=True)
class ReplayConfig:
    """How a replay reads its sources.

    - ``chunk_rows`` (65,536): ticks per symbol merged at a time; larger source chunks
      (Parquet row groups, text blocks) are cut to this size, which bounds memory to about
      ``chunk_rows`` ticks per symbol whatever the length of the replay.
    - ``warmup_days`` (30): how much M1 history before ``start`` ``warmup_bars`` returns.
    - ``prefer`` (``"ticks"``): for a store symbol with both ticks and bars, which to replay.

    Spreads (``app.spreads``):

    - ``spread_model`` (``DEFAULT_SPREAD_MODEL``): ``"fixed"`` or ``"profile"``, the spread of
      bars that carry none (HistData);
    - ``spread_points``: a fixed spread in points per symbol, in either model (overrides the
      symbol's ``typical_spread_points`` and its shipped profile; a profile given in
      ``spread_profiles`` still comes first); required for symbols not in ``SYMBOL_SPECS``
      that have no profile;
    - ``spread_profiles``: the profile model's profiles by symbol, ahead of the shipped ones;
    - ``spread_scale`` (1.0, in 0..100): every spread the replay quotes, recorded or
      modelled, times this: the ask becomes ``bid + scale x (ask - bid)`` and the bid stays
      as recorded (a cost-sensitivity run at x0, x1, x2; the mid moves by half the change,
      as it does between the spread models).
    """

    chunk_rows: int = 65_536
    warmup_days: float = 30.0
    spread_points: Mapping[str, float] = field(default_factory=dict)
    prefer: str = TICKS
    spread_model: str = DEFAULT_SPREAD_MODEL
    spread_profiles: Mapping[str, SpreadProfile] = field(default_factory=dict)
    spread_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.spread_model not in SPREAD_MODELS:
            raise UserError(f"spread model {self.spread_model!r}: expected one of "
                            f"{', '.join(SPREAD_MODELS)}")
        try:
            number("spread_scale", self.spread_scale, 0.0, MAX_SPREAD_SCALE)
        except FieldError as exc:
            raise UserError(str(exc)) from None

    def symbol_spread(self, symbol: str) -> SymbolSpread:
        """The spread model of one symbol's bars without a spread."""
        if self.spread_model == PROFILE:
            return profile_spread(symbol, self.spread_profiles, self.spread_points)
        return fixed_spread(symbol, self.spread_points)

    def describe(self, symbol: str, kind: str) -> str:
        """The spread a replayed symbol is quoted with, in one line for the report."""
        text = ("recorded bid and ask" if kind == TICKS else
                f"bars without a spread: {self.symbol_spread(symbol).description}")
        return text if self.spread_scale == 1.0 else f"{text}; x {self.spread_scale:g}"


#: The largest ``spread_scale``: a cost-sensitivity run goes to a few times the spread;
#: beyond 100 every fill is nonsense.
MAX_SPREAD_SCALE = 100.0


# --------------------------------------------------------------------------------------------
# Bars <-> ticks


def bars_to_ticks(bars: np.ndarray, default_spread: float | SpreadFill) -> np.ndarray:
    """Four "1 minute OHLC" ticks per M1 bar (see the module note), vectorised; bars
    without a spread get ``default_spread`` (price units), or ``default_spread(bar open
    times in epoch seconds)``."""
    n = len(bars)
    out = np.empty(n * 4, dtype=STORE_TICK_DTYPE)
    if n == 0:
        return out
    o, h, lo, c = (np.asarray(bars[k], dtype=np.float64) for k in ("open", "high", "low", "close"))
    bullish = c >= o
    bids = np.column_stack([o, np.where(bullish, lo, h), np.where(bullish, h, lo), c])
    spreads = filled_spreads(bars, default_spread)
    times = np.asarray(bars["time"], dtype=np.int64)[:, None] * 1000 + OHLC_TICK_OFFSETS_MS
    out["time_msc"] = times.ravel()
    out["bid"] = bids.ravel()
    out["ask"] = (bids + spreads[:, None]).ravel()
    out["flags"] = _FLAGS_BID_ASK
    return out


def filled_spreads(bars: np.ndarray, spread: float | SpreadFill) -> np.ndarray:
    """The bars' spreads (price units), those missing (NaN) filled from ``spread``."""
    spreads = np.asarray(bars["spread"], dtype=np.float64)
    missing = np.isnan(spreads)
    if not missing.any():
        return spreads
    if not callable(spread):
        return np.where(missing, spread, spreads)
    spreads = spreads.copy()
    spreads[missing] = spread(np.asarray(bars["time"], dtype=np.int64)[missing])
    return spreads


def scaled_asks(bid: np.ndarray, ask: np.ndarray, scale: float) -> np.ndarray:
    """Asks whose distance to the bid is ``scale`` times what it was (``ask`` itself at 1)."""
    return ask if scale == 1.0 else bid + scale * (ask - bid)


def merge_m1(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Concatenate time-ordered M1 bar batches, merging a minute split across two batches
    (open of the first, close of the last, extremes of both, tick-weighted spread)."""
    pieces = [p for p in parts if len(p)]
    if not pieces:
        return np.empty(0, dtype=BAR_DTYPE)
    bars = np.concatenate(pieces)
    times = bars["time"]
    if not np.any(times[1:] == times[:-1]):  # no minute was split: the batches as they are
        return bars
    return aggregate_runs(bars, times)


# --------------------------------------------------------------------------------------------
# Per-symbol streams


class _WarmupCollector:
    """M1 bars seen before the replay start, trimmed to the warmup window as they come."""

    def __init__(self, start_msc: int | None, window_ms: int) -> None:
        self.start_msc = start_msc
        self.window_ms = window_ms
        self._parts: list[np.ndarray] = []

    def add_bars(self, bars: np.ndarray) -> None:
        if self.start_msc is None or not len(bars):
            return
        low = (self.start_msc - self.window_ms) // 1000
        bars = bars[bars["time"] >= low]
        if len(bars):
            self._parts.append(bars)
            if len(self._parts) > 64:
                self._parts = [merge_m1(self._parts)]

    def add_ticks(self, ticks: np.ndarray) -> None:
        self.add_bars(ticks_to_m1(ticks))

    def bars(self) -> np.ndarray:
        return merge_m1(self._parts)


def _clip_ticks(
    chunks: Iterable[np.ndarray],
    start_msc: int | None,
    end_msc: int | None,
    warmup: _WarmupCollector | None,
) -> Iterator[np.ndarray]:
    """Tick chunks restricted to [start, end]; earlier ticks feed the warmup; a tick older
    than one already passed on (overlapping files) is dropped to keep the stream ordered."""
    latest = np.iinfo(np.int64).min
    for chunk in chunks:
        if not len(chunk):
            continue
        times = chunk["time_msc"]
        if times[0] < latest or np.any(np.diff(times) < 0):
            keep = times >= np.maximum.accumulate(np.maximum(times, latest))
            chunk, times = chunk[keep], times[keep]
            if not len(chunk):
                continue
        latest = int(times[-1])
        if start_msc is not None and times[0] < start_msc:
            cut = int(np.searchsorted(times, start_msc, "left"))
            if warmup is not None:
                warmup.add_ticks(chunk[:cut])
            chunk, times = chunk[cut:], times[cut:]
        if end_msc is not None and len(times) and times[-1] > end_msc:
            chunk = chunk[: int(np.searchsorted(times, end_msc, "right"))]
            if len(chunk):
                yield chunk
            return
        if len(chunk):
            yield chunk


def _bar_chunks_as_ticks(
    chunks: Iterable[np.ndarray],
    spread: float | SpreadFill,
    start_msc: int | None,
    end_msc: int | None,
    warmup: _WarmupCollector | None,
) -> Iterator[np.ndarray]:
    """Bars -> "1 minute OHLC" ticks; bars opening before ``start`` feed the warmup whole."""
    def ticks() -> Iterator[np.ndarray]:
        for bars in chunks:
            if start_msc is not None and len(bars):
                before = bars["time"] * 1000 < start_msc
                if before.any():
                    if warmup is not None:
                        warmup.add_bars(bars[before])
                    bars = bars[~before]
            if len(bars):
                yield bars_to_ticks(bars, spread)

    return _clip_ticks(ticks(), start_msc, end_msc, None)


def _overlaps(span: tuple[int, int] | None, start: int | None, end: int | None) -> bool:
    if span is None:
        return False
    return (end is None or span[0] <= end) and (start is None or span[1] >= start)


def _split(rows: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class _SymbolStream:
    """One symbol's ticks as a buffer over its chunks (feed dtype, symbol index set)."""

    def __init__(self, index: int, chunks: Iterator[np.ndarray], chunk_rows: int,
                 spread_scale: float = 1.0) -> None:
        self.index = index
        self.spread_scale = spread_scale
        #: The decimals prices are quoted at (``ReplayFeed.quote_at_digits``; None: as read).
        self.digits: int | None = None
        self._chunks = (piece for chunk in chunks for piece in _split(chunk, chunk_rows))
        self.buffer = np.empty(0, dtype=TICK_DTYPE)
        self.times = np.empty(0, dtype=np.int64)
        self.final = False  # True once the source has no chunk after the buffer

    def _load(self, keep: np.ndarray, keep_times: np.ndarray) -> bool:
        """The next chunk behind ``keep`` (what is left of the buffer) as the new buffer,
        converted to the feed's dtype in place (one copy of each tick); False at the end."""
        chunk = next(self._chunks, None)
        if chunk is None:
            self.final = True
            return False
        k = len(keep)
        out = np.empty(k + len(chunk), dtype=TICK_DTYPE)
        times = np.empty(len(out), dtype=np.int64)
        if k:
            out[:k] = keep
            times[:k] = keep_times
        times[k:] = chunk["time_msc"]
        out["time_msc"][k:] = times[k:]
        out["symbol"][k:] = self.index
        bid = chunk["bid"]
        ask = scaled_asks(bid, chunk["ask"], self.spread_scale)
        if self.digits is not None:
            bid, ask = np.round(bid, self.digits), np.round(ask, self.digits)
        out["bid"][k:] = bid
        out["ask"][k:] = ask
        out["flags"][k:] = chunk["flags"]
        self.buffer, self.times = out, times
        return True

    def round_to(self, digits: int) -> None:
        """Quote at ``digits`` decimals from now on, the ticks already buffered included."""
        self.digits = digits
        for side in ("bid", "ask"):
            self.buffer[side] = np.round(self.buffer[side], digits)

    def has_data(self) -> bool:
        """Load the next chunk when the buffer is used up; ``False`` at the end."""
        while not len(self.buffer) and not self.final:
            self._load(self.buffer, self.times)
        return len(self.buffer) > 0

    def extend(self) -> None:
        """Append the next chunk to what is left (the rest of the buffer shares one stamp)."""
        self._load(self.buffer, self.times)

    def count_before(self, horizon: int) -> int:
        """How many buffered ticks are stamped before ``horizon``."""
        return int(np.searchsorted(self.times, horizon, "left"))

    def take(self, end: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``end`` buffered ticks and their times (views), dropped from the buffer."""
        taken = self.buffer[:end], self.times[:end]
        self.buffer, self.times = self.buffer[end:], self.times[end:]
        return taken


def _merged(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered pieces (ticks, their times), in symbol order, as one time-ordered array
    and its times; equal stamps keep the pieces' order.

    The order is a stable sort of the contiguous times (it finds the pieces' runs); each
    piece is then scattered to its places as whole records (a void view: indexing a
    structured array with an index array copies it field by field, several times slower),
    so every tick is copied once."""
    if len(pieces) == 1:
        return pieces[0]
    times = np.concatenate([t for _, t in pieces])
    order = np.argsort(times, kind="stable")
    place = np.empty_like(order)
    place[order] = np.arange(len(order))
    out = np.empty(len(times), dtype=TICK_DTYPE)
    records = out.view(_TICK_RECORD)
    lo = 0
    for ticks, _ in pieces:
        records[place[lo:lo + len(ticks)]] = ticks.view(_TICK_RECORD)
        lo += len(ticks)
    return out, times.take(order)


class _Merger:
    """k-way merge of the symbol streams, a chunk at a time.

    Ticks are merged (one stable sort) up to a horizon: the earliest last stamp among the
    buffers of streams that have more to come, so every tick before the horizon is known
    for every symbol.  ``ticks_until`` is then one binary search into the merged buffer.
    """

    def __init__(self, streams: list[_SymbolStream]) -> None:
        self.streams = streams
        self.merged = np.empty(0, dtype=TICK_DTYPE)
        self.times = np.empty(0, dtype=np.int64)
        self.pos = 0

    def _refill(self) -> bool:
        while True:
            active = [s for s in self.streams if s.has_data()]
            if not active:
                return False
            open_ends = [int(s.times[-1]) for s in active if not s.final]
            horizon = min(open_ends) if open_ends else np.iinfo(np.int64).max
            pieces = [s.take(end) for s in active if (end := s.count_before(horizon))]
            if pieces:
                self.merged, self.times = _merged(pieces)
                self.pos = 0
                return True
            for stream in active:  # every buffer left holds only the horizon's stamp
                if not stream.final and int(stream.times[-1]) == horizon:
                    stream.extend()

    def next_time(self) -> int | None:
        if self.pos >= len(self.merged) and not self._refill():
            return None
        return int(self.times[self.pos])

    def peek_until(self, t_msc: int) -> np.ndarray | None:
        """The ticks ``take_until(t_msc)`` would return, left in place; None when they
        reach past the merged buffer (finding them would merge the next chunk)."""
        end = int(np.searchsorted(self.times, t_msc, "right"))
        if end >= len(self.merged):
            return None
        return self.merged[self.pos:max(end, self.pos)]

    def take_until(self, t_msc: int) -> np.ndarray:
        pieces: list[np.ndarray] = []
        while self.pos < len(self.merged) or self._refill():
            end = int(np.searchsorted(self.times, t_msc, "right"))
            if end <= self.pos:
                break
            pieces.append(self.merged[self.pos : end])
            self.pos = end
            if end < len(self.merged):
                break
        if not pieces:
            return empty_ticks()
        # a slice of the merged buffer, which is replaced, never written, on refill
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


# --------------------------------------------------------------------------------------------
# The feed


class ReplayFeed:
    """A ``MarketFeed`` over stored or file ticks; build it with ``from_store``/``from_files``."""

    def __init__(
        self,
        symbols: Sequence[str],
        streams: Sequence[Callable[[int], Iterator[np.ndarray]]],
        warmup: Mapping[str, np.ndarray],
        start_msc: int | None,
        end_msc: int | None,
        source_kinds: Mapping[str, str],
        chunk_rows: int = 65_536,
        spread_config: ReplayConfig | None = None,
    ) -> None:
        self._symbols = tuple(symbols)
        scale = spread_config.spread_scale if spread_config is not None else 1.0
        self._streams = [
            _SymbolStream(i, make(i), chunk_rows, scale) for i, make in enumerate(streams)
        ]
        self._merger = _Merger(self._streams)
        self._spread_config = spread_config
        self._warmup = self._with_spreads(warmup)
        self.source_kinds = dict(source_kinds)
        if start_msc is None:
            first = self._merger.next_time()
            if first is None:
                raise UserError("nothing to replay: no ticks in the selected range")
            start_msc = first
        self._start_msc = int(start_msc)
        self._end_msc = end_msc
        self._delivered_until = np.iinfo(np.int64).min
        self._exhausted = False

    def _with_spreads(self, warmup: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Warm-up bars with the spread filled where the source had none (HistData) by the
        model the generated ticks use, and scaled as they are: a terminal seeds its first
        quote from the last warm-up bar, and a NaN ask would poison every fill."""
        config = self._spread_config or ReplayConfig()
        out: dict[str, np.ndarray] = {}
        for symbol, bars in warmup.items():
            if not len(bars):
                continue
            missing = np.isnan(bars["spread"])
            if missing.any() or config.spread_scale != 1.0:
                fill = config.symbol_spread(symbol).fill if missing.any() else 0.0
                bars = bars.copy()
                bars["spread"] = filled_spreads(bars, fill) * config.spread_scale
            out[symbol] = bars
        return out

    def quote_at_digits(self, digits: Sequence[int]) -> None:
        """Quote every price at its symbol's decimals (``digits`` in the feed's symbol
        order), as a broker's feed does: HistData writes gold with three decimals where the
        broker quotes two, and a fill between two prices the broker can quote matches
        nothing the report can show.  Applies to the ticks still to come, those already
        buffered and the warm-up bars (their spread too, so close + spread is a price)."""
        if len(digits) != len(self._symbols):
            raise ValueError(f"{len(digits)} digits for {len(self._symbols)} symbols")
        for stream, places in zip(self._streams, digits, strict=True):
            stream.round_to(int(places))
        merged = self._merger.merged  # what finding the first tick already merged
        for index, places in enumerate(digits):
            mine = merged["symbol"] == index
            for side in ("bid", "ask"):
                merged[side][mine] = np.round(merged[side][mine], int(places))
        rounded: dict[str, np.ndarray] = {}
        for symbol, bars in self._warmup.items():
            places = int(digits[self._symbols.index(symbol)])
            bars = bars.copy()
            for name in ("open", "high", "low", "close", "spread"):
                bars[name] = np.round(bars[name], places)
            rounded[symbol] = bars
        self._warmup = rounded

    def spread_models(self) -> dict[str, str]:
        """Per symbol, the spread it is quoted with (recorded, or the model), for the report."""
        config = self._spread_config or ReplayConfig()
        return {s: config.describe(s, self.source_kinds.get(s, BARS)) for s in self._symbols}

    # -- MarketFeed --------------------------------------------------------------------------

    @property
    def symbols(self) -> Sequence[str]:
        return self._symbols

    @property
    def start_msc(self) -> int:
        return self._start_msc

    @property
    def end_msc(self) -> int | None:
        return self._end_msc

    def next_time(self) -> int | None:
        return self._merger.next_time()

    def ticks_until(self, t_msc: int) -> np.ndarray:
        if t_msc <= self._delivered_until:
            return empty_ticks()
        self._delivered_until = t_msc
        ticks = self._merger.take_until(t_msc)
        # asked now (the next step asks anyway), so the clock stops at the last tick's
        # minute rather than at the next signal bar the engine would skip to
        self._exhausted = self._merger.next_time() is None or (
            self._end_msc is not None and t_msc >= self._end_msc)
        return ticks

    def peek_until(self, t_msc: int) -> np.ndarray | None:
        """The ticks the next ``ticks_until(t_msc)`` would deliver, without delivering them
        (None when that cannot be known without reading on).  A backtest looks at the
        minutes ahead to find those in which nothing can happen (``engine.held_minutes``);
        every decision is still taken when its minute is stepped."""
        if t_msc <= self._delivered_until:
            return empty_ticks()
        return self._merger.peek_until(t_msc)

    @property
    def exhausted(self) -> bool:
        """Every tick has been delivered (or the clock reached ``end_msc``): a replay of
        files whose end is not known in advance stops here rather than running its clock on
        forever.  Set on the thread that takes the ticks; a plain bool for any reader."""
        return self._exhausted

    def warmup_bars(self) -> dict[str, np.ndarray]:
        """M1 bars opening before ``start_msc`` (at most ``warmup_days`` of them), from stored
        or file bars, or built from the ticks before the start when there are no bars."""
        return dict(self._warmup)

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def from_store(
        cls,
        store: MarketDataStore | str | Path,
        symbols: Sequence[str] | None = None,
        start_msc: int | None = None,
        end_msc: int | None = None,
        config: ReplayConfig | None = None,
    ) -> ReplayFeed:
        """Replay stored ticks; symbols with only M1 bars replay as "1 minute OHLC" ticks."""
        config = config or ReplayConfig()
        store = store if isinstance(store, MarketDataStore) else MarketDataStore(store)
        with_ticks = set(store.symbols(TICKS))
        with_bars = set(store.symbols(BARS))
        names = list(symbols) if symbols is not None else sorted(with_ticks | with_bars)
        if not names:
            raise UserError(f"{store.root}: the market-data store is empty")
        window = int(config.warmup_days * _DAY_MS)
        makers: list[Callable[[int], Iterator[np.ndarray]]] = []
        kinds: dict[str, str] = {}
        warmup: dict[str, np.ndarray] = {}
        for name in names:
            has_ticks, has_bars = name in with_ticks, name in with_bars
            if not (has_ticks or has_bars):
                raise UserError(f"{name}: no ticks or bars in the store {store.root}")
            use_ticks, use_bars = has_ticks, has_bars
            if has_ticks and has_bars:  # replay what covers the range, ``prefer`` if both do
                use_bars = _overlaps(store.time_range(BARS, name), start_msc, end_msc)
                use_ticks = _overlaps(store.time_range(TICKS, name), start_msc, end_msc)
                use_ticks = use_ticks or not use_bars
            kind = TICKS if use_ticks and (config.prefer == TICKS or not use_bars) else BARS
            kinds[name] = kind
            if start_msc is not None:
                warmup[name] = cls._store_warmup(store, name, start_msc, window, has_bars)
            if kind == TICKS:
                makers.append(
                    lambda _i, n=name: _clip_ticks(
                        store.iter_chunks(TICKS, n, start_msc, end_msc), start_msc, end_msc, None
                    )
                )
            else:
                spread = config.symbol_spread(name).fill
                makers.append(
                    lambda _i, n=name, s=spread: _bar_chunks_as_ticks(
                        store.iter_chunks(BARS, n, start_msc, end_msc), s, start_msc, end_msc,
                        None,
                    )
                )
        if end_msc is None:
            ranges = [store.time_range(kinds[n], n) for n in names]
            ends = [r[1] + (59_000 if kinds[n] == BARS else 0)
                    for n, r in zip(names, ranges, strict=True) if r]
            end_msc = max(ends) if ends else None
        return cls(names, makers, warmup, start_msc, end_msc, kinds, config.chunk_rows, config)

    @staticmethod
    def _store_warmup(
        store: MarketDataStore, symbol: str, start_msc: int, window_ms: int, has_bars: bool
    ) -> np.ndarray:
        low = start_msc - window_ms
        if has_bars:
            bars = store.read(BARS, symbol, low, start_msc - 1)
            if len(bars):
                return bars
        ticks = store.read(TICKS, symbol, low, start_msc - 1)
        return ticks_to_m1(ticks)

    @classmethod
    def from_files(
        cls,
        paths: Sequence[str | Path],
        start_msc: int | None = None,
        end_msc: int | None = None,
        *,
        server_time: ServerTimeZone | None = None,
        symbols: Mapping[str, str] | None = None,
        config: ReplayConfig | None = None,
    ) -> ReplayFeed:
        """Replay files directly, without importing them.  Files are grouped by symbol (from
        the file name, or ``symbols[path]``) and read in file-name order; ``server_time`` is
        needed for MT5 exports.  Bad rows are skipped (import the file to see them)."""
        config = config or ReplayConfig()
        window = int(config.warmup_days * _DAY_MS)
        grouped: dict[str, list[tuple[Path, DetectedFormat]]] = {}
        for raw in paths:
            path = Path(raw)
            detected = detect_file(path)
            given = (symbols or {}).get(str(raw)) or (symbols or {}).get(str(path))
            name = resolve_symbol(path, detected, given)
            grouped.setdefault(name, []).append((path, detected))
        if not grouped:
            raise UserError("no files to replay")
        names = list(grouped)
        collectors = {n: _WarmupCollector(start_msc, window) for n in names}
        kinds: dict[str, str] = {}
        makers: list[Callable[[int], Iterator[np.ndarray]]] = []
        for name in names:
            files = sorted(grouped[name], key=lambda item: item[0].name)
            file_kinds = {d.kind for _, d in files}
            if len(file_kinds) > 1:
                raise UserError(f"{name}: mixes tick and bar files; replay one kind per symbol")
            kinds[name] = file_kinds.pop()
            makers.append(
                lambda _i, n=name, f=tuple(files): cls._file_stream(
                    n, f, start_msc, end_msc, server_time, config, collectors[n]
                )
            )
        feed = cls(names, makers, {}, start_msc, end_msc, kinds, config.chunk_rows, config)
        for stream in feed._streams:  # prime: consumes everything before start (warmup)
            stream.has_data()
        feed._warmup = feed._with_spreads({n: collectors[n].bars() for n in names})
        return feed

    # -- M1 bars held in memory (the audit's surrogate markets) ------------------------------

    @classmethod
    def from_bars(
        cls,
        bars: Mapping[str, np.ndarray],
        start_msc: int | None = None,
        end_msc: int | None = None,
        *,
        config: ReplayConfig | None = None,
    ) -> ReplayFeed:
        """Replay M1 bars held in memory (``BAR_DTYPE``, time-ordered, one array per symbol)
        exactly as ``from_files`` replays the same bars read from HistData files: the same
        chunks, "1 minute OHLC" ticks, warm-up and spread model."""
        config = config or ReplayConfig()
        if not bars:
            raise UserError("no bars to replay")
        window = int(config.warmup_days * _DAY_MS)
        names = list(bars)
        collectors = {n: _WarmupCollector(start_msc, window) for n in names}
        makers: list[Callable[[int], Iterator[np.ndarray]]] = [
            lambda _i, n=name: _bar_chunks_as_ticks(
                _split(bars[n], max(1, config.chunk_rows // 4)),
                config.symbol_spread(n).fill, start_msc, end_msc, collectors[n])
            for name in names
        ]
        feed = cls(names, makers, {}, start_msc, end_msc, dict.fromkeys(names, BARS),
                   config.chunk_rows, config)
        for stream in feed._streams:  # prime: consumes everything before start (warmup)
            stream.has_data()
        feed._warmup = feed._with_spreads({n: collectors[n].bars() for n in names})
        return feed

    @staticmethod
    def _file_stream(
        symbol: str,
        files: Sequence[tuple[Path, DetectedFormat]],
        start_msc: int | None,
        end_msc: int | None,
        server_time: ServerTimeZone | None,
        config: ReplayConfig,
        warmup: _WarmupCollector,
    ) -> Iterator[np.ndarray]:
        def rows() -> Iterator[np.ndarray]:
            for path, detected in files:
                if detected.format == HISTDATA:
                    bars = read_histdata_m1(path, symbol).to_bar_array()
                    yield from _split(bars, max(1, config.chunk_rows // 4))
                else:  # the parsed-file cache's rows when it holds this file's
                    yield from parsed_rows(path, detected, server_time)

        if files and files[0][1].kind == BARS:
            spread = config.symbol_spread(symbol).fill
            return _bar_chunks_as_ticks(rows(), spread, start_msc, end_msc, warmup)
        return _clip_ticks(rows(), start_msc, end_msc, warmup)
