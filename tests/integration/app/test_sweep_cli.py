"""``main.py sweep`` end to end on the synthetic market: the study file, resume (a deleted
row, a stop after k trials, a SIGKILL of the driver), two local workers against serial, a
failed trial, ``sweep list|show`` and bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.sweep import SerialExecutor, make_tasks, run_sweep, spans_of
from main import main
from storage.trials import TrialsStore
from tests.helpers.paths import REPO_ROOT

CLUSTERS = "USD_MAJORS,GOLD_HAVENS"
#: One fold over two weeks: each configuration is an in-sample and an out-of-sample trial.
STUDY = ["sweep", "--market", "synthetic", "--clusters", CLUSTERS, "--from", "2024-01-08",
         "--to", "2024-01-19", "--folds", "1"]


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    return tmp_path


def _grid(folder, text="entry = [1.2, 2.45]\n"):
    path = folder / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _sweep(grid, study, *extra):
    return main([*STUDY, "--grid", str(grid), "--study", str(study), *extra])


def _results(study):
    with TrialsStore(study, create=False) as store:
        return [r.results() for r in store.rows()]


def _started(study):
    with TrialsStore(study, create=False) as store:
        return {r["id"]: r["started_at"] for r in store.rows()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted serial study: 2 configurations x 1 fold x 2 spans = 4 trials."""
    folder = tmp_path_factory.mktemp("sweep")
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        assert _sweep(_grid(folder), folder / "study.sqlite") == 0
    finally:
        mp.undo()
    return folder / "study.sqlite"


def test_every_configuration_is_a_trial_on_each_span_with_its_figures(reference):
    rows = _results(reference)
    assert [(r["config"], r["fold"], r["sample"], r["status"]) for r in rows] == [
        (c, 1, s, "done") for c in (1, 2) for s in ("is", "oos")]
    traded = rows[0]
    assert traded["baskets"] > 0 and traded["sharpe"] == traded["metrics"]["returns"]["sharpe"]
    assert traded["daily_returns"] and all(len(d) == 2 for d in traded["daily_returns"])
    never = [r for r in rows if r["params"] == {"entry": 2.45}]
    assert all(r["baskets"] == 0 and r["sharpe"] is None for r in never)


def test_a_rerun_runs_only_the_missing_trial_and_writes_the_same_row(reference, home, capsys):
    # Arrange: a copy of the study without one row
    study = home / "copy.sqlite"
    with sqlite3.connect(reference) as src, sqlite3.connect(study) as dst:
        src.backup(dst)
    with sqlite3.connect(study) as conn:
        gone = conn.execute("SELECT id FROM trials ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("DELETE FROM trials WHERE id = ?", (gone,))
    kept = _started(study)
    capsys.readouterr()
    # Act
    code = _sweep(_grid(home), study)
    # Assert
    assert code == 0
    assert "3 already in the study, 1 run now" in capsys.readouterr().out
    assert {i: s for i, s in _started(study).items() if i != gone} == kept
    assert _results(study) == _results(reference)


def test_a_study_stopped_after_k_trials_completes_on_a_rerun(reference, home, capsys):
    study = home / "study.sqlite"
    assert _sweep(_grid(home), study, "--stop-after", "1") == 0
    assert "1 run now" in capsys.readouterr().out
    assert len(_results(study)) == 1
    assert _sweep(_grid(home), study) == 0
    assert "1 already in the study, 3 run now" in capsys.readouterr().out
    assert _results(study) == _results(reference)


def test_two_local_workers_write_the_rows_serial_writes(reference, home):
    study = home / "parallel.sqlite"
    assert _sweep(_grid(home), study, "--workers", "2") == 0
    assert _results(study) == _results(reference)


def _count(study):
    try:
        with sqlite3.connect(f"file:{study}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def _after(study, query):
    """``query``'s rows once the driver has ended: read-write, since a driver killed inside
    a commit leaves a WAL that only a connection allowed to write can recover (a read-only
    one then fails with SQLITE_READONLY_RECOVERY, which ``_count`` would take for 0)."""
    conn = sqlite3.connect(study)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def _failed(study):
    return _after(study, "SELECT id, error FROM trials WHERE status = 'failed'")


#: SIGKILL's number (9) where the name is missing (Windows, where these tests are skipped).
KILL = getattr(signal, "SIGKILL", 9)
posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _default_stop_signals() -> None:
    """In the child: SIGINT and SIGTERM as a process normally starts with them, whatever
    this test runner's parent set (a shell's background job ignores SIGINT)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@posix_signals
@pytest.mark.parametrize(("stop", "status"), [(KILL, -KILL), (signal.SIGTERM, 143),
                                              (signal.SIGINT, 130)])
def test_a_driver_stopped_mid_study_resumes_to_the_uninterrupted_result(home, stop, status):
    # Arrange: 3 configurations x 2 folds x 2 spans = 12 trials, run in the driver
    grid = _grid(home, "entry = [1.2, 1.5, 2.45]\n")
    args = [*STUDY[:-1], "2", "--grid", str(grid)]
    stopped, whole = home / "stopped.sqlite", home / "whole.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(home / "home")}
    driver = subprocess.Popen([sys.executable, str(REPO_ROOT / "main.py"), *args, "--study",
                               str(stopped)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=_default_stop_signals)
    try:
        deadline = time.monotonic() + 120
        while _count(stopped) < 1 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # Act: a real signal while trials remain (most often inside the next trial's run)
        driver.send_signal(stop)
    finally:
        driver.wait(timeout=60)
    [(stored,)] = _after(stopped, "SELECT COUNT(*) FROM trials")
    assert driver.returncode == status
    assert 1 <= stored < 12
    # a trial the stop cut short is not stored as failed: it runs again on the rerun
    assert _failed(stopped) == []
    assert main([*args, "--study", str(stopped)]) == 0
    # Assert: the rerun ran the rest, and the study equals one never interrupted
    assert main([*args, "--study", str(whole)]) == 0
    assert len(_results(stopped)) == 12
    assert _results(stopped) == _results(whole)


def _children(pid):
    """The processes whose parent is ``pid`` (Linux: from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize(("stop", "status"), [(KILL, -KILL), (signal.SIGTERM, 143)])
def test_a_stopped_driver_takes_its_workers_and_their_scratch_with_it(home, stop, status):
    # Arrange: two workers busy on 8 trials, in a temporary directory of their own
    grid = _grid(home, "entry = [1.2, 1.5, 1.8, 2.45]\n")
    study = home / "workers.sqlite"
    scratch = home / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(home / "home"),
           "TMPDIR": str(scratch)}
    driver = subprocess.Popen([sys.executable, str(REPO_ROOT / "main.py"), *STUDY, "--grid",
                               str(grid), "--study", str(study), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=_default_stop_signals)
    try:
        deadline = time.monotonic() + 120
        while _count(study) < 1 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(driver.pid)
        # Act: SIGKILL (the workers watch the driver) or SIGTERM (the driver stops them)
        driver.send_signal(stop)
    finally:
        driver.wait(timeout=60)
    # Assert: every worker ends, and no trial's scratch folder is left
    assert workers
    deadline = time.monotonic() + 60
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [w for w in workers if _alive(w)]
    for pid in left:  # leave no process behind when the check fails
        os.kill(pid, signal.SIGKILL)
    assert not left
    assert driver.returncode == status
    assert [p.name for p in scratch.iterdir() if p.name.startswith("backtest-")] == []


def test_a_failed_trial_is_recorded_with_its_error_and_counted(home, capsys):
    # Arrange: a configuration the cluster refuses, past the command line's checks
    start, end = datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 13, tzinfo=UTC)
    run = {"source": "synthetic", "paths": [], "store": None, "seed": 0, "latency": True,
           "config_path": None, "clusters": ["USD_MAJORS"], "tick_mode": "ohlc",
           "spread_model": "fixed", "spread_profiles": [], "metrics_basis": "trading"}
    tasks = make_tasks([(1, {"entry": 1.2}), (2, {"tau_f": -3})], spans_of(None, start, end),
                       run, {"clusters": ["USD_MAJORS"]}, "d", "c")
    study = home / "failed.sqlite"
    # Act
    with TrialsStore(study) as store:
        state = run_sweep(store, tasks, SerialExecutor())
    # Assert
    assert (state.total, state.done, state.failed) == (2, 1, 1)
    failed = [r for r in _results(study) if r["status"] == "failed"]
    assert len(failed) == 1 and "tau_f" in failed[0]["error"]
    assert main(["sweep", "show", str(study)]) == 0
    shown = capsys.readouterr().out
    assert "trials: 2 (1 done, 1 failed" in shown and "tau_f" in shown
    with TrialsStore(study) as store:  # a rerun does not run it again: it is a result
        assert run_sweep(store, tasks, SerialExecutor()).skipped == 2


def test_list_prints_a_line_per_trial_and_show_the_study(reference, capsys):
    assert main(["sweep", "list", str(reference)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:6] == ["trial", "cfg", "fold", "span", "status", "Sharpe"]
    assert len(listed) == 1 + 4 + 1 and "entry=2.45" in listed[3]
    assert main(["sweep", "show", str(reference)]) == 0
    shown = capsys.readouterr().out
    assert "trials: 4 (4 done, 0 failed; 2 configurations x 2 spans)" in shown
    assert "best in-sample Sharpe" in shown


@pytest.mark.parametrize(("extra", "message"), [
    (["--study", "s.sqlite"], "--grid is required"),
    (["--grid", "GRID"], "--study is required"),
    (["--grid", "GRID", "--study", "s.sqlite", "--random", "5"], "--random: expected 1..2"),
    (["--grid", "GRID", "--study", "s.sqlite", "--workers", "0"], "--workers"),
    (["--grid", "GRID", "--study", "s.sqlite", "--calendar", "none.csv"],
     "--calendar: no such file"),
])
def test_bad_input_is_one_line_naming_the_option(home, capsys, extra, message):
    grid = _grid(home)
    argv = [*STUDY, *[str(grid) if a == "GRID" else str(home / a) if a.endswith(".sqlite")
                      else a for a in extra]]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_reading_a_missing_study_is_one_line(home, capsys):
    assert main(["sweep", "list", str(home / "none.sqlite")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no trials store found" in err[0]


def test_a_second_sweep_on_a_study_being_swept_is_refused_naming_the_first(
        reference, home, capsys):
    # Arrange: a sweep holds the study (this process, as the first sweep's driver would);
    # the study already holds its trials, so a second sweep would only be the waste
    study = home / "held.sqlite"
    study.write_bytes(reference.read_bytes())
    before = _results(study)

    # Act
    with TrialsStore(study, writer=True):
        code = _sweep(_grid(home), study)
        err = capsys.readouterr().err.strip().splitlines()
        with TrialsStore(study, create=False) as reader:  # a reader meanwhile: not refused
            read = [r.results() for r in reader.rows()]

    # Assert: one line naming the holder; the study as it was; sweeping it after works
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"error: {study}: a sweep is already running "
                                               f"on this study (pid {os.getpid()} (")
    assert read == before and _results(study) == before
    assert _sweep(_grid(home), study) == 0


def test_show_tells_the_trials_of_two_grids_and_periods_in_one_file_apart(home, capsys):
    # Arrange: a study, then another grid over a longer period into the same file
    study = home / "two.sqlite"
    first = _grid(home / "", "entry = [1.2]\n")
    assert main(["sweep", "--market", "synthetic", "--clusters", "USD_MAJORS", "--from",
                 "2024-01-08", "--to", "2024-01-12", "--grid", str(first), "--study",
                 str(study)]) == 0
    second = home / "second.toml"
    second.write_text("entry = [2.45]\n", encoding="utf-8")
    assert main(["sweep", "--market", "synthetic", "--clusters", "USD_MAJORS", "--from",
                 "2024-01-08", "--to", "2024-01-19", "--grid", str(second), "--study",
                 str(study)]) == 0
    capsys.readouterr()

    # Act
    assert main(["sweep", "show", str(study)]) == 0
    shown = capsys.readouterr().out

    # Assert: two sets of values over two periods, and the repeated number said
    assert ("trials: 2 (2 done, 0 failed; 2 configurations x 2 spans; configuration 1 "
            "stands for other values in other trials") in shown


@pytest.mark.parametrize(("extra", "named"), [
    (["--metrics-basis", "calendar"], "--metrics-basis"),
    (["--clusters", "USD_MAJORS"], "clusters"),
])
def test_a_rerun_with_other_settings_into_a_study_is_refused_before_any_trial(
        reference, home, capsys, extra, named):
    # Arrange: a copy of the finished study
    study = home / "copy.sqlite"
    with sqlite3.connect(reference) as src, sqlite3.connect(study) as dst:
        src.backup(dst)
    before = _results(study)
    capsys.readouterr()

    # Act: the same grid and period, one setting changed
    code = _sweep(_grid(home), study, *extra)

    # Assert: one line naming what differs, and the study as it was
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and named in err and "give another --study" in err, err
    assert _results(study) == before


def test_a_study_written_before_its_settings_were_kept_is_judged_by_its_code_version(
        reference, home, capsys):
    # Arrange: a copy whose trials ran on another code version, its settings row gone
    study = home / "old.sqlite"
    with sqlite3.connect(reference) as src, sqlite3.connect(study) as dst:
        src.backup(dst)
    with sqlite3.connect(study) as conn:
        conn.execute("DELETE FROM study WHERE key = 'trial_settings'")
        conn.execute("UPDATE trials SET code_version = ?", ("0" * 64,))
    capsys.readouterr()

    # Act
    code = _sweep(_grid(home), study)

    # Assert
    err = capsys.readouterr().err
    assert code == 2 and "another code version" in err, err
