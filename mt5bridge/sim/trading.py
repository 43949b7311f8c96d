"""The simulated trade server: order handling, fills, stops, stop-out and rollover.

``TradeServer`` is the front door: ``send`` and ``check`` dispatch a parsed request to the
part that handles its action.  Checks run in the order a trader meets them: Algo Trading
switch, request, symbol, volume, market hours, quotes, filling mode, the position being
closed, stops, price, free margin; then the seeded faults.  The parts, one job each, are
mixins over the state declared in ``trade_state.py``:

- ``trade_account.py``: balance, equity, margin, the per-batch margin-level figures,
  rollover swap, ``calc_margin``/``calc_profit``;
- ``trade_booking.py``: tickets, deals, filled orders, positions opened and closed
  (hedging and netting);
- ``trade_checks.py``: request validation (``Reject``, the ``_require_*`` checks);
- ``trade_deals.py``: market deals; ``trade_positions.py``: SL/TP changes and close-by;
- ``trade_pending.py``: pending orders placed, modified, removed, activated and expired;
- ``trade_triggers.py``: stops, pending orders and stop-out watched over each tick batch;
- ``futures_expiry.py``: a futures CFD's positions settled and orders cancelled at expiry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.errors import ConfigError
from mt5bridge import constants as c
from mt5bridge.sim.account import CurrencyConverter, cents
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.faults import FaultInjector
from mt5bridge.sim.futures_expiry import FuturesExpiry
from mt5bridge.sim.history import History
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.tape import TickTape
from mt5bridge.sim.trade_account import TradeAccount
from mt5bridge.sim.trade_booking import TradeBooking
from mt5bridge.sim.trade_checks import Reject, TradeChecks
from mt5bridge.sim.trade_deals import MarketDeals
from mt5bridge.sim.trade_pending import PendingOrders
from mt5bridge.sim.trade_positions import PositionRequests
from mt5bridge.sim.trade_triggers import TradeTriggers
from mt5bridge.structs import OrderCheckResult, OrderSendResult

__all__ = ["FIRST_DEAL_TICKET", "FIRST_ORDER_TICKET", "RETCODE_COMMENTS", "TradeServer"]

#: Tickets start above 2**32 so code that squeezes them into 32-bit integers fails in tests.
FIRST_ORDER_TICKET = 5_100_000_001
FIRST_DEAL_TICKET = 7_200_000_001

#: The short texts the terminal puts in ``OrderSendResult.comment``.
RETCODE_COMMENTS: dict[int, str] = {
    0: "Done",
    c.TRADE_RETCODE_REQUOTE: "Requote",
    c.TRADE_RETCODE_REJECT: "Request rejected",
    c.TRADE_RETCODE_CANCEL: "Request canceled by trader",
    c.TRADE_RETCODE_PLACED: "Order placed",
    c.TRADE_RETCODE_DONE: "Request executed",
    c.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    c.TRADE_RETCODE_ERROR: "Request processing error",
    c.TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
    c.TRADE_RETCODE_INVALID: "Invalid request",
    c.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    c.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    c.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    c.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    c.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    c.TRADE_RETCODE_NO_MONEY: "No money",
    c.TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
    c.TRADE_RETCODE_PRICE_OFF: "No prices",
    c.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    c.TRADE_RETCODE_NO_CHANGES: "No changes",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "AutoTrading disabled by client",
    c.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    c.TRADE_RETCODE_INVALID_ORDER: "Invalid order type",
    c.TRADE_RETCODE_POSITION_CLOSED: "Position already closed",
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Invalid close volume",
}


class TradeServer(TradeTriggers, PendingOrders, PositionRequests, MarketDeals, TradeChecks,
                  TradeBooking, TradeAccount, FuturesExpiry):
    """Account state and order handling of the simulated broker.

    ``now_msc`` (UTC) is set by the terminal as its clock advances; quotes come from the
    terminal's ``TickTape`` and must be synced by the caller before a request is handled.
    """

    def __init__(
        self,
        config: SimConfig,
        specs: Sequence[SymbolSpec],
        tape: TickTape,
        faults: FaultInjector,
        start_msc: int,
    ) -> None:
        self.config = config
        self.specs = list(specs)
        self.index_of = {spec.name: i for i, spec in enumerate(self.specs)}
        self.tape = tape
        self.faults = faults
        self.tz = config.server_tz
        self.now_msc = start_msc
        self.algo_enabled = config.algo_trading
        self.converter = CurrencyConverter(
            self.specs, config.currency, tape.bid, tape.ask, tape.has_quote
        )
        for spec in self.specs:
            for currency in {spec.profit_currency, spec.margin_currency}:
                if not self.converter.convertible(currency):
                    raise ConfigError(
                        "simulated terminal", "extra_specs",
                        f"{spec.name}: nothing converts {currency} into {config.currency}; "
                        f"the feed needs a symbol quoting {currency} against {config.currency}")
        self.history = History()
        self.positions = {}
        self.orders = {}
        self.balance_cents = 0
        self._next_order = FIRST_ORDER_TICKET
        self._next_deal = FIRST_DEAL_TICKET
        self._request_id = 0
        self._watch_positions = False  # any position with SL or TP
        self._arrays = None
        self._levels = None
        if config.balance > 0:
            self._book(
                order=0, time_msc=start_msc, type=c.DEAL_TYPE_BALANCE, entry=c.DEAL_ENTRY_IN,
                magic=0, position_id=0, reason=c.DEAL_REASON_CLIENT, volume=0.0, price=0.0,
                commission_cents=0, swap_cents=0, profit_cents=cents(config.balance),
                symbol="", comment="Initial deposit",
            )

    # -- results ---------------------------------------------------------------------------

    def _result(self, req: Any, retcode: int, *, deal: int = 0, order: int = 0,
                volume: float = 0.0, price: float = 0.0, bid: float = 0.0,
                ask: float = 0.0) -> Any:
        return OrderSendResult((retcode, deal, order, volume, price, bid, ask,
                                RETCODE_COMMENTS.get(retcode, "Request rejected"),
                                self._request_id, 0, req))

    def _check_result(self, req: Any, retcode: int, margin_after: float | None = None) -> Any:
        equity = self.equity()
        margin = self.margin() if margin_after is None else round(margin_after, 2)
        return OrderCheckResult((
            retcode, self.balance, equity, self.profit(), margin, round(equity - margin, 2),
            round(self.margin_level(equity, margin), 2), RETCODE_COMMENTS.get(retcode, ""),
            req,
        ))

    def _quotes_of(self, req: Any) -> tuple[float, float]:
        i = self.index_of.get(req.symbol)
        if i is None or not self.tape.has_quote[i]:
            return 0.0, 0.0
        return float(self.tape.bid[i]), float(self.tape.ask[i])

    # -- requests --------------------------------------------------------------------------

    def send(self, req: Any) -> Any:
        """``order_send`` for a parsed request (``TradeRequest``)."""
        self._request_id += 1
        if not self.algo_enabled:
            return self._result(req, c.TRADE_RETCODE_CLIENT_DISABLES_AT)
        try:
            return self._dispatch(req, check_only=False)
        except Reject as rej:
            bid, ask = self._quotes_of(req) if rej.quotes else (0.0, 0.0)
            return self._result(req, rej.retcode, bid=bid, ask=ask)

    def check(self, req: Any) -> Any:
        """``order_check``: the same validation, nothing executed; success is retcode 0."""
        try:
            margin_after = self._dispatch(req, check_only=True)
        except Reject as rej:
            return self._check_result(req, rej.retcode)
        return self._check_result(req, 0, margin_after)

    def _dispatch(self, req: Any, check_only: bool) -> Any:
        action = req.action
        if action == c.TRADE_ACTION_DEAL:
            return self._market(req, check_only)
        if action == c.TRADE_ACTION_PENDING:
            return self._place_pending(req, check_only)
        if action == c.TRADE_ACTION_SLTP:
            return self._modify_position(req, check_only)
        if action == c.TRADE_ACTION_MODIFY:
            return self._modify_order(req, check_only)
        if action == c.TRADE_ACTION_REMOVE:
            return self._remove_order(req, check_only)
        if action == c.TRADE_ACTION_CLOSE_BY:
            return self._close_by(req, check_only)
        raise Reject(c.TRADE_RETCODE_INVALID)
