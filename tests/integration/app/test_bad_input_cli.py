"""Every bad input on the command line is one clear line naming the option or file, exit 2,
nothing half-written and no crash.log; one table per category, through ``main.main``.

The crash log's own failure and a write that the operating system refuses mid-export run in
a subprocess: a real interpreter, a real file-size limit, a real directory where the crash
log should be.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.paths import REPO_ROOT, TEST_DATA

SYMBOLS = "EURUSD,GBPUSD,AUDUSD,USDCHF"


def crash_log() -> Path:
    return Path(os.environ["FXCLUSTER_HOME"]) / "crash.log"


def assert_one_clear_line(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert not crash_log().exists()


# -- the length and the pace of a run ------------------------------------------------------

@pytest.mark.parametrize(
    ("option", "fragments"),
    [
        (["--days", "nan"], ["--days: nan"]),
        (["--days", "inf"], ["--days: inf"]),
        (["--days", "0"], ["--days: 0 "]),  # 0 used to run a whole day
        (["--days", "-1"], ["--days: -1"]),
        (["--days", "0.0001"], ["one minute"]),
        (["--days", "1e9"], ["--days: 1e+09", "36,500"]),
        (["--speed", "1e-300"], ["--speed: 1e-300 is outside 0.1 .. 1,000,000"]),
        (["--speed", "0"], ["--speed: 0 is outside"]),
        (["--speed", "-5"], ["--speed: -5 is outside"]),
        (["--speed", "nan"], ["--speed: nan is outside"]),
        (["--speed", "inf"], ["--speed: inf is outside", "'max'"]),
        (["--speed", "1e300"], ["--speed: 1e300 is outside"]),
        (["--speed", "fast"], ["--speed: expected a number or 'max'"]),
    ],
)
def test_run_refuses_an_absurd_length_or_pace_before_writing_anything(
        tmp_path, capsys, option, fragments):
    # Arrange
    journal = tmp_path / "journal.sqlite"
    # Act
    code, out, err = run_cli(["run", "--demo", *option, "--journal", str(journal)], capsys)
    # Assert
    assert_one_clear_line(code, err, *fragments)
    assert out == ""
    assert not journal.exists()


@pytest.mark.parametrize("end", [["--to", "2020-01-01"], ["--to", "2024-01-07"],
                                 ["--from", "2024-02-01", "--to", "2024-01-20"]])
def test_a_run_that_would_end_before_it_starts_writes_no_journal(tmp_path, capsys, end):
    # Arrange: the demo starts 2024-01-08 unless told otherwise
    journal = tmp_path / "journal.sqlite"
    # Act
    code, _, err = run_cli(["run", "--demo", *end, "--journal", str(journal)], capsys)
    # Assert: refused before the journal is made (it used to be made and bound to the
    # demo account, and then refused another seed's run)
    assert code == 2 and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("speed", "ok"), [("0.1", True), ("1000000", True), ("max", True),
                                           ("MAX", True), ("0.099", False)])
def test_the_speed_bounds_are_inclusive(speed, ok):
    from app.cli.args import parse_speed
    from engine.errors import UserError

    if ok:
        assert parse_speed(speed) > 0
    else:
        with pytest.raises(UserError, match="--speed"):
            parse_speed(speed)


# -- a cluster on the tdi command -----------------------------------------------------------

@pytest.mark.parametrize(
    ("symbols", "fragments"),
    [
        ("EURUSD", ["--symbols: a cluster is 3 to 6 symbols, got 1"]),
        ("EURUSD,GBPUSD", ["--symbols: a cluster is 3 to 6 symbols, got 2"]),  # ZeroDivision
        (",", ["--symbols: a cluster is 3 to 6 symbols, got 0 (none)"]),
        (f"{SYMBOLS},USDJPY,USDCAD,XAUUSD", ["--symbols: a cluster is 3 to 6 symbols, got 7"]),
        ("EURUSD,GBPUSD, eurusd", ["--symbols: EURUSD given twice"]),
    ],
)
def test_tdi_refuses_what_is_not_a_cluster(tmp_path, capsys, symbols, fragments):
    # Arrange
    out = tmp_path / "tdi.csv"
    # Act
    code, _, err = run_cli(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", symbols,
                            "--out", str(out)], capsys)
    # Assert
    assert_one_clear_line(code, err, *fragments)
    assert not out.exists()


def test_tdi_takes_three_and_six_symbols(tmp_path, capsys):
    for symbols in ("EURUSD,GBPUSD,AUDUSD", f"{SYMBOLS},USDJPY,USDCAD"):
        out = tmp_path / "tdi.csv"
        code, printed, _ = run_cli(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols",
                                    symbols, "--tau-f", "4", "--tau-s", "24", "--tau-q", "96",
                                    "--out", str(out)], capsys)
        assert code == 0
        assert "valid TDI bars" in printed and out.exists()


#: What a HistData-named EURUSD file may hold that gives no bar at all: the wrong file.
NO_BARS = {
    "a calendar": ("time_utc,currency,impact,title,actual,forecast,previous\n"
                   "2019-10-14T12:30:00Z,USD,High,CPI m/m,0.4%,0.3%,0.2%\n",
                   ["unrecognised format (first line 'time_utc,currency,impact,title,",
                    "expected a HistData M1 file (rows like 20190101 170200;"]),
    "a wide daily file": ("date,EURUSD,GBPUSD\n2019-10-14,1.1,1.2\n",
                          ["unrecognised format (first line 'date,EURUSD,GBPUSD')"]),
    "an empty file": ("", [": empty file"]),
    "every row rejected": ("20191014 170000;1.1;1.0;1.1;1.1;0\n"
                           "20191014 170100;1.1;1.0;1.1;1.1;0\n",
                           [":1: high below max(open, close); no row of the file is usable "
                            "(2 read, all rejected)"]),
}


@pytest.mark.parametrize(("content", "fragments"), NO_BARS.values(), ids=NO_BARS.keys())
def test_tdi_names_a_file_that_gives_no_bars_and_why(tmp_path, capsys, content, fragments):
    # Arrange: EURUSD's file gives no bar; GBPUSD's and AUDUSD's are good
    bad = tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv"
    bad.write_text(content)
    good = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz")
            for s in ("GBPUSD", "AUDUSD")]
    out = tmp_path / "tdi.csv"
    # Act
    code, _, err = run_cli(["tdi", "--data", str(bad), *good, "--symbols",
                            "EURUSD,GBPUSD,AUDUSD", "--out", str(out)], capsys)
    # Assert
    assert_one_clear_line(code, err, f"error: {bad}", *fragments)
    assert "bucket" not in err
    assert not out.exists()


def test_tdi_names_the_first_of_a_symbols_files_when_none_gives_a_bar(tmp_path, capsys):
    # Arrange: two EURUSD files in a folder with good GBPUSD and AUDUSD files, neither
    # EURUSD file holding a bar
    for symbol in ("GBPUSD", "AUDUSD"):
        name = f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        (tmp_path / name).write_bytes((TEST_DATA / "histdata" / name).read_bytes())
    empty = tmp_path / "DAT_ASCII_EURUSD_M1_2018.csv"
    empty.write_text("")
    (tmp_path / "DAT_ASCII_EURUSD_M1_2019.csv").write_text(NO_BARS["a calendar"][0])
    out = tmp_path / "out" / "tdi.csv"
    # Act
    code, _, err = run_cli(["tdi", "--data", str(tmp_path), "--symbols",
                            "EURUSD,GBPUSD,AUDUSD", "--out", str(out)], capsys)
    # Assert
    assert_one_clear_line(code, err, f"error: {empty}: empty file")
    assert not out.exists()


# -- dates, in every command that takes one -------------------------------------------------

AMBIGUOUS = "day and month order is ambiguous"
BEFORE_1970 = "is before 1970-01-01 UTC"


def _commands_with(date_from: str, tmp: Path) -> list[list[str]]:
    grid = tmp / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    return [
        ["run", "--demo", "--from", date_from, "--journal", str(tmp / "j.sqlite")],
        ["run", "--demo", "--to", date_from, "--journal", str(tmp / "j.sqlite")],
        ["replay", "--store", str(tmp), "--from", date_from, "--journal", str(tmp / "j.sqlite")],
        ["backtest", "--market", "synthetic", "--from", date_from, "--report", str(tmp / "r")],
        ["backtest", "--market", "synthetic", "--to", date_from, "--report", str(tmp / "r")],
        ["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS, "--from",
         date_from, "--out", str(tmp / "t.csv")],
        ["walkforward", "--market", "synthetic", "--is", f"{date_from}:2024-01-10", "--oos",
         "2024-01-11:2024-01-12", "--grid", str(grid), "--report", str(tmp / "wf")],
        ["walkforward", "--market", "synthetic", "--is", "2024-01-08:2024-01-10", "--oos",
         f"2024-01-11:{date_from}", "--grid", str(grid), "--report", str(tmp / "wf")],
    ]


@pytest.mark.parametrize(
    ("date", "fragment"),
    [
        ("01/02/2019", AMBIGUOUS),
        ("02.01.2019", AMBIGUOUS),
        ("20190102", "not in the form YYYY-MM-DD"),
        ("2019-W01-3", "not in the form YYYY-MM-DD"),
        ("2019-02-30", "day is out of range"),
        ("1969-12-31", BEFORE_1970),
        ("0001-01-01", BEFORE_1970),
        ("1970-01-01T00:30+01:00", BEFORE_1970),
        ("9999-12-31", "after 2261"),
    ],
)
def test_every_date_option_refuses_ambiguous_and_out_of_range_dates(
        tmp_path, capsys, date, fragment):
    for argv in _commands_with(date, tmp_path):
        # Act
        code, _, err = run_cli(argv, capsys)
        # Assert
        assert_one_clear_line(code, err, fragment)
        assert date.strip() in err
        assert not (tmp_path / "j.sqlite").exists() and not (tmp_path / "r").exists()
        assert not (tmp_path / "t.csv").exists() and not (tmp_path / "wf").exists()


@pytest.mark.parametrize(("date", "fragment"), [("01/02/2019", AMBIGUOUS),
                                                ("1969-12-31", BEFORE_1970)])
def test_calendar_list_refuses_them_while_parsing(tmp_path, capsys, date, fragment):
    for argv in (["--from", date, "--to", "2024-01-10"], ["--from", "2024-01-08", "--to", date]):
        code, _, err = run_cli(["calendar", "list", "--calendar", str(tmp_path / "c.sqlite"),
                                *argv], capsys)
        assert_one_clear_line(code, err, fragment, "argument --")


def test_the_first_day_of_1970_and_a_span_with_times_are_dates():
    import pandas as pd

    from app.cli.args import parse_date, span

    assert parse_date("1970-01-01", "--from") == pd.Timestamp(0, tz="UTC")
    assert span("2024-01-08T10:00:2024-01-09T12:30", "--is") == (
        pd.Timestamp("2024-01-08 10:00", tz="UTC"), pd.Timestamp("2024-01-09 12:30", tz="UTC"))


# -- cluster names --------------------------------------------------------------------------

def test_clusters_accepts_spaces_after_the_commas(tmp_path, capsys):
    code, out, err = run_cli(["run", "--demo", "--days", "0.02", "--clusters",
                              "USD_MAJORS, GOLD_HAVENS ,", "--journal",
                              str(tmp_path / "j.sqlite")], capsys)
    assert code == 0, err
    assert out.splitlines()[0].startswith("demo: 2 clusters (USD_MAJORS, GOLD_HAVENS)")


@pytest.mark.parametrize(
    ("command", "clusters", "fragments"),
    [
        ("run", "USD_MAJORS, NOPE", ["--clusters: unknown cluster(s): NOPE",
                                     "(known: USD_MAJORS, ", "GOLD_HAVENS"]),
        ("run", " , ", ["--clusters: no cluster name"]),
        ("backtest", "usd_majors", ["--clusters: unknown cluster(s): usd_majors", "known: "]),
        ("replay", "NOPE", ["--clusters: unknown cluster(s): NOPE", "known: "]),
    ],
)
def test_an_unknown_cluster_is_refused_with_the_known_names(
        tmp_path, capsys, command, clusters, fragments):
    argv = {
        "run": ["run", "--demo", "--journal", str(tmp_path / "j.sqlite")],
        "backtest": ["backtest", "--market", "synthetic", "--report", str(tmp_path / "r")],
        "replay": ["replay", str(TEST_DATA / "histdata"), "--journal", str(tmp_path / "j.sqlite")],
    }[command]
    code, _, err = run_cli([*argv, "--clusters", clusters], capsys)
    assert_one_clear_line(code, err, *fragments)
    assert not (tmp_path / "j.sqlite").exists() and not (tmp_path / "r").exists()


# -- where exports and reports go -----------------------------------------------------------

@pytest.fixture
def journal_file(tmp_path):
    from datetime import UTC, datetime

    from engine.records import RunStart
    from storage.journal import SqliteJournal

    path = tmp_path / "journal.sqlite"
    with SqliteJournal.open(path) as journal:
        journal.start_run(RunStart("run-1", "replay", datetime(2019, 2, 4, tzinfo=UTC), "cfg"))
    return path


def _paths(tmp: Path) -> dict[str, Path]:
    a_file = tmp / "a-file"
    a_file.write_text("not a folder\n")
    taken = tmp / "taken"
    (taken / "runs.csv").mkdir(parents=True)
    return {"file": a_file, "under-file": a_file / "sub", "taken": taken,
            "folder": tmp / "a-folder"}


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["journal", "export", "--out", "{file}"], ["--out: ", "a-file is a file"]),
        (["journal", "export", "--out", "{under-file}"], ["a-file is a file, so"]),
        (["journal", "export", "--out", "{taken}", "--force"], ["runs.csv is a folder"]),
        (["journal", "export", "--out", "{taken}", "--table", "runs"], ["runs.csv is a folder"]),
        (["journal", "backup", "--out", "{under-file}"], ["a-file is a file, so"]),
        (["journal", "backup", "--out", "{taken}"], ["--out: ", "taken is a folder"]),
        (["backtest", "--market", "synthetic", "--report", "{file}"],
         ["--report: ", "a-file is a file"]),
        (["backtest", "--market", "synthetic", "--report", "{under-file}"],
         ["--report: ", "a-file is a file, so"]),
        (["walkforward", "--market", "synthetic", "--is", "2024-01-08:2024-01-09", "--oos",
          "2024-01-10:2024-01-11", "--grid", "{file}", "--report", "{file}"],
         ["--report: ", "a-file is a file"]),
    ],
)
def test_an_export_or_report_path_mistake_is_one_line_and_leaves_things_as_they_were(
        tmp_path, journal_file, capsys, argv, fragments):
    # Arrange
    paths = _paths(tmp_path)
    words = [w.format(**{k: str(v) for k, v in paths.items()}) for w in argv]
    if words[0] == "journal":
        words[2:2] = ["--journal", str(journal_file)]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    # Act
    code, _, err = run_cli(words, capsys)
    # Assert
    assert_one_clear_line(code, err, *fragments)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert paths["file"].read_text() == "not a folder\n"


def test_export_onto_an_existing_csv_needs_force_and_then_replaces_it_whole(
        tmp_path, journal_file, capsys):
    out = tmp_path / "export"
    out.mkdir()
    (out / "runs.csv").write_text("older\n")
    argv = ["journal", "export", "--journal", str(journal_file), "--out", str(out)]

    code, _, err = run_cli(argv, capsys)
    assert_one_clear_line(code, err, "runs.csv: already exists (use --force")
    assert (out / "runs.csv").read_text() == "older\n"

    code, _, _ = run_cli([*argv, "--force"], capsys)
    assert code == 0
    assert (out / "runs.csv").read_text().startswith("run_id,")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left


FSIZE_LIMITED = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    import main
    sys.exit(main.main(sys.argv[2:]))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_an_export_the_disk_refuses_midway_leaves_nothing_half_written(tmp_path):
    # Arrange: a journal whose equity table is far larger than what the process may write
    from datetime import UTC, datetime, timedelta

    from engine.records import EquitySnapshot, RunStart
    from storage.journal import SqliteJournal

    path = tmp_path / "journal.sqlite"
    t0 = datetime(2019, 2, 4, tzinfo=UTC)
    with SqliteJournal.open(path) as journal:
        journal.start_run(RunStart("run-1", "replay", t0, "cfg"))
        for i in range(3000):
            journal.record_equity(EquitySnapshot("run-1", t0 + timedelta(minutes=30 * i), 1e5,
                                                 1e5 + i, 0, 1e5, 0, 0))
    out = tmp_path / "export"
    out.mkdir()
    (out / "runs.csv").write_text("the older export\n")
    script = tmp_path / "limited.py"
    script.write_text(FSIZE_LIMITED)
    # Act
    proc = subprocess.run([sys.executable, str(script), "100000", "journal", "export",
                           "--journal", str(path), "--out", str(out), "--force"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    # Assert
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: --out: cannot write into ")
    assert "File too large" in proc.stderr and proc.stderr.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["runs.csv"]
    assert (out / "runs.csv").read_text() == "the older export\n"
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()


# -- the crash log itself ------------------------------------------------------------------

#: A command with a bug in it: the stimulus an internal error needs, in a real interpreter.
BROKEN_COMMAND = textwrap.dedent("""
    import sys
    import app.cli.tdi as tdi

    def broken(args):
        raise RuntimeError("a bug\\nover two lines")

    tdi.run = broken
    import main
    sys.exit(main.main(["tdi", "--data", "x", "--symbols", "A,B,C", "--out", "y"]))
""")


def _crash(tmp_path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "broken.py"
    script.write_text(BROKEN_COMMAND)
    return subprocess.run([sys.executable, str(script)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT),
                               "FXCLUSTER_HOME": str(home)})


def _crash_log_is_a_directory(home: Path) -> None:
    (home / "crash.log").mkdir(parents=True)


def _data_directory_is_a_file(home: Path) -> None:
    home.write_text("a file")


@pytest.mark.parametrize(
    ("spoil", "where"),
    [(_crash_log_is_a_directory, "home/crash.log: Is a directory"),
     (_data_directory_is_a_file, "home: File exists")],
)
def test_an_unwritable_crash_log_still_gives_one_line_and_exit_1(tmp_path, spoil, where):
    # Arrange
    home = tmp_path / "home"
    spoil(home)
    # Act
    proc = _crash(tmp_path, home)
    # Assert
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("internal error: RuntimeError: a bug over two lines (")
    assert "the crash log could not be written to " in proc.stderr
    assert where in proc.stderr


def test_a_writable_crash_log_gets_the_traceback(tmp_path):
    home = tmp_path / "home"
    proc = _crash(tmp_path, home)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert f"(details in {home / 'crash.log'})" in proc.stderr
    assert "RuntimeError: a bug" in (home / "crash.log").read_text()


# -- configuration and grid files ------------------------------------------------------------

def _sweep_words(tmp_path: Path, config: Path | None, grid: Path) -> list[str]:
    extra = ["--config", str(config)] if config is not None else []
    return ["sweep", "--market", "synthetic", "--clusters", "USD_MAJORS", "--from",
            "2024-01-08", "--to", "2024-01-09", *extra, "--grid", str(grid), "--study",
            str(tmp_path / "s.sqlite")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("option", ["--config", "--grid"])
def test_a_pipe_as_config_or_grid_is_refused_not_waited_on(tmp_path, option):
    # Arrange: a named pipe nothing will ever write to
    pipe = tmp_path / "pipe.toml"
    os.mkfifo(pipe)
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    words = _sweep_words(tmp_path, pipe if option == "--config" else None,
                         pipe if option == "--grid" else grid)
    env = {**os.environ, "FXCLUSTER_HOME": str(tmp_path / "home")}

    # Act
    done = subprocess.run([sys.executable, "main.py", *words], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    # Assert
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {pipe}: not a regular file (a pipe or a device); only a TOML file is read"]
    assert not (tmp_path / "s.sqlite").exists()


def test_a_config_and_a_grid_saved_with_a_byte_order_mark_are_read(tmp_path, capsys):
    # Arrange: both files as Windows Notepad saves them
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + (REPO_ROOT / "engine" / "clusters.toml").read_bytes())
    grid = tmp_path / "grid.toml"
    grid.write_bytes(b"\xef\xbb\xbfentry = [1.2]\n")

    # Act
    code, _, err = run_cli(_sweep_words(tmp_path, config, grid), capsys)

    # Assert
    assert code == 0, err
    assert "not valid TOML" not in err
    assert (tmp_path / "s.sqlite").is_file()


# -- options the synthetic market would ignore ---------------------------------------------

@pytest.mark.parametrize(("command", "extra", "message"), [
    ("backtest", ["--spread-model", "fixed"],
     "error: --spread-model: the synthetic market quotes its own spreads; give it with "
     "--data or --store"),
    ("backtest", ["--spread-profile", "{profile}"],
     "error: --spread-profile: the synthetic market quotes its own spreads; give it with "
     "--data or --store"),
    ("backtest", ["--tick-mode", "real"],
     "error: --tick-mode real: the synthetic market has no recorded ticks; give it with "
     "--data or --store"),
    ("sweep", ["--tick-mode", "real"],
     "error: --tick-mode real: the synthetic market has no recorded ticks; give it with "
     "--data or --store"),
])
def test_an_option_the_synthetic_market_ignores_is_refused(tmp_path, capsys, command, extra,
                                                           message):
    # Arrange
    profile = tmp_path / "profile.csv"
    profile.write_text("symbol,weekday,hour,spread_points\n")
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    out = (["--report", str(tmp_path / "r")] if command == "backtest"
           else ["--grid", str(grid), "--study", str(tmp_path / "s.sqlite")])
    words = [command, "--market", "synthetic", "--from", "2024-01-08", "--to", "2024-01-09",
             *[word.format(profile=profile) for word in extra], *out]

    # Act
    code, _, err = run_cli(words, capsys)

    # Assert: one line, nothing written
    assert_one_clear_line(code, err, message)
    assert err.splitlines() == [message]
    assert not (tmp_path / "r").exists() and not (tmp_path / "s.sqlite").exists()


# -- a data file whose name carries no symbol ----------------------------------------------

@pytest.mark.parametrize(("command", "option"), [
    ("backtest", None), ("replay", None), ("import bars", "--symbol"),
])
def test_a_file_name_without_a_symbol_says_what_the_command_can_do(tmp_path, capsys, command,
                                                                   option):
    # Arrange: a HistData file whose name has a comma inside the symbol
    bad = tmp_path / "DAT_ASCII_GBP,USD_M1_2019.csv.gz"
    bad.write_bytes((TEST_DATA / "histdata" / "DAT_ASCII_GBPUSD_M1_2019.csv.gz").read_bytes())
    words = {"backtest": ["backtest", "--data", str(bad), "--report", str(tmp_path / "r")],
             "replay": ["replay", str(bad), "--journal", str(tmp_path / "j.sqlite")],
             "import bars": ["import", "bars", str(bad), "--store", str(tmp_path / "s")],
             }[command]

    # Act
    code, _, err = run_cli(words, capsys)

    # Assert: the renaming every command can do, and --symbol only where it exists
    expected = (f"error: {bad}: cannot tell the symbol from the file name; rename the file "
                "DAT_ASCII_<SYMBOL>_M1_<YEAR>.csv[.gz]" + (f", or give {option}" if option
                                                         else ""))
    assert_one_clear_line(code, err)
    assert err.splitlines() == [expected]


def test_tdi_refuses_a_file_in_reverse_time_order_as_a_backtest_does(tmp_path, capsys):
    # Arrange: the cluster's files, EURUSD's rows written last to first
    import gzip

    data = tmp_path / "data"
    data.mkdir()
    for symbol in SYMBOLS.split(","):
        name = f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        rows = gzip.decompress((TEST_DATA / "histdata" / name).read_bytes()).splitlines()
        if symbol == "EURUSD":
            rows.reverse()
        (data / name).write_bytes(gzip.compress(b"\n".join(rows) + b"\n"))
    out = tmp_path / "tdi.csv"

    # Act
    code, _, err = run_cli(["tdi", "--data", str(data), "--symbols", SYMBOLS, "--out",
                            str(out)], capsys)

    # Assert: one line saying why, the skipped rows named; no file of empty TDI
    assert_one_clear_line(code, err, "error: no valid TDI bar", "EURUSD: 21581 bad row(s) "
                          "skipped", "time goes backwards")
    assert not out.exists()
