"""The SQLite trade journal: every record round-trips, every write is idempotent."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.model import (
    MAX_TICKET,
    ClusterState,
    Direction,
    ExitCode,
    OrderPurpose,
    make_basket_id,
)
from engine.ports import Journal
from engine.records import (
    BasketClose,
    BasketOpen,
    ClusterStateChange,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    HistoryFilter,
    ManualCommand,
    NewsAction,
    OrderRequest,
    OrderResult,
    PlannedLeg,
    Refusal,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from storage.journal import SqliteJournal

T0 = datetime(2019, 2, 4, 14, 30, tzinfo=UTC)
RUN = "run-1"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def basket(basket_id: str, cluster: str = "C3", minutes: int = 0) -> BasketOpen:
    return BasketOpen(
        basket_id=basket_id,
        run_id=RUN,
        cluster=cluster,
        direction=Direction.LONG,
        opened_at=at(minutes),
        entry_tdi=-1.42,
        risk_budget=300.0,
        legs=(
            PlannedLeg("EURUSD", "BUY", 0.5, 57_000.0),
            PlannedLeg("USDCHF", "BUY", 0.3, 30_000.0),
        ),
        magic=3003,
    )


def closing(basket_id: str, pnl: float, code: ExitCode = ExitCode.MR, minutes: int = 60):
    return BasketClose(basket_id, at(minutes), -0.08, code, pnl, -7.0)


def request(request_id: str, basket_id: str | None = "C3-20190204T1430-001") -> OrderRequest:
    return OrderRequest(
        request_id=request_id,
        basket_id=basket_id,
        purpose=OrderPurpose.ENTRY,
        symbol="EURUSD",
        side="BUY",
        volume=0.5,
        price=1.14488,
        deviation=10,
        magic=3003,
        comment="C3-20190204T1430-001",
        filling=1,
        sent_at=at(0),
        raw={"action": 1, "symbol": "EURUSD", "volume": 0.5, "type_filling": 1},
    )


def result(request_id: str, deal: int = 2**40 + 1) -> OrderResult:
    return OrderResult(
        request_id=request_id,
        received_at=at(0) + timedelta(milliseconds=180),
        retcode=10009,
        deal=deal,
        order=deal - 1,
        volume=0.5,
        price=1.1449,
        comment="Request executed",
        raw={"retcode": 10009, "deal": deal},
    )


def deal(ticket: int, basket_id: str | None = "C3-20190204T1430-001") -> Deal:
    return Deal(
        ticket=ticket,
        order=ticket - 1,
        position_id=ticket - 1,
        symbol="EURUSD",
        type=0,
        entry=0,
        volume=0.5,
        price=1.1449,
        commission=-3.5,
        swap=0.0,
        profit=0.0,
        fee=0.0,
        time=at(0) + timedelta(milliseconds=150),
        magic=3003,
        comment="C3-20190204T1430-001",
        basket_id=basket_id,
    )


@pytest.fixture
def journal(tmp_path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as opened:
        opened.start_run(RunStart(RUN, "replay", at(-60), "cfg-7f3a", {"fxcluster": "0.1.0"}))
        yield opened


def test_sqlite_journal_satisfies_the_engine_protocol(journal):
    assert isinstance(journal, Journal)


def test_file_is_wal_with_full_sync_by_default(journal):
    conn = sqlite3.connect(journal.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


def test_backtest_journal_may_choose_normal_sync(tmp_path):
    with SqliteJournal.open(tmp_path / "bt.sqlite", synchronous="NORMAL") as journal:
        assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_basket_lifecycle_round_trips(journal):
    basket_id = make_basket_id("C3", T0, 1)
    journal.open_basket(basket(basket_id))
    journal.record_request(request("req-1", basket_id))
    journal.record_result(result("req-1"))
    journal.record_deal(deal(2**40 + 1, basket_id))

    [open_basket] = journal.open_baskets()

    assert open_basket.basket.opening == basket(basket_id)
    assert open_basket.basket.is_open
    assert [o.request for o in open_basket.orders] == [request("req-1", basket_id)]
    assert [o.result for o in open_basket.orders] == [result("req-1")]
    assert open_basket.deals == (deal(2**40 + 1, basket_id),)
    assert journal.deals_for_position(2**40) == [deal(2**40 + 1, basket_id)]

    journal.close_basket(closing(basket_id, 41.25))

    assert journal.open_baskets() == []
    [closed] = journal.basket_history()
    assert closed.closing == closing(basket_id, 41.25)
    assert journal.basket(basket_id) == closed


def test_a_baskets_own_time_stop_survives_a_restart(journal):
    # Arrange: a pair's basket carries its half-life time stop
    basket_id = make_basket_id("C3", T0, 2)
    opening = dataclasses.replace(basket(basket_id), time_stop_bars=37)
    # Act
    journal.open_basket(opening)
    [open_basket] = journal.open_baskets()
    # Assert
    assert open_basket.basket.opening.time_stop_bars == 37
    assert open_basket.basket.opening == opening


def test_basket_id_fits_an_mt5_comment():
    assert make_basket_id("C3", T0, 1) == "C3-20190204T1430-001"
    with pytest.raises(ValueError, match="29"):
        make_basket_id("CLUSTER-TOO-LONG", T0, 1)


def test_tickets_above_32_bits_round_trip(journal):
    big = MAX_TICKET
    journal.record_request(request("req-big"))
    journal.record_result(result("req-big", deal=big))
    journal.record_deal(deal(big))
    journal.record_deal(deal(2**32 + 5))

    assert journal.deal_tickets() == {big, 2**32 + 5}
    [record] = journal.orders_for_basket("C3-20190204T1430-001")
    assert record.result is not None and record.result.deal == big


def test_ticket_outside_64_bits_is_refused_before_writing():
    with pytest.raises(ValueError, match="outside"):
        deal(2**63)


def test_replayed_events_never_duplicate_rows(journal):
    basket_id = "C3-20190204T1430-001"
    for _ in range(3):
        journal.open_basket(basket(basket_id))
        journal.record_request(request("req-1", basket_id))
        journal.record_result(result("req-1"))
        journal.record_deal(deal(2**40 + 1, basket_id))
        journal.record_tdi(TdiSnapshot(RUN, "C3", T0, -1.42, -3.1, 4.2, 0.61, "ENTER_LONG"))
        journal.record_equity(EquitySnapshot(RUN, T0, 1e5, 99_996.5, 1200, 98_796.5, 8333, 300))
        journal.record_refusal(Refusal(at(1), "C1", "news blackout", run_id=RUN))

    counts = journal.table_counts()

    assert counts["baskets"] == 1
    assert counts["legs"] == 2
    assert counts["orders"] == 1
    assert counts["deals"] == 1
    assert counts["tdi_snapshots"] == 1
    assert counts["equity"] == 1
    assert counts["refusals"] == 1


def test_replayed_open_after_close_keeps_the_close(journal):
    basket_id = "C3-20190204T1430-001"
    journal.open_basket(basket(basket_id))
    journal.close_basket(closing(basket_id, 12.5))

    journal.open_basket(basket(basket_id))

    record = journal.basket(basket_id)
    assert record is not None and record.closing == closing(basket_id, 12.5)


def test_replayed_request_after_result_keeps_the_result(journal):
    journal.record_request(request("req-1"))
    journal.record_result(result("req-1"))

    journal.record_request(request("req-1"))

    assert journal.pending_requests() == []
    [record] = journal.orders_for_basket("C3-20190204T1430-001")
    assert record.result == result("req-1")


def test_a_missing_field_never_erases_a_known_one(journal):
    journal.record_deal(deal(2**40 + 1, basket_id="C3-20190204T1430-001"))

    journal.record_deal(deal(2**40 + 1, basket_id=None))

    assert journal.deals_for_basket("C3-20190204T1430-001") == [deal(2**40 + 1)]


def test_pending_requests_are_those_without_results(journal):
    journal.record_request(request("req-1"))
    journal.record_request(request("req-2"))
    journal.record_result(result("req-1"))

    assert [r.request_id for r in journal.pending_requests()] == ["req-2"]


def test_result_for_an_unjournaled_request_is_refused(journal):
    with pytest.raises(ValueError, match="never journaled"):
        journal.record_result(result("req-unknown"))

    assert journal.table_counts()["orders"] == 0


def test_closing_an_unknown_basket_is_refused(journal):
    with pytest.raises(ValueError, match="never opened"):
        journal.close_basket(closing("C9-20190204T1430-001", 1.0))

    assert journal.table_counts()["baskets"] == 0


def test_a_failing_write_leaves_nothing_behind(journal):
    # A real SQLite trigger makes the second leg insert fail inside open_basket.
    journal._conn.execute(
        "CREATE TRIGGER refuse_chf BEFORE INSERT ON legs WHEN NEW.symbol = 'USDCHF' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )

    with pytest.raises(sqlite3.IntegrityError):
        journal.open_basket(basket("C3-20190204T1430-001"))

    assert journal.table_counts()["baskets"] == 0
    assert journal.table_counts()["legs"] == 0


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Refusal(datetime(2019, 2, 4, 14, 30), "C1", "stale calendar")


def test_times_come_back_as_utc_whatever_zone_went_in(journal):
    cet = datetime(2019, 2, 4, 16, 30, tzinfo=timezone(timedelta(hours=1)))
    journal.record_refusal(Refusal(cet, "C1", "margin floor", run_id=RUN))

    [refusal] = journal.recent_refusals()

    assert refusal.time == datetime(2019, 2, 4, 15, 30, tzinfo=UTC)
    assert refusal.time.utcoffset() == timedelta(0)


def test_history_filters_by_cluster_dates_exit_code_and_limit(journal):
    for i, (cluster, code, pnl) in enumerate(
        [("C1", "MR", 10.0), ("C2", "HS", -30.0), ("C1", "TP", 25.0), ("C1", "HS", -12.0)]
    ):
        basket_id = f"{cluster}-20190204T1430-{i:03d}"
        journal.open_basket(basket(basket_id, cluster, minutes=i))
        journal.close_basket(closing(basket_id, pnl, ExitCode(code), minutes=100 + i * 60))

    def ids(**kwargs):
        return [b.basket_id for b in journal.basket_history(HistoryFilter(**kwargs))]

    assert ids(cluster="C1") == ["C1-20190204T1430-000", "C1-20190204T1430-002",
                                 "C1-20190204T1430-003"]
    assert ids(exit_code="HS") == ["C2-20190204T1430-001", "C1-20190204T1430-003"]
    assert ids(since=at(160), until=at(220)) == ["C2-20190204T1430-001", "C1-20190204T1430-002"]
    assert ids(limit=2) == ["C1-20190204T1430-002", "C1-20190204T1430-003"]


def test_cluster_stats(journal):
    for i, (cluster, code, pnl) in enumerate(
        [("C1", "MR", 10.0), ("C2", "HS", -30.0), ("C1", "TP", 25.0), ("C1", "HS", -12.0)]
    ):
        basket_id = f"{cluster}-20190204T1430-{i:03d}"
        journal.open_basket(basket(basket_id, cluster, minutes=i))
        journal.close_basket(closing(basket_id, pnl, ExitCode(code), minutes=100 + i))
    journal.open_basket(basket("C2-20190204T1430-099", "C2"))  # still open: not counted

    stats = {s.cluster: s for s in journal.cluster_stats()}

    assert set(stats) == {"C1", "C2"}
    c1 = stats["C1"]
    assert (c1.baskets, c1.wins, c1.losses) == (3, 2, 1)
    assert c1.pnl == pytest.approx(23.0)
    assert c1.costs == pytest.approx(-21.0)
    assert (c1.best, c1.worst) == (25.0, -12.0)
    assert dict(c1.exit_codes) == {"HS": 1, "MR": 1, "TP": 1}
    assert c1.win_rate == pytest.approx(2 / 3)
    assert stats["C2"].baskets == 1


def test_equity_series_in_time_order_and_window(journal):
    for minutes in (30, 0, 60):
        journal.record_equity(
            EquitySnapshot(RUN, at(minutes), 1e5, 1e5 + minutes, 0, 1e5, 0, 0)
        )

    series = journal.equity_series(since=at(0), until=at(30))

    assert [s.equity for s in series] == [1e5, 1e5 + 30]
    assert [s.time for s in journal.equity_series(run_id=RUN)] == [at(0), at(30), at(60)]
    assert journal.equity_series(run_id="other") == []


def test_cluster_states_latest_wins_and_locks_expire(journal):
    lock = ClusterStateChange(
        at(0), "C2", ClusterState.CLOSE_ONLY, "cooldown after HS", "engine",
        side=Direction.LONG, expires_at=at(240), run_id=RUN,
    )
    journal.record_cluster_state(
        ClusterStateChange(at(-10), "C2", "ACTIVE", "start", "engine", run_id=RUN)
    )
    journal.record_cluster_state(lock)
    journal.record_cluster_state(
        ClusterStateChange(at(5), "C1", "HALTED", "trader paused", "gui")
    )

    states = journal.cluster_states()

    assert states["C2"] == lock
    assert states["C1"].state is ClusterState.HALTED
    assert lock.in_force(at(239)) and not lock.in_force(at(240))
    assert states["C1"].in_force(at(10_000))
    assert len(journal.cluster_state_history("C2")) == 2


def test_manual_command_result_lands_in_the_same_row(journal):
    received = ManualCommand("cmd-1", at(3), "gui", "close_basket", {"basket": "C3-x"})
    journal.record_command(received)

    journal.record_command(
        ManualCommand("cmd-1", at(3), "gui", "close_basket", {"basket": "C3-x"}, "closed")
    )
    journal.record_command(received)  # a replay of the first event

    [command] = journal.commands()
    assert command.result == "closed"
    assert command.arguments == {"basket": "C3-x"}


def test_news_refusals_errors_and_tdi_round_trip(journal):
    news = NewsAction(at(1), "C1", "BLOCK_ENTRY", at(30), "USD", "HIGH",
                      "Non-Farm Employment Change", run_id=RUN)
    journal.record_news_action(news)
    journal.record_news_action(news)
    journal.record_error(ErrorRecord(at(2), "executor", "requote", "EURUSD 10004", RUN))
    nan_tdi = TdiSnapshot(RUN, "C3", at(0), math.nan, 0.5, 3.2, 0.55, "WARMUP")
    m1_tdi = TdiSnapshot(RUN, "C3", at(0), -0.4, -1.0, 3.2, 0.55, "HOLD", timeframe="M1")
    journal.record_tdi(nan_tdi)
    journal.record_tdi(m1_tdi)
    journal.end_run(RunEnd(RUN, at(500), "end of data"))

    assert journal.news_actions() == [news]
    assert [e.message for e in journal.errors()] == ["requote"]
    [m30] = journal.tdi_history("C3")
    assert math.isnan(m30.tdi) and m30.decision == "WARMUP"
    assert journal.tdi_history("C3", timeframe="M1") == [m1_tdi]
    [run] = journal.runs()
    assert run["ended_at"] == "2019-02-04T22:50:00.000+00:00"
    assert run["versions"] == {"fxcluster": "0.1.0"}


def test_ending_an_unknown_run_is_refused(journal):
    with pytest.raises(ValueError, match="never started"):
        journal.end_run(RunEnd("nope", at(1)))


def test_refusals_newest_kept_when_limited(journal):
    for i in range(5):
        journal.record_refusal(Refusal(at(i), "C1" if i % 2 else "C2", f"reason {i}"))

    assert [r.reason for r in journal.recent_refusals(limit=2)] == ["reason 3", "reason 4"]
    assert [r.reason for r in journal.recent_refusals(cluster="C2")] == [
        "reason 0", "reason 2", "reason 4",
    ]


def test_times_are_stored_as_fixed_width_utc_text(journal):
    journal.open_basket(basket("C3-20190204T1430-001"))

    stored = journal._conn.execute("SELECT opened_at FROM baskets").fetchone()[0]

    assert stored == "2019-02-04T14:30:00.000+00:00"


def test_a_second_connection_reads_what_the_writer_committed(journal):
    with SqliteJournal.open(journal.path, create=False) as reader:
        assert reader.open_baskets() == []

        journal.open_basket(basket("C3-20190204T1430-001"))

        [seen] = reader.open_baskets()
        assert seen.basket.opening == basket("C3-20190204T1430-001")
        reader.record_command(ManualCommand("cmd-9", at(2), "cli", "pause", {"cluster": "C3"}))
    assert [c.command_id for c in journal.commands()] == ["cmd-9"]


def test_journal_is_usable_from_another_thread(journal):
    failures: list[BaseException] = []

    def write() -> None:
        try:
            journal.record_refusal(Refusal(at(7), "C4", "stale calendar"))
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()

    assert failures == []
    assert [r.cluster for r in journal.recent_refusals()] == ["C4"]
