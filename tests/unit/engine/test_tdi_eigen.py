"""The batch TDI's compiled eigen-solvers: the warm path's answers and its certificate."""

from __future__ import annotations

import numpy as np
import pytest

from engine._tdi_eigen import cold_top2, warm_top2


def spd(eigenvalues: list[float], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A symmetric matrix with the given spectrum and its eigenvectors (columns, same order)."""
    k = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(k, k)))
    return (q * np.asarray(eigenvalues)) @ q.T, q


def run_warm(cov: np.ndarray, x1: np.ndarray, x2: np.ndarray,
             lam2_prev: float) -> tuple[float, float, bool, np.ndarray]:
    k = len(cov)
    x1 = x1 / np.linalg.norm(x1)
    fro2 = float((cov * cov).sum())
    scratch = [np.empty((k, k)), np.empty((k, k)), np.empty(k), np.empty(k)]
    lam1, lam2, ok = warm_top2(cov, fro2, x1, x2.copy(), lam2_prev, *scratch)
    return lam1, lam2, ok, x1


@pytest.mark.parametrize("k", [3, 6, 10, 15])
def test_warm_start_near_the_top_converges_to_the_eigh_answer(k):
    # Arrange: a covariance-like spectrum (a few large values, a tail of small ones) and
    # last bar's vectors a little off the current ones
    values = sorted([7.0, 3.0, 2.0, *np.linspace(0.05, 1.0, k - 3)], reverse=True)[:k]
    cov, q = spd(values, seed=k)
    rng = np.random.default_rng(k + 1)
    x1 = q[:, 0] + 0.03 * rng.normal(size=k)
    x2 = q[:, 1] + 0.03 * rng.normal(size=k)
    # Act
    lam1, lam2, ok, v1 = run_warm(cov, x1, x2, lam2_prev=2.9)
    # Assert
    ref_vals, ref_vecs = np.linalg.eigh(cov)
    assert ok
    assert lam1 == pytest.approx(ref_vals[-1], rel=1e-13)
    assert lam2 == pytest.approx(ref_vals[-2], rel=1e-12)
    assert abs(abs(v1 @ ref_vecs[:, -1]) - 1.0) < 1e-14


@pytest.mark.parametrize("k", [4, 15])
def test_a_warm_start_on_the_wrong_eigenvector_is_refused(k):
    # Arrange: the top two swapped places since the last bar, so last bar's v1 is now the
    # second eigenvector exactly (a shifted solve from it could only converge to lambda2)
    values = [5.0, 4.0, *np.linspace(0.1, 1.0, k - 2)[::-1]]
    cov, q = spd(values, seed=3)
    # Act
    _, _, ok, _ = run_warm(cov, q[:, 1].copy(), q[:, 0].copy(), lam2_prev=5.0)
    # Assert: not certified, so the caller takes the exact path
    assert not ok


def test_a_second_vector_stuck_on_the_third_eigenvector_is_refused():
    # Arrange: v1 right, but last bar's v2 is exactly the third eigenvector now
    cov, q = spd([6.0, 3.0, 2.9, 0.5, 0.2, 0.1], seed=5)
    # Act
    _, _, ok, _ = run_warm(cov, q[:, 0].copy(), q[:, 2].copy(), lam2_prev=3.0)
    # Assert
    assert not ok


def test_a_flat_tail_falls_back_to_the_cholesky_certificate_and_is_still_right():
    # Arrange: many eigenvalues just below lambda2, so the sum of squares left over cannot
    # bound them below lambda2 (the Frobenius test fails); the Cholesky test decides
    k = 15
    cov, q = spd([4.0, 1.0, *([0.9] * (k - 2))], seed=8)
    rest = 16.0 + 1.0 + 0.81 * (k - 2)
    assert np.sqrt(rest - 16.0 - 1.0) > 1.0  # the Frobenius bound is not enough here
    rng = np.random.default_rng(9)
    # Act
    lam1, lam2, ok, _ = run_warm(cov, q[:, 0] + 0.01 * rng.normal(size=k),
                                 q[:, 1] + 0.01 * rng.normal(size=k), lam2_prev=1.0)
    # Assert
    assert ok
    assert lam1 == pytest.approx(4.0, rel=1e-13)
    assert lam2 == pytest.approx(1.0, rel=1e-12)


def test_the_exact_path_matches_eigh():
    cov, _ = spd([9.0, 2.5, 1.0, 0.4, 0.2, 0.05], seed=4)
    k = len(cov)
    x1, x2 = np.empty(k), np.empty(k)
    lam1, lam2 = cold_top2(cov, np.empty((k, k)), np.empty(k), np.zeros(k - 1),
                           np.zeros((k, k)), np.zeros(k - 2), np.empty(k), x1, x2,
                           np.empty(k), np.empty(k), np.empty((k, k)), np.empty(k))
    vals, vecs = np.linalg.eigh(cov)
    assert lam1 == pytest.approx(vals[-1], rel=1e-13)
    assert lam2 == pytest.approx(vals[-2], rel=1e-13)
    assert abs(abs(x1 @ vecs[:, -1]) - 1.0) < 1e-14
