"""Truncation invariance: what two runs of one configuration, one cut at D and one run on,
must agree on before D, and the first place where they do not.

A strictly backward-looking system computes the same value at a bar before D whether or not
the data after D exists.  So every signal value at a bar before D, and every basket closed
before D (its legs, its fills, its exit and its P&L), must be identical in a run that ends at
D and a run that ends later; the first difference is where something looked ahead.  The
comparison is exact (bit for bit, NaN equal to NaN): the same code on the same inputs gives
the same floats, and a tolerance would hide a small leak.

The functions take plain series and basket fingerprints, so the same comparison checks the
engine's TDI and, in the tests, a deliberately leaky toy signal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: A basket's fingerprint: field name -> value (legs and deals as tuples of tuples).
Fingerprint = Mapping[str, Any]


@dataclass(frozen=True)
class Difference:
    """The first place two runs disagree before the cut."""

    kind: str  # "signal" or "basket"
    name: str  # the cluster, or the basket id
    time: pd.Timestamp | None
    detail: str

    def text(self) -> str:
        when = f" at {self.time:%Y-%m-%d %H:%M} UTC" if self.time is not None else ""
        return f"{self.kind} {self.name}{when}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name,
                "time": self.time.isoformat() if self.time is not None else None,
                "detail": self.detail}


def same(a: Any, b: Any) -> bool:
    """Exact equality, NaN equal to NaN, through tuples."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def first_series_difference(short: Mapping[str, pd.Series], long: Mapping[str, pd.Series],
                            cut: pd.Timestamp) -> tuple[Difference | None, int]:
    """The earliest value before ``cut`` that differs between the two runs (a time present in
    one run only counts as a difference), and how many values were compared."""
    found: list[Difference] = []
    compared = 0
    for name in sorted(set(short) | set(long)):
        a, b = _before(short.get(name), cut), _before(long.get(name), cut)
        times = a.index.union(b.index)
        compared += len(times)
        in_a, in_b = times.isin(a.index), times.isin(b.index)
        va = a.reindex(times).to_numpy(dtype=float)
        vb = b.reindex(times).to_numpy(dtype=float)
        differs = (in_a != in_b) | ~((va == vb) | (np.isnan(va) & np.isnan(vb)))
        if not differs.any():
            continue
        i = int(np.argmax(differs))
        if in_a[i] != in_b[i]:
            detail = f"no value in {'the run cut at D' if not in_a[i] else 'the longer run'}"
        else:
            detail = f"{float(va[i])!r} in the run cut at D, {float(vb[i])!r} in the longer run"
        found.append(Difference("signal", name, pd.Timestamp(times[i]), detail))
    return _earliest(found), compared


def _before(series: pd.Series | None, cut: pd.Timestamp) -> pd.Series:
    if series is None:
        return pd.Series(dtype=float)
    return series[series.index < cut]


def first_basket_difference(short: Mapping[str, Fingerprint], long: Mapping[str, Fingerprint],
                            cut: pd.Timestamp) -> tuple[Difference | None, int]:
    """The earliest-closing basket closed before ``cut`` in either run that is not identical
    in both, and how many baskets were compared.  Fingerprints carry ``closed_at``."""
    ids = sorted({i for runs in (short, long) for i, f in runs.items() if _closed_before(f, cut)},
                 key=lambda i: (_close_time(short.get(i) or long[i]), i))
    for basket_id in ids:
        a, b = short.get(basket_id), long.get(basket_id)
        if a is None or b is None:
            where = "the run cut at D" if a is None else "the longer run"
            return Difference("basket", basket_id, _close_time(a or b),
                              f"missing in {where}"), len(ids)
        for key in sorted(set(a) | set(b)):
            if not same(a.get(key), b.get(key)):
                return Difference("basket", basket_id, _close_time(a),
                                  f"{key}: {a.get(key)!r} in the run cut at D, "
                                  f"{b.get(key)!r} in the longer run"), len(ids)
    return None, len(ids)


def _close_time(fingerprint: Fingerprint | None) -> pd.Timestamp | None:
    closed = (fingerprint or {}).get("closed_at")
    return pd.Timestamp(closed) if closed is not None else None


def _closed_before(fingerprint: Fingerprint, cut: pd.Timestamp) -> bool:
    closed = _close_time(fingerprint)
    return closed is not None and closed < cut


def _earliest(found: list[Difference]) -> Difference | None:
    if not found:
        return None
    return min(found, key=lambda d: (d.time, d.name))
