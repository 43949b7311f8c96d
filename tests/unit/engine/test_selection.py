"""The Deflated Sharpe Ratio of a selection among N trials (engine.metrics.selection)."""

from __future__ import annotations

import math

import pytest

from engine.metrics.selection import (
    combined_trials,
    deflated_selection,
    trials_sharpe_variance,
)


def test_the_papers_numerical_example_gives_its_numbers():
    # Bailey and Lopez de Prado (2014), "A numerical example": N = 100 trials whose Sharpe
    # ratios have an annualised variance of 1/2, the best with an annualised Sharpe of 2.5 on
    # T = 1250 daily returns, skewness -3, kurtosis 10 -> SR0 = 0.1132, DSR = 0.9004.
    # Arrange: 100 trial Sharpes (per day) with exactly that sample variance.
    v = 0.5 / 250
    half = math.sqrt(v * 99 / 100)
    trials = [half if i % 2 else -half for i in range(100)]
    assert trials_sharpe_variance(trials) == pytest.approx(v, rel=1e-12)

    # Act
    s = deflated_selection(2.5 / math.sqrt(250), 1250, -3.0, 10.0, trials)

    # Assert
    assert s.trials == 100 and s.defined_trials == 100
    assert s.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert s.expected_max_sharpe * math.sqrt(250) == pytest.approx(1.7894, abs=5e-5)
    assert s.dsr == pytest.approx(0.9004, abs=5e-5)


def test_a_hand_worked_selection_of_four_trials():
    # Arrange: four trials' daily Sharpes; mean 0.0125, deviations 0.0275, -0.0325, 0.0075,
    # -0.0025: V = (0.00075625 + 0.00105625 + 0.00005625 + 0.00000625) / 3 = 0.000625
    trials = [0.04, -0.02, 0.02, 0.01]

    # Act
    s = deflated_selection(0.04, 120, 0.0, 3.0, trials)

    # Assert: SR0 = sqrt(V) ((1 - g) Z^-1(3/4) + g Z^-1(1 - 1/(4e)))
    #             = 0.025 (0.4227843 * 0.6744898 + 0.5772157 * 1.3287219) = 0.0263031
    # DSR = Phi((0.04 - 0.0263031) sqrt(119) / sqrt(1 + (3 - 1)/4 * 0.04^2)) = Phi(0.149356)
    assert s.trials_sharpe_variance == pytest.approx(0.000625, rel=1e-12)
    assert s.expected_max_sharpe == pytest.approx(0.0263031, abs=1e-7)
    assert s.dsr == pytest.approx(0.559364, abs=1e-6)
    assert s.note == ""


def test_undefined_trials_count_in_n_but_not_in_the_variance():
    # Arrange: one of three trials never traded (its Sharpe is undefined)
    trials = [0.05, math.nan, -0.01]

    # Act
    s = deflated_selection(0.05, 60, 0.0, 3.0, trials)

    # Assert
    assert s.trials == 3 and s.defined_trials == 2
    assert s.trials_sharpe_variance == pytest.approx(0.0018, rel=1e-12)
    assert math.isfinite(s.dsr)


def test_one_trial_is_no_selection_and_the_dsr_is_the_psr_against_zero():
    s = deflated_selection(0.05, 60, 0.0, 3.0, [0.05])
    assert s.expected_max_sharpe == 0.0
    assert s.dsr == pytest.approx(0.5 * math.erfc(-0.05 * math.sqrt(59)
                                                  / math.sqrt(1 + 0.5 * 0.0025) / math.sqrt(2)))


def test_fewer_than_two_defined_trials_leave_the_dsr_undefined_with_a_reason():
    s = deflated_selection(0.05, 60, 0.0, 3.0, [0.05, math.nan, math.nan])
    assert math.isnan(s.dsr)
    assert "1 of 3 trials" in s.note


def test_the_combined_count_of_independent_selections_is_their_product():
    assert combined_trials([6, 6, 6, 6]) == 1296
    assert combined_trials([]) == 1
    with pytest.raises(ValueError):
        combined_trials([4, 0])
