"""``main.py walkforward`` end to end on the synthetic market: folds, per-cluster-alone trials,
the frozen mix in- and out-of-sample, the files and the "Walk-forward" page; its errors."""

from __future__ import annotations

import csv
import json
import math

import pandas as pd
import pytest

from engine.metrics import sharpe_ratio
from main import main

CLUSTERS = ("USD_MAJORS", "GOLD_HAVENS")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two rolling folds over three weeks, two clusters, two configurations of which one
    (entry 2.45) never trades on this seed and span: 2 x (2 x 2 + 2) = 12 short backtests."""
    folder = tmp_path_factory.mktemp("wf")
    grid = folder / "grid.toml"
    grid.write_text("entry = [1.2, 2.45]\n", encoding="utf-8")
    report = folder / "report"
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        code = main(["walkforward", "--market", "synthetic", "--clusters", ",".join(CLUSTERS),
                     "--from", "2024-01-08", "--to", "2024-01-28", "--folds", "2",
                     "--scheme", "rolling", "--grid", str(grid), "--min-baskets", "1",
                     "--report", str(report)])
    finally:
        mp.undo()
    return code, report


def _rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_cluster_runs_alone_with_every_configuration_in_every_fold(study):
    code, report = study
    assert code == 0
    rows = _rows(report / "grid.csv")
    assert sorted((r["fold"], r["cluster"], r["config"]) for r in rows) == sorted(
        (str(f), c, str(k)) for f in (1, 2) for c in CLUSTERS for k in (1, 2))
    never = [r for r in rows if r["config"] == "2"]
    assert all(r["baskets"] == "0" and r["sharpe"] == "" for r in never)


def test_each_cluster_picks_the_configuration_that_trades(study):
    _, report = study
    doc = json.loads((report / "walkforward.json").read_text())
    for fold in doc["folds"]:
        picks = {s["cluster"]: (s["config"], s["params"], s["trials"]) for s in fold["selection"]}
        assert picks == {c: (1, {"entry": 1.2}, 2) for c in CLUSTERS}
    assert doc["trials"]["per_selection"] == 2 and doc["trials"]["combined"] == 4


def test_the_frozen_mix_runs_in_sample_and_out_of_sample_with_the_choice(study):
    _, report = study
    doc = json.loads((report / "walkforward.json").read_text())
    for fold in doc["folds"]:
        n = fold["fold"]
        for sample, folder, start in (("in_sample_mix", "in-sample-mix", fold["is_from"]),
                                      ("out_of_sample_mix", "out-of-sample", fold["oos_from"])):
            metrics = json.loads((report / f"fold-{n}" / folder / "metrics.json").read_text())
            assert set(metrics["params"]["clusters"]) == set(CLUSTERS)
            assert {c["entry"] for c in metrics["params"]["clusters"].values()} == {1.2}
            assert metrics["params"]["period"]["to"] <= (fold["is_to"] if sample ==
                                                         "in_sample_mix" else fold["oos_to"])
            assert metrics["params"]["period"]["from"] >= start
            assert fold[sample]["portfolio"]["baskets"] == metrics["baskets"]["baskets"]
        assert fold["is_to"] <= fold["oos_from"]
    mixes = _rows(report / "mix.csv")
    assert {(r["fold"], r["sample"]) for r in mixes if r["cluster"] == "portfolio"} == {
        (f, s) for f in ("1", "2") for s in ("in-sample", "out-of-sample")}


def test_the_grid_sharpes_and_the_dsr_recompute_from_the_files(study):
    _, report = study
    marks = pd.read_csv(report / "trials_equity.csv")
    grid = {(int(r["fold"]), r["cluster"], int(r["config"])): r
            for r in _rows(report / "grid.csv")}
    for (fold, cluster, config), group in marks.groupby(["fold", "cluster", "config"]):
        # FX trading days: the weekday marks (a weekend mark stands for Monday only when the
        # run ends on it), each return from the previous one's mark
        days = pd.to_datetime(group["date"]).dt.day_of_week.to_numpy()
        keep = days < 5
        keep[-1] = True
        equity = group["equity"].to_numpy()[keep]
        returns = equity / [100_000.0, *equity[:-1]] - 1.0
        row = grid[(fold, cluster, config)]
        if row["sharpe"]:
            assert sharpe_ratio(returns) == pytest.approx(float(row["sharpe"]), rel=1e-9)
    for row in _rows(report / "selection.csv"):
        trials = [float(grid[(int(row["fold"]), row["cluster"], k)]["sharpe_per_period"] or
                        "nan") for k in (1, 2)]
        defined = [t for t in trials if math.isfinite(t)]
        assert int(row["trials"]) == 2 and int(row["defined_trials"]) == len(defined)


def test_the_out_of_sample_windows_chain_into_one_curve(study):
    _, report = study
    curve = pd.read_csv(report / "oos_equity.csv")
    assert list(curve["fold"].unique()) == [1, 2]
    assert curve["date"].is_unique and curve["date"].is_monotonic_increasing
    doc = json.loads((report / "walkforward.json").read_text())
    oos = doc["out_of_sample"]["metrics"]
    assert oos["returns"]["final_equity"] == curve["equity"].iloc[-1]
    assert oos["significance"]["trials"] == 1  # nothing is selected out-of-sample
    # the chained figures from the file alone (plain pandas, the trading basis: Monday to
    # Friday rows, a weekend row only as the last), to the last digits: the file is the
    # curve the figures were computed on, not a copy rounded to cents
    start = oos["returns"]["start_capital"]
    dates = pd.to_datetime(curve["date"])
    kept = curve[(dates.dt.day_of_week < 5) | (curve.index == curve.index[-1])]
    values = kept["equity"].to_numpy()
    r = pd.Series(values / [start, *values[:-1]] - 1.0)
    assert oos["returns"]["observations"] == len(r)
    assert oos["returns"]["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * 252**0.5,
                                                     rel=1e-12)
    assert oos["returns"]["total_return"] == pytest.approx(values[-1] / start - 1, rel=1e-12)


def test_the_page_is_titled_walk_forward_and_labels_each_sample(study):
    _, report = study
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "<title>Walk-forward</title>" in page
    for label in ("In-sample grid: each cluster alone", "In-sample selection and its Deflated",
                  "In-sample: the frozen mix", "Out-of-sample: the frozen mix",
                  "Out-of-sample, all folds end to end", "PSR (no deflation)"):
        assert label in page
    inner = (report / "fold-1" / "out-of-sample" / "report.html").read_text(encoding="utf-8")
    assert "<title>Walk-forward fold 1: out-of-sample, the frozen mix</title>" in inner


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--from", "2024-01-08", "--to", "2024-01-28", "--folds", "two"],
         "--folds: expected a number, got 'two'"),
        (["--from", "2024-01-08", "--to", "2024-01-28", "--folds", "0"],
         "--folds: expected a whole number of folds in 1..52"),
        (["--from", "2024-01-08", "--to", "2024-01-28", "--scheme", "sideways"],
         "--scheme: 'sideways' is not one of anchored, rolling"),
        (["--is", "2024-01-08:2024-01-20", "--oos", "2024-01-21:2024-01-28", "--folds", "2"],
         "--is/--oos give one explicit fold"),
        (["--folds", "2"], "give the study's span with --from and --to"),
    ],
)
def test_a_bad_fold_option_is_one_line_and_exit_2(tmp_path, capsys, extra, fragment):
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n", encoding="utf-8")
    code = main(["walkforward", "--market", "synthetic", *extra, "--grid", str(grid),
                 "--report", str(tmp_path / "wf")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {fragment}") and err.count("\n") == 1
    assert not (tmp_path / "wf").exists()


def test_an_unknown_grid_key_is_one_line_naming_the_file_and_key(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("tau_x = [1]\n", encoding="utf-8")
    code = main(["walkforward", "--market", "synthetic", "--from", "2024-01-08", "--to",
                 "2024-01-28", "--grid", str(grid), "--report", str(tmp_path / "wf")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert str(grid) in err and "tau_x" in err and "unknown grid key" in err


def test_a_choice_among_trials_of_which_one_never_traded_has_no_dsr_and_says_why(study):
    _, report = study
    for row in _rows(report / "selection.csv"):
        assert (row["trials"], row["defined_trials"], row["dsr"]) == ("2", "1", "")
        assert "1 of 2 trials have a defined Sharpe" in row["note"]


def test_a_note_of_an_in_sample_trial_is_a_note_of_the_study(tmp_path, capsys, monkeypatch):
    # Arrange: configuration 2's windows need more history than the synthetic market has
    # before the study's start, so that trial warms up inside its span
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    grid = tmp_path / "grid.toml"
    grid.write_text("tau_s = [96, 480]\n", encoding="utf-8")
    report = tmp_path / "report"

    # Act
    code = main(["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
                 "--from", "2024-01-08", "--to", "2024-01-28", "--folds", "1",
                 "--grid", str(grid), "--min-baskets", "1", "--report", str(report)])

    # Assert: in walkforward.json, on the page and on stderr, naming the trial
    note = ("in-sample, fold 1: USD_MAJORS alone, configuration 2: USD_MAJORS: the history "
            "before 2024-01-08 held 1104 M30 bars, not the 1443 its TDI needs")
    doc = json.loads((report / "walkforward.json").read_text(encoding="utf-8"))
    assert code == 0
    assert [n for n in doc["notes"] if n.startswith(note)]
    assert note in (report / "report.html").read_text(encoding="utf-8")
    assert f"note: {note}" in capsys.readouterr().err


def test_the_calendar_basis_is_every_figure_of_the_study(tmp_path, capsys, monkeypatch):
    # Arrange
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n", encoding="utf-8")
    report = tmp_path / "report"

    # Act
    code = main(["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
                 "--is", "2024-01-08:2024-01-19", "--oos", "2024-01-20:2024-01-28",
                 "--grid", str(grid), "--min-baskets", "1", "--metrics-basis", "calendar",
                 "--report", str(report)])

    # Assert: stated in the file and on the command line; the trials' Sharpes and the
    # chained curve's on every calendar mark with sqrt(365)
    doc = json.loads((report / "walkforward.json").read_text(encoding="utf-8"))
    assert code == 0
    assert doc["returns_basis"]["name"] == "calendar"
    assert "daily, calendar days, sqrt 365" in capsys.readouterr().out
    oos = doc["out_of_sample"]["metrics"]
    assert oos["basis"]["name"] == "calendar"
    marks = pd.read_csv(report / "trials_equity.csv")
    equity = marks["equity"].to_numpy()
    returns = equity / [100_000.0, *equity[:-1]] - 1.0
    (row,) = _rows(report / "grid.csv")
    assert float(row["sharpe"]) == pytest.approx(sharpe_ratio(returns, periods_per_year=365),
                                                 rel=1e-9)
    curve = pd.read_csv(report / "oos_equity.csv")["equity"].to_numpy()
    chained = pd.Series(curve / [oos["returns"]["start_capital"], *curve[:-1]] - 1.0)
    assert oos["returns"]["sharpe"] == pytest.approx(
        chained.mean() / chained.std(ddof=1) * 365**0.5, rel=1e-12)
