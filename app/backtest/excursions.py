"""Each basket's maximum adverse and favourable excursion (MAE, MFE) while it was open.

Definition (account currency, ``trades.csv`` columns ``mae`` and ``mfe``): the basket's
price P&L marked to market at every M1 close while it is open, as the engine marks it for
its take-profit and hard-stop checks (``engine.baskets.Basket.unrealised``: each open leg at
the price a close would get, the bid for a bought leg and the ask for a sold one, times its
signed lots and contract size, the quote currency valued at that minute's mids), together
with 0 at the fills (the P&L is measured from the fill prices) and, for a closed basket, its
price P&L at the exit (``pnl - costs``).  ``mae`` is the lowest of these marks and ``mfe``
the highest, so ``mae <= 0 <= mfe`` and ``mae <= pnl - costs <= mfe``.  Commission and swap
are left out: they do not move with the market.  A backtest in "1 minute OHLC" mode quotes
each M1 bar's close at the minute's end, so the marks are the M1 bars' closes (bid, and bid
plus the spread); an excursion inside a minute that the close does not show is not seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

_M1_MS = 60_000


@dataclass
class Excursions:
    """The running lowest and highest mark of every basket seen open."""

    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)

    def mark(self, basket_id: str, value: float) -> None:
        """One mark of a basket's price P&L (NaN, an unquoted leg, is skipped)."""
        if not math.isfinite(value):
            return
        self.low[basket_id] = min(self.low.get(basket_id, 0.0), value)
        self.high[basket_id] = max(self.high.get(basket_id, 0.0), value)

    def observe(self, engine: Any) -> None:
        """After an engine step: at an M1 close, mark every open basket at the quotes,
        after the marks of the minutes the step took in one go (``engine.held_minutes``:
        each basket's lowest and highest over them)."""
        for basket_id, low, high in engine.held.marks:
            self.mark(basket_id, low)
            self.mark(basket_id, high)
        if engine.now_msc % _M1_MS or not engine.baskets:
            return
        market = engine.market
        for basket in engine.baskets.values():
            self.mark(basket.basket_id,
                      basket.unrealised(market.index, market.bid, market.ask, engine.fx))

    def columns(self, trades: pd.DataFrame) -> pd.DataFrame:
        """``trades`` with ``mae`` and ``mfe`` (cents), the exit's price P&L included."""
        out = trades.copy()
        price_pnl = (out["pnl"] - out["costs"]).astype(float)
        seen_low = out["basket_id"].map(self.low).astype(float).fillna(0.0)
        seen_high = out["basket_id"].map(self.high).astype(float).fillna(0.0)
        out["mae"] = seen_low.where(price_pnl.isna(), seen_low.clip(upper=price_pnl))
        out["mfe"] = seen_high.where(price_pnl.isna(), seen_high.clip(lower=price_pnl))
        out["mae"] = out["mae"].round(2) + 0.0
        out["mfe"] = out["mfe"].round(2) + 0.0
        return out
