"""The sweep's plan: content ids, spans, the random draw, the data fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.sweep.plan import (
    code_version,
    data_fingerprint,
    make_tasks,
    sample_configurations,
    spans_of,
)
from app.walkforward import make_folds
from engine.errors import UserError

START, END = datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 20, tzinfo=UTC)
RUN = {"source": "synthetic"}
SETTINGS = {"clusters": ["USD_MAJORS"], "tick_mode": "ohlc"}


def _ids(params=None, settings=None, spans=None, data="d", code="c"):
    configs = [(1, params if params is not None else {"entry": 1.2})]
    tasks = make_tasks(configs, spans or spans_of(None, START, END), RUN,
                       settings or SETTINGS, data, code)
    return [t["id"] for t in tasks]


def test_the_same_inputs_give_the_same_id():
    assert _ids() == _ids()
    assert len(_ids()[0]) == 64


@pytest.mark.parametrize("change", [
    {"params": {"entry": 1.5}},
    {"params": {"entry": 1.2, "exit": 0.5}},
    {"settings": {"clusters": ["GOLD_HAVENS"], "tick_mode": "ohlc"}},
    {"spans": spans_of(None, START, datetime(2024, 1, 21, tzinfo=UTC))},
    {"data": "other data"},
    {"code": "other code"},
])
def test_any_change_gives_a_new_id(change):
    assert _ids(**change) != _ids()


def test_each_fold_has_an_in_sample_and_an_out_of_sample_trial_per_configuration():
    # Arrange
    folds = make_folds(START, END, 2, "rolling")
    # Act
    tasks = make_tasks([(1, {"entry": 1.2}), (2, {"entry": 1.5})], spans_of(folds, START, END),
                       RUN, SETTINGS, "d", "c")
    # Assert
    assert [(t["config"], t["span"]["fold"], t["span"]["sample"]) for t in tasks] == [
        (c, f, s) for c in (1, 2) for f in (1, 2) for s in ("is", "oos")]
    assert len({t["id"] for t in tasks}) == 8


def test_without_folds_a_configuration_is_one_trial_on_the_whole_period():
    assert [s.as_dict() for s in spans_of(None, START, END)] == [
        {"fold": 0, "sample": "all", "from": START.isoformat(), "to": END.isoformat()}]


def test_the_random_draw_is_seeded_and_keeps_grid_numbers():
    grid = [{"entry": e} for e in (1.0, 1.2, 1.4, 1.6, 1.8)]
    first = sample_configurations(grid, 3, seed=7)
    assert first == sample_configurations(grid, 3, seed=7)
    assert [n for n, _ in first] == sorted(n for n, _ in first)
    assert all(grid[n - 1] == p for n, p in first)
    assert sample_configurations(grid, None, 0) == list(enumerate(grid, start=1))


def test_a_draw_larger_than_the_grid_names_the_option():
    with pytest.raises(UserError, match=r"--random: expected 1\.\.2"):
        sample_configurations([{"entry": 1.0}, {"entry": 2.0}], 3, seed=0)


def test_the_data_fingerprint_follows_file_contents(tmp_path):
    data = tmp_path / "EURUSD.csv"
    data.write_text("a", encoding="utf-8")
    before = data_fingerprint("files", [str(tmp_path)])
    assert before == data_fingerprint("files", [str(data)])
    data.write_text("b", encoding="utf-8")
    assert data_fingerprint("files", [str(tmp_path)]) != before
    assert data_fingerprint("synthetic", seed=1) != data_fingerprint("synthetic", seed=2)


def test_the_code_version_is_of_the_sources_a_trial_runs(tmp_path):
    # Arrange: a tree with an engine module and a command-line module
    (tmp_path / "engine").mkdir()
    (tmp_path / "app" / "cli").mkdir(parents=True)
    (tmp_path / "engine" / "x.py").write_text("A = 1\n", encoding="utf-8")
    (tmp_path / "app" / "cli" / "y.py").write_text("B = 1\n", encoding="utf-8")
    before = code_version(tmp_path)
    # Act / Assert: the command line does not count, the engine does
    (tmp_path / "app" / "cli" / "y.py").write_text("B = 2\n", encoding="utf-8")
    assert code_version(tmp_path) == before
    (tmp_path / "engine" / "x.py").write_text("A = 2\n", encoding="utf-8")
    assert code_version(tmp_path) != before
