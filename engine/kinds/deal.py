"""The ``deal`` kind: a merger-arbitrage deal, monitored per bar and traded long the target.

Per closed signal bar (daily bars of stock CFDs are the natural timeframe), from that bar's
closes alone (docs/architecture.md, Strategy kinds: deal):

- ``offer = cash + ratio x A`` (A the acquirer's close), the gross ``spread = offer - P``
  (P the target's close) and ``spread_pct = spread / P x 100``;
- ``days`` = the expected close date minus the bar's trading day (New York's, as D1 bars
  are labelled), ``ann_gross = spread_pct x 365 / max(days, 1)``;
- ``financing`` = the long target's yearly rate plus, for a stock leg, ``ratio x A / P`` of
  the short acquirer's, in % of P; ``ann_net = ann_gross - financing``;
- ``p = (P - P_break) / (offer - P_break)``, the completion probability the price implies
  if a break sends the target to ``P_break`` and completion pays the offer.

**The score is ``-ann_net``** (% a year): a wide spread reads far below zero, so the shared
entry rule's LONG (score < -E) buys the deal when its net annualised return exceeds E, MR
closes when the remaining return is inside X (the spread is earned), OS when the target
trades E % a year above the offer.  Only LONG exists: a deal is bought, never sold (a
"short deal" bets on a break the spread does not price), so a positive score locks
(``LONG_ONLY``) and a SHORT basket is refused.

Sizing is the deal's own (``own_sizing``): a break (target to ``P_break``, acquirer
unchanged) loses the risk budget; the ATR hard stop does not apply (``hard_stop``): a break
gaps through any stop.  Completion and break are events (``COMPLETED``/``BROKEN`` in
``KindPoint.regime``) that close the basket with ``DC``/``DB``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from engine import ranges
from engine.errors import DataError
from engine.kinds.base import KindPoint, SignalModel, unit_gross
from engine.kinds.deal_params import (
    BROKEN,
    CASH,
    COMPLETED,
    DIAGNOSTICS,
    OPEN,
    PENDING,
    RATE,
    DealParams,
)
from engine.model import Direction, ExitCode
from engine.timeframes import ny_time

#: MT5's ``SYMBOL_SWAP_MODE_INTEREST_CURRENT`` and ``_INTEREST_OPEN``: swaps stated as an
#: annual rate in % (the only modes a yearly financing cost reads off without a price).
SWAP_MODE_INTEREST = (5, 6)
#: The shortest horizon the spread is annualised over (days): the close date's own day.
MIN_DAYS = 1
#: The share-count tolerance of the fixed hedge after rounding (see ``rounding_problem``).
HEDGE_TOLERANCE = 0.05
#: The exit code of each event.
EVENT_CODES = {COMPLETED: ExitCode.DC, BROKEN: ExitCode.DB}


def trading_day(bar_s: int) -> date:
    """The New York trading day a bar belongs to: a D1 bar is labelled 17:00 New York the
    evening before its day (``engine.timeframes``), so seven hours on is the day itself."""
    return (ny_time(int(bar_s)) + timedelta(hours=7)).date()


@dataclass(frozen=True)
class DealState:
    """What a point's basket, its sizing and the provisional score need."""

    price: float
    acquirer: float
    day: date
    days: float
    financing: tuple[float, float]


def deal_figures(params: DealParams, price: float, acquirer: float, days: float,
                 financing: tuple[float, float]) -> tuple[float, ...]:
    """The ``DIAGNOSTICS`` of one bar (NaN where undefined)."""
    offer = params.offer(acquirer)
    spread = offer - price
    spread_pct = spread / price * 100.0
    ann_gross = spread_pct * 365.0 / max(days, MIN_DAYS)
    long_rate, short_rate = financing
    cost = long_rate + (params.ratio * acquirer / price * short_rate if params.ratio else 0.0)
    ann_net = ann_gross - cost
    above_break = offer - params.break_price
    p = (price - params.break_price) / above_break if above_break > 0 else math.nan
    return (price, offer, spread, spread_pct, ann_gross, ann_net, cost, p, float(days),
            acquirer if params.terms != CASH else math.nan)


def swap_financing(infos: Mapping[str, Any], target: str, acquirer: str | None,
                   ) -> tuple[float, float]:
    """(long target, short acquirer) yearly cost in % from the CFDs' ``symbol_info``: an
    annual-interest swap is a rate on the notional, paid when negative; another swap mode
    states points or money per lot, not a rate (NaN: the deal says so and locks)."""
    def cost(name: str | None, field: str) -> float:
        if name is None:
            return 0.0
        info = infos.get(name)
        if info is None or int(getattr(info, "swap_mode", -1)) not in SWAP_MODE_INTEREST:
            return math.nan
        return -float(getattr(info, field))
    return cost(target, "swap_long"), cost(acquirer, "swap_short")


class DealModel(SignalModel):
    """The streaming deal model (module docstring): one bar at a time, no window."""

    kind = "deal"
    diagnostic_names = DIAGNOSTICS
    #: A break gaps through any stop: the deal is sized by it instead (``own_sizing``).
    hard_stop = False

    def __init__(self, symbols: Sequence[str], params: DealParams,
                 score_stop: float = math.inf) -> None:
        self.symbols = tuple(symbols)
        #: The cluster's score stop (TS, ``tdi_stop``): a spread annualising beyond it locks
        #: entries, or the entry rule would buy what TS sells at the next bar.
        self.score_stop = score_stop
        params.check_symbols(self.symbols)
        self.feed_symbols = self.symbols
        self.params = params
        self.warmup_bars = params.warmup_bars
        self.financing: tuple[float, float] = (
            (params.long_rate, params.short_rate) if params.financing == RATE
            else (math.nan, math.nan))
        #: A completion or break the trader reported while running (``record_event``).
        self.event: tuple[str, date] | None = None
        self._last: DealState | None = None
        self._status = PENDING

    # ------------------------------------------------------------------ inputs

    def use_symbol_info(self, infos: Mapping[str, Any]) -> None:
        """The CFDs' swap terms (``financing = "swap"``), from the terminal at start."""
        if self.params.financing == RATE:
            return
        acquirer = self.symbols[1] if len(self.symbols) > 1 else None
        self.financing = swap_financing(infos, self.symbols[0], acquirer)

    def record_event(self, status: str, day: date) -> None:
        """The deal completed or broke (the trader's ``DealEvent``): from ``day`` on its
        points carry the status; the engine closes the basket with the event's code."""
        if status not in EVENT_CODES:
            raise ValueError(f"a deal event is {' or '.join(EVENT_CODES)}, got {status!r}")
        if self.status_on(day) in EVENT_CODES:
            raise ValueError(f"the deal already {self.status_on(day)}")
        self.event = (status, day)
        self._status = status

    def status_on(self, day: date) -> str:
        """pending before the announcement, completed / broken from the event's day, else
        open."""
        for event in (self.params.event, self.event):
            if event is not None and day >= event[1]:
                return event[0]
        return PENDING if day < self.params.announced else OPEN  # type: ignore[operator]

    # ------------------------------------------------------------------ the bar

    def _prices(self, closes: np.ndarray) -> tuple[float, float]:
        values = [float(v) for v in np.asarray(closes, dtype=np.float64)[: len(self.symbols)]]
        for symbol, price in zip(self.symbols, values, strict=True):
            if not 0 < price < math.inf:
                raise DataError(f"{symbol} price {price!r} is not a positive number")
        return values[0], (values[1] if len(values) > 1 else math.nan)

    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        price, acquirer = self._prices(closes)
        day = trading_day(bar_s)
        status = self.status_on(day)
        self._status = status
        p = self.params
        days = float((p.expected_close - day).days)  # type: ignore[operator]
        figures = deal_figures(p, price, acquirer, days, self.financing)
        if status == PENDING:
            self._last = None
            return KindPoint(math.nan, False, f"DEAL_PENDING: announced {p.announced}",
                             figures, None, PENDING)
        state = DealState(price, acquirer, day, days, self.financing)
        self._last = state if status == OPEN else None
        if status != OPEN:
            return KindPoint(math.nan, False, f"DEAL_CLOSED: the deal {status}", figures,
                             state, status)
        score = -figures[DIAGNOSTICS.index("ann_net")]
        return KindPoint(score, math.isfinite(score), self._lock(score, days), figures, state,
                         OPEN)

    def _lock(self, score: float, days: float) -> str:
        if not all(math.isfinite(r) for r in self.financing):
            return ("NO_FINANCING: the CFDs' swaps are not annual rates: set "
                    "financing = \"rate\"")
        if days <= 0:
            return f"DEAL_OVERDUE: the expected close {self.params.expected_close} has passed"
        if -score >= self.score_stop:
            return (f"WIDE_SPREAD: {-score:.1f} % a year net, at or beyond the stop "
                    f"({self.score_stop:g}): the market prices a break or a delay")
        if score > 0:
            return (f"LONG_ONLY: the target trades above the offer net of financing "
                    f"({-score:+.2f} % a year): a deal is only bought")
        return ""

    def provisional(self, prices: np.ndarray) -> float:
        last = self._last
        if last is None:
            return math.nan
        price, acquirer = self._prices(prices)
        figures = deal_figures(self.params, price, acquirer, last.days, last.financing)
        return -figures[DIAGNOSTICS.index("ann_net")]

    # ------------------------------------------------------------------ the basket

    def _unit(self, price: float, acquirer: float, direction: Direction) -> dict[str, float]:
        if direction != Direction.LONG:
            raise ValueError("a deal basket is long the target: SHORT is refused")
        weights = {self.symbols[0]: price}
        if len(self.symbols) > 1:
            weights[self.symbols[1]] = -self.params.ratio * acquirer
        return unit_gross(weights)

    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        """Long one target share, short ``ratio`` acquirer shares, at the bar's closes."""
        state = point.state
        if not point.valid or not isinstance(state, DealState):
            raise ValueError("the deal is not open: no basket")
        return self._unit(state.price, state.acquirer, direction)

    def own_sizing(self, point: KindPoint, direction: Direction,
                   prices: Mapping[str, float]) -> tuple[dict[str, float], float]:
        """The basket at the current prices and its loss per unit of gross at a break: the
        target falls to ``break_price``, the acquirer does not move, so a gross of 1 holding
        ``e_t`` of target loses ``e_t x (P - P_break) / P``."""
        if not isinstance(point.state, DealState):
            raise ValueError("the deal is not open: no basket")
        price = prices[self.symbols[0]]
        acquirer = prices[self.symbols[1]] if len(self.symbols) > 1 else math.nan
        if not price > self.params.break_price:
            raise ValueError(f"the target ({price:g}) is at or below the break price "
                             f"({self.params.break_price:g}): no loss to size by")
        unit = self._unit(price, acquirer, direction)
        return unit, unit[self.symbols[0]] * (price - self.params.break_price) / price

    def rounding_problem(self, lots: Mapping[str, float]) -> str:
        """The fixed hedge after rounding: acquirer shares within 5% (and at least half a
        share) of ``ratio`` x target shares."""
        if len(self.symbols) < 2:
            return ""
        target, acquirer = lots.get(self.symbols[0], 0.0), -lots.get(self.symbols[1], 0.0)
        wanted = self.params.ratio * target
        if abs(acquirer - wanted) > max(0.5, HEDGE_TOLERANCE * wanted):
            return (f"{acquirer:g} {self.symbols[1]} for {target:g} {self.symbols[0]} is not "
                    f"the ratio {self.params.ratio:g} ({wanted:.2f} shares)")
        return ""

    def event_exit(self, point: KindPoint) -> tuple[ExitCode, str] | None:
        code = EVENT_CODES.get(point.regime)
        if code is None:
            return None
        return code, f"deal {point.regime}"

    def time_stop_bars(self, point: KindPoint) -> int | None:
        """None of the cluster's bar counts: a deal's horizon is its close date, and what
        ends it is its events (or MR / OS / the trader)."""
        return ranges.MAX_ANY_BARS

    @property
    def status(self) -> str:
        """The deal's status at its last bar (``PENDING`` before any)."""
        return self._status


def deal_spec(name: str, symbols: Sequence[str], magic: int, deal: Mapping[str, object], *,
              timeframe: str = "D1", entry: float | None = None,
              exit_band: float | None = None) -> Any:
    """The ``ClusterSpec`` of a deal the trader entered (``commands.AddDeal``): the kind's
    defaults for E, X and the score stop where not given.  ValueError (a ``FieldError``
    naming the key) for anything a cluster file would refuse."""
    from engine.cluster import ClusterSpec, StopParams
    from engine.kinds import KIND_DEFAULTS

    own = KIND_DEFAULTS["deal"]
    unknown = sorted(set(deal) - set(DealParams.__dataclass_fields__))
    if unknown:
        raise ranges.FieldError(unknown[0], "unknown key")
    return ClusterSpec(name=name, symbols=tuple(symbols), magic=magic, kind="deal",
                       params=DealParams(**deal),  # type: ignore[arg-type]
                       timeframe=timeframe,
                       entry=own.entry if entry is None else entry,
                       exit_band=own.exit_band if exit_band is None else exit_band,
                       stops=StopParams(tdi_stop=own.score_stop))
