"""The price path: stops, pending orders and stop-out watched over every tick batch.

Stops (SL/TP) and pending orders are watched on the price path: for each tick batch the
symbol's min/max bid and ask rule out most of them with two comparisons, and only a stop
that is crossed is located at its first crossing tick.  Events in one batch are handled in
time order, each at its own tick (so a conversion rate is the one quoted at that tick).
The margin level is checked at the end of every batch; a level below ``margin_so_so``
closes the most losing position first until the level recovers.

This is the backtest's hot path (``on_batch`` runs for every batch the terminal consumes):
the trigger levels are cached until positions or orders change, and Python code only looks
at a tick that reaches a level.
"""

from __future__ import annotations

import numpy as np

from mt5bridge import constants as c
from mt5bridge.sim.account import from_cents
from mt5bridge.sim.trade_state import TradeState

__all__ = ["TradeTriggers"]


class TradeTriggers(TradeState):
    """Trigger levels, firing SL/TP and pending activations, and the stop-out."""

    # -- trigger levels --------------------------------------------------------------------

    def _trigger_levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per symbol: (bid floor, bid ceiling, ask floor, ask ceiling) that trigger a stop
        or a pending order when a tick's bid/ask reaches them."""
        if self._levels is not None:
            return self._levels
        n = len(self.specs)
        levels = (np.full(n, -np.inf), np.full(n, np.inf), np.full(n, -np.inf), np.full(n, np.inf))
        self._add_position_levels(*levels)
        self._add_order_levels(*levels)
        self._levels = levels
        return self._levels

    def _add_position_levels(self, bid_floor: np.ndarray, bid_ceiling: np.ndarray,
                             ask_floor: np.ndarray, ask_ceiling: np.ndarray) -> None:
        """Tighten the levels by every position's stop loss and take profit: a buy closes
        at the bid, a sell at the ask."""
        for pos in self.positions.values():
            i = pos.symbol_index
            if pos.type == c.POSITION_TYPE_BUY:
                if pos.sl:
                    bid_floor[i] = max(bid_floor[i], pos.sl)
                if pos.tp:
                    bid_ceiling[i] = min(bid_ceiling[i], pos.tp)
            else:
                if pos.sl:
                    ask_ceiling[i] = min(ask_ceiling[i], pos.sl)
                if pos.tp:
                    ask_floor[i] = max(ask_floor[i], pos.tp)

    def _add_order_levels(self, bid_floor: np.ndarray, bid_ceiling: np.ndarray,
                          ask_floor: np.ndarray, ask_ceiling: np.ndarray) -> None:
        """Tighten the levels by every pending order's price: a buy order fills at the ask,
        a sell order at the bid."""
        for order in self.orders.values():
            i, p = order.symbol_index, order.price_open
            if order.type == c.ORDER_TYPE_BUY_LIMIT:
                ask_floor[i] = max(ask_floor[i], p)
            elif order.type == c.ORDER_TYPE_SELL_LIMIT:
                bid_ceiling[i] = min(bid_ceiling[i], p)
            elif order.type == c.ORDER_TYPE_BUY_STOP:
                ask_ceiling[i] = min(ask_ceiling[i], p)
            elif order.type == c.ORDER_TYPE_SELL_STOP:
                bid_floor[i] = max(bid_floor[i], p)

    # -- the price path --------------------------------------------------------------------

    def on_batch(self, batch: np.ndarray, first_index: int) -> None:
        """Watch stops and pending orders over a consumed batch, then the margin level."""
        if self._watch_positions or self.orders:
            self._run_triggers(batch, first_index)
        if self.positions:
            self.tape.sync_quotes()
            t = int(batch["time_msc"][-1]) if len(batch) else self.now_msc
            self.check_stop_out(t)

    def _run_triggers(self, batch: np.ndarray, first_index: int) -> None:
        """Handle every stop/order hit in the batch, in time order, each at its own tick.

        One vectorised pass compares every tick with its symbol's trigger levels; only a
        tick that reaches a level is looked at in Python.
        """
        start = 0
        while start < len(batch) and (self._watch_positions or self.orders):
            bid_floor, bid_ceiling, ask_floor, ask_ceiling = self._trigger_levels()
            rest = batch[start:]
            symbols = rest["symbol"]
            bid, ask = rest["bid"], rest["ask"]
            hit = ((bid <= bid_floor[symbols]) | (bid >= bid_ceiling[symbols])
                   | (ask <= ask_floor[symbols]) | (ask >= ask_ceiling[symbols]))
            j = int(hit.argmax())
            if not hit[j]:
                return
            at = start + j
            self.tape.sync_quotes(first_index + at + 1)
            acted = self._fire(batch[at])
            start = at if acted else at + 1

    def _fire(self, tick: np.void) -> bool:
        """Execute what this tick triggers on its symbol; whether anything happened."""
        i = int(tick["symbol"])
        t = int(tick["time_msc"])
        bid, ask = float(tick["bid"]), float(tick["ask"])
        acted = False
        for pos in [p for p in self.positions.values() if p.symbol_index == i]:
            if pos.ticket not in self.positions:
                continue
            if pos.type == c.POSITION_TYPE_BUY:
                kind = "sl" if pos.sl and bid <= pos.sl else "tp" if pos.tp and bid >= pos.tp \
                    else None
            else:
                kind = "sl" if pos.sl and ask >= pos.sl else "tp" if pos.tp and ask <= pos.tp \
                    else None
            if kind is None:
                continue
            level = pos.sl if kind == "sl" else pos.tp
            self._close_at_market(
                pos,
                reason_order=c.ORDER_REASON_SL if kind == "sl" else c.ORDER_REASON_TP,
                reason_deal=c.DEAL_REASON_SL if kind == "sl" else c.DEAL_REASON_TP,
                comment=f"[{kind} {level:.{self.specs[i].digits}f}]", at_msc=t,
            )
            acted = True
        for order in [o for o in self.orders.values() if o.symbol_index == i]:
            p = order.price_open
            reached = {
                c.ORDER_TYPE_BUY_LIMIT: ask <= p,
                c.ORDER_TYPE_SELL_LIMIT: bid >= p,
                c.ORDER_TYPE_BUY_STOP: ask >= p,
                c.ORDER_TYPE_SELL_STOP: bid <= p,
            }.get(order.type, False)
            if not reached:
                continue
            if order.expires_utc_ms is not None and order.expires_utc_ms <= t:
                self._finish_order(order, c.ORDER_STATE_EXPIRED, order.expires_utc_ms)
            elif order.type in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_SELL_STOP):
                self._activate(order, ask if order.type == c.ORDER_TYPE_BUY_STOP else bid, t)
            else:
                self._activate(order, p, t)
            acted = True
        return acted

    def check_stop_out(self, at_msc: int) -> None:
        """Close the most losing positions while the margin level is below stop-out."""
        if not self.positions:
            return
        equity, margin = self.equity_and_margin_fast()
        if margin <= 0 or self.margin_level(equity, margin) >= self.config.margin_so_so + 1e-6:
            return
        while self.positions:
            margin = self.margin()
            if margin <= 0:
                return
            equity = self.equity()
            level = self.margin_level(equity, margin)
            if level >= self.config.margin_so_so:
                return
            worst = min(self.positions.values(),
                        key=lambda p: self.position_profit(p) + from_cents(p.swap_cents))
            self._close_at_market(worst, reason_order=c.ORDER_REASON_SO,
                                  reason_deal=c.DEAL_REASON_SO, comment=f"[so {level:.2f}%]",
                                  at_msc=at_msc)
