"""Edit a cluster's entry threshold E and exit band X in one dialog that names the cluster."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QWidget,
)


class ThresholdsDialog(QDialog):
    """E and X of ``cluster``; the engine checks 0 < X < E < TDI stop and says no otherwise,
    the dialog only keeps the two in order so an obvious slip cannot be sent."""

    def __init__(self, cluster: str, entry: float, exit_band: float, tdi_stop: float | None,
                 parent: QWidget | None = None, score: str = "TDI") -> None:
        """``score``: what the cluster's kind calls its score (a pair's z, a basis's bp)."""
        super().__init__(parent)
        self.setWindowTitle(f"Edit E/X \u2014 {cluster}")
        self.cluster = cluster
        top = tdi_stop if tdi_stop else 10.0
        self.entry = QDoubleSpinBox()
        self.entry.setRange(0.05, top)
        self.entry.setDecimals(2)
        self.entry.setSingleStep(0.05)
        self.entry.setValue(entry)
        self.exit_band = QDoubleSpinBox()
        self.exit_band.setRange(0.01, top)
        self.exit_band.setDecimals(2)
        self.exit_band.setSingleStep(0.05)
        self.exit_band.setValue(exit_band)
        form = QFormLayout(self)
        heading = QLabel(f"<b>{escape(cluster)}</b>: thresholds in force from the next check")
        heading.setTextFormat(Qt.TextFormat.RichText)  # the cluster's name is escaped
        form.addRow(heading)
        form.addRow(f"E (enter when |{score}| > E)", self.entry)
        form.addRow(f"X (exit when |{score}| < X)", self.exit_band)
        if tdi_stop:
            form.addRow(QLabel(f"{score} stop {tdi_stop:.2f}: need 0 < X < E < {tdi_stop:.2f}"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.entry.valueChanged.connect(self._check)
        self.exit_band.valueChanged.connect(self._check)

    def values(self) -> tuple[float, float]:
        return self.entry.value(), self.exit_band.value()

    def _check(self) -> None:
        e, x = self.values()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(0 < x < e)
