"""The console's replay and demo as a trader meets them: a replay ends at the end of its data
and offers the next step, empty panels say why, the chart marks only this run's baskets, the
status bar says what the engine waits for (real window, engine on its worker thread)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import pytest
from helpers.engine_setup import SYMBOLS, config
from helpers.paths import TEST_DATA

from app.console import DEMO_START, open_console
from app.sessions import demo_session
from engine.events import BasketOpened
from engine.loop import run_sync
from engine.snapshot import ClusterView, EngineSnapshot
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("PySide6")

from gui.main_window import MainWindow
from gui.waiting import waiting_text

WAIT_MS = 60_000
TICKS = sorted((TEST_DATA / "ticks").glob("EURUSD_ticks_*_1300_1500_UTC.csv.gz"))[0]
#: The slice's last tick is before 15:00 UTC on 2019-02-04.
SLICE_END_MS = int(datetime(2019, 2, 4, 15, 1, tzinfo=UTC).timestamp() * 1000)


def _window(qtbot, run) -> MainWindow:
    window = MainWindow(run.session, run.pacer, speed=run.speed, end_msc=run.end_msc)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    window.start()
    return window


def test_a_tick_replay_of_one_symbol_says_why_no_cluster_runs_and_ends(qtbot, tmp_path):
    # Arrange
    run = open_console(config(), replay=[TICKS], speed=math.inf,
                       journal=tmp_path / "journal.sqlite")
    w = _window(qtbot, run)
    try:
        # Act
        qtbot.waitUntil(lambda: w.replay_end.isVisible(), timeout=WAIT_MS)
        stopped = w.engine.now_msc
        qtbot.wait(300)
        requested: list[list] = []
        w.replayRequested.connect(requested.append)
        w.replay_end.again.click()

        # Assert: the notes name the clusters and what they lack, in the chart and the log
        assert "USD_MAJORS: no data for AUDUSD, GBPUSD, USDCHF" in run.session.notes
        assert "No cluster can run on this data" in w.chart._title.text()
        assert "USD_MAJORS: no data for" in w.waiting.text() or \
            w.waiting.text().startswith("Replay finished")
        logged = [w.toolbox.journal.log_model.line(r)[2]
                  for r in range(w.toolbox.journal.log_model.rowCount())]
        assert any(line.startswith("GOLD_HAVENS: no data for") for line in logged)
        # the clock stopped at the end of the data instead of running on
        assert stopped <= SLICE_END_MS and w.engine.now_msc == stopped
        assert w.progress.value() == w.progress.maximum()
        assert "Replay finished" in w.replay_end.label.text()
        assert w.replay_end.other.text() == "Open other files..."
        assert requested == [[TICKS]]
    finally:
        w.shutdown()


def test_replay_of_three_weeks_shows_progress_and_stops_at_the_data_end(qtbot, tmp_path):
    # Arrange: the M1 slices of seven symbols (the clusters warm up inside: a short slice)
    files = sorted((TEST_DATA / "histdata").glob("DAT_ASCII_*_M1_2019.csv.gz"))
    run = open_console(config(), replay=files, speed=math.inf,
                       journal=tmp_path / "journal.sqlite")
    w = _window(qtbot, run)
    try:
        # Act
        qtbot.waitUntil(lambda: w.progress.value() > 0, timeout=WAIT_MS)
        midway = w.progress.value()
        qtbot.waitUntil(lambda: w.replay_end.isVisible(), timeout=WAIT_MS)

        # Assert
        end = datetime(2019, 11, 1, 21, 0, tzinfo=UTC).timestamp() * 1000
        assert 0 < midway <= w.progress.maximum()
        assert w.engine.now_msc <= end
        # "Jump to" followed the clock: an hour after a recent snapshot's time
        jump = w.jump_to.dateTime().toMSecsSinceEpoch()
        assert w.start_msc + 3_600_000 < jump <= w.engine.now_msc + 3_600_000
    finally:
        w.shutdown()


def test_chart_marks_only_the_baskets_of_the_current_run(qtbot, tmp_path):
    # Arrange: an earlier run on the same journal closed baskets of USD_MAJORS
    journal = tmp_path / "journal.sqlite"
    first = demo_session(config(), seed=0, symbols=SYMBOLS, journal_path=journal)
    first.engine.start()
    run_sync(first.engine, first.engine.now_msc + 10 * 86_400_000)
    first.engine.stop("first run")
    earlier = first.journal.basket_history()
    first.close()
    assert earlier  # the earlier run traded

    session = demo_session(config(), seed=0, symbols=SYMBOLS, journal_path=journal)
    w = MainWindow(session, Pacer(session.engine.now_msc, 1.0, paused=True), speed=1.0)
    qtbot.addWidget(w)
    w.show()
    try:
        # Act
        w.select_cluster("USD_MAJORS")
        w._refresh_trades()

        # Assert: nothing of the earlier run is marked
        assert len(w.chart._trades) == 0
        marks = w.chart.trade_marks()
        assert marks is None or len(marks.entry_x) == 0
    finally:
        w.shutdown()


def test_chart_marks_an_open_basket_of_this_run(qtbot, tmp_path):
    # Arrange
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(w)
    w.show()
    w.start()
    try:
        qtbot.waitUntil(lambda: any(c.basket_id for c in w.engine.snapshot().clusters),
                        timeout=WAIT_MS)
        w.pacer.pause()
        view = next(c for c in w.engine.snapshot().clusters if c.basket_id)

        # Act
        w.select_cluster(view.name)
        w._refresh_trades()

        # Assert: its entry is on the chart with no exit yet (unless it closed meanwhile)
        assert view.basket_id in [t["basket_id"] for t in w.chart._trades.trades]
    finally:
        w.shutdown()


def test_the_calendar_blackouts_follow_the_window_selection(qtbot, tmp_path):
    # Arrange
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, 1.0, paused=True), speed=1.0)
    qtbot.addWidget(w)
    try:
        # Act
        w.select_cluster("USD_MAJORS")
        w.select_cluster("GOLD_HAVENS")

        # Assert
        assert w.toolbox.calendar.cluster_combo.currentText() == "GOLD_HAVENS"
    finally:
        w.shutdown()


def test_the_status_bar_says_what_the_demo_waits_for(qtbot, tmp_path):
    # Arrange
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(w)
    w.show()
    w.start()
    try:
        # Act / Assert
        qtbot.waitUntil(lambda: w.waiting.text() != "", timeout=WAIT_MS)
        assert any(key in w.waiting.text() for key in
                   ("Waiting for TDI beyond ±E on", "beyond E", "open, exit inside",
                    "warming up", "news blackout"))
    finally:
        w.shutdown()


# --------------------------------------------------------------------------- waiting text


def _view(name: str, tdi: float, *, entry: float = 1.2, basket: str | None = None,
          state: str = "ACTIVE", blackout: datetime | None = None) -> ClusterView:
    return ClusterView(name, ("EURUSD",), tdi, 1.0, entry, 0.25, state, "",
                       basket, "LONG" if basket else None, 0.0, blackout)


def _snap(*views: ClusterView, account: str = "ACTIVE", reason: str = "") -> EngineSnapshot:
    return EngineSnapshot(datetime(2024, 1, 10, 18, tzinfo=UTC), tuple(views), account, reason,
                          1e5, 1e5, 0.0, 0.0, 0.0, True, "OK")


def test_waiting_text_names_the_cluster_nearest_its_entry():
    text = waiting_text(_snap(_view("GBP_BLOC", 1.02), _view("USD_MAJORS", -0.4)))
    assert text == "Waiting for TDI beyond ±E on GBP_BLOC (now +1.02, E 1.20)"


def test_waiting_text_with_algo_trading_off_promises_no_automatic_entry():
    # Arrange
    near = _snap(_view("GBP_BLOC", 1.02), _view("USD_MAJORS", -0.4))
    beyond = _snap(_view("GBP_BLOC", 1.31))

    # Act
    texts = [waiting_text(dataclasses.replace(s, automation=False)) for s in (near, beyond)]

    # Assert
    assert texts[0].startswith("Algo Trading is off: no automatic entry")
    assert texts[1] == ("GBP_BLOC: TDI +1.31 beyond E 1.20, but Algo Trading is off: no "
                        "automatic entry")


def test_waiting_text_says_warm_up_blackout_open_baskets_and_halts():
    blackout = datetime(2024, 1, 10, 19, 30, tzinfo=UTC)
    text = waiting_text(_snap(_view("A", math.nan), _view("B", 0.3, blackout=blackout),
                              _view("C", -0.8, basket="C-1"), _view("D", 0.1)),
                        bars=lambda name: (120, 481))
    assert text.startswith("Waiting for TDI beyond ±E on D (now +0.10, E 1.20)")
    assert "C LONG open, exit inside ±0.25 (now -0.80)" in text
    assert "news blackout on B until 19:30 UTC" in text
    assert "A warming up: 120/481 signal bars" in text
    halted = waiting_text(_snap(_view("A", 2.0), account="HALTED", reason="MAX_DRAWDOWN"))
    assert halted == "No new baskets: account HALTED: MAX_DRAWDOWN"


# --------------------------------------------------------------------------- demo start


def test_the_demo_opens_a_basket_at_its_first_signal_bar(tmp_path):
    # Arrange: the console's demo market, as ``open_console`` starts it
    from app.console import DEMO_HISTORY_DAYS
    from engine.config import load_engine_config

    session = demo_session(load_engine_config(), seed=0, start=DEMO_START,
                           journal_path=tmp_path / "journal.sqlite",
                           history_days=DEMO_HISTORY_DAYS)
    opened: list[BasketOpened] = []
    session.engine.subscribe(lambda e: opened.append(e) if isinstance(e, BasketOpened) else None)
    session.engine.start()

    # Act: the first market hour (a wall minute at the demo's 60x)
    run_sync(session.engine, session.engine.now_msc + 3_600_000)
    session.close()

    # Assert
    assert opened
    assert (opened[0].time - DEMO_START).total_seconds() <= 1800


def test_replay_again_replays_into_the_same_journal(qapp, tmp_path, monkeypatch):
    # Arrange: the console's own command with a replay into one journal; a timer plays the
    # trader: "Replay again" once the first replay ends, then closes the second window
    from PySide6.QtCore import QTimer

    from main import main

    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    windows: list[MainWindow] = []

    def trader() -> None:
        for w in qapp.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible() and w not in windows:
                windows.append(w)
        if len(windows) == 1 and windows[0].replay_end.isVisible():
            windows[0].replay_end.again.click()
        elif len(windows) == 2 and windows[1].replay_end.isVisible():
            windows[1].close()

    timer = QTimer()
    timer.timeout.connect(trader)
    timer.start(100)

    # Act
    code = main(["gui", "--replay", str(TICKS), "--speed", "max",
                 "--journal", str(tmp_path / "journal.sqlite"), "--quit-after", "60"])
    timer.stop()

    # Assert: a second replay ran to its end on the same journal, with its own run
    assert code == 0
    assert len(windows) == 2
    assert windows[0].session.engine.run_id != windows[1].session.engine.run_id
    assert "cannot replay" not in windows[0].statusBar().currentMessage()


@pytest.mark.parametrize(("speed", "shown"), [(86_400.0, "86400x"), (60.0, "60x"),
                                              (math.inf, "max")])
def test_the_speed_box_shows_the_speed_in_use(qtbot, tmp_path, speed, shown):
    # Arrange / Act
    run = open_console(config(), replay=[TICKS], speed=speed,
                       journal=tmp_path / "journal.sqlite")
    w = MainWindow(run.session, run.pacer, speed=run.speed, end_msc=run.end_msc)
    qtbot.addWidget(w)
    try:
        # Assert
        assert w.speed.currentText() == shown and w.speed.currentData() == speed
        values = [w.speed.itemData(i) for i in range(w.speed.count())]
        assert values == sorted(values)
    finally:
        w.shutdown()
