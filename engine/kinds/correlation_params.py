"""The settings of a ``correlation`` cluster: the ``[cluster.correlation]`` table.

A correlation cluster watches the correlation of two assets' returns (an index against
gold, Brent against the Canadian dollar) and says when its regime breaks.  The field names
here are the table's keys; the config loader passes the table through and this class
refuses what would misbehave later (``engine.ranges``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine import ranges

#: The two rules a regime can break by (``CorrelationParams.rule``).
RULES = ("crossing", "sign_flip")
#: What a broken regime does (``CorrelationParams.action``).
ACTIONS = ("lock", "trade")
#: The shortest fast window: the Fisher-z standard error is 1/sqrt(n - 3), so a window
#: needs at least 4 returns; 5 leaves two degrees of freedom beyond that.
MIN_FAST_WINDOW = 5
#: A cluster name's longest spelling (``engine.cluster.MAX_CLUSTER_NAME``; repeated to keep
#: this module free of the cluster spec it is part of).
MAX_TARGET_NAME = 11
#: The largest magnitude of a basket weight: only the weights' signs and ratios matter (the
#: basket is scaled to a gross of 1), so a bound only keeps typing slips out.
MAX_WEIGHT = 100.0


@dataclass(frozen=True)
class CorrelationParams:
    """The regime watch of two symbols (docs/architecture.md, Strategy kinds: correlation).

    Defaults and allowed ranges (bar counts are of the cluster's signal timeframe; returns
    are the log returns of its closes):
    - ``fast_window = 24``, MIN_FAST_WINDOW..MAX_ANY_BARS returns: the correlation the
      regime is judged by (a trading day of H1 bars); below 5 the Fisher-z interval is
      undefined or useless;
    - ``slow_window = 240``, above ``fast_window``..MAX_ANY_BARS returns: the regime it is
      judged against (two trading weeks of H1 bars), and the window of each leg's return
      volatility that sizes a ``trade`` basket; the model is warm after this many bars;
    - ``rule = "crossing"``, one of ``RULES``: ``crossing`` breaks when the fast
      correlation differs from the slow one by more than E in z units of the difference;
      ``sign_flip`` when the fast correlation has, beyond E standard errors, the sign
      opposite to the slow one's;
    - ``action = "lock"``, one of ``ACTIONS``: ``lock`` only watches, and while the regime
      is broken the clusters in ``targets`` open nothing; ``trade`` opens a directional
      two-leg basket on the score (``weights``);
    - ``targets = ()``, names of other clusters (1..11 characters each, distinct): the
      clusters ``lock`` pauses; ``action = "lock"`` needs at least one, as a lock of
      nothing would be a cluster that does nothing;
    - ``weights = (1.0, -1.0)``, two finite numbers in [-100, 100], not both zero: the
      signs (and, before the volatility scaling, the ratio) of the risk-on basket per
      symbol, in the cluster's symbol order: LONG holds these signs, SHORT the opposite;
    - ``confidence = 0.95``, [0.5, 0.999]: the coverage of the fast correlation's Fisher-z
      interval (below one half the interval says little; at 0.999 it is already 3.3
      standard errors wide).
    """

    fast_window: int = 24
    slow_window: int = 240
    rule: str = "crossing"
    action: str = "lock"
    targets: tuple[str, ...] = ()
    weights: tuple[float, float] = (1.0, -1.0)
    confidence: float = 0.95

    @property
    def warmup_bars(self) -> int:
        """Bars before the first valid point: the slow window's returns need its length
        plus one close; the first point is at bar ``slow_window``."""
        return self.slow_window

    def __post_init__(self) -> None:
        fast = ranges.integer("fast_window", self.fast_window, MIN_FAST_WINDOW,
                              ranges.MAX_ANY_BARS - 1)
        slow = ranges.integer("slow_window", self.slow_window, fast + 1, ranges.MAX_ANY_BARS)
        object.__setattr__(self, "fast_window", fast)
        object.__setattr__(self, "slow_window", slow)
        ranges.choice("rule", self.rule, RULES)
        ranges.choice("action", self.action, ACTIONS)
        object.__setattr__(self, "targets", _checked_targets(self.targets, self.action))
        object.__setattr__(self, "weights", _checked_weights(self.weights))
        object.__setattr__(self, "confidence", ranges.number(
            "confidence", self.confidence, 0.5, 0.999))


def _checked_targets(targets: object, action: str) -> tuple[str, ...]:
    if isinstance(targets, str) or not isinstance(targets, (list, tuple)):
        raise ranges.FieldError("targets", f"expected a list of cluster names, got {targets!r}")
    names = tuple(ranges.token("targets", t, MAX_TARGET_NAME) for t in targets)
    if len(set(names)) != len(names):
        raise ranges.FieldError("targets", f"lists a cluster twice: {', '.join(names)}")
    if action == "lock" and not names:
        raise ranges.FieldError("targets", 'action = "lock" needs at least one cluster to lock')
    return names


def _checked_weights(weights: object) -> tuple[float, float]:
    if isinstance(weights, str) or not isinstance(weights, (list, tuple)) or len(weights) != 2:
        raise ranges.FieldError("weights", f"expected two numbers (one per symbol), got "
                                           f"{weights!r}")
    checked = tuple(ranges.number("weights", w, -MAX_WEIGHT, MAX_WEIGHT) for w in weights)
    if not any(math.fabs(w) > 0 for w in checked):
        raise ranges.FieldError("weights", "at least one weight must be non-zero")
    return checked[0], checked[1]
