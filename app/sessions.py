"""Assembling a trading session: terminal, driver, journal, calendar and engine for a mode.

The CLI (``run``, ``backtest``, ``replay``) and the console build their sessions here, so
a demo in the window and a demo on the command line are the same engine on the same
market.  Every mode puts the engine behind ``LiveTerminal``: over the real MetaTrader5
module in live, over the simulated terminal otherwise.

Each session asks its terminal which account it trades before it opens the journal, and
opens that account's journal: by default its own file (``storage.paths``:
``journals/live-<server>-<login>.sqlite``, ``journals/demo.sqlite``, a file per replayed
market), and a journal given with ``--journal`` only if it belongs to that account (or to
none yet).  The command line refuses another account's journal; the console opens a separate
journal beside it instead and says so.  The session also hands the engine the account's
epoch (``engine.records.RunStart``): the simulator's, which decides that a run over a fresh
simulator adopts no baskets of an earlier one, and ``""`` for a broker's account.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.basis_start import resolve_basis, simulated_futures, without_auto
from engine.calendar import StaticCalendar
from engine.cluster import ClusterSpec
from engine.config import EngineConfig
from engine.errors import UserError
from engine.model import RunMode
from engine.ports import EventCalendar
from engine.records import AccountIdentity
from engine.runner import Engine
from engine.startup import account_identity
from mt5bridge.drivers import LiveDriver, SimDriver
from mt5bridge.live import LiveConfig, LiveTerminal
from storage.journal import JournalOfAnotherAccount, SqliteJournal
from storage.paths import account_journal_path, default_journal_path


@dataclass
class Session:
    engine: Engine
    terminal: LiveTerminal
    sim: Any  # the SimTerminal (None in live)
    journal: SqliteJournal
    mode: RunMode
    calendar: EventCalendar | None = None
    #: What the console shows about the session before anything trades: the clusters that
    #: cannot run on a replay's data and why (``app.console_replay``).
    notes: list[str] = field(default_factory=list)
    #: A replay's files, or its store: what "Replay again" opens.
    sources: tuple[Path, ...] = ()

    def close(self) -> None:
        self.journal.close()


def _adapter_over_sim(sim: Any, symbols: Sequence[str]) -> LiveTerminal:
    """The live adapter over a simulated terminal: same conventions, no real waiting."""
    adapter = LiveTerminal(
        module=sim,
        config=LiveConfig(symbols=tuple(symbols), symbol_suffix=sim.sim_config.symbol_suffix,
                          server_tz=sim.sim_config.server_tz),
        sleep=lambda _s: None,
        utc_now=lambda: sim.sim_now_msc() / 1000,
    )
    adapter.connect()
    return adapter


@dataclass(frozen=True)
class JournalChoice:
    """Which journal a session opens: ``path`` (None: the account's default), and, when it
    belongs to another account, a separate one beside it (``separate``: the console) or a
    refusal (the command line).  ``primary`` names the mode's primary simulated account
    (the default demo), whose default file is ``journals/<mode>.sqlite``."""

    path: str | Path | None = None
    separate: bool = False
    primary: bool = False


def _open_journal(choice: JournalChoice, mode: RunMode,
                  account: AccountIdentity | None) -> tuple[SqliteJournal, str | None]:
    """The session's journal, and a note for the trader when a separate one was opened."""
    # Backtests and replays trade a simulated account: NORMAL durability is enough there
    # and several times faster; live and demo keep FULL.
    sync = "NORMAL" if mode in (RunMode.BACKTEST, RunMode.REPLAY) else "FULL"
    if choice.path is None:
        path = (account_journal_path(account, primary=choice.primary) if account is not None
                else default_journal_path())
        return SqliteJournal.open(path, synchronous=sync, account=account), None
    try:
        return SqliteJournal.open(choice.path, synchronous=sync, account=account), None
    except JournalOfAnotherAccount as exc:
        if not choice.separate:
            raise
        given = Path(choice.path)
        own = account_journal_path(exc.wanted, primary=False)
        beside = given.with_name(f"{given.stem}-{own.stem}{given.suffix or own.suffix}")
        journal = SqliteJournal.open(beside, synchronous=sync, account=exc.wanted)
        return journal, (f"{given} belongs to the {exc.bound.describe()}; this session "
                         f"journals to {beside}")


def _build_engine(config: EngineConfig, adapter: LiveTerminal, driver: Any, mode: RunMode,
                  choice: JournalChoice, epoch: str, calendar: EventCalendar | None,
                  run_id: str | None = None,
                  basis_notes: list[str] | None = None) -> tuple[Engine, SqliteJournal]:
    """The journal of the account ``adapter`` is logged in to, and the engine on it.
    ``basis_notes``: the basis clusters were resolved already (a live session), with
    these notes."""
    notes: list[str] = []
    if basis_notes is None:
        config = resolve_basis(config, adapter, driver.now_msc() // 1000, notes.append)
    else:
        notes.extend(basis_notes)
    account = account_identity(adapter, mode)
    journal, note = _open_journal(choice, mode, account)
    deal_notes: list[str] = []
    if mode is not RunMode.BACKTEST:  # the trader's deals on this journal (app.deals)
        from app.deals import with_journaled_deals
        config = with_journaled_deals(config, journal, driver.symbols, deal_notes)
    try:
        engine = Engine(config, adapter, driver, journal, mode=mode, calendar=calendar,
                        run_id=run_id, account=account, epoch=epoch)
    except BaseException:
        journal.close()  # a backtest's journal lives in a folder that is about to go
        raise
    engine.start_notes.extend(notes)  # a basis cluster's contract (app.basis_start)
    if note is not None:
        engine.start_notes.append(note)
    engine.start_notes.extend(deal_notes)
    return engine, journal


def sim_session(config: EngineConfig, sim: Any, *, mode: RunMode,
                journal_path: str | Path | None = None,
                calendar: EventCalendar | None = None, run_id: str | None = None,
                journal: JournalChoice | None = None) -> Session:
    """A session over a simulated terminal whose feed is already set (demo, replay).

    ``journal`` chooses the journal in full; ``journal_path`` alone is the command line's
    choice (that file, refused if it belongs to another account; None: the account's own).
    The simulator's account epoch goes to the engine, so a terminal served by another
    process (``mt5bridge.remote``) that outlives this one is reconciled as live is.
    """
    names = [str(s) for s in sim.sim_symbols()]
    sim_config = sim.sim_config
    suffix = sim_config.symbol_suffix
    canonical = [n[: -len(suffix)] if suffix and n.endswith(suffix) else n for n in names]
    adapter = _adapter_over_sim(sim, canonical)
    driver = SimDriver(sim, canonical, canonical=adapter.canonical_symbol)
    choice = journal if journal is not None else JournalChoice(journal_path)
    epoch = str(getattr(sim_config, "account_epoch", "") or "")
    engine, opened = _build_engine(config, adapter, driver, mode, choice, epoch, calendar,
                                   run_id)
    return Session(engine, adapter, sim, opened, mode, calendar)


#: Where the demo market starts unless told otherwise (``run --demo --from``).
DEMO_START = datetime(2024, 1, 8, tzinfo=UTC)


def demo_session(config: EngineConfig, *, seed: int = 0, start: datetime | None = None,
                 journal_path: str | Path | None = None, latency: bool = True,
                 symbols: Sequence[str] | None = None, end: datetime | None = None,
                 sim_config: Any = None, calendar: EventCalendar | None = None,
                 history_days: int = 0, separate_journal: bool = False) -> Session:
    """The built-in demo: the synthetic market with its own news calendar.

    ``symbols`` restricts the market (default: every symbol the broker lists); ``end``
    makes the feed finite; ``calendar`` replaces the market's own calendar.  The account is
    the demo account of ``seed`` (``mt5bridge.sim.identity``); its default journal is
    ``journals/demo.sqlite`` for seed 0.  ``separate_journal``: see ``JournalChoice``.
    """
    from mt5bridge.sim import SimTerminal
    from mt5bridge.sim.identity import demo_account
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket

    start = start or DEMO_START
    extra: dict[str, Any] = {"symbols": tuple(symbols)} if symbols is not None else {}
    if history_days:
        extra["warmup_days"] = history_days + 5
    first = int(start.timestamp() * 1000)
    futures = simulated_futures(config, first - 60 * 86_400_000,
                                int(end.timestamp() * 1000) if end else first + 120 * 86_400_000)
    if futures:  # a basis cluster's contracts (app.basis_start)
        extra["futures"] = futures
    market = SyntheticMarket(MarketConfig(seed=seed, start=start, end=end, latency=latency,
                                          **extra))
    sim = SimTerminal(feed=market, config=demo_account(seed, sim_config))
    sim.initialize()
    if calendar is None:
        calendar = synthetic_calendar(market, first - 7 * 86_400_000, first + 400 * 86_400_000)
    choice = JournalChoice(journal_path, separate=separate_journal, primary=seed == 0)
    session = sim_session(config, sim, mode=RunMode.DEMO, calendar=calendar, journal=choice)
    session.engine.history_days = history_days
    return session


def synthetic_calendar(market: Any, from_msc: int, to_msc: int) -> StaticCalendar:
    """The synthetic market's scheduled events as the engine's calendar."""
    from engine.calendar import CoverageSpan, EconomicEvent
    from engine.model import Impact

    events = [EconomicEvent(time=datetime.fromtimestamp(e.time_msc / 1000, tz=UTC),
                            currency=e.currency, impact=Impact.parse(e.impact), title=e.title,
                            source="synthetic", source_id=f"syn-{e.time_msc}-{e.currency}")
              for e in market.calendar_events(from_msc, to_msc)]
    span = CoverageSpan(datetime.fromtimestamp(from_msc / 1000, tz=UTC),
                        datetime.fromtimestamp(to_msc / 1000, tz=UTC), "synthetic market")
    return StaticCalendar(events, coverage=[span])


def live_session(config: EngineConfig, live: LiveConfig, *,
                 journal_path: str | Path | None = None,
                 calendar: EventCalendar | None = None,
                 separate_journal: bool = False, module: Any = None,
                 fit_to_broker: bool = False,
                 clock: Callable[[], float] = time.time) -> Session:
    """The real terminal (Windows with the MetaTrader5 package).

    ``module``: the MetaTrader5 module to trade through (``mt5bridge.terminals``: a
    terminal server's or an mt5linux server's, for ``--terminal``); None: this Python's
    package.  The journal is the account's (``journals/live-<server>-<login>.sqlite`` by
    default); a broker's account outlives every process, so its epoch is ``""`` and every
    restart reconciles what the journal holds open.

    ``fit_to_broker`` (the shipped clusters, none chosen): the clusters whose symbols the
    broker offers, the others left out and named in ``notes``; none is an error.  Clusters
    the user chose are taken as given: a symbol the broker lacks is an error.

    A basis cluster's ``"auto"`` contract is read from the broker's list once connected
    (``app.basis_start``); the contract and the later ones on its cash symbol (a roll's
    targets) are then mapped, selected and fed with the rest.  ``clock``: UTC seconds now
    (the machine's; a simulated terminal's in tests)."""
    notes: list[str] = []

    def to_connect() -> tuple[str, ...]:  # a basis cluster's "auto" is resolved after
        return tuple(dict.fromkeys([*without_auto(config.symbols), *live.symbols]))

    def keep(offered: set[str]) -> tuple[str, ...]:
        nonlocal config
        lacking = clusters_lacking(config, offered | set(live.symbols))
        if all(lacking.values()):
            raise UserError("no configured cluster can trade on this broker: " + "; ".join(
                f"{name} needs {', '.join(symbols)}" for name, symbols in lacking.items()))
        notes.extend(f"{name} left out: the broker does not offer {', '.join(symbols)}"
                     for name, symbols in lacking.items() if symbols)
        config = config.with_clusters([name for name, symbols in lacking.items()
                                       if not symbols])
        return to_connect()

    adapter = LiveTerminal(module=module, utc_now=clock,
                           config=LiveConfig(**{**live.__dict__, "symbols": to_connect()}))
    adapter.connect(keep if fit_to_broker else None)
    try:
        basis_notes: list[str] = []
        config = resolve_basis(config, adapter, int(clock()), basis_notes.append)
    except BaseException:
        adapter.close()
        raise
    driver = LiveDriver(adapter, adapter.config.symbols, clock)
    account = account_identity(adapter, RunMode.LIVE)
    if account is None:
        raise UserError("the MetaTrader 5 terminal reports no account: log in to one first")
    choice = JournalChoice(journal_path, separate=separate_journal)
    if calendar is None:
        calendar = imported_calendar(notes.append)
    engine, journal = _build_engine(config, adapter, driver, RunMode.LIVE, choice, "", calendar,
                                    basis_notes=basis_notes)
    return Session(engine, adapter, None, journal, RunMode.LIVE, calendar, notes=notes)


def imported_calendar(say: Callable[[str], None]) -> StaticCalendar | None:
    """The economic calendar imported into the data directory (``main.py import calendar``,
    the console's Calendar tab), as the immutable copy the engine's thread reads; None, and
    a note saying the news filter is off, when none was imported.

    Live trading filters news as the backtests do: a session that ignored the imported
    calendar would trade through the releases the trader loaded it for.  The copy is taken
    at the start; a file imported later reaches a running console through its Calendar tab,
    and a command-line run at its next start.  Past its coverage the calendar is stale, and
    the stale policy (``block`` by default) holds entries back, visibly."""
    from storage.calendar import Calendar, default_calendar_path

    path = default_calendar_path()
    if not path.is_file():
        say(f"no economic calendar imported ({path} does not exist): the news filter is off; "
            f"import one with main.py import calendar FILES")
        return None
    with Calendar.open(path, create=False) as calendar:
        return calendar.snapshot()


def cluster_needs(config: EngineConfig, cluster: ClusterSpec) -> set[str]:
    """The symbols a cluster cannot run without: its own (a basis cluster's automatic
    futures aside) and its factor's."""
    return {*without_auto(cluster.symbols), *config.factor_symbols(cluster)}


def clusters_lacking(config: EngineConfig, symbols: set[str]) -> dict[str, list[str]]:
    """Per configured cluster, the symbols it needs that are not in ``symbols`` (sorted;
    empty for a cluster that can run)."""
    return {c.name: sorted(cluster_needs(config, c) - symbols) for c in config.clusters}


def cluster_gaps(config: EngineConfig, symbols: set[str]) -> list[str]:
    """"GBP_BLOC: no data for EURGBP, GBPJPY" for every configured cluster the data lacks a
    symbol of (its factor's count): what ``fit_clusters`` leaves out, said where the run
    reports (a backtest's notes, a replay's, the console's), never dropped in silence."""
    return [f"{name}: no data for {', '.join(missing)}"
            for name, missing in clusters_lacking(config, symbols).items() if missing]


def fit_clusters(config: EngineConfig, symbols: set[str], wanted: str | None = None, *,
                 allow_none: bool = False) -> EngineConfig:
    """The clusters a session can trade on data that holds ``symbols``.

    ``wanted`` (``--clusters A,B``) names them and is taken as given.  Otherwise every
    configured cluster whose symbols are all in the data; none is an error naming what each
    cluster lacks, unless ``allow_none`` (the console shows the market of data no cluster
    can trade).
    """
    if wanted:
        return config.with_clusters([c.strip() for c in wanted.split(",") if c.strip()])
    lacking = clusters_lacking(config, symbols)
    fitting = [name for name, missing in lacking.items() if not missing]
    if not fitting and not allow_none:
        needs = "; ".join(f"{name} needs {', '.join(missing)}"
                          for name, missing in lacking.items())
        raise UserError(f"no configured cluster can trade these symbols: {sorted(symbols)} "
                        f"(no data: {needs})")
    return config.with_clusters(fitting)


def _period_text(start_msc: int | None, end_msc: int | None) -> str:
    """"from 2019-06-03 00:00 UTC up to 2019-06-05 00:00 UTC" (``end_msc`` excluded)."""
    def at(msc: int) -> str:
        return f"{datetime.fromtimestamp(msc / 1000, UTC):%Y-%m-%d %H:%M} UTC"

    parts = ([f"from {at(start_msc)}"] if start_msc is not None else []) + \
        ([f"up to {at(end_msc)}"] if end_msc is not None else [])
    return " ".join(parts)


def replay_session(config: EngineConfig, files: list[str], clusters: str | None,
                   journal: Path | None, server_offset: str | None,
                   mode: RunMode = RunMode.REPLAY, store: Path | None = None,
                   start_msc: int | None = None, end_msc: int | None = None,
                   allow_no_cluster: bool = False, separate_journal: bool = False,
                   calendar: EventCalendar | None = None) -> Session:
    """A replay over files or a store; ``allow_no_cluster`` lets the console show the
    market of data no cluster can trade (the headless run refuses it: nothing to do);
    ``calendar`` the news filter's events (None: no filter).

    The account is the replay account of these files or this store
    (``mt5bridge.sim.identity``), with a default journal of its own."""
    from app.data_notes import file_notes
    from app.replay_feed import ReplayFeed
    from mt5bridge.sim import SimTerminal
    from mt5bridge.sim.identity import market_account, market_key
    from storage.histdata import reusing_reads
    from storage.importers import parse_server_time

    notes: list[str] = []
    if store is not None:
        if not Path(store).is_dir():
            raise UserError(f"--store: no such directory: {store}")
        feed = ReplayFeed.from_store(store, start_msc=start_msc, end_msc=end_msc)
    else:
        missing = [f for f in files if not Path(f).exists()]
        if missing:
            raise UserError(f"no such file: {missing[0]}")
        tz = parse_server_time(server_offset) if server_offset else None
        with reusing_reads():  # the files read once: for their notes, then by the replay
            notes = file_notes([Path(f) for f in files])
            feed = ReplayFeed.from_files([Path(f) for f in files], start_msc=start_msc,
                                         end_msc=end_msc, server_time=tz)
    if (start_msc is not None or end_msc is not None) and feed.next_time() is None:
        raise UserError(f"empty period: the data holds no ticks {_period_text(start_msc, end_msc)}")
    if not clusters:  # the clusters the data cannot feed, named (chosen ones must fit)
        notes = [*cluster_gaps(config, set(feed.symbols)), *notes]
    config = fit_clusters(config, set(feed.symbols), clusters, allow_none=allow_no_cluster)
    kind = "backtest" if mode is RunMode.BACKTEST else "replay"
    sim = SimTerminal(feed=feed, config=market_account(kind, market_key(files, store)))
    sim.initialize()
    session = sim_session(config, sim, mode=mode, calendar=calendar,
                          journal=JournalChoice(journal, separate=separate_journal))
    session.notes = [*session.notes, *notes]  # what the files hold that it does not take
    return session
