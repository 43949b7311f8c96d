"""The console, driven as a trader would: real window, real engine on its worker thread,
real simulated terminal and journal (offscreen Qt)."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys

import pytest
from helpers.engine_setup import SYMBOLS, config
from helpers.paths import REPO_ROOT, SHARED_DATA, TEST_DATA

from app.sessions import demo_session
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("PySide6")

from gui.main_window import MainWindow

WAIT_MS = 60_000


@pytest.fixture
def demo_window(qtbot, tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    window = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.clusters.model.rowCount() == 2, timeout=WAIT_MS)
    yield window
    window.shutdown()


def audit(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute("select source, command, result from manual_commands").fetchall()


def test_select_and_pause_a_cluster(demo_window, qtbot, tmp_path):
    w = demo_window
    w.clusters.select("GOLD_HAVENS")
    assert w.clusters.current() == "GOLD_HAVENS"
    qtbot.waitUntil(lambda: w.chart.isVisible(), timeout=WAIT_MS)
    w.clusters.actions["pause"].trigger()
    qtbot.waitUntil(lambda: w.engine.snapshot().clusters[1].state == "CLOSE_ONLY",
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: ("gui", "PauseCluster", "ok: GOLD_HAVENS CLOSE_ONLY")
                    in audit(tmp_path), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "CLOSE_ONLY" in w.clusters.model.data(
        w.clusters.model.index(1, 3)), timeout=WAIT_MS)


def test_flatten_all_through_the_confirmation(demo_window, qtbot, tmp_path):
    w = demo_window
    qtbot.waitUntil(lambda: len(w.engine.snapshot().positions) > 0, timeout=WAIT_MS)
    w.pacer.pause()
    asked: list[str] = []
    w.confirm = lambda title, text: asked.append(title) or False  # refused: nothing happens
    w.flatten_all()
    assert asked == ["Flatten all"]
    w.confirm = lambda title, text: asked.append(title) or True
    w.flatten_all()
    qtbot.waitUntil(lambda: not w.engine.baskets, timeout=WAIT_MS)
    assert w.session.terminal.positions_total() == 0
    qtbot.waitUntil(lambda: any(c == "FlattenAll" for _s, c, _r in audit(tmp_path)),
                    timeout=WAIT_MS)


def test_tickets_travel_as_python_ints(demo_window, qtbot):
    w = demo_window
    qtbot.waitUntil(lambda: len(w.engine.snapshot().positions) > 0, timeout=WAIT_MS)
    tickets = [p.ticket for p in w.engine.snapshot().positions]
    assert all(isinstance(t, int) and t > 2**32 for t in tickets)


def replay_window(qtbot, tmp_path, path):
    import argparse

    from gui.app import build

    args = argparse.Namespace(live=False, replay=[path], store=None, speed="60",
                              journal=tmp_path / "journal.sqlite", seed=0)
    session, pacer, speed, end = build(args, config())
    window = MainWindow(session, pacer, speed=speed, end_msc=end)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    window.start()
    return window


def test_replay_of_real_ticks_plays_pauses_and_changes_speed(qtbot, tmp_path):
    ticks = SHARED_DATA / "fx_ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"
    if not ticks.exists():  # the committed two-hour slice of the same file
        ticks = sorted((TEST_DATA / "ticks").glob("*.csv*"))[0]
    w = replay_window(qtbot, tmp_path, ticks)
    try:
        qtbot.waitUntil(lambda: w.engine.started, timeout=WAIT_MS)
        assert w.clusters.model.rowCount() == 0  # one symbol: market data, no cluster
        qtbot.waitUntil(lambda: any(q.symbol == "EURUSD" and q.bid > 0
                                    for q in w.engine.snapshot().quotes), timeout=WAIT_MS)
        w.toggle_play()  # pause
        assert w.pacer.paused
        # The clock stops where it was paused; a worker running behind it (a busy machine)
        # may still finish the minutes due up to that point, never one beyond.
        frozen = w.pacer.now_msc()
        qtbot.wait(300)
        assert w.engine.now_msc - frozen <= 60_000
        w.speed.setCurrentIndex(w.speed.count() - 1)  # max
        assert math.isinf(w.pacer.speed)
        w.toggle_play()  # play
        qtbot.waitUntil(lambda: w.engine.now_msc > frozen + 3_600_000, timeout=WAIT_MS)
    finally:
        w.shutdown()


@pytest.mark.slow
def test_smoke_main_quits_cleanly_after_ten_seconds(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FXCLUSTER_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "main.py", "--quit-after", "10"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_filter_the_calendar(demo_window, qtbot):
    from engine.model import Impact

    cal = demo_window.toolbox.calendar
    everything = len(cal.visible_events())
    assert everything > 0
    cal.set_currency_filter("JPY")
    jpy = cal.visible_events()
    assert 0 < len(jpy) < everything
    assert all(e.currency in ("JPY", "ALL") for e in jpy)
    cal.set_min_impact(Impact.HIGH)
    assert all(e.impact is Impact.HIGH for e in cal.visible_events())


def test_export_history(demo_window, qtbot, tmp_path):
    w = demo_window
    qtbot.waitUntil(lambda: w.engine.stats.baskets_closed > 0, timeout=WAIT_MS)
    w.toolbox.history.refresh()
    target = tmp_path / "history.csv"
    w.toolbox.history.ask_save_path = lambda: target
    rows = w.toolbox.history.export_csv()
    assert rows and rows >= 1
    text = target.read_text()
    assert "basket" in text.splitlines()[0].lower() and len(text.splitlines()) == rows + 1


def test_layout_is_remembered_between_runs(qtbot, tmp_path):
    from PySide6.QtWidgets import QDockWidget

    def window():
        session = demo_session(config(), seed=0, symbols=SYMBOLS,
                               journal_path=tmp_path / "journal.sqlite")
        w = MainWindow(session, Pacer(session.engine.now_msc, 1.0), speed=1.0)
        qtbot.addWidget(w)
        w.show()
        return w

    first = window()
    equity = next(d for d in first.findChildren(QDockWidget) if d.objectName() == "Equity")
    equity.setFloating(True)
    first.close()  # saves the layout
    second = window()
    again = next(d for d in second.findChildren(QDockWidget) if d.objectName() == "Equity")
    assert again.isFloating()
    second.close()


def test_importing_a_calendar_reaches_the_engine(demo_window, qtbot):
    w = demo_window
    assert w.engine.snapshot(refresh=True).calendar_state == "FRESH"  # the market's own
    week = TEST_DATA / "calendar" / "ff_calendar_thisweek_week-of-2023-07-09.xml"
    cal = w.toolbox.calendar
    cal.ask_open_paths = lambda: [week]
    with qtbot.waitSignal(cal.importFinished, timeout=WAIT_MS):
        cal.import_files()
    # a 2023 week does not cover the demo's January 2024: the filter now reports it stale
    qtbot.waitUntil(lambda: w.engine.snapshot().calendar_state == "STALE", timeout=WAIT_MS)


def test_a_cluster_selected_while_the_window_shuts_down_reads_nothing_closed(demo_window,
                                                                            qtbot):
    # Arrange: the window shut down (its journal reader closed), as a stop signal does;
    # the clusters table can still emit a selection while its widgets are torn down
    w = demo_window
    current = w.clusters.current()
    other = next(n for n in ("USD_MAJORS", "GOLD_HAVENS") if n != current)
    w.shutdown()

    # Act / Assert: no read of the closed journal (it raised "Cannot operate on a closed
    # database" in a Qt slot: a traceback on the way out)
    w.select_cluster(other)
