"""Running the engine: a plain loop on a virtual clock, or a worker thread with pacing.

Replay and backtest call ``run_sync``: one ``Engine.step`` per virtual minute, as fast as
the machine goes.  Demo and live use ``EngineWorker``: the same steps on a background
thread, paced against the wall clock by a pacer (real time, x N or max), with commands
arriving through ``Engine.submit`` from any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engine.ports import Pacer
from engine.runner import Engine

STEP_MS = 60_000


def run_sync(engine: Engine, until_msc: int, *, step_ms: int = STEP_MS,
             on_step: Callable[[Engine], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             batch_idle: bool = False) -> None:
    """Step the engine minute by minute until ``until_msc`` (virtual clock).

    Minutes in which nothing can happen (no tick due, no bar forming) are skipped; see
    ``Engine.next_step_after``.  ``batch_idle`` (backtests) also takes the minutes in which
    the engine holds nothing in one step up to the next time a decision is due.
    """
    t = (engine.now_msc // step_ms + 1) * step_ms
    while t <= until_msc:
        if should_stop is not None and should_stop():
            return
        engine.step(t)
        if on_step is not None:
            on_step(engine)
        t = engine.next_step_after(t, step_ms, batch_idle=batch_idle, limit_msc=until_msc)


class EngineWorker(threading.Thread):
    """The engine on its own thread, stepping as the pacer's virtual clock advances.

    ``max_step_ms`` bounds one step (a minute) so bars close in order however fast the clock
    runs; at max speed the worker steps back to back and yields between steps so the GUI
    thread keeps the interpreter.
    """

    #: At max speed the worker steps for at most this long before pausing ``YIELD_S``: a
    #: thread running Python flat out holds the interpreter, and the GUI thread, which needs
    #: it for every repaint, would wait through its slices (measured: event-loop lag p99
    #: 64 ms without the pause, under 50 ms with it).
    BURST_S = 0.008
    YIELD_S = 0.002

    def __init__(self, engine: Engine, pacer: Pacer, *, until_msc: int | None = None,
                 step_ms: int = STEP_MS, poll_s: float = 0.02, start_engine: bool = False,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        super().__init__(name="engine", daemon=True)
        self.engine = engine
        self.pacer = pacer
        self.until_msc = until_msc
        self.step_ms = step_ms
        self.poll_s = poll_s
        self.on_error = on_error
        self.start_engine = start_engine
        self._stop_event = threading.Event()
        self.error: BaseException | None = None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        engine = self.engine
        try:
            if self.start_engine and not engine.started:
                engine.start()  # warm-up and reconciliation off the GUI thread
            t = (engine.now_msc // self.step_ms + 1) * self.step_ms
            burst_started = time.perf_counter()
            while not self._stop_event.is_set():
                if self.until_msc is not None and t > self.until_msc:
                    break
                wait = self.pacer.seconds_until(t)
                if wait > 0:
                    engine.step(engine.now_msc)  # commands still run while waiting
                    self._stop_event.wait(min(wait, self.poll_s))
                    continue
                engine.step(t)
                self.pacer.advance_to(t)
                t = engine.next_step_after(t, self.step_ms)
                if time.perf_counter() - burst_started >= self.BURST_S:
                    time.sleep(self.YIELD_S)  # let the GUI thread have the interpreter
                    burst_started = time.perf_counter()
            if engine.refresh_snapshots:
                # the last steps fall inside the rebuilds' throttle: at max speed hours of
                # market time; a window reading the snapshot would keep showing that past
                # (a replay's final balance, positions closed since) once the worker is gone
                engine.snapshot(refresh=True)
        except BaseException as exc:
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)
