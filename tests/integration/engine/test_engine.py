"""The trading engine on the simulated terminal: exits, commands, risk, news, faults, restart.

Every test runs the real engine, the real simulated terminal over the synthetic market and
a real SQLite journal, on a virtual clock: fixed seeds make each scenario exact.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from helpers.engine_setup import CLUSTERS, DAY_MS, config, first_basket, session, step_until

from app.sessions import sim_session
from engine import commands as cmd
from engine.calendar import CoverageSpan, EconomicEvent, StaticCalendar
from engine.events import NOTICES, BasketClosed
from engine.loop import run_sync
from engine.model import ClusterState, ExitCode, Impact
from engine.records import ClusterStateChange
from engine.risk.types import ACCOUNT
from engine.runner import Engine
from mt5bridge.sim import FaultConfig, SimConfig


def closes(engine: Engine) -> list[BasketClosed]:
    seen: list[BasketClosed] = []
    engine.bus.subscribe(lambda ev: seen.append(ev) if isinstance(ev, BasketClosed) else None)
    return seen


def rows(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def close_first_basket(engine: Engine, max_days: float = 3) -> BasketClosed:
    seen = closes(engine)
    assert step_until(engine, lambda e: bool(seen), max_days), "the basket never closed"
    return seen[0]


def test_balance_is_deposit_plus_journaled_basket_pnl_and_deals(tmp_path):
    s = session(tmp_path)
    e = s.engine
    run_sync(e, e.now_msc + 10 * DAY_MS)
    e.flatten_all(ExitCode.MANUAL, "end")
    balance = float(s.terminal.account_info().balance)
    pnl = rows(tmp_path, "select sum(pnl) from baskets")[0][0]
    deals = rows(tmp_path, "select sum(profit + commission + swap + fee) from deals")[0][0]
    assert e.stats.baskets_closed >= 3
    assert balance == pytest.approx(100_000 + pnl, abs=0.01)
    assert pnl == pytest.approx(deals, abs=0.01)
    assert s.terminal.positions_total() == 0


# ----------------------------------------------------------------- exits


def test_mean_reversion_exit(tmp_path):
    e = session(tmp_path).engine
    first_basket(e)
    assert close_first_basket(e).exit_code == "MR"


def _with_thresholds(e: Engine, cluster: str, entry: float, exit_band: float,
                     tdi_stop: float) -> None:
    sig = e.signals[cluster]
    sig.spec = dataclasses.replace(sig.spec, entry=entry, exit_band=exit_band,
                                   stops=dataclasses.replace(sig.spec.stops, tdi_stop=tdi_stop))


def _with_stops(e: Engine, cluster: str, **stops: float) -> None:
    sig = e.signals[cluster]
    sig.spec = dataclasses.replace(sig.spec, stops=dataclasses.replace(sig.spec.stops, **stops))


@pytest.mark.parametrize(
    ("manipulate", "code"),
    [
        # X so small that re-alignment overshoots the band before landing inside it
        (lambda e, c: setattr(e.signals[c], "exit_band", 1e-9), "OS"),
        # a take-profit of one dollar, with the mean-reversion band out of the way
        (lambda e, c: (setattr(e.baskets[c], "take_profit", 1.0),
                       setattr(e.signals[c], "exit_band", 1e-9)), "TP"),
        # a one-dollar risk budget: the entry costs alone breach it
        (lambda e, c: setattr(e.baskets[c], "risk_budget", 1.0), "HS"),
        # a TDI stop just beyond zero: the TDI is still on the entry side at the next close
        (lambda e, c: (_with_thresholds(e, c, entry=0.002, exit_band=0.001, tdi_stop=0.003),
                       setattr(e.signals[c], "exit_band", 1e-9),
                       setattr(e.baskets[c], "take_profit", 1e9)), "TS"),
        # a one-bar time stop
        (lambda e, c: (_with_stops(e, c, time_stop_bars=1),
                       setattr(e.signals[c], "exit_band", 1e-9),
                       setattr(e.baskets[c], "take_profit", 1e9)), "TO"),
    ],
    ids=["OS", "TP", "HS", "TS", "TO"],
)
def test_each_exit_code_from_a_constructed_scenario(tmp_path, manipulate, code):
    e = session(tmp_path).engine
    cluster = first_basket(e)
    manipulate(e, cluster)
    closed = close_first_basket(e)
    assert closed.exit_code == code
    assert rows(tmp_path, "select exit_code from baskets")[0][0] == code


def test_news_exit_flattens_before_a_high_impact_event(tmp_path):
    # Arrange: a USD event 20 minutes after seed 0's first entry (2024-01-10 15:30 UTC),
    # flatten 5 minutes before it; the calendar covers the whole run.
    event = datetime(2024, 1, 10, 15, 50, tzinfo=UTC)
    cal = StaticCalendar(
        [EconomicEvent(event, "USD", Impact.HIGH, "Test release", source="test", source_id="1")],
        [CoverageSpan(datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))])
    cfg = config(news={"pre_minutes": 5, "post_minutes": 5, "flatten_before": True,
                       "flatten_lead_minutes": 5})
    e = session(tmp_path, cfg, calendar=cal).engine
    first_basket(e)
    # Act
    closed = close_first_basket(e)
    # Assert
    assert closed.exit_code == "NEWS"
    assert closed.time == event - timedelta(minutes=5)
    assert rows(tmp_path, "select action, currency from news_actions") == [("FLATTEN", "USD")]


def test_manual_close_of_a_basket(tmp_path):
    e = session(tmp_path).engine
    cluster = first_basket(e)
    ok, message = e.execute(cmd.CloseBasket(cluster=cluster, source="gui"))
    assert ok, message
    assert not e.baskets
    assert rows(tmp_path, "select exit_code from baskets") == [("MANUAL",)]
    assert rows(tmp_path, "select source, command, result from manual_commands") == [
        ("gui", "CloseBasket", "ok: closed")]


def test_drawdown_flattens_with_risk_halts_and_rearms(tmp_path):
    # Arrange: a drawdown limit of 0.05% of equity ($50)
    e = session(tmp_path, config(risk={"max_drawdown": 0.0005})).engine
    first_basket(e)
    # Act
    closed = close_first_basket(e)
    # Assert: flattened with RISK, account halted, no entries until re-armed
    assert closed.exit_code == "RISK"
    assert e.snapshot(refresh=True).account_state == "HALTED"
    step_until(e, lambda _e: False, max_days=1)
    assert not e.baskets
    assert e.stats.refusals["ACCOUNT_HALTED"] >= 1
    ok, _ = e.execute(cmd.Rearm(source="gui"))
    assert ok
    assert e.snapshot(refresh=True).account_state == "ACTIVE"


# ----------------------------------------------------------------- commands and locks


def test_pause_puts_a_cluster_close_only_and_journals_the_command(tmp_path):
    s = session(tmp_path)
    e = s.engine
    ok, message = e.execute(cmd.PauseCluster(cluster="USD_MAJORS", source="gui"))
    assert ok, message
    assert e.snapshot(refresh=True).clusters[0].state == "CLOSE_ONLY"
    run_sync(e, e.now_msc + 4 * DAY_MS)
    clusters = {c for (c,) in rows(tmp_path, "select cluster from baskets")}
    assert "USD_MAJORS" not in clusters
    assert e.stats.refusals["CLUSTER_CLOSE_ONLY"] >= 1
    assert rows(tmp_path, "select command, result from manual_commands") == [
        ("PauseCluster", "ok: USD_MAJORS CLOSE_ONLY")]
    states = rows(tmp_path, "select cluster, state, who from cluster_states")
    assert ("USD_MAJORS", "CLOSE_ONLY", "gui") in states


def test_a_halted_cluster_never_sends_an_entry(tmp_path):
    e = session(tmp_path).engine
    e.execute(cmd.HaltCluster(cluster="*", source="cli"))
    run_sync(e, e.now_msc + 5 * DAY_MS)
    assert rows(tmp_path, "select count(*) from orders") == [(0,)]
    assert e.stats.refusals["ACCOUNT_HALTED"] >= 1


def test_locks_survive_a_restart_on_the_same_account(tmp_path):
    # Arrange: a halt, then the process ends; its simulator (its account) lives on
    s = session(tmp_path)
    s.engine.execute(cmd.HaltCluster(cluster="GOLD_HAVENS", source="gui"))
    s.close()

    # Act
    again = sim_session(s.engine.config, s.sim, mode=s.mode,
                        journal_path=tmp_path / "journal.sqlite")
    again.engine.start()

    # Assert
    views = {v.name: v.state for v in again.engine.snapshot(refresh=True).clusters}
    assert views["GOLD_HAVENS"] == "HALTED"


def test_a_fresh_simulated_account_starts_without_an_earlier_ones_locks(tmp_path):
    # Arrange: a run halts the account and a cluster, as a replay's drawdown stop would
    s = session(tmp_path)
    s.engine.execute(cmd.HaltCluster(cluster="GOLD_HAVENS", source="gui"))
    s.engine.journal_state(s.engine.risk.set_cluster_state(
        s.engine.now(), ACCOUNT, ClusterState.HALTED, "MAX_DRAWDOWN: drawdown 5.0% >= 5.0%",
        "engine"))
    s.close()

    # Act: the next session into the same journal runs a new simulator (a replay again)
    again = session(tmp_path)

    # Assert: its account and clusters trade; both runs' lock records are kept, each
    # under its own run
    snapshot = again.engine.snapshot(refresh=True)
    assert {v.name: v.state for v in snapshot.clusters} == dict.fromkeys(CLUSTERS, "ACTIVE")
    assert snapshot.account_state == "ACTIVE"
    assert rows(tmp_path, "select cluster, state, run_id from cluster_states order by rowid") == [
        ("GOLD_HAVENS", "HALTED", s.engine.run_id), (ACCOUNT, "HALTED", s.engine.run_id)]


def test_a_lock_dated_after_the_clock_is_not_restored(tmp_path):
    # Arrange: a lock journaled at a later moment than the next session starts at (a
    # replay of a later span on the same served simulator, then one of an earlier span)
    s = session(tmp_path)
    later = s.engine.now() + timedelta(days=30)
    s.engine.journal.record_cluster_state(ClusterStateChange(
        later, "GOLD_HAVENS", ClusterState.HALTED, "paused by hand", "gui"))
    s.close()

    # Act
    again = sim_session(s.engine.config, s.sim, mode=s.mode,
                        journal_path=tmp_path / "journal.sqlite")
    again.engine.start()

    # Assert
    views = {v.name: v.state for v in again.engine.snapshot(refresh=True).clusters}
    assert views["GOLD_HAVENS"] == "ACTIVE"


def test_open_by_hand_and_flatten_all(tmp_path):
    e = session(tmp_path).engine
    step_until(e, lambda _e: False, max_days=1)
    ok, message = e.execute(cmd.OpenBasket(cluster="USD_MAJORS", direction="short",
                                           source="gui"))
    assert ok, message
    assert e.baskets["USD_MAJORS"].direction.value == "SHORT"
    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1,
                                           source="gui"))
    assert ok, message
    ok, message = e.execute(cmd.FlattenAll(source="gui"))
    # the baskets and the position sent by hand: everything the Trade tab lists
    assert ok and message == "1 basket(s) closed; 1 other position(s) closed"
    assert not e.baskets
    assert e.terminal.positions_total() == 0


def test_a_position_sent_by_hand_shows_the_commission_its_deal_paid(tmp_path):
    # Arrange
    e = session(tmp_path).engine
    step_until(e, lambda _e: False, max_days=0.1)

    # Act
    ok, message = e.execute(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1,
                                           source="gui"))
    (view,) = e.snapshot(refresh=True).positions

    # Assert: the Trade tab's Commission is the opening deal's, as the balance paid it
    (deal,) = e.terminal.history_deals_get(position=view.ticket)
    assert ok, message
    assert view.commission == float(deal.commission) < 0


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (cmd.SetThresholds(cluster="USD_MAJORS", entry=0.2, exit_band=0.5), "need 0 < X"),
        (cmd.PauseCluster(cluster="NOPE"), "no cluster named"),
        (cmd.CloseBasket(cluster="USD_MAJORS"), "no open basket"),
        (cmd.OpenBasket(cluster="USD_MAJORS", direction="sideways"), "rejected"),
    ],
)
def test_invalid_commands_are_refused_and_audited(tmp_path, command, text):
    e = session(tmp_path).engine
    ok, message = e.execute(command)
    assert not ok
    assert text in message
    assert rows(tmp_path, "select result from manual_commands")[0][0].startswith("failed:")


def test_thresholds_change_live(tmp_path):
    e = session(tmp_path).engine
    ok, _ = e.execute(cmd.SetThresholds(cluster="USD_MAJORS", entry=2.4, exit_band=0.5))
    assert ok
    assert (e.signals["USD_MAJORS"].entry, e.signals["USD_MAJORS"].exit_band) == (2.4, 0.5)


# ----------------------------------------------------------------- news and calendar


def test_news_blackout_blocks_an_entry_and_says_why(tmp_path):
    # Arrange: a USD release at seed 0's first entry time (2024-01-10 15:30 UTC)
    cal = StaticCalendar(
        [EconomicEvent(datetime(2024, 1, 10, 15, 40, tzinfo=UTC), "USD", Impact.HIGH,
                       "Test payrolls", source="test", source_id="1")],
        [CoverageSpan(datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))])
    e = session(tmp_path, calendar=cal).engine
    # Act
    step_until(e, lambda _e: e.now_msc >= datetime(2024, 1, 10, 16, tzinfo=UTC).timestamp()
               * 1000, max_days=5)
    # Assert: refused, journaled with the event, and no basket opened in the window
    refused = rows(tmp_path, "select cluster, reason, detail from refusals")
    assert refused[0][:2] == ("USD_MAJORS", "NEWS_BLACKOUT")
    assert "Test payrolls" in refused[0][2] and "15:10-16:10" in refused[0][2]
    assert not e.baskets


@pytest.mark.parametrize(("policy", "trades"), [("block", False), ("allow", True)])
def test_stale_calendar_follows_its_policy(tmp_path, policy, trades):
    stale = StaticCalendar([], [CoverageSpan(datetime(2023, 1, 1, tzinfo=UTC),
                                             datetime(2023, 2, 1, tzinfo=UTC))])
    e = session(tmp_path, config(news={"stale_policy": policy}), calendar=stale).engine
    assert e.snapshot(refresh=True).calendar_state == "STALE"
    run_sync(e, e.now_msc + 4 * DAY_MS)
    assert (e.stats.baskets_opened > 0) is trades
    if not trades:
        assert e.stats.refusals["CALENDAR_STALE"] >= 1


# ----------------------------------------------------------------- faults


def test_a_rejected_leg_unwinds_the_basket_and_locks_the_cluster(tmp_path):
    s = session(tmp_path)
    e = s.engine
    seen = closes(e)
    # Half the orders are rejected (seed 6: the fourth leg of the first basket fails) ...
    s.sim.sim_set_faults(FaultConfig(seed=6, reject=0.5))
    assert step_until(e, lambda _e: _e.stats.baskets_opened > 0, max_days=10)
    # ... then the broker accepts again: unwinds that were rejected too are retried.
    s.sim.sim_set_faults(FaultConfig())
    assert step_until(e, lambda _e: bool(seen), max_days=1)
    assert seen[0].exit_code == "RISK"
    assert "leg USDCHF not filled (FAILED, retcode 10006" in seen[0].detail
    assert "3 filled leg(s) unwound" in seen[0].detail
    assert s.terminal.positions_total() == 0
    states = rows(tmp_path, "select cluster, state, reason from cluster_states")
    assert states == [("USD_MAJORS", "HALTED", seen[0].detail)]
    unwinds = rows(tmp_path, "select symbol, retcode from orders where purpose = 'UNWIND'")
    assert {sym for sym, code in unwinds if code == 10009} == {"AUDUSD", "EURUSD", "GBPUSD"}


def test_requotes_are_retried_and_filled(tmp_path):
    s = session(tmp_path)
    s.sim.sim_set_faults(FaultConfig(seed=1, requote=0.4))
    e = s.engine
    run_sync(e, e.now_msc + 4 * DAY_MS)
    orders = rows(tmp_path, "select basket_id, symbol, purpose, retcode from orders order by rowid")
    assert sum(code == 10004 for *_k, code in orders) >= 3
    attempts: dict[tuple, list[int]] = {}
    for basket, symbol, purpose, code in orders:
        attempts.setdefault((basket, symbol, purpose), []).append(code)
    exits = dict(rows(tmp_path, "select basket_id, exit_code from baskets"))
    limit = e.config.execution.max_retries + 1
    for (basket, _symbol, _purpose), codes in attempts.items():
        if codes[-1] == 10009:
            assert set(codes[:-1]) <= {10004} and len(codes) <= limit  # retried, then filled
        else:  # requoted on every attempt: the leg failed and the basket was unwound
            assert codes == [10004] * limit and exits[basket] == "RISK"
    assert any(c[-1] == 10009 and len(c) > 1 for c in attempts.values())
    assert e.stats.baskets_opened >= 2


def test_lost_connection_blocks_entries_and_recovers(tmp_path, caplog):
    s = session(tmp_path)
    e = s.engine
    s.sim.sim_disconnect(failed_reconnects=10_000)
    run_sync(e, e.now_msc + 3 * DAY_MS)
    assert e.stats.baskets_opened == 0
    assert e.snapshot(refresh=True).connected is False
    s.sim.sim_reconnect()
    first_basket(e, max_days=5)
    # the operator warned of the loss is told of the end, on a logger enabled at INFO
    said = [(r.name, r.levelname, r.getMessage()) for r in caplog.records
            if "terminal connection" in r.getMessage()]
    assert said == [("engine.runner", "WARNING", "terminal connection lost: no new entries"),
                    (NOTICES, "INFO", "terminal connection restored: entries allowed again")]
    positions = {int(p.ticket) for p in s.terminal.positions_get()}
    legs = {leg.position for b in e.baskets.values() for leg in b.open_legs}
    assert positions == legs


# ----------------------------------------------------------------- restart


def test_warm_restart_adopts_the_open_basket(tmp_path):
    s = session(tmp_path)
    cluster = first_basket(s.engine)
    tickets = sorted(leg.position for leg in s.engine.baskets[cluster].legs)
    # The process "dies" here: no stop(); a new engine starts on the same terminal and journal.
    s.journal.close()  # what the dying process's OS does: its file and writer lock are let go
    again = sim_session(s.engine.config, s.sim, mode=s.mode,
                        journal_path=tmp_path / "journal.sqlite",
                        calendar=s.calendar)
    e2 = again.engine
    e2.start()
    assert sorted(leg.position for leg in e2.baskets[cluster].legs) == tickets
    closed = close_first_basket(e2)
    assert closed.cluster == cluster
    assert s.terminal.positions_total() == 0


def test_cold_start_flags_positions_with_our_magic_as_external(tmp_path):
    s = session(tmp_path, start=False)
    magic = s.engine.signals["USD_MAJORS"].spec.magic
    tick = s.terminal.symbol_info_tick("EURUSD")
    result = s.terminal.order_send({"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0,
                                    "price": tick.ask, "magic": magic, "comment": "manual",
                                    "type_filling": 1})
    assert result.retcode == 10009
    s.engine.start()
    states = rows(tmp_path, "select cluster, state, reason from cluster_states")
    assert states[0][0] == "USD_MAJORS" and states[0][1] == "CLOSE_ONLY"
    assert f"EXTERNAL position #{result.order}" in states[0][2] or "EXTERNAL" in states[0][2]
    run_sync(s.engine, s.engine.now_msc + 2 * DAY_MS)
    assert s.terminal.positions_total() >= 1  # not traded by the engine
    assert not {c for (c,) in rows(tmp_path, "select cluster from baskets")} & {"USD_MAJORS"}


def test_snapshot_describes_every_cluster(tmp_path):
    e = session(tmp_path).engine
    first_basket(e)
    snap = e.snapshot(refresh=True)
    assert [v.name for v in snap.clusters] == ["USD_MAJORS", "GOLD_HAVENS"]
    open_view = next(v for v in snap.clusters if v.basket_id)
    assert open_view.direction in ("LONG", "SHORT")
    assert math.isfinite(open_view.tdi) and math.isfinite(open_view.pnl)
    assert snap.balance > 0 and snap.connected


def test_sim_config_symbol_suffix_is_transparent(tmp_path):
    s = session(tmp_path, sim_config=SimConfig(symbol_suffix=".a"))
    first_basket(s.engine)
    symbols = {p.symbol for p in s.sim.positions_get()}
    assert symbols and all(sym.endswith(".a") for sym in symbols)


def test_worker_thread_runs_the_engine_and_takes_commands_from_another_thread(tmp_path):
    import threading

    from engine.events import CommandDone
    from engine.loop import EngineWorker
    from mt5bridge.sim.pacing import MAX_SPEED, Pacer

    s = session(tmp_path)
    e = s.engine
    answered = threading.Event()
    answers: list[CommandDone] = []

    def on_event(event: object) -> None:
        if isinstance(event, CommandDone):
            answers.append(event)
            answered.set()

    e.bus.subscribe(on_event)
    worker = EngineWorker(e, Pacer(e.now_msc, speed=MAX_SPEED), until_msc=e.now_msc + 2 * DAY_MS)
    worker.start()
    e.submit(cmd.PauseCluster(cluster="USD_MAJORS", source="gui"))  # from this thread
    assert answered.wait(60)
    worker.join(120)
    assert not worker.is_alive() and worker.error is None
    assert answers[0].ok and answers[0].command == "PauseCluster"
    assert e.now_msc == e.now_msc // 60_000 * 60_000 and e.stats.refusals is not None


def test_a_worker_that_reaches_its_end_leaves_the_snapshot_of_the_end(tmp_path):
    from engine.loop import EngineWorker
    from mt5bridge.sim.pacing import MAX_SPEED, Pacer

    # Arrange: two days at max speed, whose last steps fall inside the rebuilds' throttle
    s = session(tmp_path)
    e = s.engine
    worker = EngineWorker(e, Pacer(e.now_msc, speed=MAX_SPEED), until_msc=e.now_msc + 2 * DAY_MS)

    # Act
    worker.start()
    worker.join(120)

    # Assert: what a window reads after the worker is gone is the end, as the terminal has it
    snap = e.latest_snapshot()
    account = s.sim.account_info()
    assert not worker.is_alive() and worker.error is None
    assert snap is not None and snap.time == e.now()
    assert (snap.balance, snap.equity) == (account.balance, account.equity)
    assert len(snap.positions) == len(s.sim.positions_get())


@pytest.mark.parametrize(
    ("risk", "code"),
    [
        ({"max_lots_per_leg": 0.01}, "MAX_LOTS"),  # trade level
        ({"max_open_risk": 0.004}, "OPEN_RISK_CAP"),  # portfolio: room for one basket (0.003)
        ({"max_currency_exposure": 0.2}, "CURRENCY_CAP"),  # portfolio: per-currency net exposure
        ({"margin_level_floor": 1e9}, "MARGIN_FLOOR"),  # portfolio: once a position exists
    ],
    ids=["trade-max-lots", "open-risk-cap", "currency-cap", "margin-floor"],
)
def test_each_risk_limit_refuses_entries_through_the_engine(tmp_path, risk, code):
    e = session(tmp_path, config(risk=risk)).engine
    run_sync(e, e.now_msc + 10 * DAY_MS)
    reasons = [r.split(":")[0] for (r,) in rows(tmp_path, "select reason from refusals")]
    assert code in reasons


def test_cooldown_after_a_hard_stop(tmp_path):
    e = session(tmp_path).engine
    cluster = first_basket(e)
    e.baskets[cluster].risk_budget = 1.0  # the next M1 check stops it out (HS)
    assert close_first_basket(e).exit_code == "HS"
    views = {v.name: v for v in e.snapshot(refresh=True).clusters}
    assert "cooldown" in views[cluster].reason.lower() or \
        e.risk.snapshot(e.now()).clusters[cluster].cooldown_until is not None


def test_cluster_daily_loss_puts_it_close_only(tmp_path):
    # a cluster daily loss limit of $5 (0.005% of equity): the first losing basket trips it
    e = session(tmp_path, config(risk={"cluster_daily_loss": 0.00005})).engine
    run_sync(e, e.now_msc + 10 * DAY_MS)
    states = rows(tmp_path, "select cluster, state, reason from cluster_states")
    assert any(state == "CLOSE_ONLY" and "daily" in reason.lower()
               for _c, state, reason in states)


def test_close_one_leg_by_ticket_keeps_the_rest_of_the_basket(tmp_path):
    s = session(tmp_path)
    e = s.engine
    cluster = first_basket(e)
    legs = e.baskets[cluster].legs
    ticket = legs[0].position
    assert ticket > 2**32  # MT5 tickets do not fit a 32-bit int
    ok, message = e.execute(cmd.ClosePosition(ticket=ticket, source="gui"))
    assert ok, message
    assert len(e.baskets[cluster].open_legs) == len(legs) - 1
    assert ticket not in {int(p.ticket) for p in s.terminal.positions_get()}
    for leg in list(e.baskets[cluster].open_legs):
        e.execute(cmd.ClosePosition(ticket=leg.position, source="gui"))
    assert cluster not in e.baskets
    assert rows(tmp_path, "select exit_code from baskets") == [("MANUAL",)]


def test_a_new_calendar_replaces_the_news_filters(tmp_path):
    e = session(tmp_path).engine
    stale = StaticCalendar([], [CoverageSpan(datetime(2023, 1, 1, tzinfo=UTC),
                                             datetime(2023, 2, 1, tzinfo=UTC))])
    ok, message = e.execute(cmd.UseCalendar(calendar=stale, source="gui",
                                            description="an old calendar"))
    assert ok and "an old calendar" in message and "stale" in message
    assert e.snapshot(refresh=True).calendar_state == "STALE"
    audited = rows(tmp_path, "select command, arguments from manual_commands")
    assert audited[0][0] == "UseCalendar" and "an old calendar" in audited[0][1]
