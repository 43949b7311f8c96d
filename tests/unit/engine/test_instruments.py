"""Instruments below the strategy layer: a stock or index CFD's asset and price currency,
its value, sizing, P&L and exposure, with exact numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from engine.baskets import Basket, Leg, add_exposure
from engine.cluster import Direction, LegQuote, size_basket
from engine.errors import ConfigError
from engine.fx import CurrencyConverter
from engine.instruments import Instrument, instrument_for, is_fx_name, news_currencies
from engine.market import MarketState
from engine.snapshot import PositionView, currency_exposures
from engine.startup import load_symbols
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows

SYMBOLS = ("EURUSD", "USDJPY", "KO", "SPXUSD")
KO = Instrument("KO", "KO", "USD")
#: mids: EURUSD 1.2, USDJPY 110, KO 50, SPXUSD 2500
MIDS = np.array([1.2, 110.0, 50.0, 2500.0])


def test_names_and_broker_currencies_decide_the_instrument():
    assert instrument_for("EURUSD") == Instrument("EURUSD", "EUR", "USD")
    assert instrument_for("EURUSD.a", "USD") == Instrument("EURUSD.a", "EUR", "USD")
    assert instrument_for("SPXUSD", "USD") == Instrument("SPXUSD", "SPX", "USD")
    assert instrument_for("KO", "USD") == KO
    assert instrument_for("SAP", "eur") == Instrument("SAP", "SAP", "EUR")
    assert instrument_for("KO") is None  # a non-FX name says nothing by itself
    # the broker wins when it contradicts the name
    assert instrument_for("ABCDEF", "GBP") == Instrument("ABCDEF", "ABCDEF", "GBP")
    assert [is_fx_name(s) for s in ("EURUSDm", "GOOGL", "AAPL.NYSE", "#KO")] == [
        True, False, False, False]


def test_the_converter_values_a_stock_by_its_price_once_it_knows_its_currency():
    fx = CurrencyConverter(SYMBOLS, "USD")
    with pytest.raises(KeyError):
        fx.value("KO", MIDS)  # built from names: KO is not known yet

    fx.learn({"KO": KO})

    assert fx.value("KO", MIDS) == 50.0
    assert fx.value("SPX", MIDS) == 2500.0
    assert fx.value("JPY", MIDS) == pytest.approx(1 / 110)
    assert fx.parts("KO") == ("KO", "USD")


def test_an_asset_priced_in_a_currency_nothing_converts_is_a_config_error():
    with pytest.raises(ConfigError, match="CHF"):
        CurrencyConverter(("EURUSD", "NESN"), "USD", {"NESN": Instrument("NESN", "NESN", "CHF")})


def test_sizing_a_stock_and_an_index_leg():
    """units = exposure / (price x quote value x contract size): 10,000 USD of KO at 50 is
    200 shares; 10,000 USD of SPXUSD at 2500 is 4 lots of 1."""
    fx = CurrencyConverter(SYMBOLS, "USD", {"KO": KO})
    quotes = {"KO": LegQuote("KO", fx.value("KO", MIDS), 1.0, 1.0, 10_000.0, 1.0),
              "SPXUSD": LegQuote("SPXUSD", fx.value("SPX", MIDS), 1.0, 0.1, 500.0, 0.1)}

    size = size_basket({"KO": 0.5, "SPXUSD": -0.5}, 20_000.0, quotes)

    assert [(leg.symbol, leg.lots, leg.notional) for leg in size.legs] == [
        ("KO", 200.0, 10_000.0), ("SPXUSD", -4.0, -10_000.0)]


def test_a_stock_and_index_basket_marks_its_pnl_in_the_quote_currency():
    fx = CurrencyConverter(SYMBOLS, "USD", {"KO": KO})
    basket = Basket("PAIR-1", "PAIR", Direction.LONG, datetime(2021, 3, 16, tzinfo=UTC), 0.0,
                    100.0, 200.0, 0, [Leg("KO", 200.0, 1.0, open_price=50.01),
                                      Leg("SPXUSD", -4.0, 1.0, open_price=2500.00)])
    index = {s: i for i, s in enumerate(SYMBOLS)}
    bid = np.array([1.19999, 109.99, 51.00, 2490.00])
    ask = np.array([1.20001, 110.01, 51.01, 2490.50])

    pnl = basket.unrealised(index, bid, ask, fx)

    # KO: 200 x (51.00 - 50.01) = 198.00; SPXUSD short 4 closes at the ask: 4 x 9.50 = 38.00
    assert pnl == pytest.approx(236.0)


def test_the_exposure_caps_count_a_stock_as_its_own_currency():
    out: dict[str, float] = {}

    add_exposure(out, "KO", 200.0, 50.0, KO)
    add_exposure(out, "EURUSD", 10_000.0, 1.2, Instrument("EURUSD", "EUR", "USD"))

    assert out == {"KO": 10_000.0, "USD": -22_000.0, "EUR": 12_000.0}


def test_the_trade_tabs_exposure_table_uses_the_instruments():
    positions = [PositionView(1, "KO", "SELL", 100.0, 50.0, 50.0, 0.0, 0.0, 0, "", None, 0.0,
                              None)]

    net = currency_exposures(positions, {"KO": 1.0}, lambda ccy: {"KO": 50.0}.get(ccy, 1.0),
                             {"KO": KO})

    assert net == {"KO": -5_000.0, "USD": 5_000.0}


def test_news_concerns_a_stock_through_its_quote_currency():
    instruments = {"KO": KO, "EURUSD": Instrument("EURUSD", "EUR", "USD")}

    assert news_currencies(("KO", "PEP"), instruments) == frozenset({"USD"})
    assert news_currencies(("EURUSD",), instruments) == frozenset({"EUR", "USD"})


def test_load_symbols_learns_each_symbols_currency_from_the_broker():
    start = int(datetime(2021, 3, 16, 15, tzinfo=UTC).timestamp() * 1000)
    names = ("EURUSD", "KO", "SPXUSD")
    rows = [(start, "EURUSD", 1.19, 1.19002), (start, "KO", 50.0, 50.01),
            (start, "SPXUSD", 3950.0, 3950.5)]
    sim = SimTerminal(ArrayFeed(names, ticks_from_rows(names, rows), start_msc=start),
                      SimConfig(selected=names))
    assert sim.initialize()
    sim.sim_advance_to(start)
    fx = CurrencyConverter(names, "USD")

    book = load_symbols(sim, MarketState(names), start, fx)

    assert book.instruments["KO"] == KO
    assert book.instruments["SPXUSD"] == Instrument("SPXUSD", "SPX", "USD")
    assert fx.value("KO", np.array([1.19001, 50.005, 3950.25])) == 50.005
