"""A backtest says what it did not take from the data: HistData rows the reader skipped as
bad (with the first one's ``file:line``) and a period cut where the data ends, on stderr
and in ``metrics.json``'s notes; and an empty period caused by skipped rows names them."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main

SYMBOLS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")


def folder_with(tmp_path: Path, edit) -> Path:
    """The four USD_MAJORS files of tests/data/histdata, EURUSD's lines changed by ``edit``."""
    folder = tmp_path / "data"
    folder.mkdir()
    for symbol in SYMBOLS:
        source = TEST_DATA / "histdata" / f"DAT_ASCII_{symbol}_M1_2019.csv.gz"
        if symbol == "EURUSD":
            lines = gzip.decompress(source.read_bytes()).decode().splitlines()
            (folder / f"DAT_ASCII_{symbol}_M1_2019.csv").write_text("\n".join(edit(lines)) + "\n")
        else:
            shutil.copy(source, folder)
    return folder


def text_in_line_2000(lines: list[str]) -> list[str]:
    """EURUSD's line 2000 with text in its open price."""
    lines[1999] = "20191020 170300;1.14x;1.145;1.144;1.1445;0"
    return lines


def backtest(tmp_path: Path, folder: Path, capsys, *extra: str) -> tuple[int, str, dict | None]:
    config = tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"))
    report = tmp_path / "report"
    code = main(["backtest", "--data", str(folder), "--config", str(config), "--report",
                 str(report), *extra])
    err = capsys.readouterr().err
    metrics = report / "metrics.json"
    return code, err, json.loads(metrics.read_text()) if metrics.exists() else None


def test_a_bad_row_is_said_with_its_file_and_line(tmp_path, capsys):
    # Arrange: text in the open of line 2000
    folder = folder_with(tmp_path, text_in_line_2000)

    # Act
    code, err, metrics = backtest(tmp_path, folder, capsys)

    # Assert: the run stands; the skipped row is said, where and why
    said = (f"EURUSD: 1 bad row(s) skipped ({folder / 'DAT_ASCII_EURUSD_M1_2019.csv'}:2000: "
            "text in number field open: '1.14x')")
    assert code == 0
    assert f"note: {said}" in err
    assert said in metrics["notes"]


def test_a_period_past_the_data_is_said_cut(tmp_path, capsys):
    # Act
    code, err, metrics = backtest(tmp_path, TEST_DATA / "histdata", capsys,
                                  "--to", "2019-12-31")

    # Assert
    cut = "trading ends 2019-11-01 21:00 UTC, not 2019-12-31: the data of"
    assert code == 0
    assert f"note: {cut}" in err
    assert any(note.startswith(cut) for note in metrics["notes"])


def test_an_empty_period_names_the_rows_out_of_order(tmp_path, capsys):
    # Arrange: the last week's rows moved before the first: they go back in time
    def shuffle(lines: list[str]) -> list[str]:
        return lines[-5000:] + lines[:-5000]

    folder = folder_with(tmp_path, shuffle)

    # Act
    code, err, metrics = backtest(tmp_path, folder, capsys)

    # Assert: one line, naming the first row dropped and how many
    assert code == 2 and metrics is None
    assert err.count("\n") == 1
    assert "EURUSD: " in err and " bad row(s) skipped (" in err
    assert "DAT_ASCII_EURUSD_M1_2019.csv:5001: time goes backwards" in err


@pytest.mark.parametrize("extra", [(), ("--to", "2019-10-31")])
def test_clean_data_in_its_period_says_nothing(tmp_path, capsys, extra):
    code, err, metrics = backtest(tmp_path, TEST_DATA / "histdata", capsys, *extra)

    assert code == 0
    assert "note:" not in err
    assert not any("bad row" in note or "trading ends" in note for note in metrics["notes"])


@pytest.mark.parametrize("command", [
    ["sweep", "--grid", "{grid}", "--study", "{out}.sqlite"],
    ["audit", "--seeds", "1"],
    ["walkforward", "--grid", "{grid}", "--is", "2019-10-23:2019-10-28", "--oos",
     "2019-10-29:2019-11-01", "--report", "{out}"],
], ids=["sweep", "audit", "walkforward"])
def test_a_command_of_many_backtests_says_a_bad_row_once(tmp_path, capsys, command):
    # Arrange: text in the open of EURUSD's line 2000; a grid of two
    folder = folder_with(tmp_path, text_in_line_2000)
    config = tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"))
    grid = tmp_path / "grid.toml"
    grid.write_text("tau_f = [4, 8]\n")
    words = [w.format(grid=grid, out=tmp_path / "out") for w in command]

    # Act
    code = main([words[0], "--data", str(folder), "--config", str(config), *words[1:]])
    err = capsys.readouterr().err

    # Assert: said once, before the work, naming the row
    said = (f"note: EURUSD: 1 bad row(s) skipped ({folder / 'DAT_ASCII_EURUSD_M1_2019.csv'}"
            ":2000: text in number field open: '1.14x')")
    assert code in (0, 1)  # the audit's truncation verdict is its own
    assert err.count(said) == 1


def test_a_replay_says_a_bad_row(tmp_path, capsys):
    # Arrange: text in the open of EURUSD's line 2000; one day replayed
    folder = folder_with(tmp_path, text_in_line_2000)
    config = tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"))

    # Act
    code = main(["replay", *(str(f) for f in sorted(folder.iterdir())), "--config",
                 str(config), "--from", "2019-10-28", "--to", "2019-10-28", "--journal",
                 str(tmp_path / "journal.sqlite")])
    out, err = capsys.readouterr()

    # Assert
    assert code == 0
    assert (f"EURUSD: 1 bad row(s) skipped ({folder / 'DAT_ASCII_EURUSD_M1_2019.csv'}:2000: "
            "text in number field open: '1.14x')") in out + err


#: A cluster of the config whose NZDUSD the slices do not hold.
AUD_NZD = """
[[cluster]]
name = "AUD_NZD"
kind = "pair"
symbols = ["AUDUSD", "NZDUSD"]
magic = 720009
"""
LEFT_OUT = "AUD_NZD: no data for NZDUSD"


def test_a_cluster_the_data_cannot_feed_is_named_not_dropped_in_silence(tmp_path, capsys):
    # Arrange: USD_MAJORS, which the slices feed, and AUD_NZD, which they cannot
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS") + AUD_NZD)
    report = tmp_path / "report"

    # Act
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--to", "2019-10-31", "--report", str(report)])
    err = capsys.readouterr().err

    # Assert: the run trades what it can and says which cluster it left out, and why
    metrics = json.loads((report / "metrics.json").read_text())
    assert code == 0
    assert f"note: {LEFT_OUT}" in err.splitlines()
    assert LEFT_OUT in metrics["notes"]
    assert LEFT_OUT in (report / "report.html").read_text()


def test_clusters_chosen_by_name_are_not_said_left_out(tmp_path, capsys):
    # Arrange: the same config, USD_MAJORS chosen
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS") + AUD_NZD)

    # Act
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--clusters", "USD_MAJORS", "--to", "2019-10-31", "--report",
                 str(tmp_path / "report")])
    err = capsys.readouterr().err

    # Assert
    assert code == 0
    assert "AUD_NZD" not in err


@pytest.mark.parametrize("command", [
    ["run", "--replay", "{files}", "--speed", "max"],
    ["replay", "{files}", "--from", "2019-10-28", "--to", "2019-10-28"],
], ids=["run-replay", "replay"])
def test_a_replay_names_the_cluster_it_leaves_out(tmp_path, capsys, command):
    # Arrange
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS") + AUD_NZD)
    files = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz") for s in SYMBOLS]
    words = [w for word in command for w in (files if word == "{files}" else [word])]

    # Act
    code = main([*words, "--config", str(config), "--journal", str(tmp_path / "j.sqlite")])
    out, err = capsys.readouterr()

    # Assert
    assert code == 0, err
    assert LEFT_OUT in out + err


def test_a_walkforward_names_the_cluster_it_leaves_out(tmp_path, capsys):
    # Arrange
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS") + AUD_NZD)
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.5]\n")  # a key both kinds have

    # Act
    code = main(["walkforward", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--grid", str(grid), "--is", "2019-10-23:2019-10-28", "--oos",
                 "2019-10-29:2019-11-01", "--report", str(tmp_path / "wf")])
    capsys.readouterr()

    # Assert
    study = json.loads((tmp_path / "wf" / "walkforward.json").read_text())
    assert code in (0, 1)
    assert LEFT_OUT in study["notes"]


@pytest.mark.parametrize("command", ["run", "replay"])
@pytest.mark.parametrize("period", [("2019-12-02", "2019-12-03"), ("2018-06-04", "2018-06-05")],
                         ids=["after-the-data", "before-the-data"])
def test_a_replay_of_a_period_the_data_does_not_hold_is_one_line_and_no_journal(
        tmp_path, capsys, command, period):
    # Arrange: the slices run 2019-10-13 .. 2019-11-01
    files = [str(TEST_DATA / "histdata" / f"DAT_ASCII_{s}_M1_2019.csv.gz") for s in SYMBOLS]
    words = ["run", "--replay", *files] if command == "run" else ["replay", *files]
    journal = tmp_path / "j.sqlite"

    # Act
    code = main([*words, "--clusters", "USD_MAJORS", "--from", period[0], "--to", period[1],
                 "--journal", str(journal)])
    err = capsys.readouterr().err

    backtest = main(["backtest", "--data", *files, "--clusters", "USD_MAJORS", "--from",
                     period[0], "--to", period[1], "--report", str(tmp_path / "r")])
    said = capsys.readouterr().err

    # Assert: refused in the backtest's words, before any journal is made
    assert code == backtest == 2
    assert err.count("\n") == 1
    assert err.startswith("error: empty period: ") and err == said
    assert not journal.exists()


def test_a_walkforward_whose_out_of_sample_span_is_past_the_data_stops_before_any_trial(
        tmp_path, capsys):
    # Arrange: the slices end 2019-11-01 21:00 UTC; the out-of-sample week is after it
    config = tmp_path / "small.toml"
    config.write_text(short_window_config("USD_MAJORS"))
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2, 1.5]\n")

    # Act
    code = main(["walkforward", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--grid", str(grid), "--is", "2019-10-23:2019-10-28", "--oos",
                 "2019-11-04:2019-11-08", "--report", str(tmp_path / "wf")])
    out, err = capsys.readouterr()

    # Assert: one line before the in-sample trials (none ran: no progress, no report)
    assert code == 2
    assert err.splitlines() == ["error: fold 1: its out-of-sample span 2019-11-04 .. "
                                "2019-11-08 starts after the data ends (2019-11-01 21:00 UTC)"]
    assert "in-sample" not in out + err
    assert not (tmp_path / "wf").exists()


@pytest.mark.parametrize("command", [
    ["sweep", "--grid", "{grid}", "--study", "{out}.sqlite"],
    ["audit", "--seeds", "1"],
], ids=["sweep", "audit"])
def test_a_command_of_many_backtests_names_the_cluster_it_leaves_out_once(tmp_path, capsys,
                                                                          command):
    # Arrange: USD_MAJORS, which the slices feed, and AUD_NZD, which they cannot
    config = tmp_path / "two.toml"
    config.write_text(short_window_config("USD_MAJORS") + AUD_NZD)
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n")
    words = [w.format(grid=grid, out=tmp_path / "out") for w in command]

    # Act
    code = main([words[0], "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 *words[1:]])
    err = capsys.readouterr().err

    # Assert: said once, before the work
    assert code in (0, 1)  # the audit's own verdicts aside
    assert err.count(f"note: {LEFT_OUT}") == 1
