"""New Order: a market order on one symbol outside any basket, placed by the trader.

The order is the trader's own: no cluster owns it, so it carries the manual magic
(``MANUAL_MAGIC`` = 0, the magic MetaTrader 5 gives a position opened by hand, and a number
no cluster may use: cluster magics start at 1) and the comment ``"manual"``.  It goes out
through the same ``Executor`` as a basket leg (request journaled before it is sent, result
and deal after, the symbol's filling mode), and the command is in the audit trail.

Which risk checks apply (docs/architecture.md, Console: New Order), first refusal wins:
1. reconciliation done (as for every entry);
2. the account: HALTED or CLOSE_ONLY refuses (a drawdown stop or the daily loss limit means
   no new exposure, whoever asks); a lost connection refuses;
3. the volume: the symbol's volume_min / volume_step / volume_max and the risk config's
   ``max_lots_per_leg``;
4. the currency cap: the net exposure per currency of every open position plus the order
   may not exceed ``max_currency_exposure`` x equity (the cap the baskets obey);
5. the margin floor: no order while the margin level is below ``margin_level_floor``.
The open-risk cap does not apply (a manual order has no risk budget: its stop is the
trader's), nor does the news filter (it guards the strategy's entries; the trader sees the
calendar).  The terminal then makes its own checks (free margin, stops, market hours).

SL and TP are set on the position in the request: the terminal closes it when a price
reaches them (the simulated terminal watches every tick, as MT5's server does).  Such a
close happens at the terminal, not through the engine, so ``sweep`` (each M1 close, while
manual positions are open) journals the closing deals of the positions that vanished.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from engine import commands as cmd
from engine.execution import Executor, deal_record
from engine.fx import CurrencyConverter
from engine.market import MarketState
from engine.model import ClusterState, OrderPurpose
from engine.ports import Journal, Terminal
from engine.risk import RiskManager
from engine.snapshot import (
    CurrencyExposure,
    PositionView,
    SymbolSpec,
    currency_exposures,
    exposure_views,
    position_views,
)

#: The magic number of the trader's own orders (MT5's for a position opened by hand).
MANUAL_MAGIC = 0
#: The comment every manual order carries (what the Trade tab and the journal show).
MANUAL_COMMENT = "manual"
#: The deviation New Order proposes, in points (the engine's legs use the config's).
DEFAULT_DEVIATION = 10

Outcome = tuple[bool, str]


class OrdersHost(Protocol):
    """What a manual order needs of the engine."""

    config: Any
    terminal: Terminal
    journal: Journal
    executor: Executor
    risk: RiskManager
    market: MarketState
    fx: CurrencyConverter
    symbol_book: Any

    @property
    def reconciled(self) -> bool: ...
    @property
    def equity(self) -> float: ...
    @property
    def margin_level(self) -> float: ...
    def now(self) -> datetime: ...
    def refresh_account(self) -> None: ...
    def log(self, level: str, text: str) -> None: ...


class ManualOrders:
    """Places the trader's single-symbol orders and follows them until they close."""

    def __init__(self, host: OrdersHost) -> None:
        self._host = host
        self._specs: tuple[SymbolSpec, ...] = ()
        #: Manual positions opened by this engine and not yet seen closed.
        self._open: set[int] = set()

    # ------------------------------------------------------------------ placing

    def place(self, command: cmd.PlaceOrder) -> Outcome:
        """Check, send and journal one order; (done, what happened) for the audit trail."""
        spec = self.spec(command.symbol)
        side = command.side.upper()
        if side not in ("BUY", "SELL"):
            return False, f"side {command.side!r} must be BUY or SELL"
        volume = float(command.volume)
        refusal = self.refusal(spec, side, volume)
        if refusal is not None:
            return False, f"refused: {refusal}"
        lots = volume if side == "BUY" else -volume
        extra = {"sl": float(command.sl or 0.0), "tp": float(command.tp or 0.0),
                 "deviation": int(command.deviation)}
        fill = self._host.executor.send_leg(None, OrderPurpose.MANUAL, spec.symbol, lots,
                                            MANUAL_MAGIC, comment=MANUAL_COMMENT, extra=extra)
        if not fill.filled:
            return False, f"{side.lower()} {volume:g} {spec.symbol}: {fill.status} " \
                          f"{fill.retcode} {fill.detail}".rstrip()
        self._open.add(int(fill.position))
        price = f"{fill.price:.{spec.digits}f}"
        return True, f"#{fill.position} {side.lower()} {volume:g} {spec.symbol} at {price}"

    def refusal(self, spec: SymbolSpec, side: str, volume: float) -> str | None:
        """Why the risk rules refuse this order now (None: they allow it); see the module."""
        host = self._host
        if not host.reconciled:
            return "reconciliation not done"
        state = host.risk.snapshot(host.now())
        if state.account_state is not ClusterState.ACTIVE:
            return (f"account {state.account_state.value}"
                    f"{': ' + state.account_reason if state.account_reason else ''}; "
                    f"no new positions (closing them stays possible)")
        if not state.connected:
            return "terminal disconnected"
        problem = spec.volume_problem(volume)
        if problem is not None:
            return problem
        limit = host.config.risk.max_lots_per_leg
        if volume > limit:
            return f"{volume:g} lots exceeds the risk limit of {limit:g} per leg"
        host.refresh_account()
        return self._exposure_refusal(spec, side, volume) or self._margin_refusal()

    def _exposure_refusal(self, spec: SymbolSpec, side: str, volume: float) -> str | None:
        host = self._host
        equity = host.equity
        if not math.isfinite(equity) or equity <= 0:
            return f"equity {equity!r} is unusable"
        order = PositionView(0, spec.symbol, side, volume, 0.0, 0.0, 0.0, 0.0, MANUAL_MAGIC,
                             MANUAL_COMMENT, None)
        held = self.net_exposures()
        added = currency_exposures([order], {spec.symbol: spec.contract_size},
                                   self.base_value())
        cap = host.config.risk.max_currency_exposure * equity
        for ccy in sorted(added):
            net = held.get(ccy, 0.0) + added[ccy]
            if abs(net) > cap and abs(net) > abs(held.get(ccy, 0.0)):
                return (f"{ccy} net exposure would be {net:+,.2f}, beyond the cap "
                        f"+-{cap:,.2f} ({host.config.risk.max_currency_exposure:g} x equity)")
        return None

    def _margin_refusal(self) -> str | None:
        level = self._host.margin_level
        floor = self._host.config.risk.margin_level_floor
        # MT5 reports 0 when no margin is used; NaN (unknown) fails the comparison.
        if level != 0 and not level >= floor:
            return f"margin level {level:.1f}% is below the {floor:.0f}% floor"
        return None

    # ------------------------------------------------------------------ following

    def holding(self) -> bool:
        """A position this engine placed by hand may still be open at the terminal."""
        return bool(self._open)

    def sweep(self) -> bool:
        """Journal the closing deals of manual positions the terminal closed by itself
        (SL, TP, stop-out); True while any placed by this engine is still open (the engine
        then marks equity every minute, as for a basket).  Deals are idempotent in the
        journal, so one the engine already recorded (a close from the Trade tab) is not
        doubled."""
        if not self._open:
            return False
        terminal = self._host.terminal
        positions = terminal.positions_get()
        if positions is None:
            return True
        still = {int(p.ticket) for p in positions}
        for ticket in sorted(self._open - still):
            for deal in terminal.history_deals_get(position=ticket) or ():
                self._host.journal.record_deal(deal_record(terminal, deal, None))
            self._open.discard(ticket)
            self._host.log("INFO", f"manual position #{ticket} closed at the terminal")
        return bool(self._open)

    # ------------------------------------------------------------------ views

    def spec(self, symbol: str) -> SymbolSpec:
        """The symbol's specification; KeyError (answered as rejected) for an unknown one."""
        for spec in self.specs():
            if spec.symbol == symbol:
                return spec
        raise KeyError(f"no symbol named {symbol!r} in this market")

    def specs(self) -> tuple[SymbolSpec, ...]:
        """Every market symbol's New Order specification, read once from the terminal."""
        if not self._specs:
            host = self._host
            out = []
            for symbol in host.market.symbols:
                info = host.terminal.symbol_info(symbol)
                quote = host.symbol_book.quotes.get(symbol)
                if info is None or quote is None:
                    continue
                point = float(info.point)
                out.append(SymbolSpec(
                    symbol, int(getattr(info, "digits", round(-math.log10(point)))), point,
                    quote.contract_size, quote.volume_min, quote.volume_step, quote.volume_max,
                    int(getattr(info, "filling_mode", 0)),
                    int(host.terminal.filling_mode_for(symbol))))
            self._specs = tuple(out)
        return self._specs

    def base_value(self) -> Callable[[str], float]:
        """The account-currency value of one unit of a currency at the current mids."""
        mids = self._host.market.mids()
        fx = self._host.fx

        def value(ccy: str) -> float:
            try:
                return fx.value(ccy, mids)
            except KeyError:
                return math.nan
        return value

    def net_exposures(self, positions: tuple[PositionView, ...] | None = None,
                      ) -> dict[str, float]:
        """Net exposure per currency of every open position at the terminal, valued now."""
        if positions is None:
            positions = position_views(self._host.terminal.positions_get() or (), {}, {})
        sizes: Mapping[str, float] = self._host.symbol_book.contract_sizes()
        return currency_exposures(positions, sizes, self.base_value(),
                                  self._host.fx.instruments)

    def exposure_table(self, positions: tuple[PositionView, ...],
                       equity: float) -> tuple[CurrencyExposure, ...]:
        """The snapshot's exposure rows: every open position, with the per-currency cap."""
        return exposure_views(self.net_exposures(positions), equity,
                              self._host.config.risk.max_currency_exposure)
