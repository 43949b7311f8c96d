"""Trading costs and money: commission, swap at rollover, currency conversion, the balance.

Quotes are scripted and constant between the given rows, so every figure below is worked
out by hand from the symbol specs (swap in points per lot, 3.5 USD commission per lot and
side) and the documented conversion sides.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mt5bridge import constants as c
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "EURGBP", "XAUUSD")
QUOTES = {
    "EURUSD": (1.13000, 1.13002), "GBPUSD": (1.32000, 1.32005), "USDJPY": (111.800, 111.803),
    "EURGBP": (0.85600, 0.85606), "XAUUSD": (1290.00, 1290.15),
}


def utc_ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)


TUESDAY = utc_ms(2019, 3, 5, 10)


def make_terminal(rows=(), start=TUESDAY, **config) -> SimTerminal:
    base = [(start, s, *QUOTES[s]) for s in SYMBOLS]
    feed = ArrayFeed(SYMBOLS, ticks_from_rows(SYMBOLS, base + list(rows)), start_msc=start)
    terminal = SimTerminal(feed, SimConfig(selected=SYMBOLS, **config))
    assert terminal.initialize()
    terminal.sim_advance_to(start)
    return terminal


def market(term: SimTerminal, symbol: str, kind: int, volume: float, position: int = 0):
    tick = term.symbol_info_tick(symbol)
    request = {
        "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": kind,
        "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid, "deviation": 5,
        "type_filling": c.ORDER_FILLING_IOC, "position": position, "comment": "cost test",
    }
    result = term.order_send(request)
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE, result
    return result


def all_deals(term: SimTerminal):
    return term.history_deals_get(0, 2**31 - 1)


def cents(value: float) -> int:
    return round(value * 100)


def test_initial_deposit_is_a_balance_deal():
    term = make_terminal(balance=25_000.0)

    deposit = all_deals(term)[0]

    assert (deposit.type, deposit.entry, deposit.profit) == (c.DEAL_TYPE_BALANCE,
                                                             c.DEAL_ENTRY_IN, 25_000.0)
    assert term.account_info().balance == 25_000.0


def test_commission_is_charged_per_lot_on_every_deal():
    term = make_terminal(commission_per_lot=3.5)

    opened = market(term, "EURUSD", c.ORDER_TYPE_BUY, 2.0)
    market(term, "EURUSD", c.ORDER_TYPE_SELL, 2.0, position=opened.order)

    deals = term.history_deals_get(position=opened.order)
    assert [d.commission for d in deals] == [-7.0, -7.0]
    assert [(d.type, d.entry) for d in deals] == [(c.DEAL_TYPE_BUY, c.DEAL_ENTRY_IN),
                                                  (c.DEAL_TYPE_SELL, c.DEAL_ENTRY_OUT)]
    # Spread (2 points on 2 lots = 4 USD) plus 14 USD of commission.
    assert term.account_info().balance == pytest.approx(100_000 - 4.0 - 14.0)


def test_swap_accrues_at_rollover_with_the_triple_day_and_is_booked_on_close():
    term = make_terminal()  # Tuesday 10:00 UTC; the server (GMT+2) rolls over at 22:00 UTC
    opened = market(term, "EURUSD", c.ORDER_TYPE_BUY, 1.0)

    term.sim_advance_to(utc_ms(2019, 3, 5, 21, 59))
    before_rollover = term.positions_get()[0].swap
    term.sim_advance_to(utc_ms(2019, 3, 5, 22, 0))
    after_tuesday = term.positions_get()[0].swap
    term.sim_advance_to(utc_ms(2019, 3, 6, 22, 0))  # Wednesday: three nights
    after_wednesday = term.positions_get()[0].swap
    term.sim_advance_to(utc_ms(2019, 3, 8, 10))  # and Thursday's night
    equity = term.account_info().equity
    market(term, "EURUSD", c.ORDER_TYPE_SELL, 1.0, position=opened.order)

    # swap_long -7.2 points * 0.00001 * 100 000 * 1 lot = -7.20 USD a night
    assert (before_rollover, after_tuesday, after_wednesday) == (0.0, -7.2, -28.8)
    out = term.history_deals_get(position=opened.order)[-1]
    assert out.swap == -36.0
    assert equity == pytest.approx(100_000 - 3.5 - 2.0 - 36.0)
    assert term.account_info().balance == pytest.approx(100_000 - 7.0 - 2.0 - 36.0)


def test_no_swap_for_saturday_and_sunday_and_friday_triple_for_gold():
    friday = utc_ms(2019, 3, 8, 10)
    term = make_terminal(start=friday, rows=[(utc_ms(2019, 3, 11, 10), s, *QUOTES[s])
                                             for s in SYMBOLS])
    eur = market(term, "EURUSD", c.ORDER_TYPE_BUY, 1.0)
    gold = market(term, "XAUUSD", c.ORDER_TYPE_BUY, 0.1)

    term.sim_advance_to(utc_ms(2019, 3, 11, 10))  # Monday, across the US DST switch

    swaps = {p.ticket: p.swap for p in term.positions_get()}
    # EURUSD: Friday's night only.  XAUUSD: -25 points * 0.01 * 100 oz * 0.1 = -2.50, x3.
    assert swaps == {eur.order: -7.2, gold.order: -7.5}


def test_swap_in_yen_is_converted_through_usdjpy():
    term = make_terminal()
    opened = market(term, "USDJPY", c.ORDER_TYPE_BUY, 1.0)

    term.sim_advance_to(utc_ms(2019, 3, 5, 22, 0))

    # +3.6 points * 0.001 * 100 000 = 360 JPY, a credit: sold at the ask, 360 / 111.803
    assert term.positions_get(ticket=opened.order)[0].swap == round(360 / 111.803, 2)


def test_profit_in_yen_is_divided_by_usdjpy():
    close = utc_ms(2019, 3, 5, 11)
    term = make_terminal(rows=[(close, "USDJPY", 112.300, 112.303)])
    opened = market(term, "USDJPY", c.ORDER_TYPE_BUY, 1.0)
    term.sim_advance_to(close)

    market(term, "USDJPY", c.ORDER_TYPE_SELL, 1.0, position=opened.order)

    profit_jpy = (112.300 - 111.803) * 100_000
    out = term.history_deals_get(position=opened.order)[-1]
    assert out.profit == round(profit_jpy / 112.303, 2)


def test_loss_in_yen_converts_at_the_dearer_side():
    close = utc_ms(2019, 3, 5, 11)
    term = make_terminal(rows=[(close, "USDJPY", 112.300, 112.303)])
    opened = market(term, "USDJPY", c.ORDER_TYPE_SELL, 1.0)
    term.sim_advance_to(close)

    market(term, "USDJPY", c.ORDER_TYPE_BUY, 1.0, position=opened.order)

    loss_jpy = (111.800 - 112.303) * 100_000
    assert term.history_deals_get(position=opened.order)[-1].profit == round(
        loss_jpy / 112.300, 2)


def test_profit_in_pounds_is_converted_through_gbpusd():
    close = utc_ms(2019, 3, 5, 11)
    term = make_terminal(rows=[(close, "EURGBP", 0.85800, 0.85806),
                               (close, "GBPUSD", 1.31000, 1.31005)])
    opened = market(term, "EURGBP", c.ORDER_TYPE_BUY, 1.0)
    term.sim_advance_to(close)
    floating = term.positions_get()[0].profit

    market(term, "EURGBP", c.ORDER_TYPE_SELL, 1.0, position=opened.order)

    profit_gbp = (0.85800 - 0.85606) * 100_000
    expected = round(profit_gbp * 1.31000, 2)  # a gain in GBP is sold at the GBPUSD bid
    assert floating == expected
    assert term.history_deals_get(position=opened.order)[-1].profit == expected


def test_margin_uses_leverage_and_the_margin_currency():
    term = make_terminal(leverage=50)

    market(term, "EURUSD", c.ORDER_TYPE_BUY, 1.0)
    market(term, "USDJPY", c.ORDER_TYPE_SELL, 1.0)
    market(term, "XAUUSD", c.ORDER_TYPE_BUY, 0.1)

    # EUR 2 000 at the EURUSD ask + USD 2 000 + 0.2 oz of gold at the XAUUSD ask
    expected = 2_000 * 1.13002 + 2_000 + 0.1 * 100 / 50 * 1290.15
    assert term.account_info().margin == pytest.approx(expected, abs=0.01)


def test_round_trip_of_a_three_leg_basket_balances_to_the_cent():
    later = utc_ms(2019, 3, 7, 15)
    rows = [
        (utc_ms(2019, 3, 6, 9), "EURUSD", 1.13120, 1.13123),
        (utc_ms(2019, 3, 6, 9), "GBPUSD", 1.31800, 1.31806),
        (utc_ms(2019, 3, 6, 9), "USDJPY", 111.650, 111.654),
        (later, "EURUSD", 1.12871, 1.12873),
        (later, "GBPUSD", 1.32377, 1.32383),
        (later, "USDJPY", 112.017, 112.020),
    ]
    term = make_terminal(rows=rows)
    start_balance = term.account_info().balance
    legs = [("EURUSD", c.ORDER_TYPE_BUY, 1.3), ("GBPUSD", c.ORDER_TYPE_SELL, 0.9),
            ("USDJPY", c.ORDER_TYPE_BUY, 0.7)]
    opened = [market(term, s, k, v) for s, k, v in legs]

    term.sim_advance_to(later)  # Tuesday and Wednesday (triple) rollovers on the way
    swaps_before_close = {p.ticket: p.swap for p in term.positions_get()}
    for (symbol, kind, volume), result in zip(legs, opened, strict=True):
        back = c.ORDER_TYPE_SELL if kind == c.ORDER_TYPE_BUY else c.ORDER_TYPE_BUY
        market(term, symbol, back, volume, position=result.order)

    deals = all_deals(term)
    total = sum(cents(d.profit) + cents(d.commission) + cents(d.swap) + cents(d.fee)
                for d in deals[1:])
    account = term.account_info()
    assert term.positions_total() == 0
    assert cents(account.balance) == cents(start_balance) + total
    assert account.equity == account.balance and account.profit == 0.0
    for result in opened:
        out = term.history_deals_get(position=result.order)[-1]
        assert out.swap == swaps_before_close[result.order] != 0.0
    assert [d.entry for d in deals[1:]] == [c.DEAL_ENTRY_IN] * 3 + [c.DEAL_ENTRY_OUT] * 3
    assert sum(cents(d.commission) for d in deals) == -cents(3.5 * 2 * (1.3 + 0.9 + 0.7))


def test_partial_closes_split_the_swap_without_losing_a_cent():
    term = make_terminal()
    opened = market(term, "EURUSD", c.ORDER_TYPE_BUY, 1.0)
    term.sim_advance_to(utc_ms(2019, 3, 6, 22, 0))  # -7.20 then -21.60

    market(term, "EURUSD", c.ORDER_TYPE_SELL, 0.33, position=opened.order)
    market(term, "EURUSD", c.ORDER_TYPE_SELL, 0.67, position=opened.order)

    outs = term.history_deals_get(position=opened.order)[1:]
    assert sum(cents(d.swap) for d in outs) == cents(-28.8)
    assert [d.swap for d in outs] == [round(-28.8 * 0.33, 2), round(-28.8 - round(
        -28.8 * 0.33, 2), 2)]
