"""What the desktop console asks of the application, in one place.

The console's widgets import the engine's public vocabulary and this module, never the
persistence or terminal layers: opening a session and its pacer for demo, replay or live,
a read-only journal connection for the history views, calendar imports, where the
console keeps its settings, and the simulator's price digits of a symbol.

The chart imports this module for ``symbol_digits``: it stays light to import, and the
heavier layers load on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.errors import UserError

if TYPE_CHECKING:
    from app.sessions import Session
    from engine.calendar import CoverageSpan
    from engine.config import EngineConfig
    from storage.calendar import Calendar, CalendarImportSummary
    from storage.journal import SqliteJournal

log = logging.getLogger(__name__)

#: The demo runs an hour of market a minute, so baskets open and close while you watch.
DEMO_SPEED = 60.0
#: History loaded at start so the charts are full at once (about six weeks of M30 bars).
DEMO_HISTORY_DAYS = 45
#: Where the demo's clock starts: a Wednesday evening of the synthetic market (seed 0)
#: whose warm history ends with two clusters' TDI beyond E, so the first baskets open at the
#: first M30 close (30 wall seconds at 60x) and close about four minutes later.  From the
#: market's own start (Monday 2024-01-08 00:00) the first basket took 62 market hours, an
#: hour of watching at 60x.  Chosen by running ``demo_session`` with ``run_sync`` from each
#: six-hour start of that week: only this one and Friday's open a basket at once.
DEMO_START = datetime(2024, 1, 10, 18, 0, tzinfo=UTC)
#: A replay runs an hour of recorded market a second unless told otherwise.
REPLAY_SPEED = 3600.0
#: Price digits of a symbol the simulator does not list.
DEFAULT_DIGITS = 5


class ConsoleRun(NamedTuple):
    """A session for the window, the pacer of its clock, its speed and its end (replays)."""

    session: Session
    pacer: Any  # mt5bridge.sim.pacing.Pacer: pause, resume, step, set_speed
    speed: float
    end_msc: int | None


def open_console(config: EngineConfig, *, live: bool = False,
                 replay: Sequence[Path] | None = None, store: Path | None = None,
                 speed: float | None = None, journal: Path | None = None,
                 seed: int = 0, terminal: str | None = None,
                 allow_remote: bool = False, fit_to_broker: bool = False,
                 start: datetime | None = None, end: datetime | None = None) -> ConsoleRun:
    """The session the console runs: live, a replay of files or a store, else the demo.

    ``speed`` is virtual seconds per wall second (``math.inf``: as fast as the machine goes);
    each mode has its default.  Each mode and account journals to its own file by default
    (``storage.paths``), so the History of a demo never sums a replay's baskets; a
    ``journal`` that belongs to another account is not refused here, as the command line
    does, but left alone: the session opens a separate journal beside it and says so in the
    Journal tab when the engine starts (a replay opened from the window goes on working).
    """
    from app.sessions import demo_session
    from mt5bridge.sim.pacing import Pacer

    if live:
        from app.sessions import live_session
        from mt5bridge.drivers import LIVE_STEP_GRACE_MS
        from mt5bridge.live import LiveConfig
        from mt5bridge.terminals import open_terminal_module

        module = open_terminal_module(terminal, allow_remote=allow_remote)  # --terminal
        session = live_session(config, LiveConfig(), journal_path=journal,
                               separate_journal=True, module=module,
                               fit_to_broker=fit_to_broker)
        # the clock runs the grace behind the wall clock: a minute's late ticks are in
        pacer = Pacer(session.engine.now_msc - LIVE_STEP_GRACE_MS, 1.0)
        return ConsoleRun(session, pacer, 1.0, None)
    if replay or store:
        from app.console_replay import open_console_replay

        pace = speed or REPLAY_SPEED
        session = open_console_replay(config, list(replay or []), store, journal, start, end)
        feed = session.sim.sim_feed
        pacer = EndOfDataPacer(Pacer(session.engine.now_msc, pace), feed)
        return ConsoleRun(session, pacer, pace, feed.end_msc)
    pace = speed or DEMO_SPEED
    session = demo_session(config, seed=seed, journal_path=journal, start=DEMO_START,
                           history_days=DEMO_HISTORY_DAYS, separate_journal=True)
    return ConsoleRun(session, Pacer(session.engine.now_msc, pace), pace, None)


class EndOfDataPacer:
    """A replay's pacer that holds the clock once the feed has delivered its last tick.

    Files whose end is not known in advance (ticks of a format the period cannot be read
    from) used to run the clock on for ever (to 2076 at max speed); with this the engine
    keeps answering commands at the last minute of data and the window offers to replay
    again.  Everything else is the wrapped pacer's."""

    #: What the worker is told to wait once the data has ended (it polls, so any long wait).
    HOLD_S = 3600.0

    def __init__(self, pacer: Any, feed: Any) -> None:
        self._pacer = pacer
        self._feed = feed

    @property
    def finished(self) -> bool:
        return bool(getattr(self._feed, "exhausted", False))

    def seconds_until(self, t_msc: int) -> float:
        if self.finished:
            return self.HOLD_S
        return float(self._pacer.seconds_until(t_msc))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pacer, name)


def replay_finished(run_pacer: Any, engine_now_msc: int, end_msc: int | None) -> bool:
    """Whether a replay has reached the end of its data (its known end, or its last tick)."""
    if end_msc is not None and engine_now_msc >= end_msc:
        return True
    return bool(getattr(run_pacer, "finished", False))


def open_journal_reader(session: Session) -> SqliteJournal | None:
    """A read-only connection to the session's journal for the history views (SQLite WAL
    lets it read while the engine writes; a reader takes no writer lock), or None when the
    journal is not a file."""
    from storage.journal import SqliteJournal

    if not hasattr(session.journal, "path"):
        return None
    return SqliteJournal.open_reader(session.journal.path)


def server_time(session: Session, when: datetime) -> datetime | None:
    """The broker's server clock at ``when`` (None if the terminal cannot tell)."""
    try:
        server_s = session.terminal.server_s_from_utc_ms(int(when.timestamp() * 1000))
    except Exception:
        return None
    return datetime.fromtimestamp(server_s, tz=UTC)


def settings_path() -> Path:
    """The console's layout and preferences, in the product's data directory."""
    from storage.paths import data_dir

    return data_dir() / "console.ini"


def calendar_path() -> Path:
    """The SQLite calendar the console imports into and reads from."""
    from storage.calendar import default_calendar_path

    return default_calendar_path()


def write_export_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write an export the console offers (History): the one CSV writer of every export
    (``storage.csv_export``: formula-like text written as text, whole file or none)."""
    from storage.csv_export import write_csv

    return write_csv(path, header, rows)


def symbol_digits(symbol: str) -> int:
    """Price digits of ``symbol`` as the simulator quotes it (5 for a symbol it lacks; a
    dated futures CFD of any year by its name)."""
    from mt5bridge.sim.futures_catalogue import futures_spec
    from mt5bridge.sim.symbols import BROKER_SPECS

    spec = BROKER_SPECS.get(symbol) or futures_spec(symbol)
    return spec.digits if spec is not None else DEFAULT_DIGITS


# ---------------------------------------------------------------------- calendar import


@dataclass(frozen=True)
class ImportOutcome:
    """What an import ended with: a summary and the reopened calendar, or a one-line error."""

    message: str
    summary: CalendarImportSummary | None = None
    calendar: Calendar | None = None

    @property
    def ok(self) -> bool:
        return self.calendar is not None

    def coverage(self) -> list[CoverageSpan]:
        """The spans the imported files cover (empty after a failure)."""
        files = self.summary.files if self.summary is not None else ()
        return [span for f in files for span in f.coverage]


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def import_message(summary: CalendarImportSummary) -> str:
    """One line: events stored, how many new, from what, and rows skipped (first reason)."""
    files = summary.files
    source = files[0].path.name if len(files) == 1 else f"{len(files)} files"
    text = (f"Imported {summary.imported} events ({summary.new} new) from {source}, "
            f"{summary.skipped} rows skipped")
    first = next((p for f in files for p in f.problems), None)
    if first is not None:
        text += f" (first: line {first.line}: {first.reason})"
    return text


def run_import(paths: Sequence[Path], db_path: Path | None) -> ImportOutcome:
    """Import ``paths`` and reopen the calendar; every failure becomes a one-line message."""
    from storage.calendar import Calendar, import_calendar_files

    try:
        summary = import_calendar_files(paths, db_path)
        calendar = Calendar.open(summary.db_path)
    except UserError as exc:
        return ImportOutcome(f"Import failed: {one_line(exc)}")
    except Exception as exc:
        log.warning("calendar import failed", exc_info=True)
        return ImportOutcome(f"Import failed: {type(exc).__name__}: {one_line(exc)}")
    return ImportOutcome(import_message(summary), summary, calendar)
