"""The Toolbox's Deals tab and the Add deal dialog: hand-built views on real widgets, then the
console itself on a replay of the synthetic deal (real window, engine on its thread)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime

import numpy as np
import pytest
from helpers.deal_series import (
    ACQUIRER,
    TARGET,
    deal_closes,
    deal_toml,
    trading_days,
    write_deal_file,
)

pytest.importorskip("pytestqt")

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialogButtonBox

from app.console import open_console
from engine import commands as cmd
from engine.config import load_engine_config
from engine.events import BasketOpened
from engine.kinds.deal_params import DIAGNOSTICS, DealParams
from engine.snapshot import ClusterView, EngineSnapshot
from gui.dialogs.deal_entry import DealDialog
from gui.kind_columns import score_text
from gui.main_window import MainWindow
from gui.toolbox import Toolbox
from gui.toolbox.deals import EMPTY_TEXT, HEADERS, POSITION, STATUS, DealsTab
from gui.toolbox.format import LOSS, PROFIT
from gui.waiting import waiting_text

PARAMS = DealParams(terms="stock", ratio=0.5, break_price=24.0, announced="2020-06-29",
                    expected_close="2020-11-18")
FIGURES = (26.234, 28.38, 2.146, 8.1803, 22.13, 14.93, 7.2, 0.5099, 135.0, 56.76)


def view(name: str = "SYN_DEAL", *, regime: str = "open", direction: str | None = "LONG",
         pnl: float = 12.5, lock: str = "") -> ClusterView:
    return ClusterView(name, (TARGET, ACQUIRER), -14.93, math.nan, 10.0, 2.0, "ACTIVE", "",
                       "B-1" if direction else None, direction, pnl, None, kind="deal",
                       diagnostics=tuple(zip(DIAGNOSTICS, FIGURES, strict=True)),
                       signal_lock=lock, regime=regime)


def history(_name: str):
    """Five daily bars: announcement day on, the spread shrinking and p rising."""
    times = np.array([1593378000, 1593464400, 1593550800, 1593637200, 1593982800]) * 1000
    target = np.array([26.0, 26.2, 26.4, 26.6, 26.8])
    acquirer = np.full(5, 56.0)
    return times, -np.ones(5), {TARGET: target, ACQUIRER: acquirer}


def test_each_deal_shows_its_terms_figures_status_and_position(qtbot) -> None:
    # Arrange
    tab = DealsTab()
    qtbot.addWidget(tab)
    tab.set_params({"SYN_DEAL": PARAMS})
    # Act
    tab.update_views([view(), view("OTHER", regime="broken", direction=None),
                      ClusterView("FX", ("EURUSD", "GBPUSD", "USDJPY"), 0.3, 1.5, 1.2, 0.25,
                                  "ACTIVE", "", None, None, 0.0, None)])
    # Assert
    assert tab.row_texts() == [
        ("SYN_DEAL", "PFE / MRK", "0.5 x MRK; break 24", "26.23", "28.38", "+2.15",
         "+8.18%", "+14.93", "0.510", "135", "open", "LONG +12.50"),
        ("OTHER", "PFE / MRK", "—", "26.23", "28.38", "+2.15", "+8.18%", "+14.93", "0.510",
         "135", "broken", "—"),
    ]
    model = tab.model
    assert model.data(model.index(0, POSITION), Qt.ItemDataRole.ForegroundRole) == PROFIT
    assert model.data(model.index(1, STATUS), Qt.ItemDataRole.ForegroundRole) == LOSS


def test_a_lock_shows_in_the_status_and_an_empty_configuration_says_so(qtbot) -> None:
    tab = DealsTab()
    qtbot.addWidget(tab)
    tab.update_views([])
    assert tab.title.text() == EMPTY_TEXT
    tab.update_views([view(lock="WIDE_SPREAD: 120 % a year net")])
    assert tab.row_texts()[0][STATUS] == "open (WIDE_SPREAD)"


def test_the_chart_draws_the_spread_and_p_of_the_selected_deal(qtbot) -> None:
    # Arrange
    tab = DealsTab()
    qtbot.addWidget(tab)
    tab.set_params({"SYN_DEAL": PARAMS})
    tab.set_history_source(history)
    tab.show()
    # Act
    tab.update_views([view()])
    # Assert: recomputed from the closes: spread % and p of each bar
    x, spread, p = tab.chart_data()
    assert list(x) == [1593378000, 1593464400, 1593550800, 1593637200, 1593982800]
    np.testing.assert_allclose(spread, (28.0 - np.array([26.0, 26.2, 26.4, 26.6, 26.8]))
                               / np.array([26.0, 26.2, 26.4, 26.6, 26.8]) * 100)
    np.testing.assert_allclose(p, (np.array([26.0, 26.2, 26.4, 26.6, 26.8]) - 24) / 4)


def test_the_event_buttons_report_the_selected_deal(qtbot) -> None:
    tab = DealsTab()
    qtbot.addWidget(tab)
    asked: list[tuple[str, str]] = []
    tab.dealEventRequested.connect(lambda name, what: asked.append((name, what)))
    tab.update_views([view(), view("DONE", regime="completed", direction=None)])
    tab.broken_button.click()
    tab.view.selectRow(1)
    assert not tab.completed_button.isEnabled()  # a completed deal has no event left
    assert asked == [("SYN_DEAL", "broken")]


def test_buy_deal_asks_for_the_selected_open_deal_without_a_basket(qtbot) -> None:
    tab = DealsTab()
    qtbot.addWidget(tab)
    asked: list[str] = []
    tab.buyRequested.connect(asked.append)
    tab.update_views([view(direction=None)])
    tab.buy_button.click()
    tab.update_views([view()])  # now held: nothing more to buy
    assert asked == ["SYN_DEAL"] and not tab.buy_button.isEnabled()


def test_the_dialog_checks_the_deal_and_builds_the_command(qtbot) -> None:
    # Arrange
    dialog = DealDialog(["KO", "PEP", "PFE"], ["M30", "D1"], 740002, date(2021, 3, 1))
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and "name" in dialog.error.text()
    # Act
    dialog.name.setText("KO_DEAL")
    dialog.terms.setCurrentText("stock")
    dialog.acquirer.setCurrentText("PEP")
    dialog.ratio.setValue(0.42)
    assert not ok.isEnabled() and dialog.error.text().startswith("break_price")
    dialog.break_price.setValue(42.0)
    dialog.expected_close.setDate(QDate(2021, 9, 30))
    # Assert
    assert ok.isEnabled() and dialog.error.text() == ""
    assert dialog.timeframe.currentText() == "D1"
    command = dialog.command()
    assert (command.cluster, command.symbols, command.magic) == ("KO_DEAL", ("KO", "PEP"),
                                                                  740002)
    assert command.deal == {"terms": "stock", "ratio": 0.42, "break_price": 42.0,
                            "announced": "2021-03-01", "expected_close": "2021-09-30",
                            "financing": "swap", "long_rate": 4.5, "short_rate": 2.5}


def test_the_toolbox_has_the_tab(qtbot) -> None:
    toolbox = Toolbox()
    qtbot.addWidget(toolbox)
    assert toolbox.tabText(toolbox.indexOf(toolbox.deals)) == "Deals"
    assert toolbox.deals.title.text() == EMPTY_TEXT


def test_the_console_shows_the_deal_and_sends_the_dialog_and_events(qtbot, tmp_path):
    # Arrange: a replay of the synthetic deal, paused once the basket is open
    days = trading_days()
    data = write_deal_file(tmp_path / "deal.csv.gz", deal_closes(
        days, announce=20, close=120, end="complete", end_day=118))
    config = tmp_path / "deal.toml"
    config.write_text(deal_toml(days, announce=20, close=120))
    run = open_console(load_engine_config(config), replay=[data], speed=math.inf,
                       journal=tmp_path / "journal.sqlite")
    # the replay holds once the basket is open (on the engine's thread, as it opens): at max
    # speed the whole deal can otherwise open and close between two refreshes of the tab
    run.session.engine.subscribe(
        lambda event: run.pacer.pause() if isinstance(event, BasketOpened) else None)
    w = MainWindow(run.session, run.pacer, speed=run.speed, end_msc=run.end_msc)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    sent: list[cmd.Command] = []
    w.submit = sent.append
    w.confirm = lambda title, text: True
    w.start()
    tab = w.toolbox.deals
    w.toolbox.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: any(r[POSITION].startswith("LONG") for r in tab.row_texts()),
                    timeout=60_000)
    # Act: report the deal's completion, then add a deal through the dialog
    tab.view.selectRow(0)
    tab.completed_button.click()
    tab.add_button.click()  # the dialog runs modal: filled in by the fixture below
    # Assert
    assert isinstance(sent[0], cmd.DealEvent)
    assert (sent[0].cluster, sent[0].event) == ("SYN_DEAL", "completed")
    assert isinstance(sent[1], cmd.AddDeal) and sent[1].cluster == "PFE_CASH"
    assert tab.chart_data()[0].size > 0  # the chart follows the selected deal


@pytest.fixture(autouse=True)
def _close_dialogs(monkeypatch):
    """The Add deal dialog runs modal: accept it filled in, as a trader would."""
    def exec_filled(self) -> int:
        self.name.setText("PFE_CASH")
        self.terms.setCurrentText("cash")
        self.cash.setValue(28.0)
        self.break_price.setValue(24.0)
        return 1 if self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled() else 0
    monkeypatch.setattr(DealDialog, "exec", exec_filled)


def test_the_console_dialog_submits_add_deal(qtbot, tmp_path):
    days = trading_days()
    data = write_deal_file(tmp_path / "deal.csv.gz", deal_closes(
        days, announce=20, close=120, end="complete", end_day=118))
    config = tmp_path / "deal.toml"
    config.write_text(deal_toml(days, announce=20, close=120))
    run = open_console(load_engine_config(config), replay=[data], speed=math.inf,
                       journal=tmp_path / "journal.sqlite")
    w = MainWindow(run.session, run.pacer, speed=run.speed, end_msc=run.end_msc)
    qtbot.addWidget(w)
    sent: list[cmd.Command] = []
    w.submit = sent.append
    w.toolbox.deals.add_button.click()
    assert len(sent) == 1 and isinstance(sent[0], cmd.AddDeal)
    add = sent[0]
    assert (add.cluster, add.symbols, add.magic) == ("PFE_CASH", (TARGET,), 740002)
    assert add.deal["terms"] == "cash" and add.deal["cash"] == 28.0
    today = datetime.fromtimestamp(run.session.engine.now_msc / 1000, UTC).date()
    assert add.deal["announced"] == today.isoformat()


def test_past_its_expected_close_a_deal_has_no_annualised_return_and_no_warm_up(qtbot):
    # Arrange: the close date 90 days behind the bar, the model's lock saying so
    late = tuple((name, -90.0 if name == "days" else value)
                 for name, value in zip(DIAGNOSTICS, FIGURES, strict=True))
    done = dataclasses.replace(view(direction=None, lock="PAST_CLOSE: 90 days after"),
                               diagnostics=late, tdi=math.nan)
    tab = DealsTab()
    qtbot.addWidget(tab)

    # Act
    tab.update_views([done])

    # Assert: not an annualised figure over one day, and the Score column names the lock
    (row,) = tab.row_texts()
    assert row[HEADERS.index("Net %/yr")] == "past close" and row[HEADERS.index("Days")] == "-90"
    assert score_text(done) == "PAST_CLOSE"
    assert waiting_text(EngineSnapshot(datetime(2021, 12, 30, tzinfo=UTC), (done,), "ACTIVE",
                                       "", 1e5, 1e5, 0.0, 0.0, 0.0, True, "OK"),
                        bars=lambda _name: (267, 1)).find("warming up") == -1
