"""The manual-basket dialog: the legs, the risk and the exits of the basket before it opens.

It once asked "Open a LONG GBP_BLOC basket at market?" with no legs, lots or risk, and the
engine closed the basket a minute later because the TDI was already inside X.  Now the
dialog asks the engine for a preview (``commands.PreviewBasket``, answered on the engine's
thread by ``engine.preview``: the engine's own sizing and entry gates, nothing recomputed
here) and shows it: each leg's symbol, side, lots and order price, the risk budget, the
basket stop and take-profit, and in red why the engine would refuse it or close it at once.

Confirming sends ``OpenBasket`` with the prices shown.  If a leg moved beyond the configured
deviation meanwhile, the engine refuses and answers with a fresh preview, which the dialog
shows with the reason; the trader confirms again or cancels.  The dialog closes when the
engine says the basket opened.  (In demo and replay the console also holds the clock while
a trading dialog is open, so there the prices do not move; live cannot be held.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd
from engine.events import CommandDone, EngineEvent
from engine.preview import BasketPreview
from gui.plain_text import plain_label

WARNING_STYLE = "color:#c62828; font-weight:bold;"
OK_STYLE = "color:#1b7f3b;"
LEG_HEADERS = ("Symbol", "Side", "Lots", "Price")


def money(value: float) -> str:
    return f"{value:+,.2f}" if math.isfinite(value) else "-"


class BasketPreviewDialog(QDialog):
    """Preview, confirm, and watch the engine's answer (see the module docstring)."""

    def __init__(self, cluster: str, direction: str, submit: Callable[[cmd.Command], None],
                 *, clock_note: str = "", parent: QWidget | None = None,
                 score: str = "TDI") -> None:
        """``score``: what the cluster's kind calls its score (a pair's z, a basis's bp)."""
        super().__init__(parent)
        self.cluster = cluster
        self.direction = direction.upper()
        self._submit = submit
        self.preview: BasketPreview | None = None
        self._request = ""
        self._open_id = ""
        self.setWindowTitle(f"Open {self.direction} {cluster} basket \u2014 preview")
        self.setMinimumWidth(680)
        self.header = QLabel(f"<b>{escape(self.direction)} {escape(cluster)}</b> at market")
        self.header.setTextFormat(Qt.TextFormat.RichText)  # the cluster's name is escaped
        self.clock = plain_label(clock_note)
        self.clock.setVisible(bool(clock_note))
        self.legs = QTableWidget(0, len(LEG_HEADERS))
        self.legs.setHorizontalHeaderLabels(LEG_HEADERS)
        self.legs.verticalHeader().setVisible(False)
        self.legs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.legs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.figures: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label in (("tdi", f"{score} now"), ("budget", "Risk budget"),
                           ("stop", "Basket stop (HS)"), ("tp", "Take-profit (TP)"),
                           ("tdi_stop", f"{score} stop (TS)"),
                           ("deviation", "Deviation allowed")):
            self.figures[key] = plain_label("-")
            self.figures[key].setWordWrap(True)
            form.addRow(label, self.figures[key])
        # the engine's refusals, warnings and answers (they name clusters and symbols)
        self.warning = plain_label()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.status = plain_label()
        self.buttons = QDialogButtonBox()
        self.confirm_button = QPushButton(f"Open {self.direction} basket")
        self.confirm_button.setAutoDefault(False)
        self.refresh_button = QPushButton("Refresh preview")
        self.refresh_button.setAutoDefault(False)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        self.buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.confirm_button.clicked.connect(self.confirm)
        self.refresh_button.clicked.connect(self.request_preview)
        layout = QVBoxLayout(self)
        for widget in (self.header, self.clock, self.legs):
            layout.addWidget(widget)
        layout.addLayout(form)
        for widget in (self.warning, self.status, self.buttons):
            layout.addWidget(widget)
        self.request_preview()

    # ------------------------------------------------------------------ engine round trips

    def request_preview(self) -> None:
        command = cmd.PreviewBasket(cluster=self.cluster, direction=self.direction,
                                    source="gui")
        self._request = command.command_id
        self.confirm_button.setEnabled(False)
        self.status.setText("Asking the engine for a preview...")
        self._submit(command)

    def confirm(self) -> None:
        """Send the basket with the prices shown; the engine refuses if they moved."""
        if self.preview is None or not self.preview.allowed:
            return
        command = cmd.OpenBasket(cluster=self.cluster, direction=self.direction,
                                 prices=self.preview.prices(), source="gui")
        self._open_id = command.command_id
        self.confirm_button.setEnabled(False)
        self.refresh_button.setEnabled(False)
        self.status.setText("Sending the basket...")
        self._submit(command)

    def on_events(self, events: list[EngineEvent]) -> None:
        for ev in events:
            if isinstance(ev, BasketPreview) and ev.request_id in (self._request,
                                                                    self._open_id):
                self.show_preview(ev)
            elif isinstance(ev, CommandDone) and ev.command_id == self._open_id:
                self._answered(ev)

    def _answered(self, done: CommandDone) -> None:
        self._open_id = ""
        self.refresh_button.setEnabled(True)
        if done.ok:
            self.status.setText(done.message)
            self.accept()
            return
        self.status.setText(f"Not opened: {done.message}")
        if "moved beyond the deviation" in done.message:
            self.warning.setText("The market moved since the preview: review the new prices "
                                 "and confirm again.\n" + self.warning.text())

    # ------------------------------------------------------------------ display

    def show_preview(self, p: BasketPreview) -> None:
        self.preview = p
        self._request = p.request_id
        self.legs.setRowCount(len(p.legs))
        for row, leg in enumerate(p.legs):
            cells = (leg.symbol, leg.side.lower(), f"{leg.lots:.2f}",
                     f"{leg.price:.{leg.digits}f}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight |
                                          Qt.AlignmentFlag.AlignVCenter)
                self.legs.setItem(row, col, item)
        f = self.figures
        f["tdi"].setText(f"{p.tdi:+.2f} at the last minute close ({p.bar_tdi:+.2f} at the last "
                         f"bar close; E {p.entry:.2f}, X {p.exit_band:.2f})"
                         if math.isfinite(p.tdi) else "warming up")
        share = p.risk_budget / p.equity if p.equity else math.nan
        f["budget"].setText(f"{p.risk_budget:,.2f} ({share:.2%} of equity {p.equity:,.2f})"
                            if math.isfinite(p.risk_budget) else "-")
        f["stop"].setText(f"closes at a net P&L of {money(p.stop_loss)}")
        f["tp"].setText(f"closes at a net P&L of {money(p.take_profit)}")
        f["tdi_stop"].setText(f"closes when the TDI reaches {p.tdi_stop:.2f} against the basket")
        f["deviation"].setText(f"{p.deviation_points} points from the prices shown")
        warnings = warnings_of(p)
        self.warning.setText("\n".join(warnings))
        self.warning.setStyleSheet(WARNING_STYLE if warnings else OK_STYLE)
        if not warnings:
            self.warning.setText("The engine's entry checks pass, and it would not close the "
                                 "basket at once.")
        self.legs.setFixedHeight(self.legs.horizontalHeader().height() + 6 +
                                 sum(self.legs.rowHeight(r) for r in range(len(p.legs))))
        self.confirm_button.setEnabled(p.allowed)
        self.status.setText(f"Preview at {p.time:%Y-%m-%d %H:%M:%S} UTC (market time)."
                            + ("" if p.allowed else " The engine would refuse this basket."))


def warnings_of(p: BasketPreview) -> list[str]:
    """The red lines: a refusal, an exit at once, the sizing's rounding notes."""
    out = []
    if p.refusal:
        out.append(f"Refused: {p.refusal} \u2014 {p.refusal_detail}")
    if p.exit_at_once:
        out.append(f"Would exit at once: {p.exit_at_once}")
    out.extend(p.warnings)
    return out


def legs_text(dialog: BasketPreviewDialog) -> list[tuple[str, ...]]:
    """The legs table as shown (for tests and logs)."""
    t = dialog.legs
    return [tuple(t.item(r, c).text() for c in range(t.columnCount())) for r in
            range(t.rowCount())]
