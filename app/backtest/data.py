"""The market a backtest trades on: a feed over files, a store or the synthetic market.

``load_market(spec, work)`` is the only entry: it reads the spec once and returns a
``MarketData`` (the feed, what the data covers per symbol, the news calendar and notes on
the period).  The traded period is the one asked for, moved to the first UTC midnight after
the warm-up the clusters need when the data starts later, and cut where the data ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.backtest.spec import (
    DAY_MS,
    LONG_WARMUP_DAYS,
    BacktestSpec,
    to_ms,
    to_utc,
    warmup_days,
    warmup_text,
)
from app.data_notes import file_notes, histdata_notes
from app.replay_feed import ReplayConfig, ReplayFeed
from app.sessions import fit_clusters, synthetic_calendar
from engine.config import EngineConfig
from engine.errors import UserError
from engine.ports import EventCalendar
from storage.file_spans import FileSpan, refuse_overlaps

#: What the data covers, per "SYMBOL M1" / "SYMBOL ticks" (or per symbol): first, last,
#: rows and source; the report shows it.
Ranges = dict[str, dict[str, Any]]

_DATA_SUFFIXES = (".csv", ".gz", ".txt", ".tsv")


@dataclass
class MarketData:
    """What a backtest trades on."""

    feed: Any  # a ReplayFeed, or the SyntheticMarket itself
    ranges: Ranges
    calendar: EventCalendar | None
    notes: list[str] = field(default_factory=list)
    #: Per symbol, the spread it is quoted with (recorded, or the model): the report says it.
    spreads: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Wanted:
    """The period asked for and the history its clusters need before it."""

    config: EngineConfig
    start_ms: int | None
    end_ms: int | None
    warm: int
    replay: ReplayConfig

    @classmethod
    def of(cls, spec: BacktestSpec) -> _Wanted:
        warm = warmup_days(spec.config)
        prefer = "ticks" if spec.tick_mode == "real" else "bars_m1"
        return cls(spec.config, to_ms(spec.start) if spec.start else None,
                   to_ms(spec.end) if spec.end else None, warm,
                   ReplayConfig(warmup_days=warm, prefer=prefer,
                                spread_model=spec.spread_model,
                                spread_profiles=spec.spread_profiles,
                                spread_scale=spec.spread_scale))


def data_notes(paths: Sequence[Path]) -> list[str]:
    """What a backtest of these files says of its HistData files (rows skipped as bad, a
    price that never moves; ``app.data_notes``): for the commands that run many backtests
    of the same files (walk-forward, sweep, audit), to say it once before they start."""
    return file_notes(_data_files(paths))


def data_symbols(paths: Sequence[Path]) -> set[str] | None:
    """The symbols the data files hold, told without reading them through: a wide daily
    file's header, or a file's name as the importers read it (HistData, MT5 exports); None
    when one file's cannot be told so (its backtest reads it to know)."""
    from storage.importers import detect_file
    from storage.importers.daily import is_wide_daily
    from storage.importers.formats import symbol_from_file_name
    from storage.importers.textfile import first_lines

    symbols: set[str] = set()
    for path in _data_files(paths):
        if is_wide_daily(path):
            header = first_lines(path, count=1)[0][0]
            symbols.update(name.strip().upper() for name in header.split(",")[1:])
            continue
        try:
            symbol = symbol_from_file_name(path, detect_file(path).format)
        except UserError:
            return None
        if symbol is None:
            return None
        symbols.add(symbol)
    return symbols


def load_market(spec: BacktestSpec, work: Path) -> MarketData:
    """The feed for ``spec``; files that must be imported first go to a store in ``work``."""
    from storage.importers import detect_file
    from storage.importers.daily import is_wide_daily
    from storage.marketdata import BARS, MarketDataStore

    if spec.source == "synthetic":
        return _synthetic(spec)
    wanted = _Wanted.of(spec)
    notes: list[str] = []
    if spec.source == "bars":  # M1 bars in memory (app/audit)
        assert spec.bars is not None
        feed, ranges = _memory_bars_feed(wanted, spec.bars, notes)
        return MarketData(feed, ranges, spec.calendar, notes)
    if spec.source == "store":
        assert spec.store is not None
        feed, ranges = _store_feed(wanted, MarketDataStore(spec.store), str(spec.store), notes)
        return MarketData(feed, ranges, spec.calendar, notes, feed.spread_models())
    files = _data_files(spec.paths)
    daily = [f for f in files if is_wide_daily(f)]
    if daily:  # daily closes: in memory, with any M1 bar files beside them
        feed, ranges, spreads = _daily_feed(wanted, files, daily, notes)
        return MarketData(feed, ranges, spec.calendar, notes, spreads)
    kinds = {f: detect_file(f).kind for f in files}
    if spec.tick_mode == "ohlc":
        # bars only: replay the files as they are (no import), ticks from each M1 bar
        bars = [f for f in files if kinds[f] == BARS]
        if not bars:
            raise UserError("--tick-mode ohlc needs M1 bar files; these hold ticks only "
                            "(use --tick-mode real)")
        feed, ranges = _bar_files_feed(wanted, bars, notes)
    else:
        origin = ", ".join(map(str, spec.paths))
        window = _import_window(wanted)
        store, summaries = _imported(files, work / "store", window)
        feed, ranges = _store_feed(wanted, store, origin, notes,
                                   None if window is None else _summary_ranges(summaries, origin))
    return MarketData(feed, ranges, spec.calendar, notes, feed.spread_models())


def _data_files(paths: Sequence[Path]) -> list[Path]:
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError(f"no such file or directory: {missing[0]}")
    # A file named on the command line is kept whatever it is, so that the reader refuses a
    # FIFO or a device by name; in a directory, only regular files are data files.
    files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])
             if (f is p or f.is_file()) and not f.name.startswith(".") and f.suffix.lower() in
             _DATA_SUFFIXES]
    if not files:
        raise UserError("no data files in " + ", ".join(str(p) for p in paths))
    return files


#: Days of data kept around a period in a scratch store (``_import_window``): before the
#: warm-up, for its own rounding to whole days and a start moved to the next midnight;
#: after the end, for what the feed delivers at its end instant.
WINDOW_MARGIN_DAYS = 7


def _import_window(wanted: _Wanted) -> tuple[int, int] | None:
    """What a backtest's scratch store needs of the files: from the warm-up before the
    period asked for to its end, with a margin either side; None (everything) when no
    period is asked for."""
    if wanted.start_ms is None and wanted.end_ms is None:
        return None
    margin = WINDOW_MARGIN_DAYS * DAY_MS
    lo = -2**62 if wanted.start_ms is None else wanted.start_ms - wanted.warm * DAY_MS - margin
    return lo, 2**62 if wanted.end_ms is None else wanted.end_ms + margin


def _imported(files: list[Path], root: Path,
              window: tuple[int, int] | None = None) -> tuple[Any, list[Any]]:
    """A market-data store at ``root`` holding the files' rows inside ``window`` (ticks
    and bars alike), and each file's import summary (what the whole file holds)."""
    from storage.importers import import_file
    from storage.marketdata import MarketDataStore

    store = MarketDataStore(root)
    summaries = []
    for f in files:
        summary = import_file(f, store, window=window)
        summaries.append(summary)
        # before "no usable rows": a second copy of a period adds nothing to the store
        refuse_overlaps(FileSpan(g, s.symbol, s.first_msc, s.last_msc, s.kind)
                        for g, s in zip(files, summaries, strict=False)
                        if s.first_msc is not None and s.last_msc is not None)
        outside = window is not None and summary.first_msc is not None and (
            summary.last_msc < window[0] or summary.first_msc >= window[1])
        if summary.imported == 0 and summary.rows_read and not outside:
            raise UserError(f"{f}: no usable rows ({summary.rows_read} read)")
    return store, summaries


def _summary_ranges(summaries: Sequence[Any], origin: str) -> Ranges:
    """What the files hold per symbol and kind, from their import summaries (a scratch
    store may hold only the period's window of them)."""
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for summary in summaries:
        if summary.first_msc is None or summary.last_msc is None:
            continue
        key = (summary.kind, summary.symbol)
        first, last = spans.get(key, (summary.first_msc, summary.last_msc))
        spans[key] = (min(first, summary.first_msc), max(last, summary.last_msc))
    # in the store's order: ticks, then M1 bars, each by symbol
    ordered = sorted(spans, key=lambda k: (k[0] != "ticks", k[1]))
    return {f"{symbol} {'ticks' if kind == 'ticks' else 'M1'}": {
        "first": to_utc(spans[(kind, symbol)][0]).isoformat(),
        "last": to_utc(spans[(kind, symbol)][1]).isoformat(), "rows": None, "source": origin}
        for kind, symbol in ordered}


def _store_feed(wanted: _Wanted, store: Any, origin: str, notes: list[str],
                ranges: Ranges | None = None) -> tuple[ReplayFeed, Ranges]:
    """The feed over ``store``; ``ranges`` what the data holds, by default the store's
    spans."""
    ranges = ranges if ranges is not None else _store_ranges(store, origin)
    if not ranges:
        raise UserError("the data holds no ticks and no bars")
    fit_clusters(wanted.config, {key.split()[0] for key in ranges})
    start_ms, end_ms = _period(ranges, wanted, notes)
    feed = ReplayFeed.from_store(store, start_msc=start_ms, end_msc=end_ms, config=wanted.replay)
    return feed, ranges


def _store_ranges(store: Any, origin: str) -> Ranges:
    ranges: Ranges = {}
    for kind in ("ticks", "bars_m1"):
        for symbol in store.symbols(kind):
            span = store.time_range(kind, symbol)
            if span is None:
                continue
            ranges[f"{symbol} {'ticks' if kind == 'ticks' else 'M1'}"] = {
                "first": to_utc(span[0]).isoformat(), "last": to_utc(span[1]).isoformat(),
                "rows": None, "source": origin}
    return ranges


def _bar_files_feed(wanted: _Wanted, files: list[Path],
                    notes: list[str]) -> tuple[ReplayFeed, Ranges]:
    """Replay M1 bar files directly; the period defaults to the data after the warm-up.

    The HistData files are read once for their spans; the replay then takes those reads
    (``storage.histdata.reusing_reads``) instead of reading the files again."""
    from storage.histdata import reusing_reads

    with reusing_reads():
        ranges = _bar_file_ranges(files, notes)
        start_ms, end_ms = wanted.start_ms, wanted.end_ms
        if ranges:
            fit_clusters(wanted.config, {key.split()[0] for key in ranges})
            start_ms, end_ms = _period(ranges, wanted, notes)
        feed = ReplayFeed.from_files(files, start_msc=start_ms, end_msc=end_ms,
                                     config=wanted.replay)
    if not ranges:
        ranges = {s: {"first": None, "last": None, "rows": None, "source": "files"}
                  for s in feed.symbols}
    if feed.end_msc is not None and start_ms is not None and feed.end_msc <= start_ms:
        raise UserError("empty period: the files hold no data after the warm-up")
    return feed, ranges


def _memory_bars_feed(wanted: _Wanted, bars: Mapping[str, np.ndarray],
                      notes: list[str]) -> tuple[ReplayFeed, Ranges]:
    """Replay M1 bars held in memory, as ``_bar_files_feed`` replays bar files."""
    ranges: Ranges = {
        f"{symbol} M1": {"first": to_utc(int(b["time"][0]) * 1000).isoformat(),
                         "last": to_utc(int(b["time"][-1]) * 1000).isoformat(),
                         "rows": len(b), "source": "M1 bars in memory"}
        for symbol, b in bars.items() if len(b)}
    if not ranges:
        raise UserError("the data holds no bars")
    fit_clusters(wanted.config, {key.split()[0] for key in ranges})
    start_ms, end_ms = _period(ranges, wanted, notes)
    feed = ReplayFeed.from_bars({s: b for s, b in bars.items() if len(b)}, start_ms, end_ms,
                                config=wanted.replay)
    return feed, ranges


def _daily_feed(wanted: _Wanted, files: list[Path], daily: list[Path],
                notes: list[str]) -> tuple[ReplayFeed, Ranges, dict[str, str]]:
    """Daily-close files (``app.backtest.daily``: each close at 16:00 New York) replayed
    from memory, with the M1 bars of any HistData files beside them.  Of the daily files'
    columns, the configured clusters' symbols (all columns when the config names none)."""
    from app.backtest.daily import daily_market_bars, spread_text
    from mt5bridge.sim.symbols import BROKER_SPECS
    from storage.histdata import histdata_symbol, read_histdata_m1

    others = [f for f in files if f not in daily]
    unknown = [f for f in others if histdata_symbol(f) is None]
    if unknown:
        raise UserError(f"{unknown[0]}: daily-close files replay with HistData M1 bar files "
                        "only (not ticks or MT5 exports)")
    configured = set(wanted.config.symbols)
    points = {s: spec.point for s, spec in BROKER_SPECS.items()}
    bars = daily_market_bars(daily, configured or None, points)
    if not bars:
        bars = daily_market_bars(daily, None, points)
    ranges: Ranges = {}
    for symbol, b in bars.items():
        ranges[f"{symbol} D1"] = {"first": to_utc(int(b["time"][0]) * 1000).isoformat(),
                                  "last": to_utc(int(b["time"][-1]) * 1000).isoformat(),
                                  "rows": len(b), "source": "daily closes, " + ", ".join(
                                      str(f) for f in daily)}
    m1: dict[str, list[np.ndarray]] = {}
    reads = [(f, read_histdata_m1(f, str(histdata_symbol(f)))) for f in others]
    refuse_overlaps(_file_span(f, r) for f, r in reads if r.first_time is not None)
    for _, read in reads:
        m1.setdefault(read.symbol, []).append(read.to_bar_array())
    for symbol, parts in m1.items():
        merged = np.sort(np.concatenate(parts), order="time", kind="stable")
        bars[symbol] = merged
        ranges[f"{symbol} M1"] = {"first": to_utc(int(merged["time"][0]) * 1000).isoformat(),
                                  "last": to_utc(int(merged["time"][-1]) * 1000).isoformat(),
                                  "rows": len(merged), "source": "HistData M1"}
    fit_clusters(wanted.config, {key.split()[0] for key in ranges})
    start_ms, end_ms = _period(ranges, wanted, notes)
    feed = ReplayFeed.from_bars(bars, start_ms, end_ms, config=wanted.replay)
    spreads = feed.spread_models()
    spreads.update(dict.fromkeys((s for s in bars if s not in m1), spread_text()))
    return feed, ranges, spreads


def _bar_file_ranges(files: list[Path], notes: list[str] | None = None) -> Ranges:
    """First and last bar and rows per symbol of HistData files (others are not listed),
    from one read of each file (through the parsed-file cache).  Rows the reader skipped
    as bad (``storage.histdata``: text in a price, a price that cannot be, a stamp out of
    order) are said in ``notes``: a backtest on damaged data is not silently a backtest on
    less data."""
    from storage.histdata import histdata_symbol, read_histdata_files

    histdata = [f for f in files if histdata_symbol(f) is not None]
    results = read_histdata_files(histdata)
    refuse_overlaps(_file_span(f, r) for f, r in zip(histdata, results, strict=True)
                    if r.first_time is not None)
    ranges: Ranges = {}
    for f, result in zip(histdata, results, strict=True):
        first_dt, last_dt, rows = _span_of(f, result)
        if notes is not None:
            notes += histdata_notes(result, f)
        key = f"{result.symbol} M1"
        prev = ranges.get(key)
        first, last = first_dt.isoformat(), last_dt.isoformat()
        if prev:
            first, last = min(prev["first"], first), max(prev["last"], last)
        ranges[key] = {"first": first, "last": last,
                       "rows": rows + (prev["rows"] if prev else 0), "source": str(f)}
    return ranges


def _file_span(path: Path, result: Any) -> FileSpan:
    """What one HistData file's read covers, to refuse two files of a symbol that overlap."""
    return FileSpan(path, result.symbol, to_ms(result.first_time.to_pydatetime()),
                    to_ms(result.last_time.to_pydatetime()))


def _histdata_span(path: Path) -> tuple[datetime, datetime, int]:
    """First and last bar time (UTC) and data rows of a HistData file.

    Taken from the file's read (``storage.histdata``: the parsed-file cache, or the parse),
    never from a second pass over the text: regular files only, damaged gzip refused, the
    encoding from the first bytes, lines of bounded length, every bad row skipped (so the
    span is that of the bars the replay replays)."""
    from storage.histdata import read_histdata_files

    return _span_of(path, read_histdata_files([path])[0])


def _span_of(path: Path, result: Any) -> tuple[datetime, datetime, int]:
    """The span of a file's read; a file without rows, or without one usable row, is an
    error (as the import says it)."""
    if result.rows_read == 0:
        raise UserError(f"{path}: empty file")
    if result.first_time is None:
        raise UserError(f"{result.problems[0]}; no row of the file is usable "
                        f"({result.rows_read} read, all rejected)")
    return (result.first_time.to_pydatetime(), result.last_time.to_pydatetime(),
            result.rows_read)


def _period(ranges: Ranges, wanted: _Wanted, notes: list[str]) -> tuple[int, int]:
    """The traded period: at the earliest ``warm`` days after every symbol has data.

    A symbol's data starts with the earlier of its bars and ticks (bars before recorded
    ticks are its warm-up) and ends with the later of the two.
    """
    first_by: dict[str, pd.Timestamp] = {}
    last_by: dict[str, pd.Timestamp] = {}
    for key, r in ranges.items():
        symbol = key.split()[0]
        if r["first"]:
            t = pd.Timestamp(r["first"])
            first_by[symbol] = min(first_by.get(symbol, t), t)
        if r["last"]:
            t = pd.Timestamp(r["last"])
            last_by[symbol] = max(last_by.get(symbol, t), t)
    firsts = list(first_by.values())
    lasts = list(last_by.values())
    warm = wanted.warm
    earliest = to_ms(max(firsts).to_pydatetime()) + warm * DAY_MS
    earliest = -(-earliest // DAY_MS) * DAY_MS  # the next UTC midnight
    data_end = to_ms(min(lasts).to_pydatetime()) + 60_000
    if earliest >= data_end:
        raise UserError(f"empty period: the data cannot warm the clusters up "
                        f"({warmup_text(wanted.config)}; the data runs "
                        f"{max(firsts):%Y-%m-%d} .. {min(lasts):%Y-%m-%d}){_said(notes)}")
    start_ms = wanted.start_ms
    if start_ms is None:
        start_ms = earliest
        if warm > LONG_WARMUP_DAYS:
            notes.append(f"trading starts {to_utc(earliest):%Y-%m-%d}, after the warm-up "
                         f"({warmup_text(wanted.config)})")
    elif start_ms < earliest:
        notes.append(f"trading starts {to_utc(earliest):%Y-%m-%d}, not "
                     f"{to_utc(start_ms):%Y-%m-%d}: the data starts {max(firsts):%Y-%m-%d %H:%M} "
                     f"UTC and the engine needs {warm} days of history first "
                     f"({warmup_text(wanted.config)})")
        start_ms = earliest
    end_ms = data_end if wanted.end_ms is None else min(wanted.end_ms, data_end)
    if wanted.end_ms is not None and wanted.end_ms > data_end:
        notes.append(f"trading ends {to_utc(data_end):%Y-%m-%d %H:%M} UTC, not "
                     f"{to_utc(wanted.end_ms - 1):%Y-%m-%d}: the data of "
                     f"{min(last_by, key=last_by.__getitem__)} ends there")
    if end_ms <= start_ms:
        raise UserError(f"empty period: {to_utc(start_ms):%Y-%m-%d} .. "
                        f"{to_utc(end_ms - 1):%Y-%m-%d} "
                        f"(the data does not cover it after the warm-up){_said(notes)}")
    return start_ms, end_ms


def _said(notes: list[str]) -> str:
    """What the notes say of the data so far (rows skipped), for an error the data caused:
    the skipped rows may be why the data falls short."""
    return "".join(f"; {note}" for note in notes)


def _synthetic(spec: BacktestSpec) -> MarketData:
    """The synthetic market over the period; its own news calendar unless one is given."""
    from app.basis_start import simulated_futures, without_auto
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket

    if spec.spread_scale != 1.0:
        raise UserError("spreads can be scaled on recorded data only: the synthetic market "
                        "quotes its own spreads")
    start = spec.start or datetime(2024, 1, 8, tzinfo=UTC)
    end = spec.end or datetime(start.year + 1, start.month, start.day, tzinfo=UTC)
    if end <= start:
        raise UserError(f"--to {end:%Y-%m-%d} is not after --from {start:%Y-%m-%d}")
    symbols = without_auto(spec.config.symbols)
    futures = simulated_futures(spec.config, int(start.timestamp() * 1000) - 60 * DAY_MS,
                                int(end.timestamp() * 1000))  # basis clusters' contracts
    market = SyntheticMarket(MarketConfig(seed=spec.seed, start=start, end=end,
                                          latency=spec.latency, symbols=_with_converters(symbols),
                                          futures=futures))
    ranges = {s: {"first": start.isoformat(), "last": end.isoformat(), "rows": None,
                  "source": f"synthetic market, seed {spec.seed}"} for s in market.symbols}
    calendar = spec.calendar
    if calendar is None:
        calendar = synthetic_calendar(market, market.start_msc - 7 * DAY_MS,
                                      (market.end_msc or market.start_msc) + 7 * DAY_MS)
    spreads = {s: "the synthetic market's own quotes" for s in market.symbols}
    return MarketData(market, ranges, calendar, spreads=spreads)


def _with_converters(symbols: Sequence[str]) -> tuple[str, ...]:
    """The symbols plus whatever the account currency needs to value every currency (of the
    FX and metal names: the synthetic market has no other)."""
    from engine.instruments import fx_instrument
    from mt5bridge.sim.symbols import SYMBOL_SPECS

    ccys = {c for s in symbols if (inst := fx_instrument(s)) for c in inst.parts} - {"USD"}
    extra = [f"{c}USD" if f"{c}USD" in SYMBOL_SPECS else f"USD{c}" for c in sorted(ccys)]
    return tuple(dict.fromkeys([*symbols, *[e for e in extra if e in SYMBOL_SPECS]]))


def spread_params(spec: BacktestSpec, market: MarketData) -> dict[str, Any]:
    """What the report says of spreads: the model asked for (``spread_model``, with the
    scale when it is not 1) and, per symbol, the spread it was actually quoted with."""
    model = spec.spread_model if spec.source != "synthetic" else "synthetic market"
    if spec.spread_scale != 1.0:
        model += f", every spread x {spec.spread_scale:g}"
    return {"spread_model": model, "spreads": dict(market.spreads)}
