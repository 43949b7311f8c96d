"""One row per leg of every basket (``legs.csv``), and each basket's costs split from them.

A leg is one symbol of a basket: its opening deals (``DEAL_ENTRY_IN``) and its closing deals,
as the journal recorded them with the basket's id.  Its row says everything needed to
recompute the basket's exposures and P&L: side, lots and contract size, the volume-weighted
fill prices and the mid quotes they were filled against, the account-currency value of the
quote currency at the opening and at the closing, and the money the deals booked.

Definitions (account currency; negative = paid):

- ``profit``, ``commission``, ``swap``: the sums over the leg's deals, as booked (cents);
  ``pnl`` = profit + commission + swap (+ any fee), so a basket's P&L in ``trades.csv`` is
  the sum of its legs' ``pnl`` to the cent.  ``profit`` is s x (close price - open price) x
  lots x contract size in the quote currency, converted as MT5 converts it: at the
  conversion symbol's closing quote, the side that gives the account less (for a USD-base
  leg its own quote: the ask for a gain, the bid for a loss, the other side being
  2 x ``close_mid`` - ``close_price``), not at the mid ``close_quote_value`` states;
- ``close_profit_rate``: that conversion, the account-currency value of one unit of the
  profit currency at which the leg's closing profit was booked (1 for a USD-quoted leg in
  a USD account; for a cross, the linking symbol's quote, as ``close_quote_value`` but at
  the side the rule takes, read from the market when the basket closed), so that
  ``profit`` = s x (close price - open price) x lots x contract size x
  ``close_profit_rate``, to the cent, for every leg, crosses included.  A leg that closed
  at another moment than its basket (an exit retried leg by leg) states the quotes of its
  own moment; empty only when its closing deals fall at more than one moment;
- ``spread_cost`` per deal = -s x (fill price - mid) x volume x contract size x the
  account-currency value of one unit of the quote currency, s = +1 for a buy, -1 for a
  sell: half the bid-ask spread at the opening and again at the closing (plus any slippage
  from the mid), already inside ``profit`` through the fill prices.  The mid is that of the
  quote the terminal filled the deal against (the bid and ask of its answer to the order);
  the quote currency's value is the engine's own conversion at the mids when the basket
  opened or closed (recorded by :func:`record_quote_values`; an entry unwound before the
  basket opened is valued at its closing).  Each leg's figure is rounded to the cent and a
  basket's is the sum of its legs'.

Rounding: money to cents, lots to 8 decimals, prices to the symbol's digits, the mid and the
quote values to 10 significant digits, so that a row reads as what it is.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from engine.events import BasketClosed, BasketOpened, EngineEvent, LegClosed
from engine.fx import split_symbol
from engine.metrics import ClosedBasket
from engine.records import BasketRecord, Deal

_DEAL_ENTRY_IN = 0
_DEAL_TYPE_BUY = 0

#: Columns of ``legs.csv``, in order.
LEG_COLUMNS: tuple[str, ...] = (
    "basket_id", "cluster", "symbol", "side", "lots", "contract_size",
    "open_time", "open_price", "open_mid", "open_quote_value",
    "close_time", "close_price", "close_mid", "close_quote_value", "close_profit_rate",
    "profit", "commission", "swap", "spread_cost", "pnl",
)

#: The cost columns a basket gets from its legs in ``trades.csv``.
COST_COLUMNS: tuple[str, ...] = ("commission", "swap", "spread_cost", "total_costs")

#: (basket id, phase) -> currency -> account-currency value of one unit: at the mids when
#: the basket opened ("open") and closed ("close"); and, at its closing, the value at which
#: a gain ("close_gain") and a loss ("close_loss") of that currency is booked.
QuoteValues = dict[tuple[str, str], dict[str, float]]


def booked_key(gain: bool, at: datetime | None = None) -> str:
    """The key of the booked values of a gain (or a loss) when the basket closed, or, with
    ``at``, when one of its legs closed at that moment."""
    phase = "close_gain" if gain else "close_loss"
    return phase if at is None else f"{phase}@{at.isoformat()}"


def record_quote_values(session: Any) -> QuoteValues:
    """Subscribe to the session's engine: at each basket opening and closing, the value of
    every currency of its symbols at that moment's mids (what the spread cost is valued
    at), and at its closing and at each of its legs' the values its profits are booked at
    (``close_profit_rate``)."""
    engine = session.engine
    values: QuoteValues = {}

    def booked(currencies: list[str], gain: bool) -> dict[str, float]:
        market = engine.market
        return {c: engine.fx.booked_value(c, market.bid, market.ask, gain) for c in currencies}

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, LegClosed):
            if (event.basket_id, booked_key(True, event.time)) in values:
                return  # another leg of the basket at the same moment: the same quotes
            currencies = _currencies(engine.fx)
            for gain in (True, False):
                values[(event.basket_id, booked_key(gain, event.time))] = booked(
                    currencies, gain)
        elif isinstance(event, BasketOpened | BasketClosed):
            phase = "open" if isinstance(event, BasketOpened) else "close"
            market = engine.market
            mids = market.mids()
            # the converter's instruments: a stock CFD's price currency is the broker's
            fx = engine.fx
            currencies = _currencies(fx)
            values[(event.basket_id, phase)] = {c: fx.value(c, mids) for c in currencies}
            if phase == "close":
                for gain in (True, False):
                    values[(event.basket_id, booked_key(gain))] = booked(currencies, gain)

    engine.bus.subscribe(on_event)
    return values


def _currencies(fx: Any) -> list[str]:
    """Every currency of the converter's instruments and the account's (a stock CFD's
    price currency is the broker's)."""
    return sorted({c for inst in fx.instruments.values() for c in inst.parts} | {fx.account})


def _fill_mids(orders: Iterable[Any]) -> dict[int, float]:
    """Deal ticket -> the mid of the quote the terminal filled it against."""
    mids: dict[int, float] = {}
    for order in orders:
        result = order.result
        if result is None or not result.deal:
            continue
        bid, ask = result.raw.get("bid"), result.raw.get("ask")
        if isinstance(bid, int | float) and isinstance(ask, int | float) and bid > 0 and ask > 0:
            mids[int(result.deal)] = 0.5 * (float(bid) + float(ask))
    return mids


def _weighted(deals: Sequence[Deal], values: Sequence[float]) -> float:
    volume = sum(d.volume for d in deals)
    return sum(v * d.volume for v, d in zip(values, deals, strict=True)) / volume \
        if volume else math.nan


def _side_sign(deal: Deal) -> int:
    return 1 if deal.type == _DEAL_TYPE_BUY else -1


def _spread(deals: Sequence[Deal], mids: Mapping[int, float], contract: float,
            quote_value: float) -> float:
    return -sum(_side_sign(d) * (d.price - mids.get(d.ticket, math.nan)) * d.volume
                for d in deals) * contract * quote_value


def _digits_round(value: float, digits: int) -> float:
    return round(value, digits) if math.isfinite(value) else math.nan


def _significant(value: float) -> float:
    return float(f"{value:.10g}") if math.isfinite(value) else math.nan


def _cents(value: float) -> float:
    return round(value, 2) + 0.0 if math.isfinite(value) else math.nan  # no "-0.0"


def _leg_row(record: BasketRecord, symbol: str, deals: Sequence[Deal],
             mids: Mapping[int, float], quotes: QuoteValues,
             specs: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """One leg from its deals (see the module docstring for each figure)."""
    spec = specs.get(symbol, (math.nan, 10))
    contract, digits = spec[0], spec[1]
    opening = [d for d in deals if d.entry == _DEAL_ENTRY_IN]
    closing = [d for d in deals if d.entry != _DEAL_ENTRY_IN]
    # the broker's profit currency when the spec has it (a stock CFD's), else the name's
    quote = spec[2] if len(spec) > 2 and spec[2] else split_symbol(symbol)[1]
    close_values = quotes.get((record.basket_id, "close"), {})
    open_values = quotes.get((record.basket_id, "open"), close_values)
    open_qv = open_values.get(quote, math.nan)
    close_qv = close_values.get(quote, math.nan)
    spread = _spread(opening, mids, contract, open_qv)
    if closing:
        spread += _spread(closing, mids, contract, close_qv)
    money = {name: _cents(sum(getattr(d, name) for d in deals))
             for name in ("profit", "commission", "swap", "fee")}
    closed = bool(closing)
    open_price = _weighted(opening, [d.price for d in opening])
    close_price = _weighted(closing, [d.price for d in closing])
    move = _side_sign(opening[0]) * (close_price - open_price) if opening else math.nan
    profit_rate = _profit_rate(record, closing, move, quote, quotes)
    return {
        "basket_id": record.basket_id, "cluster": record.opening.cluster, "symbol": symbol,
        "side": "BUY" if opening and _side_sign(opening[0]) > 0 else "SELL",
        "lots": round(sum(d.volume for d in opening), 8), "contract_size": contract,
        "open_time": min((d.time for d in opening), default=None),
        "open_price": _digits_round(open_price, digits),
        "open_mid": _significant(_weighted(opening, [mids.get(d.ticket, math.nan)
                                                     for d in opening])),
        "open_quote_value": _significant(open_qv),
        "close_time": max((d.time for d in closing), default=None),
        "close_price": _digits_round(close_price, digits),
        "close_mid": _significant(_weighted(closing, [mids.get(d.ticket, math.nan)
                                                      for d in closing])),
        "close_quote_value": _significant(close_qv) if closed else math.nan,
        "close_profit_rate": _significant(profit_rate),
        "profit": money["profit"], "commission": money["commission"], "swap": money["swap"],
        "spread_cost": _cents(spread) if closed else math.nan,
        "pnl": _cents(money["profit"] + money["commission"] + money["swap"] + money["fee"])
        if closed else math.nan,
    }


def _profit_rate(record: BasketRecord, closing: Sequence[Deal], move: float, currency: str,
                 quotes: QuoteValues) -> float:
    """The value of one unit of ``currency`` the leg's closing profit was booked at: the
    gain's or the loss's, by the sign of the leg's price ``move`` (NaN: no opening), as
    recorded at the moment its closing deals filled (when its basket closed, or when the
    leg alone did); NaN for a leg not closed, or closed by deals of several moments, which
    met several quotes."""
    moments = {d.time for d in closing}
    if len(moments) != 1 or math.isnan(move):
        return math.nan
    (at,) = moments
    gain = move > 0
    own = quotes.get((record.basket_id, booked_key(gain, at)))
    if own is not None:
        return own.get(currency, math.nan)
    closed_at = record.closing.closed_at if record.closing is not None else None
    if at != closed_at:
        return math.nan
    return quotes.get((record.basket_id, booked_key(gain)), {}).get(currency, math.nan)


def symbol_specs(terminal: Any, symbols: Iterable[str]) -> dict[str, tuple[float, int, str]]:
    """Symbol -> (contract size, price digits, profit currency) as the terminal states
    them (the profit currency is the quote a leg's spread cost is valued in)."""
    specs = {}
    for symbol in symbols:
        info = terminal.symbol_info(symbol)
        if info is not None:
            specs[symbol] = (float(info.trade_contract_size), int(info.digits),
                             str(getattr(info, "currency_profit", "") or ""))
    return specs


def leg_frame(journal: Any, records: Sequence[BasketRecord], quotes: QuoteValues,
              specs: Mapping[str, tuple[Any, ...]]) -> pd.DataFrame:
    """Every leg of ``records`` from the journal's deals and orders, in basket then symbol
    order.  ``specs``: symbol -> (contract size, price digits[, profit currency])."""
    rows = []
    for record in records:
        mids = _fill_mids(journal.orders_for_basket(record.basket_id))
        by_symbol: dict[str, list[Deal]] = defaultdict(list)
        for deal in journal.deals_for_basket(record.basket_id):
            by_symbol[deal.symbol].append(deal)
        for symbol in sorted(by_symbol):
            rows.append(_leg_row(record, symbol, by_symbol[symbol], mids, quotes, specs))
    return pd.DataFrame(rows, columns=list(LEG_COLUMNS))


def with_cost_split(trades: pd.DataFrame, legs: pd.DataFrame) -> pd.DataFrame:
    """The trades with each closed basket's commission, swap and spread cost (the sums of
    its legs') and total costs (all three); empty for a basket still open."""
    out = trades.copy()
    if legs.empty:
        for column in COST_COLUMNS:
            out[column] = math.nan
        return out
    sums = legs.groupby("basket_id")[["commission", "swap", "spread_cost"]].sum(min_count=1)
    closed = out["exit_time"].notna()
    for column in ("commission", "swap", "spread_cost"):
        values = out["basket_id"].map(sums[column]).astype(float).round(2)
        out[column] = values.where(closed)
    out["total_costs"] = (out["commission"] + out["swap"] + out["spread_cost"]).round(2)
    return out


def metric_baskets(records: Sequence[BasketRecord],
                   trades: pd.DataFrame) -> list[ClosedBasket | BasketRecord]:
    """The baskets as the metrics take them: a closed one with its costs split (when the
    split adds up to the journal's costs; else unsplit, and the metrics say so), an open
    one as its record."""
    split = trades.set_index("basket_id")
    out: list[ClosedBasket | BasketRecord] = []
    for record in records:
        if record.closing is None:
            out.append(record)
            continue
        row = split.loc[record.basket_id]
        commission, swap = float(row["commission"]), float(row["swap"])
        spread = float(row["spread_cost"])
        if not abs(commission + swap - record.closing.costs) <= 0.005:
            commission = swap = spread = math.nan
        out.append(ClosedBasket(
            cluster=record.opening.cluster, direction=record.opening.direction,
            entry_time=record.opening.opened_at, exit_time=record.closing.closed_at,
            exit_code=record.closing.exit_code, pnl=record.closing.pnl,
            costs=record.closing.costs, commission=commission, swap=swap, spread_cost=spread))
    return out
