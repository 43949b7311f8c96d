"""The engine's vocabulary: run modes, directions, exit codes, cluster states, impact levels.

One home for the words every layer uses (the journal, the console, the reports), so that a
value means the same thing wherever it is stored or shown.  ``docs/architecture.md`` gives
the meaning of each exit code and state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

#: Basket ids travel in the MT5 order comment, which the terminal cuts at 31 characters;
#: 29 leaves room for a retry suffix some brokers append.
MAX_BASKET_ID_LENGTH = 29

#: MT5 tickets are 64-bit; SQLite INTEGER is signed 64-bit, which every real ticket fits.
MAX_TICKET = 2**63 - 1


class RunMode(StrEnum):
    LIVE = "live"
    DEMO = "demo"
    REPLAY = "replay"
    BACKTEST = "backtest"


class Direction(StrEnum):
    """Direction of a basket: LONG buys the spread the TDI says is cheap."""

    LONG = "LONG"
    SHORT = "SHORT"


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderPurpose(StrEnum):
    """Why a leg order was sent; reconciliation treats an unanswered UNWIND differently."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"
    UNWIND = "UNWIND"
    MANUAL = "MANUAL"
    #: The stock CFD hedge of an EXTERNAL convertible bond (``engine.hedging``).
    HEDGE = "HEDGE"
    #: Journaled by an earlier release that did not record the purpose.
    UNKNOWN = "UNKNOWN"


class ExitCode(StrEnum):
    """Why a basket was closed (docs/architecture.md, Exit codes: first matching rule wins)."""

    MR = "MR"
    OS = "OS"
    TP = "TP"
    HS = "HS"
    TS = "TS"
    TO = "TO"
    NEWS = "NEWS"
    MANUAL = "MANUAL"
    RISK = "RISK"
    #: A dated contract reached its close-before-expiry window (the ``basis`` kind).
    EX = "EX"
    # deal kind (engine.kinds.deal): the deal completed / broke (a TOML date or the
    # trader's DealEvent)
    DC = "DC"
    DB = "DB"


class ClusterState(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSE_ONLY = "CLOSE_ONLY"
    HALTED = "HALTED"


def require_utc(value: datetime, name: str) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is a bug, never a guess."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)



class Impact(StrEnum):
    """Expected market impact of an event, as the calendar sources grade it.

    Ordered NONE < HOLIDAY < LOW < MEDIUM < HIGH, so "at or above LOW" leaves out bank
    holidays and daylight-saving notices (ForexFactory's grey "Non-Economic" items), which
    thin liquidity but do not release a number.
    """

    NONE = "NONE"
    HOLIDAY = "HOLIDAY"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def rank(self) -> int:
        return _IMPACT_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Impact:
        """Accept the level name in any case (``high``, ``Medium``); raise ValueError otherwise."""
        try:
            return cls(text.strip().upper())
        except ValueError:
            names = ", ".join(member.value for member in cls)
            raise ValueError(f"unknown impact {text!r} (expected one of {names})") from None


_IMPACT_RANK = {Impact.NONE: 0, Impact.HOLIDAY: 1, Impact.LOW: 2, Impact.MEDIUM: 3, Impact.HIGH: 4}


def require_ticket(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= MAX_TICKET:
        raise ValueError(f"{name} {value} is outside 0..2**63-1")
    return value


def make_basket_id(cluster: str, opened_at: datetime, sequence: int) -> str:
    """``C3-20190204T1430-001``: cluster, UTC entry minute, per-cluster sequence number.

    Readable in the MT5 terminal's comment column, and unique as long as the engine numbers
    baskets opened by one cluster within one minute.
    """
    opened_at = require_utc(opened_at, "opened_at")
    basket_id = f"{cluster}-{opened_at:%Y%m%dT%H%M}-{sequence:03d}"
    if len(basket_id) > MAX_BASKET_ID_LENGTH:
        raise ValueError(
            f"basket id {basket_id!r} is {len(basket_id)} characters; MT5 comments allow "
            f"{MAX_BASKET_ID_LENGTH} (shorten the cluster name)"
        )
    return basket_id
