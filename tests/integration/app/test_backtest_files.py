"""Every figure of a backtest survives recomputation from its own files, with plain pandas:
the Sharpe and PSR from equity.csv on the stated basis, each basket's P&L and costs from
legs.csv, each leg's spread cost and profit from its own columns (crosses included); and
trades.csv reads in cents."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from statistics import NormalDist

import pandas as pd
import pytest
from helpers.paths import TEST_DATA

from main import main

SMALL = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
"""


def backtest(tmp_path_factory, basis: str):
    """The report folder; the command's printed lines are kept in ``stdout.txt`` beside it."""
    folder = tmp_path_factory.mktemp(f"files-{basis}")
    (folder / "small.toml").write_text(SMALL)
    report = folder / "report"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                     str(folder / "small.toml"), "--metrics-basis", basis,
                     "--report", str(report)])
    assert code == 0
    (folder / "stdout.txt").write_text(printed.getvalue())
    return report


@pytest.fixture(scope="module")
def trading(tmp_path_factory):
    return backtest(tmp_path_factory, "trading")


@pytest.fixture(scope="module")
def calendar(tmp_path_factory):
    return backtest(tmp_path_factory, "calendar")


def plain_returns(report, basis: str) -> pd.Series:
    """Daily returns from equity.csv as metrics.json's basis says: trading = the rows dated
    Monday to Friday (a weekend row only when it is the last: it stands for Monday)."""
    equity = pd.read_csv(report / "equity.csv", parse_dates=["date"])
    start = json.loads((report / "metrics.json").read_text())["returns"]["start_capital"]
    if basis == "trading":
        last = equity.index == equity.index[-1]
        equity = equity[(equity["date"].dt.day_of_week < 5) | last]
    values = equity["equity"].to_numpy()
    previous = [start, *values[:-1]]
    return pd.Series(values / previous - 1.0)


@pytest.mark.parametrize(("basis", "periods"), [("trading", 252), ("calendar", 365)])
def test_sharpe_and_psr_recomputed_from_equity_csv(request, basis, periods):
    # Arrange
    report = request.getfixturevalue(basis)
    metrics = json.loads((report / "metrics.json").read_text())

    # Act: plain pandas, nothing of the product
    r = plain_returns(report, basis)
    sharpe = r.mean() / r.std(ddof=1)
    d = r - r.mean()
    skew = (d**3).mean() / (d**2).mean() ** 1.5
    kurt = (d**4).mean() / (d**2).mean() ** 2
    psr = NormalDist().cdf(sharpe * math.sqrt(len(r) - 1)
                           / math.sqrt(1 - skew * sharpe + (kurt - 1) / 4 * sharpe**2))

    # Assert
    assert metrics["basis"]["name"] == basis
    assert metrics["basis"]["periods_per_year"] == periods
    assert metrics["returns"]["observations"] == metrics["significance"]["observations"] == len(r)
    assert metrics["returns"]["sharpe"] == pytest.approx(sharpe * math.sqrt(periods), abs=1e-9)
    assert metrics["returns"]["annualised_volatility"] == pytest.approx(
        r.std(ddof=1) * math.sqrt(periods), abs=1e-9)
    assert metrics["significance"]["psr"] == pytest.approx(psr, abs=1e-9)


def test_the_trading_basis_drops_the_weekend_rows(trading, calendar):
    days = pd.read_csv(trading / "equity.csv", parse_dates=["date"])["date"]
    weekend = int((days.dt.day_of_week >= 5).sum())
    t = json.loads((trading / "metrics.json").read_text())
    c = json.loads((calendar / "metrics.json").read_text())

    assert weekend > 0  # the slice spans weekends: the two bases differ
    assert c["returns"]["observations"] == len(days)
    assert t["returns"]["observations"] == len(days) - weekend + (days.iloc[-1].day_of_week >= 5)
    assert t["returns"]["total_return"] == c["returns"]["total_return"]


def test_each_basket_is_the_sum_of_its_legs_to_the_cent(trading):
    # Arrange
    trades = pd.read_csv(trading / "trades.csv")
    legs = pd.read_csv(trading / "legs.csv")
    metrics = json.loads((trading / "metrics.json").read_text())
    closed = trades.dropna(subset=["exit_time"]).set_index("basket_id")

    # Act
    sums = legs.groupby("basket_id")[["pnl", "commission", "swap", "spread_cost"]].sum()

    # Assert
    assert len(closed) > 3 and set(sums.index) == set(closed.index)
    for column in ("pnl", "commission", "swap", "spread_cost"):
        assert (sums[column] - closed[column]).abs().max() < 0.005, column
    assert ((closed["commission"] + closed["swap"]) - closed["costs"]).abs().max() < 0.005
    assert ((closed["costs"] + closed["spread_cost"]) - closed["total_costs"]).abs().max() < 0.005
    baskets = metrics["baskets"]
    for key, column in (("commission", "commission"), ("swap", "swap"),
                        ("spread_cost", "spread_cost"), ("total_costs", "total_costs")):
        assert baskets[key] == pytest.approx(closed[column].sum(), abs=0.005), key
    assert baskets["spread_cost"] < 0  # crossing the spread costs money


def test_each_leg_spread_cost_from_its_own_columns(trading):
    legs = pd.read_csv(trading / "legs.csv")
    sign = legs["side"].map({"BUY": 1, "SELL": -1})
    size = legs["lots"] * legs["contract_size"]

    paid_in = sign * (legs["open_price"] - legs["open_mid"]) * legs["open_quote_value"]
    paid_out = -sign * (legs["close_price"] - legs["close_mid"]) * legs["close_quote_value"]
    recomputed = -(paid_in + paid_out) * size

    assert (recomputed - legs["spread_cost"]).abs().max() < 0.006
    # the fixed spread of the replayed bars: half of it on each side of each fill
    assert (legs["open_price"] != legs["open_mid"]).all()


def test_each_leg_profit_from_its_own_columns(trading):
    # The profit is booked in the quote currency and converted as MT5 does: a USD-quoted
    # leg as it is; a USD-base leg at the closing quote of its own symbol, the ask for a
    # gain and the bid for a loss (the side that gives the account less), the other side
    # of the quote being 2 x mid - the fill.
    legs = pd.read_csv(trading / "legs.csv")
    sign = legs["side"].map({"BUY": 1, "SELL": -1})
    move = sign * (legs["close_price"] - legs["open_price"]) * legs["lots"] * \
        legs["contract_size"]
    other = 2 * legs["close_mid"] - legs["close_price"]
    bid, ask = legs["close_price"].clip(upper=other), legs["close_price"].clip(lower=other)
    usd_base = legs["symbol"].str.startswith("USD")
    usd_quoted = legs["symbol"].str.endswith("USD")
    recomputed = move.where(usd_quoted, move / bid.where(move < 0, ask))

    checked = usd_quoted | usd_base
    assert usd_base.any() and usd_quoted.any() and checked.all()
    assert (recomputed[checked].round(2) - legs["profit"][checked]).abs().max() < 0.006
    # the rate the row states is that rule's: 1, or 1 / the closing ask (bid) of its symbol
    rule = (1.0 / bid.where(move < 0, ask)).where(usd_base, 1.0)
    assert ((legs["close_profit_rate"] - rule).abs() <= 1e-9 * rule).all()


@pytest.fixture(scope="module")
def crosses(tmp_path_factory):
    """Three weeks of the demo market's cross clusters (EURGBP, EURJPY, GBPCHF, AUDJPY...)."""
    report = tmp_path_factory.mktemp("crosses") / "report"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["backtest", "--market", "synthetic", "--seed", "7", "--from", "2024-01-08",
                     "--to", "2024-01-27", "--clusters", "EUR_CROSSES,JPY_CROSSES,GBP_BLOC",
                     "--report", str(report)])
    assert code == 0
    return report


def test_each_cross_leg_profit_from_its_own_row_to_the_cent(crosses):
    # Arrange: a cross's profit is in a currency that is not the account's nor its symbol's
    # other side (EURGBP's in GBP, converted at GBPUSD): its row states the rate it was
    # booked at, the linking quote's bid for a gain and its ask for a loss
    legs = pd.read_csv(crosses / "legs.csv")
    sign = legs["side"].map({"BUY": 1, "SELL": -1})
    move = sign * (legs["close_price"] - legs["open_price"]) * legs["lots"] * \
        legs["contract_size"]

    # Act
    recomputed = (move * legs["close_profit_rate"]).round(2)
    at_mid = (move * legs["close_quote_value"]).round(2)

    # Assert
    cross = ~legs["symbol"].str.contains("USD")
    assert cross.sum() >= 20 and legs["close_profit_rate"].notna().all()
    assert (recomputed - legs["profit"]).abs().max() < 0.006
    # the mid's value, what the spread cost is valued at, does not give the booked profit
    assert (at_mid[cross] - legs["profit"][cross]).abs().max() >= 0.01


def test_trades_csv_numbers_read_in_cents(trading):
    text = (trading / "trades.csv").read_text()
    header, *rows = text.splitlines()
    columns = header.split(",")
    money = [columns.index(c) for c in ("pnl", "costs", "commission", "swap", "spread_cost",
                                        "total_costs")]
    tdi = [columns.index(c) for c in ("entry_tdi", "exit_tdi")]
    for row in rows:
        cells = row.split(",")
        for i in money:
            assert re.fullmatch(r"-?\d+(\.\d{1,2})?", cells[i]), (columns[i], cells[i])
        for i in tdi:
            assert re.fullmatch(r"-?\d+(\.\d{1,4})?", cells[i]), (columns[i], cells[i])


@pytest.mark.parametrize(("basis", "label"), [("trading", "daily, 5-day FX weeks, sqrt 252"),
                                               ("calendar", "daily, calendar days, sqrt 365")])
def test_the_summary_line_states_the_basis(request, basis, label):
    report = request.getfixturevalue(basis)
    out = (report.parent / "stdout.txt").read_text()
    sharpe = json.loads((report / "metrics.json").read_text())["returns"]["sharpe"]

    assert f"Sharpe {sharpe:.2f} ({label}" in out, out  # and a note of few returns


def test_the_report_states_the_basis_and_the_costs_split(trading):
    page = (trading / "report.html").read_text()

    assert "Returns basis: daily, 5-day FX weeks, sqrt 252" in page
    assert "annualised (daily, 5-day FX weeks, sqrt 252)" in page  # the Sharpe card
    for key in ("commission", "swap", "spread_cost", "booked_costs", "total_costs"):
        assert f'data-metric="{key}"' in page, key
    assert 'title="click to sort">Spread</th>' in page


def test_a_basket_open_at_the_end_is_a_trade_without_exit_counted_apart(tmp_path):
    # Arrange: the run stops at 11:00 on 2019-10-25, while the basket opened at 10:00 is open
    (tmp_path / "small.toml").write_text(SMALL)
    report = tmp_path / "report"
    printed = io.StringIO()

    # Act
    with contextlib.redirect_stdout(printed):
        code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                     str(tmp_path / "small.toml"), "--to", "2019-10-25T11:00",
                     "--report", str(report)])

    # Assert: trades.csv lists it with no exit and no P&L; the metrics count it apart from
    # the closed baskets, and the summary line says so
    assert code == 0
    trades = pd.read_csv(report / "trades.csv")
    still_open = trades[trades["exit_time"].isna()]
    assert still_open["basket_id"].tolist() == ["USD_MAJORS-20191025T1000-001"]
    assert still_open[["exit_code", "pnl", "costs"]].isna().all().all()
    baskets = json.loads((report / "metrics.json").read_text())["baskets"]
    assert (baskets["baskets"], baskets["open_baskets"]) == (2, 1)
    assert baskets["net_pnl"] == pytest.approx(trades["pnl"].sum(), abs=0.005)
    assert "3 baskets (MR 2; 1 still open)" in printed.getvalue()
