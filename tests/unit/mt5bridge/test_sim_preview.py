"""The account previewed at coming minute closes is the account the terminal then reports.

``mt5bridge.sim.preview.minute_accounts`` gives the engine the equity and margin level at
each coming minute close without moving the clock (``engine.held_minutes``).  Here the
preview is taken first, then the terminal is advanced minute by minute and its own
``account_figures`` compared, figure for figure; the vectorised path and the one-minute-at-
a-time path (``_account_figures`` with the tape's quotes set) agree as well, including for
a profit currency that needs a cross rate.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from engine.ticks import quote_rows
from mt5bridge import constants as c
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows
from mt5bridge.sim.preview import _figures, _figures_one_by_one, _profits, minute_accounts

MON = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)  # Monday 08:00 UTC
M1 = 60_000
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "GBPJPY")
BASE = {"EURUSD": (1.13000, 1.13002), "GBPUSD": (1.32000, 1.32005),
        "USDJPY": (111.800, 111.803), "XAUUSD": (1290.00, 1290.15),
        "GBPJPY": (147.500, 147.512)}
MINUTES = 20
POSITIONS = (("EURUSD", c.ORDER_TYPE_BUY, 1.3), ("USDJPY", c.ORDER_TYPE_SELL, 0.7),
             ("XAUUSD", c.ORDER_TYPE_BUY, 0.2), ("GBPJPY", c.ORDER_TYPE_SELL, 0.5),
             ("GBPUSD", c.ORDER_TYPE_SELL, 2.0))


def _rows(seed: int) -> list[tuple[int, str, float, float]]:
    """The base quotes at 08:00, then a random walk of three ticks per symbol a minute."""
    rng = np.random.default_rng(seed)
    rows = [(MON, s, *BASE[s]) for s in SYMBOLS]
    for s in SYMBOLS:
        bid, ask = BASE[s]
        step = bid * 4e-4
        for k in range(3 * MINUTES):
            move = round(float(rng.normal(0.0, step)), 5 if bid < 50 else 3)
            bid, ask = bid + move, ask + move
            rows.append((MON + 1 + k * 20_000 + int(rng.integers(0, 19_000)), s, bid, ask))
    return rows


def _terminal(rows, currency: str) -> SimTerminal:
    ticks = ticks_from_rows(SYMBOLS, rows)
    term = SimTerminal(ArrayFeed(SYMBOLS, ticks, start_msc=MON),
                       SimConfig(selected=SYMBOLS, currency=currency))
    assert term.initialize()
    term.sim_advance_to(MON)
    for symbol, kind, volume in POSITIONS:
        tick = term.symbol_info_tick(symbol)
        result = term.order_send({
            "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": kind,
            "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid, "deviation": 10,
            "type_filling": c.ORDER_FILLING_IOC if symbol == "XAUUSD" else c.ORDER_FILLING_FOK})
        assert result is not None and result.retcode == c.TRADE_RETCODE_DONE
    return term


@pytest.mark.parametrize(("currency", "seed"), [("USD", 1), ("USD", 2), ("EUR", 3)])
def test_the_preview_is_what_the_terminal_reports_minute_by_minute(currency, seed):
    # Arrange: five positions, the coming ticks, the minute closes ahead
    rows = _rows(seed)
    term = _terminal(rows, currency)
    ticks = ticks_from_rows(SYMBOLS, rows)
    ahead = ticks[ticks["time_msc"] > MON]
    minutes = np.arange(MON + M1, MON + (MINUTES + 1) * M1, M1, dtype=np.int64)

    # Act: preview, then step the terminal itself
    previewed = minute_accounts(term, ahead, minutes)
    reported = []
    for minute in minutes.tolist():
        term.sim_advance_to(minute)
        reported.append(term.sim_account_figures())

    # Assert: the same figures, to the cent, at every minute
    assert previewed is not None and len(previewed) == MINUTES
    assert previewed == reported
    assert len({f.equity for f in previewed}) > MINUTES // 2  # the account did move


def test_the_vectorised_profits_equal_the_terminal_arithmetic_and_a_cross_rate_falls_back():
    # Arrange: a USD account (every profit currency quoted against USD) and a EUR account
    # (JPY needs a cross rate through USD)
    rows = _rows(7)
    ticks = ticks_from_rows(SYMBOLS, rows)
    ahead = ticks[ticks["time_msc"] > MON]
    minutes = np.arange(MON + M1, MON + (MINUTES + 1) * M1, M1, dtype=np.int64)
    usd, eur = _terminal(rows, "USD"), _terminal(rows, "EUR")

    # Act
    bids, asks = quote_rows(ahead, minutes, usd._tape.bid, usd._tape.ask)
    vectorised = _figures(usd._trade, _profits(usd._trade, bids, asks), MINUTES)
    one_by_one = _figures_one_by_one(usd, bids, asks)

    # Assert
    assert vectorised == one_by_one
    assert _profits(eur._trade, bids, asks) is None  # the cross rate: minute by minute
    assert minute_accounts(eur, ahead, minutes) is not None
