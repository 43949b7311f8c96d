"""The audit's three checks, each from runs of the user's configuration on the user's data.

(a) ``truncation``: runs to D and to D + k agree on every signal value and every basket
    closed before D (``app.audit.compare``); a difference means look-ahead.
(b) ``surrogates``: the same configuration on no-edge surrogates of the data
    (``engine.surrogate``), their Sharpe distribution beside the real Sharpe.
(c) ``costs``: spreads x0, x1, x2 and commission x0, x1: final P&L and Sharpe of each.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.audit.compare import Difference, first_basket_difference, first_series_difference
from app.audit.runs import RunFigures, Runner, figures, with_costs
from app.backtest import BacktestResult, BacktestSpec
from engine.surrogate import estimate_volatility, surrogate_market

#: The cost grid: (spread scale, commission scale); (1, 1) is the real run itself.
COST_GRID: tuple[tuple[float, float], ...] = tuple(
    (s, c) for c in (1.0, 0.0) for s in (0.0, 1.0, 2.0))


# -- (a) truncation ------------------------------------------------------------------------


@dataclass(frozen=True)
class TruncationCheck:
    cut: pd.Timestamp
    later: pd.Timestamp
    signals_compared: int
    baskets_compared: int
    difference: Difference | None

    @property
    def passed(self) -> bool:
        return self.difference is None

    @property
    def verdict(self) -> str:
        if self.difference is None:
            return (f"PASS: the runs to D and to D+k agree on all {self.signals_compared:,} "
                    f"signal scores (TDI, z, ...) and all {self.baskets_compared:,} baskets "
                    f"closed before D")
        return "FAIL (look-ahead): first difference before D: " + self.difference.text()

    def to_dict(self) -> dict[str, Any]:
        return {"cut": self.cut.isoformat(), "later": self.later.isoformat(),
                "signals_compared": self.signals_compared,
                "baskets_compared": self.baskets_compared, "passed": self.passed,
                "verdict": self.verdict,
                "first_difference": self.difference.to_dict() if self.difference else None}


def tdi_series(result: BacktestResult) -> dict[str, pd.Series]:
    return {name: frame["tdi"] for name, frame in result.tdi.items()}


def truncation(runner: Runner, base: BacktestSpec, cut: pd.Timestamp, later: pd.Timestamp,
               span_days: float) -> TruncationCheck:
    """Backtest ``base`` (its ``start`` fixed) to ``cut`` and to ``later``; compare."""
    days = max(span_days, 1.0)
    begin = pd.Timestamp(base.start)
    short, short_baskets = runner.run(
        dataclasses.replace(base, end=cut.to_pydatetime()), "(a) run to D",
        (cut - begin).days / days, fingerprints=True)
    long, long_baskets = runner.run(
        dataclasses.replace(base, end=later.to_pydatetime()), "(a) run to D+k",
        (later - begin).days / days, fingerprints=True)
    signal, n_signals = first_series_difference(tdi_series(short), tdi_series(long), cut)
    basket, n_baskets = first_basket_difference(short_baskets, long_baskets, cut)
    found = [d for d in (signal, basket) if d is not None]
    first = min(found, key=lambda d: (d.time, d.kind)) if found else None
    return TruncationCheck(cut, later, n_signals, n_baskets, first)


# -- (b) surrogates ------------------------------------------------------------------------


@dataclass(frozen=True)
class SurrogateCheck:
    real: RunFigures
    runs: tuple[RunFigures, ...]
    seeds: tuple[int, ...]

    @property
    def sharpes(self) -> list[float]:
        return [r.sharpe for r in self.runs]

    def summary(self) -> dict[str, float | int | None]:
        """Mean, min and max of the surrogates' finite Sharpes; the real Sharpe's rank among
        all runs (1 = highest; ties rank the real run lower) and the share of surrogates
        at or above it, (1 + #surrogates >= real) / (1 + N) as an empirical p-value."""
        finite = [s for s in self.sharpes if math.isfinite(s)]
        out: dict[str, float | int | None] = {
            "mean": float(np.mean(finite)) if finite else None,
            "min": min(finite) if finite else None, "max": max(finite) if finite else None,
            "finite": len(finite), "rank": None, "of": len(self.runs) + 1, "p_value": None}
        if math.isfinite(self.real.sharpe) and finite:
            at_or_above = sum(s >= self.real.sharpe for s in finite)
            out["rank"] = 1 + at_or_above
            out["p_value"] = (1 + at_or_above) / (1 + len(finite))
        return out

    @property
    def verdict(self) -> str:
        s = self.summary()
        if s["rank"] is None:
            return "no verdict: the real run or every surrogate has no Sharpe"
        if s["rank"] == 1:
            return ("the real Sharpe is above every surrogate's: an edge beyond noise and "
                    f"costs, at the resolution of {s['of']} runs (p = {s['p_value']:.2f})")
        return (f"the real Sharpe ranks {s['rank']} of {s['of']} (1 = highest): no evidence "
                f"of an edge beyond what no-edge markets give (p = {s['p_value']:.2f})")

    def to_dict(self) -> dict[str, Any]:
        return {"seeds": list(self.seeds), "real": self.real.to_dict(),
                "surrogates": [r.to_dict() for r in self.runs], **self.summary(),
                "verdict": self.verdict}


def surrogates(runner: Runner, base: BacktestSpec, bars: Mapping[str, np.ndarray],
               real: RunFigures, seeds: Sequence[int]) -> SurrogateCheck:
    """The configuration on a surrogate of every symbol, one market per seed."""
    profiles = {symbol: estimate_volatility(b) for symbol, b in bars.items()}
    runs = []
    for i, seed in enumerate(seeds):
        market = surrogate_market(bars, seed, profiles)
        label = f"(b) surrogate {i + 1}/{len(seeds)} (seed {seed})"
        result, _ = runner.run(dataclasses.replace(base, bars=market), label)
        runs.append(figures(f"seed {seed}", result))
    return SurrogateCheck(real, tuple(runs), tuple(seeds))


# -- (c) costs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    spread_scale: float
    commission_scale: float
    run: RunFigures

    def to_dict(self) -> dict[str, Any]:
        return {"spread_scale": self.spread_scale, "commission_scale": self.commission_scale,
                **self.run.to_dict()}


@dataclass(frozen=True)
class CostCheck:
    rows: tuple[CostRow, ...]

    def pnl(self, spread: float, commission: float) -> float:
        return next(r.run.pnl for r in self.rows
                    if (r.spread_scale, r.commission_scale) == (spread, commission))

    @property
    def monotone(self) -> bool:
        """More cost, less P&L: along the spread axis at each commission, and from
        commission x0 to x1 at each spread."""
        spreads = sorted({r.spread_scale for r in self.rows})
        commissions = sorted({r.commission_scale for r in self.rows})
        for c in commissions:
            pnls = [self.pnl(s, c) for s in spreads]
            if any(b > a for a, b in itertools.pairwise(pnls)):
                return False
        return all(self.pnl(s, commissions[-1]) <= self.pnl(s, commissions[0])
                   for s in spreads)

    @property
    def verdict(self) -> str:
        return "more cost, less P&L: " + ("yes" if self.monotone else
                                          "NO (the cost levels changed the trades)")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "monotone": self.monotone,
                "verdict": self.verdict}


def costs(runner: Runner, base: BacktestSpec, real: RunFigures) -> CostCheck:
    """The cost grid; the real run stands for spreads x1, commission x1."""
    rows = []
    for spread, commission in COST_GRID:
        if (spread, commission) == (1.0, 1.0):
            run = real
        else:
            label = f"(c) spreads x{spread:g}, commission x{commission:g}"
            result, _ = runner.run(with_costs(base, spread, commission), label)
            run = figures(label, result)
        rows.append(CostRow(spread, commission, run))
    return CostCheck(tuple(rows))
