"""The trader's risk controls on the real engine: effective cluster states, the Algo Trading
switch, the manual-basket preview and its price guard, re-arming (simulated terminal, real
journal, virtual clock)."""

from __future__ import annotations

import sqlite3

import pytest
from helpers.engine_setup import config, first_basket, session, step_until

from engine import commands as cmd
from engine.model import Direction
from engine.preview import BasketPreview, exit_at_once
from engine.snapshot import effective_state


def rows(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def previews(engine) -> list[BasketPreview]:
    seen: list[BasketPreview] = []
    engine.bus.subscribe(lambda ev: seen.append(ev) if isinstance(ev, BasketPreview) else None)
    return seen


# ----------------------------------------------------------------- effective state


@pytest.mark.parametrize(("account", "own", "expected"), [
    ("ACTIVE", "ACTIVE", "ACTIVE"),
    ("ACTIVE", "CLOSE_ONLY", "CLOSE_ONLY"),
    ("CLOSE_ONLY", "ACTIVE", "CLOSE_ONLY"),
    ("HALTED", "ACTIVE", "HALTED"),
    ("HALTED", "CLOSE_ONLY", "HALTED"),
    ("CLOSE_ONLY", "HALTED", "HALTED"),
])
def test_the_effective_state_is_the_stricter_of_account_and_cluster(account, own, expected):
    state, reason = effective_state(account, "MAX_DRAWDOWN: x", own, "PauseCluster by gui")
    assert state == expected
    assert reason.startswith("account") == (account == expected != "ACTIVE")


def test_a_drawdown_halt_makes_every_cluster_read_halted_and_keeps_their_own_setting(tmp_path):
    # Arrange: a tiny drawdown limit, and one cluster paused by the trader
    e = session(tmp_path, config(risk={"max_drawdown": 0.0005})).engine
    e.execute(cmd.PauseCluster(cluster="GOLD_HAVENS", source="gui"))
    # Act: a basket opens and the drawdown stop flattens it
    first_basket(e)
    assert step_until(e, lambda e: e.snapshot(refresh=True).account_state == "HALTED", 3)
    # Assert
    snap = e.snapshot(refresh=True)
    assert {c.state for c in snap.clusters} == {"HALTED"}
    assert all(c.reason.startswith("account HALTED: MAX_DRAWDOWN") for c in snap.clusters)
    assert {c.name: c.own_state for c in snap.clusters} == {
        "USD_MAJORS": "ACTIVE", "GOLD_HAVENS": "CLOSE_ONLY"}
    assert snap.rearmable and snap.account_since is not None
    assert snap.account_since <= snap.time
    assert snap.max_drawdown == pytest.approx(0.0005)


# ----------------------------------------------------------------- Algo Trading


def test_automation_off_stops_automatic_entries_only(tmp_path):
    # Arrange
    e = session(tmp_path).engine
    ok, message = e.execute(cmd.SetAutomation(enabled=False, source="gui"))
    # Act: days in which baskets would open
    step_until(e, lambda _e: False, max_days=3)
    # Assert: no basket, refusals say why, cluster states untouched, journaled
    assert ok, message
    assert not e.baskets and e.stats.baskets_opened == 0
    assert e.stats.refusals["AUTOMATION_OFF"] >= 1
    snap = e.snapshot(refresh=True)
    assert not snap.automation
    assert {c.state for c in snap.clusters} == {"ACTIVE"}
    assert snap.account_state == "ACTIVE"
    assert ("SetAutomation", '{"enabled":false}') in rows(
        tmp_path, "select command, arguments from manual_commands")


def test_automation_off_keeps_exits_and_allows_a_manual_basket(tmp_path):
    e = session(tmp_path).engine
    cluster = first_basket(e)
    e.execute(cmd.SetAutomation(enabled=False, source="gui"))
    # an open basket still closes by its exits
    assert step_until(e, lambda e: not e.baskets, 5)
    # a manual basket is not refused for the switch: the preview runs every gate
    seen = previews(e)
    e.execute(cmd.PreviewBasket(cluster=cluster, direction="LONG", source="gui"))
    assert seen[0].refusal != "AUTOMATION_OFF"
    refused = e.stats.refusals["AUTOMATION_OFF"]
    e.execute(cmd.OpenBasket(cluster=cluster, direction="LONG", source="gui"))
    assert e.stats.refusals["AUTOMATION_OFF"] == refused
    assert bool(e.baskets) == (seen[0].refusal == "")
    e.execute(cmd.SetAutomation(enabled=True, source="gui"))
    assert e.snapshot(refresh=True).automation


def test_resuming_the_account_never_rearms_a_risk_halt(tmp_path):
    e = session(tmp_path, config(risk={"max_drawdown": 0.0005})).engine
    first_basket(e)
    assert step_until(e, lambda e: e.snapshot(refresh=True).account_state == "HALTED", 3)
    ok, message = e.execute(cmd.ResumeCluster(cluster="*", source="gui"))
    assert not ok and "Rearm" in message
    assert e.snapshot(refresh=True).account_state == "HALTED"
    ok, message = e.execute(cmd.Rearm(source="gui"))
    snap = e.snapshot(refresh=True)
    assert ok and snap.account_state == "ACTIVE" and not snap.rearmable
    assert f"drawdown peak now {snap.peak_equity:,.2f}" in message


# ----------------------------------------------------------------- basket preview


def test_the_preview_shows_what_open_basket_would_send_without_trading(tmp_path):
    # Arrange
    e = session(tmp_path).engine
    step_until(e, lambda e: all(s.last_point is not None and s.last_point.valid
                                for s in e.signals.values()), 3)
    seen = previews(e)
    # Act
    ok, message = e.execute(cmd.PreviewBasket(cluster="USD_MAJORS", direction="LONG",
                                              source="gui", command_id="p1"))
    # Assert: legs with prices, the budget, stop and TP; nothing traded
    assert ok, message
    [p] = seen
    assert p.request_id == "p1" and p.cluster == "USD_MAJORS" and p.direction == "LONG"
    assert len(p.legs) >= 2 and all(leg.lots > 0 and leg.price > 0 for leg in p.legs)
    assert p.risk_budget == pytest.approx(e.config.risk.risk_per_trade * p.equity)
    assert p.stop_loss == -p.risk_budget
    spec = e.signals["USD_MAJORS"].spec
    assert p.take_profit == pytest.approx(spec.stops.take_profit_r * p.risk_budget)
    assert not e.baskets and e.stats.baskets_opened == 0
    assert e.terminal.positions_total() == 0


def test_the_preview_names_a_risk_refusal(tmp_path):
    e = session(tmp_path).engine
    step_until(e, lambda e: e.signals["USD_MAJORS"].last_point is not None, 3)
    e.execute(cmd.HaltCluster(cluster="*", source="gui"))
    seen = previews(e)
    e.execute(cmd.PreviewBasket(cluster="USD_MAJORS", direction="SHORT", source="gui"))
    [p] = seen
    assert p.refusal == "ACCOUNT_HALTED" and "account" in p.refusal_detail
    assert p.legs  # sized before the risk check refused


def test_exit_at_once_uses_the_engines_exit_rule():
    assert exit_at_once(Direction.LONG, -0.1, 0.25, 3.0, 0.25).startswith("MR")
    assert exit_at_once(Direction.LONG, -1.4, 0.25, 3.0, 0.25) == ""
    assert exit_at_once(Direction.SHORT, 1.4, 0.25, 3.0, 0.25) == ""
    assert exit_at_once(Direction.SHORT, -3.5, 0.25, 3.0, 0.25).startswith("OS")
    assert exit_at_once(Direction.LONG, -3.5, 0.25, 3.0, 0.25).startswith("TS")


def test_open_basket_refuses_when_a_leg_moved_beyond_the_deviation(tmp_path):
    # Arrange: a preview, then prices that are off by far more than the deviation
    e = session(tmp_path).engine
    step_until(e, lambda e: e.signals["USD_MAJORS"].last_point is not None, 3)
    seen = previews(e)
    e.execute(cmd.PreviewBasket(cluster="USD_MAJORS", direction="LONG", source="gui"))
    shown = seen[0].prices()
    stale = {s: p * 1.01 for s, p in shown.items()}
    # Act
    ok, message = e.execute(cmd.OpenBasket(cluster="USD_MAJORS", direction="LONG",
                                           prices=stale, source="gui", command_id="o1"))
    # Assert: refused with the legs named, a fresh preview answers the same request
    assert not ok and "moved beyond the deviation" in message
    assert all(symbol in message for symbol in shown)
    assert not e.baskets
    assert seen[-1].request_id == "o1"
    # the prices shown a moment ago are within the deviation: it opens (or a gate says no)
    ok, message = e.execute(cmd.OpenBasket(cluster="USD_MAJORS", direction="LONG",
                                           prices=seen[-1].prices(), source="gui"))
    assert "moved" not in message
