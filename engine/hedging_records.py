"""The EXTERNAL leg's journal records and the journal methods the hedger calls.

The bond is journaled when the trader enters it (``open_external``), marked while held
(``record_external_mark``: spot, model price, delta, the hedge's target and holding, the
P&L split so far) and closed by hand (``close_external``).  ``open_externals`` reads the
held bonds back at restart, with their last mark, so the hedger resumes where it stopped.

The methods are a protocol of their own rather than part of ``engine.ports.Journal``: a
journal without them (a test's stand-in) simply runs no hedger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from engine.hedging_bond import ExternalBond
from engine.hedging_pnl import PNL_PARTS
from engine.model import require_utc


@dataclass(frozen=True)
class ExternalClose:
    """The trader closed (sold, converted, redeemed) the bond at ``close_price`` per bond.

    ``pnl``: the book's P&L in the account currency as the split totals it at the close
    (bond, coupon, hedge and financing; the hedge's own position is closed separately and
    its deals are in ``deals``).
    """

    bond_id: str
    closed_at: datetime
    close_price: float
    pnl: float
    detail: str = ""
    run_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "closed_at", require_utc(self.closed_at, "closed_at"))


@dataclass(frozen=True)
class ExternalMark:
    """One check of the hedger: the bond priced at the stock's mid and the hedge.

    ``price``, ``delta`` (shares per bond) and ``gamma`` from the pricer; ``target`` and
    ``held`` the hedge in shares (negative: short); ``split`` the P&L split since entry,
    by name (``engine.hedging_pnl.PNL_PARTS``, summing to ``total``), followed by what a
    restart resumes from (the hedge's figures at the terminal, its P&L at the mids, the
    last market price entered and the volatility it implied: ``engine.hedging``).
    """

    bond_id: str
    time: datetime
    spot: float
    price: float
    delta: float
    gamma: float
    target: float
    held: float
    split: tuple[tuple[str, float], ...] = ()
    run_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_utc(self.time, "time"))

    @property
    def total(self) -> float:
        """The split's parts summed (the split also carries what a restart resumes from)."""
        return sum(value for name, value in self.split if name in PNL_PARTS)


@dataclass(frozen=True)
class ExternalRecord:
    """A journaled bond with its close (None while held) and its latest mark."""

    bond: ExternalBond
    close: ExternalClose | None = None
    last_mark: ExternalMark | None = None


@runtime_checkable
class ExternalJournal(Protocol):
    """What the hedger writes and reads (``storage.journal.external`` on SQLite)."""

    def open_external(self, bond: ExternalBond) -> None: ...
    def close_external(self, close: ExternalClose) -> None: ...
    def record_external_mark(self, mark: ExternalMark) -> None: ...
    def open_externals(self) -> list[ExternalRecord]: ...
    def external_history(self, bond_id: str | None = None) -> list[ExternalRecord]: ...
    def external_marks(self, bond_id: str) -> Sequence[ExternalMark]: ...
