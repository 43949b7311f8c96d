"""A walk-forward grid value outside its field's range is one line before any backtest runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from main import main


@pytest.mark.parametrize(
    ("grid", "fragment"),
    [
        ("hard_stop_atr = [5.0, 0.0]\n", "grid: hard_stop_atr: must be a number in [0.1, 100]"),
        ("tau_q = [480, 100000000]\n", "grid: tau_q: must be an integer in 2..23040"),
        ("exit = [0.25, 2.0]\n", "grid: exit: must be a number in (0, 1.5)"),
        # E lowered below the cluster's X: the grid's own key is named, not X
        ("entry = [1.2, 0.1]\n", "grid: entry: must be above the cluster's exit 0.25, got 0.1"),
    ],
)
def test_a_bad_grid_value_is_one_line_and_exit_2(tmp_path, capsys, grid, fragment):
    # Arrange
    path = tmp_path / "grid.toml"
    path.write_text(grid, encoding="utf-8")
    report = tmp_path / "wf"

    # Act
    code = main(["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
                 "--is", "2024-01-08:2024-01-26", "--oos", "2024-01-29:2024-02-09",
                 "--grid", str(path), "--report", str(report)])

    # Assert
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {path}: {fragment}") and err.count("\n") == 1
    assert "cluster USD_MAJORS" in err
    assert not report.exists()
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()
