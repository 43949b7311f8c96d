"""The Toolbox's Convertible tab: EXTERNAL convertible bonds and the engine's delta hedge.

MT5 has no convertible bonds: the trader holds the bond at another venue and enters it here
("Enter bond..."); the engine journals it as an EXTERNAL position and hedges its stock delta
with the stock CFD inside a band (``engine.hedging``).  For the bond chosen in the selector
the tab shows, as of the hedger's last check (``EngineSnapshot.externals``):

- the bond (marked EXTERNAL), its terms and the pricer's inputs as entered;
- the model at the stock's mid: price, delta, gamma, parity, bond floor, and the implied
  volatility of the market price the trader last entered;
- the hedge: target = -bonds x delta, held at the terminal, the band, and what the hedger
  did;
- the P&L split since entry (``engine.hedging_pnl``) and its total;
- a chart of bonds x delta and the hedge held over time.

Each figure's tooltip states its basis; each recomputes from the others shown (target from
bonds and delta, parity from ratio and spot, the total from the parts).  The tab acts only
through commands (``command`` signal -> ``Engine.submit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import commands as cmd
from engine.hedging_pnl import PNL_BASIS, PNL_PARTS
from engine.hedging_views import ExternalBondView
from gui.dialogs.confirmations import ask
from gui.plain_text import plain_label, plain_tip
from gui.toolbox.convertible_chart import HedgeChart
from gui.toolbox.convertible_form import ExternalBondDialog
from gui.toolbox.format import LOSS, MISSING, PROFIT, figures_font, format_money

EMPTY_TEXT = ("No external convertible bond held. MT5 lists no convertibles: hold the bond "
              "at another venue, enter it with \"Enter bond...\", and the engine hedges its "
              "delta with the stock CFD inside a band.")

#: The bond line's tooltip: what it says, in order.
BOND_TIP = ("The bond's id, EXTERNAL (held at another venue, never sent to the terminal, "
            "journaled as entered); bonds x conversion ratio = the shares it converts into; "
            "the price paid per bond and when; face, annual coupon and its frequency, "
            "maturity (years left), the call and put dates with their clean prices per bond "
            "(when entered); the pricer's entered inputs: volatility, rate, dividend "
            "yield, credit spread (annual)")
#: The commands this tab sends, whose answers it shows.
COMMANDS = ("OpenExternalBond", "CloseExternalBond", "SetHedge")
#: The P&L split's row labels (``engine.hedging_pnl.PNL_PARTS``, then the total).
PNL_LABELS = {"edge": "Edge", "gamma_trading": "Gamma trading", "rest": "Rest (θ, vega)",
              "coupon": "Coupon", "bond_financing": "Bond financing",
              "stock_financing": "Stock financing", "hedge_cost": "Hedge cost",
              "total": "Total"}
#: Characters of the status shown (the whole sentence is in its tooltip).
STATUS_CHARS = 34
#: (key, label, tooltip) of the figures, in groups.
MODEL_ROWS = (
    ("spot", "Spot (mid)", "The stock CFD's mid at the last check"),
    ("price", "Model price", "The pricer's price of one bond at the spot (binomial tree, "
                             "credit as a blended discount, as QuantLib's engine; dirty)"),
    ("delta", "Delta", "d price / d spot: shares per bond, and as a share of the ratio"),
    ("gamma", "Gamma", "d delta / d spot, per bond"),
    ("parity", "Parity", "Conversion ratio x spot: what converting now gives"),
    ("floor", "Bond floor", "Coupons and face discounted at rate + credit spread, without "
                            "the conversion right"),
    ("implied", "Implied vol", "The volatility at which the model prices the market price "
                               "entered (the entry price until another is set), at the "
                               "spot and date it was entered"),
)
HEDGE_ROWS = (
    ("target", "Target", "-(bonds x delta): the shares the hedge should hold"),
    ("held", "Held", "The hedge at the terminal: positions on the stock CFD with the bond's "
                     "magic (short negative)"),
    ("band", "Band", "+- band x bonds x ratio shares around the target; outside it the "
                     "hedger trades back to the target"),
    ("gap", "Held - target", "Inside the band: nothing is traded"),
    ("checked", "Last check", "When the hedger last checked (market time, UTC)"),
    ("status", "Action", "What the hedger did at the last check"),
)


class ConvertibleTab(QWidget):
    """The tab (see the module docstring); ``update_views`` takes the snapshot's bonds."""

    command = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._views: dict[str, ExternalBondView] = {}
        self._symbols: tuple[str, ...] = ()
        self.values: dict[str, QLabel] = {}
        self._build()
        self.update_views(())

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.selector = QComboBox()
        self.selector.setMinimumContentsLength(18)
        self.selector.currentIndexChanged.connect(lambda _i: self._show())
        self.enter_button = QPushButton("Enter bond...")
        self.enter_button.clicked.connect(self.open_form)
        self.pause_button = QPushButton("Pause hedge")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.market_price = QDoubleSpinBox()
        self.market_price.setRange(0.01, 1e7)
        self.market_price.setDecimals(2)
        self.market_price.setToolTip("A price of the bond seen at its venue: the implied "
                                     "volatility is solved from it")
        self.market_button = QPushButton("Set market price")
        self.market_button.setToolTip("Solve the implied volatility from this price")
        self.market_button.clicked.connect(
            lambda: self.set_market_price(self.market_price.value()))
        self.close_price = QDoubleSpinBox()
        self.close_price.setRange(0.01, 1e7)
        self.close_price.setDecimals(2)
        self.close_price.setToolTip("The price the bond was sold at, per bond")
        self.close_button = QPushButton("Close bond...")
        self.close_button.clicked.connect(self._confirm_close)
        bar = QHBoxLayout()
        for w in (self.selector, self.enter_button, self.pause_button, self.market_price,
                  self.market_button, self.close_price, self.close_button):
            bar.addWidget(w)
        #: The engine's answer to this tab's last command (a refusal in one line).
        self.answer = plain_label()  # the engine's message
        self.answer.setWordWrap(True)
        bar.addWidget(self.answer, 1)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.bond_line = QLabel(MISSING)  # rich text: its data pieces are escaped
        self.bond_line.setTextFormat(Qt.TextFormat.RichText)
        self.bond_line.setToolTip(BOND_TIP)
        self.bond_line.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        for col, rows in enumerate((MODEL_ROWS, HEDGE_ROWS)):
            for row, (key, label, tip) in enumerate(rows):
                self._add_figure(grid, row, col * 2, key, label, tip)
        for row, part in enumerate((*PNL_PARTS, "total")):
            tip = PNL_BASIS.get(part, "The sum of the parts: bonds x (price now - entry) + "
                                      "coupons + the hedge at the terminal + financing")
            self._add_figure(grid, row, 4, f"pnl_{part}", PNL_LABELS[part], tip)
        self.chart = HedgeChart()
        self.chart.setMinimumWidth(200)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(grid, 0)
        body.addWidget(self.chart, 1)
        details = QVBoxLayout()
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self.bond_line)
        details.addLayout(body, 1)
        self.details = QWidget()
        self.details.setLayout(details)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        layout.addWidget(self.details, 1)

    def _add_figure(self, grid: QGridLayout, row: int, col: int, key: str, label: str,
                    tip: str) -> None:
        name = QLabel(label)
        name.setToolTip(tip)
        value = plain_label(MISSING)  # figures and the engine's status text
        value.setFont(figures_font())
        value.setToolTip(tip)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values[key] = value
        grid.addWidget(name, row, col)
        grid.addWidget(value, row, col + 1)

    # ------------------------------------------------------------------ updates

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """The market's symbols the form offers (stock CFDs first: any non-FX name)."""
        names = list(symbols)
        stocks = [s for s in names if not (len(s) == 6 and s.isalpha() and s.isupper())]
        self._symbols = tuple(stocks + [s for s in names if s not in stocks])

    def update_views(self, views: Sequence[ExternalBondView]) -> None:
        self._views = {v.bond_id: v for v in views}
        current = self.selector.currentData()
        ids = list(self._views)
        if ids != [self.selector.itemData(i) for i in range(self.selector.count())]:
            self.selector.blockSignals(True)
            self.selector.clear()
            for bond_id in ids:
                self.selector.addItem(f"{bond_id} ({self._views[bond_id].symbol})", bond_id)
            if current in ids:
                self.selector.setCurrentIndex(ids.index(current))
            self.selector.blockSignals(False)
        held = bool(ids)
        self.empty.setVisible(not held)
        self.details.setVisible(held)
        for w in (self.pause_button, self.market_button, self.close_button,
                  self.market_price, self.close_price):
            w.setEnabled(held)
        self._show()

    def selected(self) -> ExternalBondView | None:
        return self._views.get(self.selector.currentData())

    def _show(self) -> None:
        view = self.selected()
        if view is None:
            return
        self.pause_button.setText("Resume hedge" if view.paused else "Pause hedge")
        texts = figure_texts(view)
        self.bond_line.setText(texts.pop("bond"))
        for key, text in texts.items():
            self.values[key].setText(text)
        self.values["status"].setToolTip(plain_tip(f"{HEDGE_ROWS[-1][2]}: {view.status}"))
        for part, value in (*view.split, ("total", view.total)):
            label = self.values[f"pnl_{part}"]
            label.setText(format_money(value, signed=True) if view.split else MISSING)
            colour = PROFIT if value > 0 else LOSS if value < 0 else None
            label.setStyleSheet(f"color: {colour.name()}" if colour is not None else "")
        if not self.close_price.hasFocus() and math.isfinite(view.price):
            self.close_price.setValue(round(view.price, 2))
        if not self.market_price.hasFocus() and math.isfinite(view.market_price):
            self.market_price.setValue(view.market_price)
        points = view.history
        self.chart.set_points(np.array([p.time.timestamp() for p in points]),
                              np.array([p.delta_shares for p in points]),
                              np.array([p.held for p in points]), view.band)

    # ------------------------------------------------------------------ actions

    def on_command_done(self, name: str, ok: bool, message: str) -> None:
        """Show the engine's answer to one of this tab's commands (others are ignored)."""
        if name not in COMMANDS:
            return
        self.answer.setText(f"{name}: {message}" if ok else f"{name} refused: {message}")
        self.answer.setStyleSheet("" if ok else f"color: {LOSS.name()}")

    def open_form(self) -> None:
        dialog = ExternalBondDialog(self._symbols, self)
        if dialog.exec():
            self.enter(dialog.command())

    def enter(self, command: cmd.OpenExternalBond) -> None:
        self.command.emit(command)

    def _toggle_pause(self) -> None:
        view = self.selected()
        if view is not None:
            self.command.emit(cmd.SetHedge(bond_id=view.bond_id, paused=not view.paused,
                                           source="gui"))

    def set_market_price(self, price: float) -> None:
        view = self.selected()
        if view is not None:
            self.command.emit(cmd.SetHedge(bond_id=view.bond_id, market_price=float(price),
                                           source="gui"))

    def _confirm_close(self) -> None:
        view = self.selected()
        if view is None:
            return
        price = self.close_price.value()
        if ask(self, "Close the external bond",
               f"Record {view.bond_id} ({view.bonds:g} bonds) as sold at {price:,.2f} a bond, "
               f"and close its hedge of {view.held:+g} {view.symbol} shares at the market?"):
            self.close_bond(price)

    def close_bond(self, price: float) -> None:
        view = self.selected()
        if view is not None:
            self.command.emit(cmd.CloseExternalBond(bond_id=view.bond_id, price=float(price),
                                                    source="gui"))


def figure_texts(view: ExternalBondView) -> dict[str, str]:
    """Every figure of the tab as it reads (see ``BOND_ROWS`` and siblings)."""
    freq = {1: "annual", 2: "semi", 4: "quarterly", 12: "monthly"}
    delta_pct = view.delta / view.ratio if view.ratio else math.nan
    status = view.status  # shown in a plain-text label
    if len(status) > STATUS_CHARS:
        status = status[:STATUS_CHARS - 1] + "…"
    paused = "  (hedge paused)" if view.paused else ""
    return {
        "bond": f"<b>{escape(view.bond_id)}</b> EXTERNAL{paused} · {view.bonds:g} bonds x "
                f"{view.ratio:g} = {view.bonds * view.ratio:,.0f} {escape(view.symbol)} shares · "
                f"bought at {view.entry_price:,.2f} on {view.opened_at:%Y-%m-%d} · face "
                f"{view.face:,.0f}, coupon {view.coupon:.3%} {freq.get(view.frequency, '')}, "
                f"matures {view.maturity:%Y-%m-%d} ({view.years_left:.2f} y)<br>"
                + " · ".join(part for part in (
                    _schedule_text("calls", view.calls), _schedule_text("puts", view.puts),
                    f"vol {view.volatility:.1%}, rate {view.rate:.2%}, dividend yield "
                    f"{view.dividend_yield:.2%}, credit spread {view.credit_spread:.2%}")
                    if part),
        "spot": _num(view.spot, 2),
        "price": _num(view.price, 2),
        "delta": (f"{view.delta:.3f} sh/bond ({delta_pct:.1%})"
                  if math.isfinite(view.delta) else MISSING),
        "gamma": _num(view.gamma, 4),
        "parity": _num(view.parity, 2),
        "floor": _num(view.bond_floor, 2),
        "implied": _implied(view),
        "target": _num(view.target, 1, " sh"),
        "held": f"{view.held:+,.0f} sh",
        "band": f"+-{view.band:,.1f} sh ({view.band_setting:.1%})",
        "gap": _num(view.held - view.target, 1, " sh", signed=True),
        "checked": MISSING if view.time is None else f"{view.time:%Y-%m-%d %H:%M}",
        "status": status,
    }


def _implied(view: ExternalBondView) -> str:
    """``24.10% at 1,090.00 (2020-10-15)``: the volatility, the price and when it was
    entered (a dash when no volatility prices it)."""
    vol = f"{view.implied_vol:.2%}" if math.isfinite(view.implied_vol) else MISSING
    when = f" ({view.implied_at:%Y-%m-%d})" if view.implied_at is not None else ""
    return f"{vol} at {view.market_price:,.2f}{when}"


def _num(value: float, digits: int, unit: str = "", *, signed: bool = False) -> str:
    if not math.isfinite(value):
        return MISSING
    return f"{value:{'+' if signed else ''},.{digits}f}{unit}"


def views_of(snapshot: Any) -> tuple[ExternalBondView, ...]:
    """The snapshot's external bonds (an older snapshot without them: none)."""
    return tuple(getattr(snapshot, "externals", ()) or ())


def _schedule_text(name: str, schedule: tuple[tuple[datetime, float], ...]) -> str:
    """``calls 2023-01-04 at 1,050, 2024-01-04 at 1,025`` (nothing without dates)."""
    if not schedule:
        return ""
    return f"{name} " + ", ".join(f"{when:%Y-%m-%d} at {price:,.0f}"
                                  for when, price in schedule)
