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


def traded_days(start: str, end: str) -> str:
    """A traded period ``[start, end)`` (ISO instants, the end exclusive) as the days it
    covers, both inclusive: "2019-02-01 .. 2019-04-30 UTC" for an end at 2019-05-01 00:00,
    so that a reader does not take the exclusive end for a traded day."""
    from datetime import datetime, timedelta

    first = datetime.fromisoformat(start)
    last = datetime.fromisoformat(end) - timedelta(milliseconds=1)
    return f"{first:%Y-%m-%d} .. {last:%Y-%m-%d} UTC"
