"""The Trade tab's net currency exposure: per currency, across every open position, against
the risk config's per-currency cap.

The figures are the engine's (``EngineSnapshot.exposures``, ``engine.snapshot.
currency_exposures``): each position is long its base and short its quote currency by its
units times the account-currency value of one base unit, at the current mids; the net is
summed over baskets and manual orders alike.  The cap is ``max_currency_exposure`` x equity,
the limit a new basket or a manual order may not push a currency beyond; "Used" is |net| /
cap, coloured as it nears the cap.  The cap is one figure for every currency, so it is in
the title rather than repeated on each row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout, QWidget

from gui.toolbox.format import LOSS, MISSING, WARNING_TEXT, figures_font, format_money
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

HEADERS = ("Currency", "Net", "Used")
NET, USED = 1, 2
#: "Used" turns amber from this share of the cap, red at the cap.
WARN_SHARE = 0.75


class ExposureLike(Protocol):
    """One currency's row (``engine.snapshot.CurrencyExposure`` has these fields)."""

    @property
    def currency(self) -> str: ...
    @property
    def net(self) -> float: ...
    @property
    def cap(self) -> float: ...
    @property
    def share(self) -> float: ...


def exposure_row(x: ExposureLike) -> Row:
    """The table row of one currency: signed net and the share of the cap used (the cap,
    the same for every currency, is in the title)."""
    used = f"{x.share:.1%}" if math.isfinite(x.share) else MISSING
    colour: QColor | None = None
    if math.isfinite(x.share):
        colour = LOSS if x.share >= 1.0 else WARNING_TEXT if x.share >= WARN_SHARE else None
    return Row(x.currency, (x.currency, format_money(x.net, signed=True), used),
               foreground=(None, None, colour), payload=x)


def title_text(exposures: Sequence[ExposureLike]) -> str:
    """The table's title: what the figures are, and the cap they are measured against."""
    cap = next((x.cap for x in exposures if math.isfinite(x.cap)), math.nan)
    limit = f"cap ±{format_money(cap)} each" if math.isfinite(cap) else "cap -"
    return f"Net currency exposure, all positions ({limit})"


class ExposureTable(QWidget):
    """A small table: one row per currency held, largest net first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title_text(()))
        self.title.setWordWrap(True)
        self.title.setToolTip(
            "Per currency: the net value held across every basket and manual position "
            "(+ long), valued at the current mids. Cap: the risk limit per currency "
            "(max_currency_exposure x equity). Used: |net| / cap.")
        self.model = KeyedTableModel(HEADERS, (NET, USED), figures_font(self.font()), self)
        self.view = read_only_table(self.model, self)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NET, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)

    def update_exposures(self, exposures: Sequence[ExposureLike]) -> None:
        self.model.set_rows([exposure_row(x) for x in exposures])
        if exposures:
            self.title.setText(title_text(exposures))
