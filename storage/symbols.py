"""What a symbol name may be, wherever the product stores one.

A symbol becomes a folder of the market-data store and a value in files the product reads
back (spread profiles), so one rule holds for all of them: letters, digits and ``. _ # -``,
beginning with a letter or digit, 32 at most (MT5's own names fit: ``EURUSD``,
``US500.cash``, ``#AAPL``).  A name outside it (``=EURUSD``, ``../x``) is refused when it is
given, so no file is ever written that a reader would then refuse.
"""

from __future__ import annotations

import re

from engine.errors import UserError

#: A symbol name, whole.
SYMBOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._#-]{0,31}")


def is_symbol_name(symbol: str) -> bool:
    return SYMBOL_NAME.fullmatch(symbol) is not None


def check_symbol_name(symbol: str) -> str:
    """``symbol``, or a ``UserError`` saying what a name may hold."""
    if not is_symbol_name(symbol):
        raise UserError(
            f"invalid symbol name {symbol!r}: letters, digits and . _ # - only, 32 at most")
    return symbol
