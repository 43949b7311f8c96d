"""A command checks where its output goes before any work: a path through a file, or a
folder that takes no new file, is one line naming the option and the path the user gave,
exit 2, before the data is read or a backtest runs (a long study used to fail only at its
end, naming the hidden folder it was writing into)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

from app.staged import staged_folder
from main import main

HISTDATA = TEST_DATA / "histdata"
CALENDAR = TEST_DATA / "calendar" / "economic_calendar_2019_UTC_slice.csv"
FILES = [str(HISTDATA / f"DAT_ASCII_{s}_M1_2019.csv.gz") for s in ("EURUSD", "GBPUSD")]


def commands(out: Path, grid: Path) -> dict[str, tuple[list[str], str]]:
    """Each command with its output at ``out`` (the words, the option)."""
    synthetic = ["--market", "synthetic", "--clusters", "USD_MAJORS"]
    return {
        "tdi": (["tdi", "--data", *FILES, "--symbols", "EURUSD,GBPUSD", "--out",
                 str(out / "t.csv")], "--out"),
        "pairs scan": (["pairs", "scan", "--data", *FILES, "--symbols", "EURUSD,GBPUSD",
                        "--out", str(out / "p.csv")], "--out"),
        "replay": (["replay", *FILES, "--journal", str(out / "j.sqlite")], "--journal"),
        "run": (["run", "--demo", "--days", "0.01", "--journal", str(out / "j.sqlite")],
                "--journal"),
        "import calendar": (["import", "calendar", str(CALENDAR), "--calendar",
                             str(out / "c.sqlite")], "--calendar"),
        "backtest": (["backtest", *synthetic, "--from", "2024-01-08", "--to", "2024-01-10",
                      "--report", str(out / "r")], "--report"),
        "walkforward": (["walkforward", *synthetic, "--is", "2024-01-08:2024-01-12", "--oos",
                         "2024-01-15:2024-01-19", "--grid", str(grid), "--report",
                         str(out / "w")], "--report"),
        "sweep": (["sweep", *synthetic, "--from", "2024-01-08", "--to", "2024-01-12",
                   "--grid", str(grid), "--study", str(out / "s.sqlite")], "--study"),
    }


@pytest.mark.parametrize("name", ["tdi", "pairs scan", "replay", "run", "import calendar",
                                  "backtest", "walkforward", "sweep"])
def test_an_output_under_a_file_is_one_line_before_any_work(tmp_path, capsys, name):
    # Arrange: a file where the output's folder should be
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    words, option = commands(blocker, grid)[name]

    # Act
    code = main(words)
    err = capsys.readouterr().err

    # Assert
    assert code == 2
    assert err.splitlines() == [f"error: {option}: {blocker} is a file, so "
                                f"{blocker / Path(words[-1]).name} cannot be created"]
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or not Path("/proc/self").is_dir(),
                    reason="needs /proc: a folder that takes no new file, even for root")
@pytest.mark.parametrize("name", ["tdi", "backtest", "walkforward", "sweep", "run"])
def test_a_folder_that_takes_no_file_is_said_before_any_work(tmp_path, capsys, name):
    # Arrange
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    words, option = commands(Path("/proc"), grid)[name]

    # Act
    code = main(words)
    err = capsys.readouterr().err

    # Assert: the user's path named, not a hidden staging folder
    assert code == 2
    assert err.startswith(f"error: {option}: cannot write /proc/{Path(words[-1]).name}: "
                          "/proc takes no new file")
    assert ".partial-" not in err


@pytest.mark.skipif(os.name != "posix" or not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_staged_folder_that_cannot_be_made_names_its_target():
    with pytest.raises(OSError) as caught, staged_folder(Path("/proc/report")):
        pass
    assert caught.value.filename == "/proc/report"


def test_a_backtest_never_replaces_a_journal_a_run_is_writing_in_its_report_folder(
        tmp_path, capsys, monkeypatch):
    # Arrange: a run's journal, open for writing, where the backtest's journal would go
    from storage.journal import SqliteJournal

    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    report = tmp_path / "R"
    report.mkdir()
    with SqliteJournal.open(report / "journal.sqlite") as writer:
        inode = os.stat(report / "journal.sqlite").st_ino

        # Act
        code = main(["backtest", "--market", "synthetic", "--from", "2024-01-08", "--to",
                     "2024-01-10", "--report", str(report)])

        # Assert: refused in one line before any work; the writer's file untouched
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert "open for writing by pid" in err and "this backtest's journal" in err
        assert os.stat(report / "journal.sqlite").st_ino == inode and writer.path.exists()
    assert sorted(p.name for p in report.iterdir()) == ["journal.sqlite", "journal.sqlite.lock"]


EMPTY_PATH_LINES = {
    "backtest --report": ["backtest", "--market", "synthetic", "--from", "2024-01-08", "--to",
                          "2024-01-09", "--report", ""],
    "audit --report": ["audit", "--data", *FILES, "--report", ""],
    "journal export --out": ["journal", "export", "--out", ""],
    "journal backup --out": ["journal", "backup", "--out", ""],
    "convertible hedge --out": ["convertible", "hedge", "--data", FILES[0], "--out", ""],
    "tdi --out": ["tdi", "--data", *FILES, "--symbols", "EURUSD,GBPUSD", "--out", ""],
    "sweep --study": ["sweep", "--market", "synthetic", "--study", ""],
    "backtest --config": ["backtest", "--market", "synthetic", "--config", "", "--report",
                          "r"],
}


@pytest.mark.parametrize("name", list(EMPTY_PATH_LINES))
def test_an_empty_path_is_refused_not_taken_for_the_working_folder(tmp_path, monkeypatch,
                                                                     capsys, name):
    # Arrange: the user's own file in the working folder, where "" would have written
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trades.csv").write_text("mine")
    option = name.split()[-1]

    # Act
    with pytest.raises(SystemExit) as stop:
        main(EMPTY_PATH_LINES[name])
    err = capsys.readouterr().err

    # Assert: one line naming the option, nothing written
    assert stop.value.code == 2
    assert len(err.splitlines()) == 1
    assert f"argument {option}" in err and "empty path" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trades.csv"]
    assert (tmp_path / "trades.csv").read_text() == "mine"
