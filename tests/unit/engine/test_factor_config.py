"""Factor series in the engine config, the cluster's factor window, and what the market
must feed for them."""

from __future__ import annotations

import pytest

from engine.cluster import ClusterSpec
from engine.config import EngineConfig, load_engine_config
from engine.errors import ConfigError
from engine.factor import DEFAULT_WINDOW, FactorSeries
from engine.ranges import MAX_BARS, FieldError
from engine.tdi import TdiParams

#: The dollar index of docs/architecture.md: each major with the sign of its dollar side.
USD_INDEX = """
[factors.USD]
symbols = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"]
weights = [-1, -1, 1, 1, 1, -1]
"""

CLUSTERS = """
[[cluster]]
name = "A"
symbols = ["EURUSD", "GBPUSD", "AUDUSD"]
magic = 1
factor = "{factor}"

[[cluster]]
name = "B"
symbols = ["XAUUSD", "EURUSD", "USDCHF"]
magic = 2
"""


def write(tmp_path, text: str):
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


def test_a_named_factor_is_read_and_its_symbols_join_the_market(tmp_path):
    # Act
    cfg = load_engine_config(write(tmp_path, CLUSTERS.format(factor="USD") + USD_INDEX))
    # Assert
    series = cfg.factor_series(cfg.cluster("A"))
    assert series == FactorSeries("USD", ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD",
                                          "AUDUSD"), (-1.0, -1.0, 1.0, 1.0, 1.0, -1.0))
    assert cfg.factor_series(cfg.cluster("B")) is None
    assert cfg.symbols == ("EURUSD", "GBPUSD", "AUDUSD", "XAUUSD", "USDCHF", "USDJPY",
                           "USDCAD")
    assert cfg.factor_symbols(cfg.cluster("B")) == ()


def test_a_factor_nobody_uses_feeds_nothing(tmp_path):
    cfg = load_engine_config(write(tmp_path, CLUSTERS.format(factor="pc1") + USD_INDEX))
    assert cfg.symbols == ("EURUSD", "GBPUSD", "AUDUSD", "XAUUSD", "USDCHF")
    assert cfg.cluster("A").factor == "pc1"


def test_the_factor_window_is_read_from_defaults_and_clusters(tmp_path):
    text = "[defaults]\nfactor_window = 100\n" + CLUSTERS.format(factor="pc1").replace(
        "magic = 2", "magic = 2\nfactor_window = 480")
    cfg = load_engine_config(write(tmp_path, text))
    assert [c.factor_window for c in cfg.clusters] == [100, 480]


@pytest.mark.parametrize(
    ("factor", "extra", "key", "reason"),
    [
        ("EUR", USD_INDEX, "cluster[0].factor", "unknown factor 'EUR' (known: none, pc1, USD)"),
        ("PC1", "", "cluster[0].factor", "unknown factor 'PC1'"),
        ("USD", "[factors.USD]\nsymbols = ['EURUSD']\n", "factors.USD.weights", "missing"),
        ("USD", "[factors.USD]\nsymbols = ['EURUSD']\nweights = [1]\nscale = 2\n",
         "factors.USD.scale", "unknown key"),
        ("USD", "[factors.USD]\nsymbols = 'EURUSD'\nweights = [1]\n", "factors.USD.symbols",
         "expected a list"),
        ("USD", "[factors.USD]\nsymbols = ['EURUSD', 'GBPUSD']\nweights = [1]\n",
         "factors.USD.weights", "expected 2 numbers"),
        ("USD", "[factors.USD]\nsymbols = ['EURUSD']\nweights = ['up']\n",
         "factors.USD.weights", "expected a number"),
        ("USD", "[factors.USD]\nsymbols = ['EURUSD']\nweights = [0]\n",
         "factors.USD.weights", "all weights are zero"),
        ("pc1", "[factors.pc1]\nsymbols = ['EURUSD']\nweights = [1]\n", "factors.pc1",
         "built-in"),
        ("pc1", "factors = 3\n", "factors", "must be a table"),
        ("pc1", "[factors]\nUSD = 3\n", "factors.USD", "must be a table"),
    ],
)
def test_factor_errors_name_the_key(tmp_path, factor, extra, key, reason):
    # "factors = 3" must come before the first table of the file
    text = (extra + CLUSTERS.format(factor=factor) if extra.startswith("factors =")
            else CLUSTERS.format(factor=factor) + extra)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_engine_config(path)
    assert err.value.key == key
    assert reason in err.value.reason
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [("19", "20..11520"), ("11521", "20..11520"), ("'240'", "expected int"),
     ("11000", "start-up history")],
)
def test_factor_window_out_of_range_names_the_key(tmp_path, value, reason):
    text = CLUSTERS.format(factor="pc1").replace("magic = 1", f"magic = 1\nfactor_window = {value}")
    with pytest.raises(ConfigError) as err:
        load_engine_config(write(tmp_path, text))
    assert err.value.key == "cluster[0].factor_window"
    assert reason in err.value.reason


def test_history_counts_the_factor_window_only_with_a_factor():
    plain = ClusterSpec("A", ("EURUSD", "GBPUSD", "AUDUSD"), 1)
    pc1 = ClusterSpec("A", ("EURUSD", "GBPUSD", "AUDUSD"), 1, factor="pc1")
    assert plain.factor_window == pc1.factor_window == DEFAULT_WINDOW == 240
    assert pc1.history_bars - plain.history_bars == 240
    assert plain.history_bars == TdiParams().warmup_bars + 14 + 2
    # a window that fits alone but not on top of the TDI's warm-up
    with pytest.raises(FieldError) as err:
        ClusterSpec("A", ("EURUSD", "GBPUSD", "AUDUSD"), 1, factor="pc1",
                    factor_window=MAX_BARS - 100)
    assert err.value.field == "factor_window"


def test_engine_config_refuses_a_duplicate_factor_name():
    spec = ClusterSpec("A", ("EURUSD", "GBPUSD", "AUDUSD"), 1)
    usd = FactorSeries("USD", ("EURUSD",), (-1.0,))
    with pytest.raises(FieldError, match="defined twice"):
        EngineConfig(clusters=(spec,), factors=(usd, usd))


def test_factors_change_the_config_hash(tmp_path):
    plain = load_engine_config(write(tmp_path, CLUSTERS.format(factor="pc1")))
    more = load_engine_config(write(tmp_path, CLUSTERS.format(factor="pc1") + USD_INDEX))
    assert plain.config_hash() != more.config_hash()
