"""Index CFD M1 files backtest like the FX files: a real ``main.py backtest`` of a cluster of
SPXUSD, NSXUSD and XAUUSD on the three-week slices, and its legs recomputed from legs.csv."""

from __future__ import annotations

import csv

import pytest
from helpers.paths import TEST_DATA

from main import main

CONFIG = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
atr_bars = 14

[[cluster]]
name = "US_INDICES"
symbols = ["SPXUSD", "NSXUSD", "XAUUSD"]
magic = 720001
space = "symbol"
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cfd")
    config = folder / "indices.toml"
    config.write_text(CONFIG)
    out = folder / "report"
    code = main(["backtest", "--data", str(TEST_DATA / "cfd_m1"),
                 str(TEST_DATA / "histdata" / "DAT_ASCII_XAUUSD_M1_2019.csv.gz"),
                 "--config", str(config), "--report", str(out)])
    assert code == 0
    return out


def rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_index_legs_recompute_from_legs_csv(report):
    legs = rows(report / "legs.csv")
    index_legs = [leg for leg in legs if leg["symbol"] in ("SPXUSD", "NSXUSD")]

    assert len(index_legs) >= 4
    for leg in index_legs:
        sign = 1 if leg["side"] == "BUY" else -1
        lots, size = float(leg["lots"]), float(leg["contract_size"])
        move = float(leg["close_price"]) - float(leg["open_price"])
        assert size == 1.0 and float(leg["open_quote_value"]) == 1.0  # priced in USD
        assert float(leg["profit"]) == pytest.approx(sign * move * lots * size, abs=0.006)
        assert float(leg["commission"]) == 0.0  # an index CFD's cost is its spread
        spread = -(sign * (float(leg["open_price"]) - float(leg["open_mid"]))
                   - sign * (float(leg["close_price"]) - float(leg["close_mid"]))) * lots * size
        assert float(leg["spread_cost"]) == pytest.approx(spread, abs=0.011)
        money = float(leg["profit"]) + float(leg["commission"]) + float(leg["swap"])
        assert float(leg["pnl"]) == pytest.approx(money, abs=0.006)


def test_each_baskets_pnl_is_the_sum_of_its_legs(report):
    legs = rows(report / "legs.csv")
    trades = rows(report / "trades.csv")

    assert trades
    for trade in trades:
        mine = [float(leg["pnl"]) for leg in legs if leg["basket_id"] == trade["basket_id"]]
        assert len(mine) == 3
        assert float(trade["pnl"]) == pytest.approx(sum(mine), abs=0.006)
