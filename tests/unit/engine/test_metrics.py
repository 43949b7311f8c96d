"""Performance metrics: hand-worked cases, independent numpy formulas and published examples."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import DataError
from engine.metrics import (
    ClosedBasket,
    MetricsConfig,
    MetricsInputError,
    annualised_volatility,
    basis_definition,
    basket_metrics,
    cagr,
    closed_basket_from_record,
    cluster_correlation,
    cluster_daily_pnl,
    compute_metrics,
    daily_returns,
    deflated_sharpe_ratio,
    diversification_ratio,
    expected_max_sharpe,
    exposure_share,
    max_drawdown,
    mean_return_z_test,
    probabilistic_sharpe_ratio,
    sharpe_estimator_variance,
    sharpe_ratio,
    sortino_ratio,
)
from engine.model import Direction, ExitCode
from engine.records import BasketClose, BasketOpen, BasketRecord

NORMAL = NormalDist()
JAN1 = datetime(2024, 1, 1, tzinfo=UTC)


def daily(values: list[float], first: str = "2024-01-01") -> pd.Series:
    """Equity marks on consecutive calendar days starting at ``first``."""
    return pd.Series(values, index=pd.date_range(first, periods=len(values), freq="D"))


def at(hours: float) -> datetime:
    return JAN1 + timedelta(hours=hours)


def basket(
    pnl: float,
    opened: float = 0.0,
    closed: float = 1.0,
    cluster: str = "C1",
    code: str = "MR",
    costs: float = 0.0,
) -> ClosedBasket:
    """A basket opened and closed ``opened``/``closed`` hours after 2024-01-01 00:00 UTC."""
    return ClosedBasket(cluster, "LONG", at(opened), at(closed), code, pnl, costs)


def seeded_returns(count: int = 500, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_t(df=5, size=count) * 0.004 + 0.0004


def equity_from(returns: np.ndarray, start: float = 100_000.0) -> pd.Series:
    """Marks on consecutive weekdays from Monday 2022-01-03: every one a trading day."""
    values = start * np.cumprod(1.0 + returns)
    return pd.Series(values, index=pd.bdate_range("2022-01-03", periods=len(values)))


def iter_leaves(value: object, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from iter_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from iter_leaves(item, f"{path}[{position}]")
    else:
        yield path, value


# --------------------------------------------------------------------------- returns


def test_daily_returns_start_from_the_start_capital():
    # Arrange: start 100 -> 110 -> 99 -> 108.9
    equity = daily([110.0, 99.0, 108.9])

    # Act
    returns = daily_returns(equity, 100.0)

    # Assert: 110/100-1 = 0.10, 99/110-1 = -0.10, 108.9/99-1 = 0.10
    assert returns.to_numpy() == pytest.approx([0.10, -0.10, 0.10], abs=1e-12)
    assert list(returns.index.date) == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]


def test_total_return_and_cagr_use_calendar_days_over_365_25():
    # Arrange: 2020-01-01 .. 2023-12-31; the span starts the day before the first date,
    # 2019-12-31, so it is 1461 calendar days = exactly 4.0 years of 365.25 days.
    equity = pd.Series([100.0, 146.41], index=pd.to_datetime(["2020-01-01", "2023-12-31"]))

    # Act
    report = compute_metrics(equity, 100.0)

    # Assert: total = 146.41/100 - 1 = 0.4641; CAGR = 1.4641^(1/4) - 1 = 1.1 - 1 = 0.10
    assert report.returns.calendar_days == 1461
    assert report.returns.years == pytest.approx(4.0, abs=1e-15)
    assert report.returns.total_return == pytest.approx(0.4641, abs=1e-12)
    assert report.returns.cagr == pytest.approx(0.10, abs=1e-12)


def test_cagr_of_a_leap_year():
    # Arrange: 2023-12-31 .. 2024-12-31 = 366 days = 1.0020534 years; growth 1.10
    equity = pd.Series([105.0, 110.0], index=pd.to_datetime(["2024-01-01", "2024-12-31"]))

    # Act
    growth_rate = cagr(equity, 100.0)

    # Assert: exp(ln 1.1 / 1.0020534) - 1 = exp(0.0953102 / 1.0020534) - 1 = 0.0997852
    assert growth_rate == pytest.approx(0.0997852, abs=1e-7)
    assert growth_rate == pytest.approx(1.1 ** (365.25 / 366) - 1.0, rel=1e-12)


def test_volatility_and_sharpe_hand_worked():
    # Arrange: r = [0.1, -0.1, 0.1]: mean = 0.1/3 = 0.0333333
    # deviations 0.0666667, -0.1333333, 0.0666667; squares sum 0.0266667; /2 = 0.0133333
    # std = 0.1154701; per-period Sharpe = 0.0333333/0.1154701 = 1/(2 sqrt 3) = 0.2886751
    returns = [0.1, -0.1, 0.1]

    # Act
    volatility = annualised_volatility(returns)
    sharpe = sharpe_ratio(returns)

    # Assert: vol = 0.1154701 * sqrt(252) = 1.8330303; Sharpe = sqrt(252)/(2 sqrt 3) = sqrt(21)
    assert volatility == pytest.approx(1.8330303, abs=1e-7)
    assert sharpe == pytest.approx(math.sqrt(21.0), rel=1e-12)


def test_sharpe_matches_numpy_and_subtracts_the_per_period_risk_free_rate():
    # Arrange
    returns = seeded_returns()
    risk_free = 0.0252  # annual; 0.0252 / 252 = 0.0001 per day

    # Act
    sharpe = sharpe_ratio(returns, periods_per_year=252, risk_free_rate=risk_free)

    # Assert
    expected = (returns.mean() - 0.0001) / np.std(returns, ddof=1) * np.sqrt(252)
    assert sharpe == pytest.approx(expected, rel=1e-12)
    assert sharpe_ratio(returns, periods_per_year=365) == pytest.approx(
        returns.mean() / np.std(returns, ddof=1) * np.sqrt(365), rel=1e-12
    )


def test_sortino_downside_deviation_is_over_all_observations():
    # Arrange: r = [0.02, -0.01, 0.03, -0.02]; mean = 0.02/4 = 0.005
    # min(r, 0)^2 = [0, 1e-4, 0, 4e-4]; mean over ALL 4 = 1.25e-4; DD = 0.0111803
    # per-period Sortino = 0.005/0.0111803 = 1/sqrt(5) = 0.4472136
    # (over the 2 losses only DD would be sqrt(2.5e-4) = 0.0158114: a different number)
    returns = [0.02, -0.01, 0.03, -0.02]

    # Act
    sortino = sortino_ratio(returns)

    # Assert: 0.4472136 * sqrt(252) = sqrt(252/5) = 7.0992957
    assert sortino == pytest.approx(math.sqrt(252.0 / 5.0), rel=1e-12)
    assert sortino != pytest.approx(0.005 / math.sqrt(2.5e-4) * math.sqrt(252.0), rel=1e-3)


def test_sortino_with_a_target_matches_numpy():
    # Arrange
    returns = seeded_returns()
    target = 0.0252  # annual -> 0.0001 per day

    # Act
    sortino = sortino_ratio(returns, target_return=target)

    # Assert
    shortfall = np.minimum(returns - 0.0001, 0.0)
    expected = (returns.mean() - 0.0001) / np.sqrt(np.mean(shortfall**2)) * np.sqrt(252)
    assert sortino == pytest.approx(expected, rel=1e-12)


def test_report_return_figures_match_the_independent_formulas():
    # Arrange
    returns = seeded_returns()
    equity = equity_from(returns)

    # Act
    report = compute_metrics(equity, 100_000.0)

    # Assert
    std = np.std(returns, ddof=1)
    assert report.returns.observations == 500
    assert report.returns.mean_daily_return == pytest.approx(returns.mean(), rel=1e-9)
    assert report.returns.annualised_volatility == pytest.approx(std * np.sqrt(252), rel=1e-9)
    assert report.returns.sharpe == pytest.approx(returns.mean() / std * np.sqrt(252), rel=1e-9)
    assert report.returns.total_return == pytest.approx(np.prod(1 + returns) - 1, rel=1e-9)


# --------------------------------------------------------------------------- drawdown


def test_max_drawdown_counts_the_start_capital_as_a_peak():
    # Arrange: a run that only falls from the start: 100 -> 95 -> 90 -> 92
    equity = daily([95.0, 90.0, 92.0])

    # Act
    drawdown = max_drawdown(equity, 100.0)

    # Assert: 1 - 90/100 = 0.10, peak = the start (2023-12-31, the day before the first date)
    assert drawdown.depth == pytest.approx(0.10, abs=1e-12)
    assert drawdown.peak_date == date(2023, 12, 31)
    assert drawdown.trough_date == date(2024, 1, 2)
    assert drawdown.recovery_date is None
    assert not drawdown.recovered
    assert drawdown.decline_days == 2  # 12-31 -> 01-02
    assert drawdown.duration_days == 3  # 12-31 -> 01-03, the last date: not recovered
    assert drawdown.longest_days == 3


def test_max_drawdown_takes_the_deepest_of_several():
    # Arrange: 100 -> 110 -> 99 -> 121 -> 100
    # falls: 1 - 99/110 = 0.10; 1 - 100/121 = 0.1735537
    equity = daily([110.0, 99.0, 121.0, 100.0])

    # Act
    drawdown = max_drawdown(equity, 100.0)

    # Assert
    assert drawdown.depth == pytest.approx(21.0 / 121.0, rel=1e-12)
    assert drawdown.peak_date == date(2024, 1, 3)
    assert drawdown.trough_date == date(2024, 1, 4)


def test_max_drawdown_recovery_and_durations():
    # Arrange: 100 -> 110 (peak, 01-01) -> 99 (trough, 01-02) -> 105 -> 110 (back, 01-04) -> 111
    equity = daily([110.0, 99.0, 105.0, 110.0, 111.0])

    # Act
    drawdown = max_drawdown(equity, 100.0)

    # Assert: depth 1 - 99/110 = 0.10; decline 1 day, peak to recovery 3 days
    assert drawdown.depth == pytest.approx(0.10, abs=1e-12)
    assert drawdown.peak_date == date(2024, 1, 1)
    assert drawdown.recovery_date == date(2024, 1, 4)
    assert drawdown.recovered
    assert (drawdown.decline_days, drawdown.duration_days, drawdown.longest_days) == (1, 3, 3)


def test_longest_drawdown_can_be_a_shallower_one():
    # Arrange: deep 1-day dip (100 -> 80 -> 100), then a shallow 4-day one from 101
    equity = daily([80.0, 100.0, 101.0, 100.5, 100.5, 100.5, 100.8, 102.0])

    # Act
    drawdown = max_drawdown(equity, 100.0)

    # Assert: deepest 0.20 (12-31 -> 01-02), longest 01-03 -> 01-08 = 5 days
    assert drawdown.depth == pytest.approx(0.20, abs=1e-12)
    assert drawdown.duration_days == 2
    assert drawdown.longest_days == 5


def test_no_drawdown_when_equity_never_falls():
    drawdown = max_drawdown(daily([100.0, 101.0, 101.0, 102.0]), 100.0)

    assert drawdown.depth == 0.0
    assert drawdown.peak_date is None and drawdown.trough_date is None
    assert drawdown.recovered and drawdown.longest_days == 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(min_value=-0.2, max_value=0.2), min_size=1, max_size=40),
)
def test_max_drawdown_equals_the_brute_force_definition(steps: list[float]):
    # Arrange
    values = 100.0 * np.cumprod(1.0 + np.array(steps))
    marks = [100.0, *values]

    # Act
    drawdown = max_drawdown(daily(list(values)), 100.0)

    # Assert: max over i <= j of 1 - E_j / E_i, E_0 = start capital included
    brute = max(1.0 - marks[j] / marks[i] for j in range(len(marks)) for i in range(j + 1))
    assert drawdown.depth == pytest.approx(brute, abs=1e-12)
    assert 0.0 <= drawdown.depth < 1.0


def test_calmar_is_cagr_over_max_drawdown():
    # Arrange: 2020-01-01 .. 2023-12-31 (4.0 years), a 20% dip, ending at 146.41
    index = pd.to_datetime(["2020-01-01", "2021-06-01", "2023-12-31"])
    equity = pd.Series([125.0, 100.0, 146.41], index=index)

    # Act
    report = compute_metrics(equity, 100.0)

    # Assert: CAGR 0.10, drawdown 1 - 100/125 = 0.20, Calmar = 0.10/0.20 = 0.5
    assert report.returns.max_drawdown == pytest.approx(0.20, abs=1e-12)
    assert report.returns.calmar == pytest.approx(0.5, abs=1e-12)


# --------------------------------------------------------------------------- significance


def test_psr_hand_worked_normal_returns():
    # Arrange: SR = 0.1 per day, T = 101, g3 = 0, g4 = 3 (normal)
    # denominator sqrt(1 - 0 + (3-1)/4 * 0.01) = sqrt(1.005) = 1.0024969
    # z = 0.1 * sqrt(100) / 1.0024969 = 0.9975093; Phi(0.9975093) = 0.84074
    # Act
    psr = probabilistic_sharpe_ratio(0.1, 101, 0.0, 3.0)

    # Assert
    assert psr == pytest.approx(0.84074, abs=1e-5)
    assert psr == pytest.approx(NORMAL.cdf(0.9975093), abs=1e-7)


def test_psr_hand_worked_with_negative_skew_and_fat_tails():
    # Arrange: SR = 0.1, T = 251, g3 = -1, g4 = 6
    # 1 - (-1)(0.1) + (6-1)/4 * 0.01 = 1 + 0.1 + 0.0125 = 1.1125; sqrt = 1.0547512
    # z = 0.1 * sqrt(250) / 1.0547512 = 1.5811388 / 1.0547512 = 1.4990634; Phi = 0.93307
    # Act
    psr = probabilistic_sharpe_ratio(0.1, 251, -1.0, 6.0)

    # Assert: the fat left tail costs probability against the normal case
    assert psr == pytest.approx(0.93307, abs=1e-5)
    assert psr < probabilistic_sharpe_ratio(0.1, 251, 0.0, 3.0)


def test_psr_of_a_series_uses_biased_skew_and_raw_kurtosis():
    # Arrange: recover the biased g1 and raw g4 from pandas' bias-corrected estimators
    returns = seeded_returns()
    n = len(returns)
    series = pd.Series(returns)
    g1 = series.skew() * (n - 2) / math.sqrt(n * (n - 1))
    excess = (series.kurt() * (n - 2) * (n - 3) / (n - 1) - 6.0) / (n + 1)
    raw_kurtosis = excess + 3.0
    sr = returns.mean() / np.std(returns, ddof=1)

    # Act
    report = compute_metrics(equity_from(returns), 100_000.0)

    # Assert
    sig = report.significance
    assert sig.skewness == pytest.approx(g1, rel=1e-9)
    assert sig.kurtosis == pytest.approx(raw_kurtosis, rel=1e-9)
    assert sig.kurtosis > 3.0  # Student t with 5 degrees of freedom: fat tails
    z = sr * math.sqrt(n - 1) / math.sqrt(1 - g1 * sr + (raw_kurtosis - 1) / 4 * sr**2)
    assert sig.psr == pytest.approx(NORMAL.cdf(z), rel=1e-9)


def test_psr_against_an_annualised_benchmark():
    # Arrange: SR* = 1.0 annualised = 1/sqrt(252) per day
    returns = seeded_returns()
    config = MetricsConfig(psr_benchmark_sharpe=1.0)

    # Act
    report = compute_metrics(equity_from(returns), 100_000.0, config=config)

    # Assert
    sig = report.significance
    assert sig.psr_benchmark_per_period == pytest.approx(1 / math.sqrt(252), rel=1e-12)
    assert sig.psr == pytest.approx(
        probabilistic_sharpe_ratio(
            sig.sharpe_per_period, 500, sig.skewness, sig.kurtosis, 1 / math.sqrt(252)
        ),
        rel=1e-12,
    )


def test_dsr_reproduces_the_published_numerical_example():
    # Arrange: Bailey & Lopez de Prado (2014), numerical example: N = 100 trials with
    # annualised Sharpe variance 1/2, the best at annualised SR 2.5, T = 1250 daily returns,
    # 250 days a year, skewness -3, kurtosis 10 -> SR0 = 0.1132 and DSR = 0.9004.
    sharpe = 2.5 / math.sqrt(250)  # 0.1581139 per day
    variance = 0.5 / 250  # 0.002 per day

    # Act
    threshold = expected_max_sharpe(100, variance)
    dsr = deflated_sharpe_ratio(sharpe, 1250, -3.0, 10.0, trials=100, sharpe_variance=variance)

    # Assert
    assert threshold == pytest.approx(0.1132, abs=5e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_expected_max_sharpe_hand_worked_and_against_simulation():
    # Arrange: N = 10, V = 1: Z^-1(0.9) = 1.2815516, Z^-1(1 - 1/(10e)) = Z^-1(0.9632121) = 1.7894
    # SR0 = (1 - 0.5772157) * 1.2815516 + 0.5772157 * 1.7894 = 0.54183 + 1.03287 = 1.5746
    rng = np.random.default_rng(20240101)
    simulated_10 = rng.standard_normal((40_000, 10)).max(axis=1).mean()
    simulated_100 = rng.standard_normal((20_000, 100)).max(axis=1).mean()

    # Act
    threshold_10 = expected_max_sharpe(10, 1.0)
    threshold_100 = expected_max_sharpe(100, 1.0)

    # Assert: the formula approximates E[max of N standard normals] (it errs ~2% high)
    assert threshold_10 == pytest.approx(1.5746, abs=5e-4)
    assert threshold_10 == pytest.approx(simulated_10, abs=0.05)
    assert threshold_100 == pytest.approx(simulated_100, abs=0.05)
    assert expected_max_sharpe(10, 4.0) == pytest.approx(2.0 * threshold_10, rel=1e-12)


def test_dsr_with_one_trial_is_psr_of_zero():
    sr, t, g3, g4 = 0.08, 300, -0.4, 4.5

    assert expected_max_sharpe(1, 0.01) == 0.0
    assert deflated_sharpe_ratio(sr, t, g3, g4, trials=1) == pytest.approx(
        probabilistic_sharpe_ratio(sr, t, g3, g4, 0.0), rel=1e-15
    )


def test_dsr_falls_as_trials_grow():
    sr, t, g3, g4 = 0.08, 300, -0.4, 4.5
    variance = sharpe_estimator_variance(sr, t, g3, g4)

    dsrs = [deflated_sharpe_ratio(sr, t, g3, g4, n, variance) for n in (1, 2, 5, 10, 100, 1000)]

    assert all(later < earlier for earlier, later in itertools.pairwise(dsrs))
    # default V = the estimator variance (1 - g3 SR + (g4-1)/4 SR^2)/(T-1)
    assert variance == pytest.approx((1 + 0.4 * 0.08 + 3.5 / 4 * 0.0064) / 299, rel=1e-12)
    assert deflated_sharpe_ratio(sr, t, g3, g4, 10) == pytest.approx(dsrs[3], rel=1e-15)


def test_report_dsr_uses_the_configured_trials():
    returns = seeded_returns()
    equity = equity_from(returns)

    one = compute_metrics(equity, 100_000.0).significance
    many = compute_metrics(
        equity, 100_000.0, config=MetricsConfig(trials=50, trials_sharpe_variance=0.004)
    ).significance

    assert one.dsr == pytest.approx(one.psr, rel=1e-15)
    assert many.expected_max_sharpe == pytest.approx(expected_max_sharpe(50, 0.004), rel=1e-15)
    assert many.dsr < one.dsr


def test_z_test_matches_normal_dist():
    # Arrange
    returns = seeded_returns()
    n = len(returns)

    # Act
    z, p = mean_return_z_test(returns)

    # Assert
    expected_z = returns.mean() / (np.std(returns, ddof=1) / math.sqrt(n))
    assert z == pytest.approx(expected_z, rel=1e-12)
    assert p == pytest.approx(1.0 - NORMAL.cdf(expected_z), rel=1e-9, abs=1e-15)
    assert z == pytest.approx(sharpe_ratio(returns) / math.sqrt(252) * math.sqrt(n), rel=1e-12)


def test_z_test_hand_worked():
    # r = [0.1, -0.1, 0.1]: mean 0.0333333, std 0.1154701, T = 3
    # z = 0.0333333 / (0.1154701 / sqrt 3) = 0.0333333 / 0.0666667 = 0.5; p = 1 - Phi(0.5)
    z, p = mean_return_z_test([0.1, -0.1, 0.1])

    assert z == pytest.approx(0.5, rel=1e-12)
    assert p == pytest.approx(0.3085375, abs=1e-7)


# --------------------------------------------------------------------------- baskets


def test_basket_metrics_hand_worked():
    # Arrange: pnl 30, -10, 20, -5, 0 held 2, 4, 6, 8, 10 hours
    baskets = [
        basket(30.0, 0, 2, code="MR", costs=-1.5),
        basket(-10.0, 0, 4, code="HS", costs=-2.0),
        basket(20.0, 0, 6, code="MR", costs=-1.0),
        basket(-5.0, 0, 8, code="TS", costs=-0.5),
        basket(0.0, 0, 10, code="TO", costs=-1.0),
    ]

    # Act
    stats = basket_metrics(baskets)

    # Assert
    assert stats.baskets == 5 and stats.wins == 2 and stats.losses == 2
    assert stats.gross_profit == 50.0 and stats.gross_loss == 15.0
    assert stats.profit_factor == pytest.approx(50.0 / 15.0, rel=1e-15)  # 3.3333
    assert stats.win_rate == pytest.approx(0.4)  # 2 of 5: the flat basket is no win
    assert stats.net_pnl == 35.0 and stats.average_pnl == 7.0
    assert stats.booked_costs == -6.0  # commission + swap, as the journal books them
    assert math.isnan(stats.total_costs)  # the spread cost of these baskets is not known
    assert "-6.00" in stats.notes["total_costs"]
    assert stats.average_holding_hours == pytest.approx(6.0)  # (2+4+6+8+10)/5
    assert stats.exits_by_code == {
        "MR": 2,
        "OS": 0,
        "TP": 0,
        "HS": 1,
        "TS": 1,
        "TO": 1,
        "NEWS": 0,
        "MANUAL": 0,
        "RISK": 0,
        "EX": 0,
        "DC": 0,
        "DB": 0,
    }
    assert stats.exit_shares["MR"] == pytest.approx(0.4)
    assert stats.exit_shares["HS"] == pytest.approx(0.2)
    assert sum(stats.exit_shares.values()) == pytest.approx(1.0)
    assert stats.exposure == pytest.approx(1.0)  # every basket opens at 0: union = [0, 10h]


def test_all_winners_profit_factor_is_inf_in_memory_and_null_with_a_note_in_json():
    # Arrange
    equity = daily([100.5, 101.0])
    baskets = [basket(30.0, 0, 2), basket(20.0, 3, 5)]

    # Act
    report = compute_metrics(equity, 100.0, baskets)
    exported = report.to_dict()

    # Assert
    assert report.baskets.profit_factor == math.inf
    assert exported["baskets"]["profit_factor"] is None
    assert exported["baskets"]["notes"]["profit_factor"].startswith("+inf: no losing basket")
    json.dumps(exported, allow_nan=False)


def test_all_flat_baskets_have_an_undefined_profit_factor():
    stats = basket_metrics([basket(0.0), basket(0.0)])

    assert math.isnan(stats.profit_factor)
    assert "flat" in stats.notes["profit_factor"]
    assert stats.win_rate == 0.0


def test_no_baskets():
    # Arrange
    equity = daily([100.0, 101.0, 100.5])

    # Act
    report = compute_metrics(equity, 100.0, [])

    # Assert
    stats = report.baskets
    assert stats.baskets == 0 and stats.open_baskets == 0
    assert math.isnan(stats.win_rate) and math.isnan(stats.profit_factor)
    assert math.isnan(stats.average_pnl) and math.isnan(stats.average_holding_hours)
    assert stats.exposure == 0.0  # a period with nothing open: never exposed
    assert all(count == 0 for count in stats.exits_by_code.values())
    assert stats.notes["win_rate"] == "no closed basket"
    assert report.clusters == {}
    assert math.isnan(report.diversification.diversification_ratio)
    json.dumps(report.to_dict(), allow_nan=False)


def test_exposure_is_the_union_of_intervals():
    # Arrange: period 2024-01-01 .. 2024-01-11 (10 days)
    # [01-01, 01-03) and [01-02, 01-04) overlap: union [01-01, 01-04) = 3 days
    # [01-06, 01-07) = 1 day; [01-10 12:00, 01-12) clipped to 01-11 = 0.5 day
    # covered 4.5 of 10 days = 0.45
    days = [(0, 2), (1, 3), (5, 6), (9.5, 11)]
    intervals = [(at(24 * a), at(24 * b)) for a, b in days]

    # Act
    share = exposure_share(intervals, at(0), at(240))

    # Assert
    assert share == pytest.approx(0.45, rel=1e-12)


def test_exposure_per_cluster_and_open_baskets_count_until_the_end():
    # Arrange: equity for 2024-01-01 .. 2024-01-04: period 4 days = 96 hours
    equity = daily([100.0, 100.0, 100.0, 100.0])
    closed = [basket(5.0, 0, 24, cluster="C1"), basket(-2.0, 12, 36, cluster="C2")]
    still_open = BasketRecord(
        BasketOpen("C2-open", "run", "C2", Direction.SHORT, at(72), -1.3, 300.0), None
    )

    # Act
    report = compute_metrics(equity, 100.0, [*closed, still_open])

    # Assert: C1 [0,24) -> 24/96 = 0.25; C2 [12,36) + [72,96) -> 48/96 = 0.5
    # union [0,36) + [72,96) = 60/96 = 0.625
    assert report.clusters["C1"].baskets.exposure == pytest.approx(0.25)
    assert report.clusters["C2"].baskets.exposure == pytest.approx(0.5)
    assert report.baskets.exposure == pytest.approx(0.625)
    assert report.baskets.open_baskets == 1 and report.baskets.baskets == 2
    assert report.clusters["C2"].baskets.open_baskets == 1


def test_basket_record_adapter_keeps_pnl_and_cost_signs():
    # Arrange
    opening = BasketOpen("C3-1", "run", "C3", Direction.LONG, at(1), -1.4, 300.0)
    closing = BasketClose("C3-1", at(5), 0.1, ExitCode.MR, pnl=42.5, costs=-3.25)

    # Act
    converted = closed_basket_from_record(BasketRecord(opening, closing))

    # Assert
    assert converted == ClosedBasket("C3", "LONG", at(1), at(5), "MR", 42.5, -3.25)
    assert converted.holding_hours == 4.0
    with pytest.raises(ValueError, match="still open"):
        closed_basket_from_record(BasketRecord(opening, None))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entry_time": datetime(2024, 1, 1)}, "timezone-aware"),
        ({"exit_time": at(-1)}, "before entry"),
        ({"exit_code": "XX"}, "XX"),
        ({"direction": "UP"}, "UP"),
        ({"pnl": math.nan}, "pnl is nan"),
        ({"cluster": ""}, "cluster"),
    ],
)
def test_closed_basket_refuses_bad_fields(kwargs, message):
    fields = {
        "cluster": "C1",
        "direction": "LONG",
        "entry_time": at(0),
        "exit_time": at(1),
        "exit_code": "MR",
        "pnl": 1.0,
        "costs": 0.0,
    }

    with pytest.raises(ValueError, match=message):
        ClosedBasket(**{**fields, **kwargs})


def test_closed_basket_converts_times_to_utc():
    paris = timezone(timedelta(hours=1))

    made = ClosedBasket("C1", "LONG", datetime(2024, 1, 1, 1, tzinfo=paris), at(2), "TP", 1.0, 0.0)

    assert made.entry_time == at(0) and made.entry_time.tzinfo is UTC


# --------------------------------------------------------------------------- clusters


def test_cluster_daily_pnl_books_realised_pnl_on_the_exit_date():
    # Arrange: weekday marks Fri 2024-01-05 and Mon 2024-01-08 (no weekend marks)
    dates = pd.to_datetime(["2024-01-04", "2024-01-05", "2024-01-08"])
    baskets = [
        basket(10.0, 80, 90, cluster="C1"),  # exits Thu 01-04 18:00
        basket(-4.0, 90, 100, cluster="C2"),  # exits Fri 01-05 04:00
        basket(7.0, 100, 130, cluster="C1"),  # exits Sat 01-06 10:00 -> Monday's mark
        basket(1.0, 160, 170, cluster="C1"),  # exits Mon 01-08 02:00
    ]

    # Act
    table = cluster_daily_pnl(baskets, dates)

    # Assert
    assert list(table.columns) == ["C1", "C2"]
    assert table["C1"].tolist() == [10.0, 0.0, 8.0]
    assert table["C2"].tolist() == [0.0, -4.0, 0.0]


def test_cluster_daily_pnl_refuses_an_exit_outside_the_period():
    dates = pd.to_datetime(["2024-01-01", "2024-01-02"])

    with pytest.raises(MetricsInputError, match=r"outside the equity period"):
        cluster_daily_pnl([basket(1.0, 0, 49)], dates)  # 01-03 01:00: after the last day


def test_an_exit_at_midnight_belongs_to_the_day_that_mark_closes():
    # Arrange: marks for 01-01 and 01-02; the mark at 01-03 00:00 closes 01-02 and holds
    # what closed at that instant (a backtest ending at midnight closes its baskets there)
    dates = pd.to_datetime(["2024-01-01", "2024-01-02"])
    baskets = [basket(5.0, 0, 24), basket(3.0, 0, 48)]  # 01-02 00:00 and 01-03 00:00

    # Act
    table = cluster_daily_pnl(baskets, dates)

    # Assert
    assert table["C1"].tolist() == [5.0, 3.0]


def test_correlation_and_diversification_ratio_hand_worked():
    # Arrange: a = [1, -1, 1, -1], b = [1, 1, -1, -1]: uncorrelated, each std sqrt(4/3)
    # sum = [2, 0, 0, -2]: mean 0, var 8/3, std sqrt(8/3) = 1.6329932
    # DR = 2 sqrt(4/3) / sqrt(8/3) = 2.3094011 / 1.6329932 = sqrt(2) = 1.4142136
    # c = -2a: correlation(a, c) = -1 -> max |corr| = 1 on (A, C) when c is added
    equity = daily([100.0, 100.0, 100.0, 100.0])
    pnl = pd.DataFrame(
        {"A": [1.0, -1.0, 1.0, -1.0], "B": [1.0, 1.0, -1.0, -1.0]}, index=equity.index
    )

    # Act
    two = compute_metrics(equity, 100.0, cluster_pnl=pnl).diversification
    three = compute_metrics(equity, 100.0, cluster_pnl=pnl.assign(C=-2.0 * pnl["A"]))

    # Assert
    assert two.correlation["A"]["B"] == pytest.approx(0.0, abs=1e-15)
    assert two.max_abs_correlation == pytest.approx(0.0, abs=1e-15)
    assert two.diversification_ratio == pytest.approx(math.sqrt(2.0), rel=1e-12)
    assert three.diversification.max_abs_correlation == pytest.approx(1.0, rel=1e-12)
    assert three.diversification.max_abs_correlation_pair == ("A", "C")
    assert three.clusters["C"].return_contribution == pytest.approx(0.0, abs=1e-15)


def test_diversification_ratio_matches_numpy_and_is_one_for_identical_clusters():
    # Arrange
    rng = np.random.default_rng(3)
    pnl = pd.DataFrame(rng.normal(0, 100, size=(60, 4)), columns=["C1", "C2", "C3", "C4"])

    # Act
    ratio = diversification_ratio(pnl)

    # Assert
    values = pnl.to_numpy()
    expected = np.std(values, axis=0, ddof=1).sum() / np.std(values.sum(axis=1), ddof=1)
    assert ratio == pytest.approx(expected, rel=1e-12)
    assert diversification_ratio(pd.DataFrame({"a": pnl["C1"], "b": pnl["C1"]})) == (
        pytest.approx(1.0, rel=1e-12)
    )
    assert cluster_correlation(pnl / 1e5).to_numpy() == pytest.approx(
        np.corrcoef(values, rowvar=False), abs=1e-12
    )


def test_per_cluster_metrics_from_baskets():
    # Arrange: C1 closes +50 on 01-02 and -20 on 01-03; C2 closes +30 on 01-03
    equity = daily([10_000.0, 10_050.0, 10_060.0])
    baskets = [
        basket(50.0, 2, 30, cluster="C1", code="TP"),
        basket(-20.0, 30, 50, cluster="C1", code="HS"),
        basket(30.0, 10, 60, cluster="C2", code="MR"),
    ]

    # Act
    report = compute_metrics(equity, 10_000.0, baskets)

    # Assert: C1 daily returns [0, 0.005, -0.002], C2 [0, 0, 0.003]
    c1 = report.clusters["C1"]
    assert c1.baskets.baskets == 2 and c1.baskets.win_rate == 0.5
    assert c1.baskets.profit_factor == pytest.approx(2.5)  # 50 / 20
    assert c1.pnl == 30.0 and c1.return_contribution == pytest.approx(0.003)
    c1_returns = np.array([0.0, 0.005, -0.002])
    assert c1.sharpe == pytest.approx(
        c1_returns.mean() / np.std(c1_returns, ddof=1) * math.sqrt(252), rel=1e-12
    )
    assert report.clusters["C2"].baskets.exits_by_code["MR"] == 1
    # correlation of [0, 0.005, -0.002] and [0, 0, 0.003]
    expected = np.corrcoef(c1_returns, [0.0, 0.0, 0.003])[0, 1]
    assert report.diversification.correlation["C1"]["C2"] == pytest.approx(expected, rel=1e-12)


def test_a_cluster_that_never_moves_has_null_correlation_with_a_note():
    equity = daily([100.0, 100.0, 100.0])
    pnl = pd.DataFrame({"A": [1.0, -1.0, 2.0], "B": [0.0, 0.0, 0.0]}, index=equity.index)

    report = compute_metrics(equity, 100.0, cluster_pnl=pnl).to_dict()

    assert report["diversification"]["correlation"]["A"]["B"] is None
    assert report["diversification"]["max_abs_correlation"] is None
    assert "max_abs_correlation" in report["diversification"]["notes"]
    assert "correlation" in report["diversification"]["notes"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"A": [1.0, math.nan]}), "A on 2024-01-02 is nan"),
        (pd.DataFrame({7: [1.0, 2.0]}), "column 7"),
        (pd.DataFrame({"A": ["x", "y"]}), "numbers"),
        ({"A": [1.0, 2.0]}, "DataFrame"),
    ],
)
def test_bad_cluster_pnl_is_refused_with_a_named_error(table, message):
    equity = daily([100.0, 100.0])
    if isinstance(table, pd.DataFrame):
        table.index = equity.index

    with pytest.raises(MetricsInputError, match=message):
        compute_metrics(equity, 100.0, cluster_pnl=table)


def test_cluster_pnl_on_a_date_without_a_mark_is_refused():
    equity = daily([100.0, 100.0])
    pnl = pd.DataFrame({"A": [1.0]}, index=pd.to_datetime(["2024-01-05"]))

    with pytest.raises(MetricsInputError, match="2024-01-05"):
        compute_metrics(equity, 100.0, cluster_pnl=pnl)


# --------------------------------------------------------------------------- edge cases


def test_one_day():
    # Arrange
    equity = daily([101.0])

    # Act
    report = compute_metrics(equity, 100.0)

    # Assert: defined from one mark: total return, CAGR over 1/365.25 years, drawdown
    assert report.returns.total_return == pytest.approx(0.01)
    assert report.returns.cagr == pytest.approx(1.01**365.25 - 1.0, rel=1e-12)
    assert report.returns.max_drawdown == 0.0
    # undefined: anything with a sample std
    assert math.isnan(report.returns.sharpe)
    assert "needs at least 2" in report.returns.notes["sharpe"]
    assert math.isnan(report.significance.psr) and math.isnan(report.significance.z_score)
    json.dumps(report.to_dict(), allow_nan=False)


def test_constant_equity_has_a_nan_sharpe_with_the_reason():
    # Arrange
    equity = daily([100.0] * 10)

    # Act
    report = compute_metrics(equity, 100.0)
    exported = report.to_dict()

    # Assert
    assert math.isnan(report.returns.sharpe)
    assert "zero dispersion" in report.returns.notes["sharpe"]
    assert exported["returns"]["sharpe"] is None
    assert report.returns.annualised_volatility == 0.0
    assert report.returns.max_drawdown == 0.0
    assert math.isnan(report.returns.calmar) and "no drawdown" in report.returns.notes["calmar"]
    assert math.isnan(report.returns.sortino)
    assert math.isnan(report.significance.dsr)


def test_constant_growth_is_zero_dispersion_not_a_huge_sharpe():
    # Float rounding of a geometric series leaves a std of ~1e-17, not 0.
    values = 100.0 * 1.001 ** np.arange(1, 30)
    equity = pd.Series(values, index=pd.bdate_range("2024-01-01", periods=len(values)))

    report = compute_metrics(equity, 100.0)

    assert math.isnan(report.returns.sharpe)
    assert "zero dispersion" in report.returns.notes["sharpe"]


@pytest.mark.parametrize(
    ("equity", "capital", "message"),
    [
        (pd.Series([], dtype=float), 100.0, "empty"),
        ([100.0, 101.0], 100.0, "pandas Series"),
        (daily([100.0, math.nan]), 100.0, "2024-01-02 is nan"),
        (daily([100.0, 0.0]), 100.0, "2024-01-02 is 0.0"),
        (daily([100.0, -5.0]), 100.0, "positive amount"),
        (daily([100.0, 101.0]), 0.0, "start capital"),
        (daily([100.0, 101.0]), math.inf, "start capital"),
        (
            pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-02 01:00", "2024-01-02 20:00"])),
            100.0,
            "two values for 2024-01-02",
        ),
        (
            pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-03", "2024-01-02"])),
            100.0,
            "2024-01-02 follows 2024-01-03",
        ),
        (pd.Series([1.0], index=["not a date"]), 100.0, "UTC dates"),
    ],
)
def test_bad_equity_is_refused_with_a_named_error(equity, capital, message):
    with pytest.raises(MetricsInputError, match=message) as caught:
        compute_metrics(equity, capital)

    assert isinstance(caught.value, DataError)


def test_equity_index_times_are_taken_as_their_utc_date():
    # 2024-01-02 23:30 at UTC+2 is 21:30 UTC on 01-02; a naive time is already UTC
    plus_two = pd.DatetimeIndex(["2024-01-01 23:30", "2024-01-02 23:30"]).tz_localize("Etc/GMT-2")
    naive = pd.to_datetime(["2024-01-01", "2024-01-02"])

    aware_report = compute_metrics(pd.Series([101.0, 102.0], index=plus_two), 100.0)
    naive_report = compute_metrics(pd.Series([101.0, 102.0], index=naive), 100.0)
    dated_report = compute_metrics(
        pd.Series([101.0, 102.0], index=[date(2024, 1, 1), date(2024, 1, 2)]), 100.0
    )

    assert aware_report.returns.first_date == date(2024, 1, 1)
    assert aware_report.to_dict()["returns"] == naive_report.to_dict()["returns"]
    assert dated_report.to_dict()["returns"] == naive_report.to_dict()["returns"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"basis": "weekly"},
        {"basis": 252},
        {"trials": 0},
        {"trials_sharpe_variance": -1.0},
        {"risk_free_rate": math.nan},
        {"days_per_year": 0.0},
    ],
)
def test_config_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        MetricsConfig(**kwargs)


# --------------------------------------------------------------------------- export


def _full_report():
    returns = seeded_returns(120)
    equity = equity_from(returns)
    first = equity.index[0].to_pydatetime().replace(tzinfo=UTC)
    baskets = [
        ClosedBasket("C1", "LONG", first, first + timedelta(hours=30), "MR", 120.0, -4.0),
        ClosedBasket(
            "C2", "SHORT", first + timedelta(days=3), first + timedelta(days=5), "HS", -80.0, -6.0
        ),
        ClosedBasket(
            "C1", "SHORT", first + timedelta(days=9), first + timedelta(days=10), "TP", 60.0, -2.0
        ),
    ]
    return compute_metrics(equity, 100_000.0, baskets)


@pytest.mark.parametrize(
    "make",
    [
        _full_report,
        lambda: compute_metrics(daily([100.0] * 5), 100.0),
        lambda: compute_metrics(daily([101.0]), 100.0, [basket(5.0, 0, 2)]),
        lambda: compute_metrics(daily([100.0, 100.0]), 100.0, [basket(0.0, 0, 2)]),
    ],
    ids=["full", "constant", "one-day-one-winner", "flat-basket"],
)
def test_export_is_strict_json_and_every_null_has_a_reason(make):
    # Arrange
    report = make()

    # Act
    exported = report.to_dict()
    text = report.to_json()

    # Assert: strict JSON, plain types only
    assert json.loads(text) == exported
    for path, value in iter_leaves(exported):
        assert value is None or type(value) in (bool, int, float, str), path
    # every null figure of a section has a note naming why
    for section in ("returns", "significance", "baskets", "diversification"):
        data = exported[section]
        for name, value in data.items():
            if value is None:
                assert name in data["notes"], (section, name)
            if isinstance(value, dict) and name != "notes" and None in value.values():
                assert name in data["notes"], (section, name)
    for name, cluster in exported["clusters"]["by_cluster"].items():
        for key, value in cluster.items():
            if value is None:
                assert key in cluster["notes"], (name, key)


def test_every_metric_states_its_basis():
    exported = _full_report().to_dict()

    for section in ("returns", "significance", "baskets", "diversification"):
        data = exported[section]
        for name in data:
            if name != "notes" and not name.endswith("_basis"):
                assert f"{name}_basis" in data, (section, name)
    cluster_basis = exported["clusters"]["basis"]
    for cluster in exported["clusters"]["by_cluster"].values():
        assert set(cluster) - {"notes"} <= set(cluster_basis)
    assert exported["returns"]["sharpe_basis"] == (
        "(daily, 5-day FX weeks, sqrt 252) daily returns r_t = E_t/E_(t-1) - 1 with E_0 = "
        "start capital, one return per FX trading day (Monday to Friday, UTC dates of the "
        "end-of-day marks; a weekend mark belongs to the following Monday, so the "
        "Sunday-evening open counts in the return of that Monday); (mean - rf/252) / std "
        "(ddof=1), annualised by sqrt(252), risk-free 0 (annual)"
    )
    assert exported["basis"] == {
        "name": "trading", "label": "daily, 5-day FX weeks, sqrt 252",
        "definition": basis_definition("trading"), "periods_per_year": 252,
        "observations": exported["returns"]["observations"],
    }


def test_figures_from_too_few_returns_or_baskets_say_so_beside_them():
    # Arrange: one basket, two daily returns, the second of them zero
    opened, closed = datetime(2024, 1, 4, 1, tzinfo=UTC), datetime(2024, 1, 4, 5, tzinfo=UTC)
    marks = pd.Series([100_100.0, 100_100.0],
                      index=pd.DatetimeIndex(["2024-01-04", "2024-01-05"], tz=UTC))
    basket = ClosedBasket("A", "LONG", opened, closed, "MR", 100.0, 0.0)

    # Act
    report = compute_metrics(marks, 100_000.0, [basket])

    # Assert: the figures stay, each with the reason not to judge by it
    assert report.returns.sharpe == pytest.approx(0.5**0.5 * 252**0.5)
    assert report.returns.notes["sharpe"] == ("from 2 daily returns: too few to judge by "
                                              "(fewer than 20)")
    assert report.baskets.win_rate == 1.0
    assert report.baskets.notes["win_rate"] == ("from 1 closed basket: too few to judge by "
                                                "(fewer than 5)")
    assert report.clusters["A"].notes["sharpe"] == report.baskets.notes["win_rate"]
