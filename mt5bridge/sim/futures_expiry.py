"""Expiry of futures CFDs in the simulated trade server: the broker settles what is open.

At a contract's ``expiration_time`` the terminal (``SimTerminal.sim_advance_to``) stops
between the ticks before and after it, as it does at a rollover, and the trade server
closes every position still open on the contract at its **final price**: the cash symbol's
mid at that instant (its last quote before expiry), on the contract's price grid; when the
feed does not quote the cash symbol (a recording of the future alone), the contract's own
last mid.  Brokers do the same with an expiring futures CFD they do not roll.  The closing
deal has ``reason`` ``DEAL_REASON_ROLLOVER`` and the comment ``[expiration <price>]``:
the module's ``DEAL_REASON_*`` constants have no expiry reason, and ROLLOVER ("executed due
to a rollover") is the broker's scheduled contract event among them, not the trader's
(``EXPERT``, ``CLIENT``) nor a stop-out (``SO``).  The closing order has
``ORDER_REASON_CLIENT`` (there is no rollover order reason).  Pending orders on the
contract are cancelled at the same instant.  After expiry ``trade_mode`` is disabled, so
every request on the contract gets ``TRADE_RETCODE_TRADE_DISABLED`` (10017).
"""

from __future__ import annotations

from collections.abc import Sequence

from mt5bridge import constants as c
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.sim.trade_state import TradeState

__all__ = ["ExpirySchedule", "FuturesExpiry"]


class ExpirySchedule:
    """The terminal's contracts by expiry: which expire by a time, in time order."""

    def __init__(self, specs: Sequence[SymbolSpec], now_msc: int) -> None:
        self._due = sorted((s.expiration_time * 1000, i) for i, s in enumerate(specs)
                           if s.expiration_time and s.expiration_time * 1000 > now_msc)

    def __bool__(self) -> bool:
        return bool(self._due)

    @property
    def next_msc(self) -> int | None:
        """The next expiry (UTC ms), or None when no contract is left to expire."""
        return self._due[0][0] if self._due else None

    def pop(self) -> tuple[int, list[int]]:
        """The next expiry time and the indices of every contract expiring then."""
        at = self._due[0][0]
        indices = [i for t, i in self._due if t == at]
        self._due = [(t, i) for t, i in self._due if t != at]
        return at, indices


class FuturesExpiry(TradeState):
    """Settling a contract's positions and cancelling its orders at expiry."""

    def settlement_price(self, index: int) -> float:
        """The final price of contract ``index`` now: the cash mid, else its own mid."""
        spec = self.specs[index]
        cash = self.index_of.get(spec.basis + self.config.symbol_suffix)
        source = cash if cash is not None and self.tape.has_quote[cash] else index
        mid = (float(self.tape.bid[source]) + float(self.tape.ask[source])) / 2.0
        return round(mid, spec.digits)

    def settle_expired(self, index: int, at_msc: int) -> None:
        """Close every position on contract ``index`` at its final price and cancel its
        pending orders (the contract expired at ``at_msc``)."""
        for order in [o for o in self.orders.values() if o.symbol_index == index]:
            self._finish_order(order, c.ORDER_STATE_CANCELED, at_msc)  # type: ignore[attr-defined]
        positions = [p for p in self.positions.values() if p.symbol_index == index]
        if not positions:
            return
        price = self.settlement_price(index)
        comment = f"[expiration {price:.{self.specs[index].digits}f}]"
        for pos in positions:
            self._close_at_market(  # type: ignore[attr-defined]
                pos, reason_order=c.ORDER_REASON_CLIENT, reason_deal=c.DEAL_REASON_ROLLOVER,
                comment=comment, at_msc=at_msc, price=price)
