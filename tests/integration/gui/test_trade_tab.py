"""The Trade tab as MT5's: its columns and values, the basket row that counts legs, manual
orders under "no basket", the net currency exposure table beside the positions, and the
account figures MT5 shows below them (here in the status bar)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt

from engine.snapshot import (
    ClusterView,
    CurrencyExposure,
    EngineSnapshot,
    PositionView,
    exposure_views,
)
from gui.status_bar import ConsoleStatusBar, status_texts
from gui.toolbox.exposure import ExposureTable
from gui.toolbox.format import LOSS, WARNING_TEXT
from gui.toolbox.trade import HEADERS, TradeTab

T0 = datetime(2019, 2, 4, 14, 30, 5, tzinfo=UTC)
DISPLAY = Qt.ItemDataRole.DisplayRole
BASKET = "USD_MAJORS-20190204T1430-001"


def cell(model, row: int, column: int, parent: QModelIndex | None = None,
         role: int = DISPLAY) -> object:
    return model.data(model.index(row, column, parent or QModelIndex()), role)


def leg(ticket: int, symbol: str, side: str, volume: float, price: float, now: float,
        profit: float, *, magic: int = 710001, comment: str = BASKET,
        cluster: str | None = "USD_MAJORS", sl: float = 0.0, tp: float = 0.0,
        minute: int = 0) -> PositionView:
    return PositionView(ticket, symbol, side, volume, price, now, -0.5, profit, magic, comment,
                        cluster, -1.75, T0.replace(minute=30 + minute), sl, tp)


def basket_view() -> ClusterView:
    return ClusterView("USD_MAJORS", ("EURUSD", "USDCHF"), -1.3, 2.1, 1.2, 0.25, "ACTIVE", "",
                       BASKET, "LONG", 3.0, None, "USD", -120.0, -0.0012)


def test_columns_are_mt5s_and_each_position_row_reads_as_mt5(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    manual = leg(77, "EURUSD", "BUY", 0.13, 1.14490, 1.14510, 2.6, magic=0, comment="manual",
                 cluster=None, sl=1.14200, tp=1.15000, minute=5)
    # Act
    tab.update_positions([manual])
    model = tab.model
    group = model.index(0, 0)
    # Assert
    assert HEADERS[:12] == ("Ticket", "Time (UTC)", "Type", "Volume", "Symbol", "Price", "S/L",
                            "T/P", "Price now", "Swap", "Commission", "Profit")
    assert [cell(model, 0, c, group) for c in range(12)] == [
        "77", "2019-02-04 14:35:05", "buy", "0.13", "EURUSD", "1.14490", "1.14200", "1.15000",
        "1.14510", "-0.50", "-1.75", "2.60"]
    assert cell(model, 0, 0) == "no basket" and cell(model, 0, 3) == "1 position"
    assert model.headerData(11, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)


def test_a_basket_row_counts_legs_instead_of_adding_lots_of_different_symbols(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    legs = [leg(1, "EURUSD", "BUY", 0.5, 1.1449, 1.1451, 10.0),
            leg(2, "USDCHF", "BUY", 0.3, 0.98512, 0.98500, -7.0, minute=1)]
    # Act
    tab.update_positions(legs, {BASKET: basket_view()})
    model = tab.model
    # Assert: totals of money only; the opening time is the first leg's
    assert [cell(model, 0, c) for c in range(13)] == [
        BASKET, "2019-02-04 14:30:05", "long", "2 legs", "USD_MAJORS", "", "", "", "",
        "-1.00", "-3.50", "3.00", "USD -0.12%"]
    group = model.index(0, 0)
    assert [cell(model, r, 6, group) for r in range(2)] == ["", ""]  # no stops: blank


def test_manual_orders_join_the_no_basket_group_whatever_their_comment(qtbot):
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions([leg(1, "EURUSD", "BUY", 0.5, 1.1, 1.1, 1.0),
                          leg(9, "GBPUSD", "SELL", 0.2, 1.3, 1.3, -1.0, magic=0,
                              comment="manual", cluster=None),
                          leg(10, "USDJPY", "BUY", 0.1, 110.0, 110.1, 2.0, magic=555,
                              comment="other EA", cluster=None)])
    model = tab.model
    assert [cell(model, r, 0) for r in range(model.rowCount())] == [BASKET, "no basket"]
    assert model.rowCount(model.index(1, 0)) == 2
    assert "3 positions, 1 basket " in tab.summary.text()


def test_exposure_table_shows_net_cap_and_share_used(qtbot):
    # Arrange: the engine's rows for a $100,000 account with a 3x cap
    table = ExposureTable()
    qtbot.addWidget(table)
    rows = exposure_views({"EUR": 55_000.0, "USD": -250_000.0, "CHF": 290_000.0}, 100_000.0,
                          3.0)
    # Act
    table.update_exposures(rows)
    model = table.model
    # Assert
    assert [cell(model, r, 0) for r in range(3)] == ["CHF", "USD", "EUR"]
    assert [cell(model, 0, c) for c in range(3)] == ["CHF", "+290,000.00", "96.7%"]
    assert cell(model, 2, 1) == "+55,000.00" and cell(model, 2, 2) == "18.3%"
    assert "cap ±300,000.00 each" in table.title.text()
    assert cell(model, 0, 2, role=Qt.ItemDataRole.ForegroundRole) == WARNING_TEXT
    table.update_exposures([CurrencyExposure("USD", -310_000.0, 300_000.0, 310 / 300)])
    assert model.rowCount() == 1
    assert cell(model, 0, 2, role=Qt.ItemDataRole.ForegroundRole) == LOSS


def test_trade_tab_feeds_its_exposure_table_and_keeps_it_without_new_figures(qtbot):
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions([], {}, [CurrencyExposure("EUR", 1.0, 3.0, 1 / 3)])
    tab.update_positions([])  # no exposures given: the table keeps its rows
    assert tab.exposure.model.rowCount() == 1
    assert not math.isnan(tab.exposure.model.payload(0).share)


# --------------------------------------------------------------------------- status bar
# MT5 shows these figures at the foot of its Trade tab; the console keeps them in the
# window's status bar (gui/status_bar.py).


def snapshot(**changes) -> EngineSnapshot:
    base = dict(time=T0, clusters=(), account_state="ACTIVE", account_reason="",
                balance=100_000.0, equity=99_875.5, margin_level=2_496.89, open_risk=300.0,
                daily_pnl=-124.5, connected=True, calendar_state="FRESH", margin=4_000.0,
                free_margin=95_875.5)
    base.update(changes)
    return EngineSnapshot(**base)


def test_status_bar_shows_balance_equity_margin_free_margin_and_margin_level(qtbot):
    # Arrange
    bar = ConsoleStatusBar()
    qtbot.addWidget(bar)
    # Act
    bar.show_snapshot(snapshot(), "2019-02-04 14:30 UTC | server 16:30")
    texts = {key: label.text() for key, label in bar.labels.items()}
    # Assert: each figure as the snapshot carries it, and recomputable from the others
    assert texts["balance"] == "Balance: 100,000.00"
    assert texts["equity"] == "Equity: 99,875.50"
    assert texts["margin"] == "Margin: 4,000.00"
    assert texts["free_margin"] == "Free margin: 95,875.50"  # equity - margin
    assert texts["margin_level"] == "Margin level: 2,496.89%"  # equity / margin x 100
    assert texts["daily"] == "Day P&L: -124.50"
    assert texts["risk"] == "Risk in use: 300.00 (0.30%)"
    assert texts["time"] == "2019-02-04 14:30 UTC | server 16:30"
    assert all(label.toolTip() for label in bar.labels.values())  # each says its basis
    assert bar.currentMessage() == ""  # the message area stays free


def test_status_bar_without_positions_leaves_margin_level_blank_as_mt5():
    texts = status_texts(snapshot(margin=0.0, margin_level=0.0, free_margin=99_875.5,
                                  equity=math.nan))
    assert texts["margin_level"] == "Margin level: -"
    assert texts["equity"] == "Equity: -"


def test_status_bar_shows_a_lost_connection_and_nothing_while_connected(qtbot):
    bar = ConsoleStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.show_snapshot(snapshot(), "")
    assert not bar.labels["connection"].isVisible()
    bar.show_snapshot(snapshot(connected=False), "")
    assert bar.labels["connection"].isVisible()
    assert bar.labels["connection"].text() == "DISCONNECTED"
