"""The ``correlation`` kind on constructed series: batch against streaming, truncation, no
look-ahead, the correlations and their interval against direct computations, the regime's
hysteresis at exact bars, the thresholds changed at run time, the provisional score and the
``trade`` basket."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.kinds.correlation import (
    BROKEN,
    NORMAL,
    CorrelationModel,
    RegimeTracker,
    correlation_batch,
)
from engine.kinds.correlation_params import CorrelationParams
from engine.model import Direction

SYMBOLS = ("SPXUSD", "XAUUSD")
TOLERANCE = 1e-9
#: The standard normal quantile of 0.975, as printed in every table.
Z_975 = 1.959963984540054


def lock_params(**kw: object) -> CorrelationParams:
    return CorrelationParams(targets=("USD_MAJORS",), **kw)  # type: ignore[arg-type]


def regime_switching_closes(n: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Two assets sharing a factor whose loading on the second flips every 350 bars, with
    a missing close and a flat stretch to exercise invalid windows."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, 3)) * 1e-3
    loading = np.where(np.arange(n) % 700 < 350, 0.9, -0.9)
    returns = np.c_[noise[:, 0] + noise[:, 2], 2.0 * (noise[:, 1] + loading * noise[:, 2])]
    closes = np.c_[2900.0, 1300.0] * np.exp(np.cumsum(returns, axis=0))
    closes[900, 1] = np.nan          # a missing close: every window holding it is invalid
    closes[1200:1230, 0] = closes[1200, 0]  # 29 flat returns: no variance in a fast window
    index = pd.date_range("2019-03-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(closes, index=index, columns=list(SYMBOLS))


def stream(closes: pd.DataFrame, params: CorrelationParams, **kw: float) -> list:
    model = CorrelationModel(SYMBOLS, params, **kw)
    return [model.update(row, i) for i, row in enumerate(closes.to_numpy())]


def sign_flip_closes(flip_at: int = 400, n: int = 800) -> pd.DataFrame:
    """Returns of +-0.1% alternating each bar; the second asset's equal the first's until
    ``flip_at`` and their opposite from it on.  A window holding m returns of the second
    kind then has a correlation of (n - 2m)/n (exactly, when m is even)."""
    t = np.arange(n)
    x = 1e-3 * (-1.0) ** t
    y = np.where(t >= flip_at, -x, x)
    x[0] = y[0] = 0.0
    return pd.DataFrame({SYMBOLS[0]: 100 * np.exp(np.cumsum(x)),
                         SYMBOLS[1]: 50 * np.exp(np.cumsum(y))})


@pytest.mark.parametrize("rule", ["crossing", "sign_flip"])
def test_batch_equals_streaming(rule: str) -> None:
    # Arrange
    closes = regime_switching_closes()
    params = lock_params(rule=rule)
    # Act
    batch = correlation_batch(closes, params)
    points = stream(closes, params)
    # Assert
    assert [p.valid for p in points] == batch["valid"].tolist()
    assert [p.regime for p in points] == batch["regime"].tolist()
    assert [int(p.diagnostics[-1]) for p in points] == batch["regime_bars"].tolist()
    scores = np.array([p.score for p in points])
    np.testing.assert_allclose(scores, batch["score"], rtol=0, atol=TOLERANCE)
    diagnostics = np.array([p.diagnostics[:4] for p in points])
    np.testing.assert_allclose(
        diagnostics, batch[["rho_fast", "rho_fast_lo", "rho_fast_hi", "rho_slow"]],
        rtol=0, atol=TOLERANCE)
    assert batch["valid"].sum() > 1000
    # the NaN close makes returns 900 and 901 NaN: invalid until the slow window passes them
    assert not batch["valid"].iloc[[900, 901, 1140]].any() and batch["valid"].iloc[1141]
    # returns 1201..1229 are zero: the fast windows ending at 1224..1229 have no variance
    assert not batch["valid"].iloc[1224:1230].any()
    assert batch["valid"].iloc[1223] and batch["valid"].iloc[1230]
    assert {"normal", "broken"} <= set(batch["regime"])


def test_short_windows_agree_across_the_buffer_compactions() -> None:
    # Arrange: a buffer of 8 slow windows (80 returns) compacts every 70 bars
    closes = regime_switching_closes()
    params = lock_params(fast_window=5, slow_window=10, rule="sign_flip")
    # Act
    batch = correlation_batch(closes, params)
    points = stream(closes, params)
    # Assert
    np.testing.assert_allclose([p.score for p in points], batch["score"], rtol=0,
                               atol=TOLERANCE)
    assert [p.regime for p in points] == batch["regime"].tolist()


def test_windows_start_at_the_slow_window() -> None:
    # Arrange
    closes = regime_switching_closes().iloc[:400]
    params = lock_params()
    # Act
    batch = correlation_batch(closes, params)
    model = CorrelationModel(SYMBOLS, params)
    # Assert: bar 240 is the first with 240 returns (closes 0..240)
    assert model.warmup_bars == 240
    assert not batch["valid"].iloc[:240].any() and batch["valid"].iloc[240]
    assert (batch["regime"].iloc[:240] == "").all() and batch["regime_bars"].iloc[240] == 1


@pytest.mark.parametrize("rule", ["crossing", "sign_flip"])
def test_scores_are_invariant_under_truncating_the_start(rule: str) -> None:
    # Arrange
    closes = regime_switching_closes()
    params = lock_params(rule=rule)
    cut = 333
    # Act
    full = correlation_batch(closes, params)
    late = correlation_batch(closes.iloc[cut:], params)
    late_stream = stream(closes.iloc[cut:], params)
    # Assert: every bar where the truncated history is warm agrees
    warm = slice(cut + params.slow_window, None)
    np.testing.assert_allclose(late["score"].iloc[params.slow_window:], full["score"].iloc[warm],
                               rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose([p.score for p in late_stream[params.slow_window:]],
                               full["score"].iloc[warm], rtol=0, atol=TOLERANCE)


def test_the_regime_agrees_after_truncation_once_a_score_passes_the_entry() -> None:
    # Arrange: hysteresis depends on where it starts, until a score forces the state
    closes = regime_switching_closes()
    params = lock_params()
    cut = 333
    full = correlation_batch(closes, params).iloc[cut:]
    late = correlation_batch(closes.iloc[cut:], params)
    # Act
    forced = np.flatnonzero((late["score"].abs() > 2.0).to_numpy())[0]
    # Assert
    assert late["regime"].iloc[forced:].tolist() == full["regime"].iloc[forced:].tolist()


def test_no_look_ahead() -> None:
    # Arrange
    closes = regime_switching_closes()
    params = lock_params()
    t = 700
    changed = closes.copy()
    changed.iloc[t + 1:] *= np.linspace(0.5, 2.0, len(closes) - t - 1)[:, None]
    # Act
    before = correlation_batch(closes, params)
    after = correlation_batch(changed, params)
    # Assert
    pd.testing.assert_frame_equal(before.iloc[:t + 1], after.iloc[:t + 1])
    assert not np.allclose(before["score"].iloc[t + 1:], after["score"].iloc[t + 1:],
                           equal_nan=True)


def test_rho_is_the_pearson_correlation_of_log_returns_on_the_same_windows() -> None:
    # Arrange
    closes = regime_switching_closes().iloc[:880]   # before the missing close
    params = lock_params()
    returns = np.log(closes).diff()
    # Act
    batch = correlation_batch(closes, params)
    # Assert
    for window, column in ((params.fast_window, "rho_fast"), (params.slow_window, "rho_slow")):
        expected = returns.iloc[:, 0].rolling(window).corr(returns.iloc[:, 1])
        warm = slice(params.slow_window, None)
        np.testing.assert_allclose(batch[column].iloc[warm], expected.iloc[warm],
                                   rtol=0, atol=1e-12)
    t = 600
    window = returns.iloc[t - params.fast_window + 1:t + 1].to_numpy()
    assert batch["rho_fast"].iloc[t] == pytest.approx(np.corrcoef(window.T)[0, 1], abs=1e-12)


def test_the_fisher_interval_is_the_direct_computation() -> None:
    # Arrange
    closes = regime_switching_closes().iloc[:880]
    params = lock_params(confidence=0.95)
    batch = correlation_batch(closes, params).iloc[params.slow_window:]
    # Act
    rho = batch["rho_fast"].to_numpy()
    z = 0.5 * np.log((1 + rho) / (1 - rho))
    half = Z_975 / math.sqrt(params.fast_window - 3)
    # Assert
    np.testing.assert_allclose(batch["rho_fast_lo"], np.tanh(z - half), rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch["rho_fast_hi"], np.tanh(z + half), rtol=0, atol=1e-12)
    assert (batch["rho_fast_lo"] < batch["rho_fast"]).all()
    assert (batch["rho_fast"] < batch["rho_fast_hi"]).all()


def test_scores_are_the_documented_z_statistics() -> None:
    # Arrange
    closes = regime_switching_closes().iloc[:880]
    crossing = correlation_batch(closes, lock_params(rule="crossing")).iloc[240:]
    flip = correlation_batch(closes, lock_params(rule="sign_flip")).iloc[240:]
    # Act
    zf, zs = np.arctanh(crossing["rho_fast"]), np.arctanh(crossing["rho_slow"])
    # Assert
    np.testing.assert_allclose(crossing["score"], (zf - zs) / math.sqrt(1 / 21 + 1 / 237),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(flip["score"], np.sign(crossing["rho_slow"]) * zf * math.sqrt(21),
                               rtol=0, atol=1e-12)


def test_crossing_hysteresis_on_a_score_sequence() -> None:
    # Arrange: E = 2, X = 0.5
    scores = [0.0, 1.9, 2.1, 1.0, 0.6, -2.5, 0.4, 0.0, -2.01, math.nan, -0.49]
    valid = [not math.isnan(s) for s in scores]
    tracker = RegimeTracker("crossing", 2.0, 0.5)
    # Act
    steps = [tracker.step(s, v) for s, v in zip(scores, valid, strict=True)]
    # Assert: broken above |2|, normal again only below |0.5|; no score holds the regime
    assert steps == [(NORMAL, 1), (NORMAL, 2), (BROKEN, 1), (BROKEN, 2), (BROKEN, 3),
                     (BROKEN, 4), (NORMAL, 1), (NORMAL, 2), (BROKEN, 1), (BROKEN, 2),
                     (NORMAL, 1)]


def test_sign_flip_hysteresis_is_one_sided() -> None:
    # Arrange
    scores = [3.0, -1.9, -2.1, 5.0, -0.6, -0.4, 2.5]
    tracker = RegimeTracker("sign_flip", 2.0, 0.5)
    # Act
    steps = [tracker.step(s, True) for s in scores]
    # Assert: only a significantly opposite sign breaks; any score above -X restores
    assert steps == [(NORMAL, 1), (NORMAL, 2), (BROKEN, 1), (NORMAL, 1), (NORMAL, 2),
                     (NORMAL, 3), (NORMAL, 4)]


def test_warm_up_has_no_regime_and_the_first_valid_bar_may_start_broken() -> None:
    tracker = RegimeTracker("crossing", 2.0, 0.5)
    assert tracker.step(math.nan, False) == ("", 0)
    assert tracker.step(-3.0, True) == (BROKEN, 1)


def test_sign_flip_breaks_and_recovers_at_the_exact_bars() -> None:
    # Arrange: the flip at bar 400; n_f = 24, n_s = 241 (odd, so rho_s never sits at 0)
    closes = sign_flip_closes()
    params = lock_params(rule="sign_flip", slow_window=241)
    # Act
    batch = correlation_batch(closes, params)
    changes = batch.index[batch["regime"].ne(batch["regime"].shift())
                          & batch["regime"].ne("")].tolist()
    # Assert.  Bar 415: 16 flipped returns of 24, rho_f = -1/3, score = atanh(-1/3) sqrt(21)
    # = -1.59; bar 416: 17 of 24, rho_f = -0.418, score -2.04 < -2: broken.  Bar 520: 121 of
    # 241 flipped, rho_s turns negative, so the fast correlation (-1) has the slow regime's
    # sign: the score jumps above -X and the regime is normal again, 104 bars later.
    assert changes == [241, 416, 520]
    assert batch["rho_fast"].iloc[415] == pytest.approx(-1 / 3, abs=1e-12)
    assert batch["score"].iloc[415] == pytest.approx(math.atanh(-1 / 3) * math.sqrt(21))
    assert batch["regime"].iloc[416] == BROKEN and batch["regime_bars"].iloc[519] == 104
    assert batch["rho_slow"].iloc[519] > 0 > batch["rho_slow"].iloc[520]
    assert [p.regime for p in stream(closes, params)] == batch["regime"].tolist()


def test_changed_thresholds_apply_from_the_next_bar() -> None:
    # Arrange
    closes = sign_flip_closes().to_numpy()
    params = lock_params(rule="sign_flip", slow_window=241)
    model = CorrelationModel(SYMBOLS, params)
    points = [model.update(row, i) for i, row in enumerate(closes[:415])]
    # Act
    model.set_thresholds(1.5, 0.5)
    at_415 = model.update(closes[415], 415)
    # Assert: the bar already closed kept its regime; bar 415 (-1.59) breaks at E = 1.5
    assert points[-1].regime == NORMAL
    assert at_415.regime == BROKEN and at_415.score == pytest.approx(-1.588, abs=1e-3)
    assert (model.entry, model.exit_band) == (1.5, 0.5)
    with pytest.raises(ValueError, match="exit_band"):
        model.set_thresholds(1.0, 1.0)


def test_provisional_is_the_score_the_bar_would_close_with() -> None:
    # Arrange: every bar of a history with a missing close and a flat stretch
    closes = regime_switching_closes().to_numpy()
    model = CorrelationModel(SYMBOLS, lock_params())
    forming, closed = [], []
    # Act: a first guess at other prices (the cached moments serve both calls), then the
    # prices the bar closes at
    for i, row in enumerate(closes):
        model.provisional(row * 1.001)
        forming.append(model.provisional(row))
        closed.append(model.update(row, i).score)
    # Assert
    np.testing.assert_allclose(forming, closed, rtol=0, atol=TOLERANCE)
    assert all(math.isnan(f) for f in forming[:240])
    assert np.isfinite(forming[240:]).sum() > 1000


def test_trade_exposures_are_inverse_volatility_weights_of_unit_gross() -> None:
    # Arrange: the second asset's returns are twice as volatile
    closes = regime_switching_closes().iloc[:600]
    params = CorrelationParams(action="trade", weights=(1.0, -1.0))
    points = stream(closes, params)
    returns = np.log(closes).diff().iloc[-240:]
    vol = returns.std(ddof=1).to_numpy()
    # Act
    long = CorrelationModel(SYMBOLS, params).exposures(points[-1], Direction.LONG)
    short = CorrelationModel(SYMBOLS, params).exposures(points[-1], Direction.SHORT)
    # Assert
    expected = np.array([1 / vol[0], -1 / vol[1]]) / (1 / vol[0] + 1 / vol[1])
    np.testing.assert_allclose(list(long.values()), expected, rtol=1e-12)
    assert list(long) == list(SYMBOLS)
    assert long[SYMBOLS[0]] > 0 > long[SYMBOLS[1]]
    assert short == {s: -v for s, v in long.items()}
    assert sum(abs(v) for v in long.values()) == pytest.approx(1.0)
    risks = [abs(long[s]) * v for s, v in zip(SYMBOLS, vol, strict=True)]
    assert risks[0] == pytest.approx(risks[1])   # equal risk per leg
    assert CorrelationModel(SYMBOLS, params).trades


def test_a_lock_cluster_holds_no_basket_and_an_invalid_point_sizes_none() -> None:
    # Arrange
    closes = regime_switching_closes().iloc[:300]
    lock_points = stream(closes, lock_params())
    trade = CorrelationModel(SYMBOLS, CorrelationParams(action="trade"))
    warming = trade.update(closes.to_numpy()[0], 0)
    # Act / Assert
    assert not CorrelationModel(SYMBOLS, lock_params()).trades
    assert all(p.lock == "" for p in lock_points)
    with pytest.raises(ValueError, match="lock"):
        CorrelationModel(SYMBOLS, lock_params()).exposures(lock_points[-1], Direction.LONG)
    with pytest.raises(ValueError, match="volatility"):
        trade.exposures(warming, Direction.LONG)


def test_the_model_watches_exactly_two_symbols() -> None:
    with pytest.raises(ValueError, match="exactly two"):
        CorrelationModel(("EURUSD", "GBPUSD", "USDJPY"), lock_params())
    with pytest.raises(ValueError, match="exactly two"):
        CorrelationModel(("EURUSD", "EURUSD"), lock_params())


def test_diagnostics_are_named_in_order() -> None:
    closes = regime_switching_closes().iloc[:300]
    model = CorrelationModel(SYMBOLS, lock_params())
    point = [model.update(row, i) for i, row in enumerate(closes.to_numpy())][-1]
    shown = model.diagnostics_of(point)
    assert list(shown) == ["rho_fast", "rho_fast_lo", "rho_fast_hi", "rho_slow", "regime_bars"]
    assert shown["rho_fast_lo"] < shown["rho_fast"] < shown["rho_fast_hi"]
    assert 1 <= shown["regime_bars"] <= 60   # bars 240..299 are valid
