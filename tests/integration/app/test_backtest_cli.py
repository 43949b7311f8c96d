"""``main.py backtest``, ``walkforward`` and ``replay`` on real data slices and the synthetic
market: complete reports, honest failures."""

from __future__ import annotations

import csv
import json
import tempfile

import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main

#: Short windows so that three weeks of real M1 data warm up in a few days.
SMALL = short_window_config("USD_MAJORS", "GOLD_HAVENS")


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_backtest_on_real_m1_slices_writes_a_complete_report(tmp_path, small_config, capsys):
    report = tmp_path / "report"
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(small_config),
                 "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    names = sorted(p.name for p in report.iterdir())
    assert {"metrics.json", "trades.csv", "equity.csv", "report.html"} <= set(names)
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["complete"] is True
    assert metrics["returns"]["sharpe_basis"]
    trades = list(csv.DictReader((report / "trades.csv").open()))
    assert len(trades) == metrics["baskets"]["baskets"] > 0
    assert set(trades[0]) >= {"cluster", "direction", "entry_time", "exit_time", "entry_tdi",
                              "exit_tdi", "exit_code", "pnl", "costs"}
    equity = list(csv.DictReader((report / "equity.csv").open()))
    assert list(equity[0]) == ["date", "balance", "equity"]
    assert "INCOMPLETE" not in (report / "report.html").read_text()
    assert "baskets (" in out and "final balance" in out


def test_synthetic_backtest_and_rerun_are_identical(tmp_path, capsys):
    args = ["backtest", "--market", "synthetic", "--seed", "3", "--from", "2024-01-08",
            "--to", "2024-01-19", "--clusters", "USD_MAJORS,GOLD_HAVENS"]
    assert main([*args, "--report", str(tmp_path / "a")]) == 0
    assert main([*args, "--report", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "trades.csv").read_text()
    b = (tmp_path / "b" / "trades.csv").read_text()
    assert a == b and a.count("\n") > 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "2019-11-20", "--to", "2019-11-01"],
         "--from 2019-11-20 is not before --to 2019-11-01"),
        (["--from", "2019-10-28T12:00", "--to", "2019-10-28T12:00"],  # equal: not "after"
         "--from 2019-10-28T12:00 is not before --to 2019-10-28T12:00"),
        (["--from", "2018-01-01", "--to", "2018-02-01"], " .. 2018-02-01 (the data does not "
         "cover it"),  # the last day as given, not the exclusive end 2018-02-02
        (["--clusters", "EUR_CROSSES"], "no configured cluster can trade"),
        (["--from", "2019-12-20"], "empty period"),
    ],
)
def test_bad_requests_are_one_clear_line(tmp_path, small_config, capsys, extra, message):
    config = ["--config", str(small_config)] if "--clusters" not in extra else []
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), *config, *extra,
                 "--report", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "r" / "report.html").exists()


def test_a_broken_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv"
    bad.write_text("this is not a bar file\n")
    code = main(["backtest", "--data", str(bad), "--report", str(tmp_path / "r")])
    assert code == 2
    assert str(bad) in capsys.readouterr().err


def test_walkforward_with_one_explicit_fold_picks_in_sample_and_reports_out_of_sample(
        tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.0, 1.5]\n")
    code = main(["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
                 "--is", "2024-01-08:2024-01-26", "--oos", "2024-01-29:2024-02-09",
                 "--grid", str(grid), "--min-baskets", "1", "--report", str(tmp_path / "wf")])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads((tmp_path / "wf" / "walkforward.json").read_text())
    assert len(doc["grid"]) == 2 and len(doc["folds"]) == 1
    (choice,) = doc["folds"][0]["selection"]
    assert choice["params"]["entry"] in (1.0, 1.5) and choice["trials"] == 2
    metrics = json.loads((tmp_path / "wf" / "fold-1" / "out-of-sample" / "metrics.json")
                         .read_text())
    assert metrics["params"]["period"]["from"].startswith("2024-01-29")
    assert "N = 2 per selection" in out and "DSR" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("USD_MAJORS"))
    assert int(row.split()[-3]) == metrics["clusters"]["by_cluster"]["USD_MAJORS"]["baskets"]
    assert not any(line.strip().startswith("EUR_CROSSES") for line in out.splitlines())


def test_replay_command_runs_to_the_end_of_the_data(tmp_path, small_config, capsys):
    code = main(["replay", str(TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"),
                 str(TEST_DATA / "histdata" / "DAT_ASCII_GBPUSD_M1_2019.csv.gz"),
                 str(TEST_DATA / "histdata" / "DAT_ASCII_AUDUSD_M1_2019.csv.gz"),
                 str(TEST_DATA / "histdata" / "DAT_ASCII_USDCHF_M1_2019.csv.gz"),
                 "--config", str(small_config), "--clusters", "USD_MAJORS",
                 "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr().out
    assert code == 0
    assert "2019-10-31" in out
    assert any(line.startswith("baskets:") for line in out.splitlines())


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A fresh folder as the temporary directory, to see what a command leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_walkforward_leaves_no_temporary_folder(tmp_path, scratch, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.0, 1.5]\n")
    code = main(["walkforward", "--market", "synthetic", "--clusters", "USD_MAJORS",
                 "--is", "2024-01-08:2024-01-09", "--oos", "2024-01-10:2024-01-11",
                 "--grid", str(grid), "--min-baskets", "1", "--report", str(tmp_path / "wf")])
    capsys.readouterr()
    assert code in (0, 1)  # two days make no metrics: an honest incomplete report
    assert (tmp_path / "wf" / "walkforward.json").exists()
    assert list(scratch.iterdir()) == []


def test_a_failed_backtest_and_an_imported_calendar_leave_no_temporary_folder(
        tmp_path, small_config, scratch, capsys):
    # real ticks mode imports the files into a scratch store before the period is checked
    failed = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                   str(small_config), "--tick-mode", "real", "--from", "2018-01-01", "--to",
                   "2018-02-01", "--report", str(tmp_path / "r")])
    assert failed == 2
    assert "empty period" in capsys.readouterr().err
    assert list(scratch.iterdir()) == []
    calendar = TEST_DATA / "calendar" / "ff_calendar_thisweek_week-of-2024-09-08.xml"
    code = main(["backtest", "--market", "synthetic", "--clusters", "USD_MAJORS", "--from",
                 "2024-09-09", "--to", "2024-09-11", "--calendar", str(calendar),
                 "--report", str(tmp_path / "c")])
    capsys.readouterr()
    assert code in (0, 1)
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(("first", "last"), [("2019-10-31", "2019-11-01"),  # cut before
                                             ("2019-10-23", "2019-10-24")])  # and after
def test_a_real_tick_backtest_of_a_period_imports_its_window_and_gives_the_same_files(
        tmp_path, small_config, monkeypatch, capsys, first, last):
    # Arrange: days of the slices in --tick-mode real (the files go through a scratch
    # store), once importing the period's window and once the whole files
    import filecmp

    import app.backtest.data as data

    imported: list[int] = []
    real_imported = data._imported

    def counting(files, root, window=None):
        store, summaries = real_imported(files, root, window)
        imported.append(sum(s.imported for s in summaries))
        return store, summaries

    monkeypatch.setattr(data, "_imported", counting)
    argv = ["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(small_config),
            "--tick-mode", "real", "--from", first, "--to", last, "--report"]

    # Act
    windowed = main([*argv, str(tmp_path / "windowed")])
    monkeypatch.setattr(data, "_import_window", lambda wanted: None)
    whole = main([*argv, str(tmp_path / "whole")])
    capsys.readouterr()

    # Assert: every file the same, from fewer rows written
    assert windowed == whole == 0
    for name in ("trades.csv", "legs.csv", "equity.csv", "metrics.json"):
        assert filecmp.cmp(tmp_path / "windowed" / name, tmp_path / "whole" / name,
                           shallow=False), name
    assert 0 < imported[0] < imported[1]
