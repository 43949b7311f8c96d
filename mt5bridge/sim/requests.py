"""Argument and request parsing exactly as strict as the ``MetaTrader5`` package.

The real package is written in C and checks types the C way: a request field declared as an
integer must be a Python ``int`` (a ``numpy.int64`` is refused), a float field must be a
``float`` or a subclass (``1`` for a volume is refused, ``numpy.float64`` passes), strings
are limited to 29 UTF-16 code units, missing keys read as 0 and unknown keys are never
looked at.  A bad field does not raise: ``order_send`` returns ``None`` and ``last_error()``
names the field.  Reproducing this in the simulator is what makes code that passes demo and
backtest also pass its first live order.

Dates are parsed the C way too: ``int`` (a 32-bit C long), ``float`` (truncated) or a
``datetime`` converted with ``.timestamp()``, so a naive datetime is read in the local time
zone of the process.  The resulting number is taken as broker server time.
"""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Any

from mt5bridge.structs import STRUCT_FIELDS, TradeRequest

__all__ = [
    "FLOAT_FIELDS",
    "INT_FIELDS",
    "MAX_STRING_UNITS",
    "STR_FIELDS",
    "ArgumentError",
    "c_double",
    "c_int",
    "c_ulong",
    "parse_date",
    "parse_request",
    "parse_symbol",
    "utf16_units",
]

INT_FIELDS: frozenset[str] = frozenset(
    ("action", "magic", "order", "deviation", "type", "type_filling", "type_time",
     "expiration", "position", "position_by")
)
FLOAT_FIELDS: frozenset[str] = frozenset(("volume", "price", "stoplimit", "sl", "tp"))
STR_FIELDS: frozenset[str] = frozenset(("symbol", "comment"))

#: Longest ``symbol``/``comment`` the package accepts, in UTF-16 code units.
MAX_STRING_UNITS = 29

_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_C_LONG_MIN = -(2**31)
_C_LONG_MAX = 2**31 - 1


class ArgumentError(Exception):
    """An argument the package refuses with ``last_error() == (-2, message)``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def utf16_units(text: str) -> int:
    """Length as the terminal's wide strings count it (astral characters count twice)."""
    return len(text.encode("utf-16-le")) // 2


def parse_request(request: object) -> Any:
    """A request dict -> the ``TradeRequest`` echo, or ``ArgumentError`` naming the key."""
    if not isinstance(request, dict):
        raise ArgumentError("Invalid arguments")
    values: list[object] = []
    for name in STRUCT_FIELDS["TradeRequest"]:
        value = request.get(name)
        if name in INT_FIELDS:
            if value is None and name not in request:
                values.append(0)
            elif isinstance(value, int) and _INT64_MIN <= value <= _UINT64_MAX:
                values.append(int(value))
            else:
                raise ArgumentError(f'Invalid "{name}" argument')
        elif name in FLOAT_FIELDS:
            if value is None and name not in request:
                values.append(0.0)
            elif isinstance(value, float):
                values.append(float(value))
            else:
                raise ArgumentError(f'Invalid "{name}" argument')
        else:
            if value is None and name not in request:
                values.append("")
            elif isinstance(value, str) and utf16_units(value) <= MAX_STRING_UNITS:
                values.append(value)
            else:
                raise ArgumentError(f'Invalid "{name}" argument')
    return TradeRequest(values)


def parse_date(value: object) -> int:
    """A date argument -> server-time epoch seconds (see the module note)."""
    if isinstance(value, datetime):
        seconds = int(value.timestamp())
    elif isinstance(value, float | int):
        seconds = int(value)
    else:
        raise ArgumentError("Invalid arguments")
    if not _C_LONG_MIN <= seconds <= _C_LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return seconds


def parse_symbol(value: object) -> str:
    """A positional symbol argument: a ``str`` of at most 29 UTF-16 code units."""
    if not isinstance(value, str) or utf16_units(value) > MAX_STRING_UNITS:
        raise ArgumentError("Invalid arguments")
    return value


def c_int(value: object) -> int:
    """A C ``int`` argument (format ``i``): floats and strings raise ``TypeError``."""
    if isinstance(value, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    try:
        result = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"'{type(value).__name__}' object cannot be interpreted as an integer"
        ) from None
    if result > _C_LONG_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if result < _C_LONG_MIN:
        raise OverflowError("signed integer is less than minimum")
    return result


def c_ulong(value: object) -> int:
    """A C ``unsigned long`` argument (format ``k``): any ``int``, no range check."""
    if not isinstance(value, int):
        raise TypeError(f"integer argument expected, got {type(value).__name__}")
    return int(value) & 0xFFFFFFFF


def c_double(value: object) -> float:
    """A C ``double`` argument (format ``d``): anything with ``__float__`` or ``__index__``."""
    if isinstance(value, str | bytes):
        raise TypeError(f"must be real number, not {type(value).__name__}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"must be real number, not {type(value).__name__}") from None
