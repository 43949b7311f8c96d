"""The study's figures (``app.sweep.summary``) on a small hand-made set of rows: exact
numbers for the counts, the Sharpe distribution, the selections and their DSR, the PBO (or
its "not enough" reason) and the heatmaps, with and without per-cluster rows."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from app.sweep.summary import (
    HeatmapSpec,
    default_heatmap,
    heatmap,
    pbo,
    pbo_blocks,
    per_period_sharpe,
    selections,
    sharpe_distribution,
    study_summary,
    varying_parameters,
)
from app.sweep.summary import counts as trial_counts
from engine.metrics.overfitting import (
    deflated_sharpe_over_trials,
    probability_of_backtest_overfitting,
)

DATES = [f"2024-01-{d:02d}" for d in range(1, 21)]


def _row(config, params, sample, sharpe, returns, *, fold=1, status="done", cluster=None,
         total_return=0.01, max_drawdown=0.02, baskets=3):
    row = {"id": f"{config}-{fold}-{sample}-{cluster}", "config": config, "params": params,
           "fold": fold, "sample": sample, "status": status, "sharpe": sharpe,
           "total_return": total_return, "max_drawdown": max_drawdown, "baskets": baskets,
           "daily_returns": [[d, r] for d, r in zip(DATES, returns, strict=False)]}
    if cluster is not None:
        row["cluster"] = cluster
    if status == "failed":
        row.update(sharpe=None, total_return=None, max_drawdown=None, baskets=None,
                   daily_returns=None)
    return row


def _series(seed, n=20, drift=0.0):
    rng = np.random.default_rng(seed)
    return [float(v) for v in drift + rng.normal(0, 0.01, n)]


PARAMS = {1: {"a": 1, "b": "x"}, 2: {"a": 2, "b": "x"}, 3: {"a": 1, "b": "y"},
          4: {"a": 2, "b": "y"}, 5: {"a": 2, "b": "y", "c": 0}}
IS_SHARPE = {1: 1.5, 2: 2.5, 3: -0.5, 4: 2.5}


@pytest.fixture()
def rows():
    """Four configurations on one fold (in-sample and out-of-sample), and a fifth whose
    in-sample trial failed."""
    out = []
    for c in (1, 2, 3, 4):
        out.append(_row(c, PARAMS[c], "is", IS_SHARPE[c], _series(c, drift=0.001 * c)))
        out.append(_row(c, PARAMS[c], "oos", -IS_SHARPE[c], _series(10 + c),
                        total_return=-0.01 * c))
    out.append(_row(5, PARAMS[5], "is", None, [], status="failed"))
    return out


def test_counts_take_failed_trials_as_tried(rows):
    # Act
    c = trial_counts(rows)
    # Assert
    assert (c["tried"], c["done"], c["failed"]) == (9, 8, 1)
    assert (c["configurations"], c["spans"], c["groups"], c["folds"]) == (5, 2, ["together"],
                                                                           [1])


def test_the_distribution_is_of_the_in_sample_sharpes_only(rows):
    # Act
    d = sharpe_distribution(rows)
    # Assert: the four done in-sample trials; the failed one is not done
    assert d["trials"] == 4 and d["defined"] == 4
    assert sorted(d["values"]) == [-0.5, 1.5, 2.5, 2.5]
    assert d["mean"] == 1.5 and d["median"] == 2.0 and d["min"] == -0.5 and d["max"] == 2.5
    assert d["std"] == pytest.approx(statistics.stdev([-0.5, 1.5, 2.5, 2.5]), abs=0)
    assert sum(d["histogram"]["counts"]) == 4
    assert 0.0 in d["histogram"]["edges"]


def test_the_selection_is_the_best_in_sample_sharpe_lowest_config_on_a_tie(rows):
    # Act
    (s,) = selections(rows)
    # Assert: configs 2 and 4 tie at 2.5: config 2
    assert (s["fold"], s["group"], s["config"], s["params"]) == (1, "together", 2, PARAMS[2])
    assert s["in_sample"]["sharpe"] == 2.5
    assert s["out_of_sample"]["sharpe"] == -2.5
    assert s["out_of_sample"]["total_return"] == pytest.approx(-0.02, abs=0)


@pytest.mark.parametrize(("baskets", "note"), [
    (3, "chosen on 3 closed baskets in-sample: the walk-forward (--min-baskets 5) would not "
        "choose it"),
    (1, "chosen on 1 closed basket in-sample: the walk-forward (--min-baskets 5) would not "
        "choose it"),
    (5, ""),
])
def test_a_choice_on_fewer_baskets_than_the_walk_forward_asks_for_says_so(rows, baskets,
                                                                           note):
    # Arrange: the chosen configuration (2) closed that many baskets in-sample
    for r in rows:
        if r["config"] == 2 and r["sample"] == "is":
            r["baskets"] = baskets
    # Act
    (s,) = selections(rows)
    # Assert: the same choice (by Sharpe alone), and what the walk-forward would say of it
    assert s["config"] == 2 and s["note"] == note


def test_the_dsr_uses_every_trial_tried_and_the_variance_of_their_sharpes(rows):
    # Arrange: the four done in-sample trials' per-day Sharpes and one failure
    sharpes = [per_period_sharpe(_series(c, drift=0.001 * c)) for c in (1, 2, 3, 4)]
    expected = deflated_sharpe_over_trials(sharpes, _series(2, drift=0.002), failed_trials=1)
    # Act
    (s,) = selections(rows)
    # Assert
    dsr = s["dsr"]
    assert (dsr["trials"], dsr["failed_trials"], dsr["defined_trials"]) == (5, 1, 4)
    assert dsr["dsr"] == expected.dsr
    assert dsr["trials_sharpe_variance"] == float(np.var(sharpes, ddof=1))
    assert dsr["expected_max_sharpe"] == expected.expected_max_sharpe
    assert dsr["observations"] == 20


def test_per_period_sharpe_is_mean_over_sample_std_and_undefined_without_dispersion():
    # Arrange
    values = [0.01, -0.02, 0.03]
    # Act / Assert
    assert per_period_sharpe(values) == pytest.approx(
        np.mean(values) / np.std(values, ddof=1), abs=0)
    assert math.isnan(per_period_sharpe([0.0, 0.0, 0.0]))
    assert math.isnan(per_period_sharpe([0.01]))


def test_the_pbo_needs_enough_periods_and_says_so(rows):
    # Arrange: four configurations' out-of-sample returns, only 7 days each
    short = [dict(r, daily_returns=r["daily_returns"][:7]) if r["sample"] == "oos" else r
             for r in rows]
    # Act
    result = pbo(short)
    # Assert
    assert not result["computed"] and result["pbo"] is None
    assert result["note"].startswith("not enough periods: 7 common daily returns")


def test_the_pbo_is_cscv_on_the_out_of_sample_returns_of_complete_configurations(rows):
    # Arrange: 20 out-of-sample days, 4 configurations (5 has no out-of-sample trial)
    matrix = np.array([_series(10 + c) for c in (1, 2, 3, 4)]).T
    expected = probability_of_backtest_overfitting(matrix, blocks=10)
    # Act
    result = pbo(rows)
    # Assert
    assert result["configurations"] == [1, 2, 3, 4]
    assert (result["periods"], result["blocks"], result["computed"]) == (20, 10, True)
    assert result["pbo"] == expected.pbo
    assert result["combinations"] == 252


def test_the_pbo_needs_two_configurations():
    # Arrange
    rows = [_row(1, {"a": 1}, "all", 1.0, _series(1), fold=0)]
    # Act
    result = pbo(rows)
    # Assert
    assert result["note"].startswith("not enough configurations: 1")


@pytest.mark.parametrize(("periods", "blocks"), [(7, 2), (8, 4), (20, 10), (31, 14),
                                                 (32, 16), (500, 16)])
def test_the_number_of_blocks_is_the_largest_even_at_most_16_and_half_the_periods(periods,
                                                                                  blocks):
    assert pbo_blocks(periods) == blocks


def test_the_heatmap_is_the_median_and_count_per_cell_over_the_rest(rows):
    # Arrange: a second fold's in-sample trials raise config 1's cell to two trials
    extra = [_row(1, PARAMS[1], "is", 0.5, _series(30), fold=2),
             _row(3, PARAMS[3], "is", None, _series(31), fold=2)]
    # Act
    h = heatmap(rows + extra, HeatmapSpec("a", "b"))
    # Assert: rows are b (x, y), columns a (1, 2); the failed config 5 has no value
    assert (h["x_values"], h["y_values"]) == ([1, 2], ["x", "y"])
    assert h["median"] == [[1.0, 2.5], [-0.5, 2.5]]
    assert h["count"] == [[2, 1], [1, 1]]


def test_the_heatmap_of_another_metric_on_the_out_of_sample_trials(rows):
    # Act
    h = heatmap(rows, HeatmapSpec("a", None, metric="total_return", sample="out-of-sample"))
    # Assert: one row; a=1: configs 1 and 3 (-0.01, -0.03), a=2: configs 2 and 4
    assert h["y_values"] == [None]
    assert h["median"] == [[pytest.approx(-0.02, abs=1e-18), pytest.approx(-0.03, abs=1e-18)]]
    assert h["count"] == [[2, 2]]


def test_a_bad_heatmap_is_refused_in_one_line(rows):
    with pytest.raises(ValueError, match="metric must be one of"):
        HeatmapSpec("a", "b", metric="pnl")
    with pytest.raises(ValueError, match="no parameter 'z'"):
        heatmap(rows, HeatmapSpec("a", "z"))


def test_the_default_heatmap_is_the_sharpe_by_the_first_two_varying_parameters(rows):
    # Act / Assert: c takes one value (0) where present: it does not vary
    assert varying_parameters(rows) == ["a", "b"]
    assert default_heatmap(rows) == HeatmapSpec("a", "b")


def test_per_cluster_rows_select_and_judge_each_cluster_apart(rows):
    # Arrange: the same configurations run alone for cluster K, with other Sharpes
    alone = [dict(r, cluster="K", id=r["id"] + "-K",
                  sharpe=(None if r["sharpe"] is None else -r["sharpe"])) for r in rows]
    # Act
    doc = study_summary(rows + alone)
    # Assert: a NULL cluster is "together"; K picks config 3 (its in-sample 0.5)
    picks = {s["group"]: s["config"] for s in doc["selections"]}
    assert picks == {"K": 3, "together": 2}
    assert [p["group"] for p in doc["pbo"]] == ["K", "together"]
    assert doc["counts"]["groups"] == ["K", "together"]
    alone_null = [dict(r, cluster=None) for r in rows]
    assert selections(alone_null) == selections(rows)
