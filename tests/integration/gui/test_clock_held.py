"""While a trader answers a close question in demo or replay, the simulated clock waits
(README: "Demo and replay hold their clock while a trading dialog is open"): the Clusters
table's Close basket and the Trade tab's Close leg, Close basket and Flatten all ran on
while asked, the P&L in the question stale by the answer.  A command the engine refuses
is said in the status bar, not only in the Journal tab."""

from __future__ import annotations

import pytest
from helpers.engine_setup import SYMBOLS, config

from app.sessions import demo_session
from engine import commands as cmd
from mt5bridge.sim.pacing import Pacer

pytest.importorskip("PySide6")

import gui.main_window as main_window
from gui.main_window import MainWindow

WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, tmp_path):
    session = demo_session(config(), seed=0, symbols=SYMBOLS,
                           journal_path=tmp_path / "journal.sqlite")
    w = MainWindow(session, Pacer(session.engine.now_msc, 3600.0), speed=3600.0)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.clusters.model.rowCount() == 2, timeout=WAIT_MS)
    yield w
    w.shutdown()


@pytest.mark.parametrize("panel", ["clusters", "trade"])
def test_a_close_asked_from_a_panel_holds_the_clock_while_asked(window, qtbot, panel):
    # Arrange: the clock running; the question answered after a second of the GUI's events
    asker = window.clusters if panel == "clusters" else window.toolbox.trade
    seen: list[tuple[bool, int, int]] = []

    def answer(title: str, text: str) -> bool:
        qtbot.wait(200)  # a step the worker had begun when the hold came ends first
        before = window.engine.now_msc
        qtbot.wait(1000)  # an hour of market time at 3600x, were the clock running
        seen.append((window.pacer.paused, before, window.engine.now_msc))
        return False

    asker.confirm = answer

    # Act
    asker._confirmed("Close basket", "Close it?")

    # Assert: held while asked, running again after
    [(paused, before, after)] = seen
    assert paused and after == before
    assert not window.pacer.paused
    qtbot.waitUntil(lambda: window.engine.now_msc > after, timeout=WAIT_MS)


def test_the_windows_own_questions_hold_the_clock(window, monkeypatch):
    # Arrange: the one-click strip's and New Order's confirmations go through it
    seen: list[bool] = []
    monkeypatch.setattr(main_window, "ask", lambda parent, title, text:
                        seen.append(window.pacer.paused) or False)

    # Act
    window.confirm("Buy 0.10 EURUSD", "at market?")

    # Assert
    assert seen == [True] and not window.pacer.paused


def test_a_command_the_engine_refuses_is_said_in_the_status_bar(window, qtbot):
    # Act: E at the TDI stop (2.5), which the engine refuses
    window.submit(cmd.SetThresholds(cluster="USD_MAJORS", entry=2.5, exit_band=0.3,
                                    source="gui"))

    # Assert
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
        "SetThresholds refused: "), timeout=WAIT_MS)
    assert "TDI stop" in window.statusBar().currentMessage()
