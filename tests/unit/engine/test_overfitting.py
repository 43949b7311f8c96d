"""PBO by combinatorially symmetric cross-validation and the DSR over a study's trials
(engine.metrics.overfitting)."""

from __future__ import annotations

import itertools
import math
import statistics
from statistics import NormalDist

import numpy as np
import pytest

from engine.metrics.overfitting import (
    DEFAULT_BLOCKS,
    deflated_sharpe_over_trials,
    probability_of_backtest_overfitting,
)

LN2 = math.log(2.0)
SQRT3 = math.sqrt(3.0)


def _two_trials() -> np.ndarray:
    # Two rows per block, S = 4 blocks: b0 = rows 0-1, b1 = 2-3, b2 = 4-5, b3 = 6-7.
    # Trial A gains in b0 and b1 and loses the same in b2 and b3; trial B earns 1 or 2 always.
    a = [3, 5, 3, 5, -3, -5, -3, -5]
    b = [1, 2, 1, 2, 1, 2, 1, 2]
    return np.column_stack([a, b]).astype(float)


def test_two_trials_four_blocks_give_the_six_splits_worked_by_hand():
    # Sharpe = mean / std(ddof=1) on 4 rows:
    #   A on {b0, b1} = 3,5,3,5: 4 / sqrt(4/3) = 2 sqrt3 = 3.464; on {b2, b3}: -2 sqrt3;
    #   A on one gaining and one losing block = 3,5,-3,-5: mean 0, Sharpe 0;
    #   B on any two blocks = 1,2,1,2: 1.5 / sqrt(1/3) = 1.5 sqrt3 = 2.598.
    # With N = 2, w = r / 3: 2/3 (lambda = +ln 2) when the chosen trial is the better one
    # out-of-sample, 1/3 (lambda = -ln 2) when it is the worse.
    #   IS {b0,b1}: A 3.464 > B 2.598, choose A; OOS {b2,b3}: A -3.464 < B -> w 1/3, -ln 2
    #   IS {b0,b2}: A 0 < B, choose B;          OOS {b1,b3}: A 0 < B      -> w 2/3, +ln 2
    #   IS {b0,b3}: B;                           OOS {b1,b2}: A 0 < B      -> +ln 2
    #   IS {b1,b2}: B;                           OOS {b0,b3}: A 0 < B      -> +ln 2
    #   IS {b1,b3}: B;                           OOS {b0,b2}: A 0 < B      -> +ln 2
    #   IS {b2,b3}: A -3.464 < B, choose B;      OOS {b0,b1}: A 3.464 > B  -> w 1/3, -ln 2
    # PBO = 2 / 6. Degradation: the points (2 sqrt3, -2 sqrt3) once and (1.5 sqrt3, 1.5 sqrt3)
    # five times: slope = (-2 - 1.5) sqrt3 / (0.5 sqrt3) = -7; one loss in six splits.
    # Act
    result = probability_of_backtest_overfitting(_two_trials(), blocks=4)

    # Assert
    assert result.combinations == 6 and result.trials == 2 and result.rows_per_block == 2
    assert result.pbo == pytest.approx(1 / 3, abs=1e-15)
    assert result.selected_trials == (0, 1, 1, 1, 1, 1)
    assert result.relative_ranks == pytest.approx((1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3))
    assert result.lambdas == pytest.approx((-LN2, LN2, LN2, LN2, LN2, -LN2), abs=1e-12)
    assert result.in_sample_sharpes == pytest.approx((2 * SQRT3,) + (1.5 * SQRT3,) * 5)
    assert result.out_of_sample_sharpes == pytest.approx(
        (-2 * SQRT3,) + (1.5 * SQRT3,) * 4 + (1.5 * SQRT3,))
    assert result.degradation_slope == pytest.approx(-7.0, abs=1e-12)
    assert result.probability_of_loss == pytest.approx(1 / 6)
    assert result.computed and result.note == ""


def test_identical_trials_tie_at_the_median_and_count_as_overfit():
    # Two equal columns: the lower column is chosen in-sample; out-of-sample it shares ranks
    # 1 and 2, r = 1.5, w = 1.5 / 3 = 0.5, lambda = 0, and lambda <= 0 counts.
    column = np.random.default_rng(3).normal(0.0, 1.0, 16)

    result = probability_of_backtest_overfitting(np.column_stack([column, column]), blocks=4)

    assert set(result.selected_trials) == {0}
    assert result.relative_ranks == (0.5,) * 6
    assert result.lambdas == (0.0,) * 6
    assert result.pbo == 1.0


def test_a_trial_that_dominates_every_block_gives_pbo_zero():
    # Arrange: 20 noise trials and one whose mean is ten standard deviations: it has the best
    # Sharpe on every half, in-sample and out-of-sample, so w = N / (N + 1) every time.
    rng = np.random.default_rng(11)
    matrix = rng.normal(0.0, 1.0, (64, 21))
    matrix[:, 7] += 10.0

    # Act
    result = probability_of_backtest_overfitting(matrix, blocks=8)

    # Assert
    assert result.pbo == 0.0
    assert set(result.selected_trials) == {7}
    assert set(result.relative_ranks) == {21 / 22}
    assert result.lambdas == pytest.approx((math.log(21.0),) * 70, rel=1e-15)
    assert result.probability_of_loss == 0.0


def test_pure_noise_has_a_pbo_near_one_half():
    # One noise matrix (256 days x 50 trials, S = 16): the 12,870 splits share their data, so
    # a single matrix's PBO strays far from 1/2 (seeds 0-7 give 0.16 to 0.80); pinned here.
    rng = np.random.default_rng(2)
    single = probability_of_backtest_overfitting(rng.normal(0.0, 0.01, (256, 50)))
    assert single.combinations == 12_870
    assert round(single.pbo * 12_870) == 6_889  # 0.53528

    # Over 200 independent noise matrices (160 x 50, S = 8, 70 splits each) the mean is 1/2
    # within 3 standard errors (observed SE 0.013): pinned at 7,169 overfit splits of 14,000.
    rng = np.random.default_rng(2015)
    pbos = [probability_of_backtest_overfitting(rng.normal(0.0, 0.01, (160, 50)), 8).pbo
            for _ in range(200)]
    assert round(sum(pbos) * 70) == 7_169
    assert abs(statistics.fmean(pbos) - 0.5) < 0.04


@pytest.mark.parametrize(("blocks", "expected"), [(2, 2), (4, 6), (8, 70), (16, 12_870)])
def test_there_is_one_split_per_choice_of_half_the_blocks(blocks, expected):
    matrix = np.random.default_rng(blocks).normal(0.0, 1.0, (2 * blocks, 3))

    result = probability_of_backtest_overfitting(matrix, blocks=blocks)

    assert result.combinations == math.comb(blocks, blocks // 2) == expected
    assert len(result.lambdas) == len(result.selected_trials) == expected


def test_the_order_of_the_trial_columns_changes_nothing():
    # Arrange
    rng = np.random.default_rng(5)
    matrix = rng.normal(0.0, 0.01, (96, 30))
    order = rng.permutation(30)

    # Act
    straight = probability_of_backtest_overfitting(matrix, blocks=8)
    shuffled = probability_of_backtest_overfitting(matrix[:, order], blocks=8)

    # Assert: the same splits, the same figures, the same trials under their new columns
    assert shuffled.pbo == straight.pbo
    assert shuffled.lambdas == straight.lambdas
    assert shuffled.in_sample_sharpes == straight.in_sample_sharpes
    assert shuffled.out_of_sample_sharpes == straight.out_of_sample_sharpes
    assert tuple(int(order[i]) for i in shuffled.selected_trials) == straight.selected_trials


def test_the_half_sharpes_equal_mean_over_std_of_the_halfs_rows():
    # The module combines block means and sums of squares; recompute each split directly.
    rng = np.random.default_rng(9)
    matrix = rng.normal(0.001, 0.01, (40, 4))
    blocks = np.split(matrix, 4)

    result = probability_of_backtest_overfitting(matrix, blocks=4)

    for k, in_sample in enumerate(itertools.combinations(range(4), 2)):
        rows_is = np.vstack([blocks[b] for b in in_sample])
        rows_oos = np.vstack([blocks[b] for b in range(4) if b not in in_sample])
        sharpe_is = rows_is.mean(axis=0) / rows_is.std(axis=0, ddof=1)
        sharpe_oos = rows_oos.mean(axis=0) / rows_oos.std(axis=0, ddof=1)
        chosen = int(np.argmax(sharpe_is))
        rank = 1 + int((sharpe_oos < sharpe_oos[chosen]).sum())
        assert result.selected_trials[k] == chosen
        assert result.in_sample_sharpes[k] == pytest.approx(sharpe_is[chosen], rel=1e-12)
        assert result.out_of_sample_sharpes[k] == pytest.approx(sharpe_oos[chosen], rel=1e-12)
        assert result.relative_ranks[k] == rank / 5


def test_rows_beyond_equal_blocks_are_dropped_from_the_start():
    matrix = _two_trials()
    older = np.vstack([[100.0, -100.0], matrix])

    result = probability_of_backtest_overfitting(older, blocks=4)

    assert result.rows_used == 8
    assert result.lambdas == probability_of_backtest_overfitting(matrix, blocks=4).lambdas


def test_too_few_periods_is_a_result_the_caller_can_show():
    matrix = np.random.default_rng(1).normal(0.0, 1.0, (31, 5))

    result = probability_of_backtest_overfitting(matrix)

    assert not result.computed and math.isnan(result.pbo)
    assert result.blocks == DEFAULT_BLOCKS and result.combinations == 12_870
    assert result.note.startswith("not enough periods: 31 row(s) for 16 blocks")


@pytest.mark.parametrize(
    ("matrix", "blocks", "message"),
    [
        (np.zeros((32, 1)), 4, "N >= 2"),
        (np.zeros((32, 3)), 5, "even int"),
        (np.zeros((32, 3)), 0, "even int"),
        (np.zeros((64, 3)), 22, "even int"),
        (np.zeros(32), 4, "T x N matrix"),
        (np.array([[0.0, math.nan]] * 32), 4, "32 NaN or infinite"),
    ],
)
def test_malformed_input_is_one_clear_error(matrix, blocks, message):
    with pytest.raises(ValueError, match=message):
        probability_of_backtest_overfitting(matrix, blocks=blocks)


def _dsr_written_out(trial_sharpes: list[float], returns: list[float], trials: int) -> float:
    """Bailey and Lopez de Prado (2014), from the statistics module and plain sums."""
    t = len(returns)
    sharpe = statistics.fmean(returns) / statistics.stdev(returns)
    mean = statistics.fmean(returns)
    m2 = sum((r - mean) ** 2 for r in returns) / t
    skew = sum((r - mean) ** 3 for r in returns) / t / m2**1.5
    kurt = sum((r - mean) ** 4 for r in returns) / t / m2**2
    variance = statistics.variance([s for s in trial_sharpes if not math.isnan(s)])
    gamma, z = 0.5772156649015329, NormalDist()
    sr0 = math.sqrt(variance) * ((1 - gamma) * z.inv_cdf(1 - 1 / trials)
                                 + gamma * z.inv_cdf(1 - 1 / (trials * math.e)))
    spread = math.sqrt(1 - skew * sharpe + (kurt - 1) / 4 * sharpe**2)
    return z.cdf((sharpe - sr0) * math.sqrt(t - 1) / spread)


def test_the_dsr_over_the_trials_run_matches_the_formula_written_out():
    # Arrange: 40 trials' daily Sharpes, one undefined (never traded), and the selected
    # trial's 500 daily returns with a drift.
    rng = np.random.default_rng(17)
    sharpes = [float(s) for s in rng.normal(0.0, 0.04, 40)]
    sharpes[3] = math.nan
    returns = [float(r) for r in rng.standard_t(5, 500) * 0.004 + 0.0003]

    # Act
    result = deflated_sharpe_over_trials(sharpes, returns)
    with_failures = deflated_sharpe_over_trials(sharpes, returns, failed_trials=10)

    # Assert: N counts the undefined trial, V leaves it out; failures raise N only
    assert result.trials == 40 and result.defined_trials == 39 and result.observations == 500
    assert result.dsr == pytest.approx(_dsr_written_out(sharpes, returns, 40), rel=1e-10)
    assert result.dsr == pytest.approx(0.8061460, abs=1e-7)
    assert with_failures.trials == 50 and with_failures.defined_trials == 39
    assert with_failures.trials_sharpe_variance == result.trials_sharpe_variance
    assert with_failures.dsr == pytest.approx(_dsr_written_out(sharpes, returns, 50), rel=1e-10)
    assert with_failures.dsr < result.dsr


def test_the_dsr_rejects_a_negative_failure_count():
    with pytest.raises(ValueError, match="failed_trials"):
        deflated_sharpe_over_trials([0.1, 0.2], [0.01, -0.01, 0.02], failed_trials=-1)


@pytest.mark.parametrize(("a", "b"), [(0.01, 0.37), (0.0031, 0.029), (0.3, 0.07)])
def test_sharpes_tied_in_exact_arithmetic_are_ties_whatever_their_last_bits(a, b):
    # Arrange: columns 0 and 1 hold one non-zero return each, in the same row (3): over a
    # half holding that row each Sharpe is exactly the same number whatever the return
    # (one non-zero value among the half's rows), which the block moments give with
    # different last bits; column 2 loses money everywhere
    rng = np.random.default_rng(0)
    matrix = np.zeros((32, 3))
    matrix[3, 0], matrix[3, 1] = a, b
    matrix[:, 2] = rng.normal(-0.01, 0.02, 32)

    # Act
    result = probability_of_backtest_overfitting(matrix, blocks=4)

    # Assert: the stated rule, the lowest column on a tie, in the three halves holding the
    # row (rounding chose column 1 in some); where the row is out-of-sample, columns 0 and 1
    # have no Sharpe in-sample and column 2 is chosen
    assert result.selected_trials == (0, 0, 0, 2, 2, 2)
    # column 0 out-of-sample: no Sharpe, tied with column 1 below column 2: mid-rank 1.5 of 3
    assert result.relative_ranks[:3] == (1.5 / 4,) * 3
