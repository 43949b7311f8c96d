"""``main.py pairs scan`` on the test slices: its CSV holds statsmodels' own numbers for the
same bars, sorted by the larger p-value; bad input is one line and exit 2."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers.cli import run_cli
from helpers.paths import TEST_DATA
from statsmodels.tsa.stattools import coint

from engine.bars import align_closes
from engine.timeframes import resample_to
from storage.histdata import read_histdata_dir

DAILY = TEST_DATA / "equity_daily_ko_pep_sp500_2019_2022.csv.gz"
HISTDATA = TEST_DATA / "histdata"


def expected_row(closes: pd.DataFrame) -> dict[str, float]:
    """statsmodels on the log closes: both Engle-Granger orders and the OLS hedge."""
    X = np.log(closes.to_numpy())
    fit = sm.OLS(X[:, 0], sm.add_constant(X[:, 1])).fit()
    return {"p_eg": coint(X[:, 0], X[:, 1])[1], "p_eg_rev": coint(X[:, 1], X[:, 0])[1],
            "hedge": fit.params[1], "bars": len(X),
            "corr_returns": np.corrcoef(np.diff(X, axis=0).T)[0, 1]}


def test_scan_of_daily_closes_holds_statsmodels_numbers(tmp_path, capsys):
    # Arrange
    out = tmp_path / "scan.csv"
    daily = pd.read_csv(DAILY, index_col="Date", parse_dates=True).loc["2020-01-01":]

    # Act
    code, printed, _ = run_cli(["pairs", "scan", "--data", str(DAILY), "--symbols",
                                "KO,PEP,SP500", "--from", "2020-01-01", "--out", str(out)],
                               capsys)

    # Assert: every pair, statsmodels' figures, sorted by the larger p-value
    assert code == 0
    assert printed.splitlines()[0].startswith("D1 bars 2020-01-02 .. 2022-12-28")
    table = pd.read_csv(out)
    assert sorted(table["legs"]) == ["KO/PEP", "KO/SP500", "PEP/SP500"]
    larger = np.maximum(table["p_eg"], table["p_eg_rev"])
    assert list(larger) == sorted(larger)
    for a, b in itertools.combinations(["KO", "PEP", "SP500"], 2):
        row = table.set_index("legs").loc[f"{a}/{b}"]
        for name, value in expected_row(daily[[a, b]]).items():
            assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    ko_pep = table.set_index("legs").loc["KO/PEP"]
    assert ko_pep["weights"] == f"1.0 {-float(ko_pep['hedge'])!r}"
    assert "KO/PEP" in printed and "0.0635" in printed


def test_scan_of_m1_files_uses_the_engines_bars(tmp_path, capsys):
    # Arrange: the engine's H1 buckets of the HistData slices, aligned
    out = tmp_path / "scan.csv"
    data = read_histdata_dir(HISTDATA, ["EURUSD", "GBPUSD"])
    bars = {s: resample_to(m1.to_bar_array(spread=0.0), "H1") for s, m1 in data.items()}
    closes = align_closes(bars, ["EURUSD", "GBPUSD"]).closes

    # Act
    code, _, _ = run_cli(["pairs", "scan", "--data", str(HISTDATA), "--symbols",
                          "EURUSD,GBPUSD", "--timeframe", "H1", "--out", str(out)], capsys)

    # Assert
    assert code == 0
    row = pd.read_csv(out).iloc[0]
    for name, value in expected_row(closes).items():
        assert row[name] == pytest.approx(value, rel=1e-12), name


def test_scan_of_a_basket_is_one_row(tmp_path, capsys):
    out = tmp_path / "basket.csv"

    code, _, _ = run_cli(["pairs", "scan", "--data", str(DAILY), "--symbols", "KO,PEP,SP500",
                          "--basket", "--space", "price", "--out", str(out)], capsys)

    assert code == 0
    table = pd.read_csv(out)
    assert list(table["legs"]) == ["KO/PEP/SP500"]
    assert len(table["weights"].iloc[0].split()) == 3


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--symbols", "KO", "--data", str(DAILY)], "--symbols: a pair needs two symbols"),
    (["--symbols", "KO,KO", "--data", str(DAILY)], "--symbols: KO given twice"),
    (["--symbols", "KO,XOM", "--data", str(DAILY)], "--symbols: no column XOM"),
    (["--symbols", "KO,PEP", "--data", str(DAILY), "--timeframe", "H1"],
     "only D1 makes sense for daily data"),
    (["--symbols", "KO,PEP", "--data", "no-such-file.csv"], "--data: no-such-file.csv does not"),
    (["--symbols", "KO,PEP", "--data", str(DAILY), "--from", "2022-12-01"],
     "KO/PEP: 19 D1 bars"),
    (["--symbols", "KO,PEP", "--data", str(DAILY), str(HISTDATA)], "one kind of data"),
    (["--symbols", "EURUSD,NZDUSD", "--data", str(HISTDATA)], "no HistData M1 file for NZDUSD"),
])
def test_bad_input_is_one_line(argv, fragment, capsys):
    code, _, err = run_cli(["pairs", "scan", *argv], capsys)

    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err
    assert not (Path(os.environ["FXCLUSTER_HOME"]) / "crash.log").exists()


@pytest.mark.parametrize(("body", "message"), [
    ("Date,AAA,BBB\n2020-01-02,1.0,2.0\n2020-01-03,1.1,-2.0\n",
     ":3: BBB close '-2.0' is not a positive number"),
    # blank and whitespace-only lines, which pandas skips, still count as lines
    ("\nDate,AAA,BBB\n2020-01-02,1.0,2.0\n\n \n2020-01-03,1.1,-2.0\n",
     ":6: BBB close '-2.0' is not a positive number"),
    ("Date,AAA,BBB\n2020-01-02,1.0,2.0\n\n2020-01-02,1.1,2.0\n",
     ":4: date 2020-01-02 is not after"),
    ("Date,AAA,BBB\n2020-01-02,1.0,2.0\n\n2020/01/03,1.1,2.0\n", ":4: not a date"),
])
def test_a_bad_row_of_a_daily_file_is_named(tmp_path, capsys, body, message):
    bad = tmp_path / "daily.csv"
    bad.write_text(body)

    code, _, err = run_cli(["pairs", "scan", "--data", str(bad), "--symbols", "AAA,BBB"],
                           capsys)

    assert code == 2
    assert f"{bad}{message}" in err, err
