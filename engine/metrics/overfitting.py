"""Multiple testing over a study's trials: the probability of backtest overfitting (PBO) by
combinatorially symmetric cross-validation (CSCV), and the Deflated Sharpe Ratio of the trial
a study selects, from the trials actually run.

A sweep tries N configurations and keeps the best.  Two questions follow, and this module
answers both from the trials' own returns, without re-running anything:

- Does choosing the best in-sample predict a good result out-of-sample?  Bailey, Borwein,
  Lopez de Prado and Zhu (2015, "The probability of backtest overfitting", J. Computational
  Finance 20(4)) split the T x N matrix of per-period returns into S row blocks and, for each
  of the C(S, S/2) ways to call half of them in-sample, pick the in-sample best and see where
  it ranks among the N out-of-sample.  PBO is the share of splits where the chosen trial lands
  at or below the out-of-sample median.  It needs no model of the returns and no number of
  "effective" trials: that is why a study reports it beside the DSR.
- How much of the selected Sharpe survives the selection?  The DSR of Bailey and Lopez de
  Prado (2014), with N the trials actually run and V the variance of their Sharpes
  (:func:`deflated_sharpe_over_trials`; the formulas live in
  :mod:`engine.metrics.significance` and :mod:`engine.metrics.selection`, reused here).

Pure numpy: no Qt, no SQL, so the study report, the command line and the console all read
the same figures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.metrics.returns import ZERO_DISPERSION, _sharpe_per_period
from engine.metrics.selection import SelectionSignificance, deflated_selection
from engine.metrics.significance import _moments

#: S, the number of row blocks: the paper's choice, C(16, 8) = 12,870 splits.
DEFAULT_BLOCKS = 16
#: S must be even (half the blocks in-sample) and at most this: C(20, 10) = 184,756 splits
#: already take seconds for a thousand trials; C(24, 12) would be 2.7 million.
MAX_BLOCKS = 20
#: Fewer rows than this in a block is "not enough periods": every half then has at least
#: S/2 x 2 >= 2 rows, so each trial's Sharpe (ddof=1) is defined on it.
MIN_ROWS_PER_BLOCK = 2

#: How each trial is scored on a half (stated in every result).
SHARPE_BASIS = (
    "per-period Sharpe = mean / std (ddof=1) of the trial's returns over the half's rows, "
    "not annualised (ranking only); a trial whose returns do not vary on the half (std <= "
    "1e-14) has no Sharpe and ranks below every trial that has one"
)
#: How the selected trial's out-of-sample rank, w and lambda are computed (stated in every
#: result).
RANK_CONVENTION = (
    "in-sample: the trial with the highest Sharpe, the lowest column on a tie; out-of-sample: "
    "its rank r among the N trials' Sharpes, 1 = worst and N = best, tied Sharpes sharing the "
    "mean of the ranks they span (r = 1 + #lower + #tied_others / 2); w = r / (N + 1) in (0, 1) "
    "as in Bailey et al. (2015); lambda = ln(w / (1 - w)); overfit when lambda <= 0, i.e. at "
    "or below the out-of-sample median; two Sharpes within 1e-12 of each other (relative) "
    "are a tie"
)
#: The splits' order in every per-split tuple.
SPLIT_ORDER = (
    "one entry per split, in the lexicographic order of the in-sample block sets "
    "(itertools.combinations(range(S), S/2)); block b holds rows [d + b n, d + (b+1) n), n = "
    "T // S rows, the first d = T mod S rows (the oldest) left out so every block is the same "
    "size"
)


@dataclass(frozen=True)
class OverfittingResult:
    """PBO by CSCV, with everything needed to recompute it and the degradation regression.

    - ``pbo``: share of splits with ``lambda <= 0``; NaN with the reason in ``note`` when the
      matrix has too few rows for ``blocks``;
    - ``lambdas``, ``relative_ranks`` (w), ``selected_trials`` (column index),
      ``in_sample_sharpes`` and ``out_of_sample_sharpes`` (the selected trial's, per split;
      NaN when undefined): one entry per split, see :data:`SPLIT_ORDER`;
    - ``degradation_slope``, ``degradation_intercept``: least squares of the out-of-sample on
      the in-sample Sharpe over the splits where both are defined (the paper's "performance
      degradation"; a negative slope means the in-sample winners revert); NaN when fewer than
      two distinct in-sample Sharpes;
    - ``probability_of_loss``: share of splits whose selected trial has an out-of-sample
      Sharpe below 0 (an undefined one is not a loss);
    - ``combinations`` = C(S, S/2), ``blocks`` = S, ``rows_per_block``, ``rows_used``,
      ``trials`` = N; ``rank_convention`` and ``sharpe_basis`` state the definitions.
    """

    pbo: float
    lambdas: tuple[float, ...]
    relative_ranks: tuple[float, ...]
    selected_trials: tuple[int, ...]
    in_sample_sharpes: tuple[float, ...]
    out_of_sample_sharpes: tuple[float, ...]
    degradation_slope: float
    degradation_intercept: float
    probability_of_loss: float
    combinations: int
    blocks: int
    rows_per_block: int
    rows_used: int
    trials: int
    rank_convention: str = RANK_CONVENTION
    sharpe_basis: str = SHARPE_BASIS
    note: str = ""

    @property
    def computed(self) -> bool:
        """False when the PBO could not be computed (``note`` says why)."""
        return math.isfinite(self.pbo)


def _validated_matrix(returns: np.ndarray | Sequence[Sequence[float]], blocks: int) -> np.ndarray:
    if isinstance(blocks, bool) or not isinstance(blocks, int):
        raise ValueError(f"blocks must be an even int in [2, {MAX_BLOCKS}], got {blocks!r}")
    if blocks < 2 or blocks > MAX_BLOCKS or blocks % 2:
        raise ValueError(f"blocks must be an even int in [2, {MAX_BLOCKS}], got {blocks}")
    matrix = np.asarray(returns, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"returns must be a T x N matrix (periods x trials), got {matrix.ndim}-D")
    if matrix.shape[1] < 2:
        raise ValueError(f"PBO compares trials: it needs N >= 2 columns, got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix)).sum())
        raise ValueError(f"returns hold {bad} NaN or infinite value(s): fill or drop them first")
    return matrix


def _sharpes(means: np.ndarray, m2: np.ndarray, rows: int) -> np.ndarray:
    """Per-period Sharpe from the means and centred sums of squares; NaN where std is ~0."""
    std = np.sqrt(m2 / (rows - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > ZERO_DISPERSION, means / np.where(std > 0.0, std, 1.0), np.nan)


def _half_sharpes(
    block_means: np.ndarray, block_m2: np.ndarray, chosen: Sequence[int], rows_per_block: int
) -> np.ndarray:
    """Each trial's Sharpe over the union of ``chosen`` blocks, by combining the blocks'
    means and centred sums of squares (Chan et al.: exact, and no cancellation as
    sum(x^2) - n mean^2 would have).  One row per trial, reduced along the row, so a trial's
    figure is bit for bit the same wherever its column sits."""
    columns = list(chosen)
    means_b = block_means[:, columns]
    mean = means_b.mean(axis=1)
    spread = ((means_b - mean[:, None]) ** 2).sum(axis=1)
    m2 = block_m2[:, columns].sum(axis=1) + rows_per_block * spread
    return _sharpes(mean, m2, rows_per_block * len(columns))


#: Two Sharpes this close (relative to the larger) are a tie.  Combined from block moments,
#: Sharpes equal in exact arithmetic can differ in their last bits (a half with one non-zero
#: return among its rows has a Sharpe of exactly 1 / sqrt(T) whatever that return), and the
#: stated rules for ties (the lowest column in-sample, the mid-rank out-of-sample) must see
#: them as ties, not as rounding's order.
TIE_TOLERANCE = 1e-12


def _ranking_key(sharpes: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(sharpes), -np.inf, sharpes)


def _tied(key: np.ndarray, value: float) -> np.ndarray:
    """Which of ``key`` tie with ``value`` (see :data:`TIE_TOLERANCE`)."""
    if not math.isfinite(value):
        return key == value
    close = np.abs(key - value) <= TIE_TOLERANCE * np.maximum(np.abs(key), abs(value))
    return np.isfinite(key) & close


def _best(sharpes: np.ndarray) -> int:
    """The highest in-sample Sharpe's column, the lowest column among those tied with it."""
    key = _ranking_key(sharpes)
    return int(np.flatnonzero(_tied(key, float(key.max())))[0])


def _relative_rank(oos: np.ndarray, selected: int) -> float:
    """w = r / (N + 1), r the selected trial's mid-rank among the out-of-sample Sharpes
    (ties within :data:`TIE_TOLERANCE` share it)."""
    key = _ranking_key(oos)
    value = float(key[selected])
    tied = _tied(key, value)
    lower = int(((key < value) & ~tied).sum())
    tied_others = int(tied.sum()) - 1
    rank = 1.0 + lower + tied_others / 2.0
    return rank / (key.size + 1)


def _regression(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    defined = np.isfinite(x) & np.isfinite(y)
    x, y = x[defined], y[defined]
    if x.size < 2 or np.unique(x).size < 2:
        return math.nan, math.nan
    dx = x - x.mean()
    slope = float((dx * (y - y.mean())).sum() / (dx**2).sum())
    return slope, float(y.mean() - slope * x.mean())


def _not_enough(rows: int, trials: int, blocks: int) -> OverfittingResult:
    need = blocks * MIN_ROWS_PER_BLOCK
    return OverfittingResult(
        pbo=math.nan, lambdas=(), relative_ranks=(), selected_trials=(), in_sample_sharpes=(),
        out_of_sample_sharpes=(), degradation_slope=math.nan, degradation_intercept=math.nan,
        probability_of_loss=math.nan, combinations=math.comb(blocks, blocks // 2),
        blocks=blocks, rows_per_block=rows // blocks, rows_used=0, trials=trials,
        note=(f"not enough periods: {rows} row(s) for {blocks} blocks; the PBO needs at least "
              f"{MIN_ROWS_PER_BLOCK} per block ({need}), or fewer blocks"),
    )


def probability_of_backtest_overfitting(
    returns: np.ndarray | Sequence[Sequence[float]], blocks: int = DEFAULT_BLOCKS
) -> OverfittingResult:
    """PBO of choosing the best in-sample Sharpe among the columns of ``returns`` (CSCV).

    ``returns``: T x N per-period returns, one column per trial, rows aligned in time (the
    same dates for every trial).  ``blocks``: S, even, 2..:data:`MAX_BLOCKS` (default 16).
    Raises ValueError for malformed input (not 2-D, N < 2, odd or out-of-range S, NaN or
    infinite values); too few rows for S (fewer than :data:`MIN_ROWS_PER_BLOCK` per block)
    is a result, ``computed`` False and ``note`` saying so, for the caller to show.
    """
    matrix = _validated_matrix(returns, blocks)
    rows, trials = matrix.shape
    per_block = rows // blocks
    if per_block < MIN_ROWS_PER_BLOCK:
        return _not_enough(rows, trials, blocks)
    # trials x blocks x rows, contiguous per trial (see _half_sharpes)
    used = np.ascontiguousarray(matrix[rows - per_block * blocks:].T).reshape(
        trials, blocks, per_block)
    block_means = used.mean(axis=2)
    block_m2 = ((used - block_means[:, :, None]) ** 2).sum(axis=2)
    everything = frozenset(range(blocks))
    selected: list[int] = []
    ranks: list[float] = []
    is_sharpes: list[float] = []
    oos_sharpes: list[float] = []
    for in_sample in itertools.combinations(range(blocks), blocks // 2):
        out_of_sample = sorted(everything.difference(in_sample))
        is_all = _half_sharpes(block_means, block_m2, in_sample, per_block)
        oos_all = _half_sharpes(block_means, block_m2, out_of_sample, per_block)
        best = _best(is_all)
        selected.append(best)
        ranks.append(_relative_rank(oos_all, best))
        is_sharpes.append(float(is_all[best]))
        oos_sharpes.append(float(oos_all[best]))
    w = np.asarray(ranks)
    lambdas = np.log(w / (1.0 - w))
    x, y = np.asarray(is_sharpes), np.asarray(oos_sharpes)
    slope, intercept = _regression(x, y)
    return OverfittingResult(
        pbo=float((lambdas <= 0.0).mean()),
        lambdas=tuple(float(v) for v in lambdas),
        relative_ranks=tuple(ranks),
        selected_trials=tuple(selected),
        in_sample_sharpes=tuple(is_sharpes),
        out_of_sample_sharpes=tuple(oos_sharpes),
        degradation_slope=slope,
        degradation_intercept=intercept,
        probability_of_loss=float((np.nan_to_num(y, nan=0.0) < 0.0).mean()),
        combinations=len(ranks),
        blocks=blocks,
        rows_per_block=per_block,
        rows_used=per_block * blocks,
        trials=trials,
    )


def deflated_sharpe_over_trials(
    trial_sharpes: Sequence[float],
    selected_returns: np.ndarray | Sequence[float],
    failed_trials: int = 0,
) -> SelectionSignificance:
    """DSR of the trial a study selected, deflated by the trials actually run.

    - ``trial_sharpes``: the non-annualised Sharpe of every trial that finished, the selected
      one included (NaN for a trial whose Sharpe is undefined, e.g. it never traded);
    - ``selected_returns``: the selected trial's per-period returns, on the same basis as
      those Sharpes; its Sharpe (mean / std, ddof=1, no risk-free rate), T, skewness and raw
      kurtosis are taken from them;
    - ``failed_trials``: trials that ran but raised, so have no Sharpe.  They count in N (they
      were tried: leaving them out would flatter the DSR) and not in V (no Sharpe to measure).
      Pass 0 when the caller judges the failures were not real attempts (a crash before the
      first bar, say); the choice is the caller's, and it is visible in the result's N.

    N = len(trial_sharpes) + failed_trials; V = the sample variance (ddof=1) of the defined
    Sharpes (:data:`engine.metrics.selection.TRIALS_VARIANCE_BASIS`); SR0 the expected maximum
    of N skill-less Sharpes; DSR = PSR(SR0) (Bailey and Lopez de Prado 2014).
    """
    if isinstance(failed_trials, bool) or not isinstance(failed_trials, int) or failed_trials < 0:
        raise ValueError(f"failed_trials must be an int >= 0, got {failed_trials!r}")
    values = np.asarray(selected_returns, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"selected_returns must be one series, got {values.ndim}-D")
    sharpe = _sharpe_per_period(values, 1, 0.0).value
    skewness, kurtosis = _moments(values)
    every_trial = [float(s) for s in trial_sharpes] + [math.nan] * failed_trials
    return deflated_selection(sharpe, int(values.size), skewness, kurtosis, every_trial)
