"""The current run's basket deals on one symbol, for the symbol chart's entry and exit marks.

Read from the journal (the deals the terminal reported for each leg, journaled with their
basket id, price and UTC time), through the console's read-only journal connection: only
baskets opened by the running engine (``run_id``), so a replay never shows the marks of an
earlier run over the same market.  A closed basket's deals never change, so they are read
once and kept; an open basket's are read again on each refresh (an exit may have filled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.records import BasketRecord, HistoryFilter

#: MT5's deal codes: type BUY/SELL, entry IN/OUT (``DEAL_TYPE_*``, ``DEAL_ENTRY_*``).
_DEAL_BUY, _DEAL_SELL = 0, 1
_ENTRY_IN = 0


@dataclass(frozen=True)
class DealMark:
    """One fill on the chart: a leg's entry (``entry``) or exit, at the deal's price."""

    symbol: str
    time_ms: int
    price: float
    side: str  # "BUY" or "SELL": the deal's own direction (an exit of a buy is a SELL)
    entry: bool
    basket_id: str
    volume: float
    profit: float

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.time_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        what = "entry" if self.entry else "exit"
        text = f"{self.basket_id} {what}\n{self.side} {self.volume:g} at {self.price}\n{when} UTC"
        if not self.entry:
            text += f"\nprofit {self.profit:+,.2f}"
        return text


class RunMarks:
    """The running engine's basket deals by symbol.

    ``refresh`` reads what changed: the baskets closed since the last read (their deals
    are kept, as a closed basket's never change) and the open ones with their deals; the
    chart area calls it when a basket opened or closed, then ``for_symbol`` per chart.
    """

    def __init__(self, reader: Any, run_id: str, since: datetime) -> None:
        self.reader = reader
        self.run_id = run_id
        self._closed_since = since
        self._closed: dict[str, list[DealMark]] = {}
        self._open: dict[str, list[DealMark]] = {}
        self._loaded = False

    def refresh(self) -> None:
        """Read the baskets closed since the last read, and the open ones again."""
        closed = self.reader.basket_history(HistoryFilter(since=self._closed_since))
        for basket in closed:
            if basket.opening.run_id == self.run_id and basket.basket_id not in self._closed:
                self._closed[basket.basket_id] = self._deals(
                    basket, self.reader.deals_for_basket(basket.basket_id))
            if basket.closing is not None:  # the bound is inclusive: a tie is read again
                self._closed_since = max(self._closed_since, basket.closing.closed_at)
        self._open = {record.basket.basket_id: self._deals(record.basket, record.deals)
                      for record in self.reader.open_baskets()
                      if record.basket.opening.run_id == self.run_id}
        self._loaded = True

    @staticmethod
    def _deals(basket: BasketRecord, deals: Any) -> list[DealMark]:
        return [_mark(d, basket.basket_id) for d in deals
                if int(d.type) in (_DEAL_BUY, _DEAL_SELL)]

    def for_symbol(self, symbol: str) -> list[DealMark]:
        """Every deal of the run's baskets on ``symbol`` as last read, in time order."""
        if not self._loaded:
            self.refresh()
        out = [m for marks in (*self._closed.values(), *self._open.values())
               for m in marks if m.symbol == symbol]
        return sorted(out, key=lambda m: (m.time_ms, not m.entry))


def _mark(deal: Any, basket_id: str) -> DealMark:
    return DealMark(
        symbol=str(deal.symbol), time_ms=int(deal.time.timestamp() * 1000), price=float(deal.price),
        side="BUY" if int(deal.type) == _DEAL_BUY else "SELL",
        entry=int(deal.entry) == _ENTRY_IN, basket_id=basket_id,
        volume=float(deal.volume), profit=float(deal.profit))
