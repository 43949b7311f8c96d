"""The returns' basis, worked by hand: FX trading days (sqrt 252) against calendar days
(sqrt 365), on a week with a Friday, a weekend and a Monday whose move began on Sunday
evening; and the costs split into commission, swap and spread cost."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import NormalDist

import pandas as pd
import pytest

from engine.metrics import (
    ClosedBasket,
    MetricsConfig,
    basis_marks,
    basket_metrics,
    compute_metrics,
    daily_returns,
    trading_day_keys,
)

NORMAL = NormalDist()

#: Start capital 100, then the end-of-UTC-day marks of Thursday 2024-01-04 .. Monday 01-08.
#: The market is shut on Saturday; the Sunday-evening open lifts equity to 103.95.
WEEK = pd.Series(
    [110.0, 99.0, 99.0, 103.95, 108.9],
    index=pd.date_range("2024-01-04", periods=5, freq="D", tz="UTC"),
)


def test_trading_days_keep_monday_to_friday_and_the_weekend_belongs_to_monday():
    # Act
    keys = trading_day_keys(pd.DatetimeIndex(WEEK.index))
    marks = basis_marks(WEEK, "trading")

    # Assert: Saturday (+2) and Sunday (+1) belong to Monday; Monday's own mark is the last
    assert [k.date().isoformat() for k in keys] == [
        "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-08", "2024-01-08"]
    assert marks.to_dict() == {
        pd.Timestamp("2024-01-04", tz="UTC"): 110.0,
        pd.Timestamp("2024-01-05", tz="UTC"): 99.0,
        pd.Timestamp("2024-01-08", tz="UTC"): 108.9,
    }


def test_daily_returns_on_both_bases_hand_worked():
    # Act
    trading = daily_returns(WEEK, 100.0, "trading")
    calendar = daily_returns(WEEK, 100.0, "calendar")

    # Assert: Monday's return runs from Friday's close and includes the Sunday evening
    assert trading.to_numpy() == pytest.approx([0.10, -0.10, 0.10], abs=1e-12)
    assert calendar.to_numpy() == pytest.approx(
        [0.10, -0.10, 0.0, 0.05, 108.9 / 103.95 - 1.0], abs=1e-12)


def test_sharpe_and_psr_on_fx_trading_days_hand_worked():
    # Act
    report = compute_metrics(WEEK, 100.0)

    # Assert: r = (0.1, -0.1, 0.1): mean 1/30, std 0.11547 = 1/sqrt(75), per-day Sharpe
    # 1/sqrt(12), annualised sqrt(252/12) = sqrt(21); skew -1/sqrt(2), raw kurtosis 1.5
    assert report.config.periods_per_year == 252
    assert report.returns.observations == 3
    assert report.returns.sharpe == pytest.approx(math.sqrt(21.0), rel=1e-12)
    assert report.returns.annualised_volatility == pytest.approx(
        math.sqrt(252.0 / 75.0), rel=1e-12)
    sig = report.significance
    assert sig.observations == 3
    assert sig.sharpe_per_period == pytest.approx(1.0 / math.sqrt(12.0), rel=1e-12)
    assert sig.skewness == pytest.approx(-1.0 / math.sqrt(2.0), rel=1e-12)
    assert sig.kurtosis == pytest.approx(1.5, rel=1e-12)
    # PSR(0) = Phi(SR sqrt(T-1) / sqrt(1 - g3 SR + (g4-1)/4 SR^2))
    sr = 1.0 / math.sqrt(12.0)
    z = sr * math.sqrt(2.0) / math.sqrt(1.0 + sr / math.sqrt(2.0) + 0.125 * sr * sr)
    assert sig.psr == pytest.approx(NORMAL.cdf(z), rel=1e-12)
    assert sig.psr == pytest.approx(0.6444728, abs=1e-7)
    assert sig.dsr == pytest.approx(sig.psr, rel=1e-15)  # one trial: nothing to deflate


def test_sharpe_and_psr_on_calendar_days_hand_worked():
    # Act
    report = compute_metrics(WEEK, 100.0, config=MetricsConfig(basis="calendar"))

    # Assert: five observations (the weekend's two among them), annualised by sqrt(365)
    assert report.config.periods_per_year == 365
    assert report.returns.observations == 5
    assert report.returns.sharpe == pytest.approx(4.9338613177, abs=1e-9)
    assert report.returns.annualised_volatility == pytest.approx(1.4443434903, abs=1e-9)
    assert report.significance.observations == 5
    assert report.significance.sharpe_per_period == pytest.approx(0.2582501044, abs=1e-9)
    assert report.significance.skewness == pytest.approx(-0.7395581583, abs=1e-9)
    assert report.significance.kurtosis == pytest.approx(2.3692731406, abs=1e-9)
    assert report.significance.psr == pytest.approx(0.6803958341, abs=1e-9)


def test_the_period_total_return_and_drawdown_use_every_mark_on_either_basis():
    # Act
    trading = compute_metrics(WEEK, 100.0).returns
    calendar = compute_metrics(WEEK, 100.0, config=MetricsConfig(basis="calendar")).returns

    # Assert
    for returns in (trading, calendar):
        assert returns.calendar_days == 5
        assert returns.total_return == pytest.approx(0.089, abs=1e-12)
        assert returns.max_drawdown == pytest.approx(0.10, abs=1e-12)  # 110 -> 99


def test_a_run_ending_on_a_sunday_counts_that_mark_as_mondays():
    # Arrange: Friday 99, Saturday 99, Sunday 103.95 (the last mark)
    equity = WEEK.iloc[:4]

    # Act
    returns = daily_returns(equity, 100.0, "trading")
    report = compute_metrics(equity, 100.0)

    # Assert: no P&L is lost, and the product of the returns is the total return
    assert list(returns.index.day_of_week) == [3, 4, 0]
    assert returns.iloc[-1] == pytest.approx(0.05, abs=1e-12)
    assert math.prod(1.0 + returns) - 1.0 == pytest.approx(
        report.returns.total_return, abs=1e-12)


def test_cluster_figures_use_the_same_days():
    # Arrange: a basket closed on Saturday lands on Monday in the trading basis
    saturday = datetime(2024, 1, 6, 12, tzinfo=UTC)
    baskets = [
        ClosedBasket("A", "LONG", datetime(2024, 1, 4, 1, tzinfo=UTC),
                     datetime(2024, 1, 4, 2, tzinfo=UTC), "MR", 10.0, 0.0),
        ClosedBasket("A", "LONG", datetime(2024, 1, 5, 1, tzinfo=UTC), saturday, "MR", -1.0,
                     0.0),
    ]

    # Act
    trading = compute_metrics(WEEK, 100.0, baskets).clusters["A"]
    calendar = compute_metrics(WEEK, 100.0, baskets,
                               config=MetricsConfig(basis="calendar")).clusters["A"]

    # Assert: daily P&L (10, 0, -1) on 3 trading days; (10, 0, -1, 0, 0) on 5 calendar days
    trading_returns = pd.Series([0.10, 0.0, -0.01])
    calendar_returns = pd.Series([0.10, 0.0, -0.01, 0.0, 0.0])
    assert trading.sharpe == pytest.approx(
        trading_returns.mean() / trading_returns.std() * math.sqrt(252), rel=1e-12)
    assert calendar.sharpe == pytest.approx(
        calendar_returns.mean() / calendar_returns.std() * math.sqrt(365), rel=1e-12)


def test_the_basis_is_stated_beside_the_figures():
    exported = compute_metrics(WEEK, 100.0, config=MetricsConfig(basis="calendar")).to_dict()

    assert exported["basis"]["label"] == "daily, calendar days, sqrt 365"
    assert exported["config"]["basis"] == "calendar"
    for section, key in (("returns", "sharpe"), ("returns", "annualised_volatility"),
                         ("significance", "psr"), ("significance", "observations")):
        assert "calendar days" in exported[section][f"{key}_basis"], (section, key)


def test_costs_split_into_commission_swap_and_spread():
    # Arrange
    opened, closed = datetime(2024, 1, 4, 1, tzinfo=UTC), datetime(2024, 1, 4, 5, tzinfo=UTC)
    baskets = [
        ClosedBasket("A", "LONG", opened, closed, "MR", 50.0, -7.5, commission=-7.0, swap=-0.5,
                     spread_cost=-4.25),
        ClosedBasket("A", "SHORT", opened, closed, "HS", -30.0, -2.0, commission=-3.5,
                     swap=1.5, spread_cost=-2.0),
    ]

    # Act
    stats = basket_metrics(baskets)

    # Assert
    assert stats.commission == pytest.approx(-10.5)
    assert stats.swap == pytest.approx(1.0)
    assert stats.spread_cost == pytest.approx(-6.25)
    assert stats.booked_costs == pytest.approx(-9.5)
    assert stats.total_costs == pytest.approx(-15.75)  # commission + swap + spread cost
    assert not [key for key in stats.notes if "cost" in key or key in ("commission", "swap")]


def test_a_split_that_does_not_add_up_to_the_costs_is_refused():
    at = datetime(2024, 1, 4, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not its costs"):
        ClosedBasket("A", "LONG", at, at, "MR", 1.0, -7.0, commission=-7.0, swap=-1.0)
