"""Is the Sharpe real?  PSR, DSR and a z-test of the mean daily return, and the
:class:`SignificanceMetrics` section of the report built from them.

All on NON-annualised daily figures; definitions and references are in the
:mod:`engine.metrics` docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from engine.metrics.inputs import MetricsConfig
from engine.metrics.returns import (
    ZERO_DISPERSION,
    _as_returns,
    _Measured,
    _sample_std,
    _sharpe_per_period,
    _std_note,
)

#: Euler-Mascheroni constant of the expected-maximum formula (Bailey and Lopez de Prado 2014).
EULER_MASCHERONI = 0.5772156649015329

_NORMAL = NormalDist()


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Skewness m3 / m2^1.5 and RAW kurtosis m4 / m2^2 (biased moment estimators)."""
    if values.size < 2:
        return math.nan, math.nan
    deviations = values - values.mean()
    m2 = float(np.mean(deviations**2))
    if math.sqrt(m2) <= ZERO_DISPERSION:
        return math.nan, math.nan
    m3 = float(np.mean(deviations**3))
    m4 = float(np.mean(deviations**4))
    return m3 / m2**1.5, m4 / m2**2


def _sharpe_variance_term(sharpe: float, skewness: float, kurtosis: float) -> float:
    return 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2


def _psr(
    sharpe: float, observations: int, skewness: float, kurtosis: float, benchmark: float
) -> _Measured:
    if observations < 2:
        return _Measured(math.nan, f"{observations} daily return(s): the PSR needs at least 2")
    if not all(math.isfinite(x) for x in (sharpe, skewness, kurtosis, benchmark)):
        return _Measured(math.nan, "the Sharpe ratio or the return moments are undefined")
    term = _sharpe_variance_term(sharpe, skewness, kurtosis)
    if term <= 0.0:
        return _Measured(
            math.nan,
            f"1 - g3 SR + (g4 - 1)/4 SR^2 = {term:.6g} <= 0: the Sharpe estimator's variance "
            "is degenerate (two-point return distribution)",
        )
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(term)
    return _Measured(_NORMAL.cdf(z))


def probabilistic_sharpe_ratio(
    sharpe: float,
    observations: int,
    skewness: float,
    kurtosis: float,
    benchmark: float = 0.0,
) -> float:
    """PSR(SR*) of Bailey and Lopez de Prado (2012).

    ``sharpe`` and ``benchmark`` are NON-annualised (per observation); ``kurtosis`` is raw
    (3 for a normal distribution), ``observations`` is T. The probability that the true
    Sharpe exceeds the benchmark, given the sample's length, skew and fat tails.
    """
    return _psr(sharpe, observations, skewness, kurtosis, benchmark).value


def sharpe_estimator_variance(
    sharpe: float, observations: int, skewness: float, kurtosis: float
) -> float:
    """(1 - g3 SR + (g4 - 1)/4 SR^2) / (T - 1): the variance of a non-annualised Sharpe
    estimate (Mertens 2002, as used by Bailey and Lopez de Prado)."""
    if observations < 2:
        return math.nan
    return _sharpe_variance_term(sharpe, skewness, kurtosis) / (observations - 1)


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """SR0 = sqrt(V) ((1 - gamma) Z^-1(1 - 1/N) + gamma Z^-1(1 - 1/(N e))); 0 for N = 1.

    The Sharpe the best of N skill-less trials reaches by luck alone. Z^-1(1 - p) is taken as
    -Z^-1(p), which stays accurate when 1 - p rounds to 1.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an int >= 1, got {trials!r}")
    if not (math.isfinite(sharpe_variance) and sharpe_variance >= 0.0):
        return math.nan
    if trials == 1:
        return 0.0
    quantile = -_NORMAL.inv_cdf(1.0 / trials)
    quantile_e = -_NORMAL.inv_cdf(1.0 / (trials * math.e))
    expected = (1.0 - EULER_MASCHERONI) * quantile + EULER_MASCHERONI * quantile_e
    return math.sqrt(sharpe_variance) * expected


def deflated_sharpe_ratio(
    sharpe: float,
    observations: int,
    skewness: float,
    kurtosis: float,
    trials: int = 1,
    sharpe_variance: float | None = None,
) -> float:
    """DSR = PSR(SR0) of Bailey and Lopez de Prado (2014), SR0 = :func:`expected_max_sharpe`.

    ``sharpe_variance`` is the variance of the N trials' non-annualised Sharpe ratios; None
    uses :func:`sharpe_estimator_variance` of this run.
    """
    variance = (
        sharpe_estimator_variance(sharpe, observations, skewness, kurtosis)
        if sharpe_variance is None
        else sharpe_variance
    )
    threshold = expected_max_sharpe(trials, variance)
    return probabilistic_sharpe_ratio(sharpe, observations, skewness, kurtosis, threshold)


def _z_test(values: np.ndarray) -> tuple[_Measured, _Measured]:
    std = _sample_std(values)
    note = _std_note(values.size, std, "z-test")
    if note:
        return _Measured(math.nan, note), _Measured(math.nan, note)
    z = float(values.mean()) / (std / math.sqrt(values.size))
    # 1 - Phi(z) written as the upper tail so a large z keeps its digits.
    return _Measured(z), _Measured(0.5 * math.erfc(z / math.sqrt(2.0)))


def mean_return_z_test(
    returns: pd.Series | Sequence[float] | np.ndarray,
) -> tuple[float, float]:
    """One-sided z-test of H1 mean daily return > 0: (z, p) with z = mean / (std / sqrt(T)),
    std with ddof=1, and p = 1 - Phi(z). NaN when T < 2 or the returns do not vary."""
    z, p = _z_test(_as_returns(returns))
    return z.value, p.value


@dataclass(frozen=True)
class SignificanceMetrics:
    """Is the Sharpe real? PSR, DSR and a z-test, all on non-annualised daily figures of
    the same observations as the Sharpe (count, skewness and kurtosis of the basis's daily
    returns)."""

    observations: int
    sharpe_per_period: float
    skewness: float
    kurtosis: float
    psr_benchmark_per_period: float
    psr: float
    trials: int
    trials_sharpe_variance: float
    expected_max_sharpe: float
    dsr: float
    z_score: float
    z_p_value: float
    notes: Mapping[str, str] = field(default_factory=dict)


def _significance_metrics(values: np.ndarray, config: MetricsConfig) -> SignificanceMetrics:
    notes: dict[str, str] = {}
    p = config.periods_per_year
    sharpe = _sharpe_per_period(values, p, config.risk_free_rate)
    if sharpe.note:
        notes["sharpe_per_period"] = sharpe.note
    skewness, kurtosis = _moments(values)
    if not math.isfinite(skewness):
        notes["skewness"] = notes["kurtosis"] = "fewer than 2 returns or zero dispersion"
    benchmark = config.psr_benchmark_sharpe / math.sqrt(p)
    observations = int(values.size)
    psr = _psr(sharpe.value, observations, skewness, kurtosis, benchmark)
    if psr.note:
        notes["psr"] = psr.note
    variance = (
        sharpe_estimator_variance(sharpe.value, observations, skewness, kurtosis)
        if config.trials_sharpe_variance is None
        else config.trials_sharpe_variance
    )
    threshold = expected_max_sharpe(config.trials, variance)
    if not math.isfinite(variance):
        notes["trials_sharpe_variance"] = "the Sharpe estimate's variance is undefined"
    if not math.isfinite(threshold):
        notes["expected_max_sharpe"] = "the trials' Sharpe variance is undefined"
    dsr = _psr(sharpe.value, observations, skewness, kurtosis, threshold)
    if dsr.note:
        notes["dsr"] = dsr.note
    z, p_value = _z_test(values)
    if z.note:
        notes["z_score"] = notes["z_p_value"] = z.note
    return SignificanceMetrics(
        observations=observations,
        sharpe_per_period=sharpe.value,
        skewness=skewness,
        kurtosis=kurtosis,
        psr_benchmark_per_period=benchmark,
        psr=psr.value,
        trials=config.trials,
        trials_sharpe_variance=variance,
        expected_max_sharpe=threshold,
        dsr=dsr.value,
        z_score=z.value,
        z_p_value=p_value.value,
        notes=notes,
    )
