"""MT5 symbol group filters: ``"*USD*,!EUR*"``.

``positions_get``, ``orders_get``, ``symbols_get`` and the history functions take a
``group`` of comma-separated patterns with ``*`` wildcards; a pattern starting with ``!``
excludes.  A symbol passes when it matches an including pattern (or there are only
excluding ones) and no excluding pattern.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache

__all__ = ["group_matcher"]


@cache
def group_matcher(group: str) -> re.Pattern[str]:
    """A compiled filter; use ``.fullmatch(symbol)``."""
    include: list[str] = []
    exclude: list[str] = []
    for raw in group.split(","):
        pattern = raw.strip()
        if not pattern:
            continue
        if pattern.startswith("!"):
            exclude.append(fnmatch.translate(pattern[1:]))
        else:
            include.append(fnmatch.translate(pattern))
    inc = "(?:" + "|".join(include) + ")" if include else "(?:.*)"
    exc = "(?!(?:" + "|".join(exclude) + "))" if exclude else ""
    return re.compile(exc + inc, re.IGNORECASE | re.DOTALL)
