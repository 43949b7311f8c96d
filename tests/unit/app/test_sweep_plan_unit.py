"""The sweep's unit of work: the grid file's ``[sweep] unit``, one task per cluster alone,
the cluster in the content id, and the configuration a task's backtest runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.sweep.plan import canonical_json, make_tasks, sha256_text, spans_of
from app.sweep.trial import trial_config
from app.walkforward import make_folds
from app.walkforward.grid import load_grid, sweep_unit
from engine.config import load_engine_config
from engine.errors import ConfigError

START, END = datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 20, tzinfo=UTC)
CLUSTERS = ["USD_MAJORS", "GOLD_HAVENS"]
SETTINGS = {"clusters": CLUSTERS, "tick_mode": "ohlc"}
CONFIGS = [(1, {"entry": 1.2}), (2, {"entry": 1.5})]


def _tasks(alone=None, settings=SETTINGS, folds=2):
    spans = spans_of(make_folds(START, END, folds, "anchored"), START, END)
    return make_tasks(CONFIGS, spans, {"source": "synthetic"}, settings, "d", "c", alone=alone)


def _grid(tmp_path, text):
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the plan ---------------------------------------------------------------------------------


def test_each_cluster_alone_is_one_task_per_configuration_cluster_and_span():
    # Act
    together, alone = _tasks(), _tasks(alone=CLUSTERS)
    # Assert: twice the tasks, in configuration, cluster, span order, each id its own
    assert len(alone) == 2 * len(together) == 16
    assert [(t["config"], t["cluster"], t["span"]["fold"], t["span"]["sample"])
            for t in alone] == [(c, k, f, s) for c in (1, 2) for k in CLUSTERS
                                for f in (1, 2) for s in ("is", "oos")]
    assert len({t["id"] for t in alone}) == 16
    assert all(t["cluster"] is None for t in together)


def test_the_cluster_enters_the_id_and_a_together_id_is_as_before():
    # Arrange
    task = _tasks()[0]
    content = {"params": task["params"], "settings": SETTINGS, "fold": task["span"],
               "data": "d", "code": "c"}
    # Act
    alone = _tasks(alone=CLUSTERS)[0]
    # Assert: a together trial hashes what it always did; one alone adds its cluster
    assert task["id"] == sha256_text(canonical_json(content))
    assert alone["id"] == sha256_text(canonical_json({**content, "cluster": "USD_MAJORS"}))


def test_a_trial_alone_and_the_trial_of_a_study_of_that_cluster_differ_in_id_only():
    """The same backtest, two studies' trials: the ids differ (the settings name the
    study's clusters), the configuration run is the same."""
    alone = _tasks(alone=CLUSTERS)[0]
    single = _tasks(settings={**SETTINGS, "clusters": ["USD_MAJORS"]})[0]
    assert alone["id"] != single["id"]
    assert (alone["params"], alone["span"]) == (single["params"], single["span"])


def test_clusters_alone_must_be_distinct_names():
    with pytest.raises(ValueError, match="distinct"):
        _tasks(alone=["USD_MAJORS", "USD_MAJORS"])
    with pytest.raises(ValueError, match="distinct"):
        _tasks(alone=[])


def test_a_task_alone_runs_its_cluster_only_with_the_values():
    # Arrange
    run = {"config_path": None, "clusters": CLUSTERS}
    # Act
    alone = trial_config({"run": run, "params": {"entry": 1.7}, "cluster": "GOLD_HAVENS"})
    together = trial_config({"run": run, "params": {"entry": 1.7}})
    single = trial_config({"run": {**run, "clusters": ["GOLD_HAVENS"]},
                           "params": {"entry": 1.7}})
    # Assert: the cluster alone is the study of that cluster alone, setting for setting
    assert [c.name for c in alone.clusters] == ["GOLD_HAVENS"]
    assert alone.clusters[0].entry == 1.7
    assert [c.name for c in together.clusters] == CLUSTERS
    assert alone.config_hash() == single.config_hash()
    assert alone.config_hash() != load_engine_config().with_clusters(
        ["GOLD_HAVENS"]).config_hash()


# -- the grid file's [sweep] table -------------------------------------------------------------


def test_without_a_sweep_table_the_clusters_run_together(tmp_path):
    assert sweep_unit(_grid(tmp_path, "entry = [1.2, 1.5]\n")) == "together"


def test_the_sweep_table_chooses_the_unit_and_is_not_an_axis(tmp_path):
    # Arrange
    plain = load_grid(_grid(tmp_path, "entry = [1.2, 1.5]\nexit = [0.25]\n"))
    path = _grid(tmp_path, 'entry = [1.2, 1.5]\nexit = [0.25]\n\n[sweep]\nunit = "cluster"\n')
    # Act / Assert: the walk-forward's configurations are the same with the table
    assert sweep_unit(path) == "cluster"
    assert load_grid(path) == plain
    assert sweep_unit(_grid(tmp_path, 'entry = [1.2]\n[sweep]\nunit = "together"\n')) == \
        "together"


@pytest.mark.parametrize(("text", "message"), [
    ('entry = [1.2]\n[sweep]\nunit = "pairs"\n', r"sweep\.unit: expected one of"),
    ('[sweep]\nunit = "cluster"\nentry = [1.2]\n', r"sweep\.entry: unknown key .* after"),
    ('entry = [1.2]\nsweep = ["cluster"]\n', "sweep: expected a table"),
    ('[sweep]\nunit = "cluster"\n', "the grid is empty"),
])
def test_a_bad_sweep_table_is_refused_naming_the_key(tmp_path, text, message):
    path = _grid(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_grid(path)
    if "empty" not in message:
        with pytest.raises(ConfigError, match=message):
            sweep_unit(path)
