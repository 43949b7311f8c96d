"""What the console sees of an EXTERNAL bond and its hedge: immutable views, built on the
engine's thread at each check and carried by the snapshot (``EngineSnapshot.externals``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HedgePoint:
    """One check, for the panel's chart: time, spot, the position's delta in shares
    (bonds x delta per bond), the target and the held hedge in shares."""

    time: datetime
    spot: float
    delta_shares: float
    target: float
    held: float


@dataclass(frozen=True)
class ExternalBondView:
    """One bond held at another venue, as of its last check.

    Per bond: ``price`` (the model's, dirty), ``delta`` (shares per bond: d price / d spot),
    ``gamma`` (per bond per unit of spot squared), ``parity`` (ratio x spot), ``bond_floor``
    (the bond without its conversion right, at the credit-risky rate).  ``implied_vol``:
    the volatility at which the model prices ``market_price`` (the last price the trader
    entered: the entry price until another is given) at the spot of ``implied_at``, when
    it was entered (NaN when no volatility solves it).  Hedge, in
    shares (negative short): ``target`` = -bonds x delta, ``held`` at the terminal,
    ``band`` = band x bonds x ratio.  ``status``: what the hedger did at the check.
    ``split``: the P&L split (``engine.hedging_pnl``) summing to ``total``.
    """

    bond_id: str
    symbol: str
    bonds: float
    ratio: float
    face: float
    coupon: float
    maturity: datetime
    years_left: float
    entry_price: float
    opened_at: datetime
    magic: int
    volatility: float
    credit_spread: float
    rate: float
    dividend_yield: float
    band_setting: float
    paused: bool
    time: datetime | None = None
    spot: float = math.nan
    price: float = math.nan
    delta: float = math.nan
    gamma: float = math.nan
    parity: float = math.nan
    bond_floor: float = math.nan
    market_price: float = math.nan
    implied_vol: float = math.nan
    target: float = math.nan
    held: float = 0.0
    band: float = math.nan
    status: str = "waiting for the first quote"
    split: tuple[tuple[str, float], ...] = ()
    history: tuple[HedgePoint, ...] = ()
    frequency: int = 2
    implied_at: datetime | None = None
    #: The call and put schedules as entered: (date, clean price per bond), earliest first.
    calls: tuple[tuple[datetime, float], ...] = ()
    puts: tuple[tuple[datetime, float], ...] = ()

    @property
    def total(self) -> float:
        return sum(value for _, value in self.split)

    @property
    def outside_band(self) -> bool:
        return math.isfinite(self.target) and abs(self.held - self.target) > self.band
