"""When a pair may not open baskets: cointegration lost, or a half-life out of range.

A cointegration test runs every ``test_every`` bars from the model's first valid bar
(``PairParams``).  A test fails when the larger of the two Engle-Granger p-values is above
``coint_p_max`` (NaN, a window statsmodels cannot test, fails too), or with the Johansen
hedge when the trace statistic is below its 95% critical value.  The lock holds while
the last ``coint_lost_tests`` tests all failed, or every test so far when there have been
fewer; one passing test lifts it.  Between tests the last test's verdict stands.

Independently, at every bar, a half-life outside ``half_life_min .. half_life_max`` locks.
``COINT_LOST`` is named first when both hold.
"""

from __future__ import annotations

import math

import numpy as np

from engine.kinds.pair_params import JOHANSEN, PairParams

COINT_LOST = "COINT_LOST"
HALF_LIFE = "HALF_LIFE"


def eg_fails(p: float, p_rev: float, p_max: float) -> bool:
    """Both orders must reject "no cointegration": the larger p-value decides."""
    worst = max(p, p_rev)
    return not worst <= p_max  # NaN fails


def trace_fails(trace: float, critical: float) -> bool:
    return not trace >= critical


def coint_message(params: PairParams, failed: int, p: float, p_rev: float, trace: float,
                  critical: float) -> str:
    """The lock's text after ``failed`` failed tests in a row that lock (``failed`` is
    ``coint_lost_tests``, or fewer in the first tests): a longer run says nothing more, and
    the text must not depend on how far back the history starts."""
    tests = "the last test failed" if failed == 1 else f"the last {failed} tests failed"
    if params.hedge == JOHANSEN:
        return (f"{COINT_LOST}: Johansen trace {trace:.2f} below its 95% critical value "
                f"{critical:.2f} ({tests})")
    return (f"{COINT_LOST}: Engle-Granger p {max(p, p_rev):.3f} above {params.coint_p_max:g} "
            f"({tests})")


def half_life_message(params: PairParams, half_life: float) -> str:
    """``""`` when the half-life is inside its range, else the ``HALF_LIFE`` reason."""
    if params.half_life_min <= half_life <= params.half_life_max:
        return ""
    shown = "undefined" if math.isnan(half_life) else f"{half_life:.1f} bars"
    return (f"{HALF_LIFE}: half-life {shown} outside {params.half_life_min:g}.."
            f"{params.half_life_max:g} bars")


class CointLock:
    """The streaming lock: the run of failed tests so far."""

    def __init__(self, params: PairParams) -> None:
        self.params = params
        self.tests = 0
        self.run = 0
        self.message = ""

    def record(self, fails: bool, p: float, p_rev: float, trace: float,
               critical: float) -> None:
        """One test's verdict."""
        self.tests += 1
        self.run = self.run + 1 if fails else 0
        needed = min(self.params.coint_lost_tests, self.tests)
        self.message = coint_message(self.params, needed, p, p_rev, trace, critical) \
            if self.run >= needed and self.run > 0 else ""


def failure_runs(fails: np.ndarray) -> np.ndarray:
    """For each test, how many consecutive tests up to it failed (0 when it passed)."""
    index = np.arange(len(fails))
    last_pass = np.maximum.accumulate(np.where(fails, -1, index))
    return np.where(fails, index - last_pass, 0)


def locked_runs(fails: np.ndarray, lost_tests: int) -> np.ndarray:
    """Whether the lock holds after each test (``CointLock`` for a whole history)."""
    runs = failure_runs(fails)
    tests = np.arange(1, len(fails) + 1)
    return (runs > 0) & (runs >= np.minimum(lost_tests, tests))
