"""The engine without the window: a session run to its end with a status line per day.

``run`` and ``replay`` on the command line both come here.  The run ends at ``until``, after
``days``, when a finite feed ends (a replay's data, a demo given an end), or, with none of
these, never in live and replay (until stopped or the data runs out) and after one day in
demo.  ``speed`` paces the virtual clock (``inf``: as fast as the machine goes); a live run
is paced by the real clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from app.sessions import Session
from app.termination import exit_status, stop_reason, stop_requested
from engine.errors import UserError
from engine.loop import STEP_MS, run_sync
from engine.model import RunMode
from engine.runner import Engine
from mt5bridge.drivers import LIVE_STEP_GRACE_MS
from mt5bridge.sim.pacing import Pacer

DAY_MS = 86_400_000
#: A run whose end is at or before its start (here, or before its session: ``app.cli.run``).
ENDS_BEFORE_START = "the run would end before it starts (check --to/--days)"


def _say(line: str) -> None:
    print(line, flush=True)


def run_headless(session: Session, *, speed: float = math.inf,
                 until: datetime | None = None, days: float | None = None,
                 echo: Callable[[str], None] = _say,
                 wall_clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 live_grace_ms: int = LIVE_STEP_GRACE_MS) -> int:
    """Run ``session`` to its end, closing it; 0, or when stopped by Ctrl+C or a signal
    ``app.termination.exit_status`` (130 for Ctrl+C, 143 for SIGTERM).  A live session
    steps each minute ``live_grace_ms`` after ``wall_clock`` (seconds) has reached it,
    waiting with ``sleep``."""
    engine = session.engine
    live = session.mode == RunMode.LIVE
    on_step: _DayLines | None = None
    try:
        # the end is checked before the engine starts, so a run that would end before it
        # begins journals nothing (the clock is the driver's from the session's creation)
        end_ms = _end_ms(session, engine.now_msc, until, days)
        engine.start()
        start_ms = engine.now_msc
        began = datetime.fromtimestamp(start_ms / 1000, UTC)
        echo(f"{engine.mode.value}: {len(engine.signals)} clusters "
             f"({', '.join(engine.signals)}), from {began:%Y-%m-%d %H:%M} UTC")
        for note in session.notes:  # e.g. the clusters the broker cannot feed
            echo(f"note: {note}")
        on_step = _DayLines(start_ms, math.inf if live else speed, echo)
        if live:
            # the pacer's clock runs the grace behind the wall clock
            pacer = Pacer(start_ms - live_grace_ms, 1.0, clock=wall_clock)
            _run_live(engine, end_ms, on_step, pacer, sleep)
        else:
            run_sync(engine, end_ms, on_step=on_step, should_stop=_stops(_exhausted(engine)))
        if (requested := stop_requested()) is not None:
            raise requested  # a stop signal whose exception was swallowed on its way
        engine.stop("end of run")
        on_step.finish(engine)
        _summary(engine, echo)
        return 0
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM/SIGHUP (app.termination)
        engine.stop(stop_reason(exc))
        echo(f"{stop_reason(exc)} at {engine.now():%Y-%m-%d %H:%M} UTC")
        if on_step is not None:
            on_step.finish(engine)
        _summary(engine, echo)
        return exit_status(exc)
    finally:
        session.close()


#: A live run's longest wait between two looks at the clock and at a stop request.
LIVE_POLL_S = 1.0


def _run_live(engine: Engine, end_ms: int, on_step: Callable[[Engine], None], pacer: Pacer,
              sleep: Callable[[float], None]) -> None:
    """Step each minute once the real clock has passed it by the grace, as the console's
    live session does (a ``Pacer`` at real time, the grace behind).  A step ahead of the
    clock would close a minute whose ticks have not happened yet: before this, ``run
    --live`` stepped as fast as the machine went, its engine's clock running into the
    future with no ticks."""
    t = (engine.now_msc // STEP_MS + 1) * STEP_MS
    while t <= end_ms and stop_requested() is None:
        wait = pacer.seconds_until(t)
        if wait > 0:
            sleep(min(wait, LIVE_POLL_S))
            continue
        engine.step(t)
        pacer.advance_to(t)
        on_step(engine)
        t = engine.next_step_after(t, STEP_MS)


def _stops(feed_done: Callable[[], bool] | None) -> Callable[[], bool]:
    """Stop between steps once a stop signal was requested (``app.termination``), or when
    the replay's data is done."""
    if feed_done is None:
        return lambda: stop_requested() is not None
    return lambda: stop_requested() is not None or feed_done()


def _end_ms(session: Session, start_ms: int, until: datetime | None,
            days: float | None) -> int:
    if until is not None:
        end_ms = int(until.timestamp() * 1000)
    elif days is not None:
        end_ms = start_ms + int(days * DAY_MS)
    elif session.sim is not None and session.sim.sim_feed.end_msc is not None:
        end_ms = int(session.sim.sim_feed.end_msc)
    elif session.mode != RunMode.DEMO:
        end_ms = 2**62  # live: until stopped; replay: until the data runs out
    else:
        end_ms = start_ms + DAY_MS
    if end_ms <= start_ms:
        raise UserError(ENDS_BEFORE_START)
    return end_ms


class _DayLines:
    """After each step: a status line when a UTC day ends, and a wait that keeps the
    virtual clock at ``speed`` times the wall clock; ``finish`` gives the last day's line
    up to where the run ended (a replay's data ending on a Friday evening, a stop)."""

    def __init__(self, start_ms: int, speed: float, echo: Callable[[str], None]) -> None:
        self.day = datetime.fromtimestamp(start_ms / 1000, UTC).date()
        self.counts = (0, 0)
        self.start_ms, self.speed, self.echo = start_ms, speed, echo
        self.wall0 = time.monotonic()

    def __call__(self, e: Engine) -> None:
        now = e.now()
        if now.date() != self.day:
            self.echo(status_line(e, datetime.combine(self.day, datetime.min.time()),
                                  since=self.counts))
            self.day, self.counts = now.date(), (e.stats.baskets_opened, e.stats.baskets_closed)
        if math.isfinite(self.speed):
            due = self.wall0 + (e.now_msc - self.start_ms) / 1000 / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def finish(self, e: Engine) -> None:
        """The line of the day the run ended in, when the run stepped into it."""
        now = e.now()
        if now.date() == self.day and now.time() != datetime.min.time():
            self.echo(status_line(e, datetime.combine(self.day, datetime.min.time()),
                                  since=self.counts, until=now))


def status_line(engine: Engine, day: datetime, since: tuple[int, int] = (0, 0),
                until: datetime | None = None) -> str:
    """The end of ``day`` (or ``until``, where a run ended inside it: "2019-03-15 to
    21:59"): balance, equity, baskets open now, and the baskets opened and closed during
    that day (the run's counts minus ``since``, its counts when the day began; the summary
    at the end has the run's totals)."""
    snap = engine.snapshot(refresh=True)
    s = engine.stats
    opened, closed = s.baskets_opened - since[0], s.baskets_closed - since[1]
    when = f"{day:%Y-%m-%d}" + (f" to {until:%H:%M}" if until is not None else "")
    return (f"{when}  balance {snap.balance:>12,.2f}  equity {snap.equity:>12,.2f}  "
            f"open {len(engine.baskets)}  that day: opened {opened}  closed {closed}")


def _exhausted(engine: Engine) -> Callable[[], bool] | None:
    """True once a replay's data has run out and every bar it fed has closed."""
    next_time = getattr(engine.driver, "next_time", None)
    if next_time is None:
        return None
    return lambda: next_time() is None and engine.market.quiet()


def _summary(engine: Engine, echo: Callable[[str], None]) -> None:
    s = engine.stats
    snap = engine.snapshot(refresh=True)
    exits = ", ".join(f"{k} {v}" for k, v in sorted(s.exits.items())) or "none"
    echo(f"baskets: {s.baskets_opened} opened, {s.baskets_closed} closed; exits: {exits}; "
         f"realised P&L {s.realised_pnl:+,.2f}; final balance {snap.balance:,.2f}, "
         f"equity {snap.equity:,.2f}")
    if s.refusals:
        top = sorted(s.refusals.items(), key=lambda kv: -kv[1])[:5]
        echo("entries refused: " + ", ".join(f"{k} {v}" for k, v in top))
    if engine.market.late_ticks:  # live: ticks that reached the terminal after the step
        echo(f"ticks dropped as late (they came after their minute had closed): "
             f"{engine.market.late_ticks}")
