"""Currency space: the numeraire, each symbol's orientation, and sizing on real symbols."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.cluster import ClusterSpec, LegQuote, load_clusters, size_basket
from engine.errors import ConfigError
from engine.ranges import FieldError
from engine.signals import ClusterSignal
from engine.space import (
    NoNumeraire,
    Orienter,
    asset_of,
    net_numeraire_exposure,
    numeraire_of,
    orient,
    orientations,
)

MAJORS = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
GOLD = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
EUR_CROSSES = ["EURUSD", "EURGBP", "EURJPY", "EURCHF"]
COMMODITIES = ["AUDUSD", "NZDUSD", "AUDNZD", "AUDCAD"]


def quote(symbol: str, usd_per_base: float, contract: float = 100_000) -> LegQuote:
    return LegQuote(symbol, usd_per_base, contract, 0.01, 100.0, 0.01)


def test_usd_majors_are_priced_in_usd_with_usdchf_inverted():
    assert numeraire_of(MAJORS) == "USD"
    assert orientations(MAJORS, "currency") == {"EURUSD": 1, "GBPUSD": 1, "AUDUSD": 1,
                                                "USDCHF": -1}
    assert asset_of("USDCHF", -1) == "CHF" and asset_of("EURUSD", 1) == "EUR"


def test_gold_cluster_prices_the_metal_and_the_havens_in_usd():
    assert numeraire_of(GOLD) == "USD"
    assert orientations(GOLD, "currency") == {"XAUUSD": 1, "EURUSD": 1, "USDCHF": -1,
                                              "USDJPY": -1}


def test_eur_crosses_price_every_other_currency_in_eur():
    assert numeraire_of(EUR_CROSSES) == "EUR"
    assert orientations(EUR_CROSSES, "currency") == {s: -1 for s in EUR_CROSSES}


def test_the_default_file_numeraires():
    found = {s.name: (s.numeraire, s.orientation if s.numeraire else None)
             for s in load_clusters()}
    assert found["JPY_CROSSES"] == ("JPY", {"USDJPY": 1, "EURJPY": 1, "GBPJPY": 1,
                                            "AUDJPY": 1})
    assert found["GBP_BLOC"] == ("GBP", {"GBPUSD": -1, "EURGBP": 1, "GBPJPY": -1,
                                         "GBPCHF": -1})  # currency space, the default
    assert found["COMMODITIES"] == ("", None)
    gbp = ClusterSpec("G", ("GBPUSD", "EURGBP", "GBPJPY", "GBPCHF"), 1, space="currency")
    assert gbp.orientation == {"GBPUSD": -1, "EURGBP": 1, "GBPJPY": -1, "GBPCHF": -1}


def test_broker_suffixes_are_ignored():
    symbols = ["EURUSD.pro", "USDCHF.pro", "GBPUSDm"]
    assert orientations(symbols, "currency") == {"EURUSD.pro": 1, "USDCHF.pro": -1,
                                                 "GBPUSDm": 1}


def test_symbol_space_keeps_every_quote_as_it_comes():
    assert orientations(COMMODITIES, "symbol") == {s: 1 for s in COMMODITIES}
    prices = np.array([[0.68, 1.01], [0.69, 0.99]])
    assert np.array_equal(orient(prices, np.array([1, 1])), prices)


def test_orient_inverts_only_the_numeraire_based_columns():
    prices = np.array([[1.10, 0.99], [1.12, 1.01]])
    out = orient(prices, np.array([1, -1]))
    assert out[:, 0].tolist() == [1.10, 1.12]
    assert out[:, 1].tolist() == [1 / 0.99, 1 / 1.01]


def test_a_cluster_without_a_common_currency_is_refused_in_currency_space():
    with pytest.raises(NoNumeraire, match="no currency is common"):
        numeraire_of(COMMODITIES)
    with pytest.raises(FieldError, match="cluster COMMOD: no currency is common") as err:
        ClusterSpec("COMMOD", tuple(COMMODITIES), 1, space="currency")
    assert err.value.field == "space"
    assert ClusterSpec("COMMOD", tuple(COMMODITIES), 1,
                       space="symbol").numeraire == ""  # symbol space: fine


def test_one_rate_under_several_names_has_no_single_numeraire():
    with pytest.raises(NoNumeraire, match="both EUR and USD"):
        numeraire_of(["EURUSD", "USDEUR", "EURUSD.pro"])


def test_the_file_names_the_cluster_whose_space_cannot_be_currency(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[defaults]\nspace = "currency"\n\n'
                    '[[cluster]]\nname = "M"\nsymbols = ["EURUSD", "GBPUSD", "USDCHF"]\n'
                    'magic = 1\n\n'
                    '[[cluster]]\nname = "COMMOD"\n'
                    'symbols = ["AUDUSD", "NZDUSD", "AUDNZD", "AUDCAD"]\nmagic = 2\n')
    with pytest.raises(ConfigError) as err:
        load_clusters(path)
    assert err.value.key == "cluster[1].space"
    assert "cluster COMMOD" in str(err.value) and "\n" not in str(err.value)


def test_long_chf_in_usd_sells_usdchf():
    # Arrange: long CHF in USD, short EUR in USD, 100k USD each side
    quotes = {"EURUSD": quote("EURUSD", 1.10), "USDCHF": quote("USDCHF", 1.0)}
    signs = {"EURUSD": 1, "USDCHF": -1}
    # Act
    size = size_basket({"USDCHF": 0.5, "EURUSD": -0.5}, 200_000, quotes, signs)
    # Assert
    by = {leg.symbol: leg for leg in size.legs}
    assert by["USDCHF"].lots == -1.0  # sell 100k USD of USDCHF
    assert by["EURUSD"].lots == -0.91  # sell 90.9k EUR (100k USD) of EURUSD
    notionals = {s: leg.notional for s, leg in by.items()}
    assert notionals == {"USDCHF": -100_000.0, "EURUSD": pytest.approx(-100_100.0)}
    assert net_numeraire_exposure(notionals, "USD") == pytest.approx(100.0)


def test_the_same_exposures_in_symbol_space_buy_usdchf():
    quotes = {"EURUSD": quote("EURUSD", 1.10), "USDCHF": quote("USDCHF", 1.0)}
    size = size_basket({"USDCHF": 0.5, "EURUSD": -0.5}, 200_000, quotes)
    by = {leg.symbol: leg.lots for leg in size.legs}
    assert by == {"USDCHF": 1.0, "EURUSD": -0.91}
    notionals = {leg.symbol: leg.notional for leg in size.legs}
    # long USD on both legs: the dollar does not cancel
    assert net_numeraire_exposure(notionals, "USD") == pytest.approx(200_100.0)


def test_eur_cluster_on_a_usd_account_is_flat_in_eur():
    # Arrange: EUR worth 1.10 USD; long GBP in EUR, short USD in EUR, 55k USD each side
    quotes = {"EURGBP": quote("EURGBP", 1.10), "EURUSD": quote("EURUSD", 1.10)}
    signs = orientations(["EURGBP", "EURUSD", "EURJPY"], "currency")
    # Act
    size = size_basket({"EURGBP": 0.5, "EURUSD": -0.5}, 110_000, quotes, signs)
    # Assert: sell EURGBP (receive GBP), buy EURUSD (pay USD), no EUR left over
    by = {leg.symbol: leg for leg in size.legs}
    assert (by["EURGBP"].lots, by["EURUSD"].lots) == (-0.5, 0.5)
    notionals = {s: leg.notional for s, leg in by.items()}
    assert net_numeraire_exposure(notionals, "EUR") == pytest.approx(0.0, abs=1e-9)
    assert net_numeraire_exposure(notionals, "GBP") == pytest.approx(55_000.0)
    assert net_numeraire_exposure(notionals, "USD") == pytest.approx(-55_000.0)


def test_unit_atr_is_the_atr_of_the_oriented_basket():
    # Arrange: a USD cluster in currency space; USDCHF rises 1% a bar, the others still
    spec = ClusterSpec("M", ("EURUSD", "GBPUSD", "USDCHF"), 1, space="currency")
    spec = ClusterSpec("M", spec.symbols, 1, space="currency",
                       stops=type(spec.stops)(atr_bars=2))
    sig = ClusterSignal(spec, {"EURUSD": 0, "GBPUSD": 1, "USDCHF": 2})
    for k in range(3):
        sig.add_bar(1_800 * k, np.array([1.10, 1.25, 1.0 * 1.01 ** k]))
    # Act: long CHF in USD only
    atr = sig.unit_atr({"EURUSD": 0.0, "GBPUSD": 0.0, "USDCHF": 1.0})
    # Assert: CHF in USD fell 1/1.01 - 1 a bar, not +1%
    assert atr == pytest.approx(1 - 1 / 1.01, abs=1e-15)
    assert not math.isclose(atr, 0.01)


def test_chart_history_keeps_the_quotes_while_the_tdi_sees_oriented_prices():
    spec = ClusterSpec("M", ("EURUSD", "GBPUSD", "USDCHF"), 1, space="currency")
    sig = ClusterSignal(spec, {"EURUSD": 0, "GBPUSD": 1, "USDCHF": 2})
    sig.add_bar(0, np.array([1.10, 1.25, 0.98]))
    _, _, closes = sig.history_arrays()
    assert closes["USDCHF"].tolist() == [0.98]
    assert sig.closes[-1].tolist() == [1.10, 1.25, 1 / 0.98]


@pytest.mark.parametrize("signs", [[1, 1, 1], [1, -1, 1], [-1, -1, -1]])
def test_an_orienter_gives_orients_numbers_for_a_bar_and_a_block(signs):
    # Arrange
    rng = np.random.default_rng(3)
    block = rng.uniform(0.5, 150.0, (40, 3))
    orienter = Orienter(np.array(signs))

    # Act / Assert: bit for bit, one bar and a block of bars
    assert orienter(block[0]).tolist() == orient(block[0], np.array(signs)).tolist()
    assert orienter(block).tolist() == orient(block, np.array(signs)).tolist()
