"""The pair kind: streaming = batch for every hedge and space, strictly backward-looking,
truncation-invariant, and its baskets, half-life, lock and time stop as documented."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers.pair_points import LEGS, as_table, assert_same, cointegrated, stream

from engine.errors import DataError
from engine.factor import FactorSeries
from engine.kinds.pair import PairModel, PairState, pair_batch
from engine.kinds.pair_lock import CointLock, locked_runs
from engine.kinds.pair_params import PairParams
from engine.kinds.pair_stats import half_life, half_life_of, hurst, tls_weights
from engine.model import Direction
from engine.ranges import FieldError

#: Small windows keep the tests fast.
SMALL = {"hedge_window": 60, "z_window": 20, "test_every": 10}
@pytest.mark.parametrize("space", ["returns", "price"])
@pytest.mark.parametrize("hedge", ["ols", "tls", "kalman", "johansen"])
def test_batch_equals_streaming_on_a_synthetic_spread(hedge, space):
    # Arrange: a cointegrated spread (three legs for Johansen)
    closes = cointegrated(260, seed=3, legs=3 if hedge == "johansen" else 2)
    obs_var = 1e-3 if space == "returns" else 1.0
    params = PairParams(space=space, hedge=hedge, kalman_obs_var=obs_var, **SMALL)

    # Act
    streamed = as_table(stream(closes, params), closes.index)
    batch = pair_batch(closes, params)

    # Assert: the same points, valid from the warm-up on
    assert_same(streamed, batch)
    assert batch["valid"].sum() == len(closes) - params.window + 1


@pytest.mark.parametrize("factor", ["pc1", "IDX"])
def test_batch_equals_streaming_with_a_factor(factor):
    # Arrange: three legs, the factor either their first component or a named index
    closes = cointegrated(240, seed=5, legs=3)
    rng = np.random.default_rng(9)
    index_closes = pd.DataFrame({"IDX": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 240)))},
                                index=closes.index)
    series = FactorSeries("IDX", ("IDX",), (1.0,)) if factor == "IDX" else None
    params = PairParams(**SMALL)
    feed = pd.concat([closes, index_closes], axis=1) if series else closes

    # Act
    streamed = as_table(stream(feed, params, factor=factor, factor_window=30,
                               factor_series=series), closes.index)
    batch = pair_batch(closes, params, factor, 30, series, index_closes)

    # Assert
    assert_same(streamed, batch)
    assert batch["valid"].sum() == len(closes) - 30 - params.window + 1


def test_a_factor_needs_returns_space_and_johansen_three_legs():
    with pytest.raises(ValueError, match="returns"):
        PairModel(["AAA", "BBB"], PairParams(space="price"), factor="pc1")
    with pytest.raises(ValueError, match="johansen needs 3 legs"):
        PairModel(["AAA", "BBB"], PairParams(hedge="johansen"))
    with pytest.raises(ValueError, match="2 to 6 distinct"):
        PairModel(["AAA", "AAA"], PairParams())


@pytest.mark.parametrize("hedge", ["ols", "kalman"])
def test_truncating_the_start_changes_no_point_once_warm(hedge):
    # Arrange: the same history, and the same without its first 100 bars (a multiple of
    # test_every, so the tests fall on the same bars)
    closes = cointegrated(260, seed=11)
    params = PairParams(hedge=hedge, **SMALL)
    full = as_table(stream(closes, params), closes.index)

    # Act
    cut = as_table(stream(closes.iloc[100:], params), closes.index[100:])

    # Assert: bit for bit once the cut model has its window and coint_lost_tests tests
    warm = 100 + params.window - 1 + (params.coint_lost_tests - 1) * params.test_every
    pd.testing.assert_frame_equal(full.loc[closes.index[warm]:], cut.loc[closes.index[warm]:])


@pytest.mark.parametrize("hedge", ["ols", "tls", "kalman"])
def test_truncation_with_a_factor_changes_no_point_once_warm(hedge):
    # Arrange: the residual levels of the cut history are shifted by a constant per leg,
    # which every hedge and statistic ignores (up to rounding)
    closes = cointegrated(240, seed=14, legs=3)
    params = PairParams(hedge=hedge, **SMALL)
    full = as_table(stream(closes, params, factor="pc1", factor_window=30), closes.index)

    # Act
    cut = as_table(stream(closes.iloc[100:], params, factor="pc1", factor_window=30),
                   closes.index[100:])

    # Assert
    warm = closes.index[100 + 30 + params.window - 1 + params.test_every:]
    assert_same(full.loc[warm], cut.loc[warm])


def test_truncation_at_any_phase_keeps_the_score_and_statistics():
    closes = cointegrated(200, seed=12)
    params = PairParams(**SMALL)
    full = as_table(stream(closes, params), closes.index)

    cut = as_table(stream(closes.iloc[37:], params), closes.index[37:])

    later = closes.index[37 + params.window - 1:]
    columns = ["score", "z", "hedge", "half_life", "hurst", "crossings", "spread"]
    pd.testing.assert_frame_equal(full.loc[later, columns], cut.loc[later, columns])


def test_a_later_bar_never_changes_an_earlier_point():
    # Arrange: the same history with bar 150 onwards moved
    closes = cointegrated(200, seed=13)
    moved = closes.copy()
    moved.iloc[150:, 0] *= 1.05
    params = PairParams(hedge="tls", **SMALL)

    # Act
    original = as_table(stream(closes, params), closes.index)
    changed = as_table(stream(moved, params), closes.index)

    # Assert
    pd.testing.assert_frame_equal(original.iloc[:150], changed.iloc[:150])
    assert not np.isclose(original["score"].iloc[150], changed["score"].iloc[150])


def test_tls_is_symmetric_in_the_order_of_the_legs():
    # Arrange
    closes = cointegrated(200, seed=17)
    X = np.log(closes.to_numpy())[-60:]

    # Act
    forward = tls_weights(X)
    backward = tls_weights(X[:, ::-1])

    # Assert: one line, so gamma(B on A) = 1 / gamma(A on B), and |z| is the same
    assert -forward[1] * -backward[1] == pytest.approx(1.0, rel=1e-12)
    params = PairParams(hedge="tls", **SMALL)
    ab = stream(closes, params)[-1].score
    ba = stream(closes[["BBB", "AAA"]], params)[-1].score
    assert abs(ab) == pytest.approx(abs(ba), rel=1e-10)


def test_half_life_of_a_simulated_ar1():
    # Arrange: s_t = 0.9 s_{t-1} + e, so b = -0.1 and the half-life is -ln 2 / ln 0.9
    rng = np.random.default_rng(21)
    s = np.zeros(20_000)
    for t in range(1, len(s)):
        s[t] = 0.9 * s[t - 1] + rng.normal()

    # Act
    estimated = half_life(s)

    # Assert
    assert estimated == pytest.approx(-math.log(2) / math.log(0.9), rel=0.05)
    assert half_life_of(0.01) == math.inf
    assert half_life_of(-1.5) == 0.0
    # a mean-reverting spread has H well below a random walk's 0.5
    assert hurst(s) < 0.4
    assert hurst(np.cumsum(rng.normal(size=5_000))) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("space", ["returns", "price"])
def test_exposures_are_the_hedge_weights_at_unit_gross(space):
    # Arrange
    closes = cointegrated(120, seed=23)
    params = PairParams(space=space, **SMALL)
    model = PairModel(["AAA", "BBB"], params)
    point = [model.update(row, 0) for row in closes.to_numpy()][-1]
    state = point.state
    assert isinstance(state, PairState)

    # Act
    long = model.exposures(point, Direction.LONG)
    short = model.exposures(point, Direction.SHORT)

    # Assert: gross 1; long buys leg 1 and sells gamma of leg 2; short the opposite
    values = np.array(list(long.values()))
    assert abs(values).sum() == pytest.approx(1.0)
    assert long["AAA"] > 0 > long["BBB"]
    assert short == {s: -v for s, v in long.items()}
    dollars = state.weights * (state.closes if space == "price" else 1.0)
    assert values / values[0] == pytest.approx(dollars / dollars[0], rel=1e-12)


def test_exposures_refuse_a_point_without_a_hedge():
    model = PairModel(["AAA", "BBB"], PairParams(**SMALL))
    point = model.update(np.array([1.0, 2.0]), 0)
    with pytest.raises(ValueError, match="no hedge"):
        model.exposures(point, Direction.LONG)


def test_a_price_that_is_not_positive_is_a_data_error():
    model = PairModel(["AAA", "BBB"], PairParams(**SMALL))
    with pytest.raises(DataError, match=r"BBB price 0\.0 is not a positive number"):
        model.update(np.array([1.0, 0.0]), 0)
    with pytest.raises(DataError, match="AAA price"):
        pair_batch(pd.DataFrame({"AAA": [1.0, -1.0], "BBB": [1.0, 1.0]}), PairParams(**SMALL))


def test_provisional_is_the_z_at_current_prices_with_the_last_bars_statistics():
    closes = cointegrated(100, seed=29)
    model = PairModel(["AAA", "BBB"], PairParams(**SMALL))
    point = [model.update(row, 0) for row in closes.to_numpy()][-1]

    at_close = model.provisional(closes.to_numpy()[-1])
    higher = model.provisional(closes.to_numpy()[-1] * np.array([1.01, 1.0]))

    assert at_close == pytest.approx(point.score, abs=1e-12)
    assert higher > at_close


def test_time_stop_is_a_multiple_of_the_half_life_at_entry():
    closes = cointegrated(100, seed=31)
    model = PairModel(["AAA", "BBB"], PairParams(time_stop_half_lives=2.5, **SMALL))
    point = [model.update(row, 0) for row in closes.to_numpy()][-1]
    hl = point.state.half_life

    assert model.time_stop_bars(point) == math.ceil(2.5 * hl)
    none = PairModel(["AAA", "BBB"], PairParams(time_stop_half_lives=0, **SMALL))
    assert none.time_stop_bars(point) is None


def test_the_lock_holds_after_k_failed_tests_and_one_pass_lifts_it():
    # Arrange: verdicts fail, fail, pass, fail, fail, fail, pass with k = 2
    fails = [True, True, False, True, True, True, False]
    lock = CointLock(PairParams(coint_lost_tests=2))
    shown = []

    # Act
    for fail in fails:
        lock.record(fail, 0.3 if fail else 0.01, 0.2, math.nan, math.nan)
        shown.append(lock.message)

    # Assert: locked from the start (no test ever passed), again after two, lifted by a pass
    expected = [True, True, False, False, True, True, False]
    assert [m.startswith("COINT_LOST: ") for m in shown] == expected
    assert [m == "" for m in shown] == [not e for e in expected]
    assert shown[0] == "COINT_LOST: Engle-Granger p 0.300 above 0.1 (the last test failed)"
    assert shown[5] == "COINT_LOST: Engle-Granger p 0.300 above 0.1 (the last 2 tests failed)"
    assert list(locked_runs(np.array(fails), 2)) == expected


def test_the_model_locks_when_cointegration_is_lost_and_unlocks_when_it_returns():
    # Arrange: a cointegrated stretch, a stretch where the spread is a random walk, then
    # cointegrated again
    rng = np.random.default_rng(37)
    n = 420
    x = np.cumsum(rng.normal(0, 0.01, n)) + 4.0
    spread = np.zeros(n)
    for t in range(1, n):
        pull = 0.0 if 150 <= t < 270 else 0.3
        spread[t] = (1 - pull) * spread[t - 1] + rng.normal(0, 0.01)
    closes = pd.DataFrame(np.exp(np.column_stack([x + spread, x])),
                          index=pd.date_range("2021-01-04", periods=n, freq="D", tz="UTC"),
                          columns=["AAA", "BBB"])
    params = PairParams(coint_lost_tests=2, half_life_max=1e5, **SMALL)

    # Act
    points = stream(closes, params)

    # Assert: "" -> COINT_LOST -> "" along the test bars
    bars = list(range(params.window - 1, len(points), params.test_every))
    codes = [points[t].lock_code for t in bars]
    free = codes.index("")
    lost = codes.index("COINT_LOST", free)
    assert 140 <= bars[lost] < 270  # as the random-walk stretch (150..269) comes in
    assert "" in codes[lost:]
    assert points[-1].lock == ""


def test_the_half_life_lock():
    closes = cointegrated(100, seed=41)
    params = PairParams(half_life_min=50, half_life_max=60, coint_p_max=1.0, **SMALL)

    point = stream(closes, params)[-1]

    assert point.lock_code == "HALF_LIFE"
    assert point.lock.endswith("outside 50..60 bars")


@pytest.mark.parametrize(("field", "value"), [
    ("space", "log"), ("hedge", "pca"), ("hedge_window", 10), ("z_window", 2.0),
    ("kalman_delta", 0.0), ("coint_p_max", 1.5), ("coint_lost_tests", 0),
    ("test_every", True), ("half_life_max", 0.5), ("time_stop_half_lives", -1.0),
])
def test_params_name_the_field_outside_its_range(field, value):
    with pytest.raises(FieldError) as error:
        PairParams(**{field: value})
    assert error.value.field == field


@pytest.mark.parametrize("factor", ["none", "pc1"])
def test_warmup_bars_are_the_bars_before_the_first_valid_point(factor):
    closes = cointegrated(150, seed=43, legs=3)
    params = PairParams(**SMALL)
    model = PairModel(LEGS, params, factor=factor, factor_window=30)

    valid = [model.update(row, 0).valid for row in closes.to_numpy()]

    assert valid.index(True) == model.warmup_bars
    assert params.warmup_bars == params.window - 1
    assert model.warmup_bars == params.warmup_bars + (30 if factor == "pc1" else 0)


def test_the_params_check_the_legs_when_the_file_is_read():
    with pytest.raises(FieldError) as error:
        PairParams(hedge="johansen").check_symbols(("KO", "PEP"))
    assert error.value.field == "hedge"
    with pytest.raises(FieldError) as error:
        PairParams().check_symbols(("KO",))
    assert error.value.field == "symbols"
    PairParams(hedge="johansen").check_symbols(("KO", "PEP", "SP500"))
