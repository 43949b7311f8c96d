"""Market Watch on its own: the day's figures and their basis, opening charts, the drag
payload and the compact view (real widget, a real ``SymbolBars`` store; offscreen Qt)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.symbol_bars import SymbolBars
from engine.snapshot import QuoteView
from engine.ticks import BAR_DTYPE
from gui.market_watch import SYMBOL_MIME, MarketWatch, symbol_from_mime, symbol_mime

#: Tuesday 2024-01-09 00:00 UTC (the store below runs on UTC: no server time zone).
TUESDAY_S = int(datetime(2024, 1, 9, tzinfo=UTC).timestamp())


def day_bars(start_s: int, prices: list[tuple[float, float, float, float]]) -> np.ndarray:
    bars = np.zeros(len(prices), dtype=BAR_DTYPE)
    bars["time"] = start_s + 60 * np.arange(len(prices))
    for column, name in enumerate(("open", "high", "low", "close")):
        bars[name] = [p[column] for p in prices]
    bars["tick_volume"] = 10
    return bars


def quote(symbol: str, bid: float, ask: float) -> QuoteView:
    return QuoteView(symbol, bid, ask, round((ask - bid) / 1e-5), None, 5)


@pytest.fixture
def store() -> SymbolBars:
    bars = SymbolBars(("EURUSD", "GBPUSD"))
    # EURUSD: Monday's last minutes close at 1.10000; Tuesday so far 1.10050 .. 1.10300
    bars.seed("EURUSD", day_bars(TUESDAY_S - 120, [(1.0995, 1.1001, 1.0990, 1.0998),
                                                   (1.0998, 1.1002, 1.0997, 1.1000)]))
    bars.seed("EURUSD", day_bars(TUESDAY_S, [(1.1001, 1.1030, 1.1005, 1.1020),
                                             (1.1020, 1.1025, 1.1010, 1.1022)]))
    # GBPUSD: only today's bars: no previous close to compare with
    bars.seed("GBPUSD", day_bars(TUESDAY_S, [(1.2700, 1.2710, 1.2690, 1.2705)]))
    return bars


@pytest.fixture
def watch(qtbot, store) -> MarketWatch:
    widget = MarketWatch()
    qtbot.addWidget(widget)
    widget.set_day_source(store.day_stats)
    widget.update_quotes([quote("EURUSD", 1.10220, 1.10222), quote("GBPUSD", 1.27050, 1.27058)])
    return widget


def cells(watch: MarketWatch, symbol: str) -> dict[str, str]:
    row = watch.model.keys().index(symbol)
    return {watch.model.headerData(c, Qt.Orientation.Horizontal): watch.model.row(row).cells[c]
            for c in range(watch.model.columnCount())}


def test_daily_change_is_the_bid_against_the_previous_days_close(watch):
    eurusd = cells(watch, "EURUSD")

    assert eurusd["Daily %"] == f"{(1.10220 / 1.10000 - 1) * 100:+.2f}%" == "+0.20%"
    assert (eurusd["High"], eurusd["Low"]) == ("1.10300", "1.10050")
    gbpusd = cells(watch, "GBPUSD")
    assert gbpusd["Daily %"] == ""  # no earlier day in the data
    assert (gbpusd["High"], gbpusd["Low"]) == ("1.27100", "1.26900")


def test_the_day_columns_state_their_basis_and_sit_before_the_time(watch):
    model, header = watch.model, watch.view.horizontalHeader()

    tip = model.headerData(5, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)

    assert "previous server day's close" in tip
    visual = [model.headerData(header.logicalIndex(v), Qt.Orientation.Horizontal)
              for v in range(model.columnCount())]
    assert visual == ["Symbol", "Bid", "Ask", "Spread", "Daily %", "High", "Low", "Time (UTC)"]


def test_double_click_and_the_context_menu_ask_for_a_chart(watch, qtbot):
    # Arrange
    asked: list[str] = []
    watch.chartRequested.connect(asked.append)
    view = watch.view
    rect = view.visualRect(watch.model.index(1, 0))
    # Act
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    menu = watch.context_menu(0)
    next(a for a in menu.actions() if a.text() == "Chart window").trigger()
    # Assert
    assert asked == ["GBPUSD", "EURUSD"]
    empty = watch.context_menu(-1)  # below the last row
    assert not next(a for a in empty.actions() if a.text() == "Chart window").isEnabled()


def test_a_dragged_row_carries_its_symbol(watch, monkeypatch):
    # Arrange: QDrag.exec blocks on a real drag; record what it would carry instead
    carried: list[str | None] = []
    monkeypatch.setattr("gui.market_watch.QDrag.exec",
                        lambda drag, *_a: carried.append(symbol_from_mime(drag.mimeData())))
    watch.view.setCurrentIndex(watch.model.index(0, 0))
    # Act
    watch.view.startDrag(Qt.DropAction.CopyAction)
    # Assert
    assert carried == ["EURUSD"]
    mime = symbol_mime("GBPUSD")
    assert mime.hasFormat(SYMBOL_MIME) and mime.text() == "GBPUSD"


def test_compact_view_keeps_symbol_bid_ask_and_daily_change(watch):
    watch.compact.setChecked(True)

    shown = [watch.model.headerData(c, Qt.Orientation.Horizontal)
             for c in range(watch.model.columnCount()) if not watch.view.isColumnHidden(c)]
    assert shown == ["Symbol", "Bid", "Ask", "Daily %"]
    watch.compact.setChecked(False)
    assert not any(watch.view.isColumnHidden(c) for c in range(watch.model.columnCount()))


def test_rows_are_one_line_and_the_height_for_sixteen_is_known(watch):
    row = watch.view.verticalHeader().defaultSectionSize()

    assert row == watch.fontMetrics().height() + 1
    assert watch.rows_height(16) >= 16 * row + watch.view.horizontalHeader().sizeHint().height()
