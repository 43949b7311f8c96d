"""The account's trade history: finished orders and booked deals.

Both lists only grow and are appended in time order, so range queries are binary searches.
Queries take server-time seconds (what the package's date arguments mean) and the
conversion to UTC happens once per query, not per record.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.account import Deal, Order
from mt5bridge.sim.groups import group_matcher

__all__ = ["History"]

_Record = TypeVar("_Record", Deal, Order)


class History:
    """Finished orders (by setup time) and deals (by time), with the package's filters."""

    def __init__(self) -> None:
        self.deals: list[Deal] = []
        self.orders: list[Order] = []
        self._deal_times: list[int] = []
        self._order_times: list[int] = []
        self._deals_by_ticket: dict[int, Deal] = {}
        self._orders_by_ticket: dict[int, Order] = {}
        self._deals_by_position: dict[int, list[Deal]] = defaultdict(list)
        self._orders_by_position: dict[int, list[Order]] = defaultdict(list)

    def add_deal(self, deal: Deal) -> None:
        at = bisect.bisect_right(self._deal_times, deal.time_msc)
        self.deals.insert(at, deal)
        self._deal_times.insert(at, deal.time_msc)
        self._deals_by_ticket[deal.ticket] = deal
        if deal.position_id:
            self._deals_by_position[deal.position_id].append(deal)

    def add_order(self, order: Order) -> None:
        at = bisect.bisect_right(self._order_times, order.time_setup_msc)
        self.orders.insert(at, order)
        self._order_times.insert(at, order.time_setup_msc)
        self._orders_by_ticket[order.ticket] = order
        if order.position_id:
            self._orders_by_position[order.position_id].append(order)

    # -- queries ---------------------------------------------------------------------------

    @staticmethod
    def _utc_bounds(tz: ServerTimeZone, from_s: int, to_s: int) -> tuple[int, int]:
        """UTC ms range [lo, hi) of records whose server-time second is in [from_s, to_s]."""
        return tz.to_utc_ms(from_s * 1000), tz.to_utc_ms((to_s + 1) * 1000)

    def deals_between(self, tz: ServerTimeZone, from_s: int, to_s: int,
                      group: str | None = None) -> list[Deal]:
        lo, hi = self._utc_bounds(tz, from_s, to_s)
        a = bisect.bisect_left(self._deal_times, lo)
        b = bisect.bisect_left(self._deal_times, hi)
        return _filter_group(self.deals[a:b], group)

    def orders_between(self, tz: ServerTimeZone, from_s: int, to_s: int,
                       group: str | None = None) -> list[Order]:
        lo, hi = self._utc_bounds(tz, from_s, to_s)
        a = bisect.bisect_left(self._order_times, lo)
        b = bisect.bisect_left(self._order_times, hi)
        return _filter_group(self.orders[a:b], group)

    def deal(self, ticket: int) -> list[Deal]:
        found = self._deals_by_ticket.get(ticket)
        return [found] if found is not None else []

    def order(self, ticket: int) -> list[Order]:
        found = self._orders_by_ticket.get(ticket)
        return [found] if found is not None else []

    def deals_of_position(self, position_id: int) -> list[Deal]:
        return list(self._deals_by_position.get(position_id, ()))

    def orders_of_position(self, position_id: int) -> list[Order]:
        return list(self._orders_by_position.get(position_id, ()))


def _filter_group(records: Iterable[_Record], group: str | None) -> list[_Record]:
    if not group:
        return list(records)
    matcher = group_matcher(group)
    return [r for r in records if matcher.fullmatch(r.symbol)]
