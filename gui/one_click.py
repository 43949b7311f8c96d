"""One-click trading: MT5's SELL / volume / BUY strip for a single symbol.

The strip shows the symbol's live bid on SELL and ask on BUY.  A click sends a market order
of the chosen volume outside any basket (``engine.commands.PlaceOrder``, no SL/TP, the
default deviation), the same command New Order sends.  As MT5 asks a trader to accept
one-click trading before it trades on one click, the "One-click" switch starts off: while
it is off every click is confirmed first; switched on, a click trades at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QPushButton,
    QToolBar,
    QWidget,
)

from engine import commands as cmd
from engine.manual_orders import DEFAULT_DEVIATION
from engine.snapshot import EngineSnapshot, SymbolSpec

SELL_STYLE = "QPushButton { background: #c62828; color: white; font-weight: bold; }"
BUY_STYLE = "QPushButton { background: #1565c0; color: white; font-weight: bold; }"


class OneClickStrip(QToolBar):
    """Symbol, SELL at bid, volume, BUY at ask; ``submit`` gets each ``PlaceOrder``."""

    def __init__(self, submit: Callable[[cmd.PlaceOrder], None],
                 confirm: Callable[[str, str], bool], notify: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("One-click trading", parent)
        self.setObjectName("OneClickTrading")
        self._submit = submit
        self._confirm = confirm
        self._notify = notify
        self._specs: dict[str, SymbolSpec] = {}
        self._account_ok = True
        self.symbol = QComboBox()
        self.symbol.setMinimumContentsLength(7)
        self.volume = QDoubleSpinBox()
        self.volume.setDecimals(2)
        self.volume.setRange(0.01, 100.0)
        self.volume.setSingleStep(0.01)
        self.volume.setValue(0.10)
        self.sell_button = QPushButton("SELL")
        self.buy_button = QPushButton("BUY")
        self.sell_button.setStyleSheet(SELL_STYLE)
        self.buy_button.setStyleSheet(BUY_STYLE)
        for button in (self.sell_button, self.buy_button):
            button.setMinimumWidth(96)
        self.enabled_box = QCheckBox("One-click")
        self.enabled_box.setToolTip("On: a click trades at once. Off: each click is confirmed.")
        self.sell_button.clicked.connect(lambda: self.trade("SELL"))
        self.buy_button.clicked.connect(lambda: self.trade("BUY"))
        self.symbol.currentTextChanged.connect(self._symbol_changed)
        self.addWidget(QLabel(" "))
        self.addWidget(self.symbol)
        self.addWidget(self.sell_button)
        self.addWidget(self.volume)
        self.addWidget(self.buy_button)
        self.addWidget(self.enabled_box)

    def update_snapshot(self, snap: EngineSnapshot) -> None:
        """Symbols (once known), live prices on the buttons, enabled while the account is."""
        if not self._specs and snap.specs:
            self._specs = {s.symbol: s for s in snap.specs}
            self.symbol.addItems(list(self._specs))
        self._account_ok = snap.account_state == "ACTIVE"
        for button in (self.sell_button, self.buy_button):
            button.setEnabled(self._account_ok and bool(self._specs))
            button.setToolTip("" if self._account_ok else
                              f"account {snap.account_state}: no new orders")
        spec = self._specs.get(self.symbol.currentText())
        quote = next((q for q in snap.quotes if spec and q.symbol == spec.symbol), None)
        if spec is None or quote is None or not quote.bid > 0:
            return
        self.sell_button.setText(f"SELL {quote.bid:.{spec.digits}f}")
        self.buy_button.setText(f"BUY {quote.ask:.{spec.digits}f}")

    def trade(self, side: str) -> bool:
        """Send the order (confirmed first unless one-click is on); True when sent."""
        spec = self._specs.get(self.symbol.currentText())
        if spec is None or not self._account_ok:
            return False
        volume = self.volume.value()
        problem = spec.volume_problem(volume)
        if problem is not None:
            self._notify(f"one-click: {problem}")
            return False
        if not self.enabled_box.isChecked() and not self._confirm(
                "One-click trading", f"{side.title()} {volume:g} {spec.symbol} at market?"):
            return False
        self._submit(cmd.PlaceOrder(symbol=spec.symbol, side=side, volume=volume,
                                    deviation=DEFAULT_DEVIATION, source="gui"))
        return True

    def _symbol_changed(self, symbol: str) -> None:
        spec = self._specs.get(symbol)
        if spec is None:
            return
        self.volume.setRange(spec.volume_min, spec.volume_max)
        self.volume.setSingleStep(spec.volume_step)
        self.sell_button.setText("SELL")
        self.buy_button.setText("BUY")
