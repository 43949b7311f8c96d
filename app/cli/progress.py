"""Progress of a long command on the terminal: a bar with the time elapsed and an ETA.

``backtest`` (about 50 s on a year of M1 data) and ``walkforward`` (minutes to half an hour)
report how far they are and how long is left.  The bar is ``rich``'s: a well-kept library
that is already installed with the test tools (import-linter uses it), redraws one line in
place, and estimates the time left from the recent speed rather than from the start (a
backtest's first days, reading and warming up, are slower than the rest).

The bar goes to stderr and only when stderr is a terminal: piped or redirected output (a
log file, CI, ``| head``) gets no bar characters and no control codes, and the command's
summary on stdout is the same either way.  ``force`` (tests) draws it on any stream.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

#: Steps of the bar: a fraction is shown to 0.1%.
_STEPS = 1000


class CommandProgress:
    """One bar for the whole command, as a context manager.

    ``update(fraction, label)`` moves it (fraction of the command done, 0..1) and may change
    its label; it never goes backwards.  Quiet (draws nothing) when ``stream`` is not a
    terminal, unless ``force``.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None,
                 force: bool = False) -> None:
        out = stream if stream is not None else sys.stderr
        console = Console(file=out, force_terminal=True if force else None,
                          highlight=False, soft_wrap=False)
        self.active = force or console.is_terminal
        self._done = 0
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            TaskProgressColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not self.active,
            transient=False,
            # lines printed meanwhile go above the bar when stdout is the same terminal;
            # stdout sent elsewhere (a file, a pipe) keeps every line it is given
            redirect_stdout=_is_terminal(sys.stdout),
            redirect_stderr=False,
        )
        self._task: TaskID = self._progress.add_task(label, total=_STEPS)

    def __enter__(self) -> CommandProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def update(self, fraction: float, label: str | None = None) -> None:
        """The command is ``fraction`` done (clamped to 0..1, never backwards)."""
        done = max(self._done, int(max(0.0, min(fraction, 1.0)) * _STEPS))
        self._done = done
        if label is None:
            self._progress.update(self._task, completed=done)
        else:
            self._progress.update(self._task, completed=done, description=label)

    __call__ = update


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False
