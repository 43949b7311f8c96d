"""``main.py run``: the headless engine in demo, replay and live modes."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT, TEST_DATA

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
