"""A replay of files or a store (the console's, ``replay``'s and ``run --replay``'s): the
backtest's market, traded the same way.

A replay in the window and a backtest of the same data and config must open the same
baskets at the same times.  They did not when the console replayed from the first bar
(the clusters warmed up inside the replay and traded there) to the last bar of the
longest file, while the backtest trades from the first UTC midnight after its warm-up to
the end of the shortest one.  So the console builds its feed with the backtest's own
``load_market`` (same period, same warm-up bars, same "1 minute OHLC" ticks, same spread
model) and its simulator as the backtest does (``max_bars`` large enough for the warm-up).

Data that no cluster can trade (one symbol of ticks, a slice shorter than the warm-up)
still opens: the market is replayed whole, and ``notes`` say which clusters cannot run and
why, for the window to show instead of empty panels.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import EngineConfig
from engine.errors import UserError
from engine.model import RunMode

if TYPE_CHECKING:
    from app.sessions import Session
    from engine.ports import EventCalendar


def open_console_replay(config: EngineConfig, files: Sequence[Path], store: Path | None,
                        journal: Path | None, start: datetime | None = None,
                        end: datetime | None = None) -> Session:
    """The replay the console runs: the backtest's period (``start``/``end`` when given,
    ``[start, end)``) when a cluster can trade the data, else the whole market;
    ``Session.notes`` say which clusters cannot run and why.  A period that does not fit
    the data is refused, not replaced by the whole market.  Another account's journal is
    replaced by a separate one beside it (``JournalChoice.separate``)."""
    return open_replay(config, files, store, journal, start, end, console=True)


def open_replay(config: EngineConfig, files: Sequence[Path], store: Path | None,
                journal: Path | None, start: datetime | None = None,
                end: datetime | None = None, *, console: bool = False,
                clusters: str | None = None, calendar: EventCalendar | None = None,
                ) -> Session:
    """A replay on the backtest's market (its period, warm-up bars, ticks and spreads), as
    the console opens it or, with ``console`` False, as ``replay`` and ``run --replay``
    do: data no cluster can trade is refused rather than shown, another account's journal
    is refused, and ``clusters`` (comma-separated names) must all fit the data."""
    from app.backtest.data import load_market
    from app.backtest.spec import BacktestSpec
    from app.sessions import cluster_gaps, fit_clusters

    if store is not None and not Path(store).is_dir():
        raise UserError(f"--store: no such directory: {store}")
    spec = BacktestSpec(config=config, source="store" if store is not None else "files",
                        paths=tuple(Path(f) for f in files), store=store, tick_mode="ohlc",
                        start=start, end=end)
    try:
        with tempfile.TemporaryDirectory(prefix="replay-") as work:
            # "ohlc" never imports: the folder stays empty and the feed reads the files
            market = load_market(spec, Path(work))
    except UserError as exc:
        if start is not None or end is not None:
            raise
        return _whole_market(config, files, store, journal, str(exc), console=console,
                             clusters=clusters, calendar=calendar)
    symbols = set(market.feed.symbols)
    traded = fit_clusters(config, symbols, clusters)
    session = _session(traded, market.feed, files, store, journal, console=console,
                       calendar=calendar)
    session.notes = [*(cluster_gaps(config, symbols) if not clusters else []), *market.notes]
    session.sources = _sources(files, store)
    return session


def _sources(files: Sequence[Path], store: Path | None) -> tuple[Path, ...]:
    return (Path(store),) if store is not None else tuple(Path(f) for f in files)


def _session(config: EngineConfig, feed: Any, files: Sequence[Path], store: Path | None,
             journal: Path | None, *, console: bool,
             calendar: EventCalendar | None) -> Session:
    """The simulator over ``feed`` as the backtest opens it (``app.backtest.run``), as the
    replay account of this market, journaling to the console's journal."""
    from app.backtest.spec import warmup_days
    from app.sessions import JournalChoice, sim_session
    from mt5bridge.sim import SimTerminal
    from mt5bridge.sim.identity import market_account, market_key

    account = market_account("replay", market_key([str(f) for f in files], store))
    history = (warmup_days(config) + 1) * 1440
    if history > account.max_bars:
        account = dataclasses.replace(account, max_bars=history)
    sim = SimTerminal(feed=feed, config=account)
    sim.initialize()
    return sim_session(config, sim, mode=RunMode.REPLAY, calendar=calendar,
                       journal=JournalChoice(journal, separate=console))


def _whole_market(config: EngineConfig, files: Sequence[Path], store: Path | None,
                  journal: Path | None, why: str, *, console: bool, clusters: str | None,
                  calendar: EventCalendar | None) -> Session:
    """Every bar of the data, with whatever clusters it feeds (they warm up inside it)."""
    from app.sessions import cluster_gaps, replay_session

    session = replay_session(config, [str(p) for p in files], clusters, journal, None,
                             store=store, allow_no_cluster=console, separate_journal=console,
                             calendar=calendar)
    if not console:  # the command line keeps the files' notes and says why
        session.notes = [*session.notes, f"not the backtest's period: {why}"]
        session.sources = _sources(files, store)
        return session
    symbols = set(session.sim.sim_feed.symbols) if session.sim is not None else set()
    notes = cluster_gaps(config, symbols)
    if not notes or session.engine.signals:
        notes.append(f"not the backtest's period: {why}")
    session.notes = notes
    session.sources = _sources(files, store)
    return session
