"""``main.py run``: the headless engine in demo, replay and live modes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.paths import REPO_ROOT, TEST_DATA

from main import main


def test_demo_run_prints_a_line_per_day_and_a_summary(tmp_path, capsys):
    code = main(["run", "--demo", "--days", "3", "--clusters", "USD_MAJORS,GOLD_HAVENS",
                 "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("demo: 2 clusters (USD_MAJORS, GOLD_HAVENS)")
    days = [line for line in out.splitlines() if line.startswith("2024-01-")]
    assert [d[:10] for d in days] == ["2024-01-08", "2024-01-09", "2024-01-10"]
    summary = next(line for line in out.splitlines() if line.startswith("baskets:"))
    assert "final balance" in summary and "exits:" in summary


def test_replay_of_real_ticks_runs_headless(tmp_path, capsys):
    ticks = sorted((TEST_DATA / "ticks").glob("*.csv*"))[0]
    code = main(["run", "--replay", str(ticks), "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr()
    # One symbol cannot make a cluster: a clear one-line refusal, not a traceback.
    assert code == 2
    assert "no configured cluster can trade these symbols: ['EURUSD']" in out.err


def test_live_without_the_metatrader5_package_is_one_clear_line(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "run", "--live", "--journal",
                           str(tmp_path / "j.sqlite")], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "MetaTrader5 package is not installed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_speed_and_unknown_cluster(tmp_path, capsys):
    assert main(["run", "--demo", "--speed", "fast", "--journal", str(tmp_path / "j")]) == 2
    assert main(["run", "--demo", "--clusters", "NOPE", "--journal", str(tmp_path / "j")]) == 2
    err = capsys.readouterr().err
    assert "--speed: expected a number or 'max'" in err
    assert "unknown cluster(s): NOPE" in err


def test_from_to_mean_what_the_former_start_until_meant(tmp_path, capsys):
    common = ["run", "--demo", "--clusters", "USD_MAJORS"]
    assert main([*common, "--from", "2024-01-09", "--to", "2024-01-10",
                 "--journal", str(tmp_path / "a.sqlite")]) == 0
    new = capsys.readouterr().out
    assert main([*common, "--start", "2024-01-09", "--until", "2024-01-11",
                 "--journal", str(tmp_path / "b.sqlite")]) == 0
    old = capsys.readouterr().out
    assert new == old
    assert [line[:10] for line in new.splitlines() if line.startswith("2024-")] == [
        "2024-01-09", "2024-01-10"]


def test_start_and_from_are_one_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--demo", "--from", "2024-01-09", "--start", "2024-01-09"])
    assert info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_fit_clusters_names_what_each_cluster_lacks():
    from app.sessions import fit_clusters
    from engine.config import load_engine_config
    from engine.errors import UserError

    config = load_engine_config(None)
    majors = set(next(c for c in config.clusters if c.name == "USD_MAJORS").symbols)
    assert "USD_MAJORS" in [c.name for c in fit_clusters(config, majors).clusters]
    with pytest.raises(UserError, match=r"USD_MAJORS needs .*EURUSD"):
        fit_clusters(config, {"XAUUSD"})
    assert fit_clusters(config, {"XAUUSD"}, allow_none=True).clusters == ()
    assert [c.name for c in fit_clusters(config, set(), "USD_MAJORS").clusters] == ["USD_MAJORS"]
