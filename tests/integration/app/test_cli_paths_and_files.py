"""Paths the system refuses and files with nothing in them: one line naming the path and
exit 2 (not the crash handler's "internal error"), the file left as it was; a sweep whose
trials all fail says why; a daily file whose leg never moves scans to "n/a", said."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.configs import short_window_config
from helpers.mounts import mounted_tmpfs
from helpers.paths import TEST_DATA

DAILY = TEST_DATA / "equity_daily_ko_pep_sp500_2019_2022.csv.gz"
CALENDAR = TEST_DATA / "calendar" / "economic_calendar_2019_UTC_slice.csv"


def assert_one_line(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "internal error" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(short_window_config("USD_MAJORS"))
    return path


@pytest.fixture
def grid(tmp_path) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text("tau_f = [4, 8]\n")
    return path


def unwritable(tmp_path: Path) -> Path:
    """A folder that cannot be made: under /proc, where no process may create one."""
    return Path("/proc") / f"fxcluster-{tmp_path.name}"


def test_a_report_folder_that_cannot_be_made_is_one_line(tmp_path, capsys, config):
    target = unwritable(tmp_path) / "report"

    code, _, err = run_cli(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                            str(config), "--report", str(target)], capsys)

    assert_one_line(code, err, str(target.parent))


@pytest.mark.parametrize("command", [
    lambda db, grid, config: ["import", "calendar", "--calendar", str(db), str(CALENDAR)],
    lambda db, grid, config: ["sweep", "--data", str(TEST_DATA / "histdata"), "--config",
                              str(config), "--grid", str(grid), "--study", str(db)],
], ids=["calendar", "sweep study"])
def test_a_database_that_cannot_be_created_is_named(tmp_path, capsys, grid, config, command):
    db = unwritable(tmp_path).with_suffix(".sqlite")  # /proc exists; nothing is made in it

    code, _, err = run_cli(command(db, grid, config), capsys)

    assert_one_line(code, err, str(db), "/proc takes no new file")  # said before any work


@pytest.mark.parametrize("command", [
    ["sweep", "list", "{db}"],
    ["sweep", "show", "{db}"],
    ["calendar", "list", "--calendar", "{db}", "--from", "2019-01-02", "--to", "2019-01-03"],
    ["journal", "summary", "--journal", "{db}"],
], ids=["sweep list", "sweep show", "calendar list", "journal summary"])
def test_a_reader_leaves_an_empty_file_empty(tmp_path, capsys, command):
    db = tmp_path / "empty.sqlite"
    db.write_bytes(b"")

    code, _, err = run_cli([word.format(db=db) for word in command], capsys)

    assert_one_line(code, err, str(db), "an empty file")
    assert db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite"]


def test_a_sweep_whose_trials_fail_says_why(tmp_path, capsys, grid, config):
    # Arrange: a period the data (October 2019) does not reach
    study = tmp_path / "study.sqlite"

    # Act
    code, out, err = run_cli(["sweep", "--data", str(TEST_DATA / "histdata"), "--config",
                              str(config), "--grid", str(grid), "--study", str(study),
                              "--from", "2019-06-01", "--to", "2019-07-01"], capsys)

    # Assert
    assert code == 1 and "failed 2" in out
    assert err.startswith("error: 2 trial(s) failed; the first: empty period: ")
    assert err.rstrip().endswith(f"(main.py sweep show {study} lists each)")


@pytest.mark.parametrize("command", [
    ["pairs", "scan", "--data", "{file}", "--symbols", "KO,PEP"],
    ["convertible", "hedge", "--data", "{file}", "--ticker", "KO", "--face", "1000",
     "--maturity", "5", "--vol", "0.3", "--rate", "0.03", "--out", "{out}"],
], ids=["pairs scan", "convertible hedge"])
def test_a_daily_file_with_only_its_header_is_one_line(tmp_path, capsys, command):
    file = tmp_path / "header.csv"
    file.write_text("Date,KO,PEP,SP500\n")

    code, _, err = run_cli([w.format(file=file, out=tmp_path / "out") for w in command],
                           capsys)

    assert_one_line(code, err, f"{file}: no rows of closes after the header")
    assert not (tmp_path / "out").exists()


def test_a_leg_that_never_moves_scans_to_no_figures(tmp_path, capsys, recwarn):
    # Arrange: PEP quoted 100.0 every day
    lines = gzip.decompress(DAILY.read_bytes()).decode().splitlines()
    flat = [lines[0]] + [",".join([*row.split(",")[:2], "100.0", row.split(",")[3]])
                         for row in lines[1:]]
    file = tmp_path / "flat.csv"
    file.write_text("\n".join(flat) + "\n")

    # Act
    code, out, err = run_cli(["pairs", "scan", "--data", str(file), "--symbols",
                              "KO,PEP,SP500"], capsys)

    # Assert: the pair without PEP has its figures; those with PEP none, and it is said
    rows = {line.split()[0]: line.split()[2:] for line in out.splitlines()[2:]}
    assert code == 0
    assert rows["KO/SP500"][0] != "n/a"
    assert rows["KO/PEP"][:5] == ["n/a"] * 5 and rows["PEP/SP500"][-1] == "n/a"
    assert "KO/PEP: PEP does not move over the 1006 bars (one price throughout)" in err
    assert "RuntimeWarning" not in err and not [w for w in recwarn
                                                 if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("command", [
    ["tdi", "--data", "{missing}", "--symbols", "EURUSD,GBPUSD,AUDUSD", "--out", "{out}"],
    ["data", "futures", "--cash", "{missing}", "--contract", "all", "--out", "{out}"],
    ["backtest", "--data", "{missing}", "--report", "{out}"],
], ids=["tdi", "data futures", "backtest"])
def test_a_data_file_that_is_not_there_is_said_missing(tmp_path, capsys, command):
    missing = tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv.gz"

    code, _, err = run_cli([w.format(missing=missing, out=tmp_path / "out") for w in command],
                           capsys)

    assert_one_line(code, err, str(missing))
    assert "no such file" in err.lower() or "does not exist" in err
    assert not (tmp_path / "out").exists()


def test_the_tdi_says_a_skipped_row_on_stderr_not_among_its_results(tmp_path, capsys):
    # Arrange: text in an open price of EURUSD's line 2000
    folder = tmp_path / "data"
    folder.mkdir()
    for symbol in ("EURUSD", "GBPUSD", "AUDUSD"):
        source = TEST_DATA / "histdata" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        lines = gzip.decompress(source.read_bytes()).decode().splitlines()
        if symbol == "EURUSD":
            lines[1999] = "20191020 170300;1.14x;1.145;1.144;1.1445;0"
        (folder / source.name.removesuffix(".gz")).write_text("\n".join(lines) + "\n")

    # Act
    code, out, err = run_cli(["tdi", "--data", str(folder), "--symbols", "EURUSD,GBPUSD,AUDUSD",
                              "--out", str(tmp_path / "tdi.csv")], capsys)

    # Assert
    assert code == 0
    assert "DAT_ASCII_EURUSD_M1_2019.csv:2000: text in number field open" in err
    assert "1.14x" not in out and out.count("\n") == 1


def blocked(folder: Path, name: str) -> Path:
    """``folder`` with a folder standing where the output file ``name`` goes."""
    (folder / name).mkdir(parents=True)
    return folder


@pytest.mark.parametrize(("command", "blocker"), [
    (["backtest", "--data", str(TEST_DATA / "histdata"), "--config", "{config}",
      "--report", "{out}"], "report.html"),
    (["audit", "--data", str(TEST_DATA / "histdata"), "--config", "{config}", "--seeds", "1",
      "--report", "{out}"], "audit.html"),
    (["convertible", "hedge", "--data", str(DAILY), "--ticker", "KO", "--face", "1000",
      "--maturity", "5", "--vol", "0.3", "--rate", "0.03", "--out", "{out}"],
     "hedge_summary.csv"),
    (["data", "futures", "--cash", str(TEST_DATA / "cfd_m1" / "DAT_ASCII_SPXUSD_M1_2019.csv.gz"),
      "--contract", "all", "--out", "{out}"], "DAT_ASCII_SPXUSD_H20_M1_2019_SYNTHETIC.csv.gz"),
], ids=["backtest", "audit", "convertible hedge", "data futures"])
def test_a_folder_where_an_output_file_goes_leaves_no_output(tmp_path, capsys, config,
                                                              command, blocker):
    # Arrange
    out = blocked(tmp_path / "out", blocker)

    # Act
    code, _, err = run_cli([w.format(config=config, out=out) for w in command], capsys)

    # Assert: one line naming what is in the way; no file of the set written beside it
    assert_one_line(code, err, str(out / blocker))
    assert [p.name for p in out.iterdir()] == [blocker]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_sweep_report_over_a_folder_in_the_way_leaves_no_output(tmp_path, capsys, config,
                                                                  grid):
    # Arrange: a study of two trials, a report folder with report.html taken
    study = tmp_path / "study.sqlite"
    code, _, _ = run_cli(["sweep", "--data", str(TEST_DATA / "histdata"), "--config",
                          str(config), "--grid", str(grid), "--study", str(study)], capsys)
    assert code == 0
    out = blocked(tmp_path / "out", "report.html")

    # Act
    code, _, err = run_cli(["sweep", "report", str(study), "--report", str(out)], capsys)

    # Assert
    assert_one_line(code, err, str(out / "report.html"))
    assert [p.name for p in out.iterdir()] == ["report.html"]


def test_an_export_onto_a_pipe_is_refused_and_the_pipe_stays(tmp_path, capsys):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    code, _, err = run_cli(["pairs", "scan", "--data", str(DAILY), "--symbols", "KO,PEP",
                            "--out", str(pipe)], capsys)

    assert_one_line(code, err, str(pipe), "not a regular file")
    assert pipe.is_fifo()


def test_a_price_that_never_moves_is_said(tmp_path, capsys, config):
    # Arrange: EURUSD's file with every price 1.1
    folder = tmp_path / "data"
    folder.mkdir()
    for symbol in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF"):
        source = TEST_DATA / "histdata" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        lines = gzip.decompress(source.read_bytes()).decode().splitlines()
        if symbol == "EURUSD":
            lines = [line.split(";")[0] + ";1.1;1.1;1.1;1.1;0" for line in lines]
        (folder / source.name.removesuffix(".gz")).write_text("\n".join(lines) + "\n")

    # Act
    code, _, err = run_cli(["backtest", "--data", str(folder), "--config", str(config),
                            "--report", str(tmp_path / "report")], capsys)

    # Assert
    assert code == 0
    assert f"note: EURUSD: {folder / 'DAT_ASCII_EURUSD_M1_2019.csv'} quotes one price " \
           "throughout (1.1)" in err


@pytest.mark.parametrize(("command", "fragment"), [
    (["data", "list", "--store", "{missing}"], "is not a folder"),
    (["data", "list", "--gap-minutes", "-5"], "--gap-minutes: -5 is not a positive number"),
    (["walkforward", "--data", str(TEST_DATA / "histdata"), "--grid", "{grid}", "--report",
      "{missing}", "--min-baskets", "-1", "--from", "2019-10-20", "--to", "2019-11-01"],
     "--min-baskets: -1 is below 0"),
], ids=["data list store", "data list gap", "walkforward min baskets"])
def test_an_impossible_option_value_is_one_line(tmp_path, capsys, grid, command, fragment):
    words = [w.format(missing=tmp_path / "missing", grid=grid) for w in command]

    code, _, err = run_cli(words, capsys)

    assert_one_line(code, err, fragment)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("kind", ["bars", "calendar"])
def test_an_import_with_one_bad_file_imports_none(tmp_path, capsys, kind):
    # Arrange: a good file, then one that is not data at all
    bad = tmp_path / "random.txt"
    bad.write_text("hello world\nnot data\n")
    target = tmp_path / ("store" if kind == "bars" else "calendar.sqlite")
    good = (TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz" if kind == "bars"
            else CALENDAR)
    where = ["--store", str(target)] if kind == "bars" else ["--calendar", str(target)]

    # Act
    code, _, err = run_cli(["import", kind, *where, str(good), str(bad)], capsys)

    # Assert: the bad file named; the good one not imported either
    assert_one_line(code, err, str(bad))
    assert not target.exists()


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a 12 KiB filesystem: a disk that fills at the first real write."""
    with mounted_tmpfs(tmp_path / "tiny", "size=12k") as folder:
        yield folder


def test_a_backup_onto_a_full_disk_names_the_copy_and_leaves_nothing(tmp_path, capsys, config,
                                                                     full_disk):
    # Arrange: a journal of a short backtest
    report = tmp_path / "report"
    code, _, _ = run_cli(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                          str(config), "--report", str(report)], capsys)
    assert code == 0
    copy = full_disk / "backup.sqlite"

    # Act
    code, _, err = run_cli(["journal", "backup", "--journal", str(report / "journal.sqlite"),
                            "--out", str(copy)], capsys)

    # Assert: the copy's path, not the journal's; nothing of the copy left on the disk
    assert_one_line(code, err, f"{copy}: the backup could not be written there")
    assert str(report / "journal.sqlite") not in err
    assert list(full_disk.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["pairs", "scan", "--data", "{folder}", "--symbols", "SPXUSD,NSXUSD", "--timeframe", "M30"],
    ["data", "futures", "--cash", "{folder}/DAT_ASCII_SPXUSD_M1_2019.csv", "--contract", "all",
     "--out", "{out}"],
], ids=["pairs scan", "data futures"])
def test_a_bad_row_of_a_cfd_file_is_said(tmp_path, capsys, command):
    # Arrange: line 50 of the SPXUSD slice cut short
    folder = tmp_path / "data"
    folder.mkdir()
    for symbol in ("SPXUSD", "NSXUSD"):
        source = TEST_DATA / "cfd_m1" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        lines = gzip.decompress(source.read_bytes()).decode().splitlines()
        if symbol == "SPXUSD":
            lines[49] = "bad;line"
        (folder / source.name.removesuffix(".gz")).write_text("\n".join(lines) + "\n")

    # Act
    code, _, err = run_cli([w.format(folder=folder, out=tmp_path / "out") for w in command],
                           capsys)

    # Assert
    assert code == 0
    assert (f"SPXUSD: 1 bad row(s) skipped ({folder / 'DAT_ASCII_SPXUSD_M1_2019.csv'}:50: "
            "truncated line (2 of 6 fields))") in err
