"""The trader's manual override: commands the engine takes from a thread-safe queue.

Each command is validated by the engine, journaled in the audit trail when received and
again with its result, and answered with a ``CommandDone`` event.  ``cluster="*"`` means
every cluster where that makes sense (pause, halt, resume).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True, kw_only=True)
class Command:
    source: str = "cli"
    command_id: str = field(default_factory=_new_id)

    @property
    def name(self) -> str:
        return type(self).__name__

    def arguments(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in ("source", "command_id")}


@dataclass(frozen=True, kw_only=True)
class PauseCluster(Command):
    """CLOSE_ONLY: exits continue, no new entries."""

    cluster: str


@dataclass(frozen=True, kw_only=True)
class HaltCluster(Command):
    """HALTED: no entries; an open basket stays until closed by its exits or by hand."""

    cluster: str


@dataclass(frozen=True, kw_only=True)
class ResumeCluster(Command):
    cluster: str


@dataclass(frozen=True, kw_only=True)
class CloseBasket(Command):
    cluster: str


@dataclass(frozen=True, kw_only=True)
class ClosePosition(Command):
    """Close one position (a basket leg, or a position the engine does not own) by ticket.

    The ticket stays a Python int: MT5 tickets exceed 32 bits.
    """

    ticket: int


@dataclass(frozen=True, kw_only=True)
class FlattenAll(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class OpenBasket(Command):
    """Open a basket by hand in the given direction ("LONG" or "SHORT"), sized as usual.

    ``prices`` (symbol -> the order price the trader was shown, from a ``PreviewBasket``)
    makes the engine refuse when a leg's price moved beyond the configured deviation since
    the preview (answered with a fresh preview); empty: open at whatever the market is.
    """

    cluster: str
    direction: str
    prices: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SetThresholds(Command):
    """Change E (entry) and X (exit band) of a cluster while running."""

    cluster: str
    entry: float
    exit_band: float


@dataclass(frozen=True, kw_only=True)
class RollContract(Command):
    """Move a basis cluster to its next contract: its open basket is closed (EX) and the
    cluster trades ``[cash, next contract]`` from then on (``engine.kinds.basis_roll``)."""

    cluster: str


@dataclass(frozen=True, kw_only=True)
class UseCalendar(Command):
    """Replace the news filter's calendar (an immutable one: the engine reads it on its own
    thread), e.g. after the trader imported a calendar file in the console."""

    calendar: object
    description: str = ""

    def arguments(self) -> dict[str, object]:
        return {"calendar": self.description or type(self.calendar).__name__}


@dataclass(frozen=True, kw_only=True)
class Rearm(Command):
    """Clear the account's lock (a drawdown halt, a daily-loss stop, a trader's account halt)
    and restart the drawdown reference at the current equity: the only command that does
    (``ResumeCluster("*")`` refuses to clear a lock the risk rules set)."""


# --------------------------------------------------------------------- risk state controls


@dataclass(frozen=True, kw_only=True)
class PreviewBasket(Command):
    """What ``OpenBasket`` would do now, without trading: answered with an
    ``engine.preview.BasketPreview`` event carrying this command's id."""

    cluster: str
    direction: str


@dataclass(frozen=True, kw_only=True)
class SetAutomation(Command):
    """The Algo Trading switch: with ``enabled`` False the engine opens no basket by itself.

    Exits (MR, OS, TP, HS, TS, TO, news and the risk flatten) keep running, as MT5 keeps a
    position's server-side SL/TP when algo trading is off; cluster states and an account
    halt are left as they are (re-arming is ``Rearm``), and the trader may still open a
    basket by hand.
    """

    enabled: bool


# --- New Order: one symbol's market order outside any basket -----------------------------

@dataclass(frozen=True, kw_only=True)
class PlaceOrder(Command):
    """A market order on one symbol outside any basket (New Order, one-click trading).

    ``side`` is "BUY" or "SELL"; ``volume`` in lots (validated against the symbol's
    volume_min/step/max); ``sl``/``tp`` are prices (0: none), set on the position so the
    terminal closes it when reached; ``deviation`` is the accepted slippage in points.
    The order carries the manual magic (0) and the comment "manual"
    (``engine.manual_orders``).
    """

    symbol: str
    side: str
    volume: float
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 10


# --- merger arbitrage: the trader's deals (engine.kinds.deal) ----------------------------

@dataclass(frozen=True, kw_only=True)
class AddDeal(Command):
    """Add a ``deal`` cluster while running (the Deals panel's dialog).

    ``deal`` holds the ``[cluster.deal]`` keys (``engine.kinds.deal_params.DealParams``; dates
    as ``YYYY-MM-DD``); ``symbols`` the target, then the acquirer for stock terms.  The
    journaled command is the deal's record: a session on the same journal adds it again at
    start (``app.deals``).  ``magic`` tags its orders (unique among the clusters).
    """

    cluster: str
    symbols: tuple[str, ...]
    magic: int
    deal: dict[str, object]
    timeframe: str = "D1"
    entry: float = 10.0
    exit_band: float = 2.0


@dataclass(frozen=True, kw_only=True)
class DealEvent(Command):
    """The deal of a ``deal`` cluster completed or broke (``event``: "completed" or
    "broken"): its basket closes with ``DC`` or ``DB`` and it opens nothing more.  Journaled;
    a session on the same journal keeps the event (``app.deals``)."""

    cluster: str
    event: str


# --- convertible arbitrage: the EXTERNAL bond and its hedge (engine.hedging) --------------

@dataclass(frozen=True, kw_only=True)
class OpenExternalBond(Command):
    """Enter a convertible bond held at another venue (the EXTERNAL leg): journaled, never
    sent to the terminal; the engine then hedges its delta with ``symbol`` (a stock CFD).

    ``maturity_years`` from now (ACT/365), ``coupon`` an annual rate paid ``frequency``
    times a year, ``ratio`` shares per bond; ``volatility``, ``rate``, ``dividend_yield``
    and ``credit_spread`` the pricer's inputs; ``band`` the delta band
    (``engine.hedging_bond.HedgeSettings``).  ``calls`` and ``puts``: ``(years from now,
    clean price per bond)`` of each call and put date (``BondTerms``).  An empty
    ``bond_id`` is numbered by the engine.
    """

    symbol: str
    bonds: float
    entry_price: float
    maturity_years: float
    ratio: float
    face: float = 1000.0
    coupon: float = 0.0
    frequency: int = 2
    european: bool = False
    volatility: float = 0.25
    rate: float = 0.03
    dividend_yield: float = 0.0
    credit_spread: float = 0.0
    band: float = 0.05
    calls: tuple[tuple[float, float], ...] = ()
    puts: tuple[tuple[float, float], ...] = ()
    bond_id: str = ""


@dataclass(frozen=True, kw_only=True)
class CloseExternalBond(Command):
    """The trader sold (or converted) the external bond at ``price`` per bond: journaled;
    with ``close_hedge`` the hedge's stock CFD position is closed too (purpose HEDGE)."""

    bond_id: str
    price: float
    close_hedge: bool = True


@dataclass(frozen=True, kw_only=True)
class SetHedge(Command):
    """The manual override of one bond's hedger: ``paused`` stops its orders (the marks go
    on); ``band`` changes the delta band; ``market_price`` is a quote of the bond seen
    elsewhere, from which the panel shows the implied volatility.  None leaves a field."""

    bond_id: str
    paused: bool | None = None
    band: float | None = None
    market_price: float | None = None
# --- end of convertible arbitrage ------------------------------------------------------------
