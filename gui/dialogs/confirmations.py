"""The texts of the yes/no questions that trade or change the risk state, from a snapshot.

Each question says exactly what will happen, with the figures (the count of baskets and
positions and their P&L for a flatten; the new drawdown reference and the stop level for a
re-arm), and each defaults to No: a reflexive Enter never trades.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def question_box(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A yes/no question whose default (Enter) and escape buttons are No.  ``text`` is shown
    literally: it names clusters, symbols and reasons from data, which are not markup."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask ``question_box``; True only for Yes."""
    return question_box(parent, title, text).exec() == QMessageBox.StandardButton.Yes


def open_counts(snap: Any) -> tuple[int, int]:
    """(baskets open, positions open at the terminal) in ``snap``."""
    return sum(1 for c in snap.clusters if c.basket_id), len(snap.positions)


def flatten_text(snap: Any) -> str:
    """What Flatten all will close, and what it is worth now."""
    baskets, positions = open_counts(snap)
    lines = [f"Close {baskets} basket(s) and every open position ({positions}) at market?", ""]
    for c in snap.clusters:
        if c.basket_id:
            lines.append(f"  {c.name} {c.direction}: P&L (net) {c.pnl:+,.2f}")
    own = {c.basket_id for c in snap.clusters if c.basket_id}
    others = [p for p in snap.positions if p.comment.strip() not in own]
    if others:
        lines.append(f"  {len(others)} position(s) outside the baskets: Profit "
                     f"{sum(p.profit for p in others):+,.2f}")
    net = sum(c.pnl for c in snap.clusters if c.basket_id)
    profit = sum(p.profit for p in snap.positions)
    lines += ["", f"Baskets' P&L (net of swap and round-trip commission): {net:+,.2f}",
              f"All positions' Profit (price only, as in the Trade tab): {profit:+,.2f}"]
    return "\n".join(lines)


def rearm_text(snap: Any) -> str:
    """What re-arming does to the drawdown stop, in money."""
    equity, limit = snap.equity, snap.max_drawdown
    lines = [f"The account is {snap.account_state}: {snap.account_reason}", ""]
    if math.isfinite(equity) and math.isfinite(limit):
        peak = snap.peak_equity
        was = f" (the peak it was measured from: {peak:,.2f})" if math.isfinite(peak) else ""
        lines += [
            "Re-arming clears the account's lock and restarts the drawdown reference at the "
            f"current equity, {equity:,.2f}{was}.",
            f"The {limit:.2%} drawdown stop will then be at {equity * (1 - limit):,.2f}: a "
            f"further loss of {equity * limit:,.2f} halts and flattens the account again.",
        ]
    else:
        lines.append("Re-arming clears the account's lock; the next equity mark becomes the "
                     "drawdown reference.")
    lines += ["", "Re-arm the account now?"]
    return "\n".join(lines)
