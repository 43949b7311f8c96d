"""How much of a selected Sharpe survives the selection: the Deflated Sharpe Ratio of a choice
made among N trials, from the trials' own Sharpe ratios.

A walk-forward keeps, per cluster, the configuration with the best in-sample Sharpe among the
N it tried.  The best of N skill-less trials has a positive Sharpe by luck alone; Bailey and
Lopez de Prado (2014, "The deflated Sharpe ratio: correcting for selection bias, backtest
overfitting and non-normality", J. Portfolio Management 40(5)) give its expectation

    SR0 = sqrt(V) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e)))

with V the variance of the N trials' Sharpe estimates (across the trials, not one run's
estimator variance) and gamma the Euler-Mascheroni constant, and deflate the selected
Sharpe by testing it against SR0: DSR = PSR(SR0) on the selected run's own observations,
skewness and kurtosis.  The paper's numerical example (N = 100, V = 1/2 annualised, an
annualised Sharpe of 2.5 over T = 1250 daily returns, skewness -3, kurtosis 10) gives
SR0 = 0.1132 per day (1.7894 annualised) and DSR = 0.9004; the tests check that example.

Every Sharpe here is NON-annualised (per observation of the run's daily-return basis), as the
formula requires; the figures come from each run's metrics (``significance`` section), so
this module never re-derives returns and follows whatever daily basis the metrics use.

Out of sample nothing is selected: report the PSR there, not a DSR (N = 1 makes SR0 = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.metrics.significance import expected_max_sharpe, probabilistic_sharpe_ratio

#: How the trials' Sharpe variance is estimated (stated in every output that carries it).
TRIALS_VARIANCE_BASIS = (
    "sample variance (ddof=1) of the trials' non-annualised Sharpe ratios, over the trials "
    "whose Sharpe is defined"
)


def trials_sharpe_variance(sharpes: Sequence[float]) -> float:
    """V: the sample variance (ddof=1) of the trials' non-annualised Sharpe ratios.

    ddof=1 because the trials are a sample of the configurations one could have tried; it is
    also the cautious choice (a larger V raises SR0).  Undefined Sharpes (NaN: a trial without
    a trade has constant equity) are left out; NaN when fewer than two are defined.
    """
    values = np.asarray([s for s in sharpes if s is not None and math.isfinite(s)], dtype=float)
    if values.size < 2:
        return math.nan
    return float(np.var(values, ddof=1))


@dataclass(frozen=True)
class SelectionSignificance:
    """The DSR of one selection, with everything needed to recompute it.

    - ``trials``: N, every configuration tried for this selection (a trial whose Sharpe is
      undefined was still tried and still counts);
    - ``defined_trials``: the trials whose Sharpe is defined (those V is estimated from);
    - ``trials_sharpe_variance``: V (see :data:`TRIALS_VARIANCE_BASIS`);
    - ``expected_max_sharpe``: SR0, per observation;
    - ``sharpe_per_period``, ``observations``, ``skewness``, ``kurtosis`` (raw, normal = 3):
      the selected run's own figures;
    - ``dsr``: PSR(SR0), NaN with the reason in ``note`` when it cannot be computed.
    """

    trials: int
    defined_trials: int
    trials_sharpe_variance: float
    expected_max_sharpe: float
    sharpe_per_period: float
    observations: int
    skewness: float
    kurtosis: float
    dsr: float
    note: str = ""


def deflated_selection(
    sharpe_per_period: float,
    observations: int,
    skewness: float,
    kurtosis: float,
    trial_sharpes: Sequence[float],
) -> SelectionSignificance:
    """The DSR of a run selected among ``trial_sharpes`` (all N trials, the selected one
    included, each non-annualised; NaN for an undefined one)."""
    trials = len(trial_sharpes)
    if trials < 1:
        raise ValueError("a selection needs at least one trial")
    defined = sum(1 for s in trial_sharpes if s is not None and math.isfinite(s))
    variance = trials_sharpe_variance(trial_sharpes)
    note = ""
    if trials == 1:
        variance = 0.0 if not math.isfinite(variance) else variance
        threshold = 0.0  # nothing was selected: SR0 = 0, DSR = PSR(0)
    else:
        threshold = expected_max_sharpe(trials, variance)
        if not math.isfinite(threshold):
            note = (f"{defined} of {trials} trials have a defined Sharpe: the trials' Sharpe "
                    "variance needs at least 2")
    dsr = math.nan
    if math.isfinite(threshold):
        dsr = probabilistic_sharpe_ratio(
            sharpe_per_period, observations, skewness, kurtosis, threshold)
        if not math.isfinite(dsr):
            note = "the selected run's Sharpe or return moments are undefined"
    return SelectionSignificance(
        trials=trials, defined_trials=defined, trials_sharpe_variance=variance,
        expected_max_sharpe=threshold, sharpe_per_period=sharpe_per_period,
        observations=observations, skewness=skewness, kurtosis=kurtosis, dsr=dsr, note=note)


def combined_trials(trials_per_selection: Sequence[int]) -> int:
    """The number of distinct combinations the separate selections searched: the product of
    each selection's N (clusters choosing independently among G configurations each search
    G ** clusters mixes; with no interaction between them, picking each cluster's best is the
    same as picking the best mix)."""
    total = 1
    for n in trials_per_selection:
        if n < 1:
            raise ValueError(f"a selection has at least one trial, got {n}")
        total *= n
    return total
