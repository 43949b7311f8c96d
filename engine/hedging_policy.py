"""The hedger's rules, as pure functions: the target, the band, the order, and who may stop it.

- **Target**: -(bonds x delta in shares per bond): the stock the bonds behave like, sold.
- **Band**: nothing is traded while |held - target| <= band x bonds x conversion ratio;
  outside it the whole difference is traded, rounded to the symbol's volume step (an order
  under the minimum volume is not sent).
- **Gates** (``refusal``), first match wins.  An order is *reducing* when it only takes
  shares off the held hedge (toward zero), *adding* otherwise:
  1. the trader paused the bond's hedger (``SetHedge(paused=True)``): no order;
  2. the account HALTED (a drawdown stop, a trader's halt): no order.  The drawdown's
     flatten closes the baskets, not the hedge: closing it would leave the bond, which the
     engine cannot sell, naked, so the hedge is frozen as it is and the trader decides;
  3. a reducing order goes ahead from here on, as a basket's exits do;
  4. the account CLOSE_ONLY (the daily loss limit): no adding order;
  5. Algo Trading off: no adding order (it stops automatic exposure, as it stops entries);
  6. level 4, the trade: an order above ``max_lots_per_leg`` is refused;
  7. level 3, the portfolio: the per-currency cap (every open position plus the external
     bonds' delta in shares, ``engine.hedging``) and the margin floor, as for New Order.
     The hedge lowers the stock's net exposure it is checked against, so the cap refuses
     it only when the bond's own delta is beyond it.  The open-risk cap does not apply: a
     hedge has no risk budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from engine.convertible.hedge import rehedge
from engine.model import ClusterState


def target_shares(bonds: float, delta: float) -> float:
    """The hedge the bonds need: short their delta in shares."""
    return -bonds * delta


def order_shares(bonds: float, delta: float, held: float, band: float, step: float,
                 minimum: float) -> float:
    """Shares to trade (signed, + buys): 0 inside the band (the simulator's own rule,
    ``engine.convertible.hedge.rehedge``, on the short held), else the difference rounded
    to ``step`` shares (half away from zero); 0 when that is under ``minimum`` shares."""
    if not (math.isfinite(delta) and math.isfinite(held)):
        return 0.0
    diff = -rehedge(-held, bonds, delta, band)  # rehedge: shares to sell (+) or buy back
    if diff == 0.0:
        return 0.0
    steps = math.floor(abs(diff) / step + 0.5)
    shares = math.copysign(steps * step, diff)
    return shares if abs(shares) >= minimum - 1e-9 else 0.0


def reduces(order: float, held: float) -> bool:
    """The order only takes shares off the held hedge (toward zero, not through it)."""
    return held != 0 and order != 0 and math.copysign(1.0, order) != math.copysign(1.0, held) \
        and abs(order) <= abs(held) + 1e-9


@dataclass(frozen=True)
class GateInputs:
    """What the gates read (see the module docstring)."""

    paused: bool
    account_state: ClusterState
    automation: bool
    lots: float
    max_lots: float
    net_after: Mapping[str, float]
    net_before: Mapping[str, float]
    cap: float
    margin_level: float
    margin_floor: float


def refusal(order: float, held: float, gate: GateInputs) -> tuple[str, str] | None:
    """(code, sentence) of the first gate that stops the order, or None (see the module)."""
    if gate.paused:
        return "PAUSED", "the trader paused this bond's hedger"
    if gate.account_state is ClusterState.HALTED:
        return "ACCOUNT_HALTED", "account HALTED: the hedge is frozen as it is"
    if reduces(order, held):
        return None
    if gate.account_state is ClusterState.CLOSE_ONLY:
        return "CLOSE_ONLY", "account CLOSE_ONLY: the hedge is not increased"
    if not gate.automation:
        return "AUTOMATION_OFF", "Algo Trading off: the hedge is not increased"
    if abs(gate.lots) > gate.max_lots + 1e-9:
        return "MAX_LOTS", f"{abs(gate.lots):g} lots exceeds the limit of {gate.max_lots:g}"
    return _exposure_refusal(gate) or _margin_refusal(gate)


def _exposure_refusal(gate: GateInputs) -> tuple[str, str] | None:
    if not math.isfinite(gate.cap):
        return None
    for ccy in sorted(gate.net_after):
        after, before = gate.net_after[ccy], gate.net_before.get(ccy, 0.0)
        if abs(after) > gate.cap and abs(after) > abs(before):
            return "CURRENCY_CAP", (f"{ccy} net exposure would be {after:+,.2f}, beyond the "
                                    f"cap +-{gate.cap:,.2f}")
    return None


def _margin_refusal(gate: GateInputs) -> tuple[str, str] | None:
    level = gate.margin_level
    if level != 0 and not level >= gate.margin_floor and math.isfinite(level):
        return "MARGIN", f"margin level {level:.1f}% is below the {gate.margin_floor:.0f}% floor"
    return None
