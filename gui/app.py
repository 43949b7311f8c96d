"""``main.py`` with no arguments, or ``main.py gui``: the console.

Demo (the default) runs the engine on the synthetic market with warm history and an
accelerated clock (an hour of market a minute by default) so baskets open and close while
you watch; ``--replay``/``--store`` replay recorded data; ``--live`` trades the MetaTrader 5
terminal.  ``--quit-after SECONDS`` closes the window cleanly (smoke tests).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.args import add_period_options, parse_speed, path_argument, period
from app.cli.terminal import add_terminal_options
from app.console import ConsoleRun, open_console
from engine.errors import UserError

if TYPE_CHECKING:  # the configuration loads the engine: not for building main.py's parser
    from engine.config import EngineConfig

#: How long a thread may hold the interpreter before another gets it (Python's default is
#: 5 ms).  The engine thread runs Python flat out during a fast replay; with the default,
#: every piece of GUI work waits through several of its slices.  One millisecond keeps the
#: window responsive at a small cost in engine throughput.
SWITCH_INTERVAL_S = 0.001


def share_the_interpreter() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gui", help="open the console (the default with no command)",
        description="The desktop console: demo market by default.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", help="the synthetic market (default)")
    mode.add_argument("--live", action="store_true", help="the MetaTrader 5 terminal")
    mode.add_argument("--replay", nargs="+", type=path_argument, metavar="FILE",
                      help="recorded data")
    mode.add_argument("--store", type=path_argument, help="replay a market-data store")
    p.add_argument("--speed", default=None, help="virtual seconds per second, or 'max'")
    p.add_argument("--config", type=path_argument, help="engine configuration (TOML)")
    p.add_argument("--journal", type=path_argument,
                   help="journal file (default: the data directory)")
    p.add_argument("--seed", type=int, default=0, help="demo market seed")
    p.add_argument("--study", type=path_argument, metavar="FILE",
                   help="open a sweep's study file in the Research tab (read-only)")
    p.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                   help="close the window after this many seconds (smoke tests)")
    add_terminal_options(p)  # --terminal ADDRESS, --allow-remote: where live trades
    add_period_options(p, first="with --replay or --store: the first day replayed (the "
                       "history before it warms the clusters up)",
                       last="with --replay or --store: the last day replayed")
    p.set_defaults(func=run)


def replay_period(args: argparse.Namespace) -> tuple[Any, Any]:
    """``--from``/``--to`` of a replay (``[start, end)``, either may be None); refused with
    the demo or live market, which run from now."""
    start, end = period(args) if hasattr(args, "date_from") else (None, None)
    if (start is not None or end is not None) and not (args.replay or args.store):
        raise UserError("--from and --to go with --replay or --store (the demo and live "
                        "markets run from now)")
    return start, end


#: The longest ``--quit-after``: Qt's timer counts milliseconds in a signed 32-bit int.
MAX_QUIT_AFTER_S = (2**31 - 1) // 1000


def check_window_options(args: argparse.Namespace) -> None:
    """``--quit-after`` and ``--study`` refused in one line before the window opens: a study
    that cannot be read was said only inside the Research tab (the command exited 0), and
    a negative time reached Qt, which printed its own warning and never closed."""
    quit_after = getattr(args, "quit_after", None)
    if quit_after is not None and not 0 < quit_after <= MAX_QUIT_AFTER_S:  # NaN fails both
        raise UserError(f"--quit-after: {quit_after:g} is not a number of seconds from "
                        f"above 0 to {MAX_QUIT_AFTER_S:,}")
    if getattr(args, "study", None) is not None:
        from app.sweep.reading import read_study

        read_study(args.study)


def build(args: argparse.Namespace, config: EngineConfig) -> ConsoleRun:
    """(session, pacer, speed, end) for the mode the command line chose."""
    terminal = getattr(args, "terminal", None)  # callers that build their own arguments
    if terminal is not None and not args.live:
        raise UserError("--terminal goes with --live (demo and replay run the simulator)")
    start, end = replay_period(args)
    return open_console(config, live=args.live, replay=args.replay, store=args.store,
                        start=start, end=end,
                        speed=parse_speed(args.speed) if args.speed else None,
                        journal=args.journal, seed=args.seed, terminal=terminal,
                        allow_remote=getattr(args, "allow_remote", False),
                        # the shipped clusters fit to what the broker offers
                        fit_to_broker=getattr(args, "config", None) is None)


def close_on_signal(window: Any, signum: int) -> None:
    """Ctrl+C closes the console as its Close button does; a signal from outside (SIGTERM,
    SIGHUP) is the run's end reason, as the command line records it."""
    import signal

    from app.termination import Terminated, stop_reason

    if signum != signal.SIGINT:
        window.stop_reason = stop_reason(Terminated(signum))
    window.close()


def run(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from engine.config import load_engine_config
    from gui.interrupt import SignalCloser
    from gui.main_window import MainWindow
    from gui.platform_check import display_problem

    replay_period(args)  # a mistake is one line before any window
    check_window_options(args)
    problem = display_problem() if QApplication.instance() is None else None
    if problem is not None:
        raise UserError(problem)
    config = load_engine_config(args.config)
    share_the_interpreter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("FX Cluster Console")
    state: dict[str, Any] = {}

    def open_window(session: Any, pacer: Any, speed: float, end: int | None) -> None:
        window = MainWindow(session, pacer, speed=speed, end_msc=end)
        window.replayRequested.connect(lambda paths: reopen(paths))
        window.show()
        window.start()
        state["window"] = window
        if args.study is not None:  # the Research tab, open on the study
            window.toolbox.research.open_study(args.study)
            window.toolbox.setCurrentWidget(window.toolbox.research)

    def reopen(paths: list[Path]) -> None:
        old = state.get("window")
        store = paths[0] if len(paths) == 1 and paths[0].is_dir() else None  # replay again
        # "Replay again" keeps the period of the command line; other data replays whole
        again = old is not None and list(getattr(old.session, "sources", ())) == paths
        kept = {} if again else {"date_from": None, "date_to": None}
        ns = argparse.Namespace(**{**vars(args), "replay": None if store else paths,
                                   "store": store, "live": False, "speed": args.speed,
                                   "terminal": None, **kept})
        if old is not None:  # its engine and journal first: the new replay may write the
            old.shutdown()   # same journal, and a journal has one writer
        try:
            built = build(ns, config)
        except UserError as exc:
            if old is not None:
                old.statusBar().showMessage(f"cannot replay: {exc}", 60_000)
            return
        if old is not None:
            old.close()
        open_window(*built)

    open_window(*build(args, config))
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), lambda: state["window"].close())
    closer = SignalCloser(app, lambda signum: close_on_signal(state["window"], signum))
    with closer.installed():
        code = closer.status(app.exec())
    window = state.get("window")
    if window is not None:
        window.shutdown()
    return int(code)

