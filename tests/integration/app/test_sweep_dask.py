"""The same study on every executor gives the same rows: serially, in two local processes,
on a Dask ``LocalCluster`` of two worker processes and of two in-process workers; each
worker reads the market once; a worker with other code refuses its trials; a missing Dask
is one line (``test_sweep_dask_missing.py``); a killed driver leaves no Dask worker behind.

The study: the real M1 slices of ``tests/data/histdata`` (read through the worker's kept
market), two configurations x two folds x in-sample and out-of-sample = 8 trials."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.sweep import SerialExecutor, run_sweep
from app.sweep.dask_executor import DaskExecutor
from app.sweep.trial import run_trial
from app.sweep.worker import CodeVersionMismatch, DataMismatch
from engine.errors import UserError
from main import main
from storage.trials import TrialsStore
from tests.helpers.configs import short_window_config
from tests.helpers.paths import REPO_ROOT, TEST_DATA
from tests.integration.app.test_sweep_cli import _alive, _children, _count

try:
    import distributed  # noqa: F401 - only whether it is there
except ImportError:
    if os.environ.get("FXCLUSTER_REQUIRE_DASK") == "1":  # CI installs the test extra
        pytest.fail("FXCLUSTER_REQUIRE_DASK=1 but Dask is not installed", pytrace=False)
    pytest.skip("Dask not installed: pip install 'fxcluster[dask]' runs these tests",
                allow_module_level=True)

TRIALS = 8


@pytest.fixture(scope="module")
def study_args(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask-study")
    config = folder / "clusters.toml"
    config.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"), encoding="utf-8")
    grid = folder / "grid.toml"
    grid.write_text("entry = [1.2, 1.6]\n", encoding="utf-8")
    return folder, ["sweep", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                    "--from", "2019-10-21", "--to", "2019-11-02", "--folds", "2",
                    "--grid", str(grid)]


def _study(study_args, name, *extra):
    folder, args = study_args
    path = folder / f"{name}.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        assert main([*args, "--study", str(path), *extra]) == 0
    finally:
        mp.undo()
    return path


def _results(study):
    with TrialsStore(study, create=False) as store:
        return sorted((r.results() for r in store.rows()), key=lambda r: r["id"])


def _tasks(study_args):
    from app.cli.sweep import plan_from_args, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    folder, args = study_args
    return plan_from_args(parser.parse_args([*args, "--study", str(folder / "x.sqlite")]))


@pytest.fixture(scope="module")
def serial(study_args):
    return _results(_study(study_args, "serial"))


def test_the_serial_study_traded_and_each_trial_equals_the_trial_run_alone(serial,
                                                                          study_args):
    # Arrange: each trial run on its own, with a fresh read of the files (no kept market)
    alone = sorted((run_trial(t) for t in _tasks(study_args)), key=lambda r: r["id"])
    # Assert: the kept market changed nothing
    assert len(serial) == TRIALS and all(r["status"] == "done" for r in serial)
    assert sum(r["baskets"] for r in serial) > 0
    timing = ("started_at", "finished_at", "seconds")
    # a stored row has its cluster only when the trial ran one cluster alone
    together = [{k: v for k, v in r.items() if k not in timing
                 and not (k == "cluster" and v is None)} for r in alone]
    assert serial == together


def test_two_local_processes_write_the_serial_rows(serial, study_args):
    assert _results(_study(study_args, "local2", "--workers", "2")) == serial


def test_a_dask_local_cluster_of_two_worker_processes_writes_the_serial_rows(serial,
                                                                            study_args):
    assert _results(_study(study_args, "dask2", "--workers", "dask:2")) == serial


def test_a_local_cluster_refuses_a_process_without_the_run_s_certificate():
    # Arrange: a sweep's LocalCluster of one worker process
    import distributed

    with DaskExecutor(workers=1) as executor:
        address = executor._cluster.scheduler_address
        own = executor._client.run(os.getpid)

        # Act: another process of the machine tries, in plain TCP and with a certificate
        # of its own (Dask's messages are pickles: whoever gets in runs code on the workers)
        refused = []
        for attempt, security in ((address.replace("tls://", "tcp://"), None),
                                  (address, distributed.Security.temporary())):
            try:
                with distributed.Client(attempt, security=security, timeout=3):
                    refused.append(False)
            except (OSError, TimeoutError):
                refused.append(True)

    # Assert: TLS on loopback; both refused; the run's own client worked all along
    assert address.startswith("tls://127.0.0.1:")
    assert refused == [True, True]
    assert len(own) == 1


def test_two_in_process_dask_workers_write_the_serial_rows(serial, study_args):
    # Arrange
    folder, _ = study_args
    tasks = _tasks(study_args)
    # Act: the in-process scheduler and two worker threads (no process started)
    with TrialsStore(folder / "inproc.sqlite") as store, \
            DaskExecutor(workers=2, processes=False) as executor:
        state = run_sweep(store, tasks, executor)
    # Assert
    assert (state.done, state.failed) == (TRIALS, 0)
    assert _results(folder / "inproc.sqlite") == serial


def test_a_worker_with_other_code_refuses_the_trials_and_nothing_is_stored(study_args):
    # Arrange: the plan says another code version than the workers run
    folder, _ = study_args
    tasks = [{**t, "code_version": "0" * 64} for t in _tasks(study_args)][:2]
    study = folder / "mismatch.sqlite"
    # Act
    with TrialsStore(study) as store, DaskExecutor(workers=1, processes=False) as executor, \
            pytest.raises(CodeVersionMismatch) as refused:
        run_sweep(store, tasks, executor)
    # Assert: the error names both versions; no row was stored under the wrong version
    assert "000000000000" in str(refused.value) and "same version" in str(refused.value)
    with TrialsStore(study, create=False) as store:
        assert store.rows() == []


def test_the_serial_executor_runs_the_same_trials_as_run_trial_with_the_market_kept(
        study_args, serial):
    # Arrange: the same tasks through the executor the driver uses for --workers 1
    from app.sweep import worker_data

    folder, _ = study_args
    with TrialsStore(folder / "again.sqlite") as store:
        run_sweep(store, _tasks(study_args), SerialExecutor())
    # Assert: the same rows, and nothing kept once the run ended
    assert _results(folder / "again.sqlite") == serial
    assert worker_data.held_files() == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_killed_driver_takes_its_local_cluster_s_workers_with_it(tmp_path):
    # Arrange: a two-process LocalCluster busy on 8 synthetic trials
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2, 1.5, 1.8, 2.45]\n", encoding="utf-8")
    study = tmp_path / "study.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(tmp_path / "home")}
    driver = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "main.py"), "sweep", "--market", "synthetic",
         "--clusters", "USD_MAJORS,GOLD_HAVENS", "--from", "2024-01-08", "--to", "2024-01-19",
         "--folds", "1", "--grid", str(grid), "--study", str(study), "--workers", "dask:2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while _count(study) < 1 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(driver.pid)
        # Act
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.wait(timeout=60)
    # Assert: the worker processes end on their own (Dask's own watch of their parent)
    assert workers
    deadline = time.monotonic() + 60
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [w for w in workers if _alive(w)]
    for pid in left:  # leave no process behind when the check fails
        os.kill(pid, signal.SIGKILL)
    assert not left


@pytest.fixture()
def scheduler():
    """A running scheduler on loopback TCP with two in-process workers, as a user's
    ``dask scheduler`` and ``dask worker`` would be (but without starting processes)."""
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0",
                                  worker_dashboard_address="127.0.0.1:0") as cluster:
        yield cluster


def test_the_workers_of_a_running_scheduler_write_the_serial_rows(serial, study_args,
                                                                  scheduler):
    rows = _results(_study(study_args, "scheduler", "--scheduler", scheduler.scheduler_address))
    assert rows == serial


def test_a_scheduler_without_workers_is_one_clear_error():
    import distributed

    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as empty, \
            pytest.raises(UserError) as refused:
        DaskExecutor(empty.scheduler_address, connect_seconds=1).__enter__()
    assert "no Dask workers at tcp://127.0.0.1:" in str(refused.value)


def test_a_worker_with_other_data_refuses_the_trials_and_nothing_is_stored(study_args):
    # Arrange: the plan says another data fingerprint than the files at its paths give
    folder, _ = study_args
    tasks = [{**t, "data_fingerprint": "f" * 64} for t in _tasks(study_args)][:2]
    study = folder / "other-data.sqlite"
    # Act
    with TrialsStore(study) as store, DaskExecutor(workers=1, processes=False) as executor, \
            pytest.raises(DataMismatch) as refused:
        run_sweep(store, tasks, executor)
    # Assert
    assert "ffffffffffff" in str(refused.value) and "same files" in str(refused.value)
    with TrialsStore(study, create=False) as store:
        assert store.rows() == []
