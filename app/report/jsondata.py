"""JSON documents written next to the report (``walkforward.json``): plain, standard JSON.

JSON has no NaN or infinity, and ``json.dumps`` writes them as non-standard tokens unless
told ``allow_nan=False`` (which then fails instead). An undefined figure (a Sharpe ratio of a
cluster without a basket, say) is therefore written as ``null``.

The engine keeps its own stricter converter for ``metrics.json``
(``PerformanceReport.to_dict``): the engine cannot import from here, and that converter also
turns numpy scalars and dates into JSON types and refuses any other type.
"""

from __future__ import annotations

import math
from typing import Any


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth of dicts, lists and tuples, as None.

    Tuples become lists (as ``json.dumps`` writes them anyway); other values are returned
    unchanged, for the caller's ``json.dumps(default=...)`` to handle.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
