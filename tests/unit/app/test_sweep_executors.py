"""Choosing the executor (``--workers``, ``--scheduler``), the scheduler address rule, the
code-version check and the market a worker keeps between trials."""

from __future__ import annotations

import gzip
import shutil

import pytest

from app.sweep import worker_data
from app.sweep.dask_executor import check_scheduler_address, for_workers
from app.sweep.executors import ExecutorChoice, SerialExecutor, parse_workers
from app.sweep.worker import CodeVersionMismatch, check_code_version, in_worker
from engine.errors import UserError
from storage.histdata import read_histdata_files, read_histdata_m1
from tests.helpers.paths import TEST_DATA

EURUSD = TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"


@pytest.mark.parametrize(("text", "scheduler", "remote", "expected"), [
    (None, None, False, ExecutorChoice("local", 1)),
    ("3", None, False, ExecutorChoice("local", 3)),
    ("dask:2", None, False, ExecutorChoice("dask-local", 2)),
    ("DASK:4", None, False, ExecutorChoice("dask-local", 4)),
    (None, "tcp://127.0.0.1:8786", False, ExecutorChoice("dask", 0, "tcp://127.0.0.1:8786")),
    (None, "tcp://localhost:8786", False, ExecutorChoice("dask", 0, "tcp://localhost:8786")),
    (None, "tls://10.1.2.3:8786", True, ExecutorChoice("dask", 0, "tls://10.1.2.3:8786", True)),
])
def test_workers_and_scheduler_choose_the_executor(text, scheduler, remote, expected):
    assert parse_workers(text, scheduler, remote) == expected


def test_dask_alone_takes_the_machine_s_cores():
    choice = parse_workers("dask")
    assert choice.kind == "dask-local" and choice.workers >= 1 and choice.uses_dask


@pytest.mark.parametrize(("text", "scheduler", "remote", "message"), [
    ("0", None, False, "--workers: expected"),
    ("two", None, False, "--workers: expected"),
    ("dask:0", None, False, "--workers: expected"),
    ("2", "tcp://127.0.0.1:8786", False, "--workers and --scheduler"),
    (None, None, True, "--allow-remote: only with --scheduler"),
    (None, "127.0.0.1:8786", False, "--scheduler: expected tcp://HOST:PORT"),
    (None, "http://127.0.0.1:8786", False, "--scheduler: expected tcp://HOST:PORT"),
    (None, "tcp://127.0.0.1", False, "--scheduler: expected tcp://HOST:PORT"),
    (None, "tcp://10.1.2.3:8786", False, "10.1.2.3 is not this machine"),
    (None, "tcp://0.0.0.0:8786", False, "is not this machine"),
])
def test_bad_executor_input_is_one_line_naming_the_option(text, scheduler, remote, message):
    with pytest.raises(UserError) as bad:
        parse_workers(text, scheduler, remote)
    assert message in str(bad.value) and "\n" not in str(bad.value)


def test_a_remote_scheduler_is_accepted_when_allowed():
    check_scheduler_address("tcp://10.1.2.3:8786", allow_remote=True)


def test_the_code_version_check_names_both_versions():
    check_code_version({"code_version": "a" * 64}, own="a" * 64)
    with pytest.raises(CodeVersionMismatch) as refused:
        check_code_version({"code_version": "b" * 64}, own="a" * 64)
    assert "aaaaaaaaaaaa" in str(refused.value) and "bbbbbbbbbbbb" in str(refused.value)


def test_a_worker_reads_a_file_once_for_every_trial_of_the_same_data():
    # Arrange
    worker_data.forget()
    reads = []

    def trial(task):
        reads.append(read_histdata_m1(EURUSD))
        reads.append(read_histdata_files([EURUSD])[0])
        return {"id": task["id"]}

    # Act: two trials of one data fingerprint, then one of another
    in_worker(trial, {"id": "1", "data_fingerprint": "d1"})
    in_worker(trial, {"id": "2", "data_fingerprint": "d1"})
    kept = worker_data.held_files()
    in_worker(trial, {"id": "3", "data_fingerprint": "d2"})
    # Assert: one read served the first four; the other data read the file afresh
    assert kept == 1
    assert all(r is reads[0] for r in reads[:4])
    assert reads[4] is not reads[0] and reads[5] is reads[4]
    assert reads[4].bars.equals(reads[0].bars)
    worker_data.forget()


def test_outside_a_worker_every_read_is_fresh():
    assert read_histdata_m1(EURUSD) is not read_histdata_m1(EURUSD)


def test_a_file_changed_between_trials_is_read_again(tmp_path):
    # Arrange: a copy of the slice, its first rows cut between the two trials
    path = tmp_path / EURUSD.name
    shutil.copy(EURUSD, path)
    worker_data.forget()
    task = {"id": "1", "data_fingerprint": "d"}
    first = in_worker(lambda t: {"n": len(read_histdata_m1(path).bars)}, task)
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[100:])))
    # Act
    second = in_worker(lambda t: {"n": len(read_histdata_m1(path).bars)}, task)
    # Assert
    assert first["n"] - second["n"] == 100
    worker_data.forget()


def test_the_serial_executor_yields_in_order_and_keeps_nothing_after_the_run():
    tasks = [{"id": str(i), "data_fingerprint": "d"} for i in range(3)]

    def trial(task):
        read_histdata_m1(EURUSD)
        return {"id": task["id"], "held": worker_data.held_files()}

    rows = list(SerialExecutor().map_unordered(trial, tasks))
    assert [r["id"] for r in rows] == ["0", "1", "2"] and rows[-1]["held"] == 1
    assert worker_data.held_files() == 0


def test_a_kept_read_gives_each_caller_its_own_copy_of_the_fresh_read_s_bars():
    # Arrange
    fresh = read_histdata_m1(EURUSD).to_bar_array()
    worker_data.forget()
    task = {"id": "1", "data_fingerprint": "d"}
    # Act: two trials ask for the bars; the first writes into its copy
    first = in_worker(lambda t: {"bars": read_histdata_m1(EURUSD).to_bar_array()}, task)
    first["bars"]["close"] = 0.0
    second = in_worker(lambda t: {"bars": read_histdata_m1(EURUSD).to_bar_array()}, task)
    # Assert: bit for bit the fresh read's bars (NaN spreads equal), untouched by the first
    assert fresh.tobytes() == second["bars"].tobytes()
    worker_data.forget()


def test_a_task_for_workers_names_its_files_absolutely_and_keeps_the_rest(tmp_path,
                                                                       monkeypatch):
    # Arrange: a plan made in tmp_path with relative paths
    monkeypatch.chdir(tmp_path)
    task = {"id": "x", "data_fingerprint": "d", "code_version": "c",
            "run": {"source": "files", "paths": ["data/a.csv"], "store": None,
                    "config_path": "c.toml", "calendar": None, "spread_profiles": ["p.json"]}}
    # Act
    sent = for_workers(task)
    # Assert
    assert sent["run"]["paths"] == [str(tmp_path / "data" / "a.csv")]
    assert sent["run"]["config_path"] == str(tmp_path / "c.toml")
    assert sent["run"]["spread_profiles"] == [str(tmp_path / "p.json")]
    assert sent["run"]["store"] is None and sent["run"]["calendar"] is None
    assert {k: v for k, v in sent.items() if k != "run"} == {
        k: v for k, v in task.items() if k != "run"}
    assert task["run"]["paths"] == ["data/a.csv"]  # the driver's task is untouched
