"""``main.py sweep`` with each cluster alone (``[sweep] unit = "cluster"``): twice the
trials of the clusters together, each with the figures of a study of that cluster alone,
resumable, named by ``sweep list|show``; and a study file of schema 1 migrated in place."""

from __future__ import annotations

import sqlite3

import pytest

from main import main
from storage.migrations import SchemaSpec, open_database
from storage.trials import TRIALS_SCHEMA, TrialsStore

CLUSTERS = ["USD_MAJORS", "GOLD_HAVENS"]
STUDY = ["sweep", "--market", "synthetic", "--from", "2024-01-08", "--to", "2024-01-12"]
GRID = "entry = [1.2, 1.5]\n"
#: What a trial computes; the id, the cluster and the timings are the study's.
FIGURES = ("config", "params", "fold", "sample", "span_from", "span_to", "status", "error",
           "sharpe", "total_return", "max_drawdown", "baskets", "metrics", "daily_returns",
           "data_fingerprint", "code_version")


def _rows(study):
    with TrialsStore(study, create=False) as store:
        return [r.values for r in store.rows()]


def _sweep(home, grid_text, study, clusters, *extra):
    grid = home / ("grid-alone.toml" if "[sweep]" in grid_text else "grid.toml")
    grid.write_text(grid_text, encoding="utf-8")
    return main([*STUDY, "--clusters", ",".join(clusters), "--grid", str(grid),
                 "--study", str(study), *extra])


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """The study of each cluster alone (run in two goes: stopped after one trial, then
    resumed), and a study of each cluster by itself, clusters together."""
    home = tmp_path_factory.mktemp("sweep-alone")
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(home / "home"))
    alone_grid = GRID + '\n[sweep]\nunit = "cluster"\n'
    try:
        first = _sweep(home, alone_grid, home / "alone.sqlite", CLUSTERS, "--stop-after", "1")
        stored_first = len(_rows(home / "alone.sqlite"))
        resumed = _sweep(home, alone_grid, home / "alone.sqlite", CLUSTERS)
        singles = {name: home / f"{name}.sqlite" for name in CLUSTERS}
        codes = [_sweep(home, GRID, path, [name]) for name, path in singles.items()]
    finally:
        mp.undo()
    assert (first, resumed, codes, stored_first) == (0, 0, [0, 0], 1)
    return home / "alone.sqlite", singles


def test_each_cluster_alone_doubles_the_trials_of_two_clusters_together(studies):
    alone, _ = studies
    rows = _rows(alone)
    assert [(r["config"], r["cluster"], r["sample"]) for r in rows] == [
        (c, k, "all") for c in (1, 2) for k in sorted(CLUSTERS)]
    assert all(r["status"] == "done" for r in rows)
    assert any(r["baskets"] for r in rows)


def test_a_trial_alone_has_the_figures_of_the_study_of_that_cluster_but_its_own_id(studies):
    alone, singles = studies
    for name, path in singles.items():
        single = _rows(path)
        mine = [r for r in _rows(alone) if r["cluster"] == name]
        assert [{k: r[k] for k in FIGURES} for r in mine] == [
            {k: r[k] for k in FIGURES} for r in single]
        assert all("cluster" not in r for r in single)
        assert {r["id"] for r in mine}.isdisjoint(r["id"] for r in single)


def test_a_resumed_study_alone_runs_only_what_it_lacks(studies, tmp_path, monkeypatch, capsys):
    # Arrange: a copy without one cluster's row
    alone, _ = studies
    study = tmp_path / "copy.sqlite"
    with sqlite3.connect(alone) as src, sqlite3.connect(study) as dst:
        src.backup(dst)
    with sqlite3.connect(study) as conn:
        conn.execute("DELETE FROM trials WHERE cluster = 'GOLD_HAVENS' AND config = 2")
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    capsys.readouterr()
    # Act
    code = _sweep(tmp_path, GRID + '\n[sweep]\nunit = "cluster"\n', study, CLUSTERS)
    # Assert
    assert code == 0
    assert "3 already in the study, 1 run now" in capsys.readouterr().out
    strip = ("started_at", "finished_at", "seconds")
    assert [{k: v for k, v in r.items() if k not in strip} for r in _rows(study)] == [
        {k: v for k, v in r.items() if k not in strip} for r in _rows(alone)]


def test_list_and_show_name_the_cluster_each_trial_ran_alone(studies, capsys):
    alone, singles = studies
    assert main(["sweep", "list", str(alone)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "cluster" in listed[0].split()
    assert [line.split()[10] for line in listed[1:5]] == sorted(CLUSTERS) * 2
    assert main(["sweep", "show", str(alone)]) == 0
    shown = capsys.readouterr().out
    assert "2 configurations x 1 spans x 2 clusters alone (GOLD_HAVENS, USD_MAJORS)" in shown
    assert "best in-sample Sharpe of GOLD_HAVENS alone" in shown
    assert "best in-sample Sharpe of USD_MAJORS alone" in shown
    assert main(["sweep", "list", str(singles["USD_MAJORS"])]) == 0
    assert [line.split()[10] for line in capsys.readouterr().out.splitlines()[1:3]] == [
        "together", "together"]


def test_a_bad_sweep_table_is_one_line_naming_the_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    code = _sweep(tmp_path, GRID + '[sweep]\nunit = "pairs"\n', tmp_path / "s.sqlite",
                  CLUSTERS)
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and "sweep.unit" in err[0] and "pairs" in err[0]
    assert not (tmp_path / "s.sqlite").exists()


# -- the store's schema 2 ------------------------------------------------------------------


def _schema_1_file(path):
    """A study file as the first release wrote it, with one trial."""
    first = SchemaSpec(TRIALS_SCHEMA.name, TRIALS_SCHEMA.application_id,
                       TRIALS_SCHEMA.migrations[:1])
    conn = open_database(path, first, create=True)
    with conn:
        conn.execute(
            "INSERT INTO trials (id, config, params, fold, sample, status, data_fingerprint, "
            "code_version, started_at, finished_at, seconds) VALUES ('a', 1, '{}', 0, 'all', "
            "'done', 'd', 'c', 't0', 't1', 1.0)")
    conn.close()
    return path


def test_a_study_file_of_schema_1_is_migrated_in_place_its_trials_together(tmp_path):
    # Arrange
    path = _schema_1_file(tmp_path / "old.sqlite")
    # Act
    with TrialsStore(path) as store:
        rows = store.rows()
        store.record({**rows[0].values, "id": "b", "cluster": "USD_MAJORS"})
        back = {r["id"]: r for r in store.rows()}
    # Assert
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == TRIALS_SCHEMA.latest == 3
        assert raw.execute("SELECT id, cluster FROM trials ORDER BY id").fetchall() == [
            ("a", None), ("b", "USD_MAJORS")]
    assert "cluster" not in back["a"].values and back["a"].cluster is None
    assert back["b"].cluster == "USD_MAJORS" and back["b"]["cluster"] == "USD_MAJORS"



def test_a_reader_that_does_not_migrate_reads_a_schema_1_file_as_together(tmp_path):
    """A read-only reader leaves the file as it is; its rows read without ``cluster``."""
    # Arrange: the store over a read-only connection (no migration)
    path = _schema_1_file(tmp_path / "old.sqlite")
    store = TrialsStore.__new__(TrialsStore)
    store.path, store._conn = path, sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # Act
    try:
        rows = store.rows()
    finally:
        store.close()
    # Assert
    assert [(r["id"], r.cluster, "cluster" in r.values) for r in rows] == [("a", None, False)]


def test_an_older_study_says_how_many_trials_ran_before_logs_were_kept(tmp_path):
    """Schema 3's ``log`` is NULL for the trials already there: "not known", not "none"."""
    # Arrange
    path = _schema_1_file(tmp_path / "old.sqlite")
    # Act
    with TrialsStore(path) as store:
        settings = store.settings()
    with TrialsStore(tmp_path / "new.sqlite") as fresh:
        fresh_settings = fresh.settings()
    # Assert
    assert settings["trials_before_log"] == 1
    assert "trials_before_log" not in fresh_settings
