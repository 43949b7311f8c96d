"""Risk state you cannot miss, controls you cannot fumble: the account banner, alerts, the
Clusters table's effective states and actions, Algo Trading, Re-arm, Flatten all and the
manual-basket preview, on real widgets and (for the flows) a real demo engine."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from engine.events import CommandDone, LogLine, NewsBlackout
from engine.preview import BasketPreview, PreviewLeg
from engine.runner import ClusterView, EngineSnapshot
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from gui.alerts import AlertCenter
from gui.clusters_panel import COLUMNS, ClustersPanel, applicable
from gui.dialogs.basket_preview import BasketPreviewDialog, legs_text
from gui.dialogs.confirmations import flatten_text, question_box, rearm_text
from gui.dialogs.thresholds import ThresholdsDialog
from gui.main_window import MainWindow
from gui.plain_text import plain_tip
from gui.risk_banner import banner_lines
from gui.toolbox.trade import PROFIT, VOLUME

WAIT_MS = 60_000
T0 = datetime(2024, 1, 9, 14, 30, tzinfo=UTC)
DISPLAY, TIP = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole


def cluster(name: str = "USD_MAJORS", *, state: str = "ACTIVE", reason: str = "",
            own: str = "ACTIVE", basket: str | None = None, tdi: float = -0.8,
            blackout: datetime | None = None) -> ClusterView:
    return ClusterView(name, ("EURUSD", "GBPUSD"), tdi, 2.0, 1.2, 0.25, state, reason, basket,
                       "LONG" if basket else None, -106.03 if basket else 0.0, blackout,
                       own_state=own, own_reason="PauseCluster by gui" if own != "ACTIVE"
                       else "", profit=-98.31, paid=-3.86, to_close=-3.86)


def snapshot(state: str = "ACTIVE", reason: str = "", *, connected: bool = True,
             clusters: tuple[ClusterView, ...] = (), **fields) -> EngineSnapshot:
    base = EngineSnapshot(T0, clusters, state, reason, 100_000.0, 91_000.0, 0.0, 0.0, 0.0,
                          connected, "FRESH", max_drawdown=0.08, peak_equity=99_000.0)
    return dataclasses.replace(base, **fields)


# ----------------------------------------------------------------- banner


def test_the_banner_says_halted_with_reason_and_since_when():
    snap = snapshot("HALTED", "MAX_DRAWDOWN: equity 91,000.00 is 8.08% below the peak",
                    account_since=T0 - timedelta(hours=2, minutes=5), rearmable=True)
    text = banner_lines(snap, {})
    assert text.state == "HALTED"
    assert text.headline == "ACCOUNT HALTED \u2014 MAX_DRAWDOWN"
    assert "since 2024-01-09 12:25 UTC (market time), 2h 05m ago" in text.detail
    assert "re-arm" in text.detail


def test_the_banner_lists_what_else_restricts_trading():
    until = T0 + timedelta(minutes=10)
    nfp = NewsBlackout(T0, "USD_MAJORS", until, "Non-Farm Employment Change", "USD")
    snap = snapshot("CLOSE_ONLY", "DISCONNECTED: terminal disconnected", connected=False,
                    automation=False, calendar_state="STALE",
                    clusters=(cluster(blackout=until), cluster("GOLD_HAVENS")))
    notes = banner_lines(snap, {"USD_MAJORS": nfp}).notes
    assert notes == (
        "Algo Trading OFF: no automatic entries (exits and stops still run)",
        "DISCONNECTED from the terminal",
        "News calendar STALE: import a current one (Calendar tab)",
        "News blackout: USD Non-Farm Employment Change until 14:40 UTC (USD_MAJORS)")


# ----------------------------------------------------------------- alerts


@pytest.fixture
def alerts(qtbot, tmp_path):
    beeps: list[int] = []
    notices: list[str] = []
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    center = AlertCenter(settings, notices.append, beep=lambda: beeps.append(1))
    center.beeps, center.notices = beeps, notices  # type: ignore[attr-defined]
    return center


def test_a_worsening_raises_exactly_one_alert_and_an_improvement_none(alerts):
    alerts.on_snapshot(snapshot())
    alerts.on_snapshot(snapshot("CLOSE_ONLY", "ACCOUNT_DAILY_LOSS: x"))
    alerts.on_snapshot(snapshot("CLOSE_ONLY", "ACCOUNT_DAILY_LOSS: x"))  # unchanged
    assert alerts.raised == ["Account CLOSE_ONLY: ACCOUNT_DAILY_LOSS: x"]
    alerts.on_snapshot(snapshot("HALTED", "MAX_DRAWDOWN: y"))
    alerts.on_snapshot(snapshot("ACTIVE"))  # re-armed: better, silent
    alerts.on_snapshot(snapshot("CLOSE_ONLY", "DISCONNECTED: z", connected=False))
    alerts.on_snapshot(snapshot("ACTIVE"))  # reconnected: silent
    assert alerts.raised == ["Account CLOSE_ONLY: ACCOUNT_DAILY_LOSS: x",
                             "Account HALTED: MAX_DRAWDOWN: y",
                             "Terminal DISCONNECTED: no new entries"]
    assert len(alerts.beeps) == 3
    assert len(alerts.notices) == 3  # no system tray offscreen: the window's notice


def test_a_rejected_order_alerts_and_other_failures_do_not(alerts):
    alerts.on_events([
        CommandDone(T0, "a", "OpenBasket", False, "refused (see the journal)"),
        CommandDone(T0, "b", "PauseCluster", False, "no cluster named 'X'"),
        CommandDone(T0, "c", "CloseBasket", True, "closed"),
        LogLine(T0, "ERROR", "execution: B1: leg EURUSD not filled (REJECTED)"),
        LogLine(T0, "WARNING", "account HALTED"),
    ])
    assert alerts.raised == ["OpenBasket rejected: refused (see the journal)",
                             "Order rejected: B1: leg EURUSD not filled (REJECTED)"]


class _RecordingTray(QSystemTrayIcon):
    """A real tray icon that keeps what it was asked to show (no tray runs offscreen)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, str]] = []

    def showMessage(self, title, text, *args) -> None:
        self.messages.append((title, text))


def test_the_tray_message_of_an_alert_carries_no_markup(alerts, monkeypatch):
    # Arrange: a tray exists; the lock reason quotes a calendar title made of markup
    tray = _RecordingTray()
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(alerts, "_tray_icon", lambda: tray)
    title = "NFP<br><b>ALL CLEAR</b><img src='/tmp/x.png'> & more"

    # Act
    alerts.on_snapshot(snapshot("CLOSE_ONLY", f"NEWS: USD '{title}'"))

    # Assert: the same words, no tag and no entity for any notification server to render
    (shown_title, text), = tray.messages
    assert shown_title == "FX Cluster Console"
    assert text == ("Account CLOSE_ONLY: NEWS: USD 'NFP\u2039br\u203a\u2039b\u203aALL CLEAR"
                    "\u2039/b\u203a\u2039img src='/tmp/x.png'\u203a \uff06 more'")
    assert not set("<>&") & set(text)
    assert alerts.raised == [f"Account CLOSE_ONLY: NEWS: USD '{title}'"]  # the record: as is
    assert alerts.notices == []


def test_alerts_switched_off_stay_silent_and_the_choice_is_kept(alerts, tmp_path):
    alerts.action.setChecked(False)
    alerts.on_snapshot(snapshot("HALTED", "MAX_DRAWDOWN: y"))
    assert alerts.beeps == [] and alerts.notices == []
    again = AlertCenter(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
                        lambda _t: None)
    assert not again.enabled


# ----------------------------------------------------------------- clusters table


def test_clusters_read_the_effective_state_with_their_own_setting_in_the_tooltip(qtbot):
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    halted = cluster(state="HALTED", reason="account HALTED: MAX_DRAWDOWN: equity ...",
                     own="CLOSE_ONLY")
    panel.update_clusters((halted,))
    model = panel.model
    assert model.data(model.index(0, 3), DISPLAY) == "HALTED"
    tip = model.data(model.index(0, 3), TIP)
    assert "account HALTED: MAX_DRAWDOWN" in tip
    assert "cluster's own setting: CLOSE_ONLY (PauseCluster by gui)" in tip


@pytest.mark.parametrize(("view", "expected"), [
    (cluster(), {"pause", "halt", "long", "short", "thresholds"}),
    (cluster(basket="B1"), {"pause", "halt", "close", "thresholds"}),
    (cluster(state="CLOSE_ONLY", own="CLOSE_ONLY"), {"halt", "resume", "thresholds"}),
    (cluster(state="HALTED", own="HALTED", basket="B1"), {"resume", "close", "thresholds"}),
    (cluster(state="HALTED", reason="account HALTED: MAX_DRAWDOWN"),
     {"pause", "halt", "thresholds"}),
    (cluster(tdi=math.nan), {"pause", "halt", "thresholds"}),
    # a regime that only watches (action = "lock") opens no basket
    (dataclasses.replace(cluster(), trades=False), {"pause", "halt", "thresholds"}),
])
def test_only_the_actions_that_apply_are_enabled(qtbot, view, expected):
    assert applicable(view) == expected
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    panel.update_clusters((view,))
    assert {k for k, a in panel.actions.items() if a.isEnabled()} == expected
    assert "blocks new baskets" in panel.actions["pause"].toolTip()
    assert "blocks new baskets" in panel.actions["halt"].toolTip()


def test_the_pnl_column_has_one_labelled_definition_that_adds_up(qtbot):
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    panel.update_clusters((cluster(basket="B1"),))
    model = panel.model
    column = COLUMNS.index("P&L (net)")
    assert "commission" in model.headerData(column, Qt.Orientation.Horizontal, TIP)
    assert model.data(model.index(0, column), DISPLAY) == "-106.03"
    assert model.data(model.index(0, column), TIP) == plain_tip(
        "P&L (net) -106.03 = Profit -98.31 + swap and commission paid -3.86 + commission to "
        "close -3.86")


def test_the_edit_dialog_names_the_cluster(qtbot):
    dialog = ThresholdsDialog("GOLD_HAVENS", 1.5, 0.25, 3.0)
    qtbot.addWidget(dialog)
    assert "GOLD_HAVENS" in dialog.windowTitle()
    dialog.exit_band.setValue(2.0)  # X above E: OK is disabled
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_questions_default_to_no_and_state_the_figures(qtbot):
    box = question_box(None, "Flatten all", "text")
    qtbot.addWidget(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    snap = snapshot("HALTED", "MAX_DRAWDOWN: y", clusters=(cluster(basket="B1"),))
    assert "Close 1 basket(s) and every open position (0) at market?" in flatten_text(snap)
    assert "USD_MAJORS LONG: P&L (net) -106.03" in flatten_text(snap)
    text = rearm_text(snap)
    assert "restarts the drawdown reference at the current equity, 91,000.00" in text
    assert "stop will then be at 83,720.00: a further loss of 7,280.00" in text


# ----------------------------------------------------------------- the flows, on a demo


def demo(qtbot, tmp_path, **risk) -> MainWindow:
    session = demo_session(config(risk=risk or None), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    window = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.clusters.model.rowCount() == 2, timeout=WAIT_MS)
    return window


def audit(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        return db.execute("select command, result from manual_commands").fetchall()


def test_a_drawdown_halt_shows_everywhere_and_only_rearm_clears_it(qtbot, tmp_path):
    w = demo(qtbot, tmp_path, max_drawdown=0.0005)
    try:
        qtbot.waitUntil(lambda: w.risk.banner.text.state == "HALTED", timeout=WAIT_MS)
        w.pacer.pause()
        # the banner, every cluster, the Re-arm action, one alert
        assert w.risk.banner.state_label.text() == "ACCOUNT HALTED \u2014 MAX_DRAWDOWN"
        assert w.risk.banner_bar.isVisible()  # a toolbar row the trader cannot hide
        assert not w.risk.banner_bar.toggleViewAction().isVisible()
        assert not w.risk.banner_bar.isMovable()
        qtbot.waitUntil(lambda: {w.clusters.model.view(i).state for i in range(2)}
                        == {"HALTED"}, timeout=WAIT_MS)
        assert w.risk.rearm_action.isEnabled()
        qtbot.waitUntil(lambda: not w.risk.flatten.isEnabled(), timeout=WAIT_MS)  # flat
        assert sum("HALTED" in a for a in w.risk.alerts.raised) == 1
        # Algo Trading off and on again: automation only, still halted
        w.algo.trigger()
        w.algo.trigger()
        qtbot.waitUntil(lambda: [c for c, _r in audit(tmp_path)].count("SetAutomation") == 2,
                        timeout=WAIT_MS)
        assert w.engine.snapshot(refresh=True).account_state == "HALTED"
        # Re-arm asks with the new reference; No leaves it halted, Yes re-arms
        asked: list[str] = []
        w.confirm = lambda title, text: asked.append(text) or False
        w.risk.rearm()
        assert "restarts the drawdown reference" in asked[0]
        w.confirm = lambda title, text: True
        w.risk.rearm()
        qtbot.waitUntil(lambda: w.risk.banner.text.state == "ACTIVE", timeout=WAIT_MS)
        [result] = [r for c, r in audit(tmp_path) if c == "Rearm"]
        assert result.startswith("ok: re-armed: drawdown peak now")
        assert not w.risk.rearm_action.isEnabled()
    finally:
        w.shutdown()


def test_a_manual_basket_is_previewed_then_opened_while_the_clock_is_held(qtbot, tmp_path):
    w = demo(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: all(math.isfinite(w.clusters.model.view(i).tdi)
                                    and not w.clusters.model.view(i).basket_id
                                    for i in range(2)), timeout=WAIT_MS)
        w.algo.trigger()  # automation off: the engine opens nothing by itself meanwhile
        qtbot.waitUntil(lambda: not w.engine.snapshot(refresh=True).automation, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not w.engine.baskets, timeout=WAIT_MS)
        seen: dict[str, object] = {}

        def drive(dialog):
            assert w.pacer.paused  # the demo clock is held while the dialog is open
            qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)
            seen["legs"] = legs_text(dialog)
            seen["budget"] = dialog.figures["budget"].text()
            seen["warning"] = dialog.warning.text()
            if dialog.preview.allowed:
                dialog.confirm_button.click()
                qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted,
                                timeout=WAIT_MS)
            return dialog.result()

        w.risk.run_dialog = drive
        w.clusters.select("USD_MAJORS")
        qtbot.waitUntil(lambda: w.clusters.actions["long"].isEnabled(), timeout=WAIT_MS)
        w.clusters.actions["long"].trigger()
        assert not w.pacer.paused  # released afterwards
        legs = seen["legs"]
        assert len(legs) >= 2 and all(side in ("buy", "sell") for _s, side, _l, _p in legs)
        assert "of equity" in seen["budget"]
        if "Refused" not in seen["warning"]:
            qtbot.waitUntil(lambda: "USD_MAJORS" in w.engine.baskets, timeout=WAIT_MS)
            assert any(c == "OpenBasket" and r.startswith("ok") for c, r in audit(tmp_path))
        assert any(c == "PreviewBasket" for c, _r in audit(tmp_path))
    finally:
        w.shutdown()


def pause_with_a_basket(qtbot, w: MainWindow) -> EngineSnapshot:
    """Hold the demo clock at a moment a basket is open (its exits may close it first)."""
    for _ in range(20):
        qtbot.waitUntil(lambda: bool(w.engine.baskets), timeout=WAIT_MS)
        w.pacer.pause()
        qtbot.wait(200)  # the worker finishes the minute it was stepping
        snap = w.engine.snapshot(refresh=True)
        if any(c.basket_id for c in snap.clusters):
            return snap
        w.pacer.resume()
    raise AssertionError("no basket stayed open")


def test_the_same_basket_reads_the_same_in_the_clusters_table_and_the_trade_tab(qtbot,
                                                                                 tmp_path):
    w = demo(qtbot, tmp_path)
    try:
        snap = pause_with_a_basket(qtbot, w)
        w.on_snapshot(snap)
        view = next(c for c in snap.clusters if c.basket_id)
        trade = w.toolbox.trade.model
        row = next(i for i, g in enumerate(trade.groups()) if g.basket_id == view.basket_id)
        group = trade.index(row, 0)
        profit = trade.data(trade.index(row, PROFIT), DISPLAY)
        model = w.clusters.model
        i = model.names().index(view.name)
        tip = model.data(model.index(i, COLUMNS.index("P&L (net)")), TIP)
        # the Clusters table's Profit part is the Trade tab's Profit (MT5 rounds to cents)
        assert float(profit.replace(",", "")) == pytest.approx(view.profit, abs=0.011)
        assert f"Profit {view.profit:+,.2f}" in tip
        assert model.data(model.index(i, COLUMNS.index("P&L (net)")), DISPLAY) == \
            f"{view.pnl:+,.2f}"
        assert view.pnl == pytest.approx(view.profit + view.paid + view.to_close)
        # a basket row does not add up lots of different symbols
        legs = trade.rowCount(group)
        assert legs >= 2
        assert trade.data(trade.index(row, VOLUME), DISPLAY) == f"{legs} legs"
    finally:
        w.shutdown()


def preview_event(request_id: str, price: float, **fields) -> BasketPreview:
    legs = (PreviewLeg("EURUSD", "BUY", 0.5, price, 5), PreviewLeg("GBPUSD", "SELL", 0.4, 1.3, 5))
    return BasketPreview(T0, request_id, "USD_MAJORS", "LONG", legs, 300.0, 100_000.0, -300.0,
                         300.0, -1.3, -1.25, 1.2, 0.25, 2.5, 20, **fields)


def test_the_preview_dialog_shows_a_fresh_preview_when_the_market_moved(qtbot):
    # Arrange: a dialog whose commands are captured instead of reaching an engine
    sent: list = []
    dialog = BasketPreviewDialog("USD_MAJORS", "long", sent.append)
    qtbot.addWidget(dialog)
    [ask_preview] = sent
    dialog.on_events([preview_event(ask_preview.command_id, 1.10000)])
    assert legs_text(dialog)[0] == ("EURUSD", "buy", "0.50", "1.10000")
    # Act: confirm; the engine refuses (moved) and answers with a fresh preview
    dialog.confirm_button.click()
    opened = sent[-1]
    assert opened.prices == {"EURUSD": 1.1, "GBPUSD": 1.3}
    dialog.on_events([preview_event(opened.command_id, 1.10350),
                      CommandDone(T0, opened.command_id, "OpenBasket", False,
                                  "prices moved beyond the deviation since the preview: ...")])
    # Assert: the new prices, the reason, and a fresh confirmation possible
    assert legs_text(dialog)[0] == ("EURUSD", "buy", "0.50", "1.10350")
    assert dialog.warning.text().startswith("The market moved since the preview")
    assert dialog.confirm_button.isEnabled() and dialog.result() == 0
    dialog.confirm_button.click()
    assert sent[-1].prices["EURUSD"] == pytest.approx(1.1035)


def test_the_preview_dialog_will_not_send_what_the_engine_would_refuse(qtbot):
    sent: list = []
    dialog = BasketPreviewDialog("USD_MAJORS", "LONG", sent.append)
    qtbot.addWidget(dialog)
    dialog.on_events([preview_event(sent[0].command_id, 1.1, refusal="ACCOUNT_HALTED",
                                    refusal_detail="account HALTED ...",
                                    exit_at_once="MR: the TDI ...")])
    assert not dialog.confirm_button.isEnabled()
    assert "Refused: ACCOUNT_HALTED" in dialog.warning.text()
    assert "Would exit at once: MR" in dialog.warning.text()
