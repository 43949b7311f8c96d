"""A request to stop from outside (SIGTERM, SIGHUP) ends a command the way Ctrl+C does.

Without this a ``run --live`` under a service manager (``systemctl stop``, ``docker stop``,
``kill``), or one whose terminal closed (SIGHUP), died where it stood: its run had no end
in the journal and no final equity mark, and a backtest left its scratch folder and
journal in the temporary directory.  Ctrl+C already stopped each command cleanly through
``KeyboardInterrupt``; these signals now raise ``Terminated``, a ``KeyboardInterrupt``, so
they take the same path and the journal says which signal it was.

Ctrl+C is handled here too, by the same rules. Only the first request raises: a second one
(Ctrl+C after SIGTERM, or twice) while the command is stopping is ignored, so the stop
itself (the run's end, the report) is not cut short. A request that comes while a basket's
legs are being sent or closed waits for the last of them (``engine.uninterrupted``): a stop
never leaves a basket half built or half closed. The first is also kept
(``stop_requested``), and the engine's loops (``app.runs``, ``app.backtest.run``) check it
between steps: an exception raised at an arbitrary point can be swallowed where Python
cannot pass it on (a ``__del__`` or a callback run from C prints "Exception ignored" and
goes on), and the request must not be lost with it. A signal the parent set to be ignored
stays ignored (``nohup`` sets SIGHUP so). The console handles its own (``gui.interrupt``);
the terminal server has its own stop (``mt5bridge.remote.launch``).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from engine.uninterrupted import defer, deferring

#: Exit status of a command stopped by Ctrl+C (128 + SIGINT, as a shell reports it).
INTERRUPTED_STATUS = 130


def _stop_signals() -> tuple[signal.Signals, ...]:
    """SIGTERM everywhere; SIGHUP on POSIX; Ctrl+Break's SIGBREAK on Windows."""
    names = ("SIGTERM", "SIGHUP", "SIGBREAK")
    return tuple(getattr(signal, name) for name in names if hasattr(signal, name))


#: The signals that stop a command as Ctrl+C does.
STOP_SIGNALS: tuple[signal.Signals, ...] = _stop_signals()


class Terminated(KeyboardInterrupt):
    """A stop requested by ``signum`` (not Ctrl+C); caught wherever Ctrl+C is."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"terminated by {signal.Signals(self.signum).name}")


def stop_reason(exc: KeyboardInterrupt) -> str:
    """What the journal and the report say of the stop: "interrupted" for Ctrl+C,
    "terminated by SIGTERM" (or the signal's name) for a request from outside."""
    return str(exc) if isinstance(exc, Terminated) else "interrupted"


def exit_status(exc: KeyboardInterrupt) -> int:
    """128 plus the signal's number, as a shell reports a process the signal ended."""
    return 128 + exc.signum if isinstance(exc, Terminated) else INTERRUPTED_STATUS


#: The stop requested by a signal while ``stop_signals_interrupt`` is in force, if any.
_requested: KeyboardInterrupt | None = None


def stop_requested() -> KeyboardInterrupt | None:
    """The stop a signal requested (already raised once), or None: for loops that check
    between steps, so that a request swallowed on its way up still stops them."""
    return _requested


def _quiet_stops(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """``sys.unraisablehook`` that lets a stop request raised where Python cannot pass it
    on (a ``__del__``, a callback run from C, such as numba's compiler's) go without a
    word: the request is kept (``stop_requested``) and the command stops at its next step.
    Python's own hook would print "Exception ignored" and a traceback to the user.  Any
    other unraisable exception goes to ``previous``."""
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            return
        previous(unraisable)

    return hook


@contextmanager
def stop_signals_interrupt(*, restore_after_stop: bool = True) -> Iterator[None]:
    """While inside, Ctrl+C (SIGINT) raises ``KeyboardInterrupt`` and ``STOP_SIGNALS``
    raise ``Terminated`` in the main thread, once: a second request while the command stops
    is ignored.  Inside an ``engine.uninterrupted`` section (a basket's legs being sent or
    closed) the request waits for the section's end.  The handlers before are put back on
    leaving, or, with ``restore_after_stop`` False (a process about to end: ``main.py``),
    after a stop the signals are ignored from then on, so that one more request in the
    moment between this block and the process's exit does not kill it with a traceback
    and the wrong status.  Outside the main thread it does nothing (Python delivers
    signals to the main thread only)."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        global _requested
        if _requested is not None:
            return  # the stop is under way: let it finish
        _requested = KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)
        if deferring():  # a basket's legs under way: raised when they are all sent
            defer(_requested)
            return
        raise _requested

    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_stops(previous_hook)
    previous = {}
    for sig in (signal.SIGINT, *STOP_SIGNALS):
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue  # ignored by whoever started us (nohup): keep it so
        previous[sig] = signal.signal(sig, request_stop)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        stopped, _requested = _requested is not None, None
        for sig, handler in previous.items():
            if stopped and not restore_after_stop:
                signal.signal(sig, signal.SIG_IGN)
            else:
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)
