"""``convertible hedge``: a synthetic convertible, delta-hedged on a real stock's daily closes.

MT5 has no convertible bonds, and the data here has no convertible prices: the bond is
**synthetic**.  It is issued on the first day of the period on the given terms (by
default at a conversion price ``premium`` above the first close) and marked every day by
``engine.convertible.price_convertible`` at the stock's close with constant inputs
(volatility, rate, dividend yield, credit spread): what the stock did is real, what the
bond is worth is the model's.

The position: ``bonds`` bonds long; on the first day the stock is sold short by the
bonds' delta (a stock CFD); at every later close, after that day's P&L, the short is
brought back to the bonds' delta when it has drifted further than the band from it
(``engine.convertible.hedge.rehedge``).  Each day's P&L is split by
``engine.convertible.hedge.split_pnl`` (gamma trading, rest, coupon, bond financing,
stock financing, hedge cost); the daily rows and the totals are what the command prints
and writes, and every total is the sum of its column.

The bond stops being marked the last close before its maturity (a later close is not
simulated: the bond has been redeemed or converted).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from app.research.daily_closes import read_daily_closes
from engine import ranges
from engine.convertible import ConvertibleTerms, MarketInputs, price_convertible
from engine.convertible.hedge import DAYS_PER_YEAR, PARTS, coupons_paid, rehedge, split_pnl
from engine.errors import UserError

#: Trading days a year, for the realised volatility the summary reports beside the input.
TRADING_DAYS = 252
#: The fewest closes a simulation needs: a start and one day of P&L.
MIN_CLOSES = 2
#: The simulator's tree: a bond repriced twice a day for years needs speed more than the
#: last 1e-5 of accuracy (``engine.convertible.tree``: about 3e-5 relative at 400 steps).
SIM_STEPS = 400


@dataclass(frozen=True)
class HedgeSetup:
    """How the simulated book is run (the bond's own terms are ``ConvertibleTerms``).

    - ``volatility``, ``rate``, ``dividend_yield = 0``, ``credit_spread = 0``: the inputs
      the synthetic bond is marked with every day (constant: "rest" is then theta);
    - ``bonds = 10.0``, > 0: bonds held long;
    - ``band = 0.05``, [0, 1]: the hedge's band as a fraction of the shares the bonds
      convert into: the short is re-hedged when it differs from ``bonds * delta`` by more
      than ``band * bonds * ratio`` shares (0: every day);
    - ``borrow = 0``: the short CFD's financing, an annual rate on its notional (the
      broker's short swap; positive is a cost);
    - ``cost = 0``, [0, 0.1]: the cost of a re-hedge, a fraction of the price per share
      traded (half the spread plus commission);
    - ``financing_rate``: the rate the bond is financed at (None: ``rate``);
    - ``steps = SIM_STEPS``: the pricer's tree.
    """

    volatility: float
    rate: float
    dividend_yield: float = 0.0
    credit_spread: float = 0.0
    bonds: float = 10.0
    band: float = 0.05
    borrow: float = 0.0
    cost: float = 0.0
    financing_rate: float | None = None
    steps: int = SIM_STEPS

    def __post_init__(self) -> None:
        self.market(1.0)  # checks volatility, rate, dividend yield, credit spread
        ranges.number("bonds", self.bonds, 0.0, 1e9, low_open=True)
        ranges.number("band", self.band, 0.0, 1.0)
        ranges.number("borrow", self.borrow, -1.0, 1.0)
        ranges.number("cost", self.cost, 0.0, 0.1)
        if self.financing_rate is not None:
            ranges.number("financing_rate", self.financing_rate, -1.0, 1.0)

    @property
    def bond_rate(self) -> float:
        return self.rate if self.financing_rate is None else self.financing_rate

    def market(self, spot: float) -> MarketInputs:
        return MarketInputs(spot=spot, volatility=self.volatility, rate=self.rate,
                            dividend_yield=self.dividend_yield,
                            credit_spread=self.credit_spread)


@dataclass(frozen=True)
class HedgeDay:
    """One close of the simulation; the P&L columns are the day's (zero on the first)."""

    date: pd.Timestamp
    close: float
    years_left: float
    bond_price: float  # per bond, model, full price
    bond_delta: float  # shares per bond
    bond_gamma: float
    short_held: float  # shares short over the day ending at this close
    traded: float  # shares sold (+) or bought back (-) at this close
    coupon_paid: float  # coupon cash received at this close (all bonds)
    gamma_trading: float
    rest: float
    coupon: float
    bond_financing: float
    stock_financing: float
    hedge_cost: float

    @property
    def total(self) -> float:
        return sum(getattr(self, name) for name in PARTS)

    @property
    def short_after(self) -> float:
        return self.short_held + self.traded


@dataclass(frozen=True)
class HedgeResult:
    ticker: str
    terms: ConvertibleTerms
    setup: HedgeSetup
    days: list[HedgeDay]
    realised_volatility: float  # annualised, of the period's daily log returns
    stopped_at_maturity: bool

    def totals(self) -> dict[str, float]:
        """Each part's sum over the days, and their total."""
        sums = {name: math.fsum(getattr(d, name) for d in self.days) for name in PARTS}
        sums["total"] = math.fsum(sums[name] for name in PARTS)
        return sums

    @property
    def rehedges(self) -> int:
        return sum(1 for d in self.days[1:] if d.traded != 0.0)


def load_closes(path: Path, ticker: str, start: pd.Timestamp | None,
                end: pd.Timestamp | None) -> pd.Series:
    """One column of a wide daily file (``Date,SYM,...``) over ``[start, end)``."""
    if not path.is_file():
        raise UserError(f"--data: {path} is not a file")
    closes = read_daily_closes(path)
    symbol = ticker.strip().upper()
    if symbol not in closes.columns:
        raise UserError(f"--ticker: no column {symbol} in {path} (it has "
                        f"{', '.join(closes.columns)})")
    series = closes[symbol].dropna()
    if start is not None:
        series = series[series.index >= start]
    if end is not None:
        series = series[series.index < end]
    if len(series) < MIN_CLOSES:
        raise UserError(f"--ticker {symbol}: {len(series)} closes in the period; the "
                        f"simulation needs {MIN_CLOSES} or more")
    return series


def _years_between(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return (b - a).days / DAYS_PER_YEAR


def simulate(closes: pd.Series, terms: ConvertibleTerms, setup: HedgeSetup,
             ticker: str = "") -> HedgeResult:
    """The hedged book over ``closes`` (one close a day, oldest first)."""
    days = list(_days(closes, terms, setup))
    last = closes.index[len(days) - 1]
    returns = np.diff(np.log(closes.loc[:last].to_numpy(dtype=float)))
    realised = float(np.std(returns, ddof=1) * math.sqrt(TRADING_DAYS)) if len(
        returns) > 1 else math.nan
    return HedgeResult(ticker, terms, setup, days, realised, len(days) < len(closes))


def _days(closes: pd.Series, terms: ConvertibleTerms, setup: HedgeSetup) -> Iterator[HedgeDay]:
    dates = closes.index
    first = float(closes.iloc[0])
    value = price_convertible(terms, setup.market(first), steps=setup.steps)
    band_shares = setup.band * setup.bonds * terms.ratio
    short = setup.bonds * value.delta
    yield HedgeDay(dates[0], first, terms.maturity, value.price, value.delta, value.gamma,
                   0.0, short, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                   -abs(short) * first * setup.cost)
    bond = terms
    for i in range(1, len(closes)):
        elapsed = _years_between(dates[i - 1], dates[i])
        if elapsed >= bond.maturity:
            return  # redeemed or converted: the bond is no longer held
        close = float(closes.iloc[i])
        split = split_pnl(bond, setup.market(float(closes.iloc[i - 1])), setup.market(close),
                          elapsed_years=elapsed, bonds=setup.bonds, short_shares=short,
                          financing_rate=setup.bond_rate, borrow=setup.borrow,
                          steps=setup.steps, value_before=value)
        paid = coupons_paid(bond, elapsed)
        bond = bond.aged(elapsed)
        value = split.after
        traded = rehedge(short, setup.bonds, value.delta, band_shares)
        split = replace(split, hedge_cost=-abs(traded) * close * setup.cost)
        yield HedgeDay(dates[i], close, bond.maturity, value.price, value.delta, value.gamma,
                       short, traded, setup.bonds * paid,
                       *(getattr(split, name) for name in PARTS))
        short += traded
