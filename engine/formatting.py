"""How amounts read wherever the product shows them: the console, the reports, the commands.

One definition, so that the same P&L never prints two ways in two places.
"""

from __future__ import annotations

import math

#: What an undefined amount reads as (a journal with no closed basket has no P&L).
NOT_AVAILABLE = "n/a"


def format_money(value: float, *, signed: bool = False, missing: str = NOT_AVAILABLE) -> str:
    """An account-currency amount: two decimals, thousands separated, a P&L signed.

    NaN reads as ``missing``; an infinite value as a signed infinity sign.
    """
    if math.isnan(value):
        return missing
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"
