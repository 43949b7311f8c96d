"""Seeded fault injection: lost connection, requote, reject, timeout, price off, partial fill.

Every kind draws from its own seeded stream, so a run replays exactly and switching one
kind on never moves the others.  All kinds are off by default.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mt5bridge import constants as c
from mt5bridge.sim import FaultConfig, SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed

MON = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)


def make_terminal(faults: FaultConfig | None = None) -> SimTerminal:
    feed = walk_feed(["EURUSD", "XAUUSD"], MON, MON + 3_600_000)
    term = SimTerminal(feed, SimConfig(selected=("EURUSD", "XAUUSD"),
                                       faults=faults or FaultConfig()))
    assert term.initialize()
    term.sim_advance_to(MON + 60_000)
    return term


def buy(term: SimTerminal, symbol: str = "EURUSD", volume: float = 0.01,
        filling: int = c.ORDER_FILLING_FOK):
    tick = term.symbol_info_tick(symbol)
    return term.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume,
                            "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 10,
                            "type_filling": filling})


def retcodes(term: SimTerminal, n: int) -> list[int]:
    return [buy(term).retcode for _ in range(n)]


def test_faults_are_off_by_default():
    term = make_terminal()

    assert set(retcodes(term, 200)) == {c.TRADE_RETCODE_DONE}
    assert FaultConfig().enabled is False


@pytest.mark.parametrize(("kind", "retcode", "comment"), [
    ("requote", c.TRADE_RETCODE_REQUOTE, "Requote"),
    ("reject", c.TRADE_RETCODE_REJECT, "Request rejected"),
    ("timeout", c.TRADE_RETCODE_TIMEOUT, "Request canceled by timeout"),
    ("price_off", c.TRADE_RETCODE_PRICE_OFF, "No prices"),
])
def test_each_trade_fault_gives_its_retcode_and_executes_nothing(kind, retcode, comment):
    term = make_terminal(FaultConfig(**{kind: 1.0}))

    result = buy(term)

    assert (result.retcode, result.comment, result.deal, result.order) == (retcode, comment,
                                                                           0, 0)
    assert term.positions_total() == 0
    assert len(term.history_deals_get(0, 2**31 - 1)) == 1  # the deposit only
    assert term.sim_faults_fired()[kind] == 1
    assert term.order_check({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                             "volume": 0.01, "type": c.ORDER_TYPE_BUY}).retcode == 0


def test_requote_fault_carries_the_current_prices():
    term = make_terminal(FaultConfig(requote=1.0))

    result = buy(term)
    tick = term.symbol_info_tick("EURUSD")

    assert (result.bid, result.ask) == (tick.bid, tick.ask)


def test_partial_fill_hits_ioc_orders_only():
    term = make_terminal(FaultConfig(partial_fill=1.0, seed=4))

    partial = buy(term, volume=1.0, filling=c.ORDER_FILLING_IOC)
    fok = buy(term, volume=1.0, filling=c.ORDER_FILLING_FOK)

    assert partial.retcode == c.TRADE_RETCODE_DONE_PARTIAL
    assert 0.01 <= partial.volume < 1.0
    assert round(partial.volume * 100) == pytest.approx(partial.volume * 100)
    assert term.positions_get(ticket=partial.order)[0].volume == partial.volume
    order = term.history_orders_get(ticket=partial.order)[0]
    assert order.volume_current == pytest.approx(1.0 - partial.volume)
    assert (fok.retcode, fok.volume) == (c.TRADE_RETCODE_DONE, 1.0)


def test_the_same_seed_replays_the_same_faults_and_another_seed_does_not():
    config = FaultConfig(seed=11, requote=0.3, reject=0.1)

    first = retcodes(make_terminal(config), 60)
    again = retcodes(make_terminal(config), 60)
    other = retcodes(make_terminal(FaultConfig(seed=12, requote=0.3, reject=0.1)), 60)

    assert first == again
    assert first != other
    assert {c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_REJECT, c.TRADE_RETCODE_DONE} <= set(first)


def test_switching_one_kind_on_does_not_move_the_others():
    alone = retcodes(make_terminal(FaultConfig(seed=5, requote=0.3)), 80)
    with_timeouts = retcodes(make_terminal(FaultConfig(seed=5, requote=0.3, timeout=0.25)), 80)

    assert c.TRADE_RETCODE_TIMEOUT in with_timeouts
    for a, b in zip(alone, with_timeouts, strict=True):
        if b != c.TRADE_RETCODE_TIMEOUT:
            assert a == b


def call_outcomes(term: SimTerminal, n: int) -> list[int]:
    """last_error codes of ``n`` calls (1 = success); after a drop, one more call, then
    ``initialize()`` as a client would."""
    outcomes = []
    for _ in range(n):
        failed = term.account_info() is None
        outcomes.append(term.last_error()[0] if failed else 1)
        if failed and term.last_error()[0] == c.RES_E_INTERNAL_FAIL_TIMEOUT:
            term.account_info()
            outcomes.append(term.last_error()[0])
            assert term.initialize()
    return outcomes


def test_lost_connection_fails_the_call_then_every_call_until_initialize():
    config = FaultConfig(seed=3, disconnect=0.05)

    outcomes = call_outcomes(make_terminal(config), 200)
    replay = call_outcomes(make_terminal(config), 200)

    drops = outcomes.count(c.RES_E_INTERNAL_FAIL_TIMEOUT)
    assert drops >= 3
    assert outcomes.count(c.RES_E_INTERNAL_FAIL_CONNECT) == drops  # the call after each drop
    assert outcomes == replay


def test_reconnect_attempts_fail_as_configured():
    term = make_terminal(FaultConfig(disconnect=1.0, reconnect_failures=2))

    assert term.account_info() is None
    assert term.last_error() == (-10005, "IPC timeout")
    attempts = [term.initialize() for _ in range(3)]

    assert attempts == [False, False, True]


def test_sim_disconnect_and_reconnect():
    term = make_terminal()

    term.sim_disconnect(failed_reconnects=1)
    down = term.symbol_info_tick("EURUSD")
    error = term.last_error()
    first_try = term.initialize()
    first_error = term.last_error()
    second_try = term.initialize()

    assert down is None and error == (-10004, "No IPC connection")
    assert first_try is False and first_error[0] == c.RES_E_INTERNAL_FAIL_INIT
    assert first_error[1].startswith("IPC initialize failed")
    assert second_try is True and term.symbol_info_tick("EURUSD") is not None
    term.sim_disconnect()
    term.sim_reconnect()
    assert term.account_info() is not None


def test_fault_probabilities_are_validated():
    with pytest.raises(ValueError, match="requote"):
        FaultConfig(requote=1.5)
    with pytest.raises(ValueError, match="reconnect_failures"):
        FaultConfig(reconnect_failures=-1)


def test_faults_can_be_replaced_at_run_time():
    term = make_terminal()

    term.sim_set_faults(FaultConfig(reject=1.0))
    rejected = buy(term)
    term.sim_set_faults(FaultConfig())
    done = buy(term)

    assert (rejected.retcode, done.retcode) == (c.TRADE_RETCODE_REJECT, c.TRADE_RETCODE_DONE)
