"""Order handling of the simulated terminal: every retcode path, fills, stops, stop-out.

Scenarios are scripted tick by tick (``ticks_from_rows``) so each expectation can be worked
out by hand: a buy fills at the ask of the last tick, a stop closes at the first tick that
crosses it, and so on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mt5bridge import constants as c
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows

MON = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)  # Monday 08:00 UTC
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "GBPJPY")
BASE_QUOTES = {
    "EURUSD": (1.13000, 1.13002), "GBPUSD": (1.32000, 1.32005), "USDJPY": (111.800, 111.803),
    "XAUUSD": (1290.00, 1290.15), "GBPJPY": (147.500, 147.512),
}


def sec(seconds: float) -> int:
    return MON + int(seconds * 1000)


def make_terminal(extra_rows=(), symbols=SYMBOLS, start=MON, **config) -> SimTerminal:
    """A terminal quoting ``BASE_QUOTES`` at ``start`` plus the given rows."""
    rows = [(start, s, *BASE_QUOTES[s]) for s in symbols] + list(extra_rows)
    feed = ArrayFeed(symbols, ticks_from_rows(symbols, rows), start_msc=start)
    config.setdefault("selected", symbols)
    terminal = SimTerminal(feed, SimConfig(**config))
    assert terminal.initialize()
    terminal.sim_advance_to(start)
    return terminal


def deal_request(term: SimTerminal, symbol: str = "EURUSD", kind: int = c.ORDER_TYPE_BUY,
                 volume: float = 1.0, **extra: object) -> dict:
    tick = term.symbol_info_tick(symbol)
    request = {
        "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": kind,
        "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid, "deviation": 10,
        "type_filling": c.ORDER_FILLING_IOC if symbol == "XAUUSD" else c.ORDER_FILLING_FOK,
    }
    request.update(extra)
    return request


def send(term: SimTerminal, **kwargs: object):
    result = term.order_send(deal_request(term, **kwargs))
    assert result is not None, term.last_error()
    return result


# -- market fills ----------------------------------------------------------------------------


def test_buy_fills_at_ask_and_sell_at_bid():
    term = make_terminal()

    buy = send(term)
    sell = send(term, kind=c.ORDER_TYPE_SELL)

    assert (buy.retcode, buy.price, buy.bid, buy.ask) == (10009, 1.13002, 1.13, 1.13002)
    assert (sell.retcode, sell.price) == (10009, 1.13000)
    positions = term.positions_get()
    assert [p.price_open for p in positions] == [1.13002, 1.13000]
    assert [p.type for p in positions] == [c.POSITION_TYPE_BUY, c.POSITION_TYPE_SELL]
    assert positions[0].ticket == buy.order and positions[0].identifier == buy.order


def test_hedging_account_keeps_opposite_positions_apart():
    term = make_terminal()

    send(term)
    send(term, kind=c.ORDER_TYPE_SELL, volume=0.5)

    assert term.positions_total() == 2
    assert term.account_info().margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING


def test_requote_when_the_price_moved_beyond_deviation():
    term = make_terminal([(sec(1), "EURUSD", 1.13020, 1.13022)])
    stale = deal_request(term)  # price 1.13002
    term.sim_advance_to(sec(1))

    result = term.order_send(stale)

    assert (result.retcode, result.comment) == (c.TRADE_RETCODE_REQUOTE, "Requote")
    assert (result.bid, result.ask, result.deal, result.order) == (1.1302, 1.13022, 0, 0)
    assert term.positions_total() == 0


def test_move_within_deviation_fills_at_the_current_ask():
    term = make_terminal([(sec(1), "EURUSD", 1.13007, 1.13009)])
    stale = deal_request(term, deviation=10)
    term.sim_advance_to(sec(1))

    result = term.order_send(stale)

    assert (result.retcode, result.price) == (10009, 1.13009)


def test_zero_price_is_an_invalid_price():
    term = make_terminal()

    result = send(term, price=0.0)

    assert result.retcode == c.TRADE_RETCODE_INVALID_PRICE


@pytest.mark.parametrize(("symbol", "filling", "retcode"), [
    ("EURUSD", c.ORDER_FILLING_FOK, 10009),
    ("EURUSD", c.ORDER_FILLING_IOC, 10009),
    ("EURUSD", c.ORDER_FILLING_BOC, 10030),
    ("XAUUSD", c.ORDER_FILLING_FOK, 10030),
    ("XAUUSD", c.ORDER_FILLING_IOC, 10009),
    ("XAUUSD", c.ORDER_FILLING_RETURN, 10009),
    ("XAUUSD", 7, 10030),
])
def test_filling_mode_must_be_allowed_by_the_symbol(symbol, filling, retcode):
    term = make_terminal()

    result = send(term, symbol=symbol, volume=0.1, type_filling=filling)

    assert result.retcode == retcode
    if retcode == 10030:
        assert result.comment == "Unsupported filling mode"
        assert term.order_check(deal_request(term, symbol=symbol, volume=0.1,
                                             type_filling=filling)).retcode == 10030


@pytest.mark.parametrize(("symbol", "volume"), [
    ("EURUSD", 0.001), ("EURUSD", 0.0), ("EURUSD", -1.0), ("EURUSD", 100.01),
    ("EURUSD", 0.015), ("GBPJPY", 0.05), ("GBPJPY", 0.15), ("XAUUSD", 50.5),
])
def test_volume_outside_limits_or_steps_is_invalid(symbol, volume):
    term = make_terminal()

    result = send(term, symbol=symbol, volume=volume)

    assert (result.retcode, result.comment) == (c.TRADE_RETCODE_INVALID_VOLUME,
                                                "Invalid volume")


def test_volume_on_the_step_grid_is_valid():
    term = make_terminal()

    assert send(term, symbol="GBPJPY", volume=0.3).retcode == 10009
    assert send(term, volume=0.07).retcode == 10009


def test_weekend_gives_market_closed():
    friday = int(datetime(2019, 3, 8, 21, 59, tzinfo=UTC).timestamp() * 1000)
    term = make_terminal(start=friday)

    assert send(term).retcode == 10009
    term.sim_advance_to(friday + 2 * 60_000)  # Friday 22:01 UTC
    closed = send(term)
    term.sim_advance_to(int(datetime(2019, 3, 10, 22, 0, tzinfo=UTC).timestamp() * 1000))
    reopened = send(term)

    assert (closed.retcode, closed.comment) == (c.TRADE_RETCODE_MARKET_CLOSED, "Market closed")
    assert reopened.retcode == 10009


@pytest.mark.parametrize("day", [(2019, 12, 25), (2020, 1, 1)])
def test_holidays_give_market_closed(day):
    term = make_terminal(start=int(datetime(*day, 12, tzinfo=UTC).timestamp() * 1000))

    assert send(term).retcode == c.TRADE_RETCODE_MARKET_CLOSED


def test_free_margin_short_gives_no_money():
    term = make_terminal()

    # 100 lots of EURUSD at 1:100 need about 113 000 USD of margin; the account has 100 000.
    result = send(term, volume=100.0)
    check = term.order_check(deal_request(term, volume=100.0))

    assert (result.retcode, result.comment) == (c.TRADE_RETCODE_NO_MONEY, "No money")
    assert check.retcode == c.TRADE_RETCODE_NO_MONEY
    assert send(term, volume=80.0).retcode == 10009


def test_algo_trading_switch_gives_10027():
    term = make_terminal()
    term.sim_set_algo_trading(False)

    result = send(term)

    assert (result.retcode, result.comment) == (10027, "AutoTrading disabled by client")
    assert term.terminal_info().trade_allowed is False
    assert term.order_check(deal_request(term)).retcode == 0
    term.sim_set_algo_trading(True)
    assert send(term).retcode == 10009


def test_unknown_symbol_and_order_type_are_invalid():
    term = make_terminal()

    assert send(term, symbol="EURUSD", type=c.ORDER_TYPE_BUY_LIMIT).retcode == 10035
    request = deal_request(term)
    request["symbol"] = "EURSEK"
    assert term.order_send(request).retcode == c.TRADE_RETCODE_INVALID
    request = deal_request(term)
    request["action"] = 99
    assert term.order_send(request).retcode == c.TRADE_RETCODE_INVALID


def test_stops_on_the_wrong_side_are_invalid():
    term = make_terminal()

    wrong_sl = send(term, sl=1.1305)
    wrong_tp = send(term, kind=c.ORDER_TYPE_SELL, tp=1.1310)
    right = send(term, sl=1.1290, tp=1.1320)

    assert wrong_sl.retcode == wrong_tp.retcode == c.TRADE_RETCODE_INVALID_STOPS
    assert right.retcode == 10009
    position = term.positions_get()[0]
    assert (position.sl, position.tp) == (1.129, 1.132)


# -- closing -------------------------------------------------------------------------------


def test_close_with_position_ticket_books_the_profit():
    term = make_terminal([(sec(60), "EURUSD", 1.13100, 1.13102)])
    opened = send(term, volume=2.0)
    term.sim_advance_to(sec(60))

    closed = send(term, kind=c.ORDER_TYPE_SELL, volume=2.0, position=opened.order)

    assert (closed.retcode, closed.price) == (10009, 1.131)
    assert term.positions_get() == ()
    deals = term.history_deals_get(position=opened.order)
    assert [(d.entry, d.type) for d in deals] == [(c.DEAL_ENTRY_IN, c.DEAL_TYPE_BUY),
                                                  (c.DEAL_ENTRY_OUT, c.DEAL_TYPE_SELL)]
    assert deals[1].profit == pytest.approx((1.13100 - 1.13002) * 200_000)
    assert deals[1].position_id == opened.order and deals[1].order == closed.order


def test_partial_close_and_the_close_volume_checks():
    term = make_terminal()
    opened = send(term, volume=1.0)

    partial = send(term, kind=c.ORDER_TYPE_SELL, volume=0.4, position=opened.order)
    too_much = send(term, kind=c.ORDER_TYPE_SELL, volume=0.7, position=opened.order)
    same_side = send(term, kind=c.ORDER_TYPE_BUY, volume=0.1, position=opened.order)
    unknown = send(term, kind=c.ORDER_TYPE_SELL, volume=0.1, position=opened.order + 1000)

    assert partial.retcode == 10009
    assert term.positions_get()[0].volume == pytest.approx(0.6)
    assert too_much.retcode == c.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    assert same_side.retcode == c.TRADE_RETCODE_INVALID
    assert unknown.retcode == c.TRADE_RETCODE_POSITION_CLOSED


def test_close_by_offsets_two_opposite_positions():
    term = make_terminal()
    buy = send(term, volume=1.0)
    sell = send(term, kind=c.ORDER_TYPE_SELL, volume=0.4)

    result = term.order_send({"action": c.TRADE_ACTION_CLOSE_BY, "position": buy.order,
                              "position_by": sell.order})

    assert result.retcode == 10009
    remaining = term.positions_get()
    assert [(p.ticket, p.volume) for p in remaining] == [(buy.order, pytest.approx(0.6))]
    deals = term.history_deals_get(0, 2**31 - 1)
    assert [d.entry for d in deals[-2:]] == [c.DEAL_ENTRY_OUT_BY, c.DEAL_ENTRY_OUT_BY]
    assert sum(d.profit for d in deals[-2:]) == pytest.approx((1.13000 - 1.13002) * 40_000)


# -- stops on the price path ---------------------------------------------------------------


def test_stop_loss_closes_at_the_first_crossing_tick_including_a_gap():
    rows = [
        (sec(10), "EURUSD", 1.12950, 1.12952),
        (sec(20), "EURUSD", 1.12880, 1.12882),  # gaps through the 1.12900 stop
        (sec(30), "EURUSD", 1.12800, 1.12802),
        (sec(40), "EURUSD", 1.13500, 1.13502),
    ]
    term = make_terminal(rows)
    opened = send(term, sl=1.12900, tp=1.13400)

    term.sim_advance_to(sec(60))

    assert term.positions_get() == ()
    out = term.history_deals_get(position=opened.order)[-1]
    assert (out.reason, out.price, out.comment) == (c.DEAL_REASON_SL, 1.1288, "[sl 1.12900]")
    assert out.time_msc == term.symbol_info_tick("EURUSD").time_msc - 20_000
    order = term.history_orders_get(ticket=out.order)[0]
    assert (order.reason, order.state) == (c.ORDER_REASON_SL, c.ORDER_STATE_FILLED)


def test_take_profit_of_a_sell_triggers_on_the_ask():
    rows = [
        (sec(10), "EURUSD", 1.12899, 1.12905),  # bid below tp, ask not yet
        (sec(20), "EURUSD", 1.12895, 1.12899),  # ask reaches 1.12900
    ]
    term = make_terminal(rows)
    opened = send(term, kind=c.ORDER_TYPE_SELL, tp=1.12900)

    term.sim_advance_to(sec(15))
    still_open = term.positions_total()
    term.sim_advance_to(sec(25))

    assert still_open == 1 and term.positions_total() == 0
    out = term.history_deals_get(position=opened.order)[-1]
    assert (out.reason, out.price, out.type) == (c.DEAL_REASON_TP, 1.12899, c.DEAL_TYPE_BUY)
    assert out.profit == pytest.approx((1.13000 - 1.12899) * 100_000)


def test_stops_are_handled_in_time_order_across_symbols():
    rows = [
        (sec(10), "GBPUSD", 1.31000, 1.31005),  # GBPUSD stop first
        (sec(20), "EURUSD", 1.12000, 1.12002),
    ]
    term = make_terminal(rows)
    eur = send(term, sl=1.12500)
    gbp = send(term, symbol="GBPUSD", sl=1.31500)

    term.sim_advance_to(sec(30))

    outs = [d for d in term.history_deals_get(0, 2**31 - 1) if d.entry == c.DEAL_ENTRY_OUT]
    assert [d.position_id for d in outs] == [gbp.order, eur.order]


def test_modify_position_stops_with_sltp():
    term = make_terminal([(sec(10), "EURUSD", 1.12700, 1.12702)])
    opened = send(term)

    modified = term.order_send({"action": c.TRADE_ACTION_SLTP, "position": opened.order,
                                "symbol": "EURUSD", "sl": 1.12800, "tp": 0.0})
    unchanged = term.order_send({"action": c.TRADE_ACTION_SLTP, "position": opened.order,
                                 "symbol": "EURUSD", "sl": 1.12800, "tp": 0.0})
    term.sim_advance_to(sec(10))

    assert modified.retcode == 10009 and unchanged.retcode == c.TRADE_RETCODE_NO_CHANGES
    assert term.history_deals_get(position=opened.order)[-1].reason == c.DEAL_REASON_SL


# -- stop-out ------------------------------------------------------------------------------


def test_stop_out_closes_the_most_losing_position_first():
    # 2 000 USD account; EURUSD long 1.5 lots (margin ~1 695) and GBPUSD long 0.1.
    rows = [
        (sec(10), "GBPUSD", 1.31950, 1.31955),   # GBPUSD loses 5 USD
        (sec(20), "EURUSD", 1.12100, 1.12102),   # EURUSD loses ~1 353 USD: level ~ 38 %
    ]
    term = make_terminal(rows, balance=2_000.0)
    eur = send(term, volume=1.5)
    gbp = send(term, symbol="GBPUSD", volume=0.1)

    term.sim_advance_to(sec(30))

    assert [p.ticket for p in term.positions_get()] == [gbp.order]
    out = term.history_deals_get(position=eur.order)[-1]
    assert out.reason == c.DEAL_REASON_SO and out.comment.startswith("[so ")
    assert term.account_info().margin_level > 50


def test_margin_call_level_alone_closes_nothing():
    rows = [(sec(20), "EURUSD", 1.12700, 1.12702)]  # level between 50 % and 100 %
    term = make_terminal(rows, balance=2_000.0)
    send(term, volume=1.5)

    term.sim_advance_to(sec(30))
    account = term.account_info()

    assert term.positions_total() == 1
    assert 50 < account.margin_level < 100


# -- netting -------------------------------------------------------------------------------


def test_netting_adds_reduces_and_reverses_one_position():
    term = make_terminal(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)

    first = send(term, volume=1.0)
    send(term, volume=0.5)
    send(term, kind=c.ORDER_TYPE_SELL, volume=0.5)
    reversed_ = send(term, kind=c.ORDER_TYPE_SELL, volume=2.0)

    positions = term.positions_get()
    assert len(positions) == 1
    pos = positions[0]
    assert (pos.type, pos.volume, pos.ticket) == (c.POSITION_TYPE_SELL, pytest.approx(1.0),
                                                  first.order)
    entries = [d.entry for d in term.history_deals_get(position=first.order)]
    assert entries == [c.DEAL_ENTRY_IN, c.DEAL_ENTRY_IN, c.DEAL_ENTRY_OUT, c.DEAL_ENTRY_INOUT]
    assert reversed_.retcode == 10009
    assert term.account_info().margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING


# -- pending orders ------------------------------------------------------------------------


def pending(term: SimTerminal, kind: int, price: float, **extra: object):
    request = {"action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 1.0,
               "type": kind, "price": price, "type_filling": c.ORDER_FILLING_RETURN}
    request.update(extra)
    return term.order_send(request)


def test_buy_limit_is_placed_then_filled_at_its_price():
    rows = [(sec(10), "EURUSD", 1.12950, 1.12952), (sec(20), "EURUSD", 1.12890, 1.12892)]
    term = make_terminal(rows)

    placed = pending(term, c.ORDER_TYPE_BUY_LIMIT, 1.12900, sl=1.12500)
    listed = term.orders_get()
    term.sim_advance_to(sec(30))

    assert (placed.retcode, placed.comment) == (c.TRADE_RETCODE_PLACED, "Order placed")
    assert [o.ticket for o in listed] == [placed.order]
    assert term.orders_get() == ()
    position = term.positions_get()[0]
    assert (position.ticket, position.price_open, position.sl) == (placed.order, 1.129, 1.125)
    order = term.history_orders_get(ticket=placed.order)[0]
    assert order.state == c.ORDER_STATE_FILLED


def test_sell_stop_fills_at_the_market():
    rows = [(sec(10), "EURUSD", 1.12880, 1.12882)]  # gaps below the 1.12900 stop
    term = make_terminal(rows)

    placed = pending(term, c.ORDER_TYPE_SELL_STOP, 1.12900)
    term.sim_advance_to(sec(30))

    assert term.positions_get()[0].price_open == 1.1288
    assert term.history_deals_get(position=placed.order)[0].price == 1.1288


def test_pending_price_on_the_wrong_side_is_invalid():
    term = make_terminal()

    assert pending(term, c.ORDER_TYPE_BUY_LIMIT, 1.13100).retcode == 10015
    assert pending(term, c.ORDER_TYPE_SELL_STOP, 1.13100).retcode == 10015
    assert pending(term, c.ORDER_TYPE_BUY_STOP_LIMIT, 1.13100).retcode == 10035


def test_pending_orders_expire_modify_and_remove():
    term = make_terminal([(sec(120), "EURUSD", 1.13000, 1.13002)])
    server_now = term.symbol_info_tick("EURUSD").time
    expiring = pending(term, c.ORDER_TYPE_BUY_LIMIT, 1.12000,
                       type_time=c.ORDER_TIME_SPECIFIED, expiration=server_now + 60)
    kept = pending(term, c.ORDER_TYPE_BUY_LIMIT, 1.12500)
    past = pending(term, c.ORDER_TYPE_BUY_LIMIT, 1.12000, type_time=c.ORDER_TIME_SPECIFIED,
                   expiration=server_now - 60)

    modified = term.order_send({"action": c.TRADE_ACTION_MODIFY, "order": kept.order,
                                "price": 1.12600})
    same = term.order_send({"action": c.TRADE_ACTION_MODIFY, "order": kept.order,
                            "price": 1.12600})
    term.sim_advance_to(sec(90))
    removed = term.order_send({"action": c.TRADE_ACTION_REMOVE, "order": kept.order})

    assert past.retcode == c.TRADE_RETCODE_INVALID_EXPIRATION
    assert modified.retcode == 10009 and same.retcode == c.TRADE_RETCODE_NO_CHANGES
    assert removed.retcode == 10009
    states = {o.ticket: o.state for o in term.history_orders_get(0, 2**31 - 1)}
    assert states == {expiring.order: c.ORDER_STATE_EXPIRED,
                      kept.order: c.ORDER_STATE_CANCELED}


# -- Market Watch ----------------------------------------------------------------------------


def test_ticks_and_rates_need_symbol_select():
    term = make_terminal(selected=())

    assert term.symbol_info("EURUSD").visible is False
    assert term.symbol_info_tick("EURUSD") is None
    assert term.last_error() == (-1, "Terminal: Call failed")
    assert term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 1) is None
    assert term.symbol_select("EURUSD", True) is True
    assert term.symbol_info_tick("EURUSD") is not None
    assert term.symbol_info("EURUSD").select is True


def test_symbol_with_an_open_position_cannot_be_hidden():
    term = make_terminal()
    send(term)

    assert term.symbol_select("EURUSD", False) is False
    assert term.symbol_select("GBPUSD", False) is True


def test_symbols_get_with_groups_and_suffix():
    term = make_terminal(symbol_suffix=".a", selected=())

    names = [s.name for s in term.symbols_get(group="*USD*,!XAU*")]

    assert names == ["EURUSD.a", "GBPUSD.a", "USDJPY.a"]
    assert term.symbols_total() == len(SYMBOLS)
    assert term.symbol_info("EURUSD") is None
    assert term.symbol_info("EURUSD.a").path == "Forex\\EURUSD.a"


def test_symbol_specs_show_the_deliberate_differences():
    term = make_terminal()

    gold = term.symbol_info("XAUUSD")
    gbpjpy = term.symbol_info("GBPJPY")
    eur = term.symbol_info("EURUSD")

    assert gold.filling_mode == c.SYMBOL_FILLING_IOC and gold.digits == 2
    assert gold.trade_contract_size == 100.0 and gold.swap_rollover3days == 5
    assert (gbpjpy.volume_min, gbpjpy.volume_step) == (0.1, 0.1)
    assert eur.filling_mode == c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC
    assert (eur.currency_base, eur.currency_profit, eur.currency_margin) == ("EUR", "USD",
                                                                             "EUR")
    assert eur.trade_tick_value == pytest.approx(1.0) and eur.spread == 2
    assert eur.trade_exemode == c.SYMBOL_TRADE_EXECUTION_INSTANT


# -- the package helpers -------------------------------------------------------------------


def test_buy_sell_close_helpers_behave_like_the_package():
    term = make_terminal()

    bought = term.Buy("EURUSD", 0.1)
    gold = term.Buy("XAUUSD", 0.1)  # the helper sends FOK: refused on an IOC-only symbol
    wrong = term.Buy("EURUSD", 1)  # an int volume: the parser refuses it
    wrong_error = term.last_error()
    sold = term.Sell("GBPUSD", 0.2)
    closed = term.Close("EURUSD")

    assert bought.retcode == 10009 and bought.request.type_filling == c.ORDER_FILLING_FOK
    assert bought.request.deviation == 10
    assert gold.retcode == c.TRADE_RETCODE_INVALID_FILL
    assert wrong is None and wrong_error == (-2, 'Invalid "volume" argument')
    assert sold.retcode == 10009
    assert closed is True
    assert [p.symbol for p in term.positions_get()] == ["GBPUSD"]
    assert term.Close("USDJPY") is False


def test_calculators_match_the_fills():
    term = make_terminal([(sec(10), "EURUSD", 1.13200, 1.13202)])
    opened = send(term, volume=1.0)
    margin = term.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.13002)
    expected = term.order_calc_profit(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.13002, 1.132)
    term.sim_advance_to(sec(10))

    send(term, kind=c.ORDER_TYPE_SELL, position=opened.order)

    assert margin == pytest.approx(1130.02)
    assert term.history_deals_get(position=opened.order)[-1].profit == pytest.approx(expected)
    assert term.order_calc_margin(c.ORDER_TYPE_BUY, "USDJPY", 1.0, 111.8) == 1000.0
    assert term.order_calc_profit(c.ORDER_TYPE_BUY, "NOPE", 1.0, 1.0, 1.1) is None
