"""A chart header row: its title on the left, exclusive timeframe buttons on the right."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)


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


def chart_header(owner: QWidget, timeframes: Sequence[str], current: str,
                 on_select: Callable[[str], None], *, tip: Callable[[str], str],
                 min_width: int) -> tuple[QLabel, QHBoxLayout, dict[str, QToolButton]]:
    """(title, header row, timeframe buttons): the rich-text title takes the free width and
    may shrink to nothing rather than widen the chart; the buttons follow a stretch."""
    title = QLabel()
    title.setTextFormat(Qt.TextFormat.RichText)
    title.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    title.setMinimumWidth(1)
    header = QHBoxLayout()
    header.setContentsMargins(6, 4, 6, 0)
    header.addWidget(title)
    header.addStretch(1)
    buttons = add_timeframe_buttons(owner, header, timeframes, current, on_select,
                                    tip=tip, min_width=min_width)
    return title, header, buttons
