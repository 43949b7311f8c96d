"""Index, Brent and stock CFDs at the simulated broker: what ``symbol_info`` states, per-symbol
sessions, long-only refusal, commission per share, margin and interest-mode swaps.

Every figure is worked out by hand from the specs in ``mt5bridge/sim/symbols.py``:
stock CFDs 1 share a lot, 0.02 USD a share with 1 USD minimum a deal, margin 20 % of the
notional, financing 4.5 % a year long and 2.5 % short on a 360-day year; SPXUSD 1 index unit a
lot, no commission, margin 5 %.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from mt5bridge import constants as c
from mt5bridge.remote.codec import dumps, loads
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows
from mt5bridge.sim.symbols import BROKER_SPECS, long_only


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


#: Tuesday 2021-03-16 15:00 UTC = 11:00 New York (EDT): NYSE open, CME index open.
TUE = utc_ms(2021, 3, 16, 15)
SYMBOLS = ("EURUSD", "KO", "PEP", "RRC", "SPXUSD")
QUOTES = {"EURUSD": (1.19000, 1.19002), "KO": (50.00, 50.01), "PEP": (140.00, 140.03),
          "RRC": (9.00, 9.01), "SPXUSD": (3950.00, 3950.50)}


def make_terminal(extra_rows=(), start=TUE, **config) -> SimTerminal:
    rows = [(start, s, *QUOTES[s]) for s in SYMBOLS] + list(extra_rows)
    feed = ArrayFeed(SYMBOLS, ticks_from_rows(SYMBOLS, rows), start_msc=start)
    config.setdefault("selected", SYMBOLS)
    terminal = SimTerminal(feed, SimConfig(**config))
    assert terminal.initialize()
    terminal.sim_advance_to(start)
    return terminal


def request(term: SimTerminal, symbol: str, kind: int, volume: float, **extra: object) -> dict:
    tick = term.symbol_info_tick(symbol)
    req = {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": float(volume), "type": kind,
           "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid, "deviation": 10,
           "type_filling": c.ORDER_FILLING_FOK}
    req.update(extra)
    return req


def send(term: SimTerminal, symbol: str, kind: int, volume: float, **extra: object):
    result = term.order_send(request(term, symbol, kind, volume, **extra))
    assert result is not None, term.last_error()
    return result


BUY, SELL = c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL


# -- what the broker states ------------------------------------------------------------------


def test_symbol_info_states_a_stock_cfd_as_a_broker_does():
    term = make_terminal()

    ko = term.symbol_info("KO")
    spx = term.symbol_info("SPXUSD")
    rrc = term.symbol_info("RRC")

    assert (ko.currency_base, ko.currency_profit, ko.currency_margin) == ("USD", "USD", "USD")
    assert (ko.trade_contract_size, ko.volume_min, ko.volume_step, ko.digits) == (1.0, 1.0,
                                                                                  1.0, 2)
    assert ko.trade_calc_mode == c.SYMBOL_CALC_MODE_CFD
    assert ko.swap_mode == c.SYMBOL_SWAP_MODE_INTEREST_CURRENT
    assert (ko.swap_long, ko.swap_short) == (-4.5, -2.5)
    assert ko.trade_mode == c.SYMBOL_TRADE_MODE_FULL
    assert rrc.trade_mode == c.SYMBOL_TRADE_MODE_LONGONLY
    assert ko.path == "Stocks\\KO" and spx.path == "Indices\\SPXUSD"
    assert (spx.trade_contract_size, spx.volume_step, spx.currency_profit) == (1.0, 0.1, "USD")
    eur = term.symbol_info("EURUSD")  # FX unchanged
    assert (eur.currency_base, eur.trade_calc_mode, eur.trade_mode) == ("EUR", 0, 4)


# -- sizing and P&L --------------------------------------------------------------------------


def test_a_stock_cfd_leg_books_profit_per_share_and_commission_per_share():
    term = make_terminal([(TUE + 60_000, "KO", 51.00, 51.01)])

    buy = send(term, "KO", BUY, 200)
    margin = term.account_info().margin
    term.sim_advance_to(TUE + 60_000)
    close = send(term, "KO", SELL, 200, position=buy.order)

    deals = term.history_deals_get(0, 2**31 - 1)
    opening, closing = deals[-2], deals[-1]
    assert (buy.price, close.price) == (50.01, 51.00)
    assert margin == pytest.approx(200 * 50.01 * 0.20)  # 20 % of the notional at the ask
    assert closing.profit == pytest.approx((51.00 - 50.01) * 200)  # 198.00
    assert (opening.commission, closing.commission) == (-4.0, -4.0)  # 200 x 0.02


def test_a_small_stock_deal_pays_the_minimum_commission():
    term = make_terminal()

    send(term, "KO", BUY, 20)  # 20 x 0.02 = 0.40 < 1.00

    assert term.history_deals_get(0, 2**31 - 1)[-1].commission == -1.0


def test_an_index_cfd_leg_has_no_commission_and_five_percent_margin():
    term = make_terminal([(TUE + 60_000, "SPXUSD", 3960.00, 3960.50)])

    buy = send(term, "SPXUSD", BUY, 2.5)
    margin = term.account_info().margin
    term.sim_advance_to(TUE + 60_000)
    send(term, "SPXUSD", SELL, 2.5, position=buy.order)

    closing = term.history_deals_get(0, 2**31 - 1)[-1]
    assert 2.5 * 3950.50 * 0.05 == 493.8125
    assert margin == 493.81  # account_info rounds to the cent
    assert closing.profit == pytest.approx((3960.00 - 3950.50) * 2.5)  # 23.75
    assert closing.commission == 0.0


def test_order_calc_margin_of_a_cfd_is_its_rate_of_the_notional():
    term = make_terminal()

    assert term.order_calc_margin(BUY, "KO", 100, 50.0) == 1000.0  # 100 x 50 x 20 %
    assert term.order_calc_margin(BUY, "SPXUSD", 1.0, 4000.0) == 200.0  # 4000 x 5 %


# -- sessions --------------------------------------------------------------------------------


def test_a_stock_cannot_be_traded_outside_nyse_hours_while_fx_can():
    term = make_terminal()  # quoted at 11:00 New York
    term.sim_advance_to(utc_ms(2021, 3, 16, 21))  # 17:00 New York: NYSE closed, FX open

    ko = term.order_check(request(term, "KO", BUY, 10))
    eur = term.order_check(request(term, "EURUSD", BUY, 0.1))
    sent = send(term, "KO", BUY, 10)

    assert ko.retcode == c.TRADE_RETCODE_MARKET_CLOSED
    assert sent.retcode == c.TRADE_RETCODE_MARKET_CLOSED
    assert eur.retcode == 0


def test_the_tick_feed_quotes_a_stock_only_inside_its_session():
    """Ticks every 30 minutes all day: KO's are kept from 09:30 to 15:30 New York only."""
    day = [utc_ms(2021, 3, 16) + k * 1_800_000 for k in range(48)]
    rows = [(t, s, *QUOTES[s]) for t in day for s in ("EURUSD", "KO")]
    feed = ArrayFeed(("EURUSD", "KO"), ticks_from_rows(("EURUSD", "KO"), rows),
                     start_msc=day[0])
    term = SimTerminal(feed, SimConfig(selected=("EURUSD", "KO")))
    assert term.initialize()

    term.sim_advance_to(day[-1])

    ticks = term.sim_last_ticks()
    ko_hours = [datetime.fromtimestamp(t / 1000, tz=UTC).strftime("%H:%M")
                for t in ticks["time_msc"][ticks["symbol"] == 1]]
    assert ko_hours[0] == "13:30" and ko_hours[-1] == "19:30"  # 09:30 .. 15:30 EDT
    assert len(ko_hours) == 13
    assert int((ticks["symbol"] == 0).sum()) == 48


# -- short availability ----------------------------------------------------------------------


def test_a_long_only_stock_refuses_a_short_with_10042_and_allows_buy_and_close():
    term = make_terminal()

    check = term.order_check(request(term, "RRC", SELL, 100))
    sent = send(term, "RRC", SELL, 100)
    bought = send(term, "RRC", BUY, 100)
    closed = send(term, "RRC", SELL, 100, position=bought.order)

    assert check.retcode == c.TRADE_RETCODE_LONG_ONLY == 10042
    assert sent.retcode == 10042
    assert (bought.retcode, closed.retcode) == (10009, 10009)


def test_any_stock_can_be_made_long_only_by_configuration():
    term = make_terminal(extra_specs=(long_only(BROKER_SPECS["PEP"]),))

    assert term.symbol_info("PEP").trade_mode == c.SYMBOL_TRADE_MODE_LONGONLY
    assert term.order_check(request(term, "PEP", SELL, 10)).retcode == 10042
    assert term.order_check(request(term, "KO", SELL, 10)).retcode == 0


def test_a_long_only_stock_on_a_netting_account_refuses_a_reversal_into_a_short():
    term = make_terminal(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    send(term, "RRC", BUY, 100)

    reduce = term.order_check(request(term, "RRC", SELL, 100))
    reverse = term.order_check(request(term, "RRC", SELL, 150))

    assert (reduce.retcode, reverse.retcode) == (0, 10042)


# -- financing swap --------------------------------------------------------------------------


def test_interest_swap_is_booked_on_both_legs_overnight():
    """Long 100 KO and short 50 PEP over Tuesday's rollover (server midnight = 21:00 UTC in
    March after the US change): long pays 4.5 %/360 on 100 x bid, short 2.5 %/360 on
    50 x ask."""
    term = make_terminal()
    send(term, "KO", BUY, 100)
    send(term, "PEP", SELL, 50)

    term.sim_advance_to(utc_ms(2021, 3, 17, 12))

    swaps = {p.symbol: p.swap for p in term.positions_get()}
    assert -100 * 50.00 * 0.045 / 360 == -0.625  # booked in cents, halves away from zero
    assert swaps["KO"] == -0.63
    assert pytest.approx(-0.486215, abs=1e-6) == -50 * 140.03 * 0.025 / 360
    assert swaps["PEP"] == -0.49


def test_a_stock_swap_is_charged_three_times_on_friday():
    friday = utc_ms(2021, 3, 19, 15)
    term = make_terminal(start=friday)
    send(term, "KO", BUY, 1000)

    term.sim_advance_to(utc_ms(2021, 3, 22, 15))  # past Friday's rollover, into Monday

    assert -3 * 1000 * 50.00 * 0.045 / 360 == -18.75
    assert term.positions_get()[0].swap == -18.75


def test_the_specs_have_no_stock_without_nyse_hours():
    stocks = [s for s in BROKER_SPECS.values() if s.group == "Stocks"]

    assert len(stocks) == 20
    assert all(s.session is not None and s.session.calendar == "nyse" for s in stocks)
    assert all(np.isclose(s.commission_per_unit, 0.02) for s in stocks)


def test_a_configured_cfd_spec_crosses_the_remote_terminals_wire():
    config = SimConfig(extra_specs=(long_only(BROKER_SPECS["KO"]),))

    assert loads(dumps(config)) == config


def test_a_close_only_symbol_refuses_new_positions_either_way_with_10044():
    close_only = dataclasses.replace(BROKER_SPECS["KO"], trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    term = make_terminal(extra_specs=(close_only,))

    buy = term.order_check(request(term, "KO", BUY, 10))
    sell = term.order_check(request(term, "KO", SELL, 10))

    assert (buy.retcode, sell.retcode) == (c.TRADE_RETCODE_CLOSE_ONLY,) * 2 == (10044, 10044)
