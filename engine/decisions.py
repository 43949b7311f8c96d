"""The answer every entry gate gives.

The risk manager and the news filter both stand between a signal and an order.  They answer
with the same ``Decision`` so the runner can chain them ("first refusal wins") and journal
any refusal the same way: "why is this cluster not trading?" must always have a short,
stable code (for filters and counts) and a sentence a trader can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.records import Refusal

# Stable refusal codes.  Codes that name a subject append it after a colon
# (``CURRENCY_CAP:USD``, ``MAX_LOTS:EURUSD``) so counts can group on the prefix.
ACCOUNT_HALTED = "ACCOUNT_HALTED"
ACCOUNT_CLOSE_ONLY = "ACCOUNT_CLOSE_ONLY"
DISCONNECTED = "DISCONNECTED"
NO_EQUITY = "NO_EQUITY"
UNKNOWN_CLUSTER = "UNKNOWN_CLUSTER"
CLUSTER_HALTED = "CLUSTER_HALTED"
CLUSTER_CLOSE_ONLY = "CLUSTER_CLOSE_ONLY"
ONE_BASKET = "ONE_BASKET"
COOLDOWN = "COOLDOWN"
INVALID_REQUEST = "INVALID_REQUEST"
OPEN_RISK_CAP = "OPEN_RISK_CAP"
CURRENCY_CAP = "CURRENCY_CAP"
MARGIN_FLOOR = "MARGIN_FLOOR"
MAX_LOTS = "MAX_LOTS"
NEWS_BLACKOUT = "NEWS_BLACKOUT"
CALENDAR_STALE = "CALENDAR_STALE"


@dataclass(frozen=True)
class Decision:
    """Whether an entry may go ahead; a refusal carries a stable ``reason`` code and a
    human ``detail``.  Truthy when allowed, so ``if not decision:`` reads naturally."""

    allowed: bool
    reason: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        if not self.allowed and not self.reason:
            raise ValueError("a refusal needs a reason code")

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def allow(cls, detail: str = "") -> Decision:
        return cls(True, "", detail)

    @classmethod
    def refuse(cls, reason: str, detail: str = "") -> Decision:
        return cls(False, reason, detail)

    @property
    def code_prefix(self) -> str:
        """``CURRENCY_CAP`` for ``CURRENCY_CAP:USD``: the part to group refusals on."""
        return self.reason.split(":", 1)[0]

    def as_refusal(self, now: datetime, cluster: str, run_id: str | None = None) -> Refusal:
        """The journal record of this refusal (only refusals are journaled)."""
        if self.allowed:
            raise ValueError("an allowed decision is not a refusal")
        return Refusal(time=now, cluster=cluster, reason=self.reason, detail=self.detail,
                       run_id=run_id)


ALLOWED = Decision.allow()


def first_refusal(*decisions: Decision) -> Decision:
    """The first refusal among ``decisions`` (gates in priority order), else allowed."""
    for decision in decisions:
        if not decision.allowed:
            return decision
    return ALLOWED
