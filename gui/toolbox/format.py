"""How the Market Watch and Toolbox tables write numbers, times and colours.

One place for these rules so the same price reads the same in every table: a trader compares
the Market Watch bid with a position's current price at a glance, and a 5-digit EURUSD shown
with 4 digits in one table and 5 in the other looks like two different prices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from PySide6.QtGui import QColor, QFont, QFontDatabase

from engine import formatting

#: MT5's light-theme colours: blue for a rising quote, red for a falling one.
TICK_UP = QColor(0, 70, 200)
TICK_DOWN = QColor(200, 0, 0)
#: Profit and loss (darker than pure green/red so they stay legible on white).
PROFIT = QColor(0, 128, 0)
LOSS = QColor(192, 0, 0)
#: Log levels.
WARNING_TEXT = QColor(176, 96, 0)
ERROR_TEXT = QColor(192, 0, 0)
#: Background of a basket's group row in the Trade tab.
GROUP_BACKGROUND = QColor(236, 240, 246)
#: Shown for a figure that is undefined (a win rate without baskets).
MISSING = "—"


def price_digits(symbol: str, price: float, digits: Mapping[str, int] | None = None) -> int:
    """Decimal places of ``symbol``'s quotes: the broker's figure when known, else a guess.

    The guess follows FX convention: JPY-quoted pairs have 3 digits, gold 2, silver 3, and
    other symbols by magnitude (below 50: 5, as majors and USD/exotics; below 1000: 3;
    above: 2).  A broker with 4-digit quotes shows a trailing zero, never a lost digit.
    """
    if digits is not None and symbol in digits:
        return int(digits[symbol])
    name = symbol.upper()
    if name.startswith("XAU"):
        return 2
    if name.startswith("XAG"):
        return 3
    if len(name) >= 6 and name[3:6] == "JPY":
        return 3
    magnitude = abs(price)
    if magnitude < 50:
        return 5
    if magnitude < 1000:
        return 3
    return 2


def digits_from_spread(bid: float, ask: float, spread_points: float) -> int | None:
    """The quote's digits implied by its spread in points (point = 10**-digits), or None.

    The engine reports the spread in points, so ``(ask - bid) / spread_points`` is the point
    size; only a clean power of ten between 0 and 8 digits is trusted.
    """
    if not (spread_points > 0 and ask > bid) or not math.isfinite(ask - bid):
        return None
    exponent = -math.log10((ask - bid) / spread_points)
    nearest = round(exponent)
    if abs(exponent - nearest) > 0.05 or not 0 <= nearest <= 8:
        return None
    return int(nearest)


def format_price(price: float, digits: int) -> str:
    if not math.isfinite(price):
        return MISSING
    return f"{price:.{digits}f}"


def format_money(value: float, *, signed: bool = False) -> str:
    """Account-currency amounts as everywhere in the product; a missing one is a dash."""
    return formatting.format_money(value, signed=signed, missing=MISSING)


def format_volume(volume: float) -> str:
    """Lots with 2 decimals (MT5's display), more only when the volume needs them."""
    text = f"{volume:.2f}"
    return text if float(text) == volume else f"{volume:g}"


def money_colour(value: float) -> QColor | None:
    if value > 0:
        return PROFIT
    if value < 0:
        return LOSS
    return None


def utc_clock(value: datetime | None) -> str:
    """HH:MM:SS in UTC (the product's one clock)."""
    return "" if value is None else value.astimezone(UTC).strftime("%H:%M:%S")


def utc_stamp(value: datetime | None) -> str:
    """Date and minute in UTC, as the History and Calendar tables list them."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def figures_font(base: QFont | None = None) -> QFont:
    """A fixed-pitch font the size of ``base`` so digits line up down a column."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if base is not None:
        font.setPointSizeF(base.pointSizeF())
    return font
