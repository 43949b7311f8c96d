"""The risk limits, validated at construction."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RiskConfig:
    """Risk limits.  Fractions are of equity; defaults suit a 0.30%-per-trade engine.

    - ``risk_per_trade = 0.003``: a basket's hard-stop loss as a fraction of equity (RPT);
    - ``max_lots_per_leg = 10.0``: no leg of a new basket above this many lots;
    - ``cooldown_bars = 4``: after a stop exit (HS, TS) the cluster waits this many complete
      M30 bars before a new entry (0 disables);
    - ``cluster_daily_loss = 0.01``: a cluster whose realised loss today reaches this share of
      the day-start equity goes CLOSE_ONLY until the next trading day;
    - ``max_open_risk = 0.015``: the open baskets' risk budgets plus the candidate's may not
      exceed this share of equity (five baskets at the default RPT);
    - ``max_currency_exposure = 3.0``: per currency, |net exposure| of the open baskets plus
      the candidate may not exceed this multiple of equity (clusters overlap on USD);
    - ``margin_level_floor = 300.0``: no entry while the margin level (percent) is below
      this; a margin level of 0 means no positions in MT5 and passes;
    - ``account_daily_loss = 0.02``: equity this far below the day-start equity puts the
      whole account CLOSE_ONLY until the next trading day;
    - ``max_drawdown = 0.08``: equity this far below its peak flattens everything and HALTs
      the account until the trader re-arms.
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
        for name in ("risk_per_trade", "cluster_daily_loss", "max_open_risk",
                     "account_daily_loss", "max_drawdown"):
            _require_fraction(name, getattr(self, name))
        for name in ("max_lots_per_leg", "max_currency_exposure"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: must be a positive number, got {value!r}")
        if not math.isfinite(self.margin_level_floor) or self.margin_level_floor < 0:
            raise ValueError(f"margin_level_floor: must be >= 0, got {self.margin_level_floor!r}")
        if isinstance(self.cooldown_bars, bool) or not isinstance(self.cooldown_bars, int) \
                or self.cooldown_bars < 0:
            raise ValueError(f"cooldown_bars: must be an integer >= 0, got {self.cooldown_bars!r}")
        if self.max_open_risk < self.risk_per_trade:
            raise ValueError(
                f"max_open_risk: {self.max_open_risk} is below risk_per_trade "
                f"{self.risk_per_trade}, so no basket could ever open"
            )

    def risk_budget(self, equity: float) -> float:
        """The account-currency loss a new basket's hard stop may cost (RPT x equity)."""
        return self.risk_per_trade * equity


def _require_fraction(name: str, value: float) -> None:
    if not math.isfinite(value) or not 0 < value < 1:
        raise ValueError(f"{name}: must be a fraction between 0 and 1, got {value!r}")
