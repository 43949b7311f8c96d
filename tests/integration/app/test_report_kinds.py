"""A ``--report`` folder holding another command's report is refused before any work, one
line, exit 2, the folder as it was; a folder of unrelated files keeps being written into."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.paths import TEST_DATA

FILES = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz")
         for s in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")]
SYNTHETIC = ["--market", "synthetic", "--clusters", "USD_MAJORS"]


def words(kind: str, report: Path, tmp_path: Path) -> list[str]:
    """The command line writing ``kind``'s report into ``report``."""
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    return {
        "backtest": ["backtest", *SYNTHETIC, "--from", "2024-01-08", "--to", "2024-01-09",
                     "--report", str(report)],
        "walkforward": ["walkforward", *SYNTHETIC, "--is", "2024-01-08:2024-01-12", "--oos",
                        "2024-01-15:2024-01-19", "--grid", str(grid), "--report", str(report)],
        "sweep report": ["sweep", "report", str(tmp_path / "s.sqlite"), "--report",
                         str(report)],
        "audit": ["audit", "--data", *FILES, "--report", str(report)],
    }[kind]


#: The file each kind of report is told by.
MARKS = {"backtest": "metrics.json", "walkforward": "walkforward.json",
         "sweep": "sweep.json", "audit": "audit.json"}


@pytest.mark.parametrize(("command", "held"), [
    ("backtest", "walkforward"), ("backtest", "sweep"), ("walkforward", "backtest"),
    ("sweep report", "backtest"), ("sweep report", "walkforward"), ("audit", "backtest"),
])
def test_a_folder_with_another_kind_of_report_is_refused(tmp_path, capsys, command, held):
    # Arrange: a folder holding the other command's report
    report = tmp_path / "r"
    report.mkdir()
    (report / MARKS[held]).write_text("{}")
    (report / "report.html").write_text("the other report's page")
    before = sorted(p.name for p in report.iterdir())

    # Act
    code, _, err = run_cli(words(command, report, tmp_path), capsys)

    # Assert
    assert code == 2
    assert err.splitlines() == [f"error: --report: {report} holds a {held} report "
                                f"({MARKS[held]}); give another folder for the "
                                f"{command.split()[0]} report"]
    assert sorted(p.name for p in report.iterdir()) == before
    assert (report / "report.html").read_text() == "the other report's page"


def test_a_users_own_file_of_a_reports_name_is_not_replaced(tmp_path, capsys):
    # Arrange: a folder of the user's, one file named as the backtest's
    report = tmp_path / "mine"
    report.mkdir()
    (report / "trades.csv").write_text("my trades")

    # Act
    code, _, err = run_cli(words("backtest", report, tmp_path), capsys)

    # Assert
    assert code == 2
    assert err.splitlines() == [f"error: --report: {report / 'trades.csv'} is not part of a "
                                "backtest report (no metrics.json) and would be replaced; "
                                "give another folder"]
    assert (report / "trades.csv").read_text() == "my trades"


def test_a_backtest_again_into_its_own_folder_and_beside_other_files_runs(tmp_path, capsys):
    # Arrange: a backtest's folder, with a note of the user's beside it
    report = tmp_path / "r"
    assert run_cli(words("backtest", report, tmp_path), capsys)[0] == 0
    (report / "notes.txt").write_text("mine")

    # Act
    code, _, err = run_cli(words("backtest", report, tmp_path), capsys)

    # Assert
    assert code == 0, err
    assert (report / "notes.txt").read_text() == "mine"
    assert (report / "metrics.json").is_file()
