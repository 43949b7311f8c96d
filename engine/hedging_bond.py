"""A convertible bond held at another venue: what the trader enters, and the hedge settings.

MetaTrader 5 lists no convertible bonds, so the bond is an **EXTERNAL leg**: bought
elsewhere, entered by hand in the console (terms, number of bonds, entry price, the stock
CFD it converts into, the credit spread and volatility the pricer takes), journaled
(``storage.journal.external``) and never sent to the terminal.  The engine hedges its stock
delta with the stock CFD (``engine.hedging``).

Every figure is validated here, once, with a message naming the field: a value the trader
typed wrong is one line in the console, never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from engine.model import require_utc

#: Days of a year for the bond's clock (maturity in years <-> a date) and its financing:
#: calendar days / 365, as the convertible simulator counts them
#: (``engine.convertible.hedge.DAYS_PER_YEAR``).
YEAR_DAYS = 365.0

#: The first hedge magic: one magic per bond, ``HEDGE_MAGIC_BASE + bond number``.  Cluster
#: magics are six digits from 7xxxxx in the shipped files; 9xxxxxxx is clear of them and of
#: MT5's manual magic (0).
HEDGE_MAGIC_BASE = 90_000_000


@dataclass(frozen=True)
class HedgeSettings:
    """How the engine hedges one external bond (frozen, validated, documented defaults).

    - ``band`` (0.05): the delta band, in units of the bond's conversion shares (bonds x
      conversion ratio).  The hedge is left alone while |held - target| <= band x bonds x
      ratio; outside it the whole difference is traded back to the target.  Five points of
      delta: a 25%-volatility stock near the money moves a convertible's delta by about one
      point per 1% move, so the hedge is re-struck after a move of roughly 4-5%, a few times
      a month, rather than on every tick's noise.  Range 0.001 .. 0.5.
    - ``steps`` (200): the pricer's tree steps at each check (even: the pricer extrapolates
      from ``steps`` and ``steps / 2``); range 26 .. 2000.  A check prices two trees (the
      split's repricing at the new spot and after the interval): about 0.9 ms at 200 steps
      against 6.7 ms for one tree at the pricer's default 800 (docs/architecture.md);
      a band of whole shares does not need the finer tree.
    - ``mark_minutes`` (60): a mark (spot, price, delta, hedge, P&L split) is journaled at
      most this often, and at every hedge trade, so a restart resumes the split; range
      1 .. 1440.  Every check still updates the panel.
    """

    band: float = 0.05
    steps: int = 200
    mark_minutes: int = 60

    def __post_init__(self) -> None:
        _need(0.001 <= self.band <= 0.5, "band", self.band, "0.001 .. 0.5")
        _need(isinstance(self.steps, int) and 26 <= self.steps <= 2000 and self.steps % 2 == 0,
              "steps", self.steps, "an even number 26 .. 2000")
        _need(isinstance(self.mark_minutes, int) and 1 <= self.mark_minutes <= 1440,
              "mark_minutes", self.mark_minutes, "1 .. 1440")


@dataclass(frozen=True)
class BondTerms:
    """The contract of the bond, as the trader reads it off the prospectus.

    ``face`` per bond (account currency), ``coupon`` the annual rate (0.02 = 2 %) paid
    ``frequency`` times a year, ``maturity`` the date it is redeemed at face, ``ratio`` the
    shares one bond converts into, ``european`` True when conversion is allowed only at
    maturity (American, any time, otherwise).  ``calls``: the issuer's call dates, each
    with its clean call price per bond (the holder may convert instead: a call caps the
    bond near ``max(call price, parity)`` and pulls its delta towards parity's); ``puts``:
    the holder's put dates and prices (a floor).  Each date is before maturity; they are
    kept earliest first, and a date that has passed no longer counts (``terms_at``).
    """

    maturity: datetime
    face: float = 1000.0
    coupon: float = 0.0
    frequency: int = 2
    ratio: float = 1.0
    european: bool = False
    calls: tuple[tuple[datetime, float], ...] = ()
    puts: tuple[tuple[datetime, float], ...] = ()

    def __post_init__(self) -> None:
        _need(_finite(self.face) and self.face > 0, "face", self.face, "> 0")
        _need(_finite(self.coupon) and 0 <= self.coupon <= 0.5, "coupon", self.coupon,
              "0 .. 0.5 (an annual rate)")
        _need(self.frequency in (1, 2, 4, 12), "frequency", self.frequency, "1, 2, 4 or 12")
        _need(_finite(self.ratio) and self.ratio > 0, "ratio", self.ratio, "> 0")
        object.__setattr__(self, "maturity", require_utc(self.maturity, "maturity"))
        for name in ("calls", "puts"):
            object.__setattr__(self, name, self._schedule(name, getattr(self, name)))

    def _schedule(self, name: str, entries: Any) -> tuple[tuple[datetime, float], ...]:
        """``entries`` checked (each a UTC date before maturity and a positive price),
        earliest first."""
        out = []
        for entry in entries:
            _need(isinstance(entry, tuple | list) and len(entry) == 2, name, entry,
                  "(date, price) pairs")
            when, price = require_utc(entry[0], name), entry[1]
            _need(_finite(price) and price > 0, f"{name} price", price, "> 0")
            _need(when < self.maturity, f"{name} date", when.isoformat(),
                  f"dates before the maturity {self.maturity:%Y-%m-%d}")
            out.append((when, float(price)))
        return tuple(sorted(out))

    def years_left(self, now: datetime) -> float:
        """Years from ``now`` to maturity (ACT/365), 0 once past it."""
        return years_between(now, self.maturity)


def years_between(start: datetime, end: datetime) -> float:
    """Years from ``start`` to ``end`` (ACT/365), 0 when ``end`` is not after ``start``."""
    return max((end - start).total_seconds() / 86_400.0 / YEAR_DAYS, 0.0)


@dataclass(frozen=True)
class CreditInputs:
    """The pricer's inputs the market does not quote on MT5: entered, not observed.

    ``volatility`` of the stock (annual, 0.25 = 25 %), ``rate`` the risk-free rate,
    ``dividend_yield`` of the stock and ``credit_spread`` of the issuer over the rate (all
    annual, continuously compounded).
    """

    volatility: float = 0.25
    rate: float = 0.03
    dividend_yield: float = 0.0
    credit_spread: float = 0.0

    def __post_init__(self) -> None:
        _need(_finite(self.volatility) and 0.01 <= self.volatility <= 3.0, "volatility",
              self.volatility, "0.01 .. 3")
        _need(_finite(self.rate) and -0.05 <= self.rate <= 0.5, "rate", self.rate,
              "-0.05 .. 0.5")
        _need(_finite(self.dividend_yield) and 0 <= self.dividend_yield <= 0.5,
              "dividend_yield", self.dividend_yield, "0 .. 0.5")
        _need(_finite(self.credit_spread) and 0 <= self.credit_spread <= 0.5,
              "credit_spread", self.credit_spread, "0 .. 0.5")


@dataclass(frozen=True)
class ExternalBond:
    """One convertible position held at another venue (the EXTERNAL leg).

    ``bonds`` held (a positive count: the hedger is a long-convertible, short-stock book),
    bought at ``entry_price`` per bond at ``opened_at``; ``symbol`` the stock CFD it converts
    into and is hedged with, by positions carrying ``magic``.
    """

    bond_id: str
    symbol: str
    bonds: float
    entry_price: float
    opened_at: datetime
    terms: BondTerms
    inputs: CreditInputs
    settings: HedgeSettings
    magic: int
    run_id: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        _need(bool(self.bond_id) and len(self.bond_id) <= 24 and self.bond_id.isprintable(),
              "bond_id", self.bond_id, "1..24 printable characters")
        _need(bool(self.symbol), "symbol", self.symbol, "a stock CFD of this market")
        _need(_finite(self.bonds) and self.bonds > 0, "bonds", self.bonds, "> 0")
        _need(_finite(self.entry_price) and self.entry_price > 0, "entry_price",
              self.entry_price, "> 0")
        object.__setattr__(self, "opened_at", require_utc(self.opened_at, "opened_at"))
        _need(self.terms.maturity > self.opened_at, "maturity", f"{self.terms.maturity:%Y-%m-%d}",
              "after the entry date")

    @property
    def conversion_shares(self) -> float:
        """Shares the whole position converts into (bonds x ratio): delta 1 in shares."""
        return self.bonds * self.terms.ratio

    def band_shares(self) -> float:
        """The band in shares: |held - target| beyond this trades."""
        return self.settings.band * self.conversion_shares

    def as_json(self) -> dict[str, Any]:
        """The entered figures as plain JSON (the journal's ``terms`` and ``inputs``)."""
        terms = {f.name: getattr(self.terms, f.name) for f in fields(self.terms)}
        terms["maturity"] = self.terms.maturity.isoformat()
        for name in ("calls", "puts"):
            terms[name] = [[when.isoformat(), price] for when, price in terms[name]]
        return {"terms": terms,
                "inputs": {f.name: getattr(self.inputs, f.name) for f in fields(self.inputs)},
                "settings": {f.name: getattr(self.settings, f.name)
                             for f in fields(self.settings)}}


def bond_from_json(bond_id: str, symbol: str, bonds: float, entry_price: float,
                   opened_at: datetime, magic: int, document: dict[str, Any],
                   run_id: str = "", note: str = "") -> ExternalBond:
    """The inverse of ``ExternalBond.as_json`` (a journal row read back at restart)."""
    terms = dict(document["terms"])
    terms["maturity"] = datetime.fromisoformat(terms["maturity"])
    for name in ("calls", "puts"):  # absent from bonds entered before schedules were kept
        terms[name] = tuple((datetime.fromisoformat(when), float(price))
                            for when, price in terms.get(name, ()))
    return ExternalBond(bond_id, symbol, float(bonds), float(entry_price), opened_at,
                        BondTerms(**terms), CreditInputs(**document["inputs"]),
                        HedgeSettings(**document.get("settings", {})), int(magic), run_id,
                        note)


def maturity_in(years: float, start: datetime, name: str = "maturity") -> datetime:
    """The date ``years`` (ACT/365) after ``start``: a maturity (or a call or put date,
    ``name``) entered in years."""
    _need(_finite(years) and 0 < years <= 50, name, years, "0 .. 50 years")
    return require_utc(start, "start") + timedelta(days=years * YEAR_DAYS)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(float(value))


def _need(ok: bool, name: str, value: object, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{name} {value!r} is outside {allowed}")
