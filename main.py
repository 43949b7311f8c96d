"""FX cluster console: the command-line entry point.

With no arguments it opens the console on the built-in demo market.  Every other action is
a subcommand; each command module exposes ``register(subparsers)`` and sets ``func`` on its
parser, so adding a command never touches the dispatch code below.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from app import cli
from app.cli.crash import file_error_line, one_line, report_crash
from app.termination import exit_status, stop_reason, stop_signals_interrupt
from engine.errors import UserError

#: Modules that contribute subcommands, in the order ``--help`` lists them: the command
#: line's own (``app.cli``), then the console.
COMMAND_MODULES: tuple[str, ...] = (*cli.COMMAND_MODULES, "gui.app")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="main.py",
        description="FX cluster mean-reversion console for MetaTrader 5. "
        "Run without arguments to open the console on the demo market.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    stdout_closed = _stand_in_for_closed_streams()
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0].startswith("-") and words[0] not in ("-h", "--help")):
        words = ["gui", *words]  # no command: the console (the options are the console's)
    args = parser.parse_args(words)
    # the console stops itself on these signals (gui.interrupt); every other command stops
    # on them as on Ctrl+C (run as a process, ignoring any more once stopping)
    stops = contextlib.nullcontext() if args.command == "gui" else stop_signals_interrupt(
        restore_after_stop=argv is not None)
    try:
        with stops:
            status = int(args.func(args) or 0)
            sys.stdout.flush()  # here, where a reader that went away is caught below
        if stdout_closed and args.command != "gui" and status == 0:
            return _output_lost()
        return status
    except UserError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(stop_reason(exc), file=sys.stderr)
        return exit_status(exc)
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:
        line = file_error_line(exc)
        if line is None:
            return _internal_error(exc)
        print(f"error: {line}", file=sys.stderr)
        return 2
    except Exception as exc:
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    """The program's own failure: one line, the traceback in the crash log."""
    where = report_crash(exc)
    print(f"internal error: {type(exc).__name__}: {one_line(str(exc))} ({where})",
          file=sys.stderr)
    return 1


def _stand_in_for_closed_streams() -> bool:
    """Whether standard output was closed (``main.py backtest ... >&-``), after putting the
    null device where a closed stream was.

    Python sets a closed stream to None, and the first ``print`` or ``flush`` failed the
    finished command as an internal error.  Opening the null device here also takes the
    free descriptor 1, so no report file the command opens lands on it.  The console run
    by ``pythonw`` on Windows has no streams at all and needs none."""
    closed = sys.stdout is None
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    return closed


def _output_lost() -> int:
    """The command ran (its files are written) but what it printed went nowhere: say so,
    as a tool writing into a closed stream does, and do not exit 0."""
    print("error: standard output is closed: what the command printed was lost "
          "(its files, if any, are written)", file=sys.stderr)
    return 2


#: Exit status when the reader of the output went away (128 + SIGPIPE, as git's).
READER_GONE = 141


def _reader_gone() -> int:
    """The output's reader closed the pipe (``main.py backtest ... | head -3``): stop
    quietly, as git does.  Standard output is pointed at the null device so that flushing
    it at exit does not fail a second time (the Python documentation's recipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor behind stdout (tests)
        pass
    return READER_GONE


def exit_without_finalising(status: int) -> None:
    """End the process once a Qt window has run, skipping Python's finalisation.

    pyqtgraph's graphics widgets crash the process (SIGSEGV) when Python finalises them in
    an unlucky order, whatever the Qt binding (tests/integration/gui/test_qt_exit.py);
    deleting them earlier crashes the same way.  By the time the console returns, its
    window has closed the engine, the journal and the session and saved the layout, so
    nothing is left for finalisation to do but flush: pyqtgraph's own ``exit()`` does the
    same.  Commands that never open a window exit normally.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    from app.cli.log_lines import install_log_lines

    install_log_lines()
    exit_status = main()
    if "PySide6.QtWidgets" in sys.modules and sys.modules["PySide6.QtWidgets"].QApplication \
            .instance() is not None:
        exit_without_finalising(exit_status)
    sys.exit(exit_status)
