"""Enter a convertible bond held at another venue: the form behind "Enter bond...".

The bond is an EXTERNAL leg: the form builds an ``OpenExternalBond`` command, the engine
journals the bond and hedges its delta with the stock CFD (``engine.hedging``).  Nothing is
sent to the terminal for the bond itself.  Every field has the range the engine accepts
(``engine.hedging_bond``), so a value out of range cannot be typed; what only the engine can
check (the symbol's market, the maturity after today) comes back as the command's one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd
from engine.hedging_bond import HedgeSettings
from gui.plain_text import plain_label
from gui.toolbox.format import LOSS

#: (field, label, minimum, maximum, decimals, default, step, tooltip)
_FIELDS: tuple[tuple[str, str, float, float, int, float, float, str], ...] = (
    ("bonds", "Bonds", 1, 1e6, 0, 10, 1, "Number of bonds held at the other venue"),
    ("entry_price", "Entry price", 0.01, 1e7, 2, 1000, 1,
     "Price paid per bond (the same currency as face)"),
    ("face", "Face", 1, 1e7, 2, 1000, 100, "Redemption amount per bond at maturity"),
    ("coupon", "Coupon %", 0, 50, 3, 2.0, 0.125, "Annual coupon rate on face, in percent"),
    ("maturity_years", "Maturity (years)", 0.02, 50, 2, 5, 0.25,
     "Years from now to maturity (ACT/365)"),
    ("ratio", "Conversion ratio", 0.0001, 1e6, 4, 20, 1, "Shares one bond converts into"),
    ("volatility", "Volatility %", 1, 300, 2, 25, 1,
     "The stock's annual volatility the pricer takes (an input: MT5 quotes no option)"),
    ("rate", "Rate %", -5, 50, 3, 3, 0.25, "Risk-free rate, annual, continuously compounded"),
    ("dividend_yield", "Dividend yield %", 0, 50, 3, 0, 0.25, "The stock's dividend yield"),
    ("credit_spread", "Credit spread %", 0, 50, 3, 2, 0.25,
     "The issuer's spread over the rate (an input: no credit market on MT5)"),
    ("band", "Delta band %", 0.1, 50, 2, HedgeSettings().band * 100, 0.5,
     "Re-hedge when |held - target| exceeds this share of bonds x ratio"),
)
#: Fields entered in percent and sent as fractions.
_PERCENT = frozenset({"coupon", "volatility", "rate", "dividend_yield", "credit_spread", "band"})
#: The call and put schedules: (field, label, tooltip).
_SCHEDULES = (
    ("calls", "Calls", "The issuer's call dates, in years from now, each with its clean call "
                       "price per bond: 2:1050, 3:1025 (empty: not callable)"),
    ("puts", "Puts", "The holder's put dates, in years from now, each with its clean put "
                     "price per bond: 3:1000 (empty: no put)"),
)


def parse_schedule(text: str, name: str = "schedule") -> tuple[tuple[float, float], ...]:
    """``"2:1050, 3:1025"`` -> ``((2.0, 1050.0), (3.0, 1025.0))``; ValueError naming the
    entry that is not ``years:price`` with both positive numbers.  The engine checks the
    dates against the maturity (its answer is the command's one line)."""
    out = []
    for part in text.replace(";", ",").split(","):
        entry = part.strip()
        if not entry:
            continue
        years, colon, price = entry.partition(":")
        try:
            pair = (float(years), float(price)) if colon else None
        except ValueError:
            pair = None
        if pair is None or not all(0 < v < float("inf") for v in pair):
            raise ValueError(f"{name}: {entry!r} is not years:price (e.g. 2:1050)")
        out.append(pair)
    return tuple(out)


class ExternalBondDialog(QDialog):
    """The form; ``command()`` is the ``OpenExternalBond`` it describes."""

    def __init__(self, symbols: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enter an external convertible bond")
        self.symbol = QComboBox()
        self.symbol.addItems(list(symbols))
        self.symbol.setToolTip("The stock CFD the bond converts into: the hedge trades it")
        self.frequency = QComboBox()
        for n, name in ((1, "annual"), (2, "semi-annual"), (4, "quarterly"), (12, "monthly")):
            self.frequency.addItem(name, n)
        self.frequency.setCurrentIndex(1)
        self.european = QCheckBox("European (convert only at maturity)")
        self.boxes: dict[str, QDoubleSpinBox] = {}
        grid = QGridLayout()
        grid.addWidget(QLabel("Stock CFD"), 0, 0)
        grid.addWidget(self.symbol, 0, 1)
        for i, (name, label, lo, hi, decimals, default, step, tip) in enumerate(_FIELDS):
            box = QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setDecimals(decimals)
            box.setSingleStep(step)
            box.setValue(default)
            box.setToolTip(tip)
            self.boxes[name] = box
            row, col = divmod(i + 1, 2)
            grid.addWidget(QLabel(label), row, col * 2)
            grid.addWidget(box, row, col * 2 + 1)
        last = (len(_FIELDS) + 2) // 2 + 1
        grid.addWidget(QLabel("Coupons"), last, 0)
        grid.addWidget(self.frequency, last, 1)
        grid.addWidget(self.european, last, 2, 1, 2)
        self.schedules: dict[str, QLineEdit] = {}
        for i, (name, label, tip) in enumerate(_SCHEDULES):
            edit = QLineEdit()
            edit.setPlaceholderText("years:price, ...  (e.g. 2:1050, 3:1025)")
            edit.setToolTip(tip)
            self.schedules[name] = edit
            grid.addWidget(QLabel(label), last + 1 + i, 0)
            grid.addWidget(edit, last + 1 + i, 1, 1, 3)
        self.problem = plain_label()  # the parse error quotes what the trader typed
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {LOSS.name()}")
        note = QLabel("The bond is held elsewhere: it is journaled as EXTERNAL and never sent "
                      "to the terminal. The engine hedges its delta with the stock CFD.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enter bond")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow(note)
        layout.addLayout(form)
        layout.addLayout(grid)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def accept(self) -> None:
        """Close only on a form that makes a command: a schedule that does not parse is
        said under the form, which stays open."""
        try:
            self.command()
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        super().accept()

    def set_value(self, name: str, value: float) -> None:
        """Fill a field (in the unit the form shows: percent for rates)."""
        self.boxes[name].setValue(value)

    def command(self) -> cmd.OpenExternalBond:
        values = {name: box.value() / (100.0 if name in _PERCENT else 1.0)
                  for name, box in self.boxes.items()}
        return cmd.OpenExternalBond(
            symbol=self.symbol.currentText(), bonds=values["bonds"],
            entry_price=values["entry_price"], maturity_years=values["maturity_years"],
            ratio=values["ratio"], face=values["face"], coupon=values["coupon"],
            frequency=int(self.frequency.currentData()), european=self.european.isChecked(),
            volatility=values["volatility"], rate=values["rate"],
            dividend_yield=values["dividend_yield"], credit_spread=values["credit_spread"],
            band=values["band"], source="gui",
            calls=parse_schedule(self.schedules["calls"].text(), "Calls"),
            puts=parse_schedule(self.schedules["puts"].text(), "Puts"))
