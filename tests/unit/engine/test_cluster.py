"""Cluster config and basket sizing."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cluster import (
    Direction,
    LegQuote,
    basket_exposures,
    entry_direction,
    load_clusters,
    risk_scale,
    round_volume,
    size_basket,
)
from engine.errors import ConfigError
from engine.tdi import pair_names

REAL_2019 = {"EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD", "XAUUSD"}


def quote(symbol: str, usd_per_base: float, step: float = 0.01, vmin: float = 0.01,
          contract: float = 100_000) -> LegQuote:
    return LegQuote(symbol, usd_per_base, contract, vmin, 100.0, step)


def test_default_config_has_eight_documented_clusters_with_unique_magics():
    specs = load_clusters()
    assert len(specs) == 8
    assert len({s.magic for s in specs}) == 8
    assert all(s.why for s in specs)
    assert all(3 <= len(s.symbols) <= 6 for s in specs)
    assert sum(set(s.symbols) <= REAL_2019 for s in specs) >= 2
    assert any("XAUUSD" in s.symbols for s in specs)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[[cluster]]\nname='A'\nsymbols=['EURUSD','GBPUSD']\nmagic=1\n",
         "cluster[0].symbols"),
        ("[[cluster]]\nname='A'\nsymbols=['EURUSD','GBPUSD','AUDUSD']\nmagic='x'\n",
         "cluster[0].magic"),
        ("[[cluster]]\nname='A'\nsymbols=['EURUSD','GBPUSD','AUDUSD']\nmagic=1\nbogus=2\n",
         "cluster[0].bogus"),
        ("[defaults]\ntau_z=3\n[[cluster]]\nname='A'\nsymbols=['EURUSD','GBPUSD','AUDUSD']\n"
         "magic=1\n", "defaults.tau_z"),
        ("[[cluster]]\nname='A'\nsymbols=['EURUSD','GBPUSD','AUDUSD']\nmagic=1\n"
         "[[cluster]]\nname='B'\nsymbols=['EURUSD','GBPUSD','AUDUSD']\nmagic=1\n",
         "cluster[1].magic"),
        ("[[cluster]\n", ""),
    ],
)
def test_config_errors_name_file_key_and_reason(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_clusters(path)
    assert info.value.path == str(path)
    assert info.value.key == key
    assert str(info.value).startswith(str(path))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_clusters(tmp_path / "nope.toml")


def test_exposures_sum_to_zero_and_flip_with_direction():
    symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
    rng = np.random.default_rng(0)
    v1 = rng.normal(size=6)
    sd = rng.uniform(1e-3, 4e-3, 6)
    long = basket_exposures(v1, sd, symbols, Direction.LONG)
    short = basket_exposures(v1, sd, symbols, Direction.SHORT)
    assert sum(long.values()) == pytest.approx(0.0, abs=1e-12)
    assert sum(abs(x) for x in long.values()) == pytest.approx(1.0)
    assert all(short[s] == -long[s] for s in symbols)


def test_exposure_follows_pair_loadings_over_std():
    # One pair loading on EURUSD/GBPUSD only: long EURUSD, short GBPUSD, nothing in AUDUSD.
    symbols = ["EURUSD", "GBPUSD", "AUDUSD"]
    names = pair_names(symbols)  # AUDUSD/EURUSD, AUDUSD/GBPUSD, EURUSD/GBPUSD
    v1 = np.array([0.0 if n != "EURUSD/GBPUSD" else 1.0 for n in names])
    exp = basket_exposures(v1, np.full(3, 0.002), symbols, Direction.LONG)
    assert exp == pytest.approx({"AUDUSD": 0.0, "EURUSD": 0.5, "GBPUSD": -0.5})


def test_direction_from_tdi():
    assert entry_direction(-1.3, 1.2) is Direction.LONG
    assert entry_direction(1.3, 1.2) is Direction.SHORT
    assert entry_direction(1.1, 1.2) is None


def test_equal_dollar_exposure_in_usdjpy_and_eurusd_gives_the_right_lots():
    quotes = {"EURUSD": quote("EURUSD", 1.12), "USDJPY": quote("USDJPY", 1.0)}
    size = size_basket({"EURUSD": 0.5, "USDJPY": -0.5}, 224_000, quotes)
    lots = {leg.symbol: leg.lots for leg in size.legs}
    assert lots == {"EURUSD": 1.0, "USDJPY": -1.12}  # 100k EUR vs 112k USD
    assert not size.warnings


def test_rounding_respects_steps_and_reports_zeroed_legs():
    quotes = {"EURUSD": quote("EURUSD", 1.12), "GBPJPY": quote("GBPJPY", 1.27, 0.1, 0.1),
              "XAUUSD": quote("XAUUSD", 1282.0, contract=100)}
    size = size_basket({"EURUSD": 0.4, "GBPJPY": -0.1, "XAUUSD": -0.3}, 20_000, quotes)
    by = {leg.symbol: leg for leg in size.legs}
    assert by["EURUSD"].lots == 0.07  # 8000 / 112000 = 0.0714 -> 0.07
    assert by["GBPJPY"].lots == 0.0 and by["GBPJPY"].zeroed
    assert by["XAUUSD"].lots == -0.05  # 6000 / 128200 = 0.0468 -> 0.05
    assert any("GBPJPY" in w and "rounds to 0" in w for w in size.warnings)
    for leg in size.legs:
        assert abs(leg.lots * 100 - round(leg.lots * 100)) < 1e-9


def test_round_volume_edges():
    assert round_volume(0.3, 0.1, 0.1, 100) == 0.3
    assert round_volume(-0.049, 0.01, 0.01, 100) == -0.05
    assert round_volume(0.004, 0.01, 0.01, 100) == 0.0
    assert round_volume(250.0, 0.01, 0.01, 100) == 100.0


def test_risk_scale_makes_the_stop_lose_the_budget():
    assert risk_scale(300.0, 0.006) == pytest.approx(50_000)
    with pytest.raises(ValueError):
        risk_scale(300.0, 0.0)
