"""The walk-forward grid and each cluster's choice among its trials (N per selection)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from app.walkforward import apply_params, load_grid
from app.walkforward.grid import alone, check_grid
from app.walkforward.scores import RunScore, Trial, choose
from engine.cluster import ClusterSpec
from engine.config import load_engine_config
from engine.errors import ConfigError, UserError


def _grid(tmp_path, text):
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_grid_covers_the_tdi_windows_the_exit_and_the_signal_fields(tmp_path):
    # Arrange
    path = _grid(tmp_path, 'tau_s = [96, 192]\ntau_q = [480]\nexit = [0.25, 0.5]\n'
                           'space = ["symbol", "currency"]\ntimeframe = ["H1"]\n'
                           'overshoot = ["E"]\nfactor = ["pc1"]\n')
    spec = ClusterSpec(name="T", symbols=("EURUSD", "GBPUSD", "AUDUSD"), magic=1)

    # Act
    grid = load_grid(path)
    applied = [apply_params(spec, params) for params in grid]

    # Assert: 2 x 1 x 2 x 2 x 1 x 1 x 1 configurations, each passed to the cluster
    assert len(grid) == 8
    last = applied[-1]
    assert (last.tdi.tau_s, last.tdi.tau_q, last.exit_band) == (192, 480, 0.5)
    assert (last.space, last.timeframe, last.overshoot, last.factor) == \
        ("currency", "H1", "E", "pc1")
    assert {a.space for a in applied} == {"symbol", "currency"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("tau_x = [1]\n", "tau_x: unknown grid key"),
        ("space = [1]\n", "space: expected str values, got 1"),
        ("tau_f = [4.5]\n", "tau_f: expected int values"),
        ("entry = [1.2, 1.2]\n", "entry: a value is listed twice"),
        ("entry = []\n", "entry: expected a non-empty list"),
    ],
)
def test_a_bad_grid_is_a_config_error_naming_the_key(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as caught:
        load_grid(_grid(tmp_path, text))
    assert fragment in str(caught.value)


def test_a_value_the_cluster_refuses_is_caught_before_any_run(tmp_path):
    config = load_engine_config(None).with_clusters(["USD_MAJORS"])
    with pytest.raises(UserError, match=r"grid: space: .*cluster USD_MAJORS"):
        check_grid(config, [{"space": "planet"}])


def test_a_trial_runs_its_cluster_alone_with_the_configuration():
    config = load_engine_config(None)
    one = alone(config, "GOLD_HAVENS", {"entry": 1.7})
    assert [c.name for c in one.clusters] == ["GOLD_HAVENS"]
    assert one.clusters[0].entry == 1.7


def _trial(config, sharpe, baskets, cluster="A"):
    per_day = sharpe / math.sqrt(252) if math.isfinite(sharpe) else math.nan
    score = RunScore(sharpe=sharpe, sharpe_per_period=per_day, observations=120, skewness=0.0,
                     kurtosis=3.0, psr=math.nan, baskets=baskets, pnl=0.0, total_return=0.0,
                     max_drawdown=0.0)
    return Trial(1, cluster, config, {"entry": 1.0 + config / 10}, score, pd.Series(dtype=float))


def test_the_choice_is_the_best_qualifying_trial_and_n_counts_every_trial():
    # Arrange: six configurations; the best Sharpe (3) has too few baskets, one never traded
    trials = [_trial(1, 0.5, 10), _trial(2, 3.0, 2), _trial(3, 1.5, 8),
              _trial(4, math.nan, 0), _trial(5, -1.0, 12), _trial(6, 1.5, 9)]

    # Act
    choice = choose("A", trials, min_baskets=5)

    # Assert: config 3 (1.5, first in grid order among the ties), N = 6 trials, V over the
    # five defined Sharpes
    assert choice.trial is not None and choice.trial.config == 3
    assert choice.params == {"entry": 1.3}
    s = choice.significance
    assert s is not None
    assert (s.trials, s.defined_trials) == (6, 5)
    defined = [0.5, 3.0, 1.5, -1.0, 1.5]
    mean = sum(defined) / 5
    expected_v = sum((x - mean) ** 2 for x in defined) / 4 / 252
    assert s.trials_sharpe_variance == pytest.approx(expected_v, rel=1e-12)
    assert 0.0 < s.dsr < 1.0


def test_no_qualifying_trial_keeps_the_configured_parameters_and_says_so():
    choice = choose("A", [_trial(1, 2.0, 1), _trial(2, math.nan, 0)], min_baskets=5)
    assert choice.trial is None and choice.params == {} and choice.significance is None
    assert "configured parameters are kept" in choice.note


def test_a_grid_of_tdi_windows_is_refused_for_a_pair_cluster():
    # Arrange: a pair's model ignores the TDI's windows: every trial would be the same
    from engine.cluster import StopParams
    from engine.config import EngineConfig

    pair = ClusterSpec("EUGB", ("EURUSD", "GBPUSD"), 1, kind="pair", entry=2.0, exit_band=0.5,
                       stops=StopParams(tdi_stop=4.0))
    # Act / Assert
    with pytest.raises(UserError, match="tau_s is a setting of the TDI; cluster EUGB is a pair"):
        check_grid(EngineConfig(clusters=(pair,)), [{"tau_s": 96}])
    check_grid(EngineConfig(clusters=(pair,)), [{"entry": 2.5, "exit": 0.5}])  # shared keys
