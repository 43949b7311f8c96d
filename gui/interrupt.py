"""Ctrl+C (SIGINT), SIGTERM and SIGHUP close the console the way its Close button does.

Python runs a signal handler only between bytecodes, and while Qt's event loop waits in C++
no bytecode runs: the default handler's ``KeyboardInterrupt`` then surfaces later, inside
whatever slot happens to run next, as a traceback in the terminal, and the window keeps
going.  Here the C-level handler writes the signal number to a socket (``set_wakeup_fd``);
a ``QSocketNotifier`` on the other end wakes the event loop, which lets the Python handler
run at once on the GUI thread, where it may close windows.  Closing goes through the window's
own ``closeEvent`` (layout saved, engine stopped, journal closed), then the event loop ends
with the conventional status 128 + signal number.  SIGHUP (the terminal the console was
started from closed) used to end it on the spot, its run left with no end in the journal.
A signal ignored when the process started stays ignored (``nohup`` ignores SIGHUP; a
shell's background job, SIGINT).
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication, QDialog

#: The signals that close the console cleanly (SIGHUP where there is one: POSIX).
CLOSING_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


def exit_status(signum: int) -> int:
    """The shell's convention for "ended by signal N": 128 + N (130 for Ctrl+C)."""
    return 128 + int(signum)


class SignalCloser(QObject):
    """Owns the wakeup socket pair and the notifier; ``received`` is the first signal seen."""

    def __init__(self, app: QApplication, close_windows: Callable[[int], None]) -> None:
        """``close_windows`` hears the signal's number (its run ends "terminated by ...")."""
        super().__init__(app)
        self._app = app
        self._close_windows = close_windows
        self.received: int | None = None
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self, *_args: object) -> None:
        """Runs on the GUI thread when a signal arrived; Python's handler has run by now."""
        with contextlib.suppress(OSError):
            while self._reader.recv(64):
                pass

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:  # a second Ctrl+C while closing: closing already
            return
        self.received = signum
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()  # a confirmation left open must not keep the console alive
        self._close_windows(signum)
        self._app.quit()

    def status(self, loop_status: int) -> int:
        """The process's exit status: the event loop's, or 128 + N after signal N."""
        return loop_status if self.received is None else exit_status(self.received)

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalCloser]:
        """Route the closing signals here for the duration of the event loop, then restore."""
        previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        previous = {s: signal.signal(s, self.handle) for s in CLOSING_SIGNALS
                    if signal.getsignal(s) is not signal.SIG_IGN}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, signal.SIG_DFL if handler is None else handler)
            signal.set_wakeup_fd(previous_fd)
            self._notifier.setEnabled(False)
            self._reader.close()
            self._writer.close()
