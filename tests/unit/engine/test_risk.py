"""The four-level risk manager: every rule driven by explicit datetimes, plus properties."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import decisions as codes
from engine.cluster import Direction as SignalDirection
from engine.errors import UserError
from engine.model import ClusterState, Direction, ExitCode
from engine.records import BasketClose, BasketOpen, BasketRecord, ClusterStateChange
from engine.risk import (
    ACCOUNT,
    EntryRequest,
    RiskAction,
    RiskActionKind,
    RiskConfig,
    RiskManager,
    UnknownClusterError,
    next_trading_day_start,
    trading_day_start,
)
from storage.journal import SqliteJournal

CLUSTERS = ("USD_MAJORS", "EUR_CROSSES", "JPY_CROSSES")
EQUITY = 100_000.0

# A winter Wednesday (EST, rollover 22:00 UTC) and a summer one (EDT, rollover 21:00 UTC).
WINTER = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
SUMMER = datetime(2024, 7, 10, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def request(**overrides: object) -> EntryRequest:
    """A small USD_MAJORS basket well inside every default limit."""
    fields: dict[str, object] = {
        "cluster": "USD_MAJORS",
        "direction": Direction.LONG,
        "risk_budget": 300.0,
        "lots": {"EURUSD": 1.0, "GBPUSD": -0.8},
        "exposures": {"EUR": 100_000.0, "GBP": -100_000.0},
        "equity": EQUITY,
        "margin_level": 0.0,
    }
    fields.update(overrides)
    return EntryRequest(**fields)  # type: ignore[arg-type]


def manager(config: RiskConfig | None = None) -> RiskManager:
    return RiskManager(config or RiskConfig(), CLUSTERS)


def kinds(actions: list[RiskAction]) -> list[RiskActionKind]:
    return [action.kind for action in actions]


def changes(actions: list[RiskAction]) -> list[ClusterStateChange]:
    return [action.change for action in actions if action.change is not None]


# --------------------------------------------------------------------------- config


def test_config_defaults_are_the_documented_ones():
    config = RiskConfig()

    assert (config.risk_per_trade, config.max_lots_per_leg, config.cooldown_bars) == \
        (0.003, 10.0, 4)
    assert (config.cluster_daily_loss, config.max_open_risk, config.max_currency_exposure) == \
        (0.01, 0.015, 3.0)
    assert (config.margin_level_floor, config.account_daily_loss, config.max_drawdown) == \
        (300.0, 0.02, 0.08)
    assert config.risk_budget(EQUITY) == pytest.approx(300.0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_drawdown": 1.5}, "max_drawdown"),
        ({"risk_per_trade": 0.0}, "risk_per_trade"),
        ({"cluster_daily_loss": math.nan}, "cluster_daily_loss"),
        ({"max_lots_per_leg": -1.0}, "max_lots_per_leg"),
        ({"cooldown_bars": -1}, "cooldown_bars"),
        ({"cooldown_bars": 2.5}, "cooldown_bars"),
        ({"margin_level_floor": -5.0}, "margin_level_floor"),
        ({"max_open_risk": 0.002}, "max_open_risk"),
    ],
)
def test_bad_config_value_names_its_field(overrides, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        RiskConfig(**overrides)


def test_cluster_names_must_be_unique_and_not_the_account():
    with pytest.raises(ValueError, match="unique"):
        RiskManager(RiskConfig(), ["A", "A"])
    with pytest.raises(ValueError, match="not '\\*'"):
        RiskManager(RiskConfig(), ["A", ACCOUNT])


# --------------------------------------------------------------------------- trading day


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (WINTER, utc(2024, 1, 9, 22), utc(2024, 1, 10, 22)),
        (SUMMER, utc(2024, 7, 9, 21), utc(2024, 7, 10, 21)),
        (utc(2024, 1, 10, 22), utc(2024, 1, 10, 22), utc(2024, 1, 11, 22)),
        (utc(2024, 1, 10, 21, 59, 59), utc(2024, 1, 9, 22), utc(2024, 1, 10, 22)),
        # US DST starts on Sunday 10 March 2024: Saturday's roll is EST, Sunday's EDT.
        (utc(2024, 3, 10, 12), utc(2024, 3, 9, 22), utc(2024, 3, 10, 21)),
        # ... and ends on Sunday 3 November 2024.
        (utc(2024, 11, 3, 12), utc(2024, 11, 2, 21), utc(2024, 11, 3, 22)),
    ],
)
def test_trading_day_rolls_at_1700_new_york(now, start, end):
    assert trading_day_start(now) == start
    assert next_trading_day_start(now) == end


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        trading_day_start(datetime(2024, 1, 10, 12))


# --------------------------------------------------------------------------- refusal codes


def test_a_basket_inside_every_limit_is_allowed():
    decision = manager().check_entry(WINTER, request())

    assert decision.allowed
    assert bool(decision)
    assert decision.reason == ""


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"cluster": "NOT_CONFIGURED"}, codes.UNKNOWN_CLUSTER),
        ({"has_open_basket": True}, codes.ONE_BASKET),
        ({"equity": math.nan}, codes.NO_EQUITY),
        ({"equity": 0.0}, codes.NO_EQUITY),
        ({"risk_budget": 0.0}, codes.INVALID_REQUEST),
        ({"risk_budget": math.inf}, codes.INVALID_REQUEST),
        ({"open_risk": math.nan}, codes.INVALID_REQUEST),
        ({"lots": {}}, codes.INVALID_REQUEST),
        ({"lots": {"EURUSD": math.nan}}, codes.INVALID_REQUEST),
        ({"exposures": {"EUR": math.nan}}, codes.INVALID_REQUEST),
        # 1,300 open + 300 > 1,500 (1.5% of 100k).
        ({"open_risk": 1_300.0}, codes.OPEN_RISK_CAP),
        # USD already +250k; the candidate adds +60k: 310k > 300k (3 x equity).
        ({"exposures": {"USD": 60_000.0, "EUR": -60_000.0},
          "open_exposures": {"USD": 250_000.0}}, "CURRENCY_CAP:USD"),
        ({"exposures": {"USD": -310_000.0, "JPY": 310_000.0}}, "CURRENCY_CAP:JPY"),
        ({"margin_level": 250.0}, codes.MARGIN_FLOOR),
        ({"margin_level": math.nan}, codes.MARGIN_FLOOR),
        ({"lots": {"EURUSD": 10.5, "GBPUSD": -1.0}}, "MAX_LOTS:EURUSD"),
        ({"lots": {"EURUSD": 1.0, "GBPUSD": -12.0}}, "MAX_LOTS:GBPUSD"),
    ],
)
def test_each_stateless_rule_refuses_with_its_code(overrides, code):
    decision = manager().check_entry(WINTER, request(**overrides))

    assert not decision.allowed
    assert decision.reason == code
    assert decision.detail


@pytest.mark.parametrize(
    "overrides",
    [
        {"open_risk": 1_200.0},                      # exactly at the 1,500 cap
        {"margin_level": 300.0},                     # exactly at the floor
        {"margin_level": 0.0},                       # MT5: no positions, no margin used
        {"lots": {"EURUSD": 10.0, "GBPUSD": -10.0}},  # exactly the max lots
        {"exposures": {"USD": -50_000.0, "EUR": 50_000.0},
         "open_exposures": {"USD": 140_000.0}},     # reduces USD: 90k
        {"exposures": {"EUR": 0.0}, "open_exposures": {"EUR": 900_000.0}},  # untouched
    ],
)
def test_limits_are_inclusive_and_only_touched_currencies_count(overrides):
    assert manager().check_entry(WINTER, request(**overrides)).allowed


def test_refusal_becomes_a_journal_refusal_record():
    decision = manager().check_entry(WINTER, request(open_risk=1_400.0))

    refusal = decision.as_refusal(WINTER, "USD_MAJORS", run_id="run-1")

    assert (refusal.reason, refusal.cluster, refusal.run_id) == \
        (codes.OPEN_RISK_CAP, "USD_MAJORS", "run-1")
    assert "1,500.00" in refusal.detail
    with pytest.raises(ValueError):
        codes.ALLOWED.as_refusal(WINTER, "USD_MAJORS")


def test_decisions_chain_to_the_first_refusal_and_group_on_their_prefix():
    cap = codes.Decision.refuse("CURRENCY_CAP:USD", "too much USD")
    news = codes.Decision.refuse(codes.NEWS_BLACKOUT, "NFP")

    assert codes.first_refusal(codes.ALLOWED, cap, news) is cap
    assert codes.first_refusal(codes.ALLOWED, codes.ALLOWED).allowed
    assert cap.code_prefix == codes.CURRENCY_CAP
    with pytest.raises(ValueError, match="reason"):
        codes.Decision(False)


def test_first_refusal_wins_in_level_order():
    risk = manager()
    risk.set_cluster_state(WINTER, "USD_MAJORS", ClusterState.CLOSE_ONLY, "pause", "gui")
    too_much = request(open_risk=1_400.0, lots={"EURUSD": 50.0}, margin_level=10.0)

    cluster_first = risk.check_entry(WINTER, too_much)
    risk.set_cluster_state(WINTER, ACCOUNT, ClusterState.HALTED, "stop all", "gui")
    account_first = risk.check_entry(WINTER, too_much)

    assert cluster_first.reason == codes.CLUSTER_CLOSE_ONLY
    assert account_first.reason == codes.ACCOUNT_HALTED
    assert risk.check_entry(WINTER, request(cluster="EUR_CROSSES", open_risk=1_400.0)).reason \
        == codes.ACCOUNT_HALTED


def test_signal_direction_enum_is_accepted():
    req = request(direction=SignalDirection.SHORT)

    assert req.direction is Direction.SHORT


# --------------------------------------------------------------------------- cluster level


def test_manual_halt_and_pause_refuse_entries_until_resumed():
    risk = manager()

    halt = risk.set_cluster_state(WINTER, "USD_MAJORS", "HALTED", "news desk says no", "gui")
    halted = risk.check_entry(WINTER, request())
    risk.set_cluster_state(WINTER, "USD_MAJORS", "CLOSE_ONLY", "exits only", "cli")
    paused = risk.check_entry(WINTER, request())
    resume = risk.set_cluster_state(WINTER, "USD_MAJORS", "ACTIVE", "back on", "gui")

    assert (halt.state, halt.who, halt.expires_at) == (ClusterState.HALTED, "gui", None)
    assert halted.reason == codes.CLUSTER_HALTED and "news desk says no" in halted.detail
    assert paused.reason == codes.CLUSTER_CLOSE_ONLY
    assert resume.state is ClusterState.ACTIVE
    assert risk.check_entry(WINTER, request()).allowed
    assert risk.check_entry(WINTER, request(cluster="EUR_CROSSES")).allowed


def test_side_specific_lock_blocks_only_that_direction():
    risk = manager()

    risk.set_cluster_state(WINTER, "USD_MAJORS", "CLOSE_ONLY", "no shorts", "gui",
                           side=Direction.SHORT)

    assert risk.check_entry(WINTER, request(direction=Direction.SHORT)).reason == \
        codes.CLUSTER_CLOSE_ONLY
    assert risk.check_entry(WINTER, request(direction=Direction.LONG)).allowed


def test_manual_lock_with_expiry_is_released_with_a_record():
    risk = manager()
    until = WINTER + timedelta(hours=2)
    risk.set_cluster_state(WINTER, "USD_MAJORS", "HALTED", "lunch", "gui", expires_at=until)

    before = risk.on_clock(until - timedelta(minutes=1))
    after = risk.on_clock(until)

    assert before == []
    assert [(c.cluster, c.state, c.who, c.time) for c in changes(after)] == \
        [("USD_MAJORS", ClusterState.ACTIVE, "engine", until)]
    assert risk.check_entry(until, request()).allowed


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"cluster": "NOPE"}, UnknownClusterError),
        ({"reason": "  "}, UserError),
        ({"expires_at": WINTER}, UserError),
        ({"side": "SIDEWAYS"}, UserError),
    ],
)
def test_bad_manual_command_is_a_user_error(kwargs, error):
    arguments = {"cluster": "USD_MAJORS", "state": "HALTED", "reason": "r", "who": "gui"}
    arguments.update(kwargs)

    with pytest.raises(error):
        manager().set_cluster_state(WINTER, **arguments)


@pytest.mark.parametrize("code", [ExitCode.HS, ExitCode.TS])
def test_cooldown_after_a_stop_lasts_four_complete_m30_bars(code):
    risk = manager()
    exit_time = utc(2024, 1, 10, 10, 7)   # inside the 10:00-10:30 bar

    risk.on_basket_closed(exit_time, "USD_MAJORS", code, -50.0)

    refused = [risk.check_entry(t, request()).reason
               for t in (utc(2024, 1, 10, 10, 30), utc(2024, 1, 10, 12, 0))]
    assert refused == [codes.COOLDOWN, codes.COOLDOWN]
    assert risk.check_entry(utc(2024, 1, 10, 12, 30), request()).allowed
    assert risk.check_entry(utc(2024, 1, 10, 10, 30), request(cluster="EUR_CROSSES")).allowed
    view = risk.snapshot(utc(2024, 1, 10, 11)).clusters["USD_MAJORS"]
    assert (view.cooldown_until, view.cooldown_reason) == (utc(2024, 1, 10, 12, 30), code)


def test_cooldown_from_an_exit_on_a_bar_close_counts_from_that_close():
    risk = manager()

    risk.on_basket_closed(utc(2024, 1, 10, 10, 30), "USD_MAJORS", ExitCode.TS, -50.0)

    assert risk.check_entry(utc(2024, 1, 10, 12, 0), request()).reason == codes.COOLDOWN
    assert risk.check_entry(utc(2024, 1, 10, 12, 30), request()).allowed


@pytest.mark.parametrize("code", [ExitCode.MR, ExitCode.TO, ExitCode.TP, ExitCode.MANUAL])
def test_other_exits_have_no_cooldown(code):
    risk = manager()

    risk.on_basket_closed(WINTER, "USD_MAJORS", code, -50.0)

    assert risk.check_entry(WINTER, request()).allowed


def test_zero_cooldown_bars_disables_the_cooldown():
    risk = manager(RiskConfig(cooldown_bars=0))

    risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.HS, -50.0)

    assert risk.check_entry(WINTER, request()).allowed


@pytest.mark.parametrize(
    ("day", "roll"),
    [(WINTER, utc(2024, 1, 10, 22)), (SUMMER, utc(2024, 7, 10, 21))],
    ids=["winter-EST", "summer-EDT"],
)
def test_cluster_daily_loss_closes_the_cluster_until_the_new_york_roll(day, roll):
    risk = manager()
    risk.on_equity(day, EQUITY, EQUITY, 0.0)

    first = risk.on_basket_closed(day + timedelta(hours=1), "USD_MAJORS", ExitCode.MR, -600.0)
    second = risk.on_basket_closed(day + timedelta(hours=2), "USD_MAJORS", ExitCode.MR, -450.0)

    assert first == []
    [lock] = changes(second)
    assert (lock.cluster, lock.state, lock.who, lock.expires_at) == \
        ("USD_MAJORS", ClusterState.CLOSE_ONLY, "engine", roll)
    assert lock.reason.startswith("CLUSTER_DAILY_LOSS: lost 1,050.00")
    just_before = roll - timedelta(minutes=1)
    assert risk.check_entry(just_before, request()).reason == codes.CLUSTER_CLOSE_ONLY
    assert risk.check_entry(just_before, request(cluster="EUR_CROSSES")).allowed
    assert risk.snapshot(just_before).clusters["USD_MAJORS"].day_pnl == -1_050.0

    released = risk.on_equity(roll, EQUITY, EQUITY - 1_050.0, 0.0)

    [release] = changes(released)
    assert (release.cluster, release.state) == ("USD_MAJORS", ClusterState.ACTIVE)
    assert release.reason.startswith("LOCK_EXPIRED")
    assert risk.check_entry(roll, request()).allowed
    snapshot = risk.snapshot(roll)
    assert snapshot.clusters["USD_MAJORS"].day_pnl == 0.0
    assert (snapshot.day_start, snapshot.day_start_equity) == (roll, EQUITY - 1_050.0)


def test_cluster_daily_loss_counts_wins_and_a_new_day_starts_from_zero():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)

    risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.MR, -900.0)
    risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.MR, +400.0)
    net_loss_500 = risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.MR, -400.0)
    next_day = risk.on_basket_closed(utc(2024, 1, 10, 23), "USD_MAJORS", ExitCode.MR, -900.0)

    assert net_loss_500 == [] and next_day == []


def test_engine_lock_never_weakens_a_manual_halt():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.set_cluster_state(WINTER, "USD_MAJORS", "HALTED", "trader halt", "gui")

    actions = risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.MR, -2_000.0)

    assert actions == []
    assert risk.effective_state(WINTER, "USD_MAJORS") is ClusterState.HALTED
    assert risk.check_entry(utc(2024, 1, 11, 12), request()).reason == codes.CLUSTER_HALTED


def test_engine_lock_over_a_side_lock_keeps_the_union():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.set_cluster_state(WINTER, "USD_MAJORS", "HALTED", "no longs", "gui", side="LONG")

    [merged] = changes(risk.on_basket_closed(WINTER, "USD_MAJORS", ExitCode.MR, -2_000.0))

    assert (merged.state, merged.side, merged.expires_at) == (ClusterState.HALTED, None, None)
    assert "no longs" in merged.reason
    assert risk.check_entry(WINTER, request(direction="SHORT")).reason == codes.CLUSTER_HALTED


# --------------------------------------------------------------------------- account level


def test_account_daily_loss_puts_every_cluster_close_only_until_the_roll():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)

    small = risk.on_equity(WINTER + timedelta(hours=1), EQUITY, 98_100.0, 0.0)
    big = risk.on_equity(WINTER + timedelta(hours=2), EQUITY, 97_900.0, 400.0)
    again = risk.on_equity(WINTER + timedelta(hours=3), EQUITY, 97_500.0, 400.0)

    assert small == [] and again == []
    assert kinds(big) == [RiskActionKind.STATE_CHANGE, RiskActionKind.ACCOUNT_STATE]
    [lock] = changes(big)
    assert (lock.cluster, lock.state, lock.expires_at) == \
        (ACCOUNT, ClusterState.CLOSE_ONLY, utc(2024, 1, 10, 22))
    assert big[1].state is ClusterState.CLOSE_ONLY
    for cluster in CLUSTERS:
        assert risk.check_entry(WINTER + timedelta(hours=3), request(cluster=cluster)).reason \
            == codes.ACCOUNT_CLOSE_ONLY

    rolled = risk.on_equity(utc(2024, 1, 10, 22, 1), EQUITY, 97_500.0, 400.0)

    assert [c.state for c in changes(rolled)] == [ClusterState.ACTIVE]
    assert rolled[-1].kind is RiskActionKind.ACCOUNT_STATE and rolled[-1].state is \
        ClusterState.ACTIVE
    assert risk.check_entry(utc(2024, 1, 10, 22, 1), request()).allowed
    assert risk.snapshot().day_start_equity == 97_500.0


def test_trader_override_of_the_account_daily_loss_holds_for_the_day():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.on_equity(WINTER, EQUITY, 97_900.0, 0.0)

    [record] = risk.rearm(WINTER + timedelta(minutes=5), "gui", "I know")
    later = risk.on_equity(WINTER + timedelta(hours=1), EQUITY, 97_800.0, 0.0)

    assert (record.cluster, record.state, record.who) == (ACCOUNT, ClusterState.ACTIVE, "gui")
    assert later == []
    assert risk.check_entry(WINTER + timedelta(hours=1), request()).allowed


def test_drawdown_flattens_and_halts_until_rearmed():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.on_equity(WINTER + timedelta(hours=1), 110_000.0, 110_000.0, 0.0)

    # 101,000 is 8.2% below the 110,000 peak (but only 1% below the day start).
    breach = risk.on_equity(WINTER + timedelta(hours=2), 110_000.0, 101_000.0, 500.0)
    after_flatten = risk.on_equity(WINTER + timedelta(hours=3), 101_000.0, 101_000.0, 0.0)

    assert kinds(breach) == [RiskActionKind.STATE_CHANGE, RiskActionKind.ACCOUNT_STATE,
                             RiskActionKind.FLATTEN_ALL]
    [lock] = changes(breach)
    assert (lock.cluster, lock.state, lock.expires_at) == (ACCOUNT, ClusterState.HALTED, None)
    assert breach[2].exit_code is ExitCode.RISK
    assert breach[2].reason == "MAX_DRAWDOWN"
    assert after_flatten == []
    next_week = utc(2024, 1, 16, 12)
    risk.on_clock(next_week)
    assert risk.check_entry(next_week, request()).reason == codes.ACCOUNT_HALTED
    assert risk.snapshot(next_week).account_state is ClusterState.HALTED

    [rearmed] = risk.rearm(next_week, "gui")
    steady = risk.on_equity(next_week + timedelta(minutes=1), 101_000.0, 101_000.0, 0.0)

    assert (rearmed.state, rearmed.reason) == (ClusterState.ACTIVE, "REARMED")
    assert steady == []
    assert risk.snapshot().peak_equity == 101_000.0
    assert risk.check_entry(next_week + timedelta(minutes=1), request()).allowed


def test_drawdown_flattens_even_under_a_manual_account_halt():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.set_cluster_state(WINTER, ACCOUNT, "HALTED", "going home", "gui")

    breach = risk.on_equity(WINTER + timedelta(hours=1), EQUITY, 91_000.0, 300.0)

    assert kinds(breach) == [RiskActionKind.FLATTEN_ALL]


def test_resuming_the_account_by_name_is_a_rearm():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    risk.on_equity(WINTER, EQUITY, 91_000.0, 0.0)

    change = risk.set_cluster_state(WINTER, ACCOUNT, "ACTIVE", "checked", "cli")

    assert (change.cluster, change.state, change.reason) == \
        (ACCOUNT, ClusterState.ACTIVE, "REARMED: checked")
    assert risk.snapshot().peak_equity == 91_000.0


def test_broken_equity_mark_is_skipped_and_counted():
    risk = manager()
    risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)

    actions = risk.on_equity(WINTER, EQUITY, math.nan, 0.0)

    assert actions == []
    snapshot = risk.snapshot()
    assert (snapshot.ignored_equity_marks, snapshot.peak_equity, snapshot.equity) == \
        (1, EQUITY, EQUITY)


def test_disconnection_refuses_entries_and_reconnection_allows_them():
    risk = manager()

    lost = risk.on_connection(WINTER, False)
    repeated = risk.on_connection(WINTER + timedelta(seconds=5), False)
    refused = risk.check_entry(WINTER + timedelta(seconds=5), request())
    back = risk.on_connection(WINTER + timedelta(minutes=1), True)

    assert [(a.kind, a.reason, a.state) for a in lost] == \
        [(RiskActionKind.ACCOUNT_STATE, codes.DISCONNECTED, ClusterState.CLOSE_ONLY)]
    assert all(a.change is None for a in lost + back)
    assert repeated == []
    assert refused.reason == codes.DISCONNECTED
    assert [(a.reason, a.state) for a in back] == [("RECONNECTED", ClusterState.ACTIVE)]
    assert risk.check_entry(WINTER + timedelta(minutes=1), request()).allowed


# --------------------------------------------------------------------------- restart


def test_locks_survive_a_restart_through_the_sqlite_journal(tmp_path):
    before = manager()
    before.on_equity(WINTER, EQUITY, EQUITY, 0.0)
    journaled = [
        before.set_cluster_state(WINTER, "USD_MAJORS", "HALTED", "manual halt", "gui"),
        before.set_cluster_state(WINTER, "EUR_CROSSES", "CLOSE_ONLY", "no shorts", "gui",
                                 side="SHORT"),
        before.set_cluster_state(WINTER, "JPY_CROSSES", "HALTED", "short break", "gui",
                                 expires_at=WINTER + timedelta(minutes=30)),
        *changes(before.on_equity(WINTER, EQUITY, 91_000.0, 0.0)),
    ]
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal:
        for change in journaled:
            journal.record_cluster_state(change)
        stored = list(journal.cluster_states().values())
    after = manager()
    now = WINTER + timedelta(hours=1)

    report = after.restore(stored, 100_000.0, now=now)

    assert (report.locks_restored, report.locks_expired) == (3, 1)
    assert after.check_entry(now, request()).reason == codes.ACCOUNT_HALTED
    [rearmed] = after.rearm(now, "gui")
    assert after.check_entry(now, request()).reason == codes.CLUSTER_HALTED
    assert after.check_entry(now, request(cluster="EUR_CROSSES", direction="SHORT")).reason \
        == codes.CLUSTER_CLOSE_ONLY
    assert after.check_entry(now, request(cluster="EUR_CROSSES", direction="LONG")).allowed
    assert after.check_entry(now, request(cluster="JPY_CROSSES")).allowed
    assert rearmed.cluster == ACCOUNT


def test_restore_keeps_the_latest_record_and_reports_unknown_clusters():
    old = WINTER - timedelta(days=1)
    records = [
        ClusterStateChange(WINTER, "USD_MAJORS", ClusterState.ACTIVE, "resumed", "gui"),
        ClusterStateChange(old, "USD_MAJORS", ClusterState.HALTED, "halted", "gui"),
        ClusterStateChange(old, "RETIRED_CLUSTER", ClusterState.HALTED, "old", "gui"),
    ]
    risk = manager()

    report = risk.restore(records, None, now=WINTER)

    assert (report.locks_restored, report.unknown_clusters) == (0, ("RETIRED_CLUSTER",))
    assert risk.check_entry(WINTER, request()).allowed


def test_restore_without_now_drops_expired_locks_silently_at_the_first_clock():
    expired = ClusterStateChange(WINTER - timedelta(days=2), "USD_MAJORS",
                                 ClusterState.CLOSE_ONLY, "CLUSTER_DAILY_LOSS: old", "engine",
                                 expires_at=WINTER - timedelta(days=1))
    held = ClusterStateChange(WINTER - timedelta(days=2), "EUR_CROSSES", ClusterState.HALTED,
                              "manual", "gui")
    risk = manager()

    risk.restore([expired, held], None)
    first = risk.on_equity(WINTER, EQUITY, EQUITY, 0.0)

    assert first == []
    assert risk.check_entry(WINTER, request()).allowed
    assert risk.check_entry(WINTER, request(cluster="EUR_CROSSES")).reason == \
        codes.CLUSTER_HALTED


def _closed(cluster: str, closed_at: datetime, code: ExitCode, pnl: float) -> BasketRecord:
    opened = closed_at - timedelta(hours=3)
    return BasketRecord(
        BasketOpen(f"{cluster[:3]}-{closed_at:%H%M}", "run-0", cluster, Direction.LONG, opened,
                   -1.5, 300.0),
        BasketClose(f"{cluster[:3]}-{closed_at:%H%M}", closed_at, 0.1, code, pnl, -5.0),
    )


def test_restore_rebuilds_todays_pnl_and_running_cooldowns_from_basket_history():
    now = utc(2024, 1, 10, 11, 0)
    history = [
        _closed("USD_MAJORS", utc(2024, 1, 9, 20), ExitCode.MR, -5_000.0),  # yesterday
        _closed("USD_MAJORS", utc(2024, 1, 10, 9), ExitCode.MR, -700.0),
        _closed("EUR_CROSSES", utc(2024, 1, 10, 10, 7), ExitCode.HS, -300.0),
    ]
    risk = manager()

    report = risk.restore([], None, now=now, day_start_equity=EQUITY, baskets=history)
    locked = risk.on_basket_closed(now, "USD_MAJORS", ExitCode.MR, -400.0)

    assert (report.baskets_replayed, report.cooldowns_restored) == (3, 1)
    assert risk.check_entry(now, request(cluster="EUR_CROSSES")).reason == codes.COOLDOWN
    assert risk.check_entry(utc(2024, 1, 10, 12, 30), request(cluster="EUR_CROSSES")).allowed
    assert [c.state for c in changes(locked)] == [ClusterState.CLOSE_ONLY]


def test_restore_of_baskets_needs_now():
    with pytest.raises(ValueError, match="needs now"):
        manager().restore([], None, baskets=[_closed("USD_MAJORS", WINTER, ExitCode.MR, 1.0)])


def test_restored_drawdown_halt_flattens_again_if_still_breached():
    """A crash between journaling the halt and flattening must not leave positions open."""
    halt = ClusterStateChange(WINTER, ACCOUNT, ClusterState.HALTED, "MAX_DRAWDOWN: x", "engine")
    risk = manager()
    risk.restore([halt], 100_000.0, now=WINTER)

    actions = risk.on_equity(WINTER + timedelta(minutes=1), 91_000.0, 91_000.0, 0.0)

    assert kinds(actions) == [RiskActionKind.FLATTEN_ALL]


def test_snapshot_without_a_clock_shows_held_locks():
    risk = manager()
    risk.restore([ClusterStateChange(WINTER, "USD_MAJORS", ClusterState.HALTED, "x", "gui")])

    snapshot = risk.snapshot()

    assert snapshot.time is None
    assert snapshot.clusters["USD_MAJORS"].state is ClusterState.HALTED
    assert snapshot.clusters["USD_MAJORS"].reason == "x"
    assert snapshot.account_state is ClusterState.ACTIVE


# --------------------------------------------------------------------------- properties

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "AUD")
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD")

# Budgets and exposures are drawn as fractions/multiples of equity so that candidates land
# on both sides of every cap whatever the equity.
candidates = st.fixed_dictionaries({
    "cluster": st.sampled_from(CLUSTERS),
    "direction": st.sampled_from(list(Direction)),
    "risk_budget": st.floats(min_value=0.0005, max_value=0.01),
    "lots": st.dictionaries(st.sampled_from(SYMBOLS),
                            st.floats(min_value=-15.0, max_value=15.0), min_size=1),
    "exposures": st.dictionaries(st.sampled_from(CURRENCIES),
                                 st.floats(min_value=-1.6, max_value=1.6)),
})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(candidates, min_size=1, max_size=25),
       st.floats(min_value=10_000.0, max_value=1_000_000.0))
def test_approved_baskets_never_break_the_portfolio_or_trade_limits(sequence, equity):
    config = RiskConfig()
    risk = RiskManager(config, CLUSTERS)
    open_risk = 0.0
    book: dict[str, float] = {}
    for candidate in sequence:
        budget = candidate["risk_budget"] * equity
        exposures = {c: m * equity for c, m in candidate["exposures"].items()}
        decision = risk.check_entry(WINTER, EntryRequest(
            cluster=candidate["cluster"], direction=candidate["direction"], risk_budget=budget,
            lots=candidate["lots"], exposures=exposures, equity=equity, margin_level=0.0,
            open_risk=open_risk, open_exposures=dict(book)))
        if not decision.allowed:
            continue
        open_risk += budget
        for currency, value in exposures.items():
            book[currency] = book.get(currency, 0.0) + value
        assert open_risk <= config.max_open_risk * equity
        assert all(abs(v) <= config.max_currency_exposure * equity for v in book.values())
        assert all(abs(lots) <= config.max_lots_per_leg for lots in candidate["lots"].values())


# Hostile numbers: the special values often, plausible and arbitrary floats otherwise.
any_float = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, 1e-300, 1e308]),
    st.floats(min_value=-1e7, max_value=1e7),
    st.floats(allow_nan=True, allow_infinity=True),
)
any_request = st.builds(
    EntryRequest,
    cluster=st.sampled_from(CLUSTERS),
    direction=st.sampled_from(list(Direction)),
    risk_budget=any_float,
    lots=st.dictionaries(st.sampled_from(SYMBOLS), any_float),
    exposures=st.dictionaries(st.sampled_from(CURRENCIES), any_float),
    equity=any_float,
    margin_level=any_float,
    open_risk=any_float,
    open_exposures=st.dictionaries(st.sampled_from(CURRENCIES), any_float),
    has_open_basket=st.booleans(),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(any_request, st.sampled_from([ACCOUNT, *CLUSTERS]), st.booleans(),
       st.integers(min_value=0, max_value=10_000))
def test_a_halted_cluster_or_account_never_gets_an_entry(req, halted, connected, minutes):
    risk = manager()
    risk.on_connection(WINTER, connected)
    risk.set_cluster_state(WINTER, halted, ClusterState.HALTED, "halt", "gui")
    req = dataclasses.replace(req, cluster=req.cluster if halted == ACCOUNT else halted)

    decision = risk.check_entry(WINTER + timedelta(minutes=minutes), req)

    assert not decision.allowed
    assert decision.reason in {codes.ACCOUNT_HALTED, codes.CLUSTER_HALTED, codes.DISCONNECTED,
                               codes.NO_EQUITY}
