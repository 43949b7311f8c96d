"""Add a merger-arbitrage deal while running: the Deals tab's **Add deal...** dialog.

MT5 has no deal feed, so the trader types the deal in: its name, target (and acquirer for
stock terms), the terms, the announcement and expected close dates, the break price
estimate and the financing.  The dialog checks the deal as a cluster file would
(``engine.kinds.deal.deal_spec``: one line naming the field) before it offers OK, and
returns the ``commands.AddDeal`` the engine journals; the journal keeps the deal for the
next session (``app.deals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from engine import commands as cmd
from engine import ranges
from engine.kinds import KIND_DEFAULTS
from engine.kinds.deal import deal_spec
from engine.kinds.deal_params import CASH, FINANCINGS, TERMS
from gui.plain_text import plain_label

ERROR_STYLE = "color: rgb(192, 0, 0);"


def _spin(low: float, high: float, value: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setValue(value)
    return box


def _date_edit(value: date) -> QDateEdit:
    edit = QDateEdit(QDate(value.year, value.month, value.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


class DealDialog(QDialog):
    """The deal's fields; ``command()`` is the ``AddDeal`` to submit once accepted.

    ``symbols``: the market's symbols (the target and acquirer choices); ``timeframes``: the
    signal timeframes the running market builds (D1 first when it does); ``magic``: the
    magic number the new cluster's orders carry (unused by the other clusters); ``today``:
    the session's date, the dates' starting point.
    """

    def __init__(self, symbols: Sequence[str], timeframes: Sequence[str], magic: int,
                 today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add deal")
        self.magic = magic
        defaults = KIND_DEFAULTS["deal"]
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. KO_DEAL (11 characters at most)")
        self.target = QComboBox()
        self.target.addItems(list(symbols))
        self.acquirer = QComboBox()
        self.acquirer.addItems(list(symbols))
        self.terms = QComboBox()
        self.terms.addItems(list(TERMS))
        self.cash = _spin(0.0, 1e6, 0.0)
        self.ratio = _spin(0.0, 1000.0, 0.0, decimals=4)
        self.break_price = _spin(0.0, 1e6, 0.0)
        self.announced = _date_edit(today)
        self.expected_close = _date_edit(date(today.year + 1, today.month, min(today.day, 28)))
        self.financing = QComboBox()
        self.financing.addItems(list(FINANCINGS))
        self.long_rate = _spin(-100.0, 100.0, 4.5)
        self.short_rate = _spin(-100.0, 100.0, 2.5)
        self.timeframe = QComboBox()
        ordered = sorted(timeframes, key=lambda tf: tf != "D1")
        self.timeframe.addItems(ordered)
        self.entry = _spin(0.01, 99.0, defaults.entry)
        self.exit_band = _spin(0.01, 99.0, defaults.exit_band)
        self.error = plain_label()  # the problem quotes the name the trader typed
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        intro = QLabel("MT5 has no deal feed: state the deal as announced. Long the "
                       "target, short ratio x acquirer for stock terms; sized so that a fall "
                       "to the break price loses the risk budget.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.setMinimumWidth(520)
        for label, widget in (
                ("Name", self.name), ("Target", self.target), ("Acquirer (stock terms)",
                                                               self.acquirer),
                ("Terms", self.terms), ("Cash per target share", self.cash),
                ("Exchange ratio (acquirer shares)", self.ratio),
                ("Break price estimate", self.break_price), ("Announced", self.announced),
                ("Expected close", self.expected_close), ("Financing", self.financing),
                ("Long target rate, % a year (financing = rate)", self.long_rate),
                ("Short acquirer rate, % a year (financing = rate)", self.short_rate),
                ("Signal timeframe", self.timeframe),
                ("E: enter above, net % a year", self.entry),
                ("X: exit below, net % a year", self.exit_band)):
            form.addRow(label, widget)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for widget in (self.name, self.target, self.acquirer, self.terms, self.cash,
                       self.ratio, self.break_price, self.announced, self.expected_close,
                       self.financing, self.long_rate, self.short_rate, self.timeframe,
                       self.entry, self.exit_band):
            signal = getattr(widget, "textChanged", None) or getattr(
                widget, "currentIndexChanged", None) or getattr(widget, "valueChanged", None) \
                or widget.dateChanged  # type: ignore[attr-defined]
            signal.connect(self._check)
        self._check()

    # ------------------------------------------------------------------ the deal

    def deal(self) -> dict[str, object]:
        """The ``[cluster.deal]`` keys as typed (dates as ``YYYY-MM-DD``)."""
        terms = self.terms.currentText()
        out: dict[str, object] = {
            "terms": terms, "break_price": self.break_price.value(),
            "announced": self.announced.date().toString("yyyy-MM-dd"),
            "expected_close": self.expected_close.date().toString("yyyy-MM-dd"),
            "financing": self.financing.currentText(),
            "long_rate": self.long_rate.value(), "short_rate": self.short_rate.value(),
        }
        if terms != "stock":
            out["cash"] = self.cash.value()
        if terms != CASH:
            out["ratio"] = self.ratio.value()
        return out

    def symbols(self) -> tuple[str, ...]:
        target = self.target.currentText()
        if self.terms.currentText() == CASH:
            return (target,)
        return (target, self.acquirer.currentText())

    def command(self) -> cmd.AddDeal:
        return cmd.AddDeal(cluster=self.name.text().strip(), symbols=self.symbols(),
                           magic=self.magic, deal=self.deal(),
                           timeframe=self.timeframe.currentText(), entry=self.entry.value(),
                           exit_band=self.exit_band.value(), source="gui")

    def problem(self) -> str:
        """What is wrong with the deal as typed ("" when a cluster file would take it)."""
        c = self.command()
        if not c.cluster:
            return "name: give the deal a name (it begins its baskets' ids)"
        try:
            deal_spec(c.cluster, c.symbols, c.magic, c.deal, timeframe=c.timeframe,
                      entry=c.entry, exit_band=c.exit_band)
        except (ranges.FieldError, ValueError) as exc:
            field = getattr(exc, "field", "")
            reason = getattr(exc, "reason", str(exc))
            return f"{'name' if field == 'name' else field}: {reason}" if field else reason
        return ""

    def _check(self, *_: object) -> None:
        terms = self.terms.currentText()
        self.acquirer.setEnabled(terms != CASH)  # what the terms read, and only that
        self.ratio.setEnabled(terms != CASH)
        self.cash.setEnabled(terms != "stock")
        problem = self.problem()
        self.error.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
