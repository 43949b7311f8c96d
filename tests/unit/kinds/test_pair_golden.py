"""The pair kind on real daily closes (KO, PEP and the S&P 500, 2019-2022, tests/data):
its hedge ratio and Engle-Granger p-values equal statsmodels called directly on the same
window, pinned; streaming equals batch for every hedge and space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers.pair_points import as_table, assert_same, stream
from helpers.paths import TEST_DATA
from statsmodels.tsa.stattools import coint

from engine.bars import align_closes
from engine.factor import FactorSeries
from engine.kinds.pair import PairModel, pair_batch
from engine.kinds.pair_params import PairParams
from engine.timeframes import resample_to
from storage.histdata import read_histdata_dir

DAILY = TEST_DATA / "equity_daily_ko_pep_sp500_2019_2022.csv.gz"


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return pd.read_csv(DAILY, index_col="Date", parse_dates=True)


#: The window: the 250 trading days ending 2021-12-31 (2021-01-06 .. 2021-12-31).
#: Pinned from statsmodels 0.15.0 (coint: constant, AIC lags; OLS with a constant).
GOLDEN = {
    "returns": (0.620247755317024, 0.07749354821187779, 0.26882597845576994),
    "price": (0.21820158842501705, 0.10268931128353265, 0.35198506190699497),
}


@pytest.mark.parametrize("space", ["returns", "price"])
def test_ko_pep_hedge_and_engle_granger_equal_statsmodels(daily, space):
    # Arrange: exactly one hedge window of closes, so the last bar is the first valid one
    # and the model's first cointegration test falls on it
    window = daily.loc[:"2021-12-31", ["KO", "PEP"]].iloc[-250:]
    X = np.log(window.to_numpy()) if space == "returns" else window.to_numpy()
    hedge = sm.OLS(X[:, 0], sm.add_constant(X[:, 1])).fit().params[1]
    p, p_rev = coint(X[:, 0], X[:, 1])[1], coint(X[:, 1], X[:, 0])[1]

    # Act
    model = PairModel(["KO", "PEP"], PairParams(space=space))
    point = [model.update(row, 0) for row in window.to_numpy()][-1]
    figures = model.diagnostics_of(point)
    batch = pair_batch(window, PairParams(space=space)).iloc[-1]

    # Assert: statsmodels' figures, and the pinned ones
    assert point.valid
    # (the model computes coint's arithmetic itself: equal to rounding, not bit for bit)
    assert (figures["p_eg"], figures["p_eg_rev"]) == pytest.approx((p, p_rev), abs=1e-12)
    assert (batch["p_eg"], batch["p_eg_rev"]) == pytest.approx((p, p_rev), abs=1e-12)
    assert figures["hedge"] == pytest.approx(hedge, rel=1e-12)
    assert batch["hedge"] == pytest.approx(hedge, rel=1e-12)
    pinned_hedge, pinned_p, pinned_rev = GOLDEN[space]
    assert (hedge, p, p_rev) == pytest.approx((pinned_hedge, pinned_p, pinned_rev), rel=1e-9)


@pytest.mark.parametrize("space", ["returns", "price"])
@pytest.mark.parametrize("hedge", ["ols", "tls", "kalman", "johansen"])
def test_ko_pep_streaming_equals_batch(daily, hedge, space):
    # Arrange: 2021-2022, KO and PEP (and the S&P 500 as a third leg for Johansen)
    legs = ["KO", "PEP", "SP500"] if hedge == "johansen" else ["KO", "PEP"]
    closes = daily.loc["2021":, legs]
    params = PairParams(space=space, hedge=hedge,
                        kalman_obs_var=1e-3 if space == "returns" else 1.0)

    # Act
    streamed = as_table(stream(closes, params), closes.index)
    batch = pair_batch(closes, params)

    # Assert
    assert_same(streamed, batch)
    assert batch["valid"].sum() == len(closes) - 249


def test_ko_pep_with_the_index_removed_streaming_equals_batch(daily):
    # Arrange: the S&P 500 as the factor of KO and PEP (returns space)
    closes = daily.loc["2021":, ["KO", "PEP"]]
    market = daily.loc["2021":, ["SP500"]]
    series = FactorSeries("SPX", ("SP500",), (1.0,))
    params = PairParams(hedge_window=120, z_window=40)

    # Act
    streamed = as_table(stream(daily.loc["2021":, ["KO", "PEP", "SP500"]], params,
                               factor="SPX", factor_window=60, factor_series=series),
                        closes.index)
    batch = pair_batch(closes, params, "SPX", 60, series, market)

    # Assert
    assert_same(streamed, batch)
    assert batch["valid"].sum() == len(closes) - 60 - 119


@pytest.mark.parametrize("hedge", ["ols", "kalman"])
def test_intraday_fx_pair_streaming_equals_batch(hedge):
    # Arrange: EURUSD and GBPUSD, three weeks of M1 (tests/data) as the engine's M30 bars
    data = read_histdata_dir(TEST_DATA / "histdata", ["EURUSD", "GBPUSD"])
    bars = {s: resample_to(m1.to_bar_array(spread=0.0), "M30") for s, m1 in data.items()}
    closes = align_closes(bars, ["EURUSD", "GBPUSD"]).closes
    params = PairParams(hedge=hedge)

    # Act
    streamed = as_table(stream(closes, params), closes.index)
    batch = pair_batch(closes, params)

    # Assert
    assert_same(streamed, batch)
    assert batch["valid"].sum() == len(closes) - 249
