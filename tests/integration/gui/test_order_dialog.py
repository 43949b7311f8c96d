"""New Order (F9) and one-click trading in the real console: real window, engine on its
worker thread, simulated terminal and journal (offscreen Qt).  The clock runs at 1x, so
the market barely moves while a test looks at it."""

from __future__ import annotations

import sqlite3

import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from engine import commands as cmd
from engine.manual_orders import MANUAL_MAGIC
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from gui.main_window import MainWindow
from gui.order_dialog import OrderDialog, stops_problem

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, 1.0), speed=1.0)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: bool(w.orders.specs()) and w.orders.strip.symbol.count() > 0,
                    timeout=WAIT_MS)
    yield w
    w.shutdown()


def rows(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def manual_positions(w) -> list:
    return [p for p in w.session.terminal.positions_get() or ()
            if int(p.magic) == MANUAL_MAGIC]


def test_f9_opens_new_order_with_the_symbols_specification(window, qtbot):
    # Arrange
    window.activateWindow()
    # Act
    qtbot.keyClick(window, Qt.Key.Key_F9)
    # Assert
    qtbot.waitUntil(lambda: window.orders.dialog is not None and window.orders.dialog.isVisible(),
                    timeout=WAIT_MS)
    dialog = window.orders.dialog
    dialog.symbol.setCurrentText("EURUSD")
    spec = dialog.spec()
    assert (dialog.volume.minimum(), dialog.volume.maximum(), dialog.volume.singleStep()) == \
        (spec.volume_min, spec.volume_max, spec.volume_step)
    assert dialog.filling.text().startswith(("FOK", "IOC", "RETURN"))
    qtbot.waitUntil(lambda: dialog.bid.text() != "-", timeout=WAIT_MS)
    assert len(dialog.bid.text().split(".")[1]) == spec.digits


def test_buy_by_market_places_a_manual_position_journaled_and_shown(window, qtbot, tmp_path):
    # Arrange
    dialog = window.orders.open_dialog("EURUSD")
    qtbot.waitUntil(lambda: dialog.bid.text() != "-", timeout=WAIT_MS)
    dialog.volume.setValue(0.13)
    # Act
    dialog.buy_button.click()
    # Assert: at the terminal, in the journal (deal and audit), in the Trade tab
    qtbot.waitUntil(lambda: len(manual_positions(window)) == 1, timeout=WAIT_MS)
    (p,) = manual_positions(window)
    assert (p.symbol, int(p.type), float(p.volume), p.comment) == ("EURUSD", 0, 0.13, "manual")
    qtbot.waitUntil(lambda: rows(tmp_path, "select magic, comment, basket_id from deals "
                                           f"where position_id = {p.ticket}")
                    == [(MANUAL_MAGIC, "manual", None)], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any(c == "PlaceOrder" and (r or "").startswith("ok")
                                for c, r in rows(tmp_path, "select command, result "
                                                           "from manual_commands")),
                    timeout=WAIT_MS)
    model = window.toolbox.trade.model
    qtbot.waitUntil(lambda: "no basket" in [model.data(model.index(r, 0))
                                            for r in range(model.rowCount())], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "order placed" in window.statusBar().currentMessage(),
                    timeout=WAIT_MS)
    assert not dialog.isVisible()


def test_a_halted_account_disables_new_order_and_the_engine_refuses_it(window, qtbot, tmp_path):
    # Arrange: halt the whole account ("*")
    window.submit(cmd.HaltCluster(cluster="*", source="gui"))
    qtbot.waitUntil(lambda: window.engine.snapshot().account_state == "HALTED", timeout=WAIT_MS)
    dialog = window.orders.open_dialog("EURUSD")
    qtbot.waitUntil(lambda: not dialog.buy_button.isEnabled(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.orders.strip.buy_button.isEnabled(), timeout=WAIT_MS)
    # Act: the dialog refuses; a command sent anyway is refused by the engine
    sent = dialog.send("BUY")
    window.orders.submit(cmd.PlaceOrder(symbol="EURUSD", side="BUY", volume=0.1,
                                        source="gui"))
    # Assert
    assert not sent and "HALTED" in dialog.message.text()
    qtbot.waitUntil(lambda: "order REFUSED" in window.statusBar().currentMessage(),
                    timeout=WAIT_MS)
    assert "account HALTED" in window.statusBar().currentMessage()
    assert manual_positions(window) == []


def test_one_click_buy_trades_at_once_when_switched_on_and_asks_first_when_off(window, qtbot):
    strip = window.orders.strip
    strip.symbol.setCurrentText("USDJPY")
    strip.volume.setValue(0.2)
    asked: list[str] = []
    window.confirm = lambda title, text: asked.append(text) or False
    strip._confirm = window.confirm

    assert not strip.trade("SELL")  # off: asked, declined, nothing sent
    strip.enabled_box.setChecked(True)
    strip.sell_button.click()

    assert asked == ["Sell 0.2 USDJPY at market?"]
    qtbot.waitUntil(lambda: len(manual_positions(window)) == 1, timeout=WAIT_MS)
    (p,) = manual_positions(window)
    assert (p.symbol, int(p.type), float(p.volume)) == ("USDJPY", 1, 0.2)


def test_the_dialog_checks_volume_and_stop_sides_before_sending(window, qtbot):
    dialog: OrderDialog = window.orders.open_dialog("EURUSD")
    qtbot.waitUntil(lambda: dialog.bid.text() != "-", timeout=WAIT_MS)
    bid = float(dialog.bid.text())
    dialog.sl.setValue(bid + 0.0050)  # a buy's stop above the bid

    assert dialog.order("BUY") is None and "S/L must be below" in dialog.message.text()
    assert stops_problem("SELL", 1.1, 1.1002, 1.1010, 1.0900) is None
    assert "T/P must be below" in stops_problem("SELL", 1.1, 1.1002, 0.0, 1.2)
    dialog.sl.setValue(0.0)
    order = dialog.order("BUY")
    assert order is not None and order.sl == 0.0 and order.deviation == 10
