"""The risk limits, validated at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine import ranges

#: The most lots a leg may be capped at: the ``volume_max`` of the simulator's stock CFDs,
#: whose lot is one share (FX symbols stop at 100 lots, a retail MT5 account's usual
#: per-order maximum).  Sizing already clips each leg at its symbol's ``volume_max``, so a
#: higher cap could never bind; 1e300 was a typo that loaded.
MAX_LOTS_PER_LEG = 10_000.0
#: The highest per-currency exposure cap, in multiples of equity: 1:500, the highest
#: leverage retail MT5 brokers offer; the margin call comes long before a cap above it binds.
MAX_CURRENCY_EXPOSURE = 500.0

_FRACTIONS = ("risk_per_trade", "cluster_daily_loss", "max_open_risk", "account_daily_loss",
              "max_drawdown")


@dataclass(frozen=True)
class RiskConfig:
    """Risk limits.  Fractions are of equity; defaults suit a 0.30%-per-trade engine.

    Defaults and allowed ranges:
    - ``risk_per_trade = 0.003``, (0, 1): a basket's hard-stop loss as a fraction of equity
      (RPT);
    - ``max_lots_per_leg = 10.0``, (0, 10,000]: no leg of a new basket above this many lots
      (MAX_LOTS_PER_LEG says why 10,000: a stock CFD's lot is one share, so a stock pair
      needs this raised);
    - ``cooldown_bars = 4``, 0..MAX_BARS (11,520): after a stop exit (HS, TS) the cluster
      waits this many complete M30 bars before a new entry (0 disables); M30 bars of the
      clock whatever the cluster's signal timeframe (a pause after a stop, not a window);
    - ``cluster_daily_loss = 0.01``, (0, 1): a cluster whose realised loss today reaches this
      share of the day-start equity goes CLOSE_ONLY until the next trading day;
    - ``max_open_risk = 0.015``, [risk_per_trade, 1): the open baskets' risk budgets plus
      the candidate's may not exceed this share of equity (five baskets at the default RPT);
    - ``max_currency_exposure = 3.0``, (0, 500]: per currency, |net exposure| of the open
      baskets plus the candidate may not exceed this multiple of equity (clusters overlap
      on USD; MAX_CURRENCY_EXPOSURE says why 500);
    - ``margin_level_floor = 300.0``, [0, any finite]: no entry while the margin level
      (percent) is below this; a margin level of 0 means no positions in MT5 and passes.
      No upper bound: a huge floor is a way to say "no entry while any margin is in use";
    - ``account_daily_loss = 0.02``, (0, 1): equity this far below the day-start equity puts
      the whole account CLOSE_ONLY until the next trading day;
    - ``max_drawdown = 0.08``, (0, 1): equity this far below its peak flattens everything
      and HALTs the account until the trader re-arms.
    """

    risk_per_trade: float = 0.003
    max_lots_per_leg: float = 10.0
    cooldown_bars: int = 4
    cluster_daily_loss: float = 0.01
    max_open_risk: float = 0.015
    max_currency_exposure: float = 3.0
    margin_level_floor: float = 300.0
    account_daily_loss: float = 0.02
    max_drawdown: float = 0.08

    def __post_init__(self) -> None:
        checked = {name: _fraction(name, getattr(self, name)) for name in _FRACTIONS}
        checked["max_lots_per_leg"] = ranges.number(
            "max_lots_per_leg", self.max_lots_per_leg, 0, MAX_LOTS_PER_LEG, low_open=True)
        checked["max_currency_exposure"] = ranges.number(
            "max_currency_exposure", self.max_currency_exposure, 0, MAX_CURRENCY_EXPOSURE,
            low_open=True)
        checked["margin_level_floor"] = ranges.number(
            "margin_level_floor", self.margin_level_floor, 0, math.inf, high_open=True)
        checked["cooldown_bars"] = ranges.integer("cooldown_bars", self.cooldown_bars, 0,
                                                  ranges.MAX_BARS)
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        if self.max_open_risk < self.risk_per_trade:
            raise ranges.FieldError(
                "max_open_risk", f"{self.max_open_risk} is below risk_per_trade "
                f"{self.risk_per_trade}, so no basket could ever open")

    def risk_budget(self, equity: float) -> float:
        """The account-currency loss a new basket's hard stop may cost (RPT x equity)."""
        return self.risk_per_trade * equity


def _fraction(name: str, value: object) -> float:
    try:
        return ranges.number(name, value, 0, 1, low_open=True, high_open=True)
    except ranges.FieldError:
        raise ranges.FieldError(name, f"must be a fraction between 0 and 1 (exclusive), "
                                      f"got {value!r}") from None
