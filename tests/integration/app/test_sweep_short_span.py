"""A trial without figures is a failed trial, as ``backtest`` says of the same run.

A span inside one UTC day has fewer than two days of equity and no metrics: ``backtest``
reaches its end (exit 0) and says there are no metrics, and the study stores the trial as
failed with that line (it still counts toward the trials tried), not as done without
figures."""

from __future__ import annotations

import argparse

from app.sweep.trial import run_trial
from main import main
from tests.helpers.configs import short_window_config
from tests.helpers.paths import TEST_DATA

SPAN = ["--from", "2019-10-22", "--to", "2019-10-23"]


def test_a_trial_of_a_span_too_short_for_metrics_is_failed_without_figures(tmp_path, capsys):
    # Arrange: one configuration on a one-day span, and the same run as a backtest
    from app.cli.sweep import plan_from_args, register

    config = tmp_path / "clusters.toml"
    config.write_text(short_window_config("USD_MAJORS"), encoding="utf-8")
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    tasks = plan_from_args(parser.parse_args([
        "sweep", "--data", str(TEST_DATA / "histdata"), "--config", str(config), *SPAN,
        "--grid", str(grid), "--study", str(tmp_path / "study.sqlite")]))

    # Act
    rows = [run_trial(task) for task in tasks]
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 *SPAN, "--report", str(tmp_path / "report")])

    # Assert
    out, err = capsys.readouterr()
    assert code == 0
    assert "INCOMPLETE" not in out and "Sharpe n/a (no metrics)" in out
    assert "note: fewer than two days of equity: no metrics" in err
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "failed"
    assert row["error"] == "no figures: fewer than two days of equity: no metrics"
    assert row["sharpe"] is None and row["metrics"] is None
