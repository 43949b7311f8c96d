"""Symbol charts in the running console: opened from Market Watch (double-click, context
menu, a dropped row), one tab a symbol, live candles, and the run's deals from the journal
(real window, engine on its worker thread, simulated terminal, SQLite journal; offscreen)."""

from __future__ import annotations

import math
import sqlite3

import pytest
from helpers.engine_setup import SYMBOLS, config
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QGraphicsView

from app.sessions import demo_session
from gui.chart.symbol_chart import SymbolChart
from gui.main_window import MainWindow
from gui.market_watch import symbol_mime
from mt5bridge.sim.pacing import Pacer

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.market_watch.model.rowCount() == len(SYMBOLS), timeout=WAIT_MS)
    yield w
    w.shutdown()


def row_of(w: MainWindow, symbol: str) -> int:
    return w.market_watch.model.keys().index(symbol)


def double_click(qtbot, w: MainWindow, symbol: str) -> None:
    """A real double-click: the first click's press and release, then the second's."""
    view = w.market_watch.view
    rect = view.visualRect(w.market_watch.model.index(row_of(w, symbol), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_double_click_opens_one_tab_per_symbol_and_refocuses_it(window, qtbot):
    w = window
    # Act
    double_click(qtbot, w, "EURUSD")
    double_click(qtbot, w, "GBPUSD")
    double_click(qtbot, w, "EURUSD")
    # Assert
    assert w.charts.symbols() == ["EURUSD", "GBPUSD"]
    assert isinstance(w.charts.currentWidget(), SymbolChart)
    assert w.charts.currentWidget().symbol == "EURUSD"
    assert w.charts.tabText(w.charts.currentIndex()) == "EURUSD"
    qtbot.waitUntil(lambda: len(w.charts.chart("EURUSD").times_ms()) > 0, timeout=WAIT_MS)


def test_a_row_dropped_on_the_chart_area_opens_its_chart(window):
    # Offscreen Qt cannot run a drag session (QDrag.exec blocks, and a synthetic drop is
    # only delivered to a session's target), so the area's handlers get real events with
    # real mime data: what a drag from Market Watch carries, and plain text.
    area = window.charts
    centre = QPointF(area.width() / 2, area.height() / 2)
    row, plain = symbol_mime("USDJPY"), QMimeData()
    plain.setText("USDJPY")

    def event(kind, mime):
        return kind(centre.toPoint() if kind is QDragEnterEvent else centre,
                    Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    # Act
    enter_plain, enter_row = event(QDragEnterEvent, plain), event(QDragEnterEvent, row)
    area.dragEnterEvent(enter_plain)
    area.dragEnterEvent(enter_row)
    drop_plain, drop_row = event(QDropEvent, plain), event(QDropEvent, row)
    area.dropEvent(drop_plain)
    area.dropEvent(drop_row)
    # Assert
    assert not enter_plain.isAccepted() and enter_row.isAccepted()
    assert not drop_plain.isAccepted() and drop_row.isAccepted()
    assert area.symbols() == ["USDJPY"]
    assert area.currentWidget().symbol == "USDJPY"
    # the plots pass drops up to the area
    assert not area.chart("USDJPY").plot_widget.acceptDrops()
    assert not window.chart.findChildren(QGraphicsView)[0].acceptDrops()


def test_the_context_menu_opens_a_chart_window_and_tabs_close(window, qtbot):
    w = window
    menu = w.market_watch.context_menu(row_of(w, "AUDUSD"))
    chart_action = next(a for a in menu.actions() if a.text() == "Chart window")
    # Act
    chart_action.trigger()
    # Assert
    assert w.charts.symbols() == ["AUDUSD"]
    # Act: close it; the cluster chart's tab has no close button and stays
    w.charts.close_tab(w.charts.indexOf(w.charts.chart("AUDUSD")))
    w.charts.close_tab(0)
    # Assert
    assert w.charts.symbols() == [] and w.charts.count() == 1
    assert w.charts.widget(0) is w.chart


def test_candles_update_live_as_bars_form(window, qtbot):
    w = window
    chart = w.charts.open_symbol("EURUSD")
    chart.set_timeframe("M1")
    first = len(chart.times_ms())
    # Assert: new minutes arrive through the coalesced refresh, the view follows them
    qtbot.waitUntil(lambda: len(chart.times_ms()) > first + 5, timeout=WAIT_MS)
    assert chart.visible_range()[1] >= len(chart.times_ms()) - 1
    m1 = w.symbol_bars.m1("EURUSD")
    assert chart.times_ms()[-1] <= int(m1["time"][-1]) * 1000
    qtbot.waitUntil(lambda: chart.bid_line.isVisible(), timeout=WAIT_MS)


def test_no_chart_reads_the_journal_once_the_console_has_shut_down(window, qtbot):
    # Arrange: a symbol chart whose deals are due to be read again
    w = window
    w.charts.open_symbol("EURUSD")
    w.charts._marks_due = True  # as after a basket event
    # Act: the console closes, then a refresh arrives (a pending timer, a tab change)
    w.shutdown()
    w.charts.refresh()
    w.charts.setCurrentIndex(0)
    # Assert: nothing was read from the closed journal
    assert w.charts._marks_due


def journal_deals(w: MainWindow, symbol: str) -> list[tuple[str, float]]:
    with sqlite3.connect(w.session.journal.path) as db:
        rows = db.execute(
            "SELECT d.time, d.price FROM deals AS d JOIN baskets AS b "
            "ON b.basket_id = d.basket_id WHERE b.run_id = ? AND d.symbol = ? "
            "ORDER BY d.time, d.ticket", (w.engine.run_id, symbol)).fetchall()
    return [(str(t), float(p)) for t, p in rows]


def test_the_runs_basket_deals_are_marked_at_the_journals_prices(window, qtbot):
    w = window
    # Arrange: every symbol's chart open before any basket, so the marks arrive live
    charts = {symbol: w.charts.open_symbol(symbol) for symbol in SYMBOLS}
    for chart in charts.values():
        chart.set_timeframe("M1")
    # Act: a basket opens and closes in this run
    qtbot.waitUntil(lambda: w.engine.stats.baskets_closed >= 1, timeout=WAIT_MS)
    w.pacer.pause()
    frozen = w.pacer.now_msc()
    qtbot.waitUntil(lambda: w.engine.now_msc >= frozen, timeout=WAIT_MS)
    qtbot.wait(200)  # the step that reached the frozen clock returns
    symbol = next(s for s in SYMBOLS if journal_deals(w, s))
    chart = charts[symbol]
    w.charts.setCurrentWidget(chart)
    # Assert: each of the journal's deals on the symbol is a triangle at its price
    expected = journal_deals(w, symbol)

    def drawn() -> list[float]:
        points = chart.mark_points()
        return sorted([*points["entry"][1].tolist(), *points["exit"][1].tolist()])
    qtbot.waitUntil(lambda: drawn() == sorted(price for _t, price in expected),
                    timeout=WAIT_MS)
    assert len(chart.mark_points()["exit"][1]) >= 1


def test_market_watch_lists_every_symbol_with_its_day_at_1600x900(window, qtbot):
    w = window
    watch = w.market_watch
    # Assert: every symbol of the session, all rows in view without scrolling
    assert sorted(watch.model.keys()) == sorted(w.engine.driver.symbols)
    view = watch.view
    assert view.viewport().height() >= \
        watch.model.rowCount() * view.verticalHeader().defaultSectionSize()
    # Arrange: the market stopped, the figures read afresh
    qtbot.waitUntil(lambda: watch.model.row(0).cells[6] != "", timeout=WAIT_MS)
    w.pacer.pause()
    frozen = w.pacer.now_msc()
    qtbot.waitUntil(lambda: w.engine.now_msc >= frozen, timeout=WAIT_MS)
    qtbot.wait(200)  # the step that reached the frozen clock returns
    watch.set_day_source(w.symbol_bars.day_stats)
    watch.update_quotes(w.engine.snapshot(refresh=True).quotes)
    # Assert: the day's figures are the store's, the change against the previous close
    for row in range(watch.model.rowCount()):
        cells, quote = watch.model.row(row).cells, watch.model.row(row).payload
        day = w.symbol_bars.day_stats(quote.symbol)
        assert day is not None
        assert (cells[6], cells[7]) == (f"{day.high:.{quote.digits}f}",
                                        f"{day.low:.{quote.digits}f}")
        assert day.low <= quote.bid <= day.high
        if math.isfinite(day.prev_close):
            change = (quote.bid / day.prev_close - 1) * 100
            assert cells[5] == f"{round(change, 2) + 0.0:+.2f}%"
