"""Baskets in currency space are flat in their numeraire to the rounding limit, on real 2019
data: the journal's balance, trades.csv and a recomputation from the deals agree.

Measured on the three-week slice in tests/data (short windows, four USD clusters): in
currency space |net USD| / gross is 0.23% on average (max 0.55%) over 29 baskets; the same
clusters in symbol space are 63.8% on average (median 68.6%) over 24 baskets.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from app.backtest.outputs import write_trades_csv
from engine.config import load_engine_config
from engine.entries import MAX_ROUNDING_IMBALANCE
from engine.records import HistoryFilter
from engine.space import currencies_of
from storage.journal import SqliteJournal

CLUSTERS = """
[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001

[[cluster]]
name = "USD_CAD_JPY"
symbols = ["EURUSD", "USDJPY", "USDCHF", "USDCAD"]
magic = 710002

[[cluster]]
name = "GOLD_HAVENS"
symbols = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
magic = 710003

[[cluster]]
name = "MAJORS_SIX"
symbols = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"]
magic = 710004
"""
#: Short windows so that three weeks of M1 data warm up in a few days.
SMALL = "tau_f = 4\ntau_s = 24\ntau_q = 96\n"
#: Entry deals are filled at bid/ask, the sizing valued the base at the mid: a recomputation
#: from the deals may differ from the journaled balance by the spread's share of gross.
DEAL_TOLERANCE = 0.002


def config_file(tmp_path: Path, space: str, windows: str) -> Path:
    path = tmp_path / f"{space}.toml"
    path.write_text(f'[defaults]\n{windows}space = "{space}"\n{CLUSTERS}')
    return path


def backtest(tmp_path: Path, data: Path, space: str, windows: str = SMALL):
    config = load_engine_config(config_file(tmp_path, space, windows))
    journal = tmp_path / f"{space}.sqlite"
    result = run_backtest(BacktestSpec(config=config, source="files", paths=(data,)), journal)
    with SqliteJournal.open_reader(journal) as j:
        baskets = [b for b in j.basket_history(HistoryFilter())]
        deals = {b.basket_id: j.deals_for_basket(b.basket_id) for b in baskets}
    return result, baskets, deals


def usd_from_deals(deals) -> tuple[float, float]:
    """(net USD, gross) of a basket's entry deals, valued at their fill prices."""
    net = gross = 0.0
    for deal in deals:
        if deal.entry != 0:  # DEAL_ENTRY_IN only
            continue
        base, quote = currencies_of(deal.symbol)
        contract = 100.0 if base == "XAU" else 100_000.0
        units = (1 if deal.type == 0 else -1) * deal.volume * contract
        notional = units * (1.0 if base == "USD" else deal.price)
        gross += abs(notional)
        net += notional if base == "USD" else -notional if quote == "USD" else 0.0
    return net, gross


def test_currency_space_baskets_are_flat_in_usd_on_real_2019_data(tmp_path):
    # Arrange / Act
    result, baskets, deals = backtest(tmp_path, TEST_DATA / "histdata", "currency")
    # Assert: every basket within the rounding limit, by the journal and by its deals
    assert len(baskets) == 29
    shares = []
    for b in baskets:
        balance = b.opening.balance
        assert (balance.space, balance.numeraire) == ("currency", "USD")
        assert abs(balance.share) <= MAX_ROUNDING_IMBALANCE
        legs = {leg.symbol: leg.exposure for leg in b.opening.legs}
        assert balance.gross == pytest.approx(sum(abs(v) for v in legs.values()))
        net, gross = usd_from_deals(deals[b.basket_id])
        assert net / gross == pytest.approx(balance.share, abs=DEAL_TOLERANCE)
        shares.append(abs(balance.share))
    assert max(shares) == pytest.approx(0.0058, abs=5e-5)
    assert sum(shares) / len(shares) == pytest.approx(0.0025, abs=5e-5)
    # trades.csv carries the same figures (money in cents, shares to 10 significant digits)
    path = write_trades_csv(result.trades, tmp_path / "trades.csv")
    rows = {r["basket_id"]: r for r in csv.DictReader(path.open())}
    for b in baskets:
        row = rows[b.basket_id]
        assert row["numeraire"] == "USD"
        assert float(row["net_numeraire_exposure"]) == pytest.approx(b.opening.balance.net,
                                                                       abs=0.005)
        assert float(row["net_numeraire_share"]) == pytest.approx(b.opening.balance.share,
                                                                     rel=1e-9)


def test_symbol_space_baskets_keep_the_dollar_and_report_it(tmp_path):
    _, baskets, deals = backtest(tmp_path, TEST_DATA / "histdata", "symbol")
    shares = sorted(abs(b.opening.balance.share) for b in baskets)
    assert len(baskets) == 24
    assert all(b.opening.balance.space == "symbol" for b in baskets)
    assert sum(shares) / len(shares) == pytest.approx(0.638, abs=5e-4)
    assert shares[len(shares) // 2] > 0.5
    for b in baskets:
        net, gross = usd_from_deals(deals[b.basket_id])
        assert net / gross == pytest.approx(b.opening.balance.share, abs=DEAL_TOLERANCE)


@pytest.mark.slow
def test_currency_space_is_flat_in_usd_over_the_full_2019_year(shared_data, tmp_path):
    # the default windows: what the shipped clusters trade
    _, baskets, _ = backtest(tmp_path, shared_data / "fx_m1", "currency", windows="")
    shares = [abs(b.opening.balance.share) for b in baskets]
    assert len(baskets) > 100
    assert max(shares) <= MAX_ROUNDING_IMBALANCE
