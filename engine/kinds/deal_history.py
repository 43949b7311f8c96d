"""The deal model over a whole history at once (``engine.kinds.deal``'s batch side).

The same figures as ``DealModel`` bar by bar, computed on whole columns with numpy (the
tests hold the two to 1e-9): each bar's figures read only that bar's closes and its
trading day, so a later bar never changes an earlier one, and cutting the history's start
changes nothing that remains.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from engine.kinds.deal import MIN_DAYS, trading_day
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


def _statuses(days: list[date], params: DealParams, event: tuple[str, date] | None,
              ) -> np.ndarray:
    out = np.where(np.array([d < params.announced for d in days], dtype=bool),  # type: ignore[operator]
                   PENDING, OPEN).astype(object)
    for ev in (event, params.event):  # the TOML's date wins over the trader's, as streaming
        if ev is not None:
            out[np.array([d >= ev[1] for d in days], dtype=bool)] = ev[0]
    return out


def deal_batch(closes: pd.DataFrame, params: DealParams,
               financing: tuple[float, float] | None = None,
               event: tuple[str, date] | None = None) -> pd.DataFrame:
    """Columns ``score``, ``valid``, ``regime`` and the diagnostics, one row per bar of
    ``closes`` (index: bar labels as UTC seconds; columns: the target, then the acquirer for
    stock terms).  ``financing`` (long, short % a year) defaults to the params' rates (pass
    the swap-derived ones for ``financing = "swap"``); ``event``: a trader's event."""
    if financing is None:
        financing = ((params.long_rate, params.short_rate) if params.financing == RATE
                     else (math.nan, math.nan))
    bar_s = np.asarray(closes.index, dtype=np.int64)
    days_of = [trading_day(int(t)) for t in bar_s]
    price = closes.iloc[:, 0].to_numpy(np.float64)
    acquirer = (closes.iloc[:, 1].to_numpy(np.float64) if params.terms != CASH
                else np.full(len(price), math.nan))
    days = np.array([(params.expected_close - d).days for d in days_of],  # type: ignore[operator]
                    dtype=np.float64)
    offer = params.cash + (params.ratio * acquirer if params.ratio else 0.0)
    spread = offer - price
    spread_pct = spread / price * 100.0
    ann_gross = spread_pct * 365.0 / np.maximum(days, MIN_DAYS)
    long_rate, short_rate = financing
    cost = long_rate + (params.ratio * acquirer / price * short_rate if params.ratio
                        else np.zeros(len(price)))
    ann_net = ann_gross - cost
    above = offer - params.break_price
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(above > 0, (price - params.break_price) / above, math.nan)
    status = _statuses(days_of, params, event)
    open_ = status == OPEN
    score = np.where(open_, -ann_net, math.nan)
    table = pd.DataFrame({"score": score, "valid": open_ & np.isfinite(score),
                          "regime": status}, index=closes.index)
    for name, column in zip(DIAGNOSTICS, (price, offer, spread, spread_pct, ann_gross, ann_net,
                                          cost, p, days, acquirer), strict=True):
        table[name] = np.asarray(column, dtype=np.float64) * np.ones(len(price))
    return table


__all__ = ["BROKEN", "COMPLETED", "deal_batch"]
