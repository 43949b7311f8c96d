"""The console shows each open basket's net exposure to its cluster's numeraire: in the
Clusters table and on the basket's row of the Trade tab."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt

from engine.runner import ClusterView, PositionView
from gui.clusters_panel import COLUMNS, NET_COLUMN, ClustersPanel
from gui.toolbox.trade import HEADERS, NET, TradeTab

T0 = datetime(2019, 10, 30, 14, 0, tzinfo=UTC)
DISPLAY = Qt.ItemDataRole.DisplayRole
TIP = Qt.ItemDataRole.ToolTipRole


def view(basket: str | None, numeraire: str = "USD", net: float = math.nan,
         share: float = math.nan) -> ClusterView:
    return ClusterView("USD_MAJORS", ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF"), -1.3, 2.1,
                       1.5, 0.25, "ACTIVE", "", basket, "LONG" if basket else None, -12.5,
                       None, numeraire, net, share)


def position(ticket: int, symbol: str, side: str, basket: str) -> PositionView:
    return PositionView(ticket, symbol, side, 0.5, 1.1, 1.1, 0.0, -3.0, 710001, basket,
                        "USD_MAJORS")


def test_clusters_table_shows_the_open_baskets_net_numeraire_share(qtbot):
    # Arrange
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    basket = "USD_MAJORS-20191030T1400-001"
    # Act
    panel.update_clusters((view(basket, "USD", 1_234.5, 0.0213),))
    model = panel.model
    # Assert
    assert COLUMNS[NET_COLUMN] == "Net ccy"
    assert model.data(model.index(0, NET_COLUMN), DISPLAY) == "USD +2.13%"
    tip = model.data(model.index(0, NET_COLUMN), TIP)
    assert "+1,234.50" in tip and "+2.13% of the legs' gross notional" in tip
    assert model.data(model.index(0, COLUMNS.index("E")), DISPLAY) == "1.50"
    assert model.data(model.index(0, COLUMNS.index("X")), DISPLAY) == "0.25"


def test_clusters_table_leaves_the_cell_blank_without_basket_or_numeraire(qtbot):
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    panel.update_clusters((view(None), ))
    model = panel.model
    assert model.data(model.index(0, NET_COLUMN), DISPLAY) == ""
    assert "no open basket" in model.data(model.index(0, NET_COLUMN), TIP)
    panel.update_clusters((view("B-1", "", math.nan, math.nan),))
    assert model.data(model.index(0, NET_COLUMN), DISPLAY) == ""
    assert "no numeraire" in model.data(model.index(0, NET_COLUMN), TIP)


def test_trade_tab_shows_the_net_numeraire_on_the_basket_row_and_updates_it(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    basket = "USD_MAJORS-20191030T1400-001"
    legs = [position(1, "EURUSD", "BUY", basket), position(2, "USDCHF", "SELL", basket)]
    # Act
    tab.update_positions(legs, {basket: view(basket, "USD", -850.0, -0.0124)})
    model = tab.model
    group = model.index(0, 0)
    # Assert
    assert HEADERS[NET] == "Net ccy"
    assert model.data(model.index(0, NET), DISPLAY) == "USD -1.24%"
    assert model.data(model.index(0, NET, group), DISPLAY) is None  # legs: blank
    assert "-850.00" in model.data(model.index(0, NET), TIP)
    tab.update_positions(legs, {basket: view(basket, "USD", 400.0, 0.006)})
    assert model.data(model.index(0, NET), DISPLAY) == "USD +0.60%"
    tab.update_positions(legs)
    assert model.data(model.index(0, NET), DISPLAY) == ""
    assert model.data(model.index(0, NET), TIP) is None
    assert model.rowCount(QModelIndex()) == 1
