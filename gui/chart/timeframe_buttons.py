"""The row of exclusive timeframe buttons a chart header carries (M30 | M1, M1 .. D1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget


def add_timeframe_buttons(owner: QWidget, header: QHBoxLayout, timeframes: Sequence[str],
                          current: str, on_select: Callable[[str], None], *,
                          tip: Callable[[str], str], min_width: int,
                          ) -> dict[str, QToolButton]:
    """One checkable button per timeframe, exclusive, appended to ``header``; clicking one
    calls ``on_select(timeframe)``.  Returns the buttons by timeframe (the chart checks
    the right one when the timeframe changes by code)."""
    group = QButtonGroup(owner)
    group.setExclusive(True)
    buttons: dict[str, QToolButton] = {}
    for tf in timeframes:
        button = QToolButton()
        button.setText(tf)
        button.setCheckable(True)
        button.setChecked(tf == current)
        button.setToolTip(tip(tf))
        button.setMinimumWidth(min_width)
        button.clicked.connect(lambda _checked=False, tf=tf: on_select(tf))
        group.addButton(button)
        buttons[tf] = button
        header.addWidget(button)
    return buttons
