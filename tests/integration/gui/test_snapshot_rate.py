"""What keeps the console light at max speed: a snapshot is handed to the widgets once
(again only after ``RESEND_S``), the equity pane redraws once for every point a snapshot
appended meanwhile, and the chart's clock never re-lays the chart out.  Counted, not
timed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from engine.events import BasketOpened
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("PySide6")

import gui.bridge as bridge_module
from gui.bridge import EngineBridge
from gui.chart.cluster_chart import ClusterChart
from gui.chart.equity import EquityChart
from gui.main_window import MainWindow

HOUR_MS = 3_600_000
#: A timer interval the test never reaches: the test drains by hand.
NEVER_MS = 3_600_000


@pytest.fixture
def engine(tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite", history_days=3)
    session.engine.start()
    yield session.engine
    session.close()


def test_a_snapshot_already_handed_over_is_not_handed_over_again(engine, qtbot):
    # Arrange
    bridge = EngineBridge(engine, interval_ms=NEVER_MS)
    received = []
    bridge.snapshot.connect(received.append)
    first = engine.snapshot(refresh=True)
    # Act: three drains of the same snapshot, then one of a new one
    for _ in range(3):
        bridge.drain()
    second = engine.snapshot(refresh=True)
    bridge.drain()
    bridge.drain()
    # Assert
    assert received == [first, second]
    assert bridge.snapshots_emitted == 2
    bridge.close()


def test_the_same_snapshot_is_handed_over_again_after_the_resend_interval(engine, qtbot,
                                                                          monkeypatch):
    # Arrange: a resend interval already over at every drain
    monkeypatch.setattr(bridge_module, "RESEND_S", 0.0)
    bridge = EngineBridge(engine, interval_ms=NEVER_MS)
    received = []
    bridge.snapshot.connect(received.append)
    snap = engine.snapshot(refresh=True)
    # Act
    bridge.drain()
    bridge.drain()
    # Assert
    assert received == [snap, snap]
    bridge.close()


def test_deferred_equity_points_are_drawn_in_one_redraw(qtbot):
    # Arrange
    chart = EquityChart()
    qtbot.addWidget(chart)
    chart.set_series(np.array([0], dtype=np.int64), np.array([100.0]), np.array([100.0]))
    before = chart.redraws
    # Act: ten points as ten snapshots would append them
    for k in range(1, 11):
        chart.append(k * HOUR_MS, 100.0, 100.0 + k, defer=True)
    drawn_at_once = chart.redraws - before
    qtbot.waitUntil(lambda: chart.redraws > before, timeout=5_000)
    # Assert: nothing drawn while appending, then one redraw holding every point
    assert drawn_at_once == 0
    assert chart.redraws - before == 1
    assert len(chart.equity_curve.yData) == 11 and chart.equity_curve.yData[-1] == 110.0
    assert "110.00" in chart.summary_text()


def test_an_immediate_append_still_draws_at_once(qtbot):
    chart = EquityChart()
    qtbot.addWidget(chart)
    before = chart.redraws

    chart.append(HOUR_MS, 100.0, 101.0)

    assert chart.redraws == before + 1 and chart.equity_curve.yData[-1] == 101.0


def test_the_charts_clock_keeps_its_size_so_the_chart_is_not_laid_out_again(qtbot):
    # Arrange
    chart = ClusterChart()
    qtbot.addWidget(chart)
    clock = chart._clock
    size = clock.size()
    # Act: the texts a replay's snapshots give it
    for text in ("market 2024-01-31 15:30 UTC", "market 2024-11-01 09:01 UTC", ""):
        chart.set_clock(text)
        # Assert: a fixed size, whatever the text (a size hint that moves re-lays the chart)
        assert clock.size() == size and clock.minimumSize() == clock.maximumSize()
    assert clock.text() == ""


def test_trade_marks_of_several_event_batches_are_read_once_with_the_chart_refresh(
        qtbot, tmp_path):
    # Arrange: a window on a paused clock, its trade reads counted
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite", history_days=3)
    window = MainWindow(session, Pacer(session.engine.now_msc, 1.0, paused=True),
                        speed=1.0)
    qtbot.addWidget(window)
    reads = []
    original = window._refresh_trades
    window._refresh_trades = lambda: (reads.append(1), original())
    opened = [BasketOpened(datetime(2024, 1, 10, tzinfo=UTC), f"B-{k}", "USD_MAJORS",
                           "LONG", 2.0, 100.0) for k in range(3)]
    try:
        # Act: three batches with a basket opened in each, within one chart interval
        for event in opened:
            window.on_events([event])
        read_at_once = len(reads)
        qtbot.waitUntil(lambda: len(reads) > 0, timeout=5_000)
        # Assert: nothing read while the batches came, then one read for all three
        assert read_at_once == 0
        qtbot.wait(2 * window.CHART_INTERVAL_MS)
        assert len(reads) == 1
    finally:
        window.shutdown()
