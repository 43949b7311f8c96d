"""The floor's trades: entries in the engine's order, each basket's exit found by one
vectorised pass over the checks it meets, and the simulated broker's account in cents
(``bench/floor_tdi.py`` says what the floor is and what it leaves out)."""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.floor_market import M30_MS, ClusterSeries, Quotes, provisional_tdi
from engine.baskets import add_exposure
from engine.cluster import Direction, LegQuote, basket_exposures, size_basket
from engine.config import EngineConfig
from engine.entries import MAX_ROUNDING_IMBALANCE
from engine.fx import CurrencyConverter
from engine.space import gross_notional, net_numeraire_exposure
from mt5bridge.sim.account import cents
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.sessions import MarketHours
from mt5bridge.sim.symbols import SYMBOL_SPECS

DAY_MS = 86_400_000
_STOP_CODES = ("HS", "TS")
_M30_CODES = ("", "MR", "OS", "TP", "HS", "TS", "TO")


@dataclass(frozen=True)
class FloorTrade:
    """One basket of the floor: what the engine's trades list says of it."""

    cluster: str
    direction: str
    entry_ms: int
    exit_ms: int
    code: str
    pnl: float
    entry_tdi: float
    lots: tuple[tuple[str, float], ...]


# ------------------------------------------------------------------------------ the account


@dataclass
class Leg:
    """One filled leg: its column in the quotes, signed lots, fill and entry commission."""

    symbol: str
    column: int
    lots: float
    price: float
    commission_cents: int

    @property
    def is_buy(self) -> bool:
        return self.lots > 0


@dataclass
class Basket:
    """An open basket and, once decided, when and how it closes."""

    cluster: ClusterSeries
    bar: int
    direction: Direction
    opened_ms: int
    budget: float
    legs: list[Leg]
    exit_ms: int = -1
    exit_phase: int = 0
    code: str = ""


class Account:
    """The simulated broker's account as the engine sees it (``mt5bridge.sim``): a balance
    in cents, the floating profit at bid/ask converted at the side's rate, swaps charged at
    each server midnight, commission per lot and side."""

    def __init__(self, symbols: Sequence[str], quotes: Quotes) -> None:
        self.config = SimConfig()
        self.balance_cents = cents(self.config.balance)
        self.quotes = quotes
        self.symbols = tuple(symbols)
        #: currency -> (column of its dollar quote, whether the dollar is that symbol's base)
        self._direct: dict[str, tuple[int, bool]] = {}
        for i, s in enumerate(symbols):
            spec = SYMBOL_SPECS[s]
            if spec.quote == self.config.currency:
                self._direct.setdefault(spec.base, (i, False))
            elif spec.base == self.config.currency:
                self._direct.setdefault(spec.quote, (i, True))

    def rate(self, currency: str, positive: bool, bid: np.ndarray, ask: np.ndarray) -> float:
        """One unit of ``currency`` in dollars at the side's price (``Converter.rate``)."""
        if currency == self.config.currency:
            return 1.0
        i, quoted_in_it = self._direct[currency]
        if not quoted_in_it:  # XXXUSD: the currency is the base
            return float(bid[i] if positive else ask[i])
        return 1.0 / float(ask[i] if positive else bid[i])

    def profit(self, leg: Leg, bid: np.ndarray, ask: np.ndarray) -> float:
        """The leg's profit (unrounded) if it closed at these quotes."""
        spec = SYMBOL_SPECS[leg.symbol]
        price = bid[leg.column] if leg.is_buy else ask[leg.column]
        move = (price - leg.price) if leg.is_buy else (leg.price - price)
        amount = move * abs(leg.lots) * spec.contract_size
        return 0.0 if amount == 0.0 else amount * self.rate(spec.quote, amount > 0, bid, ask)

    def commission_cents(self, lots: float) -> int:
        return -cents(self.config.commission_per_lot * abs(lots))

    def swap_cents(self, leg: Leg, opened_ms: int, until_ms: int) -> int:
        """The swap charged at the server midnights in (opened, until]."""
        tz = self.config.server_tz
        spec = SYMBOL_SPECS[leg.symbol]
        total = 0
        boundary = tz.next_midnight_utc_ms(opened_ms)
        while boundary <= until_ms:
            day = tz.server_weekday(boundary - 1)
            if day not in (0, 6):  # MT5: Sunday 0, Saturday 6
                nights = 3 if day == spec.swap_rollover3days else 1
                rate = spec.swap_long if leg.is_buy else spec.swap_short
                amount = rate * spec.point * spec.contract_size * abs(leg.lots) * nights
                if amount:
                    bid, ask = self.quotes.at(boundary - 1)
                    total += cents(amount * self.rate(spec.quote, amount > 0, bid, ask))
            boundary = tz.next_midnight_utc_ms(boundary)
        return total

    def equity(self, open_baskets: Sequence[Basket], t_ms: int) -> float:
        """``account_info().equity`` at ``t_ms``: balance + floating profit + swaps."""
        row = self.quotes.row(t_ms)
        bid, ask = self.quotes.bid[row], self.quotes.ask[row]
        legs = [(b, leg) for b in open_baskets for leg in b.legs]
        profit = round(sum(round(self.profit(leg, bid, ask), 2) for _, leg in legs), 2)
        swaps = sum(self.swap_cents(leg, b.opened_ms, t_ms) for b, leg in legs)
        return round(self.balance_cents / 100 + profit + swaps / 100, 2)

    def close(self, basket: Basket) -> float:
        """Book the basket's closing deals; its P&L as the engine's legs add it up."""
        row = self.quotes.row(basket.exit_ms)
        bid, ask = self.quotes.bid[row], self.quotes.ask[row]
        pnl = 0.0
        for leg in basket.legs:
            profit = cents(self.profit(leg, bid, ask))
            exit_commission = self.commission_cents(leg.lots)
            swap = self.swap_cents(leg, basket.opened_ms, basket.exit_ms)
            self.balance_cents += profit + exit_commission + swap
            commission = leg.commission_cents / 100 + exit_commission / 100
            pnl += profit / 100 + swap / 100 + commission
        return pnl


# ------------------------------------------------------------------------------ exits


class Exits:
    """Where each basket closes: every check it meets, vectorised, the first that fires."""

    def __init__(self, quotes: Quotes, m1_times: np.ndarray, fx: CurrencyConverter,
                 end_ms: int) -> None:
        self.quotes = quotes
        self.m1_times = m1_times
        self.fx = fx
        self.end_ms = end_ms
        self.hours = MarketHours()
        self._quote_column = {s: self._value_route(fx.parts(s)[1], quotes.symbols)
                              for s in quotes.symbols}

    @staticmethod
    def _value_route(currency: str, symbols: Sequence[str]) -> tuple[int, int]:
        """How ``CurrencyConverter.value`` values a currency: (column, +1 or -1), or
        (-1, 0) for the account currency."""
        if currency == "USD":
            return -1, 0
        if f"{currency}USD" in symbols:
            return symbols.index(f"{currency}USD"), 1
        return symbols.index(f"USD{currency}"), -1

    def pnl(self, basket: Basket, rows: np.ndarray) -> np.ndarray:
        """``Basket.net_pnl`` at the given quote rows: each open leg at the price a close
        would get, its quote currency at the mids, the entry and exit commission."""
        bid, ask, mid = self.quotes.bid[rows], self.quotes.ask[rows], self.quotes.mid[rows]
        total = np.zeros(len(rows))
        for leg in basket.legs:
            column, sign = self._quote_column[leg.symbol]
            value = 1.0 if sign == 0 else (mid[:, column] if sign > 0 else 1.0 / mid[:, column])
            price = bid[:, leg.column] if leg.is_buy else ask[:, leg.column]
            total = total + leg.lots * SYMBOL_SPECS[leg.symbol].contract_size * (
                price - leg.price) * value
        paid = sum(leg.commission_cents / 100 for leg in basket.legs)
        return 0 + total + (paid + paid)

    def _events(self, basket: Basket, until_ms: int) -> tuple[np.ndarray, ...]:
        """Every check of the basket from its entry to ``until_ms``: (time, phase, code),
        bar closes (phase 0) before the M1 close of the same moment (phase 1)."""
        c, b = basket.cluster, basket.bar
        spec = c.spec
        last = int(np.searchsorted(c.emitted, until_ms, "right"))
        bars = np.arange(b + 1, last)
        t30 = c.emitted[bars]
        g0 = int(np.searchsorted(self.m1_times, c.emitted[b]))
        g1 = int(np.searchsorted(self.m1_times, until_ms, "right"))
        t1 = self.m1_times[g0:g1]
        pnl30 = self.pnl(basket, np.searchsorted(self.quotes.times, t30))
        rows1 = np.searchsorted(self.quotes.times, t1)
        pnl1 = self.pnl(basket, rows1)
        long = basket.direction is Direction.LONG
        level = spec.entry if spec.overshoot == "E" else spec.exit_band
        tp, hs = spec.stops.take_profit_r * basket.budget, -basket.budget

        def reversion(score: np.ndarray) -> list[np.ndarray]:
            with np.errstate(invalid="ignore"):
                return [np.abs(score) < spec.exit_band, score >= level if long else score <= -level]

        tdi = c.tdi[bars]
        with np.errstate(invalid="ignore"):
            against = (-tdi if long else tdi) >= spec.stops.tdi_stop
        code30 = np.select([*reversion(tdi), pnl30 >= tp, pnl30 <= hs, against,
                            bars - b >= spec.stops.time_stop_bars], [1, 2, 3, 4, 5, 6], 0)
        score = provisional_tdi(c, t1, self.quotes.mid[rows1])
        code1 = np.select([*reversion(score), pnl1 >= tp, pnl1 <= hs],
                          [1, 2, 3, 4], 0)
        times = np.concatenate([t30, t1])
        phase = np.concatenate([np.zeros(len(t30), int), np.ones(len(t1), int)])
        order = np.lexsort((phase, times))
        return times[order], phase[order], np.concatenate([code30, code1])[order]

    def decide(self, basket: Basket) -> None:
        """Set the basket's exit: the first check that fires, the market willing."""
        c = basket.cluster
        stop = c.bar_limit(basket.bar)
        until = self.end_ms if stop is None else stop
        times, phase, codes = self._events(basket, until)
        fired = np.flatnonzero(codes)
        if not len(fired):
            return
        i = int(fired[0])
        if self.hours.is_open(int(times[i])):
            basket.exit_ms, basket.exit_phase = int(times[i]), int(phase[i])
            basket.code = _M30_CODES[int(codes[i])]
            return
        self._wait_for_market(basket, int(times[i]), _M30_CODES[int(codes[i])])

    def _wait_for_market(self, basket: Basket, at_ms: int, code: str) -> None:
        """An exit the closed market refused: retried at each M1 close under its code, a
        bar close's own exit replacing it, until the market takes it (``engine.exits``)."""
        times, phase, codes = self._events(basket, min(self.end_ms, at_ms + 5 * DAY_MS))
        for t, ph, k in zip(times.tolist(), phase.tolist(), codes.tolist(), strict=True):
            if (t, ph) <= (at_ms, 0):
                continue
            if ph == 0 and k:
                code = _M30_CODES[k]
            if (ph == 1 or k) and self.hours.is_open(t):
                basket.exit_ms, basket.exit_phase, basket.code = t, ph, code
                return


# ------------------------------------------------------------------------------ entries


class Refused(Exception):
    """An entry gate said no (its code, as the engine journals it)."""


class Floor:
    """Entries in the engine's order (time, then the clusters' order at one bar close),
    each basket's exit decided when it opens, the account booked in between."""

    def __init__(self, config: EngineConfig, series: list[ClusterSeries], quotes: Quotes,
                 exits: Exits) -> None:
        self.config = config
        self.series = series
        self.quotes = quotes
        self.exits = exits
        self.fx = exits.fx
        self.account = Account(quotes.symbols, quotes)
        self.open: dict[str, Basket] = {}
        self.cooldown: dict[str, int] = {}
        self.trades: list[FloorTrade] = []
        self.refusals: Counter = Counter()
        self.exit_seconds = 0.0
        self.open_at_end = 0
        self._closing: list[tuple[int, int, int, int, Basket]] = []
        self._opened = 0

    def candidates(self, c: ClusterSeries) -> np.ndarray:
        """The cluster's bars of the period whose TDI is beyond E."""
        live = np.arange(c.first_live, len(c.emitted))
        with np.errstate(invalid="ignore"):
            return live[np.abs(c.tdi[live]) > c.spec.entry]

    def run(self) -> list[FloorTrade]:
        cands = [self.candidates(c) for c in self.series]
        pos = [0] * len(self.series)
        heap = [(int(c.emitted[cands[i][0]]), c.order, i)
                for i, c in enumerate(self.series) if len(cands[i])]
        heapq.heapify(heap)
        while heap:
            t, order, i = heapq.heappop(heap)
            self._book_until((t, 0, order))
            c = self.series[i]
            basket = self._try_entry(c, int(cands[i][pos[i]]), t)
            pos[i] += 1
            if basket is not None:
                if basket.exit_ms < 0:
                    continue  # open at the end of the data: nothing more for this cluster
                pos[i] = int(np.searchsorted(c.emitted[cands[i]], basket.exit_ms, "right"))
            if pos[i] < len(cands[i]):
                heapq.heappush(heap, (int(c.emitted[cands[i][pos[i]]]), order, i))
        self._book_until((np.iinfo(np.int64).max, 0, 0))
        #: Baskets still open when the data ends: marked, not closed (as the backtest's).
        self.open_at_end = len(self.open)
        return sorted(self.trades, key=lambda tr: (tr.entry_ms, tr.cluster))

    def _book_until(self, key: tuple[int, int, int]) -> None:
        """Close in the account every basket whose exit comes before ``key``."""
        while self._closing and self._closing[0][:3] < key:
            *_, basket = heapq.heappop(self._closing)
            pnl = self.account.close(basket)
            del self.open[basket.cluster.spec.name]
            if basket.code in _STOP_CODES:
                ceil = -(-basket.exit_ms // M30_MS) * M30_MS
                self.cooldown[basket.cluster.spec.name] = \
                    ceil + self.config.risk.cooldown_bars * M30_MS
            self._record(basket, pnl)

    def _record(self, basket: Basket, pnl: float) -> None:
        c = basket.cluster
        self.trades.append(FloorTrade(
            c.spec.name, basket.direction.value, basket.opened_ms, basket.exit_ms, basket.code,
            pnl, float(c.tdi[basket.bar]), tuple((leg.symbol, leg.lots) for leg in basket.legs)))

    def _try_entry(self, c: ClusterSeries, b: int, t: int) -> Basket | None:
        direction = Direction.LONG if c.tdi[b] < 0 else Direction.SHORT
        try:
            if not c.gap[b] >= c.spec.min_eigengap:
                raise Refused("EIGENGAP")
            budget, equity, lots, exposure = self._size(c, b, direction, t)
            self._check_risk(c, t, budget, equity, lots, exposure)
            if not self.exits.hours.is_open(t):
                raise Refused("MARKET_CLOSED")
        except Refused as refused:
            self.refusals[str(refused)] += 1
            return None
        return self._open(c, b, direction, t, budget, lots)

    def _size(self, c: ClusterSeries, b: int, direction: Direction,
              t: int) -> tuple[float, float, dict[str, float], dict[str, float]]:
        """``Entries._size``: lots whose hard stop loses the risk budget, rounded."""
        spec = c.spec
        exposures = basket_exposures(c.v1[b], c.sd[b], c.symbols, direction)
        n = spec.stops.atr_bars
        if b < n:
            raise Refused("NO_ATR")
        closes = c.closes[b - n:b + 1]
        weights = np.array([exposures[s] for s in c.symbols])
        atr = float(np.mean(np.abs((closes[1:] / closes[:-1] - 1.0) @ weights)))
        equity = self.account.equity(list(self.open.values()), t)
        budget = self.config.risk.risk_per_trade * equity
        gross = budget / (spec.stops.hard_stop_atr * atr)
        mids = self.quotes.mid[self.quotes.row(t)]
        quotes = {s: LegQuote(s, self.fx.value(self.fx.parts(s)[0], mids),
                              SYMBOL_SPECS[s].contract_size, SYMBOL_SPECS[s].volume_min,
                              SYMBOL_SPECS[s].volume_max, SYMBOL_SPECS[s].volume_step)
                  for s in exposures}
        size = size_basket(exposures, gross, quotes, spec.orientation)
        lots = {leg.symbol: leg.lots for leg in size.legs if leg.lots != 0}
        notionals = {leg.symbol: leg.notional for leg in size.legs if leg.lots != 0}
        net = net_numeraire_exposure(notionals, spec.numeraire)
        if spec.space == "currency":
            unbalanced = abs(net) > MAX_ROUNDING_IMBALANCE * gross_notional(notionals)
        else:  # the rounded legs' net against the net the model asked for
            wanted = sum(exposures.values()) * gross
            unbalanced = abs(sum(notionals.values()) - wanted) > MAX_ROUNDING_IMBALANCE * gross
        if len(lots) < 2 or unbalanced:
            raise Refused("ROUNDING")
        exposure: dict[str, float] = {}
        for leg in size.legs:
            add_exposure(exposure, leg.symbol, leg.lots * quotes[leg.symbol].contract_size,
                         quotes[leg.symbol].usd_per_base, self.fx.instruments.get(leg.symbol))
        return budget, equity, lots, exposure

    def _check_risk(self, c: ClusterSeries, t: int, budget: float, equity: float,
                    lots: dict[str, float], exposure: dict[str, float]) -> None:
        """The risk manager's cooldown, open-risk cap, currency cap and lot cap."""
        risk = self.config.risk
        if t < self.cooldown.get(c.spec.name, -1):
            raise Refused("COOLDOWN")
        if sum(b.budget for b in self.open.values()) + budget > risk.max_open_risk * equity:
            raise Refused("OPEN_RISK_CAP")
        held = self._open_exposure(t)
        for currency in sorted(exposure):
            added = exposure[currency]
            if added and abs(held.get(currency, 0.0) + added) > \
                    risk.max_currency_exposure * equity:
                raise Refused("CURRENCY_CAP")
        if any(abs(v) > risk.max_lots_per_leg for v in lots.values()):
            raise Refused("MAX_LOTS")

    def _open_exposure(self, t: int) -> dict[str, float]:
        mids = self.quotes.mid[self.quotes.row(t)]
        out: dict[str, float] = {}
        for basket in self.open.values():
            mine: dict[str, float] = {}
            for leg in basket.legs:
                add_exposure(mine, leg.symbol, leg.lots * SYMBOL_SPECS[leg.symbol].contract_size,
                             self.fx.value(self.fx.parts(leg.symbol)[0], mids),
                             self.fx.instruments.get(leg.symbol))
            for ccy, value in mine.items():
                out[ccy] = out.get(ccy, 0.0) + value
        return out

    def _open(self, c: ClusterSeries, b: int, direction: Direction, t: int, budget: float,
              lots: dict[str, float]) -> Basket:
        row = self.quotes.row(t)
        legs = []
        for symbol, volume in lots.items():
            column = self.quotes.symbols.index(symbol)
            price = self.quotes.ask[row, column] if volume > 0 else self.quotes.bid[row, column]
            commission = self.account.commission_cents(volume)
            self.account.balance_cents += commission  # the entry deal's, booked at once
            legs.append(Leg(symbol, column, volume, float(price), commission))
        basket = Basket(c, b, direction, t, budget, legs)
        t0 = time.perf_counter()
        self.exits.decide(basket)
        self.exit_seconds += time.perf_counter() - t0
        self.open[c.spec.name] = basket
        if basket.exit_ms >= 0:
            heapq.heappush(self._closing, (basket.exit_ms, basket.exit_phase,
                                           c.order if basket.exit_phase == 0 else 0,
                                           self._opened, basket))
        self._opened += 1
        return basket
