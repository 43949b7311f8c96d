"""The trade server's account figures: balance, equity, margin, swap and calculators.

Two ways to the equity: ``equity()`` sums each position's converted, rounded profit
(what ``account_info`` and the request checks report), and ``equity_and_margin_fast()``
walks a flattened copy of the book for the margin-level check that runs after every tick
batch.  Rollover at server midnight adds swap to every open position (three nights on the
symbol's ``swap_rollover3days``, none for a Saturday or Sunday server day; an interest-mode
swap is on the notional at the price the position would close at); as in MT5, swap
stays on the position and is booked in the closing deal's ``swap`` field.
"""

from __future__ import annotations

from mt5bridge import constants as c
from mt5bridge.sim.account import Position, cents, from_cents
from mt5bridge.sim.trade_state import BUY_TYPES, BookRows, TradeState

__all__ = ["TradeAccount"]


class TradeAccount(TradeState):
    """Balance, equity, margin and swap of the simulated account."""

    # -- account figures (quotes must be synced) -------------------------------------------

    @property
    def balance(self) -> float:
        return from_cents(self.balance_cents)

    def position_profit(self, pos: Position) -> float:
        spec = self.specs[pos.symbol_index]
        i = pos.symbol_index
        is_buy = pos.type == c.POSITION_TYPE_BUY
        price = float(self.tape.bid[i] if is_buy else self.tape.ask[i])
        return round(self.converter.profit(spec, is_buy, pos.volume, pos.price_open, price), 2)

    def position_price(self, pos: Position) -> float:
        i = pos.symbol_index
        return float(self.tape.bid[i] if pos.type == c.POSITION_TYPE_BUY else self.tape.ask[i])

    def profit(self) -> float:
        return round(sum(self.position_profit(p) for p in self.positions.values()), 2)

    def swaps(self) -> float:
        return from_cents(sum(p.swap_cents for p in self.positions.values()))

    def equity(self) -> float:
        return round(self.balance + self.profit() + self.swaps(), 2)

    def margin(self) -> float:
        return round(sum(p.margin for p in self.positions.values()), 2)

    @staticmethod
    def margin_level(equity: float, margin: float) -> float:
        return equity / margin * 100.0 if margin > 0 else 0.0

    # -- the margin-level check ------------------------------------------------------------

    def _book_rows(self) -> BookRows:
        if self._arrays is not None:
            return self._arrays
        account = self.config.currency
        rows: list[tuple[int, bool, float, float, int, bool, str | None]] = []
        for pos in self.positions.values():
            spec = self.specs[pos.symbol_index]
            is_buy = pos.type == c.POSITION_TYPE_BUY
            units = pos.volume * spec.contract_size * (1.0 if is_buy else -1.0)
            currency = spec.profit_currency
            direct = self.converter.direct_link(currency, account)
            if currency == account:
                link, multiply, slow = -1, True, None
            elif direct is not None and self.tape.has_quote[direct[0]]:
                link, multiply, slow = direct[0], direct[1], None
            else:
                link, multiply, slow = -1, True, currency
            rows.append((pos.symbol_index, is_buy, units, pos.price_open, link, multiply, slow))
        positions = self.positions.values()
        self._arrays = BookRows(
            rows,
            margin=round(sum(p.margin for p in positions), 2),
            swap=from_cents(sum(p.swap_cents for p in positions)),
        )
        return self._arrays

    def equity_and_margin_fast(self) -> tuple[float, float]:
        """Equity and margin from the flattened positions (quotes must be synced)."""
        book = self._book_rows()
        bid, ask = self.tape.bid.tolist(), self.tape.ask.tolist()
        floating = 0.0
        for i, is_buy, units, price_open, link, multiply, slow in book.rows:
            move = ((bid[i] if is_buy else ask[i]) - price_open) * units
            if slow is not None:
                profit = self.converter.to_account(move, slow)
            elif link < 0:
                profit = move
            elif multiply:
                profit = move * (bid[link] if move > 0 else ask[link])
            else:
                profit = move / (ask[link] if move > 0 else bid[link])
            floating += round(profit, 2)
        return self.balance + floating + book.swap, book.margin

    # -- rollover --------------------------------------------------------------------------

    def rollover(self, midnight_utc_ms: int) -> None:
        """Charge the swap of the server day that ends at ``midnight_utc_ms``."""
        day = self.tz.server_weekday(midnight_utc_ms - 1)
        if day in (c.DAY_OF_WEEK_SATURDAY, c.DAY_OF_WEEK_SUNDAY) or not self.positions:
            return
        for pos in self.positions.values():
            spec = self.specs[pos.symbol_index]
            nights = 3 if day == spec.swap_rollover3days else 1
            amount = self.converter.swap(spec, pos.type == c.POSITION_TYPE_BUY, pos.volume,
                                         nights, self.position_price(pos))
            pos.swap_cents += cents(amount)
        self._arrays = None

    # -- calculators -----------------------------------------------------------------------

    def calc_margin(self, order_type: int, index: int, volume: float, price: float) -> float:
        spec = self.specs[index]
        if spec.priced_margin and price > 0:  # a CFD: margin_rate of the notional at price
            amount = volume * spec.contract_size * spec.margin_rate * price
            return round(-self.converter.to_account(-amount, spec.profit_currency), 2)
        units = volume * spec.contract_size / self.config.leverage
        if spec.margin_currency == self.config.currency:
            return round(units, 2)
        if spec.profit_currency == self.config.currency and price > 0:
            return round(units * price, 2)
        return round(self.converter.margin(spec, volume, self.config.leverage), 2)

    def calc_profit(self, order_type: int, index: int, volume: float, price_open: float,
                    price_close: float) -> float:
        spec = self.specs[index]
        is_buy = order_type in BUY_TYPES
        return round(self.converter.profit(spec, is_buy, volume, price_open, price_close), 2)
