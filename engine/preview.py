"""What opening a basket by hand would do now, without trading: the manual-basket preview.

The console shows the trader the legs, the risk budget, the basket's stop and take-profit
before a manual ``OpenBasket``, and warns when the engine would refuse it or close it at
once.  Everything here is computed by the engine's own code on the engine's thread (the
entry gates of ``engine.entries``, the exit rule of ``engine.baskets``): the console never
re-implements a rule, it only shows the answer.

The preview also guards the confirmation: ``OpenBasket`` carries the prices the trader
saw, and ``moved_legs`` names each leg whose order price has since moved beyond the
configured deviation, so a basket never opens at prices nobody looked at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.baskets import mean_reversion_exit
from engine.config import EngineConfig
from engine.events import EngineEvent
from engine.market import MarketState
from engine.model import Direction
from engine.signals import ClusterSignal
from engine.startup import SymbolBook


@dataclass(frozen=True)
class PreviewLeg:
    """One leg as it would be sent now: ``price`` is the side's price (ask to buy, bid to
    sell), the one the order would ask for."""

    symbol: str
    side: str  # "BUY" or "SELL"
    lots: float
    price: float
    digits: int


@dataclass(frozen=True)
class BasketPreview(EngineEvent):
    """The answer to ``commands.PreviewBasket`` (``request_id`` is its command id).

    Money is in the account currency.  ``stop_loss`` is the hard stop (HS: the basket's net
    P&L reaching minus the risk budget), ``take_profit`` TP on the same net P&L.
    ``tdi`` is the provisional TDI at the latest minute (what the fast exits read),
    ``bar_tdi`` the TDI at the last signal-bar close (the Clusters table's figure).
    ``refusal`` is the stable code of the first entry gate that would refuse ("" if none)
    and ``refusal_detail`` its sentence; ``exit_at_once`` says why the engine would close
    the basket at its next check ("" if it would not).
    """

    request_id: str
    cluster: str
    direction: str
    legs: tuple[PreviewLeg, ...]
    risk_budget: float
    equity: float
    stop_loss: float
    take_profit: float
    tdi: float
    bar_tdi: float
    entry: float
    exit_band: float
    tdi_stop: float
    deviation_points: int
    refusal: str = ""
    refusal_detail: str = ""
    exit_at_once: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusal

    def prices(self) -> dict[str, float]:
        """symbol -> previewed order price, for ``commands.OpenBasket.prices``."""
        return {leg.symbol: leg.price for leg in self.legs}


class PreviewHost(Protocol):
    """What a preview reads of the engine (on the engine's thread)."""

    config: EngineConfig
    signals: dict[str, ClusterSignal]
    market: MarketState
    symbol_book: SymbolBook
    entries: Any  # engine.entries.Entries: its ``evaluate`` runs every entry gate

    def now(self) -> datetime: ...


def preview_basket(host: PreviewHost, cluster: str, direction: str,
                   request_id: str) -> BasketPreview:
    """The basket ``OpenBasket(cluster, direction)`` would open now, and what would stop it.

    Raises KeyError for an unknown cluster (a command answers it as rejected).
    """
    sig = host.signals[cluster]
    side = Direction(direction.upper())
    stops = sig.spec.stops
    deviation = int(host.config.execution.deviation_points)
    point = sig.last_point
    base = {"time": host.now(), "request_id": request_id, "cluster": cluster,
            "direction": side.value, "entry": sig.entry, "exit_band": sig.exit_band,
            "tdi_stop": stops.tdi_stop, "deviation_points": deviation}
    if point is None:
        return BasketPreview(**base, legs=(), risk_budget=math.nan, equity=math.nan,
                             stop_loss=math.nan, take_profit=math.nan, tdi=math.nan,
                             bar_tdi=math.nan, refusal="NO_TDI",
                             refusal_detail="no TDI yet: still warming up")
    size, refusal, detail = host.entries.evaluate(sig, point, side, manual=True)
    tdi = sig.provisional(host.market.mids())
    tdi = tdi if math.isfinite(tdi) else point.score
    legs = _legs(host, size.lots) if size is not None else ()
    budget = size.budget if size is not None else math.nan
    return BasketPreview(
        **base, legs=legs, risk_budget=budget,
        equity=size.equity if size is not None else math.nan,
        stop_loss=-budget, take_profit=stops.take_profit_r * budget, tdi=tdi,
        bar_tdi=point.score,
        refusal=refusal, refusal_detail=detail,
        exit_at_once=exit_at_once(side, tdi, sig.exit_band, stops.tdi_stop,
                                  sig.overshoot_level),
        warnings=tuple(size.warnings) if size is not None else ())


def exit_at_once(direction: Direction, tdi: float, band: float, tdi_stop: float,
                 overshoot_level: float | None) -> str:
    """Why a basket opened now at ``tdi`` would be closed at the engine's next check
    (the same rule the engine applies: ``baskets.mean_reversion_exit``), or ""."""
    if not math.isfinite(tdi):
        return ""
    code = mean_reversion_exit(direction, tdi, band, overshoot_level)
    if code is not None:
        where = "inside the exit band" if abs(tdi) < band else "beyond the overshoot level"
        return (f"{code.value}: the TDI {tdi:+.2f} is {where} (X {band:.2f}): the engine "
                f"would close this basket at the next minute close")
    against = -tdi if direction is Direction.LONG else tdi
    if against >= tdi_stop:
        return (f"TS: the TDI {tdi:+.2f} is already at the TDI stop ({tdi_stop:.2f}) against "
                f"a {direction.value} basket: it would close at the next bar close")
    return ""


def _legs(host: PreviewHost, lots: Mapping[str, float]) -> tuple[PreviewLeg, ...]:
    market = host.market
    out = []
    for symbol, volume in lots.items():
        i = market.index[symbol]
        buy = volume > 0
        price = float(market.ask[i] if buy else market.bid[i])
        point = host.symbol_book.points.get(symbol) or 1e-5
        out.append(PreviewLeg(symbol, "BUY" if buy else "SELL", abs(float(volume)), price,
                              max(0, round(-math.log10(point)))))
    return tuple(out)


def moved_legs(host: PreviewHost, preview: BasketPreview,
               seen: Mapping[str, float]) -> list[str]:
    """The legs whose order price moved more than the deviation from the price the trader
    was shown (``seen``: symbol -> price), each as a sentence; a leg shown but no longer
    traded, or traded but not shown, counts as moved."""
    now = {leg.symbol: leg for leg in preview.legs}
    out = []
    for symbol in sorted(set(now) | set(seen)):
        if symbol not in now or symbol not in seen:
            out.append(f"{symbol}: the legs changed since the preview")
            continue
        point = host.symbol_book.points.get(symbol) or 1e-5
        moved = abs(now[symbol].price - float(seen[symbol])) / point
        if moved > preview.deviation_points:
            out.append(f"{symbol} {seen[symbol]:.{now[symbol].digits}f} -> "
                       f"{now[symbol].price:.{now[symbol].digits}f} ({moved:.0f} points, "
                       f"deviation {preview.deviation_points})")
    return out
