"""Text from data (calendar titles, cluster names, reasons) shows literally in the window.

QLabel and tooltips render text as HTML when it looks like markup; a calendar title imported
from a file could draw a large fake "ALL CLEAR" in the risk banner and load a local image.
Each widget here is fed such text and must show it as it is (``gui.plain_text``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QLabel

from engine.events import NewsBlackout
from engine.runner import ClusterView, EngineSnapshot
from gui.clusters_panel import COLUMNS, ClustersPanel
from gui.dialogs.confirmations import question_box
from gui.dialogs.thresholds import ThresholdsDialog
from gui.risk_banner import RiskBanner
from gui.toolbox.journal import MESSAGE_COLUMN, JournalTab
from gui.waiting import WaitingLabel

T0 = datetime(2024, 1, 12, 13, 0, tzinfo=UTC)
UNTIL = T0 + timedelta(hours=1)
RED = "#ff0000"


def fake_title(image: Path) -> str:
    """A calendar title that, read as HTML, draws a big green all-clear and an image."""
    return ('NFP<br><span style="font-size:28pt;color:#00aa00">ALL CLEAR: no blackout</span>'
            f'<img src="{image}">')


def red_image(path: Path) -> Path:
    image = QImage(40, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(RED))
    image.save(str(path))
    return path


def shown(tip: str) -> str:
    """The text Qt shows for ``tip`` (a tooltip, or a label left in its default format)."""
    document = QTextDocument()
    if QtGui.Qt.mightBeRichText(tip):
        document.setHtml(tip)
    else:
        document.setPlainText(tip)
    return document.toPlainText()


def view(name: str = "USD_MAJORS", *, symbols: tuple[str, ...] = ("EURUSD", "GBPUSD"),
         tdi: float = 0.4, reason: str = "", blackout: datetime | None = None) -> ClusterView:
    return ClusterView(name, symbols, tdi, 2.0, 1.2, 0.25, "ACTIVE", reason, None, None, 0.0,
                       blackout)


def snapshot(*views: ClusterView, state: str = "ACTIVE", reason: str = "") -> EngineSnapshot:
    return EngineSnapshot(T0, tuple(views), state, reason, 100_000.0, 100_000.0, 0.0, 0.0, 0.0,
                          True, "OK")


def red_pixels(image: QImage) -> int:
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if image.pixelColor(x, y).name() == RED)


# ----------------------------------------------------------------------------- banner


def test_the_banner_shows_a_release_title_literally_and_loads_no_image(qtbot, tmp_path):
    # Arrange: a blackout whose imported title is HTML that references a local image
    title = fake_title(red_image(tmp_path / "local.png"))
    banner = RiskBanner()
    qtbot.addWidget(banner)
    banner.resize(1200, 120)
    banner.show()
    # Act
    banner.on_events([NewsBlackout(T0, "USD_MAJORS", UNTIL, title, "USD")])
    banner.update_snapshot(snapshot(view(blackout=UNTIL)))
    # Assert: the note is plain text holding the raw title, and nothing of the image is drawn
    label = banner.notes_label
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == f"News blackout: USD {title} until 14:00 UTC (USD_MAJORS)"
    assert "<br>" in label.text()
    assert red_pixels(label.grab().toImage()) == 0
    # Assert: the tooltip escapes the title and reads as the raw text
    tip = label.toolTip()
    assert "&lt;br&gt;" in tip and "<img" not in tip
    assert shown(tip) == f"USD_MAJORS: USD {title} until 14:00 UTC"


def test_the_banner_shows_an_account_reason_and_an_alert_literally(qtbot):
    # Arrange
    banner = RiskBanner()
    qtbot.addWidget(banner)
    reason = "MAX_DRAWDOWN: <b style='font-size:30pt'>fine</b>"
    # Act
    banner.update_snapshot(snapshot(view(), state="HALTED", reason=reason))
    banner.show_notice("PlaceOrder rejected: <i>broker</i> said no")
    # Assert
    for label in (banner.state_label, banner.detail_label, banner.notice_label):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert banner.detail_label.text() == "<b style='font-size:30pt'>fine</b>"
    assert banner.notice_label.text() == "PlaceOrder rejected: <i>broker</i> said no"


# ---------------------------------------------------------------------------- status bar


def test_the_waiting_line_shows_a_cluster_name_literally(qtbot):
    # Arrange
    label = WaitingLabel()
    qtbot.addWidget(label)
    # Act
    label.show_snapshot(snapshot(view("<b>X</b>")), (), False)
    # Assert
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == "Waiting for TDI beyond ±E on <b>X</b> (now +0.40, E 1.20)"
    assert "&lt;b&gt;X&lt;/b&gt;" in label.toolTip()
    assert shown(label.toolTip()) == label.text()


# ------------------------------------------------------------------ tables and dialogs


def test_the_clusters_tooltips_show_symbols_and_reasons_literally(qtbot):
    # Arrange
    panel = ClustersPanel()
    qtbot.addWidget(panel)
    odd = dataclasses.replace(view(symbols=("EURUSD", "<img src='x.png'>")),
                              state="CLOSE_ONLY", reason="CLUSTER_DAILY_LOSS: <h1>big</h1>")
    # Act
    panel.update_clusters((odd,))
    # Assert
    model = panel.model
    symbols_tip = model.data(model.index(0, COLUMNS.index("Symbols")),
                             Qt.ItemDataRole.ToolTipRole)
    state_tip = model.data(model.index(0, 3), Qt.ItemDataRole.ToolTipRole)
    assert shown(symbols_tip) == "EURUSD <img src='x.png'>"
    assert shown(state_tip).startswith("CLOSE_ONLY: CLUSTER_DAILY_LOSS: <h1>big</h1>")


def test_a_journal_line_reads_literally_in_its_tooltip(qtbot):
    # Arrange
    tab = JournalTab()
    qtbot.addWidget(tab)
    # Act
    tab.append_log(T0, "WARNING", "calendar: <b>Fed</b> title & more")
    # Assert
    model = tab.log_model
    tip = model.data(model.index(0, MESSAGE_COLUMN), Qt.ItemDataRole.ToolTipRole)
    assert shown(tip) == "calendar: <b>Fed</b> title & more"


def test_a_question_and_the_thresholds_dialog_show_a_cluster_name_literally(qtbot):
    # Arrange / Act
    box = question_box(None, "Close basket", "Close B-1 of <b>X</b> at market?")
    dialog = ThresholdsDialog("<b>X</b>", 1.2, 0.25, 3.0)
    qtbot.addWidget(box)
    qtbot.addWidget(dialog)
    # Assert: the question is plain; the dialog's bold heading escapes the name
    assert box.textFormat() == Qt.TextFormat.PlainText
    heading = next(label for label in dialog.findChildren(QLabel)
                   if "thresholds in force" in label.text())
    assert shown(heading.text()) == "<b>X</b>: thresholds in force from the next check"
