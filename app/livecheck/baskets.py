"""``order_check`` of a minimal basket of each cluster, both sides: nothing is traded.

The basket is sized by the engine's own code (``engine.cluster.size_basket``: each leg's
exposure through the cluster's orientation and the account value of its base, to lots of
the symbol's contract, rounded to its volume step), on a unit basket whose shape needs no
history: equal weights with alternating sides in the cluster's sorted symbol order (the
TDI's loadings need days of bars a rehearsal does not wait for).  Its scale is the smallest
at which every leg reaches the symbol's minimum volume.  The short basket is the long one
reversed.  Each leg is the engine's market deal (``retcodes.market_request``).

The margin shown is each leg's ``order_check`` margin (the account's margin after that deal
alone) less the account's margin now, summed over the legs: what the basket adds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.livecheck.report import Check, Verdict
from app.livecheck.retcodes import market_request, retcode_fix, retcode_text
from engine.cluster import ClusterSpec, LegQuote, size_basket
from engine.config import EngineConfig
from engine.errors import ConfigError
from engine.fx import CurrencyConverter
from engine.instruments import instrument_for
from mt5bridge import constants as c
from mt5bridge.live import LiveTerminal

__all__ = ["MARGIN_NOTE", "basket_checks", "minimal_basket"]

#: The basis of the margin a basket row shows.
MARGIN_NOTE = ("basket margin: each leg's order_check margin less the account's margin now, "
               "summed over the legs; nothing was sent with order_send")


@dataclass(frozen=True)
class _LegCheck:
    symbol: str
    lots: float
    code: int
    comment: str
    margin_added: float


def minimal_basket(spec: ClusterSpec, quotes: Mapping[str, LegQuote],
                   sign: int = 1) -> dict[str, float]:
    """Signed lots of the cluster's smallest basket (see the module docstring); ``sign``
    -1 is the short side."""
    ordered = sorted(spec.symbols)
    unit = {s: sign * (1 if i % 2 == 0 else -1) / len(ordered) for i, s in enumerate(ordered)}
    gross = max(quotes[s].volume_min * quotes[s].usd_per_base * quotes[s].contract_size
                / abs(unit[s]) for s in ordered)
    size = size_basket(unit, gross, quotes, spec.orientation)
    return {leg.symbol: leg.lots for leg in size.legs if leg.lots != 0}


def _leg_quotes(adapter: LiveTerminal, symbols: Iterable[str],
                currency: str) -> dict[str, LegQuote]:
    """What sizing needs of each symbol, valued at the mids now (a ``ConfigError`` when a
    currency cannot be valued in the account's)."""
    names = list(symbols)
    infos = {s: adapter.symbol_info(s) for s in names}
    ticks = {s: adapter.symbol_info_tick(s) for s in names}
    instruments = {s: inst for s, info in infos.items() if info is not None
                   and (inst := instrument_for(s, str(info.currency_profit))) is not None}
    fx = CurrencyConverter(names, currency, instruments)
    mids = np.array([(t.bid + t.ask) / 2 if t is not None and t.bid > 0 else math.nan
                     for t in ticks.values()])
    return {s: LegQuote(s, fx.value(fx.parts(s)[0], mids), float(info.trade_contract_size),
                        float(info.volume_min), float(info.volume_max),
                        float(info.volume_step))
            for s, info in infos.items() if info is not None}


def basket_checks(adapter: LiveTerminal, config: EngineConfig,
                  missing: Iterable[str]) -> list[Check]:
    """A row per cluster and side: the legs' retcodes and the margin the basket adds."""
    lacking = set(missing)
    account = adapter.account_info()
    if account is None:
        return [Check("baskets", Verdict.FAIL, "no account to check orders against",
                      "log in to the trading account in the terminal")]
    present = [s for s in config.symbols if s not in lacking]
    try:
        quotes = _leg_quotes(adapter, present, str(account.currency))
    except ConfigError as exc:
        return [Check("baskets", Verdict.FAIL, f"cannot size baskets: {exc}",
                      "check clusters whose currencies the broker's symbols can value")]
    rows: list[Check] = []
    for spec in config.clusters:
        rows.extend(_cluster_rows(adapter, spec, quotes, lacking, account, config))
    return rows


def _cluster_rows(adapter: LiveTerminal, spec: ClusterSpec, quotes: Mapping[str, LegQuote],
                  lacking: set[str], account: Any, config: EngineConfig) -> list[Check]:
    name = f"basket {spec.name}"
    if spec.kind == "correlation" and getattr(spec.params, "action", "trade") != "trade":
        return [Check(name, Verdict.PASS, "watches its regime only: it opens no basket")]
    absent = [s for s in spec.symbols if s in lacking]
    if absent:
        return [Check(name, Verdict.FAIL, f"not checked: the broker lacks {', '.join(absent)}",
                      "check clusters whose symbols the broker offers (--clusters)")]
    unpriced = [s for s in spec.symbols if s not in quotes or not quotes[s].usd_per_base > 0]
    if unpriced:
        return [Check(name, Verdict.WARN, f"not checked: no quote for {', '.join(unpriced)}",
                      "run live-check again while the market quotes")]
    rows = []
    for side, sign in (("long", 1), ("short", -1)):
        lots = minimal_basket(spec, quotes, sign)
        legs = [_check_leg(adapter, s, v, spec.magic, float(account.margin),
                           config.execution.deviation_points) for s, v in lots.items()]
        rows.append(_basket_row(f"{name} {side}", legs, account))
    return rows


def _check_leg(adapter: LiveTerminal, symbol: str, lots: float, magic: int,
               margin_now: float, deviation: int) -> _LegCheck:
    tick = adapter.symbol_info_tick(symbol)
    result = (adapter.order_check(market_request(symbol, lots, tick, magic, deviation))
              if tick is not None else None)
    if result is None:
        code, message = adapter.last_error()
        return _LegCheck(symbol, lots, int(code), str(message), math.nan)
    return _LegCheck(symbol, lots, int(result.retcode), str(result.comment),
                     float(result.margin) - margin_now)


def _basket_row(name: str, legs: list[_LegCheck], account: Any) -> Check:
    listed = ", ".join(f"{'buy' if leg.lots > 0 else 'sell'} {leg.symbol} {abs(leg.lots):g}"
                       for leg in legs)
    refused = [leg for leg in legs if leg.code != 0]
    if refused:
        codes = "; ".join(f"{leg.symbol}: {retcode_text(leg.code, leg.comment)}"
                          for leg in refused)
        closed = all(leg.code == c.TRADE_RETCODE_MARKET_CLOSED for leg in refused)
        return Check(name, Verdict.WARN if closed else Verdict.FAIL,
                     f"{listed}: order_check refused {codes}", retcode_fix(refused[0].code))
    added = sum(leg.margin_added for leg in legs)
    currency = account.currency
    detail = (f"{listed}: order_check 0 Done on every leg; margin +{added:,.2f} {currency} "
              f"of {account.margin_free:,.2f} free")
    if added > float(account.margin_free):
        return Check(name, Verdict.FAIL, f"{detail}: the legs together do not fit",
                     retcode_fix(c.TRADE_RETCODE_NO_MONEY))
    return Check(name, Verdict.PASS, detail)
