"""SIGTERM, SIGHUP: a stop request raised as Ctrl+C's exception, once, in the main thread."""

from __future__ import annotations

import contextlib
import signal
import sys

import pytest

from app.termination import (
    STOP_SIGNALS,
    Terminated,
    exit_status,
    stop_reason,
    stop_requested,
    stop_signals_interrupt,
)

posix = pytest.mark.skipif(sys.platform == "win32", reason="SIGHUP is POSIX")


def test_sigterm_inside_raises_terminated_as_a_keyboard_interrupt():
    # Arrange
    caught: list[KeyboardInterrupt] = []
    # Act
    with stop_signals_interrupt():
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt as exc:
            caught.append(exc)
    # Assert
    [exc] = caught
    assert isinstance(exc, Terminated)
    assert (exc.signum, stop_reason(exc), exit_status(exc)) == (
        signal.SIGTERM, "terminated by SIGTERM", 143)


def test_ctrl_c_keeps_its_words_and_status():
    # Arrange
    exc = KeyboardInterrupt()
    # Act
    words, status = stop_reason(exc), exit_status(exc)
    # Assert
    assert (words, status) == ("interrupted", 130)


def test_a_second_request_while_stopping_does_not_cut_the_stop_short():
    # Arrange
    raised = 0
    # Act
    with stop_signals_interrupt():
        try:
            signal.raise_signal(signal.SIGTERM)
        except Terminated:
            raised += 1
            signal.raise_signal(signal.SIGTERM)  # during the stop: ignored
    # Assert
    assert raised == 1


def test_the_handlers_before_are_put_back():
    # Arrange
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    # Act
    with stop_signals_interrupt():
        inside = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    # Assert
    assert all(inside[sig] is not before[sig] for sig in STOP_SIGNALS)
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before


@posix
def test_sighup_stops_too_unless_whoever_started_us_ignores_it():
    # Arrange
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a command
    try:
        # Act
        with stop_signals_interrupt():
            signal.raise_signal(signal.SIGHUP)  # nothing happens
            ignored_inside = signal.getsignal(signal.SIGHUP)
        ignored_after = signal.getsignal(signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, previous)
    with pytest.raises(Terminated) as hup, stop_signals_interrupt():
        signal.raise_signal(signal.SIGHUP)
    # Assert
    assert ignored_inside is signal.SIG_IGN and ignored_after is signal.SIG_IGN
    assert (str(hup.value), exit_status(hup.value)) == ("terminated by SIGHUP", 129)


def test_a_request_swallowed_on_its_way_is_kept_for_the_loops_until_leaving():
    # Arrange
    with stop_signals_interrupt():
        with contextlib.suppress(KeyboardInterrupt):  # as a __del__ or a C callback would
            signal.raise_signal(signal.SIGTERM)
        # Act
        kept = stop_requested()
    left = stop_requested()
    # Assert
    assert isinstance(kept, Terminated) and kept.signum == signal.SIGTERM
    assert left is None
