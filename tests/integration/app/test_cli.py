"""The command line: one clear line and a non-zero exit for bad input; the tdi command."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers.paths import REPO_ROOT, TEST_DATA

from main import main

SYMBOLS = "EURUSD,GBPUSD,AUDUSD,USDCHF"
SMALL = ["--tau-f", "4", "--tau-s", "24", "--tau-q", "96"]


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "tdi" in capsys.readouterr().out


def test_tdi_writes_csv_and_summary(tmp_path, capsys):
    out = tmp_path / "tdi.csv"
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS, *SMALL,
                 "--out", str(out)])
    assert code == 0
    printed, said = capsys.readouterr()
    assert "duplicate timestamps, first occurrence kept" in said  # stderr: not the results
    assert "720 M30 bars; 0 buckets skipped" in printed
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["time_utc", "tdi", "phi", "eigengap", "explained"]
    assert rows[0]["time_utc"] == "2019-10-13T22:00:00+00:00"
    valid = [r for r in rows if r["tdi"]]
    assert len(rows) == 720 and len(valid) == 720 - (4 + 2 * 23 + 96)
    assert f"{len(valid)} valid TDI bars of 720" in printed


def test_tdi_on_h4_bars_of_the_new_york_trading_day(tmp_path, capsys):
    # Arrange / Act: three trading weeks (Sunday 13 October .. Friday 1 November 2019).
    out = tmp_path / "tdi.csv"
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS,
                 "--timeframe", "H4", "--tau-f", "2", "--tau-s", "12", "--tau-q", "20",
                 "--out", str(out)])

    # Assert: 15 trading days of six H4 bars from 17:00 New York (21:00 UTC in EDT), plus
    # the two weekend buckets (Friday 17:00 New York) that HistData's fixed EST clock fills
    # with the hour it runs past the summer close.
    assert code == 0
    assert "92 H4 bars; 0 buckets skipped" in capsys.readouterr().out
    frame = pd.read_csv(out, parse_dates=["time_utc"])
    stamps = frame["time_utc"]
    assert len(frame) == 92 and stamps.iloc[0] == pd.Timestamp("2019-10-13 21:00", tz="UTC")
    weekend = stamps[stamps.diff().shift(-1) > pd.Timedelta(hours=4)]
    assert list(weekend.dt.strftime("%a %H:%M")) == ["Fri 21:00", "Fri 21:00"]
    assert np.isfinite(frame["tdi"]).sum() == 92 - (2 + 2 * 11 + 20)


def test_tdi_from_to_window(tmp_path, capsys):
    out = tmp_path / "tdi.csv"
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS, *SMALL,
                 "--from", "2019-10-28", "--to", "2019-10-29", "--out", str(out)])
    assert code == 0
    frame = pd.read_csv(out, parse_dates=["time_utc"])
    assert frame["time_utc"].min() == pd.Timestamp("2019-10-28", tz="UTC")
    assert frame["time_utc"].max() == pd.Timestamp("2019-10-29 23:30", tz="UTC")
    assert np.isfinite(frame["tdi"]).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", "EURUSD,GBPUSD,NZDUSD"], "no HistData M1 file for NZDUSD"),
        (["--symbols", SYMBOLS, "--from", "2019-13-01"], "--from: not a date"),
        (["--symbols", SYMBOLS, "--from", "2019-11-01", "--to", "2019-10-01"],
         "--from 2019-11-01 is not before --to 2019-10-01"),
        (["--symbols", SYMBOLS, "--to", "2018-01-01"], "no M30 bucket has data"),
        (["--symbols", SYMBOLS, "--tau-s", "1"], "tau_s: must be"),
    ],
)
def test_tdi_bad_input_is_one_line(tmp_path, capsys, args, message):
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), *args,
                 "--out", str(tmp_path / "x.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_arguments_exit_2_without_traceback():
    proc = subprocess.run([sys.executable, "main.py", "tdi", "--tau-f", "x"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_full_year_tdi_command(shared_data, tmp_path, capsys):
    out = tmp_path / "tdi.csv"
    code = main(["tdi", "--data", str(shared_data / "fx_m1"), "--symbols", SYMBOLS,
                 "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "12415 M30 bars; 17 buckets skipped" in printed
    assert "11737 valid TDI bars" in printed


def test_one_date_parser_reads_days_and_instants_in_utc():
    from app.cli.args import end_of, parse_date, parse_last_day, start_of

    day = pd.Timestamp("2019-12-06", tz="UTC")
    assert parse_date("2019-12-06", "--from") == day
    assert parse_last_day("2019-12-06", "--to") == day + pd.Timedelta(days=1)
    assert parse_last_day("2019-12-06T13:00", "--to") == day + pd.Timedelta(hours=13)
    assert parse_date("2019-12-06T15:00+02:00", "--from") == day + pd.Timedelta(hours=13)
    assert parse_date("2019-12-06T13:00Z", "--from") == day + pd.Timedelta(hours=13)
    assert start_of("2019-12-06") == day.to_pydatetime()
    assert end_of("2019-12-06") == (day + pd.Timedelta(days=1, milliseconds=-1)).to_pydatetime()
    assert end_of("2019-12-06T13:00") == (day + pd.Timedelta(hours=13)).to_pydatetime()


@pytest.mark.parametrize("text", ["06/12/2019", "2019-13-01", "monday", ""])
def test_one_date_parser_refuses_what_is_not_iso(text):
    import argparse

    from app.cli.args import parse_date, start_of
    from engine.errors import UserError

    with pytest.raises(UserError, match="--from: not a date"):
        parse_date(text, "--from")
    with pytest.raises(argparse.ArgumentTypeError, match="bad date"):
        start_of(text)


def test_period_and_span_are_half_open_with_the_last_day_included():
    import argparse

    from app.cli.args import period, span
    from engine.errors import UserError

    args = argparse.Namespace(date_from="2024-01-08", date_to="2024-01-09")
    assert period(args) == (pd.Timestamp("2024-01-08", tz="UTC"),
                            pd.Timestamp("2024-01-10", tz="UTC"))
    assert period(argparse.Namespace(date_from=None, date_to=None)) == (None, None)
    assert span("2024-01-08:2024-01-09", "--is") == period(args)
    with pytest.raises(UserError, match="is not before"):
        period(argparse.Namespace(date_from="2024-01-10", date_to="2024-01-09"))
    with pytest.raises(UserError, match="--is: 2024-01-08T10:00 is not before 2024-01-08T10:00"):
        span("2024-01-08T10:00:2024-01-08T10:00", "--is")
    with pytest.raises(UserError, match="expected FROM:TO"):
        span("2024-01-08", "--oos")


def test_figures_print_alike_in_every_command():
    from app.cli.output import csv_number, money, num, pct, signed_money, unsigned_pct

    assert money(1234.5) == "1,234.50" and money(float("nan")) == "n/a"
    assert signed_money(-12.0) == "    -12.00" and signed_money(None) == "       n/a"
    assert pct(0.0123) == "+1.23%" and pct(None) == "n/a"
    assert unsigned_pct(0.0022) == "0.22%" and unsigned_pct(-0.0593) == "5.93%"
    assert num(1.234) == "1.23" and num(None) == "n/a"
    assert csv_number(0.1) == "0.1" and csv_number(float("nan")) == ""


def test_every_command_prints_its_help(capsys):
    for command in ("tdi", "journal", "calendar", "import", "data", "run", "backtest",
                    "walkforward", "replay", "terminal-server", "gui"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert f"usage: main.py {command}" in capsys.readouterr().out
