"""The Toolbox's Regimes tab: each ``correlation`` cluster's correlation regime.

A correlation cluster watches two assets (an index and gold, Brent and the Canadian dollar)
and, while their regime is broken, either locks other clusters or trades a directional
basket (``engine.kinds.correlation``).  A trader needs to see at a glance which regimes hold,
which broke and for how long, and what that does to the other clusters: one row per
correlation cluster, its figures as the engine computed them at the cluster's last closed
signal bar (``ClusterView``: the score in ``tdi``, the correlations in ``diagnostics``,
``regime`` and ``regime_bars``).  The action column needs the cluster's settings, which the
snapshot does not carry: ``set_params`` gives them once, from the configuration.

The tab is always there; without a correlation cluster it says so in one line instead of
showing an empty table, so a trader learns the kind exists and where its figures will be.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout, QWidget

from engine.kinds.correlation_params import CorrelationParams
from gui.toolbox.format import LOSS, MISSING, PROFIT, figures_font
from gui.toolbox.model import KeyedTableModel, Row, read_only_table

KIND = "correlation"
HEADERS = ("Cluster", "Symbols", "Rule", "ρ fast [interval]", "ρ slow", "Score", "E / X",
           "Regime", "Held", "Action")
RULE, RHO_FAST, RHO_SLOW, SCORE, THRESHOLDS, REGIME, HELD, ACTION = range(2, 10)
HEADER_TIPS = {
    RULE: "The rule the score follows, and the fast / slow windows in signal bars",
    RHO_FAST: "Pearson correlation of the two symbols' log returns over the fast window of "
              "signal bars ending at the last closed bar, and its Fisher-z interval at the "
              "cluster's confidence (0.95 by default)",
    RHO_SLOW: "The same correlation over the slow window: the regime the fast one is "
              "judged against",
    SCORE: "crossing: (atanh ρ fast - atanh ρ slow) / sqrt(1/(n_f-3) + 1/(n_s-3)); "
           "sign_flip: sign(ρ slow) x atanh(ρ fast) x sqrt(n_f-3). In standard errors",
    THRESHOLDS: "The cluster's entry E and exit band X: the regime breaks beyond E and is "
                "normal again only within X",
    REGIME: "normal or broken (hysteresis between E and X); blank while warming up",
    HELD: "Signal bars the regime has held, counting the bar it began",
    ACTION: "lock: the clusters paused while the regime is broken; trade: the basket "
            "LONG holds (SHORT the opposite), sized by inverse volatility",
}
EMPTY_TEXT = ("No correlation cluster in this configuration. A cluster with kind = "
              "\"correlation\" watches the correlation of two symbols' returns; its regime "
              "shows here.")
TITLE_TEXT = ("Correlation regimes at each cluster's last closed signal bar: correlations "
              "of log returns, the score in standard errors against E / X")
#: A broken regime's cell: the loss red on a pale red ground, readable at a glance.
BROKEN_BACKGROUND = QColor(253, 228, 228)
WARMING_TEXT = QColor(128, 128, 128)


class RegimeViewLike(Protocol):
    """The ``engine.snapshot.ClusterView`` fields this tab reads."""

    @property
    def name(self) -> str: ...
    @property
    def symbols(self) -> tuple[str, ...]: ...
    @property
    def kind(self) -> str: ...
    @property
    def tdi(self) -> float: ...
    @property
    def entry(self) -> float: ...
    @property
    def exit_band(self) -> float: ...
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def diagnostics(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def regime(self) -> str: ...
    @property
    def regime_bars(self) -> int: ...
    @property
    def direction(self) -> str | None: ...


def _number(value: float, digits: int, *, signed: bool = False) -> str:
    if not math.isfinite(value):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def rho_text(diagnostics: Mapping[str, float]) -> str:
    """``ρ fast [lo, hi]`` with three decimals, a dash when undefined."""
    rho = diagnostics.get("rho_fast", math.nan)
    if not math.isfinite(rho):
        return MISSING
    lo, hi = diagnostics.get("rho_fast_lo", math.nan), diagnostics.get("rho_fast_hi", math.nan)
    return f"{rho:+.3f} [{_number(lo, 3, signed=True)}, {_number(hi, 3, signed=True)}]"


def action_text(view: RegimeViewLike, params: CorrelationParams | None) -> str:
    """What the regime does: the locked clusters (and whether they are locked now), or the
    trade basket's signs and the open direction; then the cluster's own state when it is
    not ACTIVE (a paused or halted watch), with its reason."""
    if params is None:
        text = MISSING
    elif params.action == "lock":
        targets = ", ".join(params.targets)
        text = f"locked: {targets}" if view.regime == "broken" else f"lock {targets}"
    else:
        signs = " ".join(f"{'+' if w > 0 else '-' if w < 0 else '0'}{s}"
                         for s, w in zip(view.symbols, params.weights, strict=False))
        held = f", {view.direction} open" if view.direction else ""
        text = f"trade {signs}{held}"
    if view.state and view.state != "ACTIVE":
        text += f" | cluster {view.state}" + (f": {view.reason}" if view.reason else "")
    return text


def regime_row(view: RegimeViewLike, params: CorrelationParams | None) -> Row:
    """One correlation cluster's row (texts and colours)."""
    diagnostics = dict(view.diagnostics)
    regime = view.regime or "warming up"
    held = f"{view.regime_bars} bars" if view.regime else MISSING
    rule = f"{params.rule} {params.fast_window}/{params.slow_window}" if params else MISSING
    cells = (view.name, " / ".join(view.symbols), rule, rho_text(diagnostics),
             _number(diagnostics.get("rho_slow", math.nan), 3, signed=True),
             _number(view.tdi, 2, signed=True), f"{view.entry:g} / {view.exit_band:g}",
             regime, held, action_text(view, params))
    colour = {"broken": LOSS, "normal": PROFIT}.get(view.regime, WARMING_TEXT)
    broken = view.regime == "broken"
    foreground = tuple(colour if c == REGIME else LOSS if broken and c == ACTION else None
                       for c in range(len(HEADERS)))
    background = tuple(BROKEN_BACKGROUND if broken and c in (REGIME, HELD) else None
                       for c in range(len(HEADERS)))
    return Row(view.name, cells, foreground, background, payload=view)


def correlation_params_of(specs: Iterable[object]) -> dict[str, CorrelationParams]:
    """Each correlation cluster's settings from the configuration's cluster specs: the
    ``CorrelationParams`` a spec holds in one of its fields, by cluster name."""
    found: dict[str, CorrelationParams] = {}
    for spec in specs:
        if not dataclasses.is_dataclass(spec):
            continue
        for f in dataclasses.fields(spec):
            value = getattr(spec, f.name, None)
            if isinstance(value, CorrelationParams):
                found[str(getattr(spec, "name", ""))] = value
    return found


class RegimesModel(KeyedTableModel):
    """The rows, with each figure's basis as its header's tooltip."""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return super().headerData(section, orientation, role)


class RegimesTab(QWidget):
    """The table of correlation regimes, or one line saying there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: dict[str, CorrelationParams] = {}
        self.title = QLabel(EMPTY_TEXT)
        self.title.setWordWrap(True)
        self.model = RegimesModel(HEADERS, (RHO_FAST, RHO_SLOW, SCORE, THRESHOLDS, HELD),
                                  figures_font(self.font()), self)
        self.view = read_only_table(self.model, self)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.setStyleSheet("QTableView::item { padding: 0px 6px; }")  # figures apart
        self.view.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addStretch(0)   # keeps the one-line empty state at the top

    def set_params(self, params: Mapping[str, CorrelationParams]) -> None:
        """The correlation clusters' settings (the action column reads them)."""
        self._params = dict(params)

    def update_views(self, views: Sequence[RegimeViewLike]) -> None:
        """Show the correlation clusters among ``views`` (a snapshot's ``clusters``)."""
        rows = [regime_row(v, self._params.get(v.name)) for v in views if v.kind == KIND]
        self.model.set_rows(rows)
        self.view.setVisible(bool(rows))
        self.title.setText(TITLE_TEXT if rows else EMPTY_TEXT)

    def row_texts(self) -> list[tuple[str, ...]]:
        """The cells as shown, row by row (what a reader of the tab sees)."""
        return [self.model.row(i).cells for i in range(self.model.rowCount())]
