"""The ``basis`` kind: a cash CFD against a dated futures CFD on it, converging at expiry.

Why a kind of its own: a future's price is the cash price carried to its expiry,
F = S exp(carry x tau), and at expiry the two are one price.  When the market's log basis
ln(F/S) strays from the fair carry x tau, the cheap leg is bought and the rich one sold
in equal notional, and the basket earns the mispricing's return to fair (or to zero at
expiry, which is why the contract's date matters).

Per closed signal bar t (docs/architecture.md, Strategy kinds: basis), with S and F the
cash and futures closes and tau the years from the bar's close to the expiry (ACT/365):

- ``log_basis`` = ln(F/S), ``fair`` = carry x tau, ``mispricing`` = log_basis - fair, all
  in basis points; the score is the mispricing itself, so E and X are in bp and compare
  directly with the break-even (a z-score's thresholds could not be compared with a cost);
- ``days``: days from the bar's close to the expiry;
- ``break_even``: a round trip of both legs in bp of one leg's notional, the units of the
  mispricing (an equal-notional basket of N a leg earns N x the mispricing's change):
  ``be_spread`` = cash spread / S + futures spread / F (each leg crosses its spread once
  over a round trip), ``be_commission`` = 4 x ``commission_bp`` (two legs, two sides),
  ``be_swap`` = ``holding_days`` x the swap the dearer direction pays per day;
- locks: ``EXPIRY`` within ``close_days`` of expiry (also the EX exit of an open basket,
  ``forced_exit``), ``BREAK_EVEN`` while E is not above the break-even (entering there is
  "chasing small dislocations": the costs take the whole move).

The score needs nothing but its own bar, so it is invariant under truncating the history
and has no warm-up beyond one bar; ``basis_batch`` computes every bar in arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.kinds.base import KindPoint, SignalModel
from engine.kinds.basis_params import BP, DAY_S, DIAGNOSTICS, YEAR_DAYS, BasisParams
from engine.model import Direction, ExitCode

__all__ = ["BasisModel", "BasisParams", "basis_batch", "break_even_bp", "threshold_refusal"]


def break_even_bp(params: BasisParams, cash: float, future: float) -> tuple[float, float,
                                                                            float, float]:
    """(break-even, spread, commission, swap) of a round trip in bp at these prices."""
    m = params.market
    spread = BP * ((m.cash_spread / cash + m.future_spread / future) if m is not None
                   else 0.0)
    commission = 4.0 * params.commission_bp
    paid = max(0.0, -min(m.swap_day_long, m.swap_day_short)) if m is not None else 0.0
    swap = BP * params.holding_days * paid
    return spread + commission + swap, spread, commission, swap


def threshold_refusal(cluster: str, entry: float, params: BasisParams, cash: float,
                      future: float) -> str:
    """``""`` when E is above the break-even at these prices, else the one line that says
    why the threshold is refused (the cluster, E, the break-even and its parts)."""
    total, spread, commission, swap = break_even_bp(params, cash, future)
    if entry > total:
        return ""
    return (f"cluster {cluster}: entry {entry:g} bp is not above the break-even {total:.2f} bp "
            f"(spread {spread:.2f} + commission {commission:.2f} + swap {swap:.2f} over "
            f"{params.holding_days:g} days): every entry would pay more than the move it "
            f"trades")


class BasisModel(SignalModel):
    """The mispricing of a future against its cash, in basis points (module docstring)."""

    kind = "basis"
    diagnostic_names = DIAGNOSTICS

    def __init__(self, symbols: Sequence[str], params: BasisParams, period_s: int, *,
                 entry: float, cluster: str = "") -> None:
        self.symbols = tuple(symbols)
        self.feed_symbols = self.symbols
        self.params = params
        self.warmup_bars = params.warmup_bars
        self.period_s = int(period_s)
        self.entry = float(entry)
        self.cluster = cluster
        self._tau = math.nan
        self._carry = params.annual_carry
        #: The last valid bar's closes (cash, future): what a new E is checked against.
        self._last = (math.nan, math.nan)

    def set_thresholds(self, entry: float, exit_band: float) -> None:
        self.entry = float(entry)

    def refuse_thresholds(self, entry: float, exit_band: float) -> str:
        """A new E must stay above the break-even at the last bar's prices."""
        cash, future = self._last
        if not (cash > 0 and future > 0):
            return ""
        return threshold_refusal(self.cluster, entry, self.params, cash, future)

    def _invalid(self, lock: str, days: float = math.nan) -> KindPoint:
        diags = [math.nan] * len(DIAGNOSTICS)
        diags[DIAGNOSTICS.index("days")] = days
        return KindPoint(math.nan, False, lock, tuple(diags), days)

    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        expiry = self.params.expiry_s
        if not expiry:
            self._tau = math.nan
            return self._invalid("EXPIRY: the contract's expiry is not known")
        days = (expiry - (int(bar_s) + self.period_s)) / DAY_S
        cash, future = float(closes[0]), float(closes[1])
        if days <= 0:
            self._tau = math.nan
            return self._invalid(f"EXPIRY: {self.symbols[1]} expired", days)
        if not (math.isfinite(cash) and math.isfinite(future) and cash > 0 and future > 0):
            self._tau = math.nan
            return self._invalid("", days)
        self._tau = days / YEAR_DAYS
        log_basis = math.log(future / cash)
        fair = self._carry * self._tau
        mispricing = BP * (log_basis - fair)
        total, spread, commission, swap = break_even_bp(self.params, cash, future)
        self._last = (cash, future)
        diags = (BP * log_basis, BP * fair, mispricing, days, total, spread, commission, swap,
                 self._carry)
        return KindPoint(mispricing, math.isfinite(mispricing), self._lock(days, total),
                         diags, days)

    def _lock(self, days: float, break_even: float) -> str:
        close_days = self.params.close_days
        if days <= close_days:
            return (f"EXPIRY: {days:.1f} days to {self.symbols[1]}'s expiry <= close_days "
                    f"{close_days:g}")
        if self.entry <= break_even:
            return (f"BREAK_EVEN: entry {self.entry:g} bp is not above the break-even "
                    f"{break_even:.2f} bp")
        return ""

    def provisional(self, prices: np.ndarray) -> float:
        """The mispricing at these prices with the last closed bar's time to expiry."""
        cash, future = float(prices[0]), float(prices[1])
        if not (math.isfinite(self._tau) and cash > 0 and future > 0):
            return math.nan
        return BP * (math.log(future / cash) - self._carry * self._tau)

    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        """Equal notional: LONG buys the future and sells the cash (the future is cheap:
        the score is below -E), SHORT the opposite."""
        if not math.isfinite(point.score):
            raise ValueError("the mispricing is not valid: no basket")
        sign = 1.0 if Direction(direction) is Direction.LONG else -1.0
        cash, future = self.symbols
        return {cash: -0.5 * sign, future: 0.5 * sign}

    def forced_exit(self, point: KindPoint) -> tuple[ExitCode, str] | None:
        """EX: the contract is within ``close_days`` of its expiry (or past it)."""
        days = point.state
        if days is None or not (isinstance(days, float) and math.isfinite(days)):
            return None
        if days > self.params.close_days:
            return None
        return ExitCode.EX, (f"{days:.1f} days to {self.symbols[1]}'s expiry <= close_days "
                             f"{self.params.close_days:g}")


def basis_batch(bar_s: np.ndarray, closes: np.ndarray, params: BasisParams, period_s: int,
                entry: float) -> dict[str, np.ndarray]:
    """Every bar's diagnostics (``DIAGNOSTICS``), score and lock code at once.

    A separate arithmetic from the streaming model (log differences of whole columns, the
    time to expiry from the time column); the tests hold the two to 1e-9.
    """
    t = np.asarray(bar_s, dtype=np.float64)
    c = np.asarray(closes, dtype=np.float64)
    cash, future = c[:, 0], c[:, 1]
    expiry = params.expiry_s
    days = (expiry - (t + period_s)) / DAY_S if expiry else np.full(len(t), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        good = (cash > 0) & (future > 0) & np.isfinite(cash) & np.isfinite(future) & (days > 0)
        log_basis = np.where(good, np.log(np.where(good, future, 1.0))
                             - np.log(np.where(good, cash, 1.0)), np.nan)
        fair = np.where(good, params.annual_carry * days / YEAR_DAYS, np.nan)
    mispricing = log_basis - fair
    m = params.market
    spread = (np.where(good, BP * (m.cash_spread / np.where(good, cash, 1.0)
                                   + m.future_spread / np.where(good, future, 1.0)), np.nan)
              if m is not None else np.where(good, 0.0, np.nan))
    commission = np.where(good, 4.0 * params.commission_bp, np.nan)
    paid = max(0.0, -min(m.swap_day_long, m.swap_day_short)) if m is not None else 0.0
    swap = np.where(good, BP * params.holding_days * paid, np.nan)
    break_even = spread + commission + swap
    lock = np.where(days <= params.close_days, "EXPIRY",
                    np.where(good & (entry <= break_even), "BREAK_EVEN", ""))
    return {"log_basis": BP * log_basis, "fair": BP * fair, "mispricing": BP * mispricing,
            "days": days, "break_even": break_even, "be_spread": spread,
            "be_commission": commission, "be_swap": swap,
            "carry": np.where(good, params.annual_carry, np.nan), "score": BP * mispricing,
            "lock": lock}
