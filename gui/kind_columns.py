"""How the Clusters table shows each strategy kind's score and diagnostics.

The table has one score column and one signal column for every kind (``engine.kinds``):
the score is the TDI for a ``tdi`` cluster, a z-score for a ``pair``, a correlation
z statistic for a ``correlation`` cluster; the signal column holds the kind's key
diagnostics (the TDI's eigengap; a pair's Engle-Granger p-value and half-life; a regime's
fast correlation and state), or the kind's lock when it refuses automatic entries.  The
tooltip lists every diagnostic with its name.
"""

from __future__ import annotations

import math
from typing import Any

from engine.kinds import KIND_DEFAULTS

#: The diagnostics each kind shows in the signal column, with their format, in order.
SIGNAL_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "pair": (("p_eg", "p {:.3f}"), ("half_life", "hl {:.0f}")),
    "correlation": (("rho_fast", "ρ {:+.2f}"), ("rho_slow", "slow {:+.2f}")),
    "basis": (("days", "{:.1f} d"), ("break_even", "be {:.1f} bp")),
    "deal": (("p", "p {:.2f}"), ("spread_pct", "spread {:.2f}%"), ("days", "{:.0f} d")),
}


def score_name(v: Any) -> str:
    """What the view's kind calls its score (``engine.kinds.KIND_DEFAULTS``)."""
    defaults = KIND_DEFAULTS.get(getattr(v, "kind", "tdi"))
    return defaults.score_name if defaults else "score"


def score_text(v: Any) -> str:
    """The score, named unless it is the TDI (the column's own name); without one, the
    kind's lock code when it has one (a deal past its close date: no horizon to score
    over), else "warming up"."""
    if not math.isfinite(v.tdi):
        lock = getattr(v, "signal_lock", "")
        return lock.split(":", 1)[0] if lock else "warming up"
    prefix = "" if getattr(v, "kind", "tdi") == "tdi" else f"{score_name(v)} "
    return f"{prefix}{v.tdi:+.2f}"


def _value(v: Any, name: str) -> float:
    for key, value in getattr(v, "diagnostics", ()):
        if key == name:
            return float(value) if value is not None else math.nan
    return math.nan


def signal_text(v: Any) -> str:
    """The signal column: the lock's code when the kind locks entries, else its key figures."""
    kind = getattr(v, "kind", "tdi")
    lock = getattr(v, "signal_lock", "")
    if kind == "tdi":
        text = f"{v.eigengap:.2f}" if math.isfinite(v.eigengap) else ""
        return f"{text} {lock.split(':', 1)[0]}".strip() if lock else text
    if lock:
        return lock.split(":", 1)[0]
    parts = [fmt.format(x) for name, fmt in SIGNAL_FIELDS.get(kind, ())
             if math.isfinite(x := _value(v, name))]
    if getattr(v, "regime", ""):
        parts.append(f"{v.regime} {v.regime_bars}" if v.regime_bars else v.regime)
    return " · ".join(parts)


def signal_tip(v: Any) -> str:
    """Every diagnostic of the kind by name, and the lock's sentence."""
    kind = getattr(v, "kind", "tdi")
    lines = [f"kind: {kind}"]
    for name, value in getattr(v, "diagnostics", ()):
        shown = "n/a" if value is None or not math.isfinite(value) else f"{value:.4g}"
        lines.append(f"{name} = {shown}")
    lock = getattr(v, "signal_lock", "")
    if lock:
        lines.append(f"automatic entries locked: {lock}")
    if kind == "tdi" and len(lines) == 1:
        lines.append("eigengap: lambda1 / lambda2 of the pairs' Z covariance")
    return "\n".join(lines)
