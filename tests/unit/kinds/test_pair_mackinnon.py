"""MacKinnon's p-value read without ``scipy.stats`` is statsmodels' ``mackinnonp`` bit for
bit: the tables read from its source equal the module's, the p-values equal its own on a
dense grid of statistics for every series count, and whatever cannot be read goes to
statsmodels itself."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers.paths import REPO_ROOT
from statsmodels.tsa import adfvalues

from engine.kinds import pair_mackinnon
from engine.kinds.pair_mackinnon import TABLE_NAMES, mackinnon_p, module_tables, tau_tables


def test_tables_read_from_the_source_are_the_modules():
    # Arrange
    tables = tau_tables()
    assert tables is not None
    mine = (tables.maxs, tables.mins, tables.stars, tables.smallps, tables.largeps)

    # Act / Assert
    for name, rows in zip(TABLE_NAMES, mine, strict=True):
        theirs = np.asarray(getattr(adfvalues, name)["c"], dtype=np.float64)
        assert np.array_equal(np.asarray(rows, dtype=np.float64), theirs), name


@pytest.mark.parametrize("legs", range(1, 7))
def test_p_values_are_mackinnonp_bit_for_bit(legs):
    # Arrange: both tails, both branches, the bounds and the switch point exactly
    tables = tau_tables()
    assert tables is not None
    row = legs - 1
    edges = [tables.maxs[row], tables.mins[row], tables.stars[row]]
    stats = np.concatenate([np.linspace(-30.0, 5.0, 20_001), edges,
                            np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                            [-np.inf, np.inf]])

    # Act
    mine = [mackinnon_p(float(t), legs) for t in stats]
    theirs = [float(adfvalues.mackinnonp(float(t), regression="c", N=legs)) for t in stats]

    # Assert
    assert mine == theirs


def test_a_leg_count_beyond_the_tables_is_statsmodels_own_answer():
    # Arrange / Act / Assert: statsmodels has six rows and fails past them, and so do we
    with pytest.raises(IndexError):
        adfvalues.mackinnonp(-3.0, regression="c", N=7)
    with pytest.raises(IndexError):
        mackinnon_p(-3.0, 7)


def test_unreadable_tables_fall_back_to_statsmodels(monkeypatch):
    # Arrange
    monkeypatch.setattr(pair_mackinnon, "tau_tables", lambda: None)

    # Act
    p = mackinnon_p(-3.1, 2)

    # Assert
    assert p == float(adfvalues.mackinnonp(-3.1, regression="c", N=2))


def test_a_name_bound_outside_the_table_subset_is_dropped_not_guessed():
    # Arrange: a table rebound by a call the reading does not evaluate, another scaled in
    # place after the dict took it
    source = ("from numpy import array, asarray, inf\n"
              "scale = array([1, 1e-1])\n"
              "kept = asarray([[1.0, 2.0]]) * scale\n"
              "odd = sorted([3, 1])\n"
              "kept2 = [1, -inf]\n"
              "kept2 += [0]\n"
              "table = {'c': kept}\n")

    # Act
    names = module_tables(source)

    # Assert
    assert np.array_equal(names["table"]["c"], np.array([[1.0, 0.2]]))
    assert "odd" not in names
    assert "kept2" not in names


def test_the_engle_granger_test_does_not_import_scipy_stats():
    # Arrange: a fresh interpreter (this one has statsmodels' module loaded)
    code = ("import sys, numpy as np\n"
            "from engine.kinds.engle_granger import fast_coint\n"
            "rng = np.random.default_rng(0)\n"
            "x = np.cumsum(rng.normal(size=300))\n"
            "y = x + rng.normal(size=300)\n"
            "assert fast_coint(y, x) is not None\n"
            "print('scipy.stats' in sys.modules)\n")

    # Act
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})

    # Assert
    assert out.stdout.strip() == "False"
