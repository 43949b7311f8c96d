"""The currency-space TDI: the batch of files (``main.py tdi``) equals the engine's streaming
signal to 1e-9 on real 2019 data, and ``--space`` chooses the prices."""

from __future__ import annotations

import csv
import sqlite3

import numpy as np
import pandas as pd
import pytest
from helpers.paths import TEST_DATA

from app.cluster_tdi import cluster_tdi
from engine.bars import M30, align_closes, resample_bars
from engine.cluster import ClusterSpec
from engine.signals import ClusterSignal
from engine.tdi import TdiParams, tdi_batch
from main import main
from storage.histdata import read_histdata_dir

SMALL = TdiParams(tau_f=4, tau_s=24, tau_q=96)
CORE = ["tdi", "phi", "eigengap", "explained"]
CLUSTERS = {
    "USD_MAJORS": ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF"),
    "GOLD_HAVENS": ("XAUUSD", "EURUSD", "USDCHF", "USDJPY"),
    "MAJORS_SIX": ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD"),
}


def quiet(_: str) -> None:
    """The file notes (duplicated hour) are not what these tests check."""


def raw_closes(symbols: tuple[str, ...]) -> pd.DataFrame:
    """The aligned M30 quotes of the three-week slice, as the engine's warm-up builds them."""
    data = read_histdata_dir(TEST_DATA / "histdata", symbols)
    bars = {s: resample_bars(data[s].to_bar_array(spread=0.0), M30) for s in symbols}
    return align_closes(bars, symbols).closes


def streamed(spec: ClusterSpec, closes: pd.DataFrame) -> pd.DataFrame:
    sig = ClusterSignal(spec, {s: i for i, s in enumerate(closes.columns)})
    ordered = closes[list(sig.symbols)]
    points = [sig.add_bar(int(t.timestamp()), row)
              for t, row in zip(ordered.index, ordered.to_numpy(), strict=True)]
    tdi_points = [p.state for p in points]  # the TDI model keeps its TdiPoint
    return pd.DataFrame({c: [getattr(p, c) for p in tdi_points] for c in CORE},
                        index=closes.index)


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_currency_space_batch_equals_streaming_on_real_data(name):
    # Arrange
    symbols = CLUSTERS[name]
    spec = ClusterSpec(name[:11], symbols, 1, tdi=SMALL, space="currency")
    # Act
    batch = cluster_tdi(TEST_DATA / "histdata", symbols, SMALL, None, None, quiet,
                        space="currency").table
    stream = streamed(spec, raw_closes(symbols))
    # Assert
    assert batch.index.equals(stream.index)
    for col in CORE:
        a, b = batch[col], stream[col]
        assert a.isna().equals(b.isna())
        assert not (a - b).abs().max() > 1e-9, col
    assert batch["tdi"].notna().sum() == len(batch) - SMALL.warmup_bars


def test_symbol_space_is_the_raw_quotes_and_currency_space_differs_for_mixed_quotes():
    symbols = CLUSTERS["USD_MAJORS"]
    closes = raw_closes(symbols)
    raw = tdi_batch(closes, SMALL)
    sym = cluster_tdi(TEST_DATA / "histdata", symbols, SMALL, None, None, quiet,
                      space="symbol").table
    cur = cluster_tdi(TEST_DATA / "histdata", symbols, SMALL, None, None, quiet,
                      space="currency").table
    assert np.array_equal(sym["tdi"].to_numpy(), raw["tdi"].to_numpy(), equal_nan=True)
    valid = cur["tdi"].notna()
    assert (cur["tdi"][valid] - sym["tdi"][valid]).abs().max() > 0.1


def _tdi_csv(tmp_path, *extra: str) -> list[dict[str, str]]:
    out = tmp_path / f"tdi-{'-'.join(extra) or 'default'}.csv"
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols",
                 "EURUSD,GBPUSD,AUDUSD,USDCHF", "--tau-f", "4", "--tau-s", "24",
                 "--tau-q", "96", *extra, "--out", str(out)])
    assert code == 0
    return list(csv.DictReader(out.open()))


def test_tdi_command_defaults_to_currency_space(tmp_path, capsys):
    default = _tdi_csv(tmp_path)
    printed = capsys.readouterr().out
    currency = _tdi_csv(tmp_path, "--space", "currency")
    symbol = _tdi_csv(tmp_path, "--space", "symbol")
    assert printed.startswith("currency space, mids of the bids and the profile spread model "
                              "(as a backtest quotes them); 86537 M1 rows read (4 symbols); "
                              "720 M30 bars")
    assert default == currency
    assert [r["tdi"] for r in default] != [r["tdi"] for r in symbol]
    assert len(default) == len(symbol)


def test_tdi_command_refuses_currency_space_without_a_common_currency(tmp_path, capsys):
    code = main(["tdi", "--data", str(TEST_DATA / "histdata"), "--symbols",
                 "AUDUSD,USDCAD,XAUUSD,GBPJPY", "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--space currency: no currency is common to every symbol" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


SMALL_USD_MAJORS = """
[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 1
tau_f = 4
tau_s = 24
tau_q = 96
time_stop_bars = 48
"""


@pytest.mark.parametrize("model", ["profile", "fixed"])
def test_tdi_command_equals_the_backtests_signal_under_each_spread_model(tmp_path, model):
    # Arrange: the bids of HistData quoted with a modelled spread: the mids move with it
    config = tmp_path / "small.toml"
    config.write_text(SMALL_USD_MAJORS)
    data = str(TEST_DATA / "histdata")

    # Act
    assert main(["backtest", "--data", data, "--config", str(config), "--spread-model", model,
                 "--report", str(tmp_path / "r")]) == 0
    assert main(["tdi", "--data", data, "--symbols", "EURUSD,GBPUSD,AUDUSD,USDCHF",
                 "--tau-f", "4", "--tau-s", "24", "--tau-q", "96", "--spread-model", model,
                 "--out", str(tmp_path / "tdi.csv")]) == 0

    # Assert: every score the journal recorded at a decision is the command's
    with sqlite3.connect(tmp_path / "r" / "journal.sqlite") as db:
        journal = dict(db.execute("SELECT bar_time, tdi FROM tdi_snapshots WHERE timeframe = "
                                  "'M30' AND tdi IS NOT NULL").fetchall())
    batch = {pd.Timestamp(r["time_utc"]): float(r["tdi"])
             for r in csv.DictReader((tmp_path / "tdi.csv").open()) if r["tdi"]}
    recorded = {pd.Timestamp(t): v for t, v in journal.items()}
    assert len(recorded) >= 5
    assert max(abs(v - batch[t]) for t, v in recorded.items()) < 1e-9
