"""The account at each coming minute close, as ``account_info`` would report it then.

A backtest steps over the minutes in which nothing can happen while a basket is open
(``engine.held_minutes``).  To know that, the engine needs the account's equity and margin
level at each of those minute closes: its daily-loss and drawdown rules read them.  This
module computes them from the ticks the feed will deliver, without consuming anything:
the tape's last quotes are set, minute by minute, to what they would be after that
minute's ticks, the figures are computed by the terminal's own ``account_info`` arithmetic
(``SimTerminal._account_figures``), and the quotes are put back.  The figures are therefore
the very numbers the minute-by-minute run reads, not an estimate of them.

Nothing is previewed (None) when the simulator could act on its own inside the minutes:
pending orders, positions with stops, fault injection (its random streams follow the call
count), a symbol without a quote yet.  A minute whose margin level comes within twice the
stop-out level ends the preview before it: the terminal checks stop-out after each batch
of ticks, so over several minutes in one batch it would look only at the last.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from engine.ports import AccountFigures
from mt5bridge.sim.faults import FaultConfig

__all__ = ["minute_accounts", "next_event_msc", "peek_ticks"]

#: A previewed minute must keep the margin level above this multiple of stop-out.
STOP_OUT_MARGIN = 2.0


def peek_ticks(sim: Any, until_msc: int) -> np.ndarray | None:
    """The ticks ``sim_advance_to(until_msc)`` would consume (after the session filter),
    left in the feed; None when the feed cannot say without reading on."""
    peek = getattr(sim.sim_feed, "peek_until", None)
    if peek is None:
        return None
    batch = peek(int(until_msc))
    if batch is None:
        return None
    in_session = sim._in_session
    return in_session(batch) if in_session and len(batch) else batch


def next_event_msc(sim: Any) -> int | None:
    """The next time the simulator changes the account by itself (a rollover's swap, a
    futures CFD's expiry), or None."""
    times = [sim._next_rollover]
    expiry = sim._expiries.next_msc if sim._expiries else None
    if expiry is not None:
        times.append(expiry)
    return min(times)


def minute_accounts(sim: Any, ticks: np.ndarray,
                    minutes: np.ndarray) -> list[AccountFigures] | None:
    """``AccountFigures`` at each minute close in ``minutes`` (ascending UTC ms), given the
    coming ``ticks`` (terminal symbol indices, time-ordered); the list stops early at a
    minute too close to stop-out, and is None when the simulator could act by itself."""
    trade = sim._trade
    if trade.orders or trade._watch_positions or not _faults_off(sim._config.faults):
        return None
    tape = sim._tape
    tape.sync_quotes()
    if not bool(np.all(tape.has_quote)):
        return None
    saved = tape.quotes.copy()
    conversions = trade.converter.reference_conversions
    stop_out = float(sim._config.margin_so_so) * STOP_OUT_MARGIN
    ends = np.searchsorted(ticks["time_msc"], minutes, "right")
    out: list[AccountFigures] = []
    try:
        lo = 0
        for hi in ends.tolist():
            if hi > lo:
                _quote(tape, ticks[lo:hi])
                lo = hi
            _, _, equity, margin, free, level = sim._account_figures()
            if margin > 0 and level < stop_out:
                break
            out.append(AccountFigures(trade.balance, equity, margin, free, level))
    finally:
        tape.quotes[:] = saved
    if trade.converter.reference_conversions != conversions:
        trade.converter.reference_conversions = conversions
        return None  # a conversion by reference value is counted per call: keep them real
    return out


def _quote(tape: Any, ticks: np.ndarray) -> None:
    """Each symbol's last quote after ``ticks`` (as ``TickTape.sync_quotes`` leaves it)."""
    symbols = ticks["symbol"]
    last = np.full(len(tape.quotes), -1, dtype=np.int64)
    np.maximum.at(last, symbols, np.arange(len(ticks)))
    got = np.flatnonzero(last >= 0)
    tape.quotes[got] = ticks[last[got]]


def _faults_off(faults: FaultConfig) -> bool:
    return dataclasses.replace(faults, seed=0) == FaultConfig()
