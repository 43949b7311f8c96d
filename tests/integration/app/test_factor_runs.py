"""Factor removal end to end on the real M1 slices: a backtest with pc1 and with a named
dollar index completes, and ``main.py tdi --factor pc1`` writes the batch residual TDI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from engine.config import load_engine_config
from main import main

#: Short windows so that three weeks of real M1 data warm up the factor and the TDI.
FACTORS = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
atr_bars = 14
factor_window = 48

[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
factor = "pc1"

[[cluster]]
name = "GOLD_HAVENS"
symbols = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
magic = 710003
factor = "USD"

[factors.USD]
symbols = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"]
weights = [-1, -1, 1, 1, 1, -1]
"""

SYMBOLS = "EURUSD,GBPUSD,AUDUSD,USDCHF"
SMALL = ["--tau-f", "4", "--tau-s", "24", "--tau-q", "96"]


@pytest.fixture
def factor_config(tmp_path):
    path = tmp_path / "factors.toml"
    path.write_text(FACTORS)
    return path


def test_backtest_with_factors_writes_a_complete_report(tmp_path, factor_config, capsys):
    # Act
    report = tmp_path / "report"
    code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config",
                 str(factor_config), "--report", str(report)])
    # Assert
    out = capsys.readouterr().out
    assert code == 0, out
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["complete"] is True
    trades = list(csv.DictReader((report / "trades.csv").open()))
    assert len(trades) == metrics["baskets"]["baskets"] > 0
    assert {t["cluster"] for t in trades} == {"USD_MAJORS", "GOLD_HAVENS"}
    # the report states each cluster's factor and the series it names
    params = metrics["params"]
    assert params["clusters"]["USD_MAJORS"]["factor"] == "pc1"
    assert params["clusters"]["GOLD_HAVENS"]["factor"] == "USD"
    assert params["clusters"]["GOLD_HAVENS"]["factor_window"] == 48
    assert params["factors"]["USD"]["weights"] == [-1.0, -1.0, 1.0, 1.0, 1.0, -1.0]
    assert "factor_window" in (report / "report.html").read_text()


def test_the_factor_delays_the_first_tdi_by_its_window(tmp_path, factor_config):
    # Arrange: the same clusters with and without a factor, on the same data
    with_factor = load_engine_config(factor_config)
    plain = (tmp_path / "plain.toml")
    plain.write_text(FACTORS.replace('factor = "pc1"\n', "").replace('factor = "USD"\n', ""))
    runs = {}
    # Act
    for name, config in (("factor", with_factor), ("plain", load_engine_config(plain))):
        spec = BacktestSpec(config=config, source="files", paths=(TEST_DATA / "histdata",))
        runs[name] = run_backtest(spec, journal_path=tmp_path / f"{name}.sqlite")
    # Assert: USDCAD and GBPUSD (the index's other symbols) were fed; the TDI came later
    for cluster in ("USD_MAJORS", "GOLD_HAVENS"):
        tdi = {name: run.tdi[cluster]["tdi"] for name, run in runs.items()}
        first = {name: series.first_valid_index() for name, series in tdi.items()}
        assert first["factor"] > first["plain"]
        assert np.isfinite(tdi["factor"].to_numpy(dtype=float)).sum() > 100


def test_tdi_command_with_pc1(tmp_path, capsys):
    # Act
    out = tmp_path / "tdi.csv"
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS, *SMALL,
                 "--factor", "pc1", "--factor-window", "48", "--out", str(out)])
    # Assert: 720 M30 bars, the first 48 + the TDI's warm-up without a value
    printed = capsys.readouterr().out
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    valid = [r for r in rows if r["tdi"]]
    assert len(rows) == 720 and len(valid) == 720 - 48 - (4 + 2 * 23 + 96)
    assert f"{len(valid)} valid TDI bars of 720" in printed


def test_tdi_command_refuses_a_short_factor_window(tmp_path, capsys):
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols", SYMBOLS,
                 "--factor", "pc1", "--factor-window", "5", "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--factor-window: must be an integer in 20..11520, got 5" in err
    assert err.count("\n") == 1

