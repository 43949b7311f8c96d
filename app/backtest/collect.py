"""From a finished backtest session to a ``BacktestResult``: trades, daily equity, metrics,
TDI series and the parameters the report states."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from app.backtest.data import MarketData, spread_params
from app.backtest.excursions import Excursions
from app.backtest.legs import (
    QuoteValues,
    leg_frame,
    metric_baskets,
    symbol_specs,
    with_cost_split,
)
from app.backtest.spec import BacktestResult, BacktestSpec, to_utc
from app.sessions import Session
from engine.cluster import ClusterSpec
from engine.config import EngineConfig
from engine.factor import NO_FACTOR
from engine.metrics import MetricsConfig, compute_metrics
from engine.records import HistoryFilter

_TRADE_COLUMNS = ["basket_id", "cluster", "direction", "entry_time", "exit_time", "entry_tdi",
                  "exit_tdi", "exit_code", "pnl", "costs", *(
                      # how flat the basket was in its cluster's numeraire after lot
                      # rounding (account currency, + long; share = net / gross notional)
                      "numeraire", "net_numeraire_exposure", "net_numeraire_share")]


@dataclass
class Trading:
    """What the run itself observed: the traded period, the equity marks at every UTC
    midnight (and at the end), the M30 TDI per cluster, and whether it ran to the end."""

    start_ms: int
    end_ms: int
    marks: list[tuple[int, float, float]] = field(default_factory=list)
    tdi: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    #: What stopped the run before its end, if anything did (the report says so).
    failure: Exception | None = None
    #: The Ctrl+C or stop signal that ended the run early, if one did.
    interrupted: KeyboardInterrupt | None = None
    #: Why the run is incomplete, as its notes say it ("" when it ran to its end).
    incomplete_reason: str = ""
    #: The quote currencies' values at each basket's opening and closing (legs.csv).
    quote_values: QuoteValues = field(default_factory=dict)
    #: Each basket's lowest and highest price P&L while open (trades.csv mae, mfe).
    excursions: Excursions = field(default_factory=Excursions)
    #: Seconds the engine's start took (warm-up of every cluster, the compiled kernels'
    #: first load): a fixed cost of each run, reported apart from the stepping.
    start_seconds: float = 0.0


def collect(spec: BacktestSpec, config: EngineConfig, session: Session, market: MarketData,
            trading: Trading) -> BacktestResult:
    """The result, read from the session's journal (this run's baskets only)."""
    journal = session.journal
    run_id = session.engine.run_id
    # The closed baskets by close time, then those still open at the end by open time:
    # trades.csv and the report list an open one as open (no exit, no P&L), and the
    # metrics count it apart from the closed ones and in the time exposed.
    records = journal.basket_history(HistoryFilter(run_id=run_id))
    records += [held.basket for held in journal.open_baskets()
                if held.basket.opening.run_id == run_id]
    notes = [*market.notes, *trading.notes]
    complete = trading.complete
    equity = _daily_equity(trading.marks)
    start_capital = float(session.sim.sim_config.balance) if hasattr(
        session.sim.sim_config, "balance") else 100_000.0
    # --- legs.csv and each basket's costs split (app/backtest/legs.py)
    symbols = {leg.symbol for b in records for leg in b.opening.legs}
    legs = leg_frame(journal, records, trading.quote_values,
                     symbol_specs(session.terminal, symbols))
    trades = trading.excursions.columns(with_cost_split(_trades(records), legs))
    # ---
    metrics = None
    if len(equity) >= 2:
        metrics = compute_metrics(equity["equity"], start_capital,
                                  metric_baskets(records, trades),
                                  config=MetricsConfig(trials=max(spec.trials, 1),
                                                       basis=spec.metrics_basis),
                                  period=(to_utc(trading.start_ms), to_utc(trading.end_ms)))
    else:  # a run of one day that reached its end is whole: it has no daily returns
        notes.append(NO_METRICS)
    tdi = {name: pd.DataFrame(rows, columns=["time", "tdi"]).set_index("time")
           for name, rows in trading.tdi.items()}
    params = _params(spec, config, trading, start_capital)
    params.update(spread_params(spec, market))  # the spread model per symbol (app.spreads)
    return BacktestResult(spec, metrics, trades, equity, tdi, params, market.ranges,
                          complete, notes, failure=trading.failure,
                          interrupted=trading.interrupted, legs=legs,
                          incomplete_reason=trading.incomplete_reason)


#: The note of a run too short for daily returns (a span inside one UTC day).
NO_METRICS = "fewer than two days of equity: no metrics"


def _trades(records: list[Any]) -> pd.DataFrame:
    return pd.DataFrame([{
        "basket_id": b.basket_id, "cluster": b.opening.cluster,
        "direction": b.opening.direction.value, "entry_time": b.opening.opened_at,
        "exit_time": b.closing.closed_at if b.closing else None,
        "entry_tdi": b.opening.entry_tdi, "exit_tdi": b.closing.exit_tdi if b.closing else None,
        "exit_code": b.closing.exit_code.value if b.closing else "",
        "pnl": b.closing.pnl if b.closing else None,
        "costs": b.closing.costs if b.closing else None,
        "numeraire": b.opening.balance.numeraire,
        "net_numeraire_exposure": b.opening.balance.net,
        "net_numeraire_share": b.opening.balance.share,
    } for b in records], columns=_TRADE_COLUMNS)


def _daily_equity(marks: list[tuple[int, float, float]]) -> pd.DataFrame:
    daily = pd.DataFrame(marks, columns=["t", "balance", "equity"])
    daily["date"] = pd.to_datetime(daily["t"], unit="ms", utc=True)
    # the mark at 00:00 UTC closes the previous day
    daily["date"] = (daily["date"] - pd.Timedelta(milliseconds=1)).dt.normalize()
    return daily.groupby("date")[["balance", "equity"]].last()


def _params(spec: BacktestSpec, config: EngineConfig, trading: Trading,
            start_capital: float) -> dict[str, Any]:
    return {
        "source": spec.source, "tick_mode": spec.tick_mode, "seed": spec.seed,
        "period": {"from": to_utc(trading.start_ms).isoformat(),
                   "to": to_utc(trading.end_ms).isoformat()},
        "start_capital": start_capital, "config_hash": config.config_hash(),
        "clusters": {c.name: {"kind": c.kind, "symbols": list(c.symbols),
                              "timeframe": c.timeframe, **_kind_params(c),
                              "entry": c.entry, "exit": c.exit_band,
                              **dataclasses.asdict(c.stops), **_factor_params(c)}
                     for c in config.clusters},
        **({"factors": {f.name: {"symbols": list(f.symbols), "weights": list(f.weights)}
                        for f in config.factors}} if config.factors else {}),
        "risk": dataclasses.asdict(config.risk),
        "news": {k: str(v) for k, v in dataclasses.asdict(config.news).items()},
        "execution": dataclasses.asdict(config.execution),
        "calendar": "none (news filter off)" if spec.calendar is None and
                    spec.source != "synthetic" else "given",
    }


def _kind_params(spec: ClusterSpec) -> dict[str, Any]:
    """The settings of the cluster's signal model: the TDI's windows, or the kind's table."""
    if spec.kind == "tdi":
        return {"tau_f": spec.tdi.tau_f, "tau_s": spec.tdi.tau_s, "tau_q": spec.tdi.tau_q}
    return {spec.kind: dataclasses.asdict(spec.params)}


def _factor_params(spec: ClusterSpec) -> dict[str, Any]:
    """The cluster's factor stage (``engine.factor``); its window only when it has one."""
    if spec.factor == NO_FACTOR:
        return {"factor": spec.factor}
    return {"factor": spec.factor, "factor_window": spec.factor_window}
