"""Market Watch and Toolbox tabs: formatting, in-place updates, actions and real data."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QDate, QModelIndex, Qt

from engine.calendar import CoverageSpan, EconomicEvent, StaticCalendar
from engine.model import Direction, ExitCode, Impact
from engine.records import BasketClose, BasketOpen, ManualCommand, PlannedLeg, RunStart
from engine.runner import PositionView, QuoteView
from gui.market_watch import MarketWatch
from gui.toolbox import Toolbox
from gui.toolbox.calendar import IMPACT_COLOURS, CalendarTab
from gui.toolbox.format import ERROR_TEXT, LOSS, PROFIT, TICK_DOWN, TICK_UP, WARNING_TEXT
from gui.toolbox.history import HistoryTab
from gui.toolbox.journal import JournalTab
from gui.toolbox.trade import TradeTab
from storage.journal import SqliteJournal

T0 = datetime(2019, 2, 4, 14, 30, 5, tzinfo=UTC)
BIG_TICKET = 2**40 + 12345  # beyond 32 bits, as real MT5 tickets are
DISPLAY = Qt.ItemDataRole.DisplayRole


def cell(model, row: int, column: int, parent: QModelIndex | None = None,
         role: int = DISPLAY) -> object:
    return model.data(model.index(row, column, parent or QModelIndex()), role)


class SignalLog:
    """Counts a model's notifications so tests can assert "updated in place"."""

    def __init__(self, model) -> None:
        self.resets = 0
        self.changed = 0
        self.inserted = 0
        self.removed = 0
        model.modelReset.connect(self._reset)
        model.dataChanged.connect(self._changed)
        model.rowsInserted.connect(self._inserted)
        model.rowsRemoved.connect(self._removed)

    def _reset(self) -> None:
        self.resets += 1

    def _changed(self, *_: object) -> None:
        self.changed += 1

    def _inserted(self, *_: object) -> None:
        self.inserted += 1

    def _removed(self, *_: object) -> None:
        self.removed += 1


# --------------------------------------------------------------------------- Market Watch


def quote(symbol: str, bid: float, ask: float, point: float, seconds: int = 0) -> QuoteView:
    return QuoteView(symbol, bid, ask, round((ask - bid) / point, 1),
                     T0 + timedelta(seconds=seconds))


def test_market_watch_rows_are_formatted_to_each_symbols_digits(qtbot):
    # Arrange
    watch = MarketWatch(digits={"XAUUSD": 2})
    qtbot.addWidget(watch)
    quotes = [quote("EURUSD", 1.14488, 1.14490, 1e-5), quote("USDJPY", 109.5, 109.503, 1e-3),
              QuoteView("XAUUSD", 1282.1, 1282.25, 15.0, None)]
    # Act
    watch.update_quotes(quotes)
    # Assert
    model = watch.model
    rows = [[cell(model, r, c) for c in range(5)] for r in range(model.rowCount())]
    assert rows == [
        ["EURUSD", "1.14488", "1.14490", "2", "14:30:05"],
        ["USDJPY", "109.500", "109.503", "3", "14:30:05"],
        ["XAUUSD", "1282.10", "1282.25", "15", ""],
    ]
    assert watch.digits("EURUSD") == 5 and watch.digits("USDJPY") == 3


def test_market_watch_updates_in_place_and_colours_ticks(qtbot):
    # Arrange
    watch = MarketWatch()
    qtbot.addWidget(watch)
    watch.update_quotes([quote("EURUSD", 1.14488, 1.14490, 1e-5),
                         quote("GBPUSD", 1.27500, 1.27505, 1e-5)])
    widths = [watch.view.horizontalHeader().sectionSize(c) for c in range(5)]
    log = SignalLog(watch.model)
    # Act: EURUSD ticks up, GBPUSD down, then a new symbol appears and GBPUSD goes quiet
    watch.update_quotes([quote("EURUSD", 1.14491, 1.14493, 1e-5, 1),
                         quote("GBPUSD", 1.27490, 1.27495, 1e-5, 1)])
    watch.update_quotes([quote("USDCHF", 0.98500, 0.98506, 1e-5, 2),
                         quote("EURUSD", 1.14491, 1.14493, 1e-5, 2)])
    # Assert
    assert log.resets == 0
    assert log.changed >= 3 and log.inserted == 1 and log.removed == 0
    model = watch.model
    assert [cell(model, r, 0) for r in range(3)] == ["EURUSD", "GBPUSD", "USDCHF"]
    assert cell(model, 0, 1) == "1.14491" and cell(model, 0, 4) == "14:30:07"
    assert cell(model, 1, 1) == "1.27490"  # quiet symbol keeps its last quote
    fg = Qt.ItemDataRole.ForegroundRole
    assert cell(model, 0, 1, role=fg) == TICK_UP  # unchanged price keeps its uptick colour
    assert cell(model, 1, 1, role=fg) == TICK_DOWN
    assert cell(model, 2, 1, role=fg) is None
    assert [watch.view.horizontalHeader().sectionSize(c) for c in range(5)] == widths


# --------------------------------------------------------------------------- Trade


def position(ticket: int, symbol: str, side: str, profit: float, basket: str = "C3-A",
             cluster: str | None = "C3", swap: float = -1.0, volume: float = 0.5,
             price: float = 1.1449) -> PositionView:
    return PositionView(ticket, symbol, side, volume, price, price + 0.0002, swap, profit,
                        3003, basket, cluster)


def trade_positions() -> list[PositionView]:
    return [
        position(BIG_TICKET, "EURUSD", "BUY", 12.5),
        position(BIG_TICKET + 1, "USDCHF", "SELL", -4.25, volume=0.3, price=0.98512),
        position(7, "AUDJPY", "BUY", 3.0, basket="C5-B", cluster="C5", swap=0.0, price=77.812),
    ]


def test_trade_tab_groups_positions_by_basket_with_totals(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    # Act
    tab.update_positions(trade_positions())
    # Assert
    model = tab.model
    assert model.rowCount() == 2
    group = model.index(0, 0)
    assert [cell(model, 0, c) for c in range(12)] == [
        "C3-A", "", "", "2 legs", "C3", "", "", "", "", "-2.00", "0.00", "8.25"]
    assert model.rowCount(group) == 2
    assert [cell(model, 0, c, group) for c in range(12)] == [
        str(BIG_TICKET), "", "buy", "0.50", "EURUSD", "1.14490", "", "", "1.14510", "-1.00",
        "0.00", "12.50"]
    fg = Qt.ItemDataRole.ForegroundRole
    assert cell(model, 1, 11, group, fg) == LOSS and cell(model, 0, 11, role=fg) == PROFIT
    jpy = model.index(1, 0)
    assert cell(model, 0, 5, jpy) == "77.812"
    assert tab.view.isExpanded(group) and tab.view.isExpanded(jpy)


def test_trade_tab_updates_in_place(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions(trade_positions())
    log = SignalLog(tab.model)
    first = trade_positions()[0]
    moved = PositionView(**{**first.__dict__, "profit": 20.0})
    # Act: one leg's profit moves, one leg closes, the C5 basket closes, a new basket opens
    tab.update_positions([moved, position(99, "GBPUSD", "SELL", 1.0, "C1-X", "C1")])
    # Assert
    assert log.resets == 0 and log.changed >= 1
    model = tab.model
    assert [cell(model, r, 0) for r in range(model.rowCount())] == ["C3-A", "C1-X"]
    group = model.index(0, 0)
    assert model.rowCount(group) == 1
    assert cell(model, 0, 11, group) == "20.00" and cell(model, 0, 11) == "20.00"
    assert tab.view.isExpanded(model.index(1, 0))


def select_ticket(tab: TradeTab, ticket: int) -> None:
    model = tab.model
    for g in range(model.rowCount()):
        group = model.index(g, 0)
        for r in range(model.rowCount(group)):
            index = model.index(r, 0, group)
            if model.position_at(index).ticket == ticket:
                tab.view.setCurrentIndex(index)
                return
    raise AssertionError(f"ticket {ticket} not listed")


@pytest.mark.parametrize("answer", [True, False])
def test_close_leg_emits_the_exact_64_bit_ticket_only_when_confirmed(qtbot, answer):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions(trade_positions())
    asked: list[tuple[str, str]] = []
    tab.confirm = lambda title, text: asked.append((title, text)) or answer
    emitted: list[object] = []
    tab.closeLegRequested.connect(emitted.append)
    select_ticket(tab, BIG_TICKET + 1)
    # Act
    tab.close_leg_button.click()
    # Assert
    assert len(asked) == 1 and str(BIG_TICKET + 1) in asked[0][1]
    assert emitted == ([BIG_TICKET + 1] if answer else [])
    if answer:
        assert type(emitted[0]) is int


@pytest.mark.parametrize("answer", [True, False])
def test_close_basket_and_flatten_all_ask_first(qtbot, answer):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions(trade_positions())
    tab.confirm = lambda title, text: answer
    baskets: list[str] = []
    flattened: list[bool] = []
    tab.closeBasketRequested.connect(baskets.append)
    tab.flattenAllRequested.connect(lambda: flattened.append(True))
    select_ticket(tab, 7)  # a leg selects its basket
    # Act
    tab.close_basket_button.click()
    tab.flatten_button.click()
    # Assert
    assert baskets == (["C5"] if answer else [])
    assert flattened == ([True] if answer else [])


def test_close_basket_is_not_offered_for_positions_the_engine_does_not_own(qtbot):
    # Arrange
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions([position(5, "EURUSD", "BUY", 1.0, basket="", cluster=None)])
    tab.confirm = lambda title, text: True
    tab.view.setCurrentIndex(tab.model.index(0, 0))
    # Act
    sent = tab.request_close_basket()
    # Assert
    assert not sent and not tab.close_basket_button.isEnabled()
    assert cell(tab.model, 0, 0) == "no basket"


# --------------------------------------------------------------------------- History

RUN = "run-1"


def record_basket(journal: SqliteJournal, basket_id: str, cluster: str, opened_hours: float,
                  held_hours: float, pnl: float, code: ExitCode) -> None:
    opened = T0 + timedelta(hours=opened_hours)
    journal.open_basket(BasketOpen(basket_id, RUN, cluster, Direction.LONG, opened, -1.5,
                                   300.0, (PlannedLeg("EURUSD", "BUY", 0.5, 57_000.0),), 3003))
    journal.close_basket(BasketClose(basket_id, opened + timedelta(hours=held_hours), -0.1,
                                     code, pnl, -2.0))


@pytest.fixture
def journal(tmp_path: Path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as opened:
        opened.start_run(RunStart(RUN, "replay", T0, "cfg", {}))
        record_basket(opened, "C3-1", "C3", 0, 4, 60.0, ExitCode.MR)
        record_basket(opened, "C3-2", "C3", 30, 2, -20.0, ExitCode.HS)
        record_basket(opened, "C5-1", "C5", 50, 6, 30.0, ExitCode.MR)
        record_basket(opened, "C5-2", "C5", 100, 10, -10.0, ExitCode.TO)
        yield opened


def listed(tab: HistoryTab) -> list[str]:
    return [cell(tab.model, r, 0) for r in range(tab.model.rowCount())]


def test_history_lists_closed_baskets_newest_first_with_metrics(qtbot, journal):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    # Act
    tab.set_journal_reader(journal)
    # Assert
    assert listed(tab) == ["C5-2", "C5-1", "C3-2", "C3-1"]
    assert [tab.cluster_combo.itemText(i) for i in range(tab.cluster_combo.count())] == [
        "All", "C3", "C5"]
    # 4 baskets, 2 wins, PF 90/30 = 3.00, net +60, holding (4+2+6+10)/4 = 5.5 h
    assert tab.summary.text() == ("Baskets: 4   Win rate: 50.0%   Profit factor: 3.00   "
                                  "Net P&L: +60.00   Avg holding: 5.5 h")


def test_history_filters_by_cluster_exit_code_and_dates(qtbot, journal):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.set_journal_reader(journal)
    # Act / Assert: each filter re-reads the journal
    tab.cluster_combo.setCurrentText("C5")
    assert listed(tab) == ["C5-2", "C5-1"]
    tab.exit_combo.setCurrentText("MR")
    assert listed(tab) == ["C5-1"]
    assert tab.summary.text().startswith("Baskets: 1   Win rate: 100.0%   Profit factor: ∞")
    tab.cluster_combo.setCurrentText("All")
    tab.exit_combo.setCurrentText("All")
    tab.from_date.setDate(QDate(2019, 2, 6))  # C3-2 closed 2019-02-05 22:30
    tab.to_date.setDate(QDate(2019, 2, 6))  # C5-1 closed 2019-02-06 22:30, C5-2 on the 8th
    assert listed(tab) == ["C5-1"]


def test_history_refresh_adds_a_newly_closed_basket_in_place(qtbot, journal):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.set_journal_reader(journal)
    log = SignalLog(tab.model)
    record_basket(journal, "C3-3", "C3", 200, 1, 5.0, ExitCode.TP)
    # Act
    tab.refresh()
    # Assert
    assert log.resets == 0 and log.inserted == 1
    assert listed(tab)[0] == "C3-3"


def test_history_hidden_behind_another_tab_re_reads_only_when_shown(qtbot, journal):
    # Arrange: the Toolbox shows the Trade tab; History is behind it
    toolbox = Toolbox(db_path=journal.path.parent / "calendar.sqlite")
    qtbot.addWidget(toolbox)
    toolbox.history.set_journal_reader(journal)
    toolbox.show()
    qtbot.waitExposed(toolbox)
    before = toolbox.history.refreshes
    # Act: three baskets close while History is hidden, then the trader opens it
    for k in range(3):
        record_basket(journal, f"C3-{3 + k}", "C3", 200 + k, 1, 5.0, ExitCode.TP)
        toolbox.history.refresh_when_shown()
    hidden = toolbox.history.refreshes - before
    toolbox.setCurrentWidget(toolbox.history)
    # Assert: no re-read while hidden, one when shown, with every new basket listed
    assert hidden == 0
    assert toolbox.history.refreshes - before == 1
    assert listed(toolbox.history)[:3] == ["C3-5", "C3-4", "C3-3"]
    # and in view, a closed basket is re-read at once
    toolbox.history.refresh_when_shown()
    assert toolbox.history.refreshes - before == 2


def test_history_exports_the_filtered_rows_to_csv(qtbot, journal, tmp_path):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.set_journal_reader(journal)
    tab.cluster_combo.setCurrentText("C3")
    target = tmp_path / "out" / "history.csv"
    target.parent.mkdir()
    tab.ask_save_path = lambda: target
    # Act
    count = tab.export_csv()
    # Assert
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert count == 2
    assert [r["basket_id"] for r in rows] == ["C3-1", "C3-2"]
    assert rows[0]["closed_at"] == "2019-02-04T18:30:05+00:00"
    assert float(rows[1]["pnl"]) == -20.0 and rows[1]["exit_code"] == "HS"
    assert float(rows[0]["holding_hours"]) == 4.0
    assert "Exported 2 baskets" in tab.status.text()
    assert list(target.parent.iterdir()) == [target]  # no partial file left behind


def test_history_export_failure_is_one_status_line(qtbot, journal, tmp_path):
    # Arrange
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.set_journal_reader(journal)
    tab.ask_save_path = lambda: tmp_path / "missing-dir" / "history.csv"
    # Act
    count = tab.export_csv()
    # Assert
    assert count is None
    assert tab.status.text().startswith("Export failed: ")
    assert "\n" not in tab.status.text()


def test_history_without_a_journal_shows_nothing(qtbot):
    tab = HistoryTab()
    qtbot.addWidget(tab)
    tab.refresh()
    assert tab.model.rowCount() == 0 and not tab.export_button.isEnabled()
    assert tab.summary.text().startswith("Baskets: 0   Win rate: —")


# --------------------------------------------------------------------------- Journal


def test_journal_keeps_the_last_5000_lines_and_colours_levels(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    # Act
    for i in range(5_003):
        level = ("INFO", "WARNING", "ERROR")[i % 3]
        tab.append_log(T0 + timedelta(seconds=i), level, f"line {i}")
    # Assert
    model = tab.log_model
    assert model.rowCount() == 5_000
    assert cell(model, 0, 2) == "line 3" and cell(model, 4_999, 2) == "line 5002"
    assert cell(model, 0, 0) == "2019-02-04 14:30:08"
    fg = Qt.ItemDataRole.ForegroundRole
    assert cell(model, 0, 2, role=fg) is None  # line 3 is INFO
    assert cell(model, 1, 1) == "WARNING" and cell(model, 1, 2, role=fg) == WARNING_TEXT
    assert cell(model, 2, 1) == "ERROR" and cell(model, 2, 2, role=fg) == ERROR_TEXT


def test_journal_audit_rows_fill_in_their_result_in_place(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    received = ManualCommand("c1", T0, "gui", "ClosePosition", {"ticket": BIG_TICKET})
    tab.set_audit([received])
    log = SignalLog(tab.audit_model)
    done = ManualCommand("c1", T0, "gui", "ClosePosition", {"ticket": BIG_TICKET}, "ok: closed")
    later = ManualCommand("c2", T0 + timedelta(minutes=1), "cli", "HaltCluster",
                          {"cluster": "C3"}, "failed: C3 unknown")
    # Act
    tab.set_audit([done, later])
    # Assert
    model = tab.audit_model
    assert log.resets == 0 and log.inserted == 1 and log.changed == 1
    assert [cell(model, 0, c) for c in range(5)] == [
        "2019-02-04 14:30:05", "gui", "ClosePosition", f"ticket={BIG_TICKET}", "ok: closed"]
    assert cell(model, 1, 4) == "failed: C3 unknown"


# --------------------------------------------------------------------------- Calendar

MONDAY = datetime(2023, 7, 10, tzinfo=UTC)


def event(hours: float, currency: str, impact: Impact, title: str) -> EconomicEvent:
    return EconomicEvent(MONDAY + timedelta(hours=hours), currency, impact, title,
                         forecast="0.3%", previous="0.2%")


def static_calendar() -> StaticCalendar:
    return StaticCalendar(
        events=[
            event(0, "JPY", Impact.HOLIDAY, "Bank Holiday"),
            event(8.5, "EUR", Impact.LOW, "German WPI m/m"),
            event(12.5, "USD", Impact.HIGH, "CPI m/m"),
            event(14, "USD", Impact.MEDIUM, "Crude Oil Inventories"),
            event(16, "ALL", Impact.MEDIUM, "OPEC Meeting"),
        ],
        coverage=[CoverageSpan(MONDAY - timedelta(days=1), MONDAY + timedelta(days=6))],
    )


def titles(tab: CalendarTab) -> list[str]:
    return [e.title for e in tab.visible_events()]


def test_calendar_filters_by_currency_and_minimum_impact(qtbot):
    # Arrange
    tab = CalendarTab()
    qtbot.addWidget(tab)
    tab.set_calendar(static_calendar(), MONDAY, MONDAY + timedelta(days=1))
    log = SignalLog(tab.events_model)
    # Act / Assert
    assert len(titles(tab)) == 5
    assert [tab.currency_combo.itemText(i) for i in range(tab.currency_combo.count())] == [
        "All", "EUR", "JPY", "USD"]
    tab.set_currency_filter("USD")
    assert titles(tab) == ["CPI m/m", "Crude Oil Inventories", "OPEC Meeting"]
    tab.set_min_impact(Impact.HIGH)
    assert titles(tab) == ["CPI m/m"]
    tab.set_currency_filter("All")
    tab.set_min_impact(Impact.LOW)
    assert titles(tab) == ["German WPI m/m", "CPI m/m", "Crude Oil Inventories", "OPEC Meeting"]
    assert log.resets == 0
    assert tab.count_label.text() == "4 of 5 events, covered to 2023-07-16 00:00"


def test_calendar_colours_impacts(qtbot):
    # Arrange
    tab = CalendarTab()
    qtbot.addWidget(tab)
    # Act
    tab.set_calendar(static_calendar(), MONDAY, MONDAY + timedelta(days=1))
    # Assert
    model = tab.events_model
    bg = Qt.ItemDataRole.BackgroundRole
    by_title = {cell(model, r, 3): r for r in range(model.rowCount())}
    assert cell(model, by_title["CPI m/m"], 2) == "High"
    assert cell(model, by_title["CPI m/m"], 2, role=bg) == IMPACT_COLOURS[Impact.HIGH]
    assert cell(model, by_title["OPEC Meeting"], 2, role=bg) == IMPACT_COLOURS[Impact.MEDIUM]
    assert cell(model, by_title["German WPI m/m"], 2, role=bg) == IMPACT_COLOURS[Impact.LOW]
    assert cell(model, by_title["Bank Holiday"], 2, role=bg) == IMPACT_COLOURS[Impact.HOLIDAY]
    assert cell(model, by_title["CPI m/m"], 3, role=bg) is None
    assert cell(model, by_title["CPI m/m"], 0) == "2023-07-10 Mon 12:30"


def test_calendar_lists_each_clusters_blackouts(qtbot):
    # Arrange
    tab = CalendarTab()
    qtbot.addWidget(tab)
    cpi = event(12.5, "USD", Impact.HIGH, "CPI m/m")
    opec = event(16, "ALL", Impact.MEDIUM, "OPEC Meeting")
    half_hour = timedelta(minutes=30)
    windows = {
        "C3": [(cpi.time - half_hour, cpi.time + half_hour, cpi),
               (opec.time - half_hour, opec.time + half_hour, opec)],
        "C1": [(opec.time - half_hour, opec.time + half_hour, opec)],
    }
    # Act
    tab.set_blackouts(windows)
    tab.select_cluster("C3")
    # Assert
    model = tab.blackout_model
    assert [tab.cluster_combo.itemText(i) for i in range(tab.cluster_combo.count())] == [
        "C1", "C3"]
    assert model.rowCount() == 2
    assert [cell(model, 0, c) for c in range(5)] == [
        "2023-07-10 12:00", "2023-07-10 13:00", "USD", "High", "CPI m/m"]
    tab.select_cluster("C1")
    assert model.rowCount() == 1 and cell(model, 0, 4) == "OPEC Meeting"


def test_calendar_imports_a_real_forexfactory_week(qtbot, test_data, tmp_path):
    # Arrange
    db = tmp_path / "calendar.sqlite"
    tab = CalendarTab(db)
    qtbot.addWidget(tab)
    week = test_data / "calendar" / "ff_calendar_thisweek_week-of-2023-07-09.xml"
    tab.ask_open_paths = lambda: [week]
    imported: list[object] = []
    tab.calendarImported.connect(imported.append)
    # Act
    with qtbot.waitSignal(tab.importFinished, timeout=20_000):
        assert tab.import_files()
    # Assert
    assert tab.status.text() == (f"Imported 92 events (92 new) from {week.name}, "
                                 "0 rows skipped")
    assert len(imported) == 1 and imported[0].path == db
    assert imported[0].event_count() == 92
    assert tab.events_model.rowCount() == 92  # the imported week is shown
    assert tab.import_button.isEnabled()
    imported[0].close()


def test_calendar_import_of_a_broken_file_is_one_line(qtbot, tmp_path):
    # Arrange
    broken = tmp_path / "broken.xml"
    broken.write_text("<weeklyevents><event><title>CPI", encoding="utf-8")
    tab = CalendarTab(tmp_path / "calendar.sqlite")
    qtbot.addWidget(tab)
    tab.ask_open_paths = lambda: [broken]
    imported: list[object] = []
    tab.calendarImported.connect(imported.append)
    # Act
    with qtbot.waitSignal(tab.importFinished, timeout=20_000) as finished:
        tab.import_files()
    # Assert
    message = finished.args[0]
    assert message.startswith("Import failed: ") and "broken.xml" in message
    assert "\n" not in message and "Traceback" not in message
    assert tab.status.text() == message
    assert imported == []


def test_calendar_import_cancelled_does_nothing(qtbot, tmp_path):
    tab = CalendarTab(tmp_path / "calendar.sqlite")
    qtbot.addWidget(tab)
    tab.ask_open_paths = list
    assert tab.import_files() is False
    assert not (tmp_path / "calendar.sqlite").exists()


# --------------------------------------------------------------------------- Toolbox


def test_toolbox_exposes_its_tabs_and_renders_each(qtbot, journal, tmp_path):
    # Arrange
    toolbox = Toolbox(db_path=tmp_path / "calendar.sqlite")
    qtbot.addWidget(toolbox)
    toolbox.resize(1600, 320)
    toolbox.trade.update_positions(trade_positions())
    toolbox.history.set_journal_reader(journal)
    toolbox.journal.append_log(T0, "INFO", "engine started")
    toolbox.calendar.set_calendar(static_calendar(), MONDAY, MONDAY + timedelta(days=1))
    toolbox.show()
    # Act
    shots = []
    for tab in (toolbox.trade, toolbox.history, toolbox.journal, toolbox.calendar):
        toolbox.setCurrentWidget(tab)
        shots.append(toolbox.grab())
    # Assert
    assert [toolbox.tabText(i) for i in range(toolbox.count())] == [
        "Trade", "History", "Journal", "Calendar", "Regimes", "Basis", "Deals",
        "Convertible", "Research"]
    assert all(not shot.isNull() and shot.width() == 1600 for shot in shots)


# --------------------------------------------------------------------------- table model


def test_keyed_model_removes_inserts_and_reorders_without_reset(qtbot):
    # Arrange
    from gui.toolbox.model import KeyedTableModel, Row

    model = KeyedTableModel(["Name", "Value"])
    model.set_rows([Row(k, (k, "1")) for k in "abcde"])
    log = SignalLog(model)
    moved: list[bool] = []
    model.layoutChanged.connect(lambda *_: moved.append(True))
    # Act: drop a, c and e (non-contiguous), insert x between d and the end, change b
    model.set_rows([Row("b", ("b", "2")), Row("d", ("d", "1")), Row("x", ("x", "1"))])
    after_diff = model.keys()
    model.set_rows([Row("x", ("x", "1")), Row("b", ("b", "2")), Row("d", ("d", "1"))])
    # Assert
    assert after_diff == ["b", "d", "x"] and model.keys() == ["x", "b", "d"]
    assert log.resets == 0 and log.changed == 1 and log.inserted == 1 and moved == [True]
    assert [cell(model, r, 1) for r in range(3)] == ["1", "2", "1"]
    with pytest.raises(ValueError, match="share a key"):
        model.set_rows([Row("a", ("a",)), Row("a", ("a",))])


def test_prices_without_broker_digits_follow_fx_convention():
    from gui.toolbox.format import digits_from_spread, price_digits

    assert [price_digits(s, p) for s, p in [("EURUSD", 1.1), ("EURJPY", 125.0),
                                             ("XAUUSD", 1282.0), ("USDMXN", 19.1)]] == [
        5, 3, 2, 5]
    assert price_digits("EURUSD", 1.1, {"EURUSD": 4}) == 4
    assert digits_from_spread(1.14488, 1.14490, 2.0) == 5
    assert digits_from_spread(1.1, 1.1, 0.0) is None


def test_flatten_all_counts_the_baskets_apart_from_the_positions_outside_them(qtbot):
    # Arrange: two baskets, and one position the engine does not own
    tab = TradeTab()
    qtbot.addWidget(tab)
    tab.update_positions([*trade_positions(),
                          position(5, "EURUSD", "BUY", 1.0, basket="", cluster=None)])
    asked: list[str] = []
    tab.confirm = lambda title, text: asked.append(text) or False

    # Act
    tab.request_flatten_all()

    # Assert: "no basket" is not a basket
    assert asked == ["Close ALL 4 open positions: 2 basket(s) and 1 outside any basket "
                     "(profit 12.25)?"]
