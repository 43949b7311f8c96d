"""Minutes with a basket open in which nothing can happen, taken in one step (backtests).

While a basket is open, every M1 close marks the account (the daily-loss and drawdown rules
read it), checks each basket's fast exits (MR/OS on the provisional score, TP, HS) and its
news flatten, and the backtest marks each basket's excursion.  In most minutes none of that
acts.  A backtest knows the ticks to come, so before the next step the engine looks at the
minutes up to the next time something is due anyway (the next bar boundary, the equity
journal's mark, the end of the trading day, a lock's expiry, the terminal's rollover or
expiry, the end of the run) and evaluates, minute by minute and with the same functions
and the same numbers the minute-by-minute run would use, every check of those M1 closes:

- the quotes after each minute's ticks (each symbol's last tick, as ``MarketState`` keeps
  them) and which minutes close (``MarketState.minute_closes``);
- the account at each minute close, computed by the simulated terminal's own arithmetic
  (``SimDriver.accounts_at``), and whether the risk manager would act on it
  (``RiskManager.quiet_marks``);
- each basket's news flatten, provisional score and net P&L through ``m1_exit``.

The loop then steps straight to the first minute in which something would act (or to the
boundary): the terminal and the bar builders take those minutes' ticks in one batch, as for
idle minutes, and at the start of that step the skipped minute closes are handed to the
risk manager (``on_equity`` with each minute's own figures) and their excursion marks to
whoever reads ``marks``.  Every decision is then taken at the same minute, at the same
quotes and on the same state as stepping minute by minute; nothing is decided from a tick
not yet reached.  ``tests/integration/engine/test_held_minutes.py`` holds the two equal, row
for row in every journal table.

Nothing is skipped while an exit is pending, an entry deferred, a command waiting, a
manual position or a hedge held, while the console keeps M1 history, or where the terminal
cannot preview (a remote terminal, pending orders, positions with stops, fault injection).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.baskets import Basket, m1_exit
from engine.market import M1_MS, M30_MS, utc
from engine.model import Direction
from engine.ports import AccountFigures
from engine.ticks import quote_rows


class HeldHost(Protocol):
    """What the look-ahead reads of the engine (``engine.runner.Engine``)."""

    baskets: dict[str, Basket]
    exits: Any
    manual: Any
    hedging: Any
    driver: Any
    market: Any
    config: Any
    risk: Any
    news: Any
    fx: Any
    signals: dict[str, Any]
    keep_m1_history: bool
    _deferred: dict[str, Any]
    _last_equity_journal: int

    def cluster_currencies(self, sig: Any) -> frozenset[str]: ...
    def apply_risk_action(self, action: Any) -> None: ...
    def take_account(self, info: Any) -> None: ...


def holds_more_than_baskets(e: HeldHost) -> bool:
    """An exit pending, an entry deferred, a command waiting, a manual position or a hedge
    held, or the console's M1 history: each needs every minute stepped."""
    return bool(e.exits.pending or e._deferred or e.keep_m1_history or e.manual.waiting()
                or e.manual.orders.holding() or e.hedging.holding)


def next_due_msc(e: HeldHost, t_msc: int) -> int | None:
    """The next time after ``t_msc`` something is due whatever the quotes: the clock's next
    boundary (at most M30 away), or the equity journal's mark if that comes first; None
    when that mark is overdue (its minute had no tick: the minute rule finds the next)."""
    every = min(e.market.clock_step_ms, M30_MS)
    boundary = (t_msc // every + 1) * every
    if e._last_equity_journal < 0:
        return boundary
    due = e._last_equity_journal + e.config.execution.equity_snapshot_minutes * M1_MS
    return None if due <= t_msc else min(boundary, due)



@dataclass(frozen=True)
class HeldFold:
    """The minute closes stepped over, handed on at the start of the step to ``target``."""

    target_msc: int
    #: (minute, account then) of each skipped M1 close, in order.
    closes: tuple[tuple[int, AccountFigures], ...]
    #: (basket id, lowest, highest price P&L) over the skipped minutes.
    marks: tuple[tuple[str, float, float], ...]


class HeldMinutes:
    """Finds the quiet minutes ahead of a backtest's held baskets and hands them on."""

    def __init__(self, engine: HeldHost) -> None:
        self._engine = engine
        self._fold: HeldFold | None = None
        #: The excursion marks of the minutes the last step took in one go (basket id,
        #: lowest, highest price P&L): ``app.backtest.excursions`` adds them.
        self.marks: tuple[tuple[str, float, float], ...] = ()

    # ------------------------------------------------------------------ the step

    def apply(self, t_msc: int) -> None:
        """At the start of the step to ``t_msc``: the skipped minute closes, in order."""
        fold, self._fold = self._fold, None
        self.marks = ()
        if fold is None or fold.target_msc != t_msc:
            return
        engine = self._engine
        for minute, account in fold.closes:
            for action in engine.risk.on_equity(utc(minute), account.balance, account.equity,
                                                account.margin_level):
                engine.apply_risk_action(action)
        if fold.closes:
            engine.take_account(fold.closes[-1][1])
        self.marks = fold.marks

    # ------------------------------------------------------------------ the look-ahead

    def until(self, t_msc: int, limit_msc: int | None) -> int | None:
        """The step after ``t_msc`` when the minutes before it can be stepped over (the
        first minute in which something would act, or the next time something is due),
        or None: step minute by minute."""
        engine = self._engine
        if not self._eligible():
            return None
        horizon = self._horizon(t_msc, limit_msc)
        if horizon is None or horizon <= t_msc + M1_MS:
            return None
        ticks = engine.driver.peek(horizon)
        if ticks is None:
            return None
        steps = list(range(t_msc + M1_MS, horizon + 1, M1_MS))
        closes = engine.market.minute_closes(ticks["time_msc"], steps)
        return self._scan(ticks, steps, closes)

    def _eligible(self) -> bool:
        e = self._engine
        return bool(e.baskets) and not holds_more_than_baskets(e) and \
            getattr(e.driver, "peek", None) is not None

    def _horizon(self, t_msc: int, limit_msc: int | None) -> int | None:
        """The first time after ``t_msc`` at which something is due whatever the quotes."""
        e = self._engine
        horizon = next_due_msc(e, t_msc)
        if horizon is None:
            return None
        if limit_msc is not None:
            horizon = min(horizon, limit_msc // M1_MS * M1_MS)
        event = e.driver.next_event_msc()  # a rollover's swap, an expiry
        if event is not None:
            horizon = min(horizon, _ceil_minute(event))
        quiet = e.risk.quiet_until()
        if quiet is None:
            return None
        return min(horizon, _ceil_minute(int(quiet.timestamp() * 1000)))

    def _scan(self, ticks: np.ndarray, steps: list[int], closes: list[bool]) -> int | None:
        """Walk the minutes ``steps[:-1]`` (the last is stepped whatever happens) and fold
        those before the first that would act; the step to take next, or None.

        The first minute in which a basket would exit is found first (``_first_acting``),
        so that the accounts are computed only for the minute closes that may be folded;
        the risk manager may stop the fold earlier (``quiet_marks``)."""
        e = self._engine
        bids, asks = quote_rows(ticks, np.asarray(steps[:-1], dtype=np.int64),
                                e.market.bid, e.market.ask)
        mids = 0.5 * (bids + asks)  # MarketState.mids, row by row
        held = [_Held(e, name, basket, bids, asks, mids) for name, basket in e.baskets.items()]
        acting = self._first_acting(steps, closes, held)
        closing = [m for m, closed in zip(steps[:acting], closes, strict=False) if closed]
        accounts = e.driver.accounts_at(np.asarray(closing, dtype=np.int64)) if closing else []
        if accounts is None:
            return None
        quiet = min(len(accounts), e.risk.quiet_marks([a.equity for a in accounts]))
        folded: list[tuple[int, AccountFigures]] = []
        stop = acting
        for k in range(acting):
            values = [h.values[k] for h in held]
            if closes[k]:
                if len(folded) >= quiet:
                    stop = k
                    break
                folded.append((steps[k], accounts[len(folded)]))
            for h, value in zip(held, values, strict=True):
                h.mark(value)
        target = self._target(steps, closes, stop, ticks)
        if target is None:
            return None
        marks = tuple((h.basket.basket_id, h.low, h.high) for h in held if h.seen)
        self._fold = HeldFold(target, tuple(folded), marks)
        return target

    def _target(self, steps: list[int], closes: list[bool], stop: int,
                ticks: np.ndarray) -> int | None:
        """``steps[stop]`` when one step there closes a minute exactly as minute steps
        would, else None.  A step that batches ticks closes a minute if any tick came
        before its minute; at a minute in which something acts that is always so (it
        closes), at the horizon it may not be (its last minute without ticks)."""
        if stop == 0:
            return None  # nothing to step over
        target = steps[stop]
        if stop < len(steps) - 1:
            return target
        batched = self._engine.market.batch_closes(ticks["time_msc"], target)
        return target if batched == closes[stop] else None

    def _first_acting(self, steps: list[int], closes: list[bool], held: list[_Held]) -> int:
        """The index of the first of the minutes ``steps[:-1]`` whose M1 close would close
        a basket (``_acts``), or ``len(steps) - 1`` (none does).  ``_acts`` decides every
        minute; it is asked only at the minute closes where something may act: where a
        news flatten may come, every one; else those where a basket's net P&L reaches its
        take profit or hard stop, or its provisional score's estimate is within its bound
        of an exit level (or not finite), or the model has no estimates."""
        end = len(steps) - 1
        candidates = np.asarray(closes[:end], dtype=bool)
        e = self._engine
        if not (e.news.enabled and e.news.config.flatten_before):
            near = np.zeros(end, dtype=bool)
            for h in held:
                near |= h.may_exit()
            candidates &= near
        for k in np.flatnonzero(candidates).tolist():
            if self._acts(steps[k], k, held, [h.values[k] for h in held]):
                return k
        return end

    def _acts(self, minute: int, k: int, held: list[_Held], values: list[float]) -> bool:
        """Whether the M1 close at ``minute`` (row ``k`` of the quotes) would close a basket:
        a news flatten, or the fast exits (``Engine._check_m1_exit``), in the engine's
        order."""
        e = self._engine
        now = utc(minute)
        for h, value in zip(held, values, strict=True):
            sig = h.signal
            if e.news.flatten_due(now, h.currencies) is not None:
                return True
            if m1_exit(h.basket, h.provisional[k], sig.exit_band, h.net_pnl(value),
                       overshoot_level=sig.overshoot_level,
                       hard_stop=sig.model.hard_stop) is not None:
                return True
        return False


class _Held:
    """One open basket over the minutes ahead: what stays fixed while nothing acts (its
    realised P&L and costs, its cluster's news currencies) and its excursion so far."""

    def __init__(self, engine: HeldHost, name: str, basket: Basket, bids: np.ndarray,
                 asks: np.ndarray, mids: np.ndarray) -> None:
        self.basket = basket
        self.signal = engine.signals[name]
        #: The basket's price P&L and its cluster's provisional score at each minute.
        self._unrealised = basket.unrealised_rows(engine.market.index, bids, asks, engine.fx)
        self.values = self._unrealised.tolist()
        self.provisional = self.signal.provisional_rows(mids)
        self.currencies = engine.cluster_currencies(self.signal)
        self._realised = sum(leg.realised for leg in basket.legs if leg.closed)
        self._costs = basket.costs()
        self.low = self.high = math.nan
        self.seen = False

    def may_exit(self) -> np.ndarray:
        """Per minute, whether ``m1_exit`` may fire: the net P&L at the take profit or the
        hard stop (the same sums as ``net_pnl``), or the provisional score not clear of an
        exit level by its estimate's bound.  A superset of the minutes that exit."""
        basket, sig = self.basket, self.signal
        with np.errstate(invalid="ignore"):
            net = (self._realised + self._unrealised) + self._costs
            out = net >= basket.take_profit
            if sig.model.hard_stop:
                out |= net <= -basket.risk_budget
        block = self.provisional.estimates()
        if block is None:
            out[:] = True
            return out
        estimate, bound = block
        band = sig.exit_band
        far = -sig.overshoot_level if basket.direction is Direction.SHORT \
            else sig.overshoot_level
        with np.errstate(invalid="ignore"):
            unclear = ~(np.isfinite(estimate) & np.isfinite(bound)) & (bound != 0.0)
            near_band = np.abs(estimate) < band + bound
            overshoot = estimate >= far - bound if basket.direction is Direction.LONG \
                else estimate <= far + bound
        return out | unclear | near_band | overshoot

    def net_pnl(self, unrealised: float) -> float:
        """``Basket.net_pnl`` from its unrealised part, in its order of operations."""
        return self._realised + unrealised + self._costs

    def mark(self, value: float) -> None:
        if not math.isfinite(value):
            return
        self.low = value if not self.seen else min(self.low, value)
        self.high = value if not self.seen else max(self.high, value)
        self.seen = True


def _ceil_minute(t_msc: int) -> int:
    return -(-int(t_msc) // M1_MS) * M1_MS
