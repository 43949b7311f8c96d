"""What the console must keep readable at 1600x900: History's P&L on screen, the calendar's
event names, the Journal's times and commands, the equity pane's ticks (real widgets,
offscreen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, Qt

from engine.calendar import CoverageSpan, EconomicEvent, StaticCalendar
from engine.model import Direction, ExitCode, Impact
from engine.records import BasketClose, BasketOpen, ManualCommand, PlannedLeg, RunStart
from gui.chart.axis import ValueAxis, value_decimals
from gui.chart.equity import EquityChart
from gui.toolbox.calendar import EVENT_HEADERS, CalendarTab
from gui.toolbox.history import HEADERS, PNL_COLUMN, HistoryTab
from gui.toolbox.journal import AUDIT_COMMAND_COLUMN, LOG_HEADERS, JournalTab
from storage.journal import SqliteJournal

T0 = datetime(2019, 2, 4, 14, 30, 5, tzinfo=UTC)
MONDAY = datetime(2024, 1, 8, tzinfo=UTC)


def cell(model, row: int, column: int) -> object:
    return model.data(model.index(row, column, QModelIndex()), Qt.ItemDataRole.DisplayRole)


# --------------------------------------------------------------------------- History


@pytest.fixture
def journal(tmp_path: Path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as opened:
        opened.start_run(RunStart("run-1", "replay", T0, "cfg", {}))
        for n in range(3):
            basket = f"MAJORS_SIX-20190204T{1430 + n}-00{n}"
            opened.open_basket(BasketOpen(basket, "run-1", "MAJORS_SIX", Direction.SHORT,
                                          T0 + timedelta(hours=n), 1.5, 300.0,
                                          (PlannedLeg("EURUSD", "SELL", 0.5, 57_000.0),), 3003))
            opened.close_basket(BasketClose(basket, T0 + timedelta(hours=n + 2), 0.1,
                                            ExitCode.MR, 12_345.67, -20.0))
        yield opened


def test_history_keeps_the_pnl_column_on_screen_in_a_1000_pixel_toolbox(qtbot, journal):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 300)
    tab.show()
    qtbot.waitExposed(tab)

    # Act
    tab.set_journal_reader(journal)
    qtbot.wait(10)  # one layout pass

    # Assert: the P&L column lies inside the viewport, with a width its figures fit in
    header = tab.view.horizontalHeader()
    right = header.sectionViewportPosition(PNL_COLUMN) + header.sectionSize(PNL_COLUMN)
    assert HEADERS[PNL_COLUMN] == "P&L"
    assert header.sectionSize(PNL_COLUMN) > tab.fontMetrics().horizontalAdvance("12,345.67")
    assert right <= tab.view.viewport().width()


# --------------------------------------------------------------------------- Calendar


def _event(hours: float, title: str, **values: str) -> EconomicEvent:
    return EconomicEvent(MONDAY + timedelta(hours=hours), "USD", Impact.HIGH, title, **values)


def _calendar_tab(qtbot, events: list[EconomicEvent]) -> CalendarTab:
    tab = CalendarTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 300)
    tab.show()
    calendar = StaticCalendar(events, coverage=[CoverageSpan(MONDAY, MONDAY + timedelta(days=7),
                                                             "test")])
    tab.set_calendar(calendar, MONDAY, MONDAY + timedelta(days=7))
    return tab


def test_calendar_hides_empty_actual_forecast_previous_and_gives_names_the_room(qtbot):
    # Arrange / Act: events with no released figures (the synthetic market's, most feeds')
    tab = _calendar_tab(qtbot, [_event(1, "Non-Farm Employment Change and Unemployment Rate"),
                                _event(2, "ISM Manufacturing PMI")])

    # Assert
    hidden = [EVENT_HEADERS[c] for c in range(len(EVENT_HEADERS))
              if tab.events_view.isColumnHidden(c)]
    assert hidden == ["Actual", "Forecast", "Previous"]
    assert tab.events_view.columnWidth(3) > 0


def test_calendar_shows_a_figures_column_once_an_event_has_one(qtbot):
    # Arrange / Act
    tab = _calendar_tab(qtbot, [_event(1, "CPI m/m", forecast="0.3%", previous="0.2%")])

    # Assert: Forecast and Previous have values, Actual has none yet
    shown = {EVENT_HEADERS[c]: not tab.events_view.isColumnHidden(c) for c in (4, 5, 6)}
    assert shown == {"Actual": False, "Forecast": True, "Previous": True}
    assert tab.events_view.columnWidth(5) > 0 and tab.events_view.columnWidth(6) > 0


def test_calendar_blackouts_follow_the_selected_cluster(qtbot):
    # Arrange
    tab = _calendar_tab(qtbot, [])
    nfp = _event(1, "NFP")
    ecb = EconomicEvent(MONDAY + timedelta(hours=5), "EUR", Impact.HIGH, "ECB rate")
    tab.set_blackouts({
        "USD_MAJORS": [(nfp.time - timedelta(minutes=30), nfp.time + timedelta(minutes=30), nfp)],
        "EUR_CROSSES": [(ecb.time - timedelta(minutes=30), ecb.time + timedelta(minutes=30),
                         ecb)]})

    # Act
    tab.select_cluster("USD_MAJORS")
    first = cell(tab.blackout_model, 0, 4)
    tab.select_cluster("EUR_CROSSES")

    # Assert
    assert first == "NFP"
    assert cell(tab.blackout_model, 0, 4) == "ECB rate"


# --------------------------------------------------------------------------- Journal


def test_journal_separates_market_time_from_the_wall_clock(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    market = datetime(2019, 7, 26, 10, 2, tzinfo=UTC)
    wall = datetime(2026, 12, 6, 9, 45, 12, tzinfo=UTC)

    # Act
    tab.append_log(market, "INFO", "USD_MAJORS-20190726T1000-001 opened", received=wall)

    # Assert
    assert LOG_HEADERS == ("Market time (UTC)", "Level", "Message", "Wall clock (UTC)")
    assert cell(tab.log_model, 0, 0) == "2019-07-26 10:02:00"
    assert cell(tab.log_model, 0, 3) == "09:45:12"


def test_journal_log_and_audit_sit_side_by_side_with_the_toolbox_height(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 300)
    tab.show()
    qtbot.waitExposed(tab)

    # Act
    for i in range(30):
        tab.append_log(T0 + timedelta(minutes=i), "INFO", f"line {i}")

    # Assert: the log shows at least ten rows and is the wider of the two
    rows = tab.log_view.viewport().height() // tab.log_view.verticalHeader().defaultSectionSize()
    assert rows >= 10
    assert tab.log_view.width() > tab.audit_view.width()


def test_audit_trail_never_cuts_a_command_name(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 300)
    tab.show()
    tab.set_audit([ManualCommand("c1", T0, "gui", "Pause", {"cluster": "C3"}, "ok")])

    # Act: a longer command name arrives after the first sizing
    tab.set_audit([ManualCommand("c1", T0, "gui", "Pause", {"cluster": "C3"}, "ok"),
                   ManualCommand("c2", T0, "gui", "ResumeCluster", {"cluster": "C3"}, "ok")])
    qtbot.wait(10)

    # Assert
    needed = tab.audit_view.fontMetrics().horizontalAdvance("ResumeCluster")
    assert tab.audit_view.columnWidth(AUDIT_COMMAND_COLUMN) >= needed


# --------------------------------------------------------------------------- Equity


def test_equity_ticks_are_distinct_and_carry_their_unit(qapp):  # an AxisItem needs one
    # Arrange
    axis = ValueAxis("left")
    percent = ValueAxis("left", suffix="%")

    # Act
    money = axis.tickStrings([99_999.8, 100_000.0, 100_000.2], 1.0, 0.2)
    drawdown = percent.tickStrings([-0.04, -0.02, 0.0], 1.0, 0.02)

    # Assert
    assert money == ["99,999.8", "100,000.0", "100,000.2"]
    assert len(set(money)) == 3
    assert drawdown == ["-0.04%", "-0.02%", "0.00%"]
    assert value_decimals(500.0) == 0 and value_decimals(0.005) == 3


def test_equity_pane_has_no_legend_over_the_curve_and_a_readable_range(qtbot):
    # Arrange
    chart = EquityChart()
    qtbot.addWidget(chart)
    chart.resize(600, 300)
    chart.show()
    times = np.arange(10, dtype=np.int64) * 60_000

    # Act: a flat account
    chart.set_series(times, np.full(10, 100_000.0), np.full(10, 100_000.0))
    qtbot.wait(10)

    # Assert: no legend item in the plot; the curves are named in the summary line; the
    # y range spans at least 0.1% of the equity
    assert chart.equity_plot.legend is None
    assert "Balance" in chart.summary_text() and "Equity" in chart.summary_text()
    low, high = chart.equity_plot.getViewBox().viewRange()[1]
    assert high - low >= 100.0 - 1e-6
    assert chart.equity_plot.getAxis("left").labelText == ""


def test_a_session_s_first_equity_marks_read_on_a_minutes_axis(qtbot):
    # Arrange: a live session's first two marks, two seconds apart
    chart = EquityChart()
    qtbot.addWidget(chart)
    chart.resize(600, 300)
    chart.show()
    start = 1_765_000_000_000

    # Act
    chart.append(start, 100_000.0, 100_000.0)
    chart.append(start + 2_000, 100_000.0, 100_000.0)
    qtbot.wait(10)

    # Assert: both panes span half an hour around the marks, so the axis ticks are times
    # of day, not fractions of a second
    for plot in (chart.equity_plot, chart.drawdown_plot):
        low, high = plot.getViewBox().viewRange()[0]
        assert high - low >= EquityChart.MIN_TIME_RANGE_S - 1e-6
        assert low <= start / 1000 and high >= start / 1000 + 2
    axis = chart.drawdown_plot.getAxis("bottom")
    low, high = chart.drawdown_plot.getViewBox().viewRange()[0]
    labels = [text for spacing, ticks in axis.tickValues(low, high, 500)
              for text in axis.tickStrings(ticks, 1.0, spacing)]
    assert labels and all(":" in text and "." not in text for text in labels)
