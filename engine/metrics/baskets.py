"""Per-basket statistics: win rate, profit factor, holding time, exits by code, exposure.

Always the net P&L of the whole basket, never per leg; the console's history tab and the
report both read these, so they never disagree on a win rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from engine.metrics.inputs import BasketInput, ClosedBasket, _OpenBasket, _split_baskets
from engine.model import ExitCode, require_utc

_EXIT_CODES: tuple[str, ...] = tuple(code.value for code in ExitCode)


def exposure_share(
    intervals: Iterable[tuple[datetime, datetime]], period_start: datetime, period_end: datetime
) -> float:
    """Share of [period_start, period_end) covered by the union of the intervals.

    Overlapping baskets count once: two clusters open at the same hour are one hour of
    exposure, not two. Intervals are clipped to the period.
    """
    start = require_utc(period_start, "period_start")
    end = require_utc(period_end, "period_end")
    if end <= start:
        raise ValueError(f"period end {end.isoformat()} is not after its start {start.isoformat()}")
    clipped = sorted(
        (max(opened, start), min(closed, end))
        for opened, closed in intervals
        if min(closed, end) > max(opened, start)
    )
    covered = timedelta(0)
    current_start: datetime | None = None
    current_end: datetime | None = None
    for opened, closed in clipped:
        if current_end is None or opened > current_end:
            if current_start is not None and current_end is not None:
                covered += current_end - current_start
            current_start, current_end = opened, closed
        else:
            current_end = max(current_end, closed)
    if current_start is not None and current_end is not None:
        covered += current_end - current_start
    return covered / (end - start)


@dataclass(frozen=True)
class BasketMetrics:
    """Closed-basket statistics (all P&L net, account currency); see the module docstring."""

    baskets: int
    open_baskets: int
    wins: int
    losses: int
    win_rate: float
    gross_profit: float
    gross_loss: float
    profit_factor: float
    net_pnl: float
    average_pnl: float
    commission: float
    swap: float
    spread_cost: float
    booked_costs: float
    total_costs: float
    average_holding_hours: float
    exits_by_code: Mapping[str, int]
    exit_shares: Mapping[str, float]
    exposure: float
    notes: Mapping[str, str] = field(default_factory=dict)


def _split_total(closed: Sequence[ClosedBasket], name: str, notes: dict[str, str]) -> float:
    """The sum of one part of the costs; NaN with a note when a basket lacks it."""
    values = [getattr(basket, name) for basket in closed]
    unknown = sum(1 for value in values if math.isnan(value))
    if unknown:
        notes[name] = f"not measured for {unknown} of {len(values)} closed basket(s)"
        return math.nan
    return float(sum(values))


def _costs(closed: Sequence[ClosedBasket], notes: dict[str, str]) -> dict[str, float]:
    """Commission, swap and spread cost; booked costs (commission + swap, what the journal
    books beside the P&L); total costs = all three."""
    booked = float(sum(basket.costs for basket in closed))
    commission = _split_total(closed, "commission", notes)
    swap = _split_total(closed, "swap", notes)
    spread = _split_total(closed, "spread_cost", notes)
    if math.isnan(spread):
        notes["total_costs"] = (
            "the spread cost is not measured, so the total is undefined; the booked costs "
            f"(commission + swap) are {booked:.2f}"
        )
    return {"commission": commission, "swap": swap, "spread_cost": spread,
            "booked_costs": booked, "total_costs": booked + spread}


def basket_metrics(
    baskets: Iterable[BasketInput],
    period: tuple[datetime, datetime] | None = None,
) -> BasketMetrics:
    """Per-basket statistics, with exposure measured over ``period`` ([start, end)).

    Without a period, exposure is measured from the first entry to the last exit. Open
    ``BasketRecord`` items count as exposed from entry to the period's end.
    """
    closed, still_open = _split_baskets(baskets)
    return _basket_metrics(closed, still_open, period)


#: Fewer closed baskets than this and a win rate or profit factor says little (one basket
#: gives 0 % or 100 %); the walk-forward asks as many of a configuration it chooses.  The
#: figure stays; a note beside it says so.
FEW_BASKETS = 5


def few_baskets_note(count: int) -> str:
    """The note of a figure drawn from too few closed baskets to mean much."""
    return (f"from {count} closed basket{'s' if count != 1 else ''}: too few to judge by "
            f"(fewer than {FEW_BASKETS})")


def _basket_metrics(
    closed: Sequence[ClosedBasket],
    still_open: Sequence[_OpenBasket],
    period: tuple[datetime, datetime] | None,
) -> BasketMetrics:
    notes: dict[str, str] = {}
    pnl = np.array([basket.pnl for basket in closed], dtype=np.float64)
    count = int(pnl.size)
    wins = int((pnl > 0.0).sum())
    losses = int((pnl < 0.0).sum())
    gross_profit = float(pnl[pnl > 0.0].sum())
    gross_loss = float(np.abs(pnl[pnl < 0.0]).sum())

    if count == 0:
        for name in ("win_rate", "profit_factor", "average_pnl", "average_holding_hours"):
            notes[name] = "no closed basket"
        notes["exit_shares"] = "no closed basket: every share is undefined"
        win_rate = average_pnl = holding = profit_factor = math.nan
    else:
        win_rate = wins / count
        average_pnl = float(pnl.mean())
        holding = float(np.mean([basket.holding_hours for basket in closed]))
        if gross_loss > 0.0:
            profit_factor = gross_profit / gross_loss
        elif gross_profit > 0.0:
            profit_factor = math.inf
            notes["profit_factor"] = (
                f"+inf: no losing basket (gross profit {gross_profit:.2f}, gross loss 0)"
            )
        else:
            profit_factor = math.nan
            notes["profit_factor"] = "every basket closed flat: gross profit and loss both 0"
        if count < FEW_BASKETS:
            for name in ("win_rate", "profit_factor"):
                notes.setdefault(name, few_baskets_note(count))

    counts = dict.fromkeys(_EXIT_CODES, 0)
    for basket in closed:
        counts[basket.exit_code] += 1
    shares = {code: (n / count if count else math.nan) for code, n in counts.items()}

    if period is None:
        entries = [b.entry_time for b in closed] + [b.entry_time for b in still_open]
        exits = [b.exit_time for b in closed]
        if not entries or not exits or max(exits) <= min(entries):
            exposure_period = None
        else:
            exposure_period = (min(entries), max(exits))
    else:
        exposure_period = (require_utc(period[0], "period start"), require_utc(period[1], "end"))
    if exposure_period is None:
        exposure = math.nan
        notes["exposure"] = "no period to measure exposure over (no closed basket, no period)"
    else:
        intervals = [(b.entry_time, b.exit_time) for b in closed]
        intervals += [(b.entry_time, exposure_period[1]) for b in still_open]
        exposure = exposure_share(intervals, *exposure_period)

    return BasketMetrics(
        baskets=count,
        open_baskets=len(still_open),
        wins=wins,
        losses=losses,
        win_rate=win_rate,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=profit_factor,
        net_pnl=float(pnl.sum()),
        average_pnl=average_pnl,
        **_costs(closed, notes),
        average_holding_hours=holding,
        exits_by_code=counts,
        exit_shares=shares,
        exposure=exposure,
        notes=notes,
    )
