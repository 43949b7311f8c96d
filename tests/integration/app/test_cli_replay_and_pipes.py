"""``main.py replay`` prints each day's own counts and has no switch that does nothing; a
command whose output is piped into ``head`` stops quietly when ``head`` has had enough."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import pytest
from helpers.configs import short_window_config
from helpers.paths import REPO_ROOT, TEST_DATA

from main import READER_GONE, main

USD_MAJORS_FILES = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz")
                    for s in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")]
DAY_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} .* open (\d+)  that day: opened (\d+)  closed (\d+)$")
SUMMARY = re.compile(r"^baskets: (\d+) opened, (\d+) closed;")


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(short_window_config("USD_MAJORS"))
    return path


def _replay_args(tmp_path, config):
    return ["replay", *USD_MAJORS_FILES, "--config", str(config), "--clusters", "USD_MAJORS",
            "--journal", str(tmp_path / "j.sqlite")]


@pytest.mark.slow
def test_replay_day_lines_count_that_day_and_add_up_to_the_summary(tmp_path, small_config,
                                                                    capsys):
    code = main(_replay_args(tmp_path, small_config))

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    days = [DAY_LINE.match(line) for line in out if DAY_LINE.match(line)]
    summary = next(SUMMARY.match(line) for line in out if SUMMARY.match(line))
    opened = [int(d.group(2)) for d in days]
    closed = [int(d.group(3)) for d in days]
    assert len(days) > 5 and sum(opened) > 0
    # a cumulative count would never fall back; a day's count does, after a busy day
    assert any(later < earlier for earlier, later in itertools.pairwise(opened))
    # the days' counts add up to the run's: the last day, where the data ends on a Friday
    # evening, has its line too, up to the run's end
    assert sum(opened) == int(summary.group(1)) and sum(closed) == int(summary.group(2))
    assert re.match(r"^2019-11-01 to 2\d:\d\d  ", days[-1].group(0))
    last_open = int(days[-1].group(1))
    assert sum(opened) - sum(closed) == last_open


def test_replay_has_no_headless_switch(tmp_path, small_config, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*_replay_args(tmp_path, small_config), "--headless"])

    assert exited.value.code == 2
    assert "unrecognized arguments: --headless" in capsys.readouterr().err


def _first_lines_then_close(args, lines, tmp_path):
    """Run ``main.py ARGS | head -LINES``: read that many lines, close the pipe, and return
    (exit status, what was read, stderr)."""
    env = {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home")}
    child = subprocess.Popen([sys.executable, "main.py", *args], cwd=REPO_ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    read = [child.stdout.readline() for _ in range(lines)]
    child.stdout.close()
    err = child.stderr.read()
    return child.wait(timeout=300), read, err


def _complaints(err):
    """What a reader that went away must not cause (a warning of the run itself may stay)."""
    marks = ("internal error", "Traceback", "Exception ignored", "BrokenPipe", "crash.log")
    return [line for line in err.splitlines() if any(mark in line for mark in marks)]


@pytest.mark.slow
def test_replay_into_head_stops_quietly(tmp_path, small_config):
    status, read, err = _first_lines_then_close(_replay_args(tmp_path, small_config), 3,
                                                tmp_path)

    assert read[0].startswith("replay: 1 clusters (USD_MAJORS)")
    assert read[1].startswith("note: no economic calendar given")
    assert DAY_LINE.match(read[2].strip())
    assert status == READER_GONE
    assert not _complaints(err)


@pytest.mark.slow
def test_walkforward_into_head_stops_quietly(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.0, 1.5]\n")
    args = ["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
            "--is", "2024-01-08:2024-01-10", "--oos", "2024-01-11:2024-01-12",
            "--grid", str(grid), "--min-baskets", "1", "--report", str(tmp_path / "wf")]

    status, read, err = _first_lines_then_close(args, 1, tmp_path)

    assert read[0].startswith("[1/4] fold 1/1 in-sample")
    assert status == READER_GONE
    assert not _complaints(err)


@pytest.mark.slow
def test_backtest_into_head_stops_quietly(tmp_path):
    args = ["backtest", "--market", "synthetic", "--seed", "3", "--from", "2024-01-08",
            "--to", "2024-01-10", "--clusters", "USD_MAJORS", "--report", str(tmp_path / "r")]

    status, read, err = _first_lines_then_close(args, 1, tmp_path)

    # both lines come in one write at the end: head may close before or after it
    assert "final balance" in read[0]
    assert status in (0, READER_GONE)
    assert not _complaints(err)


CALENDAR = TEST_DATA / "calendar" / "economic_calendar_2019_UTC_slice.csv"
BALANCE = re.compile(r"final balance ([0-9,]+\.[0-9]{2})")


def test_a_replay_with_a_calendar_trades_as_the_backtest_with_it(tmp_path, small_config,
                                                                  capsys):
    # Arrange
    backtest = ["backtest", "--data", *USD_MAJORS_FILES, "--config", str(small_config),
                "--clusters", "USD_MAJORS", "--calendar", str(CALENDAR)]

    # Act
    replayed = main([*_replay_args(tmp_path, small_config), "--calendar", str(CALENDAR)])
    with_calendar = capsys.readouterr().out
    main([*_replay_args(tmp_path / "none", small_config)])
    without, notes = capsys.readouterr()
    tested = main([*backtest, "--report", str(tmp_path / "report")])
    backtested = capsys.readouterr().out

    # Assert: the news filter acted, as in the backtest; without a calendar the run says
    # the filter is off
    assert replayed == 0 and tested == 0
    assert "NEWS_BLACKOUT" in with_calendar
    assert BALANCE.findall(with_calendar)[-1] == BALANCE.findall(backtested)[-1]
    assert BALANCE.findall(without)[-1] != BALANCE.findall(with_calendar)[-1]
    assert "note: no economic calendar given: the news filter is off" in without + notes


def test_a_replay_from_inside_the_warm_up_trades_the_backtests_period(tmp_path, small_config,
                                                                     capsys):
    # Arrange: --from the data's second day, before the clusters could warm up
    span = ["--from", "2019-10-14", "--to", "2019-10-25"]

    # Act
    replayed = main([*_replay_args(tmp_path, small_config), *span])
    out = capsys.readouterr().out
    tested = main(["backtest", "--data", *USD_MAJORS_FILES, "--config", str(small_config),
                   "--clusters", "USD_MAJORS", *span, "--report", str(tmp_path / "report")])
    backtested, notes = capsys.readouterr()

    # Assert: the same moved start, said the same way, and the same trades
    moved = next(line for line in notes.splitlines() if "trading starts" in line)
    assert replayed == 0 and tested == 0
    assert moved.startswith("note: trading starts 2019-10-") and moved in out
    assert BALANCE.findall(out)[-1] == BALANCE.findall(backtested)[-1]


def test_a_closed_standard_output_is_one_line_and_the_report_is_written(tmp_path):
    # Arrange: standard output closed, as 'main.py backtest ... >&-' leaves it
    report = tmp_path / "r"
    args = ["backtest", "--market", "synthetic", "--from", "2024-01-08", "--to", "2024-01-09",
            "--clusters", "USD_MAJORS", "--report", str(report)]
    env = {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home")}

    # Act
    child = subprocess.run([sys.executable, "main.py", *args], cwd=REPO_ROOT, env=env,
                           stderr=subprocess.PIPE, text=True, timeout=300,
                           preexec_fn=lambda: os.close(1))

    # Assert: the report written, one line said, no crash log
    assert (report / "report.html").is_file() and (report / "trades.csv").is_file()
    assert child.returncode == 2
    assert child.stderr.splitlines() == [
        "error: standard output is closed: what the command printed was lost "
        "(its files, if any, are written)"]
    assert not _complaints(child.stderr)
    assert not (tmp_path / "home" / "crash.log").exists()
