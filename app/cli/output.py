"""How the commands print figures: one place, so a P&L or a percentage reads alike everywhere.

Figures that may be missing (a metric a short run cannot compute) come as ``None`` or NaN
and print as ``n/a``.
"""

from __future__ import annotations

import math

from engine.formatting import NOT_AVAILABLE, format_money

NA = NOT_AVAILABLE


def money(value: float) -> str:
    """``12,345.67``; NaN is ``n/a`` (a journal with no closed basket has no P&L)."""
    return format_money(value)


def signed_money(value: object) -> str:
    """A signed amount in a 10-wide column (tables of P&L per cluster)."""
    return f"{format_money(value, signed=True):>10}" if isinstance(value, float) else f"{NA:>10}"


def pct(value: object) -> str:
    """A signed percentage from a fraction (0.0123 is ``+1.23%``)."""
    return f"{value:+.2%}" if isinstance(value, float) else NA


def unsigned_pct(value: object) -> str:
    """A magnitude as a percentage, no sign (a drawdown of 0.0022 is ``0.22%``)."""
    return f"{abs(value):.2%}" if isinstance(value, float) else NA


def num(value: object) -> str:
    """A ratio such as a Sharpe or a DSR, two decimals."""
    return f"{value:.2f}" if isinstance(value, float) else NA


def csv_number(value: float) -> str:
    """Full precision for a CSV cell; an undefined value is an empty cell."""
    return "" if not math.isfinite(value) else repr(float(value))
