"""Factor removal: hand-worked residuals, batch = streaming, strictly backward-looking."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.bars import M30, align_closes, resample_bars
from engine.errors import DataError
from engine.factor import (
    FactorSeries,
    FactorStream,
    FactorTdi,
    factor_tdi_batch,
    residual_prices,
)
from engine.ranges import FieldError
from engine.tdi import TdiParams, TdiStream
from storage.histdata import read_histdata_dir

SMALL = TdiParams(tau_f=4, tau_s=24, tau_q=96)
CORE = ["tdi", "phi", "eigengap", "explained"]
MEMBERS = ["AAAUSD", "BBBUSD", "CCCUSD", "DDDUSD"]
INDEX = FactorSeries("IDX", ("FFFUSD",), (1.0,))


def frame(logs: np.ndarray, columns: list[str]) -> pd.DataFrame:
    index = pd.date_range("2019-01-07", periods=len(logs), freq="30min", tz="UTC")
    return pd.DataFrame(np.exp(np.asarray(logs, dtype=float)), index=index, columns=columns)


def factor_market(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members driven by one strong common factor (loadings of both signs) plus their own
    noise, and the factor's own price series."""
    rng = np.random.default_rng(seed)
    f = rng.normal(0, 1e-3, n)
    own = rng.normal(0, 3e-4, (n, len(MEMBERS)))
    loadings = np.array([1.0, -0.8, 0.6, 1.2])
    logp = np.cumsum(f[:, None] * loadings + own, axis=0) + np.log([1.1, 0.9, 110.0, 1.3])
    closes = frame(logp, MEMBERS)
    factor = frame(np.cumsum(f)[:, None], ["FFFUSD"])
    return closes, factor


def stream_residuals(closes: pd.DataFrame, window: int, series: FactorSeries | None = None,
                     factor: pd.DataFrame | None = None) -> np.ndarray:
    calc = FactorStream(list(closes.columns), window, series)
    feed = closes if series is None else pd.concat([closes, factor], axis=1)
    rows = [calc.update(row, t) for t, row in zip(feed.index, feed.to_numpy(), strict=True)]
    width = len(closes.columns)
    return np.array([r if r is not None else np.full(width, np.nan) for r in rows])


def max_abs_correlation_with(logs: np.ndarray, f: np.ndarray) -> float:
    returns = np.diff(logs, axis=0)
    return max(abs(float(np.corrcoef(returns[:, i], f)[0, 1])) for i in range(returns.shape[1]))


def mean_abs_correlation(logs: np.ndarray) -> float:
    corr = np.corrcoef(np.diff(logs, axis=0).T)
    return float(np.abs(corr[np.triu_indices(len(corr), 1)]).mean())


# ---------------------------------------------------------------- hand-worked cases


def test_named_factor_residuals_by_hand():
    # Arrange: window 2.  At bar 3 the window is returns 1..2: f = (+0.01, -0.01),
    # A = (+0.02, -0.02) -> beta 2, B = (-0.01, +0.01) -> beta -1.  At bar 4 it is returns
    # 2..3: f deviations (-0.015, +0.015), A (-0.0325, +0.0325) -> beta 13/6, B (+0.01,
    # -0.01) -> beta -2/3.
    a = [0.0, 0.02, 0.0, 0.045, 0.115]
    b = [0.0, -0.01, 0.0, -0.01, -0.03]
    f = [0.0, 0.01, 0.0, 0.02, 0.05]
    closes = frame(np.column_stack([a, b]), ["AAAUSD", "BBBUSD"])
    factor = frame(np.array(f)[:, None], ["FFFUSD"])
    # Act
    batch = np.log(residual_prices(closes, 2, INDEX, factor).to_numpy())
    stream = np.log(stream_residuals(closes, 2, INDEX, factor))
    # Assert: bar 2 anchors at the members' own log prices (0, 0); bar 3 adds
    # (0.045 - 2*0.02, -0.01 + 1*0.02) = (0.005, 0.01); bar 4 adds
    # (0.07 - 13/6*0.03, -0.02 + 2/3*0.03) = (0.005, 0).
    expected = [[math.nan, math.nan], [math.nan, math.nan], [0.0, 0.0], [0.005, 0.01],
                [0.01, 0.01]]
    np.testing.assert_allclose(batch, expected, atol=1e-15)
    np.testing.assert_allclose(stream, expected, atol=1e-15)


def test_pc1_residuals_by_hand():
    # Arrange: window 2, returns (0.01, 0.01) then (-0.02, -0.02): the centred covariance
    # is proportional to [[1, 1], [1, 1]], u = (1, 1)/sqrt(2).  Bar 3's return (0.03, 0.01)
    # minus its projection on u, (0.02, 0.02), leaves (0.01, -0.01).
    a = [0.0, 0.01, -0.01, 0.02]
    b = [0.0, 0.01, -0.01, 0.0]
    closes = frame(np.column_stack([a, b]), ["AAAUSD", "BBBUSD"])
    # Act
    batch = np.log(residual_prices(closes, 2).to_numpy())
    stream = np.log(stream_residuals(closes, 2))
    # Assert
    expected = [[math.nan, math.nan], [math.nan, math.nan], [-0.01, -0.01], [0.0, -0.02]]
    np.testing.assert_allclose(batch, expected, atol=1e-15)
    np.testing.assert_allclose(stream, expected, atol=1e-15)


def test_a_strong_common_factor_is_removed():
    # Arrange: the factor's std is 3.3 times each member's own noise
    closes, factor = factor_market(3000, seed=1)
    raw = np.log(closes.to_numpy())[240:]
    f = np.diff(np.log(factor.to_numpy()[240:, 0]))
    # Act
    named = np.log(residual_prices(closes, 240, INDEX, factor).to_numpy())[240:]
    pc1 = np.log(residual_prices(closes, 240).to_numpy())[240:]
    # Assert: the largest |correlation| of a member's returns with the factor's ...
    assert max_abs_correlation_with(raw, f) == pytest.approx(0.9691, abs=1e-4)
    assert max_abs_correlation_with(named, f) == pytest.approx(0.0110, abs=1e-4)
    assert max_abs_correlation_with(pc1, f) == pytest.approx(0.0077, abs=1e-4)
    # ... and the members' mean absolute pairwise correlation.  Taking the top component
    # out of four series leaves residuals bound to the other three directions, so pc1's
    # residuals keep some correlation among themselves, though none with the factor.
    assert mean_abs_correlation(raw) == pytest.approx(0.8836, abs=1e-4)
    assert mean_abs_correlation(named) == pytest.approx(0.0192, abs=1e-4)
    assert mean_abs_correlation(pc1) == pytest.approx(0.3215, abs=1e-4)


def test_a_frozen_factor_removes_nothing():
    closes, _ = factor_market(60, seed=2)
    frozen = frame(np.zeros((60, 1)), ["FFFUSD"])
    residual = residual_prices(closes, 10, INDEX, frozen).to_numpy()
    stream = stream_residuals(closes, 10, INDEX, frozen)
    np.testing.assert_allclose(residual[10:], closes.to_numpy()[10:], rtol=1e-13)
    np.testing.assert_allclose(stream[10:], closes.to_numpy()[10:], rtol=1e-13)


def test_members_that_do_not_move_have_no_component_to_remove():
    closes = frame(np.zeros((30, 3)), MEMBERS[:3])
    np.testing.assert_allclose(residual_prices(closes, 10).to_numpy()[10:], 1.0, rtol=0)
    np.testing.assert_allclose(stream_residuals(closes, 10)[10:], 1.0, rtol=0)


# ---------------------------------------------------------------- batch = streaming


@pytest.mark.parametrize("named", [False, True])
def test_residual_batch_equals_streaming(named):
    closes, factor = factor_market(3000, seed=3)
    series = INDEX if named else None
    batch = residual_prices(closes, 240, series, factor).to_numpy()
    stream = stream_residuals(closes, 240, series, factor)
    assert np.array_equal(np.isnan(batch), np.isnan(stream))
    assert np.isnan(batch).all(axis=1).sum() == 240
    np.testing.assert_allclose(np.log(batch[240:]), np.log(stream[240:]), rtol=0, atol=1e-12)


def factor_tdi_stream(closes: pd.DataFrame, window: int, series: FactorSeries | None = None,
                      factor: pd.DataFrame | None = None) -> pd.DataFrame:
    calc = FactorTdi(TdiStream(list(closes.columns), SMALL), window, series)
    feed = closes if series is None else pd.concat([closes, factor], axis=1)
    feed = feed[list(calc.feed_symbols)]
    points = [calc.update(row, t) for t, row in zip(feed.index, feed.to_numpy(), strict=True)]
    return pd.DataFrame({c: [getattr(p, c) for p in points] for c in CORE}, index=closes.index)


def assert_same(a: pd.Series, b: pd.Series) -> None:
    assert a.isna().equals(b.isna()), "NaN patterns differ"
    diff = (a - b).abs().max()
    assert not diff > 1e-9, f"max difference {diff}"


@pytest.mark.parametrize("named", [False, True])
def test_factor_tdi_batch_equals_streaming(named):
    # Arrange
    closes, factor = factor_market(1500, seed=4)
    series = INDEX if named else None
    # Act
    batch = factor_tdi_batch(closes, SMALL, 120, series, factor)
    stream = factor_tdi_stream(closes, 120, series, factor)
    # Assert: the TDI starts the factor window later than without a factor
    for col in CORE:
        assert_same(batch[col], stream[col])
    assert batch["tdi"].notna().sum() == 1500 - 120 - SMALL.warmup_bars


def test_factor_tdi_on_real_data_batch_equals_streaming():
    from helpers.paths import TEST_DATA

    symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
    data = read_histdata_dir(TEST_DATA / "histdata", symbols)
    bars = {s: resample_bars(data[s].to_bar_array(spread=0.0), M30) for s in symbols}
    closes = align_closes(bars, symbols).closes
    batch = factor_tdi_batch(closes, SMALL, 48)
    stream = factor_tdi_stream(closes, 48)
    for col in CORE:
        assert_same(batch[col], stream[col])
    assert batch["tdi"].notna().sum() > 300


def test_a_factor_symbol_that_is_a_member_is_fed_once():
    # Arrange: a factor built from a member and an outside symbol
    closes, factor = factor_market(400, seed=5)
    series = FactorSeries("MIX", ("AAAUSD", "FFFUSD"), (0.5, 1.0))
    both = pd.concat([closes[["AAAUSD"]], factor], axis=1)
    # Act
    calc = FactorTdi(TdiStream(MEMBERS, SMALL), 20, series)
    batch = factor_tdi_batch(closes, SMALL, 20, series, both)
    stream = factor_tdi_stream(closes, 20, series, factor)
    # Assert
    assert calc.feed_symbols == (*MEMBERS, "FFFUSD")
    for col in CORE:
        assert_same(batch[col], stream[col])


# ---------------------------------------------------------------- backward-looking


@pytest.mark.parametrize("named", [False, True])
def test_perturbing_future_bars_never_changes_past_residuals(named):
    # Arrange: everything from bar 700 on is scrambled, members and factor alike
    closes, factor = factor_market(1200, seed=6)
    series = INDEX if named else None
    rng = np.random.default_rng(7)
    later_closes, later_factor = closes.copy(), factor.copy()
    later_closes.iloc[700:] *= np.exp(rng.normal(0, 0.01, (500, len(MEMBERS))))
    later_factor.iloc[700:] *= np.exp(rng.normal(0, 0.01, (500, 1)))
    # Act
    before = residual_prices(closes, 120, series, factor).to_numpy()
    after = residual_prices(later_closes, 120, series, later_factor).to_numpy()
    tdi_before = factor_tdi_batch(closes, SMALL, 120, series, factor)["tdi"].to_numpy()
    tdi_after = factor_tdi_batch(later_closes, SMALL, 120, series, later_factor)["tdi"].to_numpy()
    stream_after = stream_residuals(later_closes, 120, series, later_factor)
    # Assert: bars 0..699 identical, bar 700 on differs
    np.testing.assert_array_equal(before[:700], after[:700])
    np.testing.assert_array_equal(tdi_before[:700], tdi_after[:700])
    np.testing.assert_allclose(stream_after[:700], before[:700], rtol=1e-12)
    assert not np.allclose(before[700:], after[700:])


def test_provisional_residual_is_what_the_bar_gets_when_it_closes():
    # Arrange
    closes, _ = factor_market(300, seed=8)
    calc = FactorStream(MEMBERS, 50)
    rows = closes.to_numpy()
    for row in rows[:-1]:
        calc.update(row)
    # Act: the forming bar at the prices it then closes at
    provisional = calc.provisional(rows[-1])
    again = calc.provisional(rows[-1])
    closed = calc.update(rows[-1])
    # Assert: the loadings of the forming bar are known at the last close; no state moves
    np.testing.assert_array_equal(provisional, again)
    np.testing.assert_allclose(provisional, closed, rtol=1e-15)


def test_no_residual_and_no_tdi_during_the_factor_warm_up():
    closes, _ = factor_market(60, seed=9)
    calc = FactorTdi(TdiStream(MEMBERS, SMALL), 50)
    points = [calc.update(row) for row in closes.to_numpy()[:50]]
    assert not any(p.valid for p in points)
    assert math.isnan(calc.provisional(closes.to_numpy()[50]))
    assert calc.factor.update(closes.to_numpy()[50]) is not None


# ---------------------------------------------------------------- bad input


def test_a_bad_price_names_the_symbol():
    calc = FactorStream(MEMBERS, 10, INDEX)
    with pytest.raises(DataError, match=r"FFFUSD price 0\.0 at"):
        calc.update([1.0, 1.0, 1.0, 1.0, 0.0], "2019-01-07 10:00")


def test_a_named_factor_needs_its_closes():
    closes, _ = factor_market(30, seed=10)
    with pytest.raises(ValueError, match="needs the closes of FFFUSD"):
        residual_prices(closes, 10, INDEX)


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"name": "pc1"}, "name", "built-in"),
        ({"name": "US D"}, "name", "not allowed"),
        ({"symbols": ()}, "symbols", "1 to 12"),
        ({"symbols": ("EURUSD", "EURUSD"), "weights": (1.0, 1.0)}, "symbols", "duplicate"),
        ({"weights": (1.0, 2.0)}, "weights", "expected 1 numbers"),
        ({"weights": (0.0,)}, "weights", "all weights are zero"),
        ({"weights": (101.0,)}, "weights", "[-100, 100]"),
        ({"weights": (math.nan,)}, "weights", "finite"),
    ],
)
def test_factor_series_refuses_what_is_not_an_index(kwargs, field, reason):
    values = {"name": "USD", "symbols": ("EURUSD",), "weights": (-1.0,), **kwargs}
    with pytest.raises(FieldError) as err:
        FactorSeries(**values)
    assert err.value.field == field
    assert reason in err.value.reason


def test_window_below_two_returns_is_refused():
    with pytest.raises(FieldError, match="factor_window"):
        FactorStream(MEMBERS, 1)
