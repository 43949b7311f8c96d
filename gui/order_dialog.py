"""New Order (F9): a market order on one symbol, outside any basket, as MT5's dialog.

The dialog offers the market's symbols with their specification as the terminal gives it
(``engine.snapshot.SymbolSpec``): the volume box steps by the symbol's ``volume_step``
between ``volume_min`` and ``volume_max``, the filling mode is the one the engine sends
(the symbol's ``filling_mode`` bits: FOK, else IOC, else RETURN), and the live bid and ask
are those of the latest engine snapshot.  "Sell by Market" and "Buy by Market" send a
``PlaceOrder`` command through ``Engine.submit`` (the engine checks it again, journals it
with the manual magic, and answers with ``CommandDone``); the dialog itself only refuses
what it can see: a volume off the symbol's grid, stops on the wrong side of the price, and
an account that is not ACTIVE (HALTED or CLOSE_ONLY: no new positions).

``OrderTools`` wires New Order and the one-click strip (``gui.one_click``) into the main
window: it follows the window's snapshots and reports each order's outcome in the status
bar and the journal log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd
from engine.events import CommandDone
from engine.manual_orders import DEFAULT_DEVIATION, MANUAL_COMMENT
from engine.snapshot import EngineSnapshot, QuoteView, SymbolSpec
from gui.plain_text import plain_label

#: MT5's button colours: sell red, buy blue.
SELL_STYLE = "QPushButton { background: #c62828; color: white; font-weight: bold; padding: 8px; }"
BUY_STYLE = "QPushButton { background: #1565c0; color: white; font-weight: bold; padding: 8px; }"
#: A status-bar message stays this long (ms).
MESSAGE_MS = 15_000


def _decimals(step: float) -> int:
    """Decimal places of a volume step (0.01 -> 2, 0.1 -> 1, 1 -> 0)."""
    if not step > 0:
        return 2
    return max(0, min(8, round(-math.log10(step)) if step < 1 else 0))


def stops_problem(side: str, bid: float, ask: float, sl: float, tp: float) -> str | None:
    """Why these stops would be refused (None: they are fine; 0 means none).

    As MT5: a buy closes at the bid, so its stop loss must be below the bid and its take
    profit above; a sell closes at the ask, stop above, take profit below.
    """
    if not (math.isfinite(bid) and math.isfinite(ask) and bid > 0):
        return "no price yet for this symbol"
    close = bid if side == "BUY" else ask
    if side == "BUY":
        if sl and sl >= close:
            return f"a buy's S/L must be below the bid {close:g}"
        if tp and tp <= close:
            return f"a buy's T/P must be above the bid {close:g}"
    else:
        if sl and sl <= close:
            return f"a sell's S/L must be above the ask {close:g}"
        if tp and tp >= close:
            return f"a sell's T/P must be below the ask {close:g}"
    return None


def account_problem(snap: EngineSnapshot | None) -> str | None:
    """The account state that refuses new positions, in one line (None: ACTIVE)."""
    if snap is None or snap.account_state == "ACTIVE":
        return None
    reason = f": {snap.account_reason}" if snap.account_reason else ""
    return f"Account {snap.account_state}{reason}. New orders are refused; closing stays possible."


class OrderDialog(QDialog):
    """The New Order form.  ``orderRequested`` carries the ``PlaceOrder`` to submit."""

    orderRequested = Signal(object)

    def __init__(self, specs: Sequence[SymbolSpec], symbol: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Order")
        self.setObjectName("NewOrderDialog")
        # a visible edge even where no window manager draws one (a bare X server)
        self.setStyleSheet("QDialog#NewOrderDialog { border: 1px solid #7a8599; }")
        self._specs = {s.symbol: s for s in specs}
        self._quotes: dict[str, QuoteView] = {}
        self._snap: EngineSnapshot | None = None

        self.symbol = QComboBox()
        self.symbol.addItems(list(self._specs))
        self.volume = QDoubleSpinBox()
        self.sl = self._price_box()
        self.tp = self._price_box()
        self.deviation = QSpinBox()
        self.deviation.setRange(0, 10_000)
        self.deviation.setValue(DEFAULT_DEVIATION)
        self.deviation.setSuffix(" points")
        self.filling = plain_label()  # the symbol's specification, from the terminal
        self.limits = plain_label()
        self.kind = QLabel("Market Execution (outside any basket: magic 0, comment "
                           f"\"{MANUAL_COMMENT}\")")
        self.bid = QLabel("-")
        self.ask = QLabel("-")
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.8)
        big.setBold(True)
        for label, colour in ((self.bid, "#c62828"), (self.ask, "#1565c0")):
            label.setFont(big)
            label.setStyleSheet(f"color: {colour}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = plain_label()  # account reasons and refusals: data
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828")
        self.sell_button = QPushButton("Sell by Market")
        self.buy_button = QPushButton("Buy by Market")
        self.sell_button.setStyleSheet(SELL_STYLE)
        self.buy_button.setStyleSheet(BUY_STYLE)
        self.sell_button.clicked.connect(lambda: self.send("SELL"))
        self.buy_button.clicked.connect(lambda: self.send("BUY"))
        self._layout()
        self.symbol.currentTextChanged.connect(self._symbol_changed)
        if symbol in self._specs:
            self.symbol.setCurrentText(symbol)
        self._symbol_changed(self.symbol.currentText())

    # ------------------------------------------------------------------ layout

    def _price_box(self) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 1_000_000.0)
        box.setSpecialValueText("none")  # 0: no stop, as MT5 leaves the field
        return box

    def _layout(self) -> None:
        heading = QLabel("<b>New Order</b> &nbsp; a market order on one symbol")
        form = QFormLayout()
        form.addRow(heading)
        form.addRow("Symbol", self.symbol)
        form.addRow("Type", self.kind)
        form.addRow("Volume (lots)", self.volume)
        form.addRow("", self.limits)
        form.addRow("Stop Loss", self.sl)
        form.addRow("Take Profit", self.tp)
        form.addRow("Deviation", self.deviation)
        form.addRow("Filling", self.filling)
        prices = QHBoxLayout()
        prices.addWidget(self.bid, 1)
        prices.addWidget(QLabel("/"))
        prices.addWidget(self.ask, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sell_button, 1)
        buttons.addWidget(self.buy_button, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(prices)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)

    # ------------------------------------------------------------------ state

    def spec(self) -> SymbolSpec | None:
        return self._specs.get(self.symbol.currentText())

    def _symbol_changed(self, symbol: str) -> None:
        spec = self._specs.get(symbol)
        if spec is None:
            return
        self.volume.setDecimals(_decimals(spec.volume_step))
        self.volume.setRange(spec.volume_min, spec.volume_max)
        self.volume.setSingleStep(spec.volume_step)
        self.volume.setValue(max(spec.volume_min, min(0.1, spec.volume_max)))
        self.limits.setText(f"min {spec.volume_min:g}, step {spec.volume_step:g}, "
                            f"max {spec.volume_max:g}; contract {spec.contract_size:,.0f}")
        for box in (self.sl, self.tp):
            box.setDecimals(spec.digits)
            box.setSingleStep(spec.point * 10)
            box.setValue(0.0)
        self.filling.setText(spec.filling_text)
        self._show_quote()

    def update_snapshot(self, snap: EngineSnapshot) -> None:
        """Follow the market and the account (called with each engine snapshot)."""
        self._snap = snap
        self._quotes = {q.symbol: q for q in snap.quotes}
        self._show_quote()
        problem = account_problem(snap)
        for button in (self.buy_button, self.sell_button):
            button.setEnabled(problem is None)
        if problem is not None:
            self.message.setText(problem)
        elif self.message.text().startswith("Account "):
            self.message.clear()

    def _show_quote(self) -> None:
        spec = self.spec()
        q = self._quotes.get(spec.symbol) if spec else None
        if spec is None or q is None or not q.bid > 0:
            self.bid.setText("-")
            self.ask.setText("-")
            return
        self.bid.setText(f"{q.bid:.{spec.digits}f}")
        self.ask.setText(f"{q.ask:.{spec.digits}f}")

    # ------------------------------------------------------------------ sending

    def order(self, side: str) -> cmd.PlaceOrder | None:
        """The command for ``side``, or None with the reason shown in the dialog."""
        spec = self.spec()
        if spec is None:
            self.message.setText("no symbol")
            return None
        problem = account_problem(self._snap) or spec.volume_problem(self.volume.value())
        if problem is None:
            q = self._quotes.get(spec.symbol)
            problem = stops_problem(side, q.bid if q else math.nan, q.ask if q else math.nan,
                                    self.sl.value(), self.tp.value())
        if problem is not None:
            self.message.setText(problem)
            return None
        return cmd.PlaceOrder(symbol=spec.symbol, side=side, volume=self.volume.value(),
                              sl=self.sl.value(), tp=self.tp.value(),
                              deviation=self.deviation.value(), source="gui")

    def send(self, side: str) -> bool:
        """Emit the order and close, or keep the dialog open with the reason it cannot go."""
        order = self.order(side)
        if order is None:
            return False
        self.orderRequested.emit(order)
        self.accept()
        return True


class OrderTools:
    """New Order and one-click trading in the main window, and the outcome of each order.

    The window gives: ``submit(command)``, ``bridge`` (``snapshot`` and ``events`` signals),
    ``engine.latest_snapshot()``, ``statusBar()``, ``confirm(title, text)``.
    """

    def __init__(self, window: Any) -> None:
        from gui.one_click import OneClickStrip  # one job per module; no import cycle

        self._window = window
        self._sent: dict[str, cmd.PlaceOrder] = {}
        self.dialog: OrderDialog | None = None
        self.new_order_action = QAction("New Order", window)
        self.new_order_action.setShortcut(QKeySequence(Qt.Key.Key_F9))
        self.new_order_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.new_order_action.setToolTip("A market order on one symbol outside any basket (F9)")
        self.new_order_action.triggered.connect(lambda: self.open_dialog())
        window.addAction(self.new_order_action)
        self.strip = OneClickStrip(
            self.submit, window.confirm,
            lambda text: window.statusBar().showMessage(text, MESSAGE_MS))
        banner = getattr(getattr(window, "risk", None), "banner_bar", None)
        if banner is not None:  # on the main toolbar's row, not squeezed beside the banner
            window.insertToolBar(banner, self.strip)
            window.removeToolBarBreak(self.strip)
            window.insertToolBarBreak(banner)
        else:
            window.addToolBar(self.strip)
        window.bridge.snapshot.connect(self._on_snapshot)
        window.bridge.events.connect(self._on_events)

    def specs(self) -> tuple[SymbolSpec, ...]:
        snap = self._window.engine.latest_snapshot()
        return snap.specs if snap is not None else ()

    def open_dialog(self, symbol: str | None = None) -> OrderDialog:
        """Open New Order (window-modal, not blocking), on ``symbol`` when given."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        symbol = symbol or self.strip.symbol.currentText() or None
        dialog = OrderDialog(self.specs(), symbol, self._window)
        dialog.orderRequested.connect(self.submit)
        snap = self._window.engine.latest_snapshot()
        if snap is not None:
            dialog.update_snapshot(snap)
        dialog.open()
        self.dialog = dialog
        return dialog

    def submit(self, order: cmd.PlaceOrder) -> None:
        self._sent[order.command_id] = order
        self._window.submit(order)
        self._window.statusBar().showMessage(
            f"order sent: {order.side.lower()} {order.volume:g} {order.symbol}", MESSAGE_MS)

    def _on_snapshot(self, snap: EngineSnapshot) -> None:
        self.strip.update_snapshot(snap)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.update_snapshot(snap)

    def _on_events(self, events: list[Any]) -> None:
        for ev in events:
            if isinstance(ev, CommandDone) and ev.command_id in self._sent:
                order = self._sent.pop(ev.command_id)
                text = (f"order placed: {ev.message}" if ev.ok else
                        f"order REFUSED ({order.side.lower()} {order.volume:g} "
                        f"{order.symbol}): {ev.message}")
                self._window.statusBar().showMessage(text, MESSAGE_MS)


def install_order_tools(window: Any) -> OrderTools:
    """New Order (F9) and the one-click strip on ``window`` (see ``OrderTools``)."""
    return OrderTools(window)

