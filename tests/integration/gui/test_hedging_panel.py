"""The Toolbox's Convertible tab on real widgets: an EXTERNAL bond hedged by a real engine on
the KO daily closes of ``tests/data`` (the bond is invented), its figures, its chart and the
commands its buttons send."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

pytest.importorskip("pytestqt")

from app.console import open_console
from engine import commands as cmd
from engine.config import load_engine_config
from engine.loop import run_sync
from gui.main_window import MainWindow
from gui.plain_text import plain_tip
from gui.toolbox import Toolbox
from gui.toolbox.convertible import EMPTY_TEXT, HEDGE_ROWS, ConvertibleTab, figure_texts
from gui.toolbox.convertible_form import ExternalBondDialog

KO = TEST_DATA / "equity_daily" / "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"
CONFIG = """
[[cluster]]
name = "KO_PEP"
kind = "pair"
symbols = ["KO", "PEP"]
magic = 730001
timeframe = "D1"

[risk]
max_lots_per_leg = 5000
"""
BOND = cmd.OpenExternalBond(symbol="KO", bonds=10, entry_price=1080.0, maturity_years=5.0,
                            ratio=20.0, coupon=0.015, volatility=0.22, rate=0.01,
                            dividend_yield=0.03, credit_spread=0.01, band=0.02, source="test")


def console(tmp_path: Path):
    path = tmp_path / "ko.toml"
    path.write_text(CONFIG)
    return open_console(load_engine_config(path), replay=[KO], speed=math.inf,
                        journal=tmp_path / "journal.sqlite")


@pytest.fixture(scope="module")
def hedged_views(tmp_path_factory):
    """The bond's views after 40 days of hedging (one engine run for the module)."""
    tmp = tmp_path_factory.mktemp("hedged")
    run = console(tmp)
    engine = run.session.engine
    engine.start()
    engine.submit(BOND)
    run_sync(engine, engine.now_msc + 40 * 86_400_000)
    engine.submit(cmd.SetHedge(bond_id="CB1-KO", market_price=1090.0, source="test"))
    run_sync(engine, engine.now_msc + 60_000)
    views = engine.hedging.views()
    engine.stop("test")
    run.session.close()
    return views


def test_the_tab_shows_the_bond_marked_external_and_its_figures_recompute(qtbot,
                                                                         hedged_views):
    # Arrange
    tab = ConvertibleTab()
    qtbot.addWidget(tab)
    [view] = hedged_views
    # Act
    tab.update_views(hedged_views)
    # Assert
    assert tab.empty.isHidden() and not tab.details.isHidden()
    assert "CB1-KO</b> EXTERNAL" in tab.bond_line.text()
    assert "10 bonds x 20 = 200 KO shares" in tab.bond_line.text()
    texts = {key: label.text() for key, label in tab.values.items()}
    assert texts["target"] == f"{-10 * view.delta:,.1f} sh"  # -(bonds x delta)
    assert texts["parity"] == f"{20 * view.spot:,.2f}"       # ratio x spot
    assert texts["band"] == "+-4.0 sh (2.0%)"
    assert texts["held"] == f"{view.held:+,.0f} sh"
    assert texts["implied"] == f"{view.implied_vol:.2%} at 1,090.00 " \
                               f"({view.implied_at:%Y-%m-%d})"
    assert math.isfinite(view.implied_vol)
    parts = [float(texts[f"pnl_{name}"].replace(",", "")) for name, _ in view.split]
    assert sum(parts) == pytest.approx(float(texts["pnl_total"].replace(",", "")), abs=0.011)
    assert tab.values["pnl_gamma_trading"].toolTip().startswith("bonds x (bond repriced")


def test_the_chart_draws_the_delta_the_hedge_and_the_band(qtbot, hedged_views):
    tab = ConvertibleTab()
    qtbot.addWidget(tab)
    [view] = hedged_views

    tab.update_views(hedged_views)

    x, delta = tab.chart.delta_curve.getData()
    _, upper = tab.chart.upper.getData()
    _, held = tab.chart.held_curve.getData()
    assert len(x) == len(view.history) > 20
    assert delta[-1] == pytest.approx(10 * view.delta)
    assert upper[-1] == pytest.approx(10 * view.delta + 4.0)
    assert held[-1] == -view.held


def test_the_buttons_send_the_commands(qtbot, hedged_views):
    # Arrange
    tab = ConvertibleTab()
    qtbot.addWidget(tab)
    tab.update_views(hedged_views)
    sent: list[cmd.Command] = []
    tab.command.connect(sent.append)
    # Act
    tab.pause_button.click()
    tab.set_market_price(1100.0)
    tab.close_bond(1111.5)
    # Assert
    assert [type(c).__name__ for c in sent] == ["SetHedge", "SetHedge", "CloseExternalBond"]
    assert sent[0].paused is True and sent[0].bond_id == "CB1-KO"
    assert sent[1].market_price == 1100.0
    assert (sent[2].bond_id, sent[2].price, sent[2].source) == ("CB1-KO", 1111.5, "gui")


def test_the_form_sends_rates_as_fractions(qtbot):
    dialog = ExternalBondDialog(["KO", "PEP"])
    qtbot.addWidget(dialog)
    dialog.set_value("coupon", 1.5)
    dialog.set_value("volatility", 22.0)
    dialog.set_value("band", 2.0)
    dialog.european.setChecked(True)

    command = dialog.command()

    assert (command.symbol, command.coupon, command.volatility, command.band) == \
        ("KO", 0.015, 0.22, 0.02)
    assert command.european and command.frequency == 2 and command.source == "gui"


def test_the_form_sends_call_and_put_dates_and_keeps_a_schedule_it_cannot_read(qtbot):
    # Arrange
    dialog = ExternalBondDialog(["KO", "PEP"])
    qtbot.addWidget(dialog)
    dialog.schedules["calls"].setText("2:1050, 3:1025")
    dialog.schedules["puts"].setText("3:950")

    # Act
    command = dialog.command()
    dialog.schedules["calls"].setText("2 at 1050")
    dialog.show()
    dialog.accept()

    # Assert: the pairs as (years, price); an unreadable entry keeps the form open, said
    assert command.calls == ((2.0, 1050.0), (3.0, 1025.0))
    assert command.puts == ((3.0, 950.0),)
    assert dialog.isVisible() and dialog.result() == 0
    assert "Calls: '2 at 1050' is not years:price" in dialog.problem.text()


def test_the_bond_line_names_its_call_and_put_dates(qtbot, hedged_views):
    # Arrange: the hedged bond as if entered with a call and a put
    from dataclasses import replace
    from datetime import UTC, datetime

    [view] = hedged_views
    dated = replace(view, calls=((datetime(2022, 10, 14, tzinfo=UTC), 1050.0),),
                    puts=((datetime(2023, 10, 14, tzinfo=UTC), 950.0),))
    tab = ConvertibleTab()
    qtbot.addWidget(tab)

    # Act
    tab.update_views([dated])

    # Assert: the position and terms on the first line, the dates and the pricer's inputs
    # on the second
    first, second = tab.bond_line.text().split("<br>")
    assert first.endswith("y)") and "calls" not in first
    assert second.startswith("calls 2022-10-14 at 1,050 · puts 2023-10-14 at 950 · vol ")


def test_without_dates_the_second_line_is_the_pricers_inputs(qtbot, hedged_views):
    tab = ConvertibleTab()
    qtbot.addWidget(tab)

    tab.update_views(hedged_views)

    assert tab.bond_line.text().split("<br>")[1].startswith("vol 22.0%, rate ")


def test_without_a_bond_the_tab_says_how_to_enter_one(qtbot):
    tab = ConvertibleTab()
    qtbot.addWidget(tab)

    tab.update_views(())

    assert not tab.empty.isHidden() and tab.empty.text() == EMPTY_TEXT
    assert not tab.close_button.isEnabled() and tab.enter_button.isEnabled()


def test_a_long_status_is_cut_and_whole_in_its_tooltip(qtbot, hedged_views):
    import dataclasses
    [view] = hedged_views
    long = dataclasses.replace(view, status="not traded: account CLOSE_ONLY: the hedge is "
                                            "not increased")
    tab = ConvertibleTab()
    qtbot.addWidget(tab)

    tab.update_views([long])

    assert figure_texts(long)["status"].endswith("…")
    assert tab.values["status"].toolTip() == plain_tip(f"{HEDGE_ROWS[-1][2]}: {long.status}")


def test_the_window_has_the_tab_sends_its_commands_and_feeds_it(qtbot, tmp_path,
                                                                 hedged_views):
    # Arrange: the console on the KO replay, not started
    run = console(tmp_path)
    window = MainWindow(run.session, run.pacer, speed=math.inf)
    qtbot.addWidget(window)
    tab = window.toolbox.convertible
    # Act
    tab.enter(BOND)
    waiting = window.engine.manual.waiting()
    snap = window.engine.snapshot(refresh=True)
    window.on_snapshot(snap.__class__(**{**snap.__dict__, "externals": hedged_views}))
    # Assert
    assert isinstance(window.toolbox, Toolbox)
    assert window.toolbox.tabText(window.toolbox.indexOf(tab)) == "Convertible"
    assert waiting
    assert tab.selector.currentData() == "CB1-KO" and not tab.details.isHidden()
    assert tab._symbols[0] == "KO"
    window.shutdown()


def test_the_engines_answer_to_the_tabs_commands_is_one_line_in_the_tab(qtbot):
    tab = ConvertibleTab()
    qtbot.addWidget(tab)

    tab.on_command_done("OpenExternalBond", False, "rejected: 'no symbol named \\'XYZ\\''")
    refused = tab.answer.text()
    tab.on_command_done("PlaceOrder", True, "order placed")  # not this tab's

    assert refused.startswith("OpenExternalBond refused: rejected:")
    assert tab.answer.text() == refused and "\n" not in refused
