"""The study's report end to end: ``sweep ... --report DIR`` after a real small sweep on the
synthetic market, ``sweep report STUDY --report DIR`` on a study file that cannot be written,
and a study written through ``storage.trials`` with enough days for the PBO.  Every figure
on the page and in ``sweep.json`` is recomputed from ``trials.csv`` and
``trials_returns.csv`` alone."""

from __future__ import annotations

import csv
import json
import math
import re
import stat
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from app.sweep.summary import HeatmapSpec, study_summary
from engine.jsonform import json_ready
from main import main
from storage.trials import TrialsStore

STUDY = ["sweep", "--market", "synthetic", "--clusters", "USD_MAJORS,GOLD_HAVENS",
         "--from", "2024-01-08", "--to", "2024-01-19", "--folds", "1"]
FILES = {"sweep.json", "trials.csv", "trials_returns.csv", "report.html",
         "heatmap-0-sharpe-entry.csv"}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A real sweep: 2 configurations x 1 fold x 2 spans, its report written after the run."""
    folder = tmp_path_factory.mktemp("sweep-report")
    grid = folder / "grid.toml"
    grid.write_text("entry = [1.2, 2.45]\n", encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        code = main([*STUDY, "--grid", str(grid), "--study", str(folder / "study.sqlite"),
                     "--report", str(folder / "report")])
    finally:
        mp.undo()
    assert code == 0
    return folder


# -- reading the report's own files back ------------------------------------------------------


def _number(text, kind=float):
    return None if text == "" else kind(text)


def rows_from_csv(folder):
    """The study's rows rebuilt from trials.csv and trials_returns.csv only."""
    returns = defaultdict(list)
    with (folder / "trials_returns.csv").open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            returns[r["id"]].append([r["date"], float(r["return"])])
    rows = []
    with (folder / "trials.csv").open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            rows.append({"id": r["id"], "config": int(r["config"]),
                         "cluster": r["cluster"] or None, "fold": int(r["fold"]),
                         "sample": r["sample"], "status": r["status"],
                         "params": json.loads(r["params"]), "sharpe": _number(r["sharpe"]),
                         "total_return": _number(r["total_return"]),
                         "max_drawdown": _number(r["max_drawdown"]),
                         "baskets": _number(r["baskets"], int),
                         "daily_returns": returns.get(r["id"], [])})
    return rows


def page_figures(folder):
    html = (folder / "report.html").read_text(encoding="utf-8")
    pairs = re.findall(r'data-figure="([^"]+)" data-value="([^"]*)"', html)
    return {name: _number(value) for name, value in pairs}


def expected_figures(doc):
    """The page's figure names (``app.report.sections.sweep``) and their values in ``doc``."""
    out = {f"counts.{k}": doc["counts"][k]
           for k in ("tried", "done", "failed", "configurations", "spans")}
    out.update({f"distribution.{k}": doc["sharpe_distribution"][k]
                for k in ("mean", "median", "std", "min", "max")})
    for s in doc["selections"]:
        base = f"sel.{s['fold']}.{s['group']}"
        out[f"{base}.config"] = s["config"]
        for sample, tag in (("in_sample", "is"), ("out_of_sample", "oos")):
            for k in ("sharpe", "total_return", "max_drawdown", "baskets"):
                out[f"{base}.{tag}.{k}"] = (s[sample] or {}).get(k)
        for k in ("trials", "failed_trials", "defined_trials", "trials_sharpe_variance",
                  "expected_max_sharpe", "sharpe_per_period", "observations", "dsr"):
            out[f"{base}.{k}"] = (s["dsr"] or {}).get(k)
    for p in doc["pbo"]:
        for k in ("pbo", "blocks", "combinations", "periods", "rows_used", "left_out",
                  "probability_of_loss", "degradation_slope"):
            out[f"pbo.{p['group']}.{k}"] = p.get(k)
    for n, h in enumerate(doc["heatmaps"]):
        for i, row in enumerate(h["median"]):
            out.update({f"heat.{n}.{i}.{j}": v for j, v in enumerate(row)})
    return out


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return float(a) == float(b) or (math.isnan(float(a)) and math.isnan(float(b)))


def assert_recomputes(folder):
    """sweep.json and the page equal the summary of the rows rebuilt from the CSVs."""
    doc = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    specs = [HeatmapSpec(h["x"], h["y"], h["metric"], h["sample"]) for h in doc["heatmaps"]]
    again = json.loads(json.dumps(json_ready(study_summary(rows_from_csv(folder),
                                                           heatmaps=specs))))
    for key in ("counts", "sharpe_distribution", "selections", "pbo", "heatmaps"):
        got = [{k: v for k, v in h.items() if k != "file"} for h in doc[key]] \
            if key == "heatmaps" else doc[key]
        assert got == again[key], key
    figures, expected = page_figures(folder), expected_figures(again)
    assert set(figures) == set(expected)
    for name, value in figures.items():
        assert _same(value, expected[name]), name


# -- the tests -----------------------------------------------------------------------------


def test_a_sweep_with_report_writes_every_file_and_the_page_recomputes_from_them(swept):
    # Arrange
    report = swept / "report"
    # Act
    doc = json.loads((report / "sweep.json").read_text(encoding="utf-8"))
    # Assert
    assert {p.name for p in report.iterdir()} == FILES
    assert doc["title"] == "Sweep" and doc["counts"]["tried"] == 4
    assert "<title>Sweep</title>" in (report / "report.html").read_text(encoding="utf-8")
    assert_recomputes(report)


def test_a_short_study_says_why_it_has_no_pbo(swept):
    # Act
    (pbo,) = json.loads((swept / "report" / "sweep.json").read_text(encoding="utf-8"))["pbo"]
    html = (swept / "report" / "report.html").read_text(encoding="utf-8")
    # Assert
    assert pbo["computed"] is False and pbo["pbo"] is None
    assert pbo["note"].startswith("not enough periods")
    assert pbo["note"].split(":")[0] in html


def test_report_from_a_study_file_reads_it_without_writing(swept, tmp_path, capsys):
    # Arrange: a copy of the study that no one may write
    study = tmp_path / "study.sqlite"
    study.write_bytes((swept / "study.sqlite").read_bytes())
    study.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = study.read_bytes()
    # Act
    code = main(["sweep", "report", str(study), "--report", str(tmp_path / "again")])
    # Assert: the same figures as the report written after the run
    assert code == 0 and study.read_bytes() == before
    assert "report.html (4 trials)" in capsys.readouterr().out
    first = json.loads((swept / "report" / "sweep.json").read_text(encoding="utf-8"))
    again = json.loads((tmp_path / "again" / "sweep.json").read_text(encoding="utf-8"))
    for doc in (first, again):
        doc.pop("generated_at"), doc.pop("study"), doc.pop("settings")
    assert again == first


def _hand_made_study(path, days=30):
    """3 configurations x 2 folds x 2 spans through the store, 30 days each; one in-sample
    trial failed; a parameter value a spreadsheet would run."""
    rng = np.random.default_rng(7)
    with TrialsStore(path) as store:
        store.put_setting("created_with", {"folds": 2})
        for config, (entry, space) in enumerate([(1.2, "=cmd"), (2.0, "log"),
                                                 (2.45, "log")], start=1):
            for fold in (1, 2):
                for sample in ("is", "oos"):
                    start = 100 * fold + (0 if sample == "is" else 50)
                    rets = [float(v) for v in rng.normal(0.0005 * config, 0.01, days)]
                    failed = config == 3 and fold == 2 and sample == "is"
                    store.record({
                        "id": f"c{config}f{fold}{sample}", "config": config,
                        "params": {"entry": entry, "space": space}, "fold": fold,
                        "sample": sample, "span_from": None, "span_to": None,
                        "status": "failed" if failed else "done",
                        "error": "boom" if failed else None,
                        "sharpe": None if failed else float(np.mean(rets) / np.std(rets, ddof=1)
                                                            * math.sqrt(252)),
                        "total_return": None if failed else float(np.prod(1 + np.array(rets))
                                                                  - 1),
                        "max_drawdown": None if failed else 0.01 * config,
                        "baskets": None if failed else config, "metrics": None,
                        "daily_returns": None if failed else [
                            [f"D{start + d:04d}", r] for d, r in enumerate(rets)],
                        "data_fingerprint": "x", "code_version": "y",
                        "started_at": "2024-01-01T00:00:00+00:00",
                        "finished_at": "2024-01-01T00:00:01+00:00", "seconds": 1.0})


def test_a_study_with_enough_days_has_its_pbo_and_everything_recomputes(tmp_path):
    # Arrange
    _hand_made_study(tmp_path / "study.sqlite")
    # Act
    code = main(["sweep", "report", str(tmp_path / "study.sqlite"), "--report",
                 str(tmp_path / "report"), "--heatmap", "entry,space,baskets"])
    # Assert: 60 out-of-sample days chained over 2 folds: S = 16
    assert code == 0
    doc = json.loads((tmp_path / "report" / "sweep.json").read_text(encoding="utf-8"))
    (pbo,) = doc["pbo"]
    assert (pbo["computed"], pbo["periods"], pbo["blocks"]) == (True, 60, 16)
    assert doc["counts"] == {**doc["counts"], "tried": 12, "failed": 1}
    assert [s["dsr"]["trials"] for s in doc["selections"]] == [3, 3]
    assert doc["heatmaps"][0]["metric"] == "baskets"
    assert_recomputes(tmp_path / "report")


def test_trials_csv_is_safe_in_a_spreadsheet(tmp_path):
    # Arrange
    _hand_made_study(tmp_path / "study.sqlite")
    # Act
    main(["sweep", "report", str(tmp_path / "study.sqlite"), "--report",
          str(tmp_path / "report")])
    # Assert
    text = (tmp_path / "report" / "trials.csv").read_text(encoding="utf-8")
    assert ",'=cmd," in text and ",=cmd," not in text


def test_a_rewritten_report_replaces_its_files_and_keeps_the_others(tmp_path):
    # Arrange
    _hand_made_study(tmp_path / "study.sqlite")
    report = tmp_path / "report"
    report.mkdir()
    (report / "notes.txt").write_text("mine", encoding="utf-8")
    (report / "sweep.json").write_text("old", encoding="utf-8")
    # Act
    main(["sweep", "report", str(tmp_path / "study.sqlite"), "--report", str(report)])
    # Assert: no staging folder is left beside it
    assert (report / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert json.loads((report / "sweep.json").read_text(encoding="utf-8"))["title"] == "Sweep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "report", "STUDY"], "--report DIR is required"),
    (["sweep", "report", "--report", "R"], "give the study file"),
    (["sweep", "report", "missing.sqlite", "--report", "R"], "no trials store found"),
    (["sweep", "report", "STUDY", "--report", "R", "--heatmap", "entry"], "expected X,Y"),
    (["sweep", "report", "STUDY", "--report", "R", "--heatmap", "entry,nope"],
     "no parameter 'nope'"),
    (["sweep", "report", "STUDY", "--report", "R", "--heatmap", "entry,space,pnl"],
     "metric must be one of"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, message):
    # Arrange
    _hand_made_study(tmp_path / "study.sqlite")
    argv = [str(tmp_path / "study.sqlite") if a == "STUDY" else
            str(tmp_path / a) if a in ("R", "missing.sqlite") else a for a in argv]
    # Act
    code = main(argv)
    # Assert
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_every_file_states_the_basis_of_the_trials_returns(swept, capsys):
    # Arrange
    report = swept / "report"
    label = "daily, 5-day FX weeks, sqrt 252"

    # Act
    doc = json.loads((report / "sweep.json").read_text(encoding="utf-8"))
    page = (report / "report.html").read_text(encoding="utf-8")
    trials = pd.read_csv(report / "trials.csv")
    assert main(["sweep", "show", str(swept / "study.sqlite")]) == 0
    shown = capsys.readouterr().out

    # Assert: the trading basis (the default) in the document, the page, each row and show
    assert doc["returns_basis"]["name"] == "trading" and doc["returns_basis"]["label"] == label
    assert page.count(f"Daily returns on the trading basis ({label})") == 2
    assert set(trials["returns_basis"]) == {"trading"}
    assert f"returns basis: trading ({label})" in shown
