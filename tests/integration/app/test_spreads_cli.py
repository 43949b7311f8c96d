"""``main.py data spreads`` on real Dukascopy ticks, and the backtest's spread options."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from main import main
from storage.spread_profiles import read_spread_profiles, shipped_spread_profile

ROLLOVER_SLICE = TEST_DATA / "ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2100_2300_UTC.csv.gz"
FULL_TICKS = "fx_ticks/EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"
SMALL = short_window_config("USD_MAJORS")


def test_data_spreads_estimates_the_rollover_from_a_tick_slice(tmp_path, capsys):
    # Arrange: Monday 2019-02-04 21:00-22:59 UTC, 4,468 Dukascopy ticks
    out = tmp_path / "eurusd.csv"

    # Act
    code = main(["data", "spreads", "--ticks", str(ROLLOVER_SLICE), "--out", str(out)])

    # Assert: the two hours measured, as pandas computes them from the same file
    printed = capsys.readouterr().out
    assert code == 0, printed
    profile = read_spread_profiles(out)["EURUSD"]
    ticks = pd.read_csv(ROLLOVER_SLICE)
    hours = pd.to_datetime(ticks["time_utc"]).dt.hour
    medians = ((ticks["ask"] - ticks["bid"]) / 1e-5).round(6).groupby(hours).median()
    assert (profile.points[0, 21], profile.points[0, 22]) == (medians[21], medians[22]) == (4, 13)
    assert (profile.ticks[0, 21], profile.ticks[0, 22]) == (2_114, 2_354)
    # other weekdays: the hour's median; hours without ticks: the median of all (8 points)
    assert profile.points[3, 22] == 13.0 and profile.fill[3, 22] == "hour"
    assert profile.points[3, 12] == 8.0 and profile.fill[3, 12] == "all"
    assert "4,468 ticks" in printed and f"written {out}" in printed


def test_the_shipped_profile_is_the_estimate_of_the_full_tick_file(tmp_path, shared_data):
    # Arrange
    out = tmp_path / "eurusd.csv"

    # Act
    code = main(["data", "spreads", "--ticks", str(shared_data / FULL_TICKS), "--out", str(out)])

    # Assert: the same rows, byte for byte, as the file the product ships
    assert code == 0
    assert read_spread_profiles(out)["EURUSD"].same_as(shipped_spread_profile())


def test_a_bad_tick_row_is_one_line_with_file_and_line_and_nothing_is_written(tmp_path, capsys):
    # Arrange: the slice with its fifth tick damaged
    bad = tmp_path / "EURUSD_ticks.csv"
    with gzip.open(ROLLOVER_SLICE, "rt") as f:
        lines = f.read().splitlines()
    lines[4] = "2019-02-04 21:00:01.000,1.1434x,1.14348,1,1"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "profile.csv"

    # Act
    code = main(["data", "spreads", "--ticks", str(bad), "--out", str(out)])

    # Assert
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:5:" in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob("profile.csv*"))


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        (["histdata/DAT_ASCII_EURUSD_M1_2019.csv.gz"], [], "estimated from ticks"),
        (["ticks/EURUSD_ticks_dukascopy_2019-02-04_2100_2300_UTC.csv.gz"],
         ["--symbol", "ABCXYZ"], "ABCXYZ: not a symbol the simulated broker lists"),
    ],
)
def test_files_that_cannot_make_a_profile_are_one_clear_line(tmp_path, capsys, files, extra,
                                                             message):
    out = tmp_path / "p.csv"

    code = main(["data", "spreads", "--ticks", *[str(TEST_DATA / f) for f in files], *extra,
                 "--out", str(out)])

    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def test_a_symbol_the_broker_does_not_list_is_estimated_with_its_digits(tmp_path):
    out = tmp_path / "p.csv"

    code = main(["data", "spreads", "--ticks", str(ROLLOVER_SLICE), "--symbol", "ABCXYZ",
                 "--digits", "4", "--out", str(out)])

    profile = read_spread_profiles(out)["ABCXYZ"]
    assert code == 0 and profile.point == 1e-4
    assert profile.points[0, 22] == 1.3  # 13 EURUSD points in a 4-digit quote


def test_a_profile_with_the_fixed_model_is_refused(tmp_path, capsys):
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--spread-model", "fixed",
                 "--spread-profile", str(tmp_path / "p.csv"), "--report", str(tmp_path / "r")])

    err = capsys.readouterr().err
    assert code == 2 and "--spread-profile needs --spread-model profile" in err
    assert not (tmp_path / "r").exists()


def test_a_backtest_states_the_spread_model_of_every_symbol(tmp_path, capsys):
    # Arrange: a user profile for EURUSD at 1 point all week; the others shipped and scaled
    config = tmp_path / "small.toml"
    config.write_text(SMALL)
    own = tmp_path / "own.csv"
    main(["data", "spreads", "--ticks", str(ROLLOVER_SLICE), "--out", str(own)])
    text = own.read_text().splitlines()
    own.write_text("\n".join([text[0], *(
        ",".join([*line.split(",")[:4], "1.0", *line.split(",")[5:]]) for line in text[1:])]))
    report = tmp_path / "r"

    # Act
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                 "--from", "2019-10-28", "--spread-profile", str(own), "--report", str(report)])

    # Assert
    assert code == 0, capsys.readouterr()
    params = json.loads((report / "metrics.json").read_text())["params"]
    assert params["spread_model"] == "profile"
    assert "profile file own.csv" in params["spreads"]["EURUSD"]
    assert "EURUSD profile x 5/2" in params["spreads"]["GBPUSD"]
    html = (report / "report.html").read_text()
    assert "<dt>Spreads</dt>" in html and "profile file own.csv" in html
    assert np.isfinite(json.loads((report / "metrics.json").read_text())["returns"]["sharpe"])


def test_an_out_file_in_no_folder_is_refused_before_reading(tmp_path, capsys):
    code = main(["data", "spreads", "--ticks", str(ROLLOVER_SLICE), "--out",
                 str(tmp_path / "nowhere" / "p.csv")])

    err = capsys.readouterr().err
    assert code == 2 and "no such folder" in err and err.count("\n") == 1


@pytest.mark.parametrize("symbol", ["=EURUSD", "../EURUSD", "EURUSD\n"])
def test_a_symbol_the_profile_reader_would_refuse_is_refused_before_anything_is_written(
        tmp_path, capsys, symbol):
    # Arrange
    out = tmp_path / "profile.csv"

    # Act
    code = main(["data", "spreads", "--ticks", str(ROLLOVER_SLICE), "--symbol", symbol,
                 "--digits", "5", "--out", str(out)])
    err = capsys.readouterr().err

    # Assert: the one line says what a name may hold; no file a backtest would refuse
    assert code == 2
    assert f"invalid symbol name {symbol!r}" in err and err.count("\n") == 1
    assert not out.exists()
