"""The trading dialogs call a cluster's score by its kind's name (a pair's z, a basis's
bp), not "TDI"."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel

from gui.dialogs.basket_preview import BasketPreviewDialog
from gui.dialogs.thresholds import ThresholdsDialog


def _texts(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel)]


def test_the_basket_preview_names_a_pairs_score_z(qtbot):
    # Arrange / Act
    dialog = BasketPreviewDialog("AUD_NZD", "LONG", lambda _command: None, score="z")
    qtbot.addWidget(dialog)

    # Assert
    texts = _texts(dialog)
    assert "z now" in texts and "z stop (TS)" in texts
    assert not [t for t in texts if "TDI" in t]


def test_the_thresholds_dialog_names_a_pairs_score_z(qtbot):
    # Arrange / Act
    dialog = ThresholdsDialog("AUD_NZD", 2.0, 0.5, 4.0, score="z")
    qtbot.addWidget(dialog)

    # Assert
    texts = _texts(dialog)
    assert "E (enter when |z| > E)" in texts and "X (exit when |z| < X)" in texts
    assert "z stop 4.00: need 0 < X < E < 4.00" in texts
