"""A stop request that comes while a basket's legs are being sent or closed waits for the
last of them: a stop never leaves a basket half built (an unhedged position at the broker)
or half closed.  Real signals to this process, handled by the command's own handlers
(``app.termination``), arriving between two legs of a real engine's basket."""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import sys

import pytest
from helpers.engine_setup import first_basket, session, step_until

from app.termination import Terminated, stop_signals_interrupt
from engine import commands as cmd
from engine.uninterrupted import uninterrupted

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _signal_after_first_leg(engine, signum):
    """Send ``signum`` to this process right after the first leg's order of the next
    basket operation, and count the legs sent."""
    sent = []
    real = engine.executor.send_leg

    def send_leg(*args, **kwargs):
        fill = real(*args, **kwargs)
        sent.append(args[2])
        if len(sent) == 1:
            os.kill(os.getpid(), signum)
        return fill

    engine.executor.send_leg = send_leg
    return sent


def _orders(journal, purpose):
    with sqlite3.connect(journal) as db:
        return db.execute("SELECT symbol, retcode FROM orders WHERE purpose = ?",
                          (purpose,)).fetchall()


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGTERM, Terminated),
                                                (signal.SIGINT, KeyboardInterrupt)])
def test_a_stop_between_two_entry_legs_waits_for_the_whole_basket(tmp_path, signum, raised):
    # Arrange: a demo engine about to open its first basket (four legs)
    s = session(tmp_path)
    engine = s.engine
    sent = _signal_after_first_leg(engine, signum)

    # Act: the signal arrives after the first leg's order
    with stop_signals_interrupt(), pytest.raises(raised):
        step_until(engine, lambda e: bool(e.baskets), max_days=10)

    # Assert: every leg sent and filled before the stop was raised
    [basket] = engine.baskets.values()
    assert len(sent) == len(basket.legs) == 4
    assert sorted(_orders(tmp_path / "journal.sqlite", "ENTRY")) == sorted(
        (leg.symbol, 10009) for leg in basket.legs)


def test_a_stop_between_two_exit_legs_waits_for_the_whole_close(tmp_path):
    # Arrange: a basket open, the stop to come after its first exit leg
    s = session(tmp_path)
    engine = s.engine
    cluster = first_basket(engine)
    sent = _signal_after_first_leg(engine, signal.SIGTERM)

    # Act
    with stop_signals_interrupt(), pytest.raises(Terminated):
        engine.execute(cmd.CloseBasket(cluster=cluster))

    # Assert: closed whole, every exit order filled, nothing left at the terminal
    assert cluster not in engine.baskets and len(sent) == 4
    assert [code for _, code in _orders(tmp_path / "journal.sqlite", "EXIT")] == [10009] * 4
    assert s.terminal.positions_total() == 0
    assert step_until(engine, lambda e: True, max_days=0.01)  # the engine steps on


def test_sections_nest_and_only_the_outermost_raises_the_request():
    # Arrange / Act: a request arrives inside the inner section
    reached = []
    with stop_signals_interrupt(), pytest.raises(Terminated), uninterrupted():
        with uninterrupted():
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("inner")
        reached.append("outer")

    # Assert: both sections ran to their ends, and nothing is left pending
    assert reached == ["inner", "outer"]
    with uninterrupted():
        pass


def test_a_stop_raised_where_python_cannot_pass_it_on_prints_no_traceback(monkeypatch):
    # Arrange: objects whose finaliser raises (as numba's compiler callbacks, run from C,
    # met a SIGTERM: Python's hook printed "Exception ignored" and a traceback), and a hook
    # standing for Python's own, which prints whatever reaches it
    class Raises:
        def __init__(self, exc: BaseException) -> None:
            self.exc = exc

        def __del__(self) -> None:
            raise self.exc

    printed: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: printed.append(u.exc_value))
    before = sys.unraisablehook

    # Act
    with stop_signals_interrupt():
        Raises(Terminated(signal.SIGTERM))  # finalised at once: raised nowhere
        Raises(ValueError("a real fault"))
        gc.collect()

    # Assert: the stop said nothing; any other fault still reaches the hook; and the hook
    # is the one before the block again
    assert [type(e) for e in printed] == [ValueError]
    assert sys.unraisablehook is before
