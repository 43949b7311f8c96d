"""New Order on the engine: a single-symbol market order outside any basket, its risk checks,
its journal trail, its SL/TP at the terminal and its close."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine import commands as cmd
from engine.manual_orders import MANUAL_COMMENT, MANUAL_MAGIC
from engine.model import ClusterState
from engine.risk.types import ACCOUNT
from tests.helpers.engine_setup import config, session, step_until


def rows(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def manual_positions(s) -> list:
    return [p for p in s.terminal.positions_get() or () if int(p.magic) == MANUAL_MAGIC]


def test_a_placed_order_is_a_manual_position_journaled_with_its_deal_and_command(tmp_path):
    s = session(tmp_path)
    e = s.engine

    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.13,
                                           source="gui"))

    assert ok, message
    (p,) = manual_positions(s)
    assert (p.symbol, int(p.type), float(p.volume), str(p.comment)) == \
        ("EURUSD", 0, 0.13, MANUAL_COMMENT)
    assert not e.baskets
    deals = rows(tmp_path, "select magic, comment, basket_id, volume, position_id from deals")
    assert deals == [(MANUAL_MAGIC, MANUAL_COMMENT, None, 0.13, int(p.ticket))]
    orders = rows(tmp_path, "select magic, comment, filling, retcode from orders")
    assert orders == [(MANUAL_MAGIC, MANUAL_COMMENT, e.terminal.filling_mode_for("EURUSD"),
                       10009)]
    audit = rows(tmp_path, "select command, arguments, result from manual_commands "
                           "where result is not null")
    assert audit[-1][0] == "PlaceOrder"
    assert json.loads(audit[-1][1])["symbol"] == "EURUSD"
    assert audit[-1][2].startswith("ok: #")


def test_a_halted_account_refuses_the_order_and_says_why(tmp_path):
    s = session(tmp_path)
    e = s.engine
    e.risk.set_cluster_state(e.now(), ACCOUNT, ClusterState.HALTED, "MAX_DRAWDOWN: test",
                             "test")

    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="SELL", volume=0.1))

    assert not ok
    assert "account HALTED" in message and "MAX_DRAWDOWN" in message
    assert manual_positions(s) == []


def test_close_only_refuses_too(tmp_path):
    s = session(tmp_path)
    e = s.engine
    e.risk.set_cluster_state(e.now(), ACCOUNT, ClusterState.CLOSE_ONLY, "daily loss", "test")

    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1))

    assert not ok and "CLOSE_ONLY" in message


def test_volume_is_checked_against_the_symbols_min_step_and_max(tmp_path):
    e = session(tmp_path).engine
    spec = e.manual.orders.spec("EURUSD")

    below = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=spec.volume_min / 2))
    off_step = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY",
                                        volume=spec.volume_min + spec.volume_step / 2))
    above = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=spec.volume_max * 2))
    unknown = e.execute(cmd.PlaceOrder(symbol="NOPE", side="BUY", volume=0.1))

    assert "below the minimum" in below[1]
    assert "multiple of the step" in off_step[1]
    assert "above the maximum" in above[1] or "risk limit" in above[1]
    assert not unknown[0] and "NOPE" in unknown[1]


def test_the_currency_cap_refuses_an_order_beyond_it(tmp_path):
    # cap 0.1 x equity ($10,000 of a $100,000 account): 1 lot of EURUSD is about $110,000
    s = session(tmp_path, config(risk={"max_currency_exposure": 0.1}))

    ok, message = s.engine.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=1.0))

    assert not ok and "net exposure" in message and "cap" in message


def test_stop_loss_is_honoured_by_the_terminal_and_its_deal_journaled(tmp_path):
    s = session(tmp_path)
    e = s.engine
    tick = s.terminal.symbol_info_tick("EURUSD")
    sl = round(tick.bid - 0.0003, 5)  # three pips: the demo market reaches it soon
    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1, sl=sl,
                                           deviation=20))
    assert ok, message
    (p,) = manual_positions(s)
    assert float(p.sl) == sl

    assert step_until(e, lambda _e: not manual_positions(s), max_days=3)
    e.step(e.now_msc + 60_000)  # the next M1 close journals the terminal's close

    entries = rows(tmp_path, f"select entry, magic from deals where position_id = {p.ticket}"
                             " order by ticket")
    assert entries == [(0, MANUAL_MAGIC), (1, MANUAL_MAGIC)]


def test_the_trade_tab_close_action_closes_a_manual_position(tmp_path):
    s = session(tmp_path)
    e = s.engine
    e.execute(cmd.PlaceOrder(symbol="USDJPY", side="SELL", volume=0.2))
    (p,) = manual_positions(s)

    ok, message = e.execute(cmd.ClosePosition(ticket=int(p.ticket), source="gui"))

    e.step((e.now_msc // 60_000 + 1) * 60_000)  # the sweep sees it gone: no deal doubled

    assert ok, message
    assert manual_positions(s) == []
    assert rows(tmp_path, f"select count(*) from deals where position_id = {p.ticket}") == [(2,)]


def test_the_snapshot_carries_exposures_specs_and_position_levels(tmp_path):
    s = session(tmp_path)
    e = s.engine
    bid = s.terminal.symbol_info_tick("EURUSD").bid
    e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1, tp=round(bid + 0.01, 5)))

    snap = e.snapshot(refresh=True)

    (view,) = [p for p in snap.positions if p.magic == MANUAL_MAGIC]
    assert view.tp == round(bid + 0.01, 5) and view.sl == 0.0
    assert view.time is not None and abs((view.time - snap.time).total_seconds()) < 120
    by_ccy = {x.currency: x for x in snap.exposures}
    assert by_ccy["EUR"].net > 0 and by_ccy["USD"].net == -by_ccy["EUR"].net
    assert by_ccy["EUR"].cap == e.config.risk.max_currency_exposure * snap.equity
    assert {spec.symbol for spec in snap.specs} >= {"EURUSD", "USDJPY"}


def test_equity_is_marked_every_minute_while_a_manual_position_is_open(tmp_path):
    s = session(tmp_path)
    e = s.engine
    e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=1.0))

    for _minute in (1, 2):  # no basket is open: only the manual position moves equity
        e.step((e.now_msc // 60_000 + 1) * 60_000)
    snap = e.snapshot(refresh=True)

    (p,) = [p for p in snap.positions if p.magic == MANUAL_MAGIC]
    assert not e.baskets
    assert snap.equity == pytest.approx(snap.balance + p.profit + p.swap, abs=0.01)
    assert snap.margin > 0 and snap.free_margin == pytest.approx(snap.equity - snap.margin)
