"""Plain JSON from the engine's figures: one converter for every document the product writes.

JSON has no NaN or infinity (``json.dumps`` would write non-standard tokens, or fail with
``allow_nan=False``), so an undefined figure, a Sharpe ratio of a cluster without a basket
say, is written as ``null`` and its reason goes in the document's notes.  numpy scalars and
dates become JSON types; any other type is refused rather than written as a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

#: The type tests of ``json_ready``, built once (a ``X | Y`` in a call builds a union each
#: time: the converter runs for every journaled diagnostic).
_AS_IS = (bool, str)
_INTEGERS = (int, np.integer)
_FLOATS = (float, np.floating)
_DATES = (datetime, date)
_SEQUENCES = (tuple, list)


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON types: non-finite floats become None, at any depth."""
    if type(value) is float:  # the common case first
        return value if math.isfinite(value) else None
    if isinstance(value, _AS_IS) or value is None:
        return value
    if isinstance(value, _INTEGERS):
        return int(value)
    if isinstance(value, _FLOATS):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, _DATES):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, _SEQUENCES):
        return [json_ready(item) for item in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")
