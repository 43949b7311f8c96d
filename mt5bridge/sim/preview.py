"""The account at each coming minute close, as ``account_info`` would report it then.

A backtest steps over the minutes in which nothing can happen while a basket is open
(``engine.held_minutes``).  To know that, the engine needs the account's equity and margin
level at each of those minute closes: its daily-loss and drawdown rules read them.  This
module computes them from the ticks the feed will deliver, without consuming anything: the
quotes after each minute's ticks (``engine.ticks.quote_rows``), each position's profit at
them by ``CurrencyConverter.profit``'s own operations in the same order (over all the
minutes at once, then rounded to the cent one by one as ``position_profit`` rounds it), and
the account's figures as ``SimTerminal._account_figures`` sums them.  A profit currency
that needs a cross rate takes ``_account_figures`` itself, minute by minute, with the
tape's quotes set and put back.  The figures are the very numbers the minute-by-minute run
reads (``tests/unit/mt5bridge/test_sim_preview.py`` holds the two paths equal).

Nothing is previewed (None) when the simulator could act on its own inside the minutes:
pending orders, positions with stops, fault injection (its random streams follow the call
count), a symbol without a quote yet.  A minute whose margin level comes within twice the
stop-out level ends the preview before it: the terminal checks stop-out after each batch
of ticks, so over several minutes in one batch it would look only at the last.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from engine.ports import AccountFigures
from engine.ticks import quote_rows
from mt5bridge import constants as c
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
    bids, asks = quote_rows(ticks, minutes, tape.bid, tape.ask)
    profits = _profits(trade, bids, asks)
    figures = (_figures(trade, profits, len(minutes)) if profits is not None
               else _figures_one_by_one(sim, bids, asks))
    if figures is None:
        return None
    stop_out = float(sim._config.margin_so_so) * STOP_OUT_MARGIN
    out: list[AccountFigures] = []
    for figure in figures:
        if figure.margin > 0 and figure.margin_level < stop_out:
            break
        out.append(figure)
    return out


def _profits(trade: Any, bids: np.ndarray, asks: np.ndarray) -> list[list[float]] | None:
    """Each position's ``position_profit`` at each row of quotes (positions in the book's
    order), computed as ``CurrencyConverter.profit`` computes it, operation for operation,
    for a profit currency that is the account's or quoted directly against it; None for any
    other (a cross rate: the caller takes the figures one minute at a time)."""
    converter = trade.converter
    account = trade.config.currency
    out = []
    for pos in trade.positions.values():
        spec = trade.specs[pos.symbol_index]
        i = pos.symbol_index
        is_buy = pos.type == c.POSITION_TYPE_BUY
        price = bids[:, i] if is_buy else asks[:, i]
        move = (price - pos.price_open) if is_buy else (pos.price_open - price)
        amount = move * pos.volume * spec.contract_size
        currency = spec.profit_currency
        if currency == account:
            profit = amount * 1.0
        else:
            link = converter.direct_link(currency, account)
            if link is None:
                return None
            j, multiply = link
            positive = amount > 0
            if multiply:
                profit = amount * np.where(positive, bids[:, j], asks[:, j])
            else:
                profit = amount * (1.0 / np.where(positive, asks[:, j], bids[:, j]))
        profit = np.where(amount == 0.0, 0.0, profit)
        out.append([round(v, 2) for v in profit.tolist()])
    return out


def _figures(trade: Any, profits: list[list[float]], count: int) -> list[AccountFigures]:
    """``SimTerminal._account_figures`` at each of ``count`` rows, from the positions'
    rounded profits (summed in the book's order, as ``TradeAccount.profit`` sums them)."""
    balance, swaps, margin = trade.balance, trade.swaps(), trade.margin()
    rows = zip(*profits, strict=True) if profits else [()] * count
    out = []
    for row in rows:
        total = 0
        for value in row:
            total += value
        profit = round(total, 2)
        equity = round(balance + profit + swaps, 2)
        out.append(AccountFigures(balance, equity, margin, round(equity - margin, 2),
                                  round(trade.margin_level(equity, margin), 2)))
    return out


def _figures_one_by_one(sim: Any, bids: np.ndarray,
                        asks: np.ndarray) -> list[AccountFigures] | None:
    """``SimTerminal._account_figures`` itself at each row of quotes (set on the tape and
    put back): any conversion path, one minute at a time."""
    tape, trade = sim._tape, sim._trade
    saved = tape.quotes.copy()
    conversions = trade.converter.reference_conversions
    out: list[AccountFigures] = []
    try:
        for bid, ask in zip(bids, asks, strict=True):
            tape.bid[:] = bid
            tape.ask[:] = ask
            balance, _, equity, margin, free, level = sim._account_figures()
            out.append(AccountFigures(balance, equity, margin, free, level))
    finally:
        tape.quotes[:] = saved
    if trade.converter.reference_conversions != conversions:
        trade.converter.reference_conversions = conversions
        return None  # a conversion by reference value is counted per call: keep them real
    return out


@functools.lru_cache(maxsize=16)
def _faults_off(faults: FaultConfig) -> bool:
    """No fault of any kind can be drawn (asked at every look-ahead: a configuration is
    frozen, so its answer is kept)."""
    return dataclasses.replace(faults, seed=0) == FaultConfig()
