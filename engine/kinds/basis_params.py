"""The settings of a ``basis`` cluster: the ``[cluster.basis]`` table, and what the broker
says about its two symbols at start (``BasisMarket``).

A basis cluster holds a cash CFD and a dated futures CFD on it (``symbols = [cash,
future]``; ``"auto"`` for the future picks the front unexpired contract whose
``symbol_info().basis`` is the cash symbol, at start).  The trader's inputs are the carry
(rate and yield, or implied from the cash CFD's swaps), when to close before expiry, the
holding the break-even's swap is counted over, and the commission MT5 does not report.
The broker's figures (expiry, spreads, swaps) are read from ``symbol_info`` by the app
when the engine starts and travel in ``BasisParams.market``: the engine never asks the
terminal for them itself, and a test builds them by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from engine import ranges

#: How the fair basis's carry is known (``BasisParams.carry``).
CARRY_RATES, CARRY_SWAP = "rates", "swap"
CARRIES = (CARRY_RATES, CARRY_SWAP)
#: The futures symbol written as this is resolved at start (front unexpired contract).
AUTO = "auto"
#: Diagnostics, in the order of ``KindPoint.diagnostics`` (docs/architecture.md, Strategy
#: kinds: basis): ln(F/S) in bp; the fair basis carry x tau in bp; the mispricing (the
#: score) in bp; days to expiry; the break-even of a round trip in bp and its three parts
#: (spread, commission, swap over the expected holding); the carry used (annual, fraction).
DIAGNOSTICS = ("log_basis", "fair", "mispricing", "days", "break_even", "be_spread",
               "be_commission", "be_swap", "carry")
#: Basis points per unit of a log ratio: every figure the console shows is in bp.
BP = 1e4
#: ACT/365: the year the carry's time to expiry is counted in (as the futures' price is).
YEAR_DAYS = 365.0
DAY_S = 86_400
#: The highest annual rate, yield or carry accepted: 50 % a year is beyond any financing
#: a CFD broker charges; the bound only keeps typing slips (5 for 0.05) out.
MAX_RATE = 0.5
#: The longest close-before-expiry window and expected holding (days): a quarter.
MAX_DAYS = 90.0
#: The highest commission per side (bp of a leg's notional): 1 %.
MAX_COMMISSION_BP = 100.0


@dataclass(frozen=True)
class BasisMarket:
    """What the broker's ``symbol_info`` says of the two legs, read once at start.

    - ``future``: the contract traded (the resolved name when the file said ``"auto"``);
    - ``expiry_s``: its ``expiration_time`` (UTC epoch seconds), or the file's override;
    - ``cash_spread``, ``future_spread``: the quoted spreads in price units (``spread`` x
      ``point``): a round trip crosses each once;
    - ``swap_day``: per direction (``"LONG"``: long the future, short the cash; ``"SHORT"``
      the opposite) the swap the two legs book per day, as a fraction of one leg's notional
      (MT5's sign: negative is paid);
    - ``carry_swap``: the annual carry implied by the cash CFD's swaps (the mid of what a
      long pays and a short earns), for ``carry = "swap"``;
    - ``next_market``: the figures of the contract after this one on the same underlying
      (the roll's target), None if the broker lists none.
    """

    future: str
    expiry_s: int
    cash_spread: float = 0.0
    future_spread: float = 0.0
    swap_day_long: float = 0.0
    swap_day_short: float = 0.0
    carry_swap: float = 0.0
    next_market: BasisMarket | None = None

    def __post_init__(self) -> None:
        ranges.token("future", self.future, 31)
        ranges.integer("expiry_s", self.expiry_s, 1, 2**40)
        for name in ("cash_spread", "future_spread"):
            ranges.number(name, getattr(self, name), 0, math.inf, high_open=True)
        for name in ("swap_day_long", "swap_day_short"):
            ranges.number(name, getattr(self, name), -1.0, 1.0)
        ranges.number("carry_swap", self.carry_swap, -MAX_RATE, MAX_RATE)
        if self.next_market is not None and not isinstance(self.next_market, BasisMarket):
            raise ranges.FieldError("next_market", f"expected BasisMarket, got "
                                                   f"{self.next_market!r}")


@dataclass(frozen=True)
class BasisParams:
    """A basis cluster's own settings (docs/architecture.md, Strategy kinds: basis).

    Defaults and allowed ranges:
    - ``carry = "rates"``, one of ``CARRIES``: the fair log-basis is carry x tau (tau in
      years to expiry, ACT/365) with carry = ``rate - carry_yield`` (``rates``) or the carry
      the cash CFD's swap rates imply (``swap``: what the broker charges to hold the cash
      is what the future's price saves);
    - ``rate = 0.02``, [-0.5, 0.5] a year: the financing rate (0.02 = 2 %);
    - ``carry_yield = 0.0``, [-0.5, 0.5] a year: the dividend yield of an index, the
      convenience yield of a commodity net of its storage cost (negative when storage
      dominates), the foreign rate of a currency;
    - ``expiry = ""``: the contract's expiry as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (UTC);
      empty takes the future's ``symbol_info().expiration_time`` at start, which is what the
      broker acts on: set it only for a recording whose symbol the terminal does not know;
    - ``close_days = 5.0``, [0, 90] days: EX closes a basket, and no entry opens, within this
      many days of expiry: a futures CFD turns close-only before it expires (the simulated
      broker's contracts 2 to 3 days before), and a basket must be out before that window
      (set it above the broker's close-only days: MT5 does not state them);
    - ``holding_days = 5.0``, [0, 90] days: the expected holding the break-even counts the
      swap of (the break-even is a round trip's cost: spreads, commissions, this much swap);
    - ``commission_bp = 0.0``, [0, 100] bp of a leg's notional per side: MT5's
      ``symbol_info`` states no commission, so the trader states the broker's (a round trip
      of the two legs pays it four times);
    - ``roll = false``: at EX, move the cluster to the next contract by itself (a roll, as
      the trader's Roll command does, journaled alike); false leaves the roll to the trader;
    - ``market = None``: the broker's figures (``BasisMarket``), filled at start by the app
      from ``symbol_info``; not a key of the file.
    """

    carry: str = CARRY_RATES
    rate: float = 0.02
    carry_yield: float = 0.0
    expiry: str = ""
    close_days: float = 5.0
    holding_days: float = 5.0
    commission_bp: float = 0.0
    roll: bool = False
    market: BasisMarket | None = None

    #: Bars before the first valid point: the mispricing reads one bar's closes.
    warmup_bars = 1

    def __post_init__(self) -> None:
        ranges.choice("carry", self.carry, CARRIES)
        for name in ("rate", "carry_yield"):
            object.__setattr__(self, name, ranges.number(name, getattr(self, name),
                                                         -MAX_RATE, MAX_RATE))
        for name in ("close_days", "holding_days"):
            object.__setattr__(self, name, ranges.number(name, getattr(self, name), 0,
                                                         MAX_DAYS))
        object.__setattr__(self, "commission_bp", ranges.number(
            "commission_bp", self.commission_bp, 0, MAX_COMMISSION_BP))
        ranges.flag("roll", self.roll)
        expiry_override_s(self.expiry)
        if self.market is not None and not isinstance(self.market, BasisMarket):
            raise ranges.FieldError("market", "is filled from the broker at start, not a key "
                                              "of the file")

    def check_symbols(self, symbols: tuple[str, ...]) -> None:
        """A basis cluster is ``[cash, future]``; the cash cannot be ``"auto"``."""
        if symbols[0] == AUTO:
            raise ranges.FieldError("symbols", 'the first symbol is the cash CFD; only the '
                                               'second (the future) may be "auto"')

    @property
    def annual_carry(self) -> float:
        """The carry the fair basis uses (a year, as a fraction)."""
        if self.carry == CARRY_SWAP:  # the cash's financing, less what holding it yields
            return (self.market.carry_swap - self.carry_yield if self.market is not None
                    else math.nan)
        return self.rate - self.carry_yield

    @property
    def expiry_s(self) -> int:
        """The expiry in force: the file's override, else the broker's (0: not known yet)."""
        override = expiry_override_s(self.expiry)
        if override:
            return override
        return self.market.expiry_s if self.market is not None else 0


def expiry_override_s(text: str) -> int:
    """``expiry`` as UTC epoch seconds (0 when empty); a bad date is a FieldError."""
    if not isinstance(text, str):
        raise ranges.FieldError("expiry", f"expected a date string, got {text!r}")
    if not text:
        return 0
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M"):
        try:
            return int(datetime.strptime(text, form).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    raise ranges.FieldError("expiry", f"expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC), "
                                      f"got {text!r}")
