"""Allowed ranges of configuration fields, and the error that names a field outside one.

Every configuration dataclass (``TdiParams``, ``StopParams``, ``ClusterSpec``,
``RiskConfig``, ``NewsConfig``, ``ExecutionConfig``, ``EngineConfig``) checks each field in
``__post_init__`` with these helpers.  A value that would crash or quietly misbehave later
(a hard stop of 0 divides by zero at the first trade; a NaN threshold compares false with
everything; a negative retry count sends nothing) is refused when the file is loaded, and
the loaders turn the ``FieldError`` into a ``ConfigError`` naming the file and the key.

NaN and the infinities are refused everywhere; an integer field refuses a float (``8.0``)
and a bool (``true`` is 1 to Python, never to a trader).
"""

from __future__ import annotations

import math
import numbers

#: Bars of each signal timeframe in one FX trading day (24 hours from 17:00 New York).
BARS_PER_TRADING_DAY = {"M15": 96, "M30": 48, "H1": 24, "H4": 6, "D1": 1}
#: Trading weeks one calendar year of M1 data fills even with holidays and gold's daily
#: pause (2019's HistData files align 12,415 M30 bars for USD_MAJORS and 11,789 for
#: GOLD_HAVENS, more than 48 weeks of 5 days x 48 bars).
YEAR_WEEKS = 48


def max_bars(timeframe: str) -> int:
    """The upper bound of a count of ``timeframe`` bars (windows, warm-up, time stop): what
    one calendar year of M1 data fills, 48 trading weeks of 5 days.  A longer warm-up could
    not be served from a year of history, and a time stop that long is no different from
    none.  M15 23,040; M30 11,520; H1 5,760; H4 1,440; D1 240."""
    return YEAR_WEEKS * 5 * BARS_PER_TRADING_DAY[timeframe]


#: The bound of every count of M30 bars (the risk manager's cooldown; a cluster on M30).
MAX_BARS = max_bars("M30")
#: Daily bars a non-TDI kind may need (ten years of trading days): daily files span decades
#: (a stock pair's hedge is classically estimated on a year or more of closes), where a
#: year of M1 data fills 240.
MAX_DAILY_HISTORY_BARS = 2_520


def max_history_bars(timeframe: str, kind: str) -> int:
    """The bound of a cluster's start-up history and time stop: ``max_bars`` for the TDI
    and every intraday timeframe; ``MAX_DAILY_HISTORY_BARS`` for another kind on D1."""
    if timeframe == "D1" and kind != "tdi":
        return max(max_bars(timeframe), MAX_DAILY_HISTORY_BARS)
    return max_bars(timeframe)
#: The bound of a bar count before its timeframe is known (``TdiParams``, ``StopParams``):
#: the shortest timeframe's; ``ClusterSpec`` then holds each count to its own timeframe's.
MAX_ANY_BARS = max(max_bars(tf) for tf in BARS_PER_TRADING_DAY)


class FieldError(ValueError):
    """A field outside its allowed range; ``field`` is its name, ``reason`` says why.

    ``str()`` reads ``"field: reason"``, so code that constructs a config directly sees the
    field first; a loader maps ``field`` to the key of the file it read.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def integer(field: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in ``low..high`` (both included); floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise FieldError(field, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise FieldError(field, f"must be an integer in {low}..{high}, got {value!r}")
    return int(value)


def number(field: str, value: object, low: float, high: float, *,
           low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float within the bounds (``*_open``: that bound excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FieldError(field, f"expected a number, got {value!r}")
    try:
        result = float(value)
    except OverflowError:  # an integer beyond the float range
        result = math.copysign(math.inf, value)  # type: ignore[arg-type]
    if not math.isfinite(result):
        raise FieldError(field, f"must be a finite number, got {value!r}")
    above = result > low if low_open else result >= low
    below = result < high if high_open else result <= high
    if not (above and below):
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise FieldError(field, f"must be a number in {span}, got {value!r}")
    return result


def flag(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise FieldError(field, f"expected true or false, got {value!r}")
    return value


def token(field: str, value: object, max_length: int, *, min_length: int = 1) -> str:
    """A name that travels to the terminal: printable ASCII, no space, no comma.

    It ends up in the MT5 order comment, which reconciliation must read back exactly, and
    on command lines as part of a comma-separated list (``--clusters A,B``).
    """
    if not isinstance(value, str):
        raise FieldError(field, f"expected a string, got {value!r}")
    if not min_length <= len(value) <= max_length:
        raise FieldError(field, f"must be {min_length} to {max_length} characters, "
                                f"got {len(value)} ({value!r})")
    bad = [c for c in value if not (c.isascii() and c.isprintable()) or c in " ,"]
    if bad:
        raise FieldError(field, f"{value!r}: {bad[0]!r} is not allowed (printable ASCII "
                                "without spaces or commas)")
    return value


def choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    """``value`` as one of the ``allowed`` words (exact spelling)."""
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(field, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value
